/*
 * test_zstream.c - zstream.c: the stream of an image appended chunk by
 * chunk gives the image back through libzstd's decoder, each unit (a
 * data chunk, a run of zero chunks) padded to a 4 KiB boundary; and
 * when chunks change after they were appended (data to other data, zero
 * to data in the middle of a run, data to zero between runs, the short
 * last chunk, one marked but unchanged), the mended stream is byte for
 * byte the one the changed image gives when appended afresh: with the
 * filesystem shifting the stream's end (where it can: checked), and
 * moving it in place, with and without O_DIRECT.  A stale frame left in
 * place, or a unit joined or split wrongly, makes the bytes differ.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tmptree.h"

#include <zstd.h>

#include "ci_skip.h"
#include "util.h"
#include "zframe.h"
#include "zstream.h"

#define NCHUNKS 12
#define SIZE ((NCHUNKS - 1) * (uint64_t)ZFRAME_CHUNK + (2u << 20))
#define BEFORE "ZDZZZDZDDDDD" /* chunk kinds: data, zero */
#define AFTER "DDZDZZZDZDZD"
/* Chunks marked changed: 0 Z->D (what follows moves up), 2 Z marked but
 * the same, 3 Z->D (splits 2-4), 5 D->Z (joins 4-6), 7 D->other D,
 * 8 D->Z, 10 D->Z (the short last chunk after it moves down). */
static const uint8_t changed[NCHUNKS] = { 1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0 };

struct img {
	uint8_t *p;
	ZSTD_CCtx *c;
	uint8_t *buf; /* a frame, aligned */
};

static uint64_t chunk_len(size_t c)
{
	return c == NCHUNKS - 1 ? SIZE - c * (uint64_t)ZFRAME_CHUNK
				: ZFRAME_CHUNK;
}

/* An image whose chunk c is zero or data (from seed + c) as kinds[c]. */
static void make(struct img *im, const char *kinds, uint32_t seed)
{
	size_t c, i;
	void *buf = NULL;

	im->p = calloc(1, SIZE);
	assert_non_null(im->p);
	for (c = 0; c < NCHUNKS; c++) {
		uint8_t *q = im->p + c * (uint64_t)ZFRAME_CHUNK;
		uint32_t x = seed + (uint32_t)c;

		for (i = 0; kinds[c] == 'D' && i < chunk_len(c); i++) {
			x = x * 1103515245u + 12345u;
			q[i] = (uint8_t)(i % 3 ? i >> 8 : x >> 24);
		}
	}
	im->c = zframe_context();
	assert_non_null(im->c);
	assert_int_equal(posix_memalign(&buf, ZFRAME_ALIGN, zframe_unit_max()),
			 0);
	im->buf = buf;
}

static void drop(struct img *im)
{
	free(im->p);
	ZSTD_freeCCtx(im->c);
	free(im->buf);
}

static const uint8_t *at(const struct img *im, size_t c)
{
	return im->p + c * (uint64_t)ZFRAME_CHUNK;
}

static int src_is_zero(void *ctx, size_t c, int *zero, struct mk_err *e)
{
	(void)e;
	*zero = mk_is_zero(at(ctx, c), (size_t)chunk_len(c));
	return 0;
}

static int src_frame(void *ctx, size_t c, void **frame, size_t *flen,
		     struct mk_err *e)
{
	struct img *im = ctx;

	*frame = im->buf;
	return zframe_compress(im->c, at(im, c), (size_t)chunk_len(c), im->buf,
			       flen, "out", e);
}

/* A stream of `a` in file `name`, every chunk appended. */
static struct zstream *append_all(struct tmptree *t, const char *name,
				  struct img *a, int flags, int *fd)
{
	struct mk_err e = { "" };
	struct zstream *zs;
	size_t c, flen;
	int zero;

	*fd = open(tmptree_path(t, name), O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(*fd >= 0);
	if (zstream_open(&zs, *fd, name, SIZE, flags, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(zstream_chunks(zs), NCHUNKS);
	for (c = 0; c < NCHUNKS; c++) {
		void *frame = NULL;

		assert_int_equal(zstream_next(zs), c);
		src_is_zero(a, c, &zero, &e);
		if (!zero)
			assert_int_equal(src_frame(a, c, &frame, &flen, &e), 0);
		if (zstream_append(zs, frame, flen, &e))
			fail_msg("%s", e.msg);
	}
	return zs;
}

/* Finishes (with `now` for the changed chunks) and reads the stream. */
static uint8_t *finish(struct tmptree *t, const char *name,
		       struct zstream *zs, int fd, const uint8_t *marks,
		       struct img *now, size_t *len)
{
	struct zstream_source src = { src_is_zero, src_frame, now };
	struct mk_err e = { "" };
	uint64_t bytes;
	uint8_t *out;
	int rfd;

	if (zstream_finish(zs, marks, &src, &bytes, &e))
		fail_msg("%s", e.msg);
	close(fd);
	rfd = open(tmptree_path(t, name), O_RDONLY);
	assert_true(rfd >= 0);
	assert_int_equal(lseek(rfd, 0, SEEK_END), (off_t)bytes);
	*len = (size_t)bytes;
	out = malloc(*len);
	assert_non_null(out);
	assert_int_equal(pread(rfd, out, *len, 0), (ssize_t)*len);
	close(rfd);
	return out;
}

static uint8_t *clean(struct tmptree *t, struct img *im, size_t *len)
{
	static const uint8_t none[NCHUNKS];
	int fd;
	struct zstream *zs = append_all(t, "clean", im, 0, &fd);
	uint8_t *out = finish(t, "clean", zs, fd, none, im, len);

	zstream_free(zs);
	return out;
}

static void test_clean_stream(void **state)
{
	struct img a;
	uint8_t *z, *back = malloc(SIZE + 1);
	size_t len, pos = 0, n, skippable = 0;

	make(&a, BEFORE, 1);
	assert_non_null(back);
	z = clean(*state, &a, &len);
	n = ZSTD_decompress(back, SIZE + 1, z, len);
	assert_false(ZSTD_isError(n));
	assert_int_equal(n, SIZE);
	assert_memory_equal(back, a.p, SIZE);
	/* Units: Z, D, ZZZ, D, Z, D, D, D, D, D; each padded to a block
	 * boundary. */
	while (pos < len) {
		size_t f = ZSTD_findFrameCompressedSize(z + pos, len - pos);

		assert_false(ZSTD_isError(f));
		if ((z[pos] & 0xF0) == 0x50 && z[pos + 1] == 0x2A &&
		    z[pos + 2] == 0x4D && z[pos + 3] == 0x18) {
			skippable++;
			assert_int_equal((pos + f) % ZFRAME_ALIGN, 0);
		}
		pos += f;
	}
	assert_int_equal(pos, len);
	assert_int_equal(len % ZFRAME_ALIGN, 0);
	assert_int_equal(skippable, 10);
	free(z);
	free(back);
	drop(&a);
}

/* The stream of BEFORE, mended with AFTER, is AFTER's stream. */
static void mend(struct tmptree *t, int flags, int want_moved)
{
	struct img a, b;
	struct zstream *zs;
	uint8_t *want, *got;
	size_t want_len, got_len;
	size_t c;
	int fd;

	make(&a, BEFORE, 1);
	make(&b, AFTER, 2);
	/* What is not marked is the same, and chunk 2 is though marked. */
	for (c = 0; c < NCHUNKS; c++)
		if (!changed[c] || c == 2)
			memcpy(b.p + c * (uint64_t)ZFRAME_CHUNK, at(&a, c),
			       (size_t)chunk_len(c));
	want = clean(t, &b, &want_len);
	zs = append_all(t, "mended", &a, flags, &fd);
	got = finish(t, "mended", zs, fd, changed, &b, &got_len);
	if (want_moved >= 0)
		assert_int_equal(zstream_moved(zs), want_moved);
	zstream_free(zs);
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, want_len);
	free(want);
	free(got);
	drop(&a);
	drop(&b);
}

static void test_mend(void **state)
{
	mend(*state, 0, -1);
}

static void test_mend_moving(void **state)
{
	mend(*state, ZSTREAM_NO_SHIFT, 1);
	mend(*state, ZSTREAM_NO_SHIFT | ZSTREAM_NO_DIRECT, 1);
}

/* Where the filesystem shifts ranges (ext4, XFS), it does the moving. */
static void test_mend_shifting(void **state)
{
	struct tmptree *t = *state;
	int fd = open(tmptree_path(t, "probe"), O_RDWR | O_CREAT, 0644);
	int ok;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4 * ZFRAME_ALIGN), 0);
	ok = fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, ZFRAME_ALIGN) == 0;
	close(fd);
	if (!ok)
		skip_unless_ci("the filesystem of /tmp cannot insert ranges");
	mend(t, 0, 0);
	mend(t, ZSTREAM_NO_DIRECT, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tmptree_setup, \
					     tmptree_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_clean_stream),
		T(test_mend),
		T(test_mend_moving),
		T(test_mend_shifting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
