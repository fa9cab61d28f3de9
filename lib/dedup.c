#include "dedup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "parallel.h"
#include "util.h"

#define COMPARE_CHUNK (256u * 1024u)
#define SAMPLE_BYTES 4096u /* hashed at each end of a candidate */
#define KIND_INLINE 0x10000u /* content from memory: never grouped */

/* One regular file of the first walk. */
struct rec {
	uint64_t size;
	uint32_t index;
	uint32_t kind; /* the mode bits, or KIND_INLINE */
};

/* A candidate after the sampling walk: its sample hash. */
struct sample {
	uint64_t hash;
	uint32_t index;
};

/* A file whose sample matches another's: the XXH3-128 of all its bytes,
 * and its host path for the byte comparison. */
struct suspect {
	XXH128_hash_t hash;
	uint32_t index;
	size_t shown_skip; /* errors leave out this many bytes of `path` */
	const char *path;  /* in the filelist */
};

struct pair {
	uint32_t index, value; /* link: owner index; owner: nlink */
};

struct dedup {
	uint32_t max_links;    /* links one inode may have */
	struct rec *recs;      /* every regular file, by index */
	size_t nrecs, cap;
	const struct filelist *files; /* their paths, while resolving */
	uint8_t *cand;         /* bit per index: shares size and mode */
	struct sample *samples;
	size_t nsamples;
	uint8_t *suspect;      /* bit per index: shares a sample too */
	struct suspect *suspects; /* by index */
	size_t nsuspects;
	struct pair *links, *owners; /* both sorted by index */
	size_t nlinks, nowners, links_cap, owners_cap;
	char *bufs[MK_PARALLEL_IO_THREADS]; /* COMPARE_CHUNK each */
};

struct dedup *dedup_new(uint32_t max_links)
{
	struct dedup *d = max_links ? calloc(1, sizeof(struct dedup)) : NULL;

	if (d)
		d->max_links = max_links;
	return d;
}

static void free_suspects(struct dedup *d)
{
	free(d->suspects);
	d->suspects = NULL;
	d->nsuspects = 0;
}

void dedup_free(struct dedup *d)
{
	size_t i;

	if (!d)
		return;
	free_suspects(d);
	free(d->recs);
	free(d->cand);
	free(d->samples);
	free(d->suspect);
	free(d->links);
	free(d->owners);
	for (i = 0; i < MK_PARALLEL_IO_THREADS; i++)
		free(d->bufs[i]);
	free(d);
}

int dedup_note(struct dedup *d, const struct fst_node *n, struct mk_err *e)
{
	if (n->kind != FST_FILE)
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
		/* Empty files never share an inode: nothing to save. */
		if (i - start < 2 || d->recs[start].kind == KIND_INLINE ||
		    d->recs[start].size == 0)
			continue;
		for (size_t k = start; k < i; k++) {
			uint32_t x = d->recs[k].index;
			d->cand[x / 8] |= (uint8_t)(1u << (x % 8));
			ncand++;
		}
	}
	/* Back in walk order: later walks check they meet the same files. */
	if (d->nrecs > 1)
		qsort(d->recs, d->nrecs, sizeof(*d->recs), cmp_index);
	d->suspect = calloc(d->nrecs / 8 + 1, 1);
	if (!d->suspect)
		return mk_fail(e, "out of memory");
	for (i = 0; i < MK_PARALLEL_IO_THREADS; i++)
		if (!(d->bufs[i] = malloc(COMPARE_CHUNK)))
			return mk_fail(e, "out of memory");
	return (long)ncand;
}

static int bit(const uint8_t *bits, uint64_t index)
{
	return (bits[index / 8] >> (index % 8)) & 1;
}

/* ---- reading ----------------------------------------------------- */

static const char *shown(const struct dedup *d, const struct rec *r)
{
	return filelist_shown(d->files, r->index);
}

static int open_rec(const struct dedup *d, const struct rec *r,
		    struct mk_err *e)
{
	return mk_open_regular(AT_FDCWD, filelist_path(d->files, r->index),
			       shown(d, r), e);
}

/*
 * XXH3 of the file's first and last SAMPLE_BYTES (the whole file when it
 * is smaller): files of equal size that differ almost always differ
 * there, so a full read is left for the byte-for-byte confirmation of
 * files that really match.
 */
static int sample_hash(const struct dedup *d, const struct rec *r, char *buf,
		       uint64_t *hash, struct mk_err *e)
{
	int fd = open_rec(d, r, e);
	uint64_t head = r->size < 2 * SAMPLE_BYTES ? r->size : SAMPLE_BYTES;
	uint64_t tail = r->size - head < SAMPLE_BYTES ? r->size - head
						      : SAMPLE_BYTES;
	ssize_t got_head, got_tail = 0;
	int err;

	if (fd < 0)
		return -1;
	got_head = pread(fd, buf, head, 0);
	if (got_head == (ssize_t)head && tail)
		got_tail = pread(fd, buf + head, tail, (off_t)(r->size - tail));
	err = errno;
	close(fd);
	if (got_head < 0 || got_tail < 0)
		return mk_fail_errno(e, err, "%s: cannot read", shown(d, r));
	if ((uint64_t)got_head != head || (uint64_t)got_tail != tail)
		return mk_fail(e, "%s: changed size while reading", shown(d, r));
	*hash = XXH3_64bits(buf, head + tail);
	return 0;
}

static int open_suspect(const struct suspect *f, struct mk_err *e)
{
	return mk_open_regular(AT_FDCWD, f->path, f->path + f->shown_skip, e);
}

static long read_suspect(const struct suspect *f, int fd, char *buf,
			 struct mk_err *e)
{
	long n = mk_read_full(fd, buf, COMPARE_CHUNK);

	if (n < 0)
		mk_fail_errno(e, errno, "%s: cannot read",
			      f->path + f->shown_skip);
	return n;
}

/* 1 when the two files hold the same bytes, 0 when not, -1 on error. */
static int same_bytes(const struct suspect *a, const struct suspect *b,
		      char *bufa, char *bufb, struct mk_err *e)
{
	int fa = open_suspect(a, e), fb = fa < 0 ? -1 : open_suspect(b, e);
	int result = -1;
	long na, nb;

	while (fa >= 0 && fb >= 0) {
		na = read_suspect(a, fa, bufa, e);
		nb = na < 0 ? -1 : read_suspect(b, fb, bufb, e);
		if (nb < 0)
			break;
		if (na != nb || memcmp(bufa, bufb, (size_t)na) != 0) {
			result = 0;
			break;
		}
		if (na == 0) {
			result = 1;
			break;
		}
	}
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return result;
}

/* XXH3-128 of all of a suspect's bytes, read once. */
static int full_hash(const struct suspect *f, uint64_t size, char *buf,
		     XXH128_hash_t *hash, struct mk_err *e)
{
	XXH3_state_t st; /* XXH_INLINE_ALL: no allocation needed */
	int fd = open_suspect(f, e);
	uint64_t total = 0;
	long n = 0;

	if (fd < 0)
		return -1;
	XXH3_INITSTATE(&st);
	XXH3_128bits_reset(&st);
	while ((n = read_suspect(f, fd, buf, e)) > 0) {
		XXH3_128bits_update(&st, buf, (size_t)n);
		total += (uint64_t)n;
	}
	close(fd);
	*hash = XXH3_128bits_digest(&st);
	if (n < 0)
		return -1;
	if (total != size)
		return mk_fail(e, "%s: changed size while reading",
			       f->path + f->shown_skip);
	return 0;
}

/* ---- grouping ------------------------------------------------------ */

struct resolve {
	struct dedup *d;
	uint64_t (*blocks_of)(uint64_t size);
	struct dedup_stats *stats;
	struct mk_err *e;
};

/* Candidates are read on several threads: a cold store answers many
 * small reads in flight far faster than one after another.  Each item
 * fills its own slot, so the outcome is the same on any machine. */
static int sample_item(void *ctx, size_t k, unsigned worker, struct mk_err *e)
{
	struct dedup *d = ctx;
	struct sample *s = &d->samples[k];

	return sample_hash(d, &d->recs[s->index], d->bufs[worker], &s->hash, e);
}

static int sample_candidates(struct dedup *d, size_t ncand, struct mk_err *e)
{
	size_t i;

	d->samples = malloc(ncand * sizeof(*d->samples));
	if (!d->samples)
		return mk_fail(e, "out of memory");
	for (i = 0; i < d->nrecs; i++)
		if (bit(d->cand, i))
			d->samples[d->nsamples++] = (struct sample){ 0,
								    (uint32_t)i };
	return mk_parallel_for(d->nsamples, MK_PARALLEL_IO_THREADS,
			       sample_item, d, e);
}

static int hash_item(void *ctx, size_t k, unsigned worker, struct mk_err *e)
{
	struct dedup *d = ctx;
	struct suspect *f = &d->suspects[k];

	return full_hash(f, d->recs[f->index].size, d->bufs[worker], &f->hash,
			 e);
}

static int hash_suspects(struct dedup *d, size_t nsuspects, struct mk_err *e)
{
	size_t i;

	d->suspects = malloc(nsuspects * sizeof(*d->suspects));
	if (!d->suspects)
		return mk_fail(e, "out of memory");
	for (i = 0; i < d->nrecs; i++) {
		const char *path = filelist_path(d->files, i);

		if (bit(d->suspect, i))
			d->suspects[d->nsuspects++] = (struct suspect){
				.index = (uint32_t)i,
				.shown_skip = (size_t)(filelist_shown(d->files, i) -
						       path),
				.path = path };
	}
	return mk_parallel_for(d->nsuspects, MK_PARALLEL_IO_THREADS,
			       hash_item, d, e);
}

/* Files ordered by size, then mode: what every grouping sorts by first. */
static int cmp_size_kind(const struct rec *recs, uint32_t a, uint32_t b)
{
	const struct rec *rx = &recs[a], *ry = &recs[b];

	if (rx->size != ry->size)
		return rx->size < ry->size ? -1 : 1;
	if (rx->kind != ry->kind)
		return rx->kind < ry->kind ? -1 : 1;
	return 0;
}

/* Same size, mode and sample hash; then walk order. */
static int cmp_sample(const void *a, const void *b, void *ctx)
{
	const struct sample *x = a, *y = b;
	int c = cmp_size_kind(ctx, x->index, y->index);

	if (c)
		return c;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int same_key(const struct dedup *d, const struct sample *x,
		    const struct sample *y)
{
	return x->hash == y->hash &&
	       cmp_size_kind(d->recs, x->index, y->index) == 0;
}

/* Sorts the samples into runs of equal key and marks every file of a
 * run of two or more as a suspect; returns how many. */
static size_t mark_suspects(struct dedup *d)
{
	size_t i, start, n = 0;

	if (d->nsamples > 1)
		qsort_r(d->samples, d->nsamples, sizeof(*d->samples),
			cmp_sample, d->recs);
	for (start = 0; start < d->nsamples; start = i) {
		for (i = start + 1; i < d->nsamples &&
		     same_key(d, &d->samples[i], &d->samples[start]); i++)
			;
		for (size_t k = start; i - start > 1 && k < i; k++) {
			uint32_t x = d->samples[k].index;
			d->suspect[x / 8] |= (uint8_t)(1u << (x % 8));
			n++;
		}
	}
	return n;
}

static int add_pair(struct pair **v, size_t *n, size_t *cap, uint32_t index,
		    uint32_t value, struct mk_err *e)
{
	if (mk_grow(v, cap, *n, sizeof(**v)))
		return mk_fail(e, "out of memory");
	(*v)[(*n)++] = (struct pair){ index, value };
	return 0;
}

/* Size, mode and full hash; then walk order. */
static int cmp_full(const void *a, const void *b, void *ctx)
{
	const struct suspect *x = a, *y = b;
	int c = cmp_size_kind(ctx, x->index, y->index);

	if (c)
		return c;
	if (x->hash.high64 != y->hash.high64)
		return x->hash.high64 < y->hash.high64 ? -1 : 1;
	if (x->hash.low64 != y->hash.low64)
		return x->hash.low64 < y->hash.low64 ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int same_full(const struct dedup *d, const struct suspect *x,
		     const struct suspect *y)
{
	return XXH128_isEqual(x->hash, y->hash) &&
	       cmp_size_kind(d->recs, x->index, y->index) == 0;
}

static int link_to(struct resolve *r, uint32_t index, uint32_t owner)
{
	uint64_t size = r->d->recs[index].size;

	r->stats->links++;
	r->stats->saved_bytes += size;
	r->stats->saved_blocks += r->blocks_of(size);
	return add_pair(&r->d->links, &r->d->nlinks, &r->d->links_cap, index,
			owner, r->e);
}

/* An owner of a run being grouped: where it is in the run, its links. */
struct open_owner {
	size_t at;
	uint32_t nlink;
};

static int close_owner(struct resolve *r, const struct suspect *run,
		       const struct open_owner *o)
{
	struct dedup *d = r->d;

	if (o->nlink < 2)
		return 0;
	return add_pair(&d->owners, &d->nowners, &d->owners_cap,
			run[o->at].index, o->nlink, r->e);
}

/*
 * One run of suspects with one full hash, in walk order (nearly always
 * one content): each file is confirmed byte for byte against the run's
 * owners that still have room and linked to the first with its bytes,
 * or becomes an owner itself.  An owner closes at max_links, so the next
 * identical file starts a new inode.  `open` is scratch, as long as the
 * run.
 */
static int group_run(struct resolve *r, const struct suspect *run, size_t n,
		     struct open_owner *open)
{
	struct dedup *d = r->d;
	size_t i, k, nopen = 0;

	for (i = 0; i < n; i++) {
		int same = 0;

		for (k = 0; k < nopen && !same; k++)
			same = same_bytes(&run[open[k].at], &run[i], d->bufs[0],
					  d->bufs[1], r->e);
		if (same < 0)
			return -1;
		if (!same) {
			open[nopen++] = (struct open_owner){ i, 1 };
			continue;
		}
		k--;
		if (link_to(r, run[i].index, run[open[k].at].index))
			return -1;
		if (++open[k].nlink < d->max_links)
			continue;
		if (close_owner(r, run, &open[k]))
			return -1;
		open[k] = open[--nopen]; /* order among owners is not used */
	}
	for (k = 0; k < nopen; k++)
		if (close_owner(r, run, &open[k]))
			return -1;
	return 0;
}

static int cmp_pair(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

static int group_suspects(struct resolve *r)
{
	struct dedup *d = r->d;
	struct open_owner *open = malloc((d->nsuspects + 1) * sizeof(*open));
	size_t i, start;
	int rc = open ? 0 : mk_fail(r->e, "out of memory");

	if (d->nsuspects > 1)
		qsort_r(d->suspects, d->nsuspects, sizeof(*d->suspects),
			cmp_full, d->recs);
	for (start = 0; rc == 0 && start < d->nsuspects; start = i) {
		for (i = start + 1; i < d->nsuspects &&
		     same_full(d, &d->suspects[i], &d->suspects[start]); i++)
			;
		if (i - start > 1)
			rc = group_run(r, d->suspects + start, i - start, open);
	}
	free(open);
	if (d->nlinks > 1)
		qsort(d->links, d->nlinks, sizeof(*d->links), cmp_pair);
	if (d->nowners > 1)
		qsort(d->owners, d->nowners, sizeof(*d->owners), cmp_pair);
	return rc;
}

int dedup_resolve(struct dedup *d, const struct filelist *files,
		  uint64_t (*blocks_of)(uint64_t size),
		  struct dedup_stats *stats, struct mk_err *e)
{
	struct resolve r = { d, blocks_of, stats, e };
	size_t nsuspects;
	long ncand;

	memset(stats, 0, sizeof(*stats));
	if (files->count != d->nrecs)
		return mk_fail(e, "dedup_resolve: %zu files listed, %zu noted",
			       files->count, d->nrecs);
	d->files = files;
	ncand = mark_candidates(d, e);
	if (ncand <= 0)
		return (int)ncand;
	/* Each step reads only what the last one left in doubt. */
	if (sample_candidates(d, (size_t)ncand, e))
		return -1;
	nsuspects = mark_suspects(d);
	/* Grouping goes by the suspects' whole-file hashes from here on. */
	free(d->samples);
	d->samples = NULL;
	d->nsamples = 0;
	if (nsuspects == 0)
		return 0;
	if (hash_suspects(d, nsuspects, e) || group_suspects(&r))
		return -1;
	free_suspects(d);
	return 0;
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
