/* worker - the timed work of the worker */
#include "autoconf.h"

#include <stddef.h>
#include <stdint.h>

#include "pipeline/worker.h"
#include "base/log.h"
#include "pipeline/archive.h"
#include "pipeline/bounce.h"
#include "pipeline/digest.h"
#include "pipeline/meeting.h"
#include "pipeline/moderation.h"
#include "pipeline/poll.h"
#include "pipeline/report.h"
#include "pipeline/render.h"
#include "store/store.h"
#include "store/store_archive.h"
#include "base/util.h"

/* worker_between_passes threads at most this many posts at a time, and
 * whatever the delivery does when this many wait. */
#define CATCH_UP_PER_PASS 200
#define CATCH_UP_BACKLOG 1000

int worker_between_passes(const struct conf *c, struct store *s, bool idle)
{
	int64_t waiting = 0;

	if (!idle) {
		if (store_pending_count(s, &waiting) < 0) {
			log_warn("threading: %s", store_error(s));
			return -1;
		}
		if (waiting < CATCH_UP_BACKLOG)
			return 0;
	}
	if (archive_catch_up(s, c, CATCH_UP_PER_PASS, NULL) < 0) {
		log_warn("threading: %s", store_error(s));
		return -1;
	}
	return 0;
}

int worker_timed_pass(const struct conf *c, struct store *s)
{
	size_t expired;
	int rc = 0;

	/* Digests, reports and pages read threads and the index. */
	if (archive_catch_up(s, c, SIZE_MAX, NULL) < 0) {
		log_error("threading: %s", store_error(s));
		rc = -1;
	}
	if (bounce_score_failures(c, s) < 0)
		rc = -1;
	if (moderation_expire(s, c, &expired) < 0) {
		log_error("hold expiry: %s", store_error(s));
		rc = -1;
	}
	if (bounce_pass(c, s) < 0)
		rc = -1;
	if (digest_pass(c, s, util_now(), NULL) < 0)
		rc = -1;
	if (report_pass(c, s, util_now()) < 0)
		rc = -1;
	if (poll_pass(c, s, util_now()) < 0)
		rc = -1;
	if (render_pass(c, s) < 0)
		rc = -1;
	if (meeting_timed_pass(c, s) < 0)
		rc = -1;
	return rc;
}
