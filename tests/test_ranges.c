/*
 * test_ranges.c - ranges.c: a sparse file read back once as pieces that
 * cover it in order, data ranges in whole 4096-byte blocks (a few bytes
 * written inside a block make the whole block data), holes given by
 * length, data bytes as in the file, every sink given the same, a sink's
 * error stopping the read, a file of the wrong size refused.  Needs a
 * temporary folder on a filesystem that allocates in 4 KiB blocks (ext4,
 * tmpfs); ranges.c's widening of finer ranges (1 KiB-block ext4) is not
 * exercised here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tmptree.h"

#include "ranges.h"

#define BLK RANGES_BLOCK
#define SIZE (16 * BLK)
#define MAX_PIECES 16

struct piece {
	int is_data;
	uint64_t off, len;
};

struct record {
	struct piece p[MAX_PIECES];
	size_t n;
	uint8_t image[SIZE]; /* the bytes the pieces give */
	int fail_at_data;    /* 1: the first data piece fails */
};

/* Consecutive pieces of one kind are one. */
static void add(struct record *r, int is_data, uint64_t off, uint64_t len)
{
	if (r->n && r->p[r->n - 1].is_data == is_data &&
	    r->p[r->n - 1].off + r->p[r->n - 1].len == off) {
		r->p[r->n - 1].len += len;
		return;
	}
	assert_true(r->n < MAX_PIECES);
	r->p[r->n++] = (struct piece){ is_data, off, len };
}

static int on_data(void *ctx, uint64_t off, const void *buf, size_t len,
		   struct mk_err *e)
{
	struct record *r = ctx;

	if (r->fail_at_data)
		return mk_fail(e, "sink refused");
	assert_true(off + len <= SIZE);
	memcpy(r->image + off, buf, len);
	add(r, 1, off, len);
	return 0;
}

static int on_hole(void *ctx, uint64_t off, uint64_t len, struct mk_err *e)
{
	struct record *r = ctx;

	(void)e;
	assert_true(off + len <= SIZE);
	memset(r->image + off, 0, len);
	add(r, 0, off, len);
	return 0;
}

/* A SIZE-byte file: 100 bytes at 0, one block at block 3, 5 bytes at
 * block 10 + 5, the last block; the rest holes. */
static int make_image(struct tmptree *t, uint8_t want[SIZE])
{
	int fd = open(tmptree_path(t, "img"), O_RDWR | O_CREAT, 0644);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, SIZE), 0);
	memset(want, 0, SIZE);
	memset(want, 'a', 100);
	memset(want + 3 * BLK, 'b', BLK);
	memset(want + 10 * BLK + 5, 'c', 5);
	memset(want + 15 * BLK, 'd', BLK);
	assert_int_equal(pwrite(fd, want, 100, 0), 100);
	assert_int_equal(pwrite(fd, want + 3 * BLK, BLK, 3 * BLK), BLK);
	assert_int_equal(pwrite(fd, want + 10 * BLK + 5, 5, 10 * BLK + 5), 5);
	assert_int_equal(pwrite(fd, want + 15 * BLK, BLK, 15 * BLK), BLK);
	return fd;
}

static void test_pieces(void **state)
{
	static struct record r, r2;
	static uint8_t want[SIZE];
	static const struct piece expect[] = {
		{ 1, 0, BLK }, { 0, BLK, 2 * BLK }, { 1, 3 * BLK, BLK },
		{ 0, 4 * BLK, 6 * BLK }, { 1, 10 * BLK, BLK },
		{ 0, 11 * BLK, 4 * BLK }, { 1, 15 * BLK, BLK },
	};
	struct ranges_sink sinks[2] = { { on_data, on_hole, &r },
					{ on_data, on_hole, &r2 } };
	struct mk_err e = { "" };
	int fd = make_image(*state, want);
	size_t i;

	memset(&r, 0, sizeof(r));
	memset(&r2, 0, sizeof(r2));
	assert_int_equal(ranges_read(fd, SIZE, "img", sinks, 2, &e), 0);
	assert_int_equal(r.n, sizeof(expect) / sizeof(expect[0]));
	for (i = 0; i < r.n; i++) {
		assert_int_equal(r.p[i].is_data, expect[i].is_data);
		assert_int_equal(r.p[i].off, expect[i].off);
		assert_int_equal(r.p[i].len, expect[i].len);
	}
	assert_memory_equal(r.image, want, SIZE);
	assert_memory_equal(r2.image, want, SIZE); /* every sink, the same */
	close(fd);
}

static void test_sink_error(void **state)
{
	static struct record r;
	static uint8_t want[SIZE];
	struct ranges_sink sink = { on_data, on_hole, &r };
	struct mk_err e = { "" };
	int fd = make_image(*state, want);

	memset(&r, 0, sizeof(r));
	r.fail_at_data = 1;
	assert_int_equal(ranges_read(fd, SIZE, "img", &sink, 1, &e), -1);
	assert_string_equal(e.msg, "sink refused");
	close(fd);
}

/* A file of another size than it is read as: an error naming it, before
 * any piece. */
static void test_short_file(void **state)
{
	static struct record r;
	static uint8_t want[SIZE];
	struct ranges_sink sink = { on_data, on_hole, &r };
	struct mk_err e = { "" };
	int fd = make_image(*state, want);

	memset(&r, 0, sizeof(r));
	assert_int_equal(ranges_read(fd, SIZE + BLK, "img", &sink, 1, &e), -1);
	assert_string_equal(e.msg, "img: the image is 65536 bytes, not 69632");
	assert_int_equal(r.n, 0);
	close(fd);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tmptree_setup, \
					     tmptree_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_pieces),
		T(test_sink_error),
		T(test_short_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
