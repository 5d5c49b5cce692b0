/* front - the subcommands of the convene binary */
#ifndef CONVENE_FRONT_H
#define CONVENE_FRONT_H

#include <stddef.h>
#include <time.h>
#include <stdint.h>

#include "base/status.h"

/* Each takes the arguments after the subcommand's name (argv[0] is the
 * subcommand) and the config path (NULL: the default), and returns the exit
 * status. */
int cmd_receive(int argc, char **argv, const char *config);
int cmd_run(int argc, char **argv, const char *config);
int cmd_lmtp(int argc, char **argv, const char *config);
int cmd_check(int argc, char **argv, const char *config);
int cmd_lists(int argc, char **argv, const char *config);
int cmd_members(int argc, char **argv, const char *config);
int cmd_queue(int argc, char **argv, const char *config);
int cmd_held(int argc, char **argv, const char *config);
int cmd_mta(int argc, char **argv, const char *config);
int cmd_digest(int argc, char **argv, const char *config);
int cmd_archive(int argc, char **argv, const char *config);
int cmd_report(int argc, char **argv, const char *config);
int cmd_poll(int argc, char **argv, const char *config);
int cmd_web(int argc, char **argv, const char *config);
int cmd_meeting(int argc, char **argv, const char *config);

/* Who an admin command's actions are recorded as: "cli:USER" (newly
 * allocated). */
char *front_actor(void);
/* A row id given on the command line (a positive number). 0, or -1. */
int front_parse_id(const char *s, int64_t *id_r);

/* Shared by the admin commands: loads the config or prints its problems
 * (file:line: message) to stderr. Returns NULL on failure. */
struct conf;
struct store;
struct conf *front_load_conf(const char *config);
struct store *front_open_store(const struct conf *c);
/* Both, for a command about one list: loads the config, finds the list
 * named `name` and opens the store. Returns ST_OK with all three set, or
 * the status to exit with (the problem told on stderr, nothing left open). */
struct conf_list;
enum status front_open_list(const char *config, const char *name,
			    struct conf **c_r, const struct conf_list **l_r,
			    struct store **s_r);

/* Tells the store's failure on stderr; returns ST_TEMPFAIL. */
enum status front_store_failed(const struct store *s);
/* A time as "YYYY-MM-DDTHH:MM:SSZ" (UTC) in dst, or "-" for none (0). */
void front_time(time_t t, char dst[32]);
/* Untrusted text for one field of an output line: s made safe to print
 * (log_sanitize) in dst of n bytes, "" for NULL. Returns dst or "". */
const char *front_safe(char *dst, size_t n, const char *s);
/* "N member(s)" on stderr, after a listing: one or many as n says. */
void front_counted(size_t n, const char *one, const char *many);
/* After a delivery pass (run --once, queue flush): when due jobs were left
 * to another worker, says so on stdout. */
struct deliver_stats;
void front_print_busy(const struct deliver_stats *stats);

#endif
