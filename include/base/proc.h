/* proc - one run of one process, named so that another process can tell
 * whether it still runs
 *
 * A worker that claims work in the database (store.h, "claims") stores who
 * it is: its host's name, the boot it runs in (Linux's boot_id), its PID
 * namespace, its pid and its start time (clock ticks after boot). Another
 * process on the same host and in the same PID namespace can then tell
 * that it died (kill -9, a crash, a reboot) even when its pid has since
 * been given to someone else; from another namespace (another container
 * on one volume) its pid says nothing. */
#ifndef CONVENE_PROC_H
#define CONVENE_PROC_H

#include <stdbool.h>
#include <stdint.h>

#define PROC_HOST_MAX 256
#define PROC_BOOT_MAX 40
#define PROC_NS_MAX 64

struct proc_id {
	char host[PROC_HOST_MAX];  /* gethostname(); "" when unknown */
	char boot[PROC_BOOT_MAX];  /* the boot's id; "" when unknown */
	char ns[PROC_NS_MAX];      /* the PID namespace ("pid:[N]"); "" when
				      unknown */
	int64_t pid;
	int64_t start;             /* start time after boot; 0 when unknown */
};

/* This process. Never fails: what cannot be read stays unknown. */
void proc_self(struct proc_id *id);

enum proc_state {
	PROC_RUNNING,    /* on this host and still running (or cannot be told
			    apart from a process that is) */
	PROC_GONE,       /* on this host, and not running any more: no such
			    pid, a zombie, another process with its pid, or a
			    process of an earlier boot */
	PROC_ELSEWHERE,  /* on another host or in another PID namespace (or
			    this host's name is unknown): nothing can be
			    said */
};

/* Whether the process `id` names still runs, seen from here. */
enum proc_state proc_state(const struct proc_id *id);

#endif
