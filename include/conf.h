/* conf - the libconfig file: load, validate, and the typed settings */
#ifndef CONVENE_CONF_H
#define CONVENE_CONF_H

#include <stdbool.h>
#include <stddef.h>

struct rx;

enum conf_policy { POLICY_OPEN, POLICY_MEMBERS, POLICY_MODERATED, POLICY_ANNOUNCE };
enum conf_subscription { SUB_CONFIRM, SUB_APPROVE, SUB_CLOSED };
enum conf_reply_to { REPLYTO_NONE, REPLYTO_LIST, REPLYTO_SENDER, REPLYTO_ADDRESS };
enum conf_from_munging { FROMMUNGE_NONE, FROMMUNGE_DMARC, FROMMUNGE_ALWAYS };
enum conf_transport { TRANSPORT_MAILDIR, TRANSPORT_SMTP, TRANSPORT_LMTP, TRANSPORT_SENDMAIL };
enum conf_verp { VERP_OFF, VERP_XVERP, VERP_PER_RECIPIENT };
enum conf_filter_action { FILTER_ACCEPT, FILTER_HOLD, FILTER_REJECT, FILTER_DISCARD };

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
	char *archive_url;      /* may be NULL */
	char *unsubscribe_url;  /* one-click URL (RFC 8058), may be NULL */
	bool footer;            /* append the footer template (default true) */
	bool allow_who;         /* members may ask for the member list */
	/* digest, meetings: kept for later issues */
	char *digest_schedule;
	long digest_max_messages;
	struct conf_strv meeting_reminders;
	char *meeting_timezone;
	struct conf_filter *filters;
	size_t nfilters;
	struct conf_strv bans;  /* sources */
	struct rx **ban_rx;     /* compiled, nbans long */
	int line;               /* where the list's group starts */
};

struct conf_outbound {
	enum conf_transport transport;
	char *host;             /* smtp/lmtp */
	int port;
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

struct conf_limits {
	long max_message_kb;    /* hard bound on what receive reads */
	long max_header_kb;
	long max_headers;
	long max_mime_depth;
	long max_mime_parts;
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
	struct conf_outbound outbound;
	struct conf_limits limits;
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

/* Role checks: address compared case-insensitively. */
bool conf_list_is_leader(const struct conf_list *l, const char *addr);
bool conf_list_is_sponsor(const struct conf_list *l, const char *addr);
bool conf_list_is_council(const struct conf_list *l, const char *addr);

/* Parses a duration like "90s", "5m", "2h", "5d" into seconds; -1 if invalid. */
long conf_parse_duration(const char *s);

#endif
