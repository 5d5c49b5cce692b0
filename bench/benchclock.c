/* benchclock - times a command and everything it leaves behind
 *
 * usage: benchclock [-o OUT] [-i FILE | -I LIST] [-t SECONDS] --
 *                   CMD [ARG...] [::: CMD2 [ARG...]]
 *
 * Runs CMD with FILE on its standard input (-i), or once per file named in
 * LIST, one a line, each on standard input in turn, the next as soon as the
 * previous one exited (-I: an MTA feeding posts one by one); a failing run
 * stops the feeding. Then, when "::: CMD2" is given, runs CMD2 once with
 * /dev/null on standard input (a worker pass after the posts were taken).
 *
 * benchclock makes itself a child subreaper (PR_SET_CHILD_SUBREAPER): a
 * process that CMD forks and leaves running is re-parented here, and the
 * clock stops only when no descendant is left. It is a small C parent on
 * purpose: a child's ru_maxrss starts at its parent's RSS when it forks, so
 * an interpreter would inflate the figures of a small program.
 *
 * With -t, a run that lasts longer is stopped: SIGTERM to the process group
 * of each command started here and to every process re-parented here, each
 * by its PID, never by name.
 *
 * Prints key=value lines (to OUT, or standard output):
 *   rc            exit status of the last CMD run (128+N: signal N)
 *   rc2           exit status of CMD2 (- without CMD2)
 *   runs          CMD runs started
 *   wall_main_s   when the last CMD run exited
 *   wall_s        when the last descendant exited
 *   timed_out     1 when -t fired
 *   cmd_maxrss_kb   largest ru_maxrss of a CMD run (with what it waited for)
 *   cmd2_maxrss_kb  ru_maxrss of CMD2 (with what it waited for)
 *   maxrss_kb     largest ru_maxrss of any descendant
 *   utime_s stime_s  CPU time of every descendant */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t timed_out;
static pid_t groups[2];            /* process groups of CMD and CMD2 */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

/* SIGTERM to our command groups and to every process whose parent we are. */
static void terminate_tree(void)
{
	char path[64], line[256];
	struct dirent *e;
	DIR *d;
	pid_t self = getpid();
	size_t i;

	for (i = 0; i < 2; i++)
		if (groups[i] > 0)
			kill(-groups[i], SIGTERM);
	d = opendir("/proc");
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		pid_t pid = (pid_t)atoi(e->d_name);
		FILE *f;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		while (fgets(line, sizeof line, f) != NULL) {
			if (strncmp(line, "PPid:", 5) == 0) {
				if ((pid_t)atoi(line + 5) == self)
					kill(pid, SIGTERM);
				break;
			}
		}
		fclose(f);
	}
	closedir(d);
}

/* Starts argv with `in` (a path) on standard input, in its own group. */
static pid_t start(char **argv, const char *in, size_t group)
{
	pid_t pid = fork();

	if (pid < 0) {
		perror("benchclock: fork");
		exit(1);
	}
	if (pid == 0) {
		int fd = open(in, O_RDONLY);

		if (fd < 0) {
			perror(in);
			_exit(127);
		}
		dup2(fd, STDIN_FILENO);
		close(fd);
		setpgid(0, 0);
		execvp(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	setpgid(pid, pid);
	groups[group] = pid;
	return pid;
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/* Reaps children until `pid` has exited (0: until none is left). Returns
 * pid's status code and its ru_maxrss in *rss_kb. */
static int reap(pid_t pid, long *rss_kb)
{
	int status, code = -1;
	struct rusage ru;

	for (;;) {
		pid_t got;

		if (timed_out == 1) {
			terminate_tree();
			timed_out = 2;
		}
		got = wait4(-1, &status, 0, &ru);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return code;        /* ECHILD: nobody left */
		}
		if (got == pid) {
			code = exit_code(status);
			if (rss_kb != NULL && ru.ru_maxrss > *rss_kb)
				*rss_kb = ru.ru_maxrss;
			return code;
		}
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: benchclock [-o OUT] [-i FILE | -I LIST] "
		"[-t SECONDS] -- CMD [ARG...] [::: CMD2 [ARG...]]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *out_path = NULL, *in = "/dev/null", *list = NULL;
	char **cmd, **cmd2 = NULL, line[4096];
	long cmd_rss = 0, cmd2_rss = 0, runs = 0;
	int opt, rc = -1, rc2 = -1, i;
	unsigned timeout = 0;
	double t0, t_main, t_all;
	struct rusage ru;
	FILE *out;

	while ((opt = getopt(argc, argv, "o:i:I:t:")) != -1) {
		switch (opt) {
		case 'o': out_path = optarg; break;
		case 'i': in = optarg; break;
		case 'I': list = optarg; break;
		case 't': timeout = (unsigned)atoi(optarg); break;
		default: usage();
		}
	}
	if (optind >= argc)
		usage();
	cmd = argv + optind;
	for (i = optind; i < argc; i++) {
		if (strcmp(argv[i], ":::") == 0) {
			argv[i] = NULL;
			cmd2 = argv + i + 1;
			if (cmd2[0] == NULL)
				usage();
			break;
		}
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		perror("benchclock: PR_SET_CHILD_SUBREAPER");
		return 1;
	}
	if (timeout > 0) {
		struct sigaction sa;

		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_alarm;      /* no SA_RESTART: wait4 returns */
		sigaction(SIGALRM, &sa, NULL);
		alarm(timeout);
	}

	t0 = now_s();
	if (list == NULL) {
		rc = reap(start(cmd, in, 0), &cmd_rss);
		runs = 1;
	} else {
		FILE *l = fopen(list, "r");

		if (l == NULL) {
			perror(list);
			return 1;
		}
		while (!timed_out && fgets(line, sizeof line, l) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			if (line[0] == '\0')
				continue;
			rc = reap(start(cmd, line, 0), &cmd_rss);
			runs++;
			if (rc != 0)
				break;
		}
		fclose(l);
	}
	t_main = now_s() - t0;
	if (cmd2 != NULL && rc == 0 && !timed_out)
		rc2 = reap(start(cmd2, "/dev/null", 1), &cmd2_rss);
	reap(0, NULL);                 /* every descendant left behind */
	t_all = now_s() - t0;

	out = out_path ? fopen(out_path, "w") : stdout;
	if (out == NULL) {
		perror(out_path);
		return 1;
	}
	getrusage(RUSAGE_CHILDREN, &ru);
	fprintf(out, "rc=%d\n", rc);
	if (cmd2 != NULL)
		fprintf(out, "rc2=%d\n", rc2);
	else
		fprintf(out, "rc2=-\n");
	fprintf(out, "runs=%ld\nwall_main_s=%.6f\nwall_s=%.6f\ntimed_out=%d\n",
		runs, t_main, t_all, timed_out ? 1 : 0);
	fprintf(out, "cmd_maxrss_kb=%ld\ncmd2_maxrss_kb=%ld\nmaxrss_kb=%ld\n",
		cmd_rss, cmd2_rss, ru.ru_maxrss);
	fprintf(out, "utime_s=%.3f\nstime_s=%.3f\n",
		(double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
		(double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
	if (out != stdout)
		fclose(out);
	return 0;
}
