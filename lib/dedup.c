#include "dedup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "util.h"

#define COMPARE_CHUNK (256u * 1024u)

/* A candidate: a non-empty file, its position in walk order, its hash. */
struct cand {
	struct fst_node *node;
	size_t order;
	uint64_t hash;
};

struct collect {
	struct cand *v;
	size_t n, cap;
	int failed;
};

static int collect_file(struct fst_node *n, void *ctx)
{
	struct collect *c = ctx;

	if (n->kind != FST_FILE || n->size == 0 || !n->src)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		struct cand *v = realloc(c->v, cap * sizeof(*v));
		if (!v) {
			c->failed = 1;
			return 1;
		}
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n] = (struct cand){ .node = n, .order = c->n };
	c->n++;
	return 0;
}

/* Same size and mode first (only those can match), then walk order. */
static int cmp_size_mode(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->node->size != y->node->size)
		return x->node->size < y->node->size ? -1 : 1;
	if (x->node->mode != y->node->mode)
		return x->node->mode < y->node->mode ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int cmp_hash(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int hash_file(struct cand *c, char *buf, struct mk_err *e)
{
	XXH3_state_t st;
	int fd = open(c->node->src, O_RDONLY | O_CLOEXEC);
	long n;
	uint64_t total = 0;

	if (fd < 0)
		return mk_fail_errno(e, errno, "%s: cannot open", c->node->src);
	XXH3_INITSTATE(&st);
	XXH3_64bits_reset(&st);
	while ((n = mk_read_full(fd, buf, COMPARE_CHUNK)) > 0) {
		XXH3_64bits_update(&st, buf, (size_t)n);
		total += (uint64_t)n;
	}
	close(fd);
	if (n < 0)
		return mk_fail_errno(e, errno, "%s: cannot read", c->node->src);
	if (total != c->node->size)
		return mk_fail(e, "%s: changed size while reading",
			       c->node->src);
	c->hash = XXH3_64bits_digest(&st);
	return 0;
}

/* 1 when the two files hold the same bytes, 0 when not, -1 on error. */
static int same_bytes(const char *a, const char *b, char *bufa, char *bufb,
		      struct mk_err *e)
{
	int fa = open(a, O_RDONLY | O_CLOEXEC);
	int fb = open(b, O_RDONLY | O_CLOEXEC);
	int result = -1;
	long na, nb;

	if (fa < 0 || fb < 0) {
		mk_fail_errno(e, errno, "%s: cannot open", fa < 0 ? a : b);
		goto out;
	}
	for (;;) {
		na = mk_read_full(fa, bufa, COMPARE_CHUNK);
		nb = mk_read_full(fb, bufb, COMPARE_CHUNK);
		if (na < 0 || nb < 0) {
			mk_fail_errno(e, errno, "%s: cannot read", na < 0 ? a : b);
			goto out;
		}
		if (na != nb || memcmp(bufa, bufb, (size_t)na) != 0) {
			result = 0;
			goto out;
		}
		if (na == 0) {
			result = 1;
			goto out;
		}
	}
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return result;
}

/* Within one run of equal hashes (walk order), link each member to the
 * first earlier member with the same bytes. */
static int link_run(struct cand *v, size_t n, char *bufa, char *bufb,
		    struct dedup_stats *stats, struct mk_err *e)
{
	size_t i, k;

	for (i = 1; i < n; i++) {
		for (k = 0; k < i; k++) {
			int same;

			if (v[k].node->same_as)
				continue; /* only owners can be linked to */
			same = same_bytes(v[k].node->src, v[i].node->src, bufa,
					  bufb, e);
			if (same < 0)
				return -1;
			if (same) {
				v[i].node->same_as = v[k].node;
				v[k].node->nlink++;
				stats->links++;
				stats->saved_bytes += v[i].node->size;
				break;
			}
		}
	}
	return 0;
}

static int dedup_bucket(struct cand *v, size_t n, char *bufa, char *bufb,
			struct dedup_stats *stats, struct mk_err *e)
{
	size_t i, start;

	for (i = 0; i < n; i++)
		if (hash_file(&v[i], bufa, e))
			return -1;
	qsort(v, n, sizeof(*v), cmp_hash);
	for (start = 0; start < n; start = i) {
		for (i = start + 1; i < n && v[i].hash == v[start].hash; i++)
			;
		if (i - start > 1 &&
		    link_run(v + start, i - start, bufa, bufb, stats, e))
			return -1;
	}
	return 0;
}

int dedup_tree(struct fst_node *root, struct dedup_stats *stats,
	       struct mk_err *e)
{
	struct collect c = { 0 };
	char *bufa = malloc(COMPARE_CHUNK), *bufb = malloc(COMPARE_CHUNK);
	size_t i, start;
	int rc = 0;

	memset(stats, 0, sizeof(*stats));
	if (!bufa || !bufb || fst_walk(root, collect_file, &c) || c.failed) {
		rc = mk_fail(e, "out of memory");
		goto out;
	}
	if (c.n > 1) /* c.v is NULL when there are none */
		qsort(c.v, c.n, sizeof(*c.v), cmp_size_mode);
	for (start = 0; rc == 0 && start < c.n; start = i) {
		for (i = start + 1; i < c.n &&
		     c.v[i].node->size == c.v[start].node->size &&
		     c.v[i].node->mode == c.v[start].node->mode; i++)
			;
		if (i - start > 1)
			rc = dedup_bucket(c.v + start, i - start, bufa, bufb,
					  stats, e);
	}
out:
	free(c.v);
	free(bufa);
	free(bufb);
	return rc;
}
