/* thread - JWZ threading kept up in the store, one message at a time */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pipeline/thread.h"
#include "base/buf.h"
#include "base/xalloc.h"
#include "store/store.h"
#include "store/store_archive.h"

/* A walk up the tree stops after this many steps (a loop the guards did
 * not see, or a hostile chain of references). */
#define WALK_MAX 10000
/* Replies an original takes in by subject, at most. */
#define ADOPT_MAX 50
/* An original may be dated this much after replies to it (clocks). */
#define CLOCK_SKEW (86400L)

/* ---- base subjects ---- */

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The length of a reply or forward marker at s ("re:", "RE :", "re[2]:",
 * "Re(3):"), 0 when none; *reply_r whether it is a reply. */
static size_t marker(const char *s, bool *reply_r)
{
	static const struct {
		const char *word;
		bool reply;
	} words[] = {
		{ "re", true }, { "aw", true }, { "sv", true },
		{ "antw", true }, { "vs", true }, { "ref", true },
		{ "odp", true }, { "fwd", false }, { "fw", false },
		{ "wg", false }, { "tr", false },
	};
	size_t i, k;

	for (i = 0; i < sizeof words / sizeof words[0]; i++) {
		k = strlen(words[i].word);
		if (strncasecmp(s, words[i].word, k) != 0)
			continue;
		/* "Re[2]:" and "Re(2):" count replies. */
		if (s[k] == '[' || s[k] == '(') {
			char close = s[k] == '[' ? ']' : ')';
			size_t j = k + 1;

			while (s[j] >= '0' && s[j] <= '9' && j < k + 6)
				j++;
			if (j == k + 1 || s[j] != close)
				continue;
			k = j + 1;
		}
		while (s[k] == ' ')
			k++;
		if (s[k] != ':')
			continue;
		*reply_r = words[i].reply;
		return k + 1;
	}
	return 0;
}

/* The length of a bracketed tag at s ("[makers]"), 0 when none. */
static size_t tag(const char *s)
{
	const char *close;

	if (*s != '[')
		return 0;
	close = strchr(s, ']');
	if (close == NULL || close - s > 64)
		return 0;
	return (size_t)(close - s) + 1;
}

char *thread_base_subject(const char *subject, bool *reply_r)
{
	const char *s = subject != NULL ? subject : "";
	struct buf out = BUF_INIT;
	bool reply = false, space = false;
	size_t k;

	for (;;) {
		bool r = false;

		while (is_wsp(*s))
			s++;
		if ((k = marker(s, &r)) > 0) {
			reply = reply || r;
			s += k;
		} else if ((k = tag(s)) > 0 && s[k] != '\0') {
			s += k;
		} else {
			break;
		}
	}
	buf_append(&out, "", 0);
	for (; *s != '\0'; s++) {
		char c = *s;

		if (is_wsp(c)) {
			space = out.len > 0;
			continue;
		}
		if (space)
			buf_putc(&out, ' ');
		space = false;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		buf_putc(&out, c);
	}
	if (reply_r != NULL)
		*reply_r = reply;
	return buf_steal(&out, NULL);
}

/* ---- walking the tree ---- */

/* The root above node `from`; *hit_r whether `target` is on the way
 * (from itself included). */
static int walk_up(struct store *s, int64_t from, int64_t target,
		   bool *hit_r, int64_t *root_r)
{
	struct store_node n;
	int64_t cur = from;
	bool found;
	size_t steps;

	if (hit_r != NULL)
		*hit_r = false;
	for (steps = 0; steps < WALK_MAX; steps++) {
		if (hit_r != NULL && cur == target)
			*hit_r = true;
		if (store_node_get(s, cur, &n, &found) < 0)
			return -1;
		if (!found || n.parent == 0)
			break;
		cur = n.parent;
	}
	*root_r = cur;
	return 0;
}

/* Would making `parent` the parent of `child` close a loop? */
static int would_loop(struct store *s, int64_t child, int64_t parent,
		      bool *loop_r)
{
	int64_t root;

	*loop_r = true;
	if (child == parent)
		return 0;
	return walk_up(s, parent, child, loop_r, &root);
}

/* The archive id of the nearest archived node above `node` (0: none). */
static int archived_above(struct store *s, int64_t node, int64_t *archive_r)
{
	struct store_node n;
	bool found;
	size_t steps;

	*archive_r = 0;
	if (store_node_get(s, node, &n, &found) < 0)
		return -1;
	for (steps = 0; found && n.parent != 0 && steps < WALK_MAX; steps++) {
		if (store_node_get(s, n.parent, &n, &found) < 0)
			return -1;
		if (found && n.archive != 0) {
			*archive_r = n.archive;
			return 0;
		}
	}
	return 0;
}

/* ---- linking one post ---- */

struct idset {
	int64_t *v;
	size_t n;
};

static void idset_add(struct idset *set, int64_t id)
{
	size_t i;

	if (id == 0)
		return;
	for (i = 0; i < set->n; i++)
		if (set->v[i] == id)
			return;
	set->v = xreallocarray(set->v, set->n + 1, sizeof *set->v);
	set->v[set->n++] = id;
}

static void idset_remove(struct idset *set, int64_t id)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		if (set->v[i] == id) {
			set->v[i] = set->v[--set->n];
			return;
		}
	}
}

static bool idset_has(const struct idset *set, int64_t id)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (set->v[i] == id)
			return true;
	return false;
}

/* A reference worth following: an id-left "@" id-right (RFC 5322 3.6.4).
 * Mailers write "<yes>" or "<1>" where a user typed nonsense into
 * --in-reply-to; followed, such a word would join every thread that
 * carries it. */
static bool usable_id(const char *id)
{
	const char *at = strchr(id, '@');

	return at != NULL && at != id && at[1] != '\0';
}

/* One node of the chain of references. */
struct ref {
	int64_t id;
	bool fresh;       /* made for this post */
	bool linked;      /* linked below the previous reference now */
	bool ghost;       /* not archived */
	bool parent_of;   /* something hangs from it now */
};

struct linker {
	struct store *s;
	const struct thread_post *p;
	struct idset threads;    /* thread ids of what the post touched */
	struct idset touched;    /* nodes it touched */
	struct idset claimed;    /* ids given to trees in this pass */
};

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Gives the tree under `root` one thread id: the smallest id among its
 * threads whose first message is still in it; else (a new tree, or what
 * stayed behind when a message moved) the smallest archive id in it that
 * no thread has. A tree with no archived message gets none. */
static int settle_tree(struct linker *k, int64_t root, int64_t *thread_r)
{
	struct store_node *v = NULL;
	int64_t t = 0, *ids;
	size_t n = 0, i, j, na = 0;
	int rc;

	*thread_r = 0;
	if (store_node_tree(k->s, root, &v, &n) < 0)
		return -1;
	ids = xcalloc(n ? n : 1, sizeof *ids);
	for (i = 0; i < n; i++)
		if (v[i].archive != 0)
			ids[na++] = v[i].archive;
	qsort(ids, na, sizeof *ids, cmp_id);
	for (i = 0; i < n; i++) {
		if (v[i].thread == 0 || idset_has(&k->claimed, v[i].thread) ||
		    bsearch(&v[i].thread, ids, na, sizeof *ids,
			    cmp_id) == NULL)
			continue;
		if (t == 0 || v[i].thread < t)
			t = v[i].thread;
	}
	for (i = 0; t == 0 && i < na; i++) {
		bool taken = false;

		if (idset_has(&k->claimed, ids[i]))
			continue;
		if (store_thread_exists(k->s, ids[i], &taken) < 0) {
			free(ids);
			free(v);
			return -1;
		}
		if (!taken)
			t = ids[i];
	}
	for (i = 0; i < n; i++)
		idset_add(&k->threads, v[i].thread);
	for (i = 0, j = 0; i < n; i++)
		if (v[i].thread != t)
			ids[j++] = v[i].id;
	rc = store_nodes_set_thread(k->s, ids, j, t);
	free(ids);
	free(v);
	if (t != 0)
		idset_add(&k->claimed, t);
	*thread_r = t;
	return rc;
}

/* Node of `mid` (made as a ghost when new) into *r; its thread counts as
 * touched. */
static int ref_node(struct linker *k, const char *mid, struct ref *r,
		    struct store_node *n)
{
	bool found;

	memset(r, 0, sizeof *r);
	if (store_node_find(k->s, k->p->list, mid, n, &found) < 0)
		return -1;
	if (!found && store_node_add(k->s, k->p->list, mid, n) < 0)
		return -1;
	r->id = n->id;
	r->fresh = !found;
	r->ghost = n->archive == 0;
	idset_add(&k->threads, n->thread);
	return 0;
}

/* Links the chain of references: each below the one before it, when it has
 * no parent yet and that makes no loop. *irt_r is the node of In-Reply-To,
 * *last_r of the last reference (0: none). */
static int link_chain(struct linker *k, struct ref **refs_r, size_t *n_r,
		      int64_t *irt_r, int64_t *last_r)
{
	const struct thread_post *p = k->p;
	struct ref *refs = NULL;
	struct store_node n;
	size_t i, nr = 0;
	int64_t prev = 0;
	bool loop;

	*irt_r = *last_r = 0;
	for (i = 0; p->references != NULL && p->references[i] != NULL; i++) {
		struct ref *r;

		if (strcmp(p->references[i], p->message_id) == 0 ||
		    !usable_id(p->references[i]))
			continue;
		refs = xreallocarray(refs, nr + 1, sizeof *refs);
		r = &refs[nr++];
		if (ref_node(k, p->references[i], r, &n) < 0)
			goto fail;
		idset_add(&k->touched, r->id);
		if (prev != 0 && n.parent == 0) {
			if (would_loop(k->s, r->id, prev, &loop) < 0)
				goto fail;
			if (!loop) {
				if (store_node_set_parent(k->s, r->id,
							  prev) < 0)
					goto fail;
				r->linked = true;
				refs[nr - 2].parent_of = true;
			}
		}
		if (p->in_reply_to != NULL &&
		    strcmp(p->references[i], p->in_reply_to) == 0)
			*irt_r = r->id;
		prev = r->id;
	}
	*last_r = prev;
	*refs_r = refs;
	*n_r = nr;
	return 0;
fail:
	free(refs);
	return -1;
}

/* JWZ prunes empty containers: ghosts made for this post that nothing
 * hangs from, from the end of the chain back. */
static int prune(struct linker *k, struct ref *refs, size_t nr)
{
	size_t i;

	for (i = nr; i > 0; i--) {
		struct ref *r = &refs[i - 1];

		if (!r->fresh || r->parent_of)
			continue;
		if (store_node_delete(k->s, r->id) < 0)
			return -1;
		idset_remove(&k->touched, r->id);
		r->id = 0;
		if (r->linked && i > 1 && refs[i - 2].fresh)
			refs[i - 2].parent_of = false;
	}
	return 0;
}

/* The post `self` names `parent`, which lies below it: links that other
 * messages' References presumed (a client that writes References newest
 * first makes a root the child of its own reply) put it there. The post's
 * own word goes first: the presumed link nearest to it on the way up from
 * parent is cut (*cut_r). A loop of links that each message declared
 * itself stays (then the post gets no parent). */
static int cut_presumed(struct linker *k, int64_t self, int64_t parent,
			bool *cut_r)
{
	struct store_node n;
	int64_t *path = NULL;
	size_t np = 0, i;
	bool found, declared;
	int64_t cur = parent;
	int rc = -1;

	*cut_r = false;
	while (cur != self && np < WALK_MAX) {
		if (store_node_get(k->s, cur, &n, &found) < 0)
			goto out;
		if (!found || n.parent == 0) {
			rc = 0;         /* not below self after all */
			goto out;
		}
		path = xreallocarray(path, np + 1, sizeof *path);
		path[np++] = cur;
		cur = n.parent;
	}
	for (i = np; i > 0; i--) {
		int64_t child = path[i - 1];
		int64_t above = i < np ? path[i] : self;

		if (store_node_declares(k->s, child, above, &declared) < 0)
			goto out;
		if (declared)
			continue;
		if (store_node_get(k->s, child, &n, &found) < 0 ||
		    store_node_set_parent(k->s, child, 0) < 0 ||
		    store_archive_set_parent(k->s, n.archive, 0) < 0)
			goto out;
		idset_add(&k->touched, child);
		idset_add(&k->threads, n.thread);
		*cut_r = true;
		break;
	}
	rc = 0;
out:
	free(path);
	return rc;
}

/* A reply that names no message: the root of the thread with its base
 * subject nearest in time (0: none). */
static int subject_parent(struct linker *k, const char *base, int64_t self,
			  int64_t *parent_r)
{
	int64_t t = 0, root = 0;
	bool loop;

	*parent_r = 0;
	if (store_thread_by_subject(k->s, k->p->list, base, k->p->date,
				    THREAD_SUBJECT_WINDOW, &t) < 0)
		return -1;
	if (t == 0)
		return 0;
	if (store_thread_root(k->s, t, &root) < 0)
		return -1;
	if (root == 0)
		return 0;
	if (would_loop(k->s, self, root, &loop) < 0)
		return -1;
	if (!loop)
		*parent_r = root;
	return 0;
}

/* An original takes in the replies by subject that arrived before it
 * without naming it. */
static int adopt(struct linker *k, const char *base, int64_t self,
		 size_t *n_r)
{
	int64_t *orphans = NULL;
	size_t n = 0, i;
	struct store_node o;
	bool found, loop;

	*n_r = 0;
	if (store_orphan_roots(k->s, k->p->list, base,
			       k->p->date - CLOCK_SKEW,
			       k->p->date + THREAD_SUBJECT_WINDOW, ADOPT_MAX,
			       &orphans, &n) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (orphans[i] == self ||
		    store_node_get(k->s, orphans[i], &o, &found) < 0 ||
		    !found)
			continue;
		if (would_loop(k->s, o.id, self, &loop) < 0)
			goto fail;
		if (loop)
			continue;
		if (store_node_set_parent(k->s, o.id, self) < 0 ||
		    store_archive_set_parent(k->s, o.archive,
					     k->p->archive) < 0)
			goto fail;
		idset_add(&k->threads, o.thread);
		idset_add(&k->touched, o.id);
		(*n_r)++;
	}
	free(orphans);
	return 0;
fail:
	free(orphans);
	return -1;
}

/* archive.parent of what the new links changed: the post itself, the
 * archived replies below it when it was a ghost, and those below ghosts
 * of the chain that were linked now. */
static int fix_parents(struct linker *k, int64_t self, bool was_ghost,
		       const struct ref *refs, size_t nr)
{
	int64_t above;
	size_t i;

	if (archived_above(k->s, self, &above) < 0 ||
	    store_archive_set_parent(k->s, k->p->archive, above) < 0)
		return -1;
	if (was_ghost &&
	    store_node_children_parent(k->s, self, k->p->archive) < 0)
		return -1;
	for (i = 0; i < nr; i++) {
		if (refs[i].id == 0 || !refs[i].linked || !refs[i].ghost ||
		    refs[i].fresh)
			continue;
		if (archived_above(k->s, refs[i].id, &above) < 0 ||
		    store_node_children_parent(k->s, refs[i].id, above) < 0)
			return -1;
	}
	return 0;
}

/* Thread ids after the links: one tree touched and no thread in it but
 * one (the usual reply) is quick; merges and moves settle each tree. */
static int settle(struct linker *k, int64_t self, int64_t old_parent,
		  bool simple, int64_t *thread_r)
{
	struct idset roots = { NULL, 0 };
	struct idset before = { NULL, 0 };
	int64_t root, t;
	size_t i;
	bool alive;
	int rc = -1;

	for (i = 0; i < k->threads.n; i++)
		idset_add(&before, k->threads.v[i]);
	if (simple) {
		t = before.n == 1 ? before.v[0] : k->p->archive;
		if (store_nodes_set_thread(k->s, k->touched.v, k->touched.n,
					   t) < 0)
			goto out;
		*thread_r = t;
		rc = store_thread_refresh(k->s, k->p->list, t, &alive);
		goto out;
	}
	/* The post's tree first: it claims its id before the others. */
	if (walk_up(k->s, self, 0, NULL, &root) < 0)
		goto out;
	idset_add(&roots, root);
	for (i = 0; i < k->touched.n; i++) {
		if (walk_up(k->s, k->touched.v[i], 0, NULL, &root) < 0)
			goto out;
		idset_add(&roots, root);
	}
	if (old_parent != 0) {
		if (walk_up(k->s, old_parent, 0, NULL, &root) < 0)
			goto out;
		idset_add(&roots, root);
	}
	for (i = 0; i < roots.n; i++) {
		if (settle_tree(k, roots.v[i], &t) < 0)
			goto out;
		if (i == 0)
			*thread_r = t;
	}
	/* The post's node may have had its thread as a ghost already: its
	 * archive row gets it here. */
	if (store_nodes_set_thread(k->s, &self, 1, *thread_r) < 0)
		goto out;
	for (i = 0; i < k->claimed.n; i++)
		idset_add(&k->threads, k->claimed.v[i]);
	for (i = 0; i < k->threads.n; i++)
		if (store_thread_refresh(k->s, k->p->list, k->threads.v[i],
					 &alive) < 0)
			goto out;
	rc = 0;
out:
	free(roots.v);
	free(before.v);
	return rc;
}

int thread_link(struct store *s, const struct thread_post *p,
		int64_t *thread_r)
{
	struct linker k = { s, p, { NULL, 0 }, { NULL, 0 }, { NULL, 0 } };
	struct ref *refs = NULL, self;
	struct store_node m;
	size_t nr = 0, adopted = 0;
	int64_t irt = 0, last = 0, parent, old_parent;
	bool reply = false, loop, detached, was_ghost, cut = false;
	char *base = thread_base_subject(p->subject, &reply);
	int rc = -1;

	*thread_r = 0;
	if (ref_node(&k, p->message_id, &self, &m) < 0)
		goto out;
	was_ghost = !self.fresh && m.archive == 0;
	old_parent = m.parent;
	idset_add(&k.touched, m.id);
	if (link_chain(&k, &refs, &nr, &irt, &last) < 0)
		goto out;
	parent = irt != 0 ? irt : last;
	if (parent != 0) {
		if (would_loop(s, m.id, parent, &loop) < 0)
			goto out;
		if (loop && parent != m.id &&
		    (cut_presumed(&k, m.id, parent, &cut) < 0 ||
		     (cut && would_loop(s, m.id, parent, &loop) < 0)))
			goto out;
		if (loop)
			parent = 0;
	}
	/* A message that names no parent: where the References of its
	 * replies put it, else (a reply) by subject. */
	if (nr == 0 && m.parent != 0)
		parent = m.parent;
	else if (nr == 0 && reply && *base != '\0' &&
		 subject_parent(&k, base, m.id, &parent) < 0)
		goto out;
	if (parent != m.parent && store_node_set_parent(s, m.id, parent) < 0)
		goto out;
	detached = old_parent != 0 && old_parent != parent;
	if (parent != 0) {
		struct store_node pn;
		bool found;

		if (store_node_get(s, parent, &pn, &found) < 0)
			goto out;
		idset_add(&k.threads, found ? pn.thread : 0);
		idset_add(&k.touched, parent);
		for (size_t i = 0; i < nr; i++)
			if (refs[i].id == parent)
				refs[i].parent_of = true;
	}
	if (store_node_set_archive(s, m.id, p->archive, base,
				   nr == 0 && reply && parent == 0) < 0)
		goto out;
	if (nr == 0 && !reply && *base != '\0' &&
	    adopt(&k, base, m.id, &adopted) < 0)
		goto out;
	if (prune(&k, refs, nr) < 0)
		goto out;
	if (fix_parents(&k, m.id, was_ghost, refs, nr) < 0)
		goto out;
	rc = settle(&k, m.id, detached ? old_parent : 0,
		    !detached && !cut && adopted == 0 && k.threads.n <= 1,
		    thread_r);
out:
	free(refs);
	free(base);
	free(k.threads.v);
	free(k.touched.v);
	free(k.claimed.v);
	return rc;
}

/* ---- reading ---- */

int thread_resolve(struct store *s, const char *list, int64_t id,
		   int64_t *thread_r, bool *found_r)
{
	struct store_thread t = { 0 };
	struct store_archived a = { 0 };

	*found_r = false;
	*thread_r = 0;
	if (store_thread_get(s, list, id, &t, found_r) < 0)
		return -1;
	store_thread_clear(&t);
	if (*found_r) {
		*thread_r = id;
		return 0;
	}
	if (store_archive_get(s, id, &a, found_r) < 0)
		return -1;
	*found_r = *found_r && a.list != NULL && strcmp(a.list, list) == 0 &&
		   a.thread != 0;
	if (*found_r)
		*thread_r = a.thread;
	store_archived_clear(&a);
	return 0;
}

void thread_entries_free(struct thread_entry **v, size_t n)
{
	size_t i;

	if (*v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free((*v)[i].message_id);
		free((*v)[i].sender);
		free((*v)[i].sender_name);
		free((*v)[i].subject);
	}
	xfree(v);
}

struct lister {
	struct store_thread_node *nodes;
	size_t n;
	bool *seen;
	bool ghosts;
	struct thread_entry *out;
	size_t nout;
};

static size_t node_index(const struct lister *t, int64_t id)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->nodes[i].node == id)
			return i;
	return (size_t)-1;
}

/* Depth first from node i; the nodes are in date order, so children come
 * out by date. An explicit stack: a deep thread must not blow the C one. */
static void list_from(struct lister *t, size_t start)
{
	struct frame {
		size_t node, next;
		int depth;
		int64_t above;      /* nearest archived ancestor */
	} *stack = xcalloc(t->n + 1, sizeof *stack);
	size_t top = 0;

	stack[0] = (struct frame){ start, 0, 0, 0 };
	t->seen[start] = true;
	for (;;) {
		struct frame *f = &stack[top];
		struct store_thread_node *e = &t->nodes[f->node];
		bool shown = e->archive != 0 || t->ghosts;
		size_t i;

		if (f->next == 0 && shown) {
			struct thread_entry *o = &t->out[t->nout++];

			o->archive = e->archive;
			o->parent = f->above;
			o->depth = f->depth;
			o->message_id = e->message_id ? xstrdup(e->message_id)
						      : NULL;
			o->sender = e->sender ? xstrdup(e->sender) : NULL;
			o->sender_name = e->sender_name ?
					 xstrdup(e->sender_name) : NULL;
			o->subject = e->subject ? xstrdup(e->subject) : NULL;
			o->date = e->date;
		}
		for (i = f->next; i < t->n; i++)
			if (!t->seen[i] && t->nodes[i].parent == e->node)
				break;
		if (i < t->n && top + 1 <= t->n) {
			f->next = i + 1;
			t->seen[i] = true;
			stack[top + 1] = (struct frame){
				i, 0, f->depth + (shown ? 1 : 0),
				e->archive != 0 ? e->archive : f->above };
			top++;
			continue;
		}
		if (top == 0)
			break;
		top--;
	}
	free(stack);
}

int thread_list(struct store *s, int64_t thread, bool ghosts,
		struct thread_entry **v_r, size_t *n_r)
{
	struct lister t = { NULL, 0, NULL, ghosts, NULL, 0 };
	size_t i;

	*v_r = NULL;
	*n_r = 0;
	if (store_thread_nodes(s, thread, &t.nodes, &t.n) < 0)
		return -1;
	t.seen = xcalloc(t.n + 1, sizeof *t.seen);
	t.out = xcalloc(t.n + 1, sizeof *t.out);
	/* Roots first (no parent, or a parent outside the thread), then
	 * anything a loop left unreached. */
	for (i = 0; i < t.n; i++)
		if (!t.seen[i] && (t.nodes[i].parent == 0 ||
				   node_index(&t, t.nodes[i].parent) ==
				   (size_t)-1))
			list_from(&t, i);
	for (i = 0; i < t.n; i++)
		if (!t.seen[i])
			list_from(&t, i);
	store_thread_nodes_free(&t.nodes, t.n);
	free(t.seen);
	*v_r = t.out;
	*n_r = t.nout;
	return 0;
}
