/* conf - the libconfig file: load, validate, and the typed settings */
#ifndef CONVENE_CONF_H
#define CONVENE_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "base/schedule.h"

struct rx;

enum conf_policy { POLICY_OPEN, POLICY_MEMBERS, POLICY_MODERATED, POLICY_ANNOUNCE };
enum conf_subscription { SUB_CONFIRM, SUB_APPROVE, SUB_CLOSED };
enum conf_reply_to { REPLYTO_NONE, REPLYTO_LIST, REPLYTO_SENDER, REPLYTO_ADDRESS };
enum conf_from_munging { FROMMUNGE_NONE, FROMMUNGE_DMARC, FROMMUNGE_ALWAYS };
enum conf_transport { TRANSPORT_MAILDIR, TRANSPORT_SMTP, TRANSPORT_LMTP, TRANSPORT_SENDMAIL };
enum conf_verp { VERP_OFF, VERP_XVERP, VERP_PER_RECIPIENT };
enum conf_filter_action { FILTER_ACCEPT, FILTER_HOLD, FILTER_REJECT, FILTER_DISCARD };
enum conf_hold_action { HOLDACT_HOLD, HOLDACT_REJECT };
enum conf_archive_access { ARCHIVE_MEMBERS, ARCHIVE_PUBLIC, ARCHIVE_PRIVATE };

struct conf_strv {
	char **v;       /* NULL-terminated */
	size_t n;
};

struct conf_filter {
	char *header;   /* header name to match, or NULL to match the decoded body */
	char *match;    /* the PCRE2 pattern source */
	struct rx *rx;  /* compiled pattern */
	enum conf_filter_action action;
	char *reason;   /* may be NULL */
	int line;
};

/* Bounce handling: scores, disabling, probes (top level: the defaults;
 * per list: what applies). */
struct conf_bounces {
	double threshold;       /* a score this high disables delivery (3.0) */
	double soft_weight;     /* what a soft bounce adds; a hard one adds 1 */
	long decay_after_s;     /* a score resets after this long quiet (7d) */
	long probes;            /* unanswered probes before removal (3) */
	long probe_interval_s;  /* between probes (3d) */
};

struct conf_list {
	char *name;             /* local part of the posting address, lower case */
	char *description;
	enum conf_policy policy;
	enum conf_subscription subscription;
	struct conf_strv sponsors, leaders, council;
	char *subject_prefix;   /* e.g. "[makers] "; "" for none */
	enum conf_reply_to reply_to;
	char *reply_to_address; /* with REPLYTO_ADDRESS */
	enum conf_from_munging from_munging;
	long max_message_kb;    /* 0: the global limit only */
	char *archive_url;      /* archive.url (or archive_url); for a public
				   list without one, web.url + NAME + "/";
				   may be NULL */
	enum conf_archive_access archive_access;  /* who reads it by mail */
	long archive_answer_kb; /* attachments of one answer, at most */
	long archive_results;   /* search results in one answer */
	bool archive_hide_addresses;  /* web pages show "local@..." */
	char *unsubscribe_url;  /* one-click URL (RFC 8058) that a member's
				   token is appended to: unsubscribe_url, else
				   web.url + "u/"; may be NULL */
	bool footer;            /* append the footer template (default true) */
	bool allow_who;         /* members may ask for the member list */
	/* digest (group "digest") */
	char *digest_schedule;     /* as written, e.g. "daily 07:00" */
	struct schedule digest_when;
	char *digest_timezone;     /* tz name the schedule is read in */
	long digest_max_messages;  /* an issue goes out early at this many */
	long digest_max_kb;        /*   posts, or this many KB of them */
	/* the health report and the nudges (group "report"): on when the
	 * group is there */
	bool report_on;
	char *report_schedule;     /* as written; "off": no report by mail */
	struct schedule report_when;
	bool report_scheduled;     /* false for "off" */
	char *report_nudge;        /* as written; "off": no nudges */
	struct schedule nudge_when;
	bool nudge_scheduled;
	char *report_timezone;     /* tz name the schedules are read in */
	int report_roles;          /* CONF_SPONSORS | CONF_LEADERS | ... */
	struct conf_strv report_to;   /* addresses besides the roles */
	long report_unanswered_s;  /* a thread unanswered this long counts */
	long report_weeks;         /* weeks of figures (12) */
	/* meetings (group "meetings") */
	struct conf_strv meeting_reminders;  /* lead times before a meeting */
	char *meeting_timezone;     /* tz name of the list's meetings */
	long meeting_summary_s;     /* the leaders' headcount this long before */
	bool council_may_schedule;  /* the council schedules meetings too */
	struct conf_filter *filters;
	size_t nfilters;
	struct conf_strv bans;  /* sources */
	struct rx **ban_rx;     /* compiled, nbans long */
	/* moderation */
	bool council_may_approve;  /* council may decide holds by reply */
	long hold_expiry_s;        /* held posts expire after this (14d) */
	enum conf_hold_action max_message_action;  /* over max_message_kb */
	enum conf_hold_action announce_action;     /* others on announce */
	long max_recipients;       /* To+Cc over this are held; 0: no limit */
	/* content rules (group "content") */
	struct conf_strv content_strip;  /* MIME types removed from posts */
	struct conf_strv content_pass;   /* when set, only these are kept */
	bool drop_html_alternative;      /* text/html of an alternative */
	struct conf_bounces bounces;
	int line;               /* where the list's group starts */
};

/* One of several relays (outbound.relays): the transactions of a job are
 * spread over them by weight. */
struct conf_relay {
	char *host;
	int port;
	long weight;            /* its share of the transactions (1 to 1000) */
	int line;
};

struct conf_outbound {
	enum conf_transport transport;
	char *host;             /* smtp/lmtp */
	int port;
	struct conf_relay *relays;  /* smtp/lmtp: several relays instead of */
	size_t nrelays;             /*   host and port; 0: just host:port */
	long relay_skip_s;      /* a relay that refused or timed out is
				   skipped this long */
	char *path;             /* maildir: outbox folder; lmtp: unix socket if set */
	struct conf_strv sendmail_argv;
	long max_rcpt_per_txn;
	long connections;
	enum conf_verp verp;
	bool starttls;
	char *auth_user, *auth_password;
	char *helo;
	long timeout_s;
	struct conf_strv retry_schedule;   /* e.g. "1m", "5m", ... */
};

/* Where a listener listens: a Unix socket, or a loopback TCP address. */
struct conf_listen {
	char *path;             /* unix:PATH (absolute); NULL for TCP */
	char *host;             /* TCP: a loopback address, as written */
	int port;
};

/* convene lmtp, the MTA's entry point over LMTP. */
struct conf_lmtp {
	struct conf_listen listen;
	long max_sessions;      /* sessions at the same time */
	long timeout_s;         /* idle time allowed within a session */
	long max_recipients;    /* RCPTs in one transaction */
	unsigned socket_mode;   /* permissions of the Unix socket */
};

struct conf_limits {
	long max_message_kb;    /* hard bound on what receive reads */
	long max_header_kb;
	long max_headers;
	long max_mime_depth;
	long max_mime_parts;
};

/* The web archive and one-click unsubscribe (group "web"). */
struct conf_web {
	char *url;              /* where readers reach `convene web` (through
				   the web server in front), ending in '/';
				   NULL: unset */
	char *dir;              /* the static pages' folder, absolute; NULL:
				   no pages are written */
	char *listen_host;      /* what `convene web` binds: "127.0.0.1" */
	int listen_port;        /*   and 8080 unless set */
};

struct conf {
	char *file;             /* the file it was read from */
	char *dir;              /* its folder: relative paths are taken from here */
	char *domain;           /* lower case */
	char *database;         /* absolute */
	char *templates;        /* absolute */
	char *language;         /* "en" */
	long busy_timeout_ms;
	bool local_part_case_sensitive;
	long confirm_expiry_s;      /* subscription tokens live this long */
	long answer_rate_max;       /* answers and confirmations to one */
	long answer_rate_window_s;  /*   address: at most max per window */
	struct conf_outbound outbound;
	struct conf_lmtp lmtp;
	struct conf_limits limits;
	struct conf_web web;
	struct conf_bounces bounces;  /* the lists' defaults */
	struct conf_strv bans;  /* global sender bans (sources) */
	struct rx **ban_rx;
	struct conf_list *lists;
	size_t nlists;
};

/* One problem found while validating. */
struct conf_problem {
	char *file;
	int line;
	char *message;
};

struct conf_problems {
	struct conf_problem *v;
	size_t n;
};

/* Reads and validates `path`. On success returns 0 and *conf_r (free with
 * conf_free). On any problem returns -1 and fills *problems (each with file
 * and line; free with conf_problems_free); *unreadable_r is set when the file
 * could not be opened or read at all (a transient condition for receive). */
int conf_load(const char *path, struct conf **conf_r,
	      struct conf_problems *problems, bool *unreadable_r);
void conf_free(struct conf **conf);
void conf_problems_free(struct conf_problems *p);

/* The config path: `explicit` if non-NULL, else $CONVENE_CONFIG, else the
 * compiled-in default (SYSCONFDIR/convene/convene.conf). */
const char *conf_default_path(const char *explicit_path);

/* The list named `name` (case-insensitive), or NULL. */
const struct conf_list *conf_find_list(const struct conf *c, const char *name);

/* The config's spelling of a list's policy ("open", "members", "moderated",
 * "announce") and subscription ("confirm", "approve", "closed"): static
 * text, "" for a value out of range. */
const char *conf_policy_name(enum conf_policy p);
const char *conf_subscription_name(enum conf_subscription s);

/* Role checks: address compared case-insensitively. */
bool conf_list_is_leader(const struct conf_list *l, const char *addr);
bool conf_list_is_sponsor(const struct conf_list *l, const char *addr);
bool conf_list_is_council(const struct conf_list *l, const char *addr);

/* The addresses of the roles asked for (sponsors, leaders, council, in that
 * order), each once (compared case-insensitively). Returns a newly
 * allocated, NULL-terminated array of borrowed strings; *n_r its length. */
enum { CONF_SPONSORS = 1, CONF_LEADERS = 2, CONF_COUNCIL = 4 };
const char **conf_list_roles(const struct conf_list *l, int roles,
			     size_t *n_r);

/* Parses a listener address: "unix:PATH" (a relative PATH is taken from
 * `dir`) or "HOST:PORT" with HOST a loopback address (127.0.0.0/8, ::1 in
 * brackets, or localhost). Returns 0 with *l filled (free with
 * conf_listen_free), or -1 with *error_r (static text). */
int conf_parse_listen(const char *spec, const char *dir,
		      struct conf_listen *l, const char **error_r);
void conf_listen_free(struct conf_listen *l);

/* Reads "HOST:PORT" ("[::1]:8080" for an IPv6 address): *host_r (newly
 * allocated, brackets removed) and *port_r (1 to 65535). Returns 0, or -1
 * when it is not that. */
int conf_parse_hostport(const char *s, char **host_r, int *port_r);

/* Parses a duration like "90s", "5m", "2h", "5d" into seconds; -1 if invalid. */
long conf_parse_duration(const char *s);

#endif
