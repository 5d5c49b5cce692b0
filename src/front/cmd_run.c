/* cmd_run - the worker: delivers the queue, once or as a daemon */
#include "autoconf.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/conf.h"
#include "delivery/deliver.h"
#include "front/front.h"
#include "base/log.h"
#include "base/privs.h"
#include "pipeline/worker.h"
#include "base/status.h"
#include "store/store.h"
#include "base/util.h"

static volatile sig_atomic_t stop_requested, reload_requested;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_requested = 1;
	else
		stop_requested = 1;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

struct worker {
	const char *config;
	struct conf *c;
	struct store *s;
	struct deliver *d;
};

static void worker_close(struct worker *w)
{
	deliver_close(&w->d);
	store_close(&w->s);
	conf_free(&w->c);
}

static int worker_open(struct worker *w)
{
	char *err = NULL;

	w->c = front_load_conf(w->config);
	if (w->c == NULL)
		return -1;
	w->s = front_open_store(w->c);
	if (w->s == NULL)
		return -1;
	if (store_set_fast_commits(w->s) < 0) {
		fprintf(stderr, "convene: %s\n", store_error(w->s));
		return -1;
	}
	w->d = deliver_open(w->c, &err);
	if (w->d == NULL) {
		fprintf(stderr, "convene: %s\n", err);
		free(err);
		return -1;
	}
	return 0;
}

/* run --once: the timed work, then one delivery pass, and a summary. */
static int run_once(struct worker *w)
{
	struct deliver_stats stats = { 0 };
	/* Whatever could not be done (a locked database) is left for the
	 * next run: exit 75 says so to cron and to scripts. */
	int timed = worker_timed_pass(w->c, w->s);
	int ret = deliver_pass(w->d, w->s, true, &stats);

	if (timed < 0)
		ret = -1;
	/* What receive and lmtp committed goes into the database file here,
	 * not in their processes (store.h). */
	(void)store_checkpoint(w->s, NULL, NULL);
	printf("%llu transactions, %llu delivered, %llu deferred, "
	       "%llu failed, %llu jobs done\n",
	       (unsigned long long)stats.transactions,
	       (unsigned long long)stats.delivered,
	       (unsigned long long)stats.deferred,
	       (unsigned long long)stats.failed,
	       (unsigned long long)stats.jobs_done);
	front_print_busy(&stats);
	worker_close(w);
	return status_to_exit(ret < 0 ? ST_TEMPFAIL : ST_OK);
}

/* The daemon: delivery passes every quarter second, the timed work once a
 * minute, the config afresh on SIGHUP, until SIGTERM. */
static int run_daemon(struct worker *w, const char *config)
{
	struct deliver_stats stats = { 0 };
	time_t last_timed = 0;

	log_info("worker started");
	while (!stop_requested) {
		struct timespec nap = { 0, 250 * 1000 * 1000 };

		if (reload_requested) {
			struct worker fresh = { .config = config };

			reload_requested = 0;
			if (worker_open(&fresh) == 0) {
				worker_close(w);
				*w = fresh;
				log_info("configuration reloaded");
			} else {
				worker_close(&fresh);
				log_error("reload failed: keeping the old "
					  "configuration");
			}
		}
		if (util_now() - last_timed >= 60) {
			(void)worker_timed_pass(w->c, w->s);
			last_timed = util_now();
		}
		uint64_t done = stats.transactions + stats.jobs_done;

		if (deliver_pass(w->d, w->s, false, &stats) < 0)
			nap.tv_sec = 5;
		else
			(void)worker_between_passes(w->c, w->s,
				stats.transactions + stats.jobs_done == done);
		if (nap.tv_sec == 0 &&
		    store_checkpoint(w->s, NULL, NULL) < 0)
			log_warn("checkpoint: %s", store_error(w->s));
		/* A post accepted while idle goes out within a second. */
		nanosleep(&nap, NULL);
	}
	log_info("worker stopped");
	worker_close(w);
	return status_to_exit(ST_OK);
}

int cmd_run(int argc, char **argv, const char *config)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "user", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	struct worker w = { .config = config };
	const char *user = NULL;
	char *err = NULL;
	bool once = false;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "ou:", longopts, NULL)) != -1) {
		if (opt == 'o') {
			once = true;
		} else if (opt == 'u') {
			user = optarg;
		} else {
			fprintf(stderr, "usage: convene run [--once] "
				"[--user USER]\n");
			return status_to_exit(ST_USAGE);
		}
	}
	if (user != NULL && privs_drop(user, &err) < 0) {
		fprintf(stderr, "convene: %s\n", err);
		free(err);
		return status_to_exit(ST_SOFTWARE);
	}
	if (!once && geteuid() == 0) {
		fprintf(stderr, "convene: the worker does not run as root: "
			"give --user USER\n");
		return status_to_exit(ST_USAGE);
	}
	install_signals();
	if (worker_open(&w) < 0) {
		worker_close(&w);
		return status_to_exit(ST_TEMPFAIL);
	}
	return once ? run_once(&w) : run_daemon(&w, config);
}
