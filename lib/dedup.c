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
#define SAMPLE_BYTES 4096u /* hashed at each end of a candidate */
#define KIND_INLINE 0x10000u /* content from memory: never grouped */

/* One non-empty regular file of the first walk. */
struct rec {
	uint64_t size;
	uint32_t index;
	uint32_t kind; /* the mode bits, or KIND_INLINE */
};

/* A distinct content among the candidates: the first file that has it. */
struct content {
	uint64_t size, hash;
	uint32_t kind, owner, nlink;
	char *path;       /* host path */
	size_t shown_skip; /* of which errors leave out this many bytes */
	struct content *next; /* same bucket */
};

struct pair {
	uint32_t index, value; /* link: owner index; owner: nlink */
};

struct dedup {
	struct rec *recs;
	size_t nrecs, cap;
	uint8_t *cand;        /* bit per index: shares size and mode */
	struct content **buckets;
	size_t nbuckets;
	struct pair *links, *owners; /* both sorted by index */
	size_t nlinks, nowners, links_cap;
	char *bufa, *bufb;
};

struct dedup *dedup_new(void)
{
	return calloc(1, sizeof(struct dedup));
}

static void free_contents(struct dedup *d)
{
	size_t b;

	for (b = 0; b < d->nbuckets; b++)
		while (d->buckets[b]) {
			struct content *c = d->buckets[b];
			d->buckets[b] = c->next;
			free(c->path);
			free(c);
		}
	free(d->buckets);
	d->buckets = NULL;
	d->nbuckets = 0;
}

void dedup_free(struct dedup *d)
{
	if (!d)
		return;
	free_contents(d);
	free(d->recs);
	free(d->cand);
	free(d->links);
	free(d->owners);
	free(d->bufa);
	free(d->bufb);
	free(d);
}

int dedup_note(struct dedup *d, const struct fst_node *n, struct mk_err *e)
{
	if (n->kind != FST_FILE || n->size == 0)
		return 0;
	if (d->cand)
		return mk_fail(e, "dedup_note after dedup_resolve");
	if (mk_grow(&d->recs, &d->cap, d->nrecs, sizeof(*d->recs)))
		return mk_fail(e, "out of memory");
	d->recs[d->nrecs] = (struct rec){ n->size, (uint32_t)d->nrecs,
					  n->src ? n->mode : KIND_INLINE };
	d->nrecs++;
	return 0;
}

/* ---- candidates: files that share size and mode with another ------- */

static int cmp_rec(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int cmp_index(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

/* Returns how many files are candidates, or -1. */
static long mark_candidates(struct dedup *d, struct mk_err *e)
{
	size_t i, start, ncand = 0;

	d->cand = calloc(d->nrecs / 8 + 1, 1);
	if (!d->cand)
		return mk_fail(e, "out of memory");
	if (d->nrecs > 1)
		qsort(d->recs, d->nrecs, sizeof(*d->recs), cmp_rec);
	for (start = 0; start < d->nrecs; start = i) {
		for (i = start + 1; i < d->nrecs &&
		     d->recs[i].size == d->recs[start].size &&
		     d->recs[i].kind == d->recs[start].kind; i++)
			;
		if (i - start < 2 || d->recs[start].kind == KIND_INLINE)
			continue;
		for (size_t k = start; k < i; k++) {
			uint32_t x = d->recs[k].index;
			d->cand[x / 8] |= (uint8_t)(1u << (x % 8));
			ncand++;
		}
	}
	/* Back in walk order: the second walk checks it meets the same files. */
	if (d->nrecs > 1)
		qsort(d->recs, d->nrecs, sizeof(*d->recs), cmp_index);
	d->nbuckets = 16;
	while (d->nbuckets < ncand)
		d->nbuckets *= 2;
	d->buckets = calloc(d->nbuckets, sizeof(*d->buckets));
	d->bufa = malloc(COMPARE_CHUNK);
	d->bufb = malloc(COMPARE_CHUNK);
	if (!d->buckets || !d->bufa || !d->bufb)
		return mk_fail(e, "out of memory");
	return (long)ncand;
}

static int is_candidate(const struct dedup *d, uint64_t index)
{
	return (d->cand[index / 8] >> (index % 8)) & 1;
}

/* ---- reading ----------------------------------------------------- */

/* How errors name a file: as the store sees it, not --store-root. */
static const char *shown(const struct fst_node *n)
{
	size_t skip = n->policy ? n->policy->shown_skip : 0;

	return strlen(n->src) > skip ? n->src + skip : n->src;
}

/*
 * XXH3 of the file's first and last SAMPLE_BYTES (the whole file when it
 * is smaller): files of equal size that differ almost always differ
 * there, so a full read is left for the byte-for-byte confirmation of
 * files that really match.
 */
static int sample_hash(const struct fst_node *n, char *buf, uint64_t *hash,
		       struct mk_err *e)
{
	int fd = fst_open(n);
	uint64_t head = n->size < 2 * SAMPLE_BYTES ? n->size : SAMPLE_BYTES;
	uint64_t tail = n->size - head < SAMPLE_BYTES ? n->size - head
						      : SAMPLE_BYTES;
	ssize_t got_head, got_tail = 0;
	int err;

	if (fd < 0)
		return mk_fail_errno(e, errno, "%s: cannot open", shown(n));
	got_head = pread(fd, buf, head, 0);
	if (got_head == (ssize_t)head && tail)
		got_tail = pread(fd, buf + head, tail, (off_t)(n->size - tail));
	err = errno;
	close(fd);
	if (got_head < 0 || got_tail < 0)
		return mk_fail_errno(e, err, "%s: cannot read", shown(n));
	if ((uint64_t)got_head != head || (uint64_t)got_tail != tail)
		return mk_fail(e, "%s: changed size while reading", shown(n));
	*hash = XXH3_64bits(buf, head + tail);
	return 0;
}

/* 1 when the two files hold the same bytes, 0 when not, -1 on error.
 * `a` is a host path shown as `a_shown`; `b` a node. */
static int same_bytes(const char *a, const char *a_shown,
		      const struct fst_node *b, char *bufa, char *bufb,
		      struct mk_err *e)
{
	int fa = open(a, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), fb = -1;
	int result = -1;
	long na, nb;

	if (fa < 0) {
		mk_fail_errno(e, errno, "%s: cannot open", a_shown);
		goto out;
	}
	fb = fst_open(b);
	if (fb < 0) {
		mk_fail_errno(e, errno, "%s: cannot open", shown(b));
		goto out;
	}
	do {
		na = mk_read_full(fa, bufa, COMPARE_CHUNK);
		if (na < 0) {
			mk_fail_errno(e, errno, "%s: cannot read", a_shown);
			goto out;
		}
		nb = mk_read_full(fb, bufb, COMPARE_CHUNK);
		if (nb < 0) {
			mk_fail_errno(e, errno, "%s: cannot read", shown(b));
			goto out;
		}
		if (na != nb || memcmp(bufa, bufb, (size_t)na) != 0) {
			result = 0;
			goto out;
		}
	} while (na > 0);
	result = 1;
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return result;
}

/* ---- grouping ------------------------------------------------------ */

static int add_link(struct dedup *d, uint32_t index, uint32_t owner,
		    struct mk_err *e)
{
	if (mk_grow(&d->links, &d->links_cap, d->nlinks, sizeof(*d->links)))
		return mk_fail(e, "out of memory");
	d->links[d->nlinks++] = (struct pair){ index, owner };
	return 0;
}

static int add_content(struct content **bucket, const struct fst_node *n, uint64_t hash, uint32_t index,
		       struct mk_err *e)
{
	struct content *c = calloc(1, sizeof(*c));

	if (!c || !(c->path = strdup(n->src))) {
		free(c);
		return mk_fail(e, "out of memory");
	}
	c->size = n->size;
	c->hash = hash;
	c->kind = n->mode;
	c->shown_skip = n->policy ? n->policy->shown_skip : 0;
	c->owner = index;
	c->nlink = 1;
	c->next = *bucket;
	*bucket = c;
	return 0;
}

struct resolve {
	struct dedup *d;
	uint64_t (*blocks_of)(uint64_t size);
	struct dedup_stats *stats;
	struct mk_err *e;
	uint64_t index;
};

/* Links candidate `n` to the first earlier file with its bytes, or
 * makes it the owner of a new content. */
static int group_file(struct resolve *r, const struct fst_node *n,
		      uint32_t index)
{
	struct dedup *d = r->d;
	struct content **bucket, *c;
	uint32_t kind = n->mode;
	uint64_t hash = 0;

	if (sample_hash(n, d->bufa, &hash, r->e))
		return -1;
	bucket = &d->buckets[(hash ^ n->size) & (d->nbuckets - 1)];
	for (c = *bucket; c; c = c->next) {
		int same;

		if (c->hash != hash || c->size != n->size || c->kind != kind)
			continue;
		same = same_bytes(c->path, c->path + c->shown_skip, n, d->bufa,
				  d->bufb, r->e);
		if (same < 0)
			return -1;
		if (same) {
			c->nlink++;
			r->stats->links++;
			r->stats->saved_bytes += n->size;
			r->stats->saved_blocks += r->blocks_of(n->size);
			return add_link(d, index, c->owner, r->e);
		}
	}
	return add_content(bucket, n, hash, index, r->e);
}

/* The second walk must meet the files the first one noted. */
static int same_as_noted(const struct resolve *r, const struct fst_node *n,
			 uint64_t index)
{
	const struct rec *rec = index < r->d->nrecs ? &r->d->recs[index] : NULL;

	if (rec && rec->size == n->size &&
	    rec->kind == (n->src ? n->mode : KIND_INLINE))
		return 0;
	return mk_fail(r->e, "%s: changed while being read",
		       n->src ? shown(n) : n->name);
}

static int resolve_node(struct fst_node *n, void *ctx)
{
	struct resolve *r = ctx;
	uint64_t index;

	if (n->kind != FST_FILE || n->size == 0)
		return 0;
	index = r->index++;
	if (same_as_noted(r, n, index))
		return -1;
	return is_candidate(r->d, index) ? group_file(r, n, (uint32_t)index)
					 : 0;
}

static int cmp_pair(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

/* Owners with more than one link, sorted; the contents are freed. */
static int collect_owners(struct dedup *d, struct mk_err *e)
{
	size_t b, n = 0;
	struct content *c;

	for (b = 0; b < d->nbuckets; b++)
		for (c = d->buckets[b]; c; c = c->next)
			n += c->nlink > 1;
	d->owners = malloc((n ? n : 1) * sizeof(*d->owners));
	if (!d->owners)
		return mk_fail(e, "out of memory");
	for (b = 0; b < d->nbuckets; b++)
		for (c = d->buckets[b]; c; c = c->next)
			if (c->nlink > 1)
				d->owners[d->nowners++] =
					(struct pair){ c->owner, c->nlink };
	if (d->nowners > 1)
		qsort(d->owners, d->nowners, sizeof(*d->owners), cmp_pair);
	free_contents(d);
	return 0;
}

int dedup_resolve(struct dedup *d, struct fst_node *root,
		  uint64_t (*blocks_of)(uint64_t size),
		  struct dedup_stats *stats, struct mk_err *e)
{
	struct resolve r = { d, blocks_of, stats, e, 0 };
	long ncand;

	memset(stats, 0, sizeof(*stats));
	ncand = mark_candidates(d, e);
	if (ncand < 0)
		return -1;
	/* Only candidates are read, so without any there is no walk. */
	if (ncand > 0 && fst_walk(root, resolve_node, &r, e))
		return -1;
	if (ncand > 0 && r.index != d->nrecs)
		return mk_fail(e, "the store changed while being read (%llu "
			       "files, then %llu)",
			       (unsigned long long)d->nrecs,
			       (unsigned long long)r.index);
	return collect_owners(d, e);
}

static const struct pair *find(const struct pair *v, size_t n, uint64_t index)
{
	struct pair key = { (uint32_t)index, 0 };

	return n ? bsearch(&key, v, n, sizeof(*v), cmp_pair) : NULL;
}

uint64_t dedup_owner(const struct dedup *d, uint64_t index, uint64_t size,
		     uint32_t *nlink)
{
	const struct pair *p;

	if (index >= d->nrecs || d->recs[index].size != size)
		return DEDUP_CHANGED;
	p = find(d->links, d->nlinks, index);
	if (p) {
		*nlink = 0;
		return p->value;
	}
	p = find(d->owners, d->nowners, index);
	*nlink = p ? p->value : 1;
	return index;
}
