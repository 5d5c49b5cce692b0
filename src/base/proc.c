/* proc - one run of one process, and whether it still runs */
#include "autoconf.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "base/proc.h"

/* The first line of a small file under /proc into dst (newline cut);
 * "" when it cannot be read. */
static void read_line(const char *path, char *dst, size_t size)
{
	FILE *f = fopen(path, "re");

	dst[0] = '\0';
	if (f == NULL)
		return;
	if (fgets(dst, (int)size, f) == NULL)
		dst[0] = '\0';
	dst[strcspn(dst, "\n")] = '\0';
	fclose(f);
}

/* The state letter and start time of process pid from /proc/PID/stat
 * (fields 3 and 22; the command name in field 2 may hold spaces and
 * parentheses, so the fields are counted after its last ')'). Returns 0, or
 * -1 when there is no such file (no /proc, or no such process). */
static int stat_of(int64_t pid, char *state_r, int64_t *start_r)
{
	char path[64], buf[1024];
	const char *p;
	FILE *f;
	size_t n;
	int field;

	snprintf(path, sizeof path, "/proc/%lld/stat", (long long)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL || p[1] != ' ')
		return -1;
	p += 2;
	*state_r = *p;
	/* p is at field 3; field 22 is 19 spaces on. */
	for (field = 3; field < 22 && p != NULL; field++) {
		p = strchr(p, ' ');
		if (p != NULL)
			p++;
	}
	*start_r = p != NULL ? strtoll(p, NULL, 10) : 0;
	return 0;
}

void proc_self(struct proc_id *id)
{
	char state;
	ssize_t n;

	memset(id, 0, sizeof *id);
	if (gethostname(id->host, sizeof id->host) < 0)
		id->host[0] = '\0';
	id->host[sizeof id->host - 1] = '\0';
	read_line("/proc/sys/kernel/random/boot_id", id->boot,
		  sizeof id->boot);
	n = readlink("/proc/self/ns/pid", id->ns, sizeof id->ns - 1);
	id->ns[n > 0 ? n : 0] = '\0';
	id->pid = (int64_t)getpid();
	if (stat_of(id->pid, &state, &id->start) < 0)
		id->start = 0;
}

enum proc_state proc_state(const struct proc_id *id)
{
	struct proc_id me;
	char state;
	int64_t start;

	proc_self(&me);
	if (me.host[0] == '\0' || strcmp(id->host, me.host) != 0)
		return PROC_ELSEWHERE;
	if (me.boot[0] != '\0' && id->boot[0] != '\0' &&
	    strcmp(me.boot, id->boot) != 0)
		return PROC_GONE;
	/* Another container on this kernel: its pids are not ours to look
	 * up. (One that stored no namespace is taken for ours.) */
	if (me.ns[0] != '\0' && id->ns[0] != '\0' &&
	    strcmp(me.ns, id->ns) != 0)
		return PROC_ELSEWHERE;
	if (id->pid <= 0 || id->pid != (int64_t)(pid_t)id->pid)
		return PROC_GONE;
	if (kill((pid_t)id->pid, 0) < 0 && errno == ESRCH)
		return PROC_GONE;
	if (stat_of(id->pid, &state, &start) < 0) {
		/* No /proc to ask: kill said it is there (or not ours to
		 * signal), so it runs. A process that has just ended is gone
		 * by now. */
		return kill((pid_t)id->pid, 0) < 0 && errno == ESRCH ?
		       PROC_GONE : PROC_RUNNING;
	}
	if (state == 'Z' || state == 'X')
		return PROC_GONE;
	if (id->start != 0 && start != 0 && start != id->start)
		return PROC_GONE;
	return PROC_RUNNING;
}
