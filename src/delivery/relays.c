/* relays - which of several relays takes the next transaction */
#include "autoconf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/relays.h"
#include "base/conf.h"
#include "base/xalloc.h"

/* The bit mask of relays_pick() holds this many. */
#define RELAYS_MAX 64

struct relay {
	char *name;             /* "host:port" */
	long weight;
	long current;           /* smooth weighted round-robin credit */
	time_t skip_until;      /* skipped while now < skip_until */
};

struct relays {
	pthread_mutex_t mu;
	struct relay *v;
	size_t n;
	long skip_s;
};

struct relays *relays_new(const struct conf *c)
{
	const struct conf_outbound *o = &c->outbound;
	struct relays *r;
	size_t i;

	if (o->nrelays == 0)
		return NULL;
	r = xcalloc(1, sizeof *r);
	pthread_mutex_init(&r->mu, NULL);
	r->n = o->nrelays < RELAYS_MAX ? o->nrelays : RELAYS_MAX;
	r->v = xcalloc(r->n, sizeof *r->v);
	r->skip_s = o->relay_skip_s > 0 ? o->relay_skip_s : 60;
	for (i = 0; i < r->n; i++) {
		const struct conf_relay *cr = &o->relays[i];

		r->v[i].name = strchr(cr->host, ':') != NULL ?
			       xasprintf("[%s]:%d", cr->host, cr->port) :
			       xasprintf("%s:%d", cr->host, cr->port);
		r->v[i].weight = cr->weight > 0 ? cr->weight : 1;
	}
	return r;
}

void relays_free(struct relays **rp)
{
	struct relays *r = *rp;
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		free(r->v[i].name);
	free(r->v);
	pthread_mutex_destroy(&r->mu);
	free(r);
	*rp = NULL;
}

size_t relays_count(const struct relays *r)
{
	return r != NULL ? r->n : 0;
}

const char *relays_name(const struct relays *r, size_t i)
{
	return r->v[i].name;
}

/* Smooth weighted round-robin (as nginx does it) over the relays that take
 * part: each gains its weight, the richest is chosen and pays the sum. The
 * choices interleave (3:1 gives B A B B, not B B B A), so a job's
 * transactions reach every relay from its start. */
int relays_pick(struct relays *r, time_t now, unsigned long long tried)
{
	long total = 0;
	int best = -1;
	size_t i;

	pthread_mutex_lock(&r->mu);
	for (i = 0; i < r->n; i++) {
		struct relay *x = &r->v[i];

		if ((tried >> i) & 1ULL || now < x->skip_until)
			continue;
		x->current += x->weight;
		total += x->weight;
		if (best < 0 || x->current > r->v[best].current)
			best = (int)i;
	}
	if (best >= 0)
		r->v[best].current -= total;
	pthread_mutex_unlock(&r->mu);
	return best;
}

bool relays_failed(struct relays *r, size_t i, time_t now)
{
	bool news;

	pthread_mutex_lock(&r->mu);
	news = now >= r->v[i].skip_until;
	r->v[i].skip_until = now + r->skip_s;
	/* Back with a clean slate, not with the credit it had. */
	r->v[i].current = 0;
	pthread_mutex_unlock(&r->mu);
	return news;
}

bool relays_ok(struct relays *r, size_t i)
{
	bool was;

	pthread_mutex_lock(&r->mu);
	was = r->v[i].skip_until != 0;
	r->v[i].skip_until = 0;
	pthread_mutex_unlock(&r->mu);
	return was;
}

long relays_skipped_for(struct relays *r, size_t i, time_t now)
{
	long left;

	pthread_mutex_lock(&r->mu);
	left = r->v[i].skip_until > now ? (long)(r->v[i].skip_until - now) : 0;
	pthread_mutex_unlock(&r->mu);
	return left;
}
