/*
 * test_zpipe.c - zpipe.c with its threads: an image written through
 * imgfile.c while zpipe watches gives, however its writes and the
 * compressing threads interleave, the same stream as the finished image
 * compressed afresh.  Chunks written again after they were compressed
 * (data over data, zeros over data, data into a hole) are found by
 * their generations and compressed again; a stale frame left in the
 * stream makes the bytes differ from the reference.  1, 2 and 4 threads
 * give the same bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "tmptree.h"

#include "imgfile.h"
#include "zframe.h"
#include "zpipe.h"

#define NCHUNKS 10
#define SIZE ((NCHUNKS - 1) * (uint64_t)ZFRAME_CHUNK + (1u << 20))
#define PIECE (256u << 10) /* bytes written at a time */

struct run {
	struct tmptree *t;
	struct zpipe *z;
	struct imgfile img;
	int out;
	uint8_t *piece;
};

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(i % 3 ? i >> 7 : seed >> 24);
	}
}

static void start(struct run *r, const char *name, unsigned workers)
{
	struct mk_err e = { "" };
	char out[64];
	int fd;

	snprintf(out, sizeof(out), "%s.zst", name);
	fd = open(tmptree_path(r->t, name), O_RDWR | O_CREAT | O_TRUNC, 0644);
	r->out = open(tmptree_path(r->t, out), O_RDWR | O_CREAT | O_TRUNC,
		      0644);
	assert_true(fd >= 0 && r->out >= 0);
	if (zpipe_start(&r->z, fd, r->out, out, SIZE, workers, 0, &e))
		fail_msg("%s", e.msg);
	r->img = (struct imgfile){ fd, zpipe_landed, r->z };
	r->piece = malloc(PIECE);
	assert_non_null(r->piece);
	assert_int_equal(imgfile_truncate(&r->img, SIZE), 0);
}

/* Writes `len` bytes at `off`: data from `seed`, or zeros (seed 0). */
static void put(struct run *r, uint64_t off, uint64_t len, uint32_t seed)
{
	while (len) {
		size_t n = len < PIECE ? (size_t)len : PIECE;

		if (seed)
			fill(r->piece, n, seed++);
		else
			memset(r->piece, 0, n);
		assert_int_equal(imgfile_pwrite(&r->img, r->piece, n, off), 0);
		off += n;
		len -= n;
	}
}

/* Finishes; the stream's bytes (*len of them) and counts. */
static uint8_t *finish(struct run *r, const char *name, size_t *len,
		       struct zpipe_stats *st)
{
	struct mk_err e = { "" };
	uint64_t bytes;
	uint8_t *z;
	char out[64];
	int fd;

	if (zpipe_finish(r->z, &bytes, st, &e))
		fail_msg("%s", e.msg);
	zpipe_free(r->z);
	close(r->out);
	close(r->img.fd);
	free(r->piece);
	*len = (size_t)bytes;
	z = malloc(*len);
	assert_non_null(z);
	snprintf(out, sizeof(out), "%s.zst", name);
	fd = open(tmptree_path(r->t, out), O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, 0, SEEK_END), (off_t)*len);
	assert_int_equal(pread(fd, z, *len, 0), (ssize_t)*len);
	close(fd);
	return z;
}

/* The final image: data in chunks 0-2 and 5, the 1 MiB last chunk, a
 * hole elsewhere, then the rewrites the tests make. */
static void write_final(struct run *r)
{
	put(r, 0, 3 * (uint64_t)ZFRAME_CHUNK, 10);
	put(r, 5 * (uint64_t)ZFRAME_CHUNK, ZFRAME_CHUNK, 50);
	put(r, (NCHUNKS - 1) * (uint64_t)ZFRAME_CHUNK, 1u << 20, 90);
}

static void rewrite(struct run *r)
{
	put(r, 1 * (uint64_t)ZFRAME_CHUNK + 4096, 8192, 777);  /* data */
	put(r, 2 * (uint64_t)ZFRAME_CHUNK, ZFRAME_CHUNK, 0);    /* zeros */
	put(r, 7 * (uint64_t)ZFRAME_CHUNK + (1u << 20), 4096, 555); /* hole */
}

/* Nothing compressed before the end: the stream of the final image. */
static uint8_t *reference(struct tmptree *t, size_t *len)
{
	struct run r = { .t = t };
	struct zpipe_stats st;
	uint8_t *z;

	start(&r, "ref", 2);
	write_final(&r);
	rewrite(&r);
	z = finish(&r, "ref", len, &st);
	assert_int_equal(st.early, 0);
	assert_int_equal(st.changed, 0);
	return z;
}

static void wait_done(struct zpipe *z, size_t chunks)
{
	struct timespec pause = { 0, 1000000 };
	int i;

	for (i = 0; i < 60000 && zpipe_done(z) < chunks; i++)
		nanosleep(&pause, NULL);
	assert_true(zpipe_done(z) >= chunks);
}

/* Every chunk compressed, then three rewritten: exactly those again. */
static void test_rewritten_after_compressing(void **state)
{
	struct run r = { .t = *state };
	struct zpipe_stats st;
	size_t want_len, len;
	uint8_t *want = reference(*state, &want_len), *z;

	start(&r, "late", 2);
	write_final(&r);
	zpipe_settled(r.z, SIZE);
	wait_done(r.z, NCHUNKS);
	rewrite(&r);
	z = finish(&r, "late", &len, &st);
	assert_int_equal(st.chunks, NCHUNKS);
	assert_int_equal(st.early, NCHUNKS);
	assert_int_equal(st.changed, 3);
	assert_int_equal(len, want_len);
	assert_memory_equal(z, want, want_len);
	free(z);
	free(want);
}

/* Writes racing the threads, settled a chunk at a time: any
 * interleaving gives the reference's bytes, on 1, 2 or 4 threads. */
static void test_racing_writes(void **state)
{
	static const unsigned workers[] = { 1, 2, 4, 2, 4 };
	struct zpipe_stats st;
	size_t want_len, len, i, c;
	uint8_t *want = reference(*state, &want_len), *z;

	for (i = 0; i < sizeof(workers) / sizeof(*workers); i++) {
		struct run r = { .t = *state };

		start(&r, "race", workers[i]);
		for (c = 0; c < NCHUNKS; c++) {
			zpipe_settled(r.z, c * (uint64_t)ZFRAME_CHUNK);
			if (c == 3)
				write_final(&r);
			if (c == 6)
				rewrite(&r);
		}
		z = finish(&r, "race", &len, &st);
		assert_int_equal(len, want_len);
		assert_memory_equal(z, want, want_len);
		free(z);
	}
	free(want);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tmptree_setup, \
					     tmptree_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_rewritten_after_compressing),
		T(test_racing_writes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
