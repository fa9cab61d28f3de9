#include "zpipe.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "parallel.h"
#include "util.h"
#include "zframe.h"
#include "zstream.h"

struct zworker {
	struct zpipe *z;
	ZSTD_CCtx *cctx;
	uint8_t *buf;        /* zframe_unit_max(), aligned */
	struct mk_err e;
};

struct zpipe {
	int image_fd;
	const char *shown;
	uint64_t size;
	size_t n;
	_Atomic uint32_t *gen;  /* writes landed in each chunk */
	uint32_t *done_gen;     /* gen[c] before its frame in the stream was
				   read */
	struct zstream *zs;
	struct zworker w[ZPIPE_WORKERS_MAX];
	unsigned workers;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	_Atomic size_t settled; /* chunks below this may be compressed */
	size_t next_take;       /* next chunk to compress */
	size_t next_emit;       /* next chunk to append to the stream */
	size_t early;
	int stop;               /* the background threads end */
	int failed;
	struct mk_err err;      /* the first failure */
	pthread_t threads[ZPIPE_WORKERS_MAX];
	unsigned running;
};

static uint64_t chunk_len(const struct zpipe *z, size_t c)
{
	uint64_t off = (uint64_t)c * ZFRAME_CHUNK;

	return z->size - off < ZFRAME_CHUNK ? z->size - off : ZFRAME_CHUNK;
}

void zpipe_landed(void *ctx, uint64_t off, uint64_t len)
{
	struct zpipe *z = ctx;
	size_t c, last;

	if (!len || off >= z->size)
		return;
	last = (size_t)((off + len - 1 < z->size ? off + len - 1
						 : z->size - 1) / ZFRAME_CHUNK);
	for (c = (size_t)(off / ZFRAME_CHUNK); c <= last; c++)
		atomic_fetch_add_explicit(&z->gen[c], 1, memory_order_release);
}

void zpipe_settled(struct zpipe *z, uint64_t below)
{
	size_t chunks = (size_t)(below / ZFRAME_CHUNK);

	if (below >= z->size)
		chunks = z->n;
	if (chunks <= atomic_load_explicit(&z->settled, memory_order_relaxed))
		return;
	pthread_mutex_lock(&z->lock);
	if (chunks > z->settled) {
		z->settled = chunks;
		pthread_cond_broadcast(&z->cond);
	}
	pthread_mutex_unlock(&z->lock);
}

/* ---- one chunk ---------------------------------------------------- */

/* Reads chunk c: *zero when all its bytes are zero (a hole is not
 * read); else, with `compress`, its frame into w->buf. */
static int read_chunk(struct zpipe *z, size_t c, struct zworker *w,
		      int compress, int *zero, size_t *flen)
{
	uint64_t off = (uint64_t)c * ZFRAME_CHUNK, len = chunk_len(z, c);
	off_t data = lseek(z->image_fd, (off_t)off, SEEK_DATA);
	void *p;
	int rc = 0;

	if (data < 0 && errno != ENXIO)
		return mk_fail_errno(&w->e, errno, "%s: cannot read the "
				     "image back", z->shown);
	*zero = 1;
	if (data < 0 || (uint64_t)data >= off + len)
		return 0;
	/* Mapped, not copied: the chunk is in the page cache. */
	p = mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED | MAP_POPULATE,
		 z->image_fd, (off_t)off);
	if (p == MAP_FAILED)
		return mk_fail_errno(&w->e, errno, "%s: cannot read the "
				     "image back", z->shown);
	*zero = mk_is_zero(p, (size_t)len);
	if (!*zero && compress)
		rc = zframe_compress(w->cctx, p, (size_t)len, w->buf, flen,
				     z->shown, &w->e);
	munmap(p, (size_t)len);
	return rc;
}

static void fail(struct zpipe *z, const struct mk_err *e)
{
	pthread_mutex_lock(&z->lock);
	if (!z->failed) {
		z->failed = 1;
		z->err = *e;
	}
	pthread_cond_broadcast(&z->cond);
	pthread_mutex_unlock(&z->lock);
}

/*
 * Compresses chunk c and appends it to the stream in its turn.  Its
 * generation is read before its bytes: a write landing after that
 * (while it is read, or later) makes the generations differ at the end,
 * and the chunk is compressed again.
 */
static int do_chunk(struct zpipe *z, size_t c, struct zworker *w)
{
	uint32_t g = atomic_load_explicit(&z->gen[c], memory_order_acquire);
	size_t flen = 0;
	int zero, rc = read_chunk(z, c, w, 1, &zero, &flen);

	if (rc) {
		fail(z, &w->e);
		return -1;
	}
	pthread_mutex_lock(&z->lock);
	while (z->next_emit != c && !z->failed)
		pthread_cond_wait(&z->cond, &z->lock);
	rc = z->failed ? -1 : 0;
	pthread_mutex_unlock(&z->lock);
	if (rc)
		return -1;
	/* Its turn: the stream is this thread's until next_emit moves. */
	rc = zstream_append(z->zs, zero ? NULL : w->buf, flen, &w->e);
	z->done_gen[c] = g;
	if (rc) {
		fail(z, &w->e);
		return -1;
	}
	pthread_mutex_lock(&z->lock);
	z->next_emit++;
	pthread_cond_broadcast(&z->cond);
	pthread_mutex_unlock(&z->lock);
	return 0;
}

/* ---- while the image is written ----------------------------------- */

/* The next settled chunk, or SIZE_MAX once told to stop. */
static size_t take_settled(struct zpipe *z)
{
	size_t c = SIZE_MAX;

	pthread_mutex_lock(&z->lock);
	while (!z->stop && !z->failed &&
	       (z->next_take >= z->n || z->next_take >= z->settled))
		pthread_cond_wait(&z->cond, &z->lock);
	if (!z->stop && !z->failed)
		c = z->next_take++;
	pthread_mutex_unlock(&z->lock);
	return c;
}

static void *background(void *arg)
{
	struct zworker *w = arg;
	struct zpipe *z = w->z;
	size_t c;

	while ((c = take_settled(z)) != SIZE_MAX) {
		if (do_chunk(z, c, w))
			break;
		pthread_mutex_lock(&z->lock);
		z->early++;
		pthread_mutex_unlock(&z->lock);
	}
	return NULL;
}

static void stop_background(struct zpipe *z)
{
	unsigned i, n;

	pthread_mutex_lock(&z->lock);
	z->stop = 1;
	pthread_cond_broadcast(&z->cond);
	pthread_mutex_unlock(&z->lock);
	n = z->running;
	for (i = 0; i < n; i++)
		pthread_join(z->threads[i], NULL);
	z->running = 0;
}

size_t zpipe_done(struct zpipe *z)
{
	size_t n;

	pthread_mutex_lock(&z->lock);
	n = z->next_emit;
	pthread_mutex_unlock(&z->lock);
	return n;
}

/* ---- at the end --------------------------------------------------- */

struct rest {
	struct zpipe *z;
	size_t first;
};

static int rest_item(void *ctx, size_t i, unsigned worker, struct mk_err *e)
{
	struct rest *r = ctx;

	(void)e; /* the first failure is r->z->err */
	return do_chunk(r->z, r->first + i, &r->z->w[worker]);
}

static int src_is_zero(void *ctx, size_t c, int *zero, struct mk_err *e)
{
	struct zpipe *z = ctx;
	size_t flen;

	if (read_chunk(z, c, &z->w[0], 0, zero, &flen)) {
		*e = z->w[0].e;
		return -1;
	}
	return 0;
}

static int src_frame(void *ctx, size_t c, void **frame, size_t *flen,
		     struct mk_err *e)
{
	struct zpipe *z = ctx;
	int zero;

	if (read_chunk(z, c, &z->w[0], 1, &zero, flen)) {
		*e = z->w[0].e;
		return -1;
	}
	if (zero)
		return mk_fail(e, "%s: zstd: chunk %zu changed while finishing",
			       z->shown, c);
	*frame = z->w[0].buf;
	return 0;
}

/* Chunks written after their frame was read. */
static uint8_t *changed_chunks(struct zpipe *z, size_t *count)
{
	uint8_t *changed = calloc(z->n, 1);
	size_t c;

	*count = 0;
	for (c = 0; changed && c < z->n; c++) {
		changed[c] = atomic_load_explicit(&z->gen[c],
						  memory_order_acquire) !=
			     z->done_gen[c];
		*count += changed[c];
	}
	return changed;
}

int zpipe_finish(struct zpipe *z, uint64_t *bytes, struct zpipe_stats *st,
		 struct mk_err *e)
{
	struct zstream_source src = { src_is_zero, src_frame, z };
	struct rest r = { z, 0 };
	struct mk_err ignored;
	uint8_t *changed;
	int rc;

	stop_background(z);
	memset(st, 0, sizeof(*st));
	st->chunks = z->n;
	st->early = z->early;
	if (z->failed) {
		*e = z->err;
		return -1;
	}
	r.first = z->next_take;
	z->next_take = z->n;
	if (mk_parallel_for(z->n - r.first, z->workers, rest_item, &r,
			    &ignored)) {
		*e = z->err;
		return -1;
	}
	if (!(changed = changed_chunks(z, &st->changed)))
		return mk_fail(e, "out of memory");
	rc = zstream_finish(z->zs, changed, &src, bytes, e);
	st->moved = zstream_moved(z->zs);
	free(changed);
	return rc;
}

/* ---- setting up --------------------------------------------------- */

static void start_threads(struct zpipe *z)
{
	unsigned i;

	/* Fewer threads (or none) only make it slower. */
	for (i = 0; i < z->workers; i++) {
		z->w[i].z = z;
		if (pthread_create(&z->threads[i], NULL, background, &z->w[i]))
			break;
	}
	z->running = i;
}

int zpipe_start(struct zpipe **out, int image_fd, int out_fd,
		const char *shown, uint64_t size, unsigned workers, int flags,
		struct mk_err *e)
{
	struct zpipe *z = calloc(1, sizeof(*z));
	unsigned i;

	*out = NULL;
	if (!z)
		return mk_fail(e, "out of memory");
	z->image_fd = image_fd;
	z->shown = shown;
	z->size = size;
	z->workers = workers < 1 ? 1
		     : workers > ZPIPE_WORKERS_MAX ? ZPIPE_WORKERS_MAX
						   : workers;
	pthread_mutex_init(&z->lock, NULL);
	pthread_cond_init(&z->cond, NULL);
	if (zstream_open(&z->zs, out_fd, shown, size, flags, e)) {
		zpipe_free(z);
		return -1;
	}
	z->n = zstream_chunks(z->zs);
	z->gen = calloc(z->n, sizeof(*z->gen));
	z->done_gen = calloc(z->n, sizeof(*z->done_gen));
	for (i = 0; i < z->workers; i++) {
		void *buf = NULL;

		if (posix_memalign(&buf, ZFRAME_ALIGN, zframe_unit_max()))
			buf = NULL;
		z->w[i].buf = buf;
		z->w[i].cctx = zframe_context();
		if (!buf || !z->w[i].cctx)
			break;
	}
	if (!z->gen || !z->done_gen || i < z->workers) {
		zpipe_free(z);
		return mk_fail(e, "out of memory");
	}
	start_threads(z);
	*out = z;
	return 0;
}

void zpipe_free(struct zpipe *z)
{
	unsigned i;

	if (!z)
		return;
	stop_background(z);
	for (i = 0; i < ZPIPE_WORKERS_MAX; i++) {
		ZSTD_freeCCtx(z->w[i].cctx);
		free(z->w[i].buf);
	}
	zstream_free(z->zs);
	free(z->gen);
	free(z->done_gen);
	pthread_mutex_destroy(&z->lock);
	pthread_cond_destroy(&z->cond);
	free(z);
}
