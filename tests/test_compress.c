/*
 * test_compress.c - compress.c: which names ask for which stream; an
 * image given as data and holes comes back byte for byte from zlib's own
 * decoder; the gzip header has time 0, no name and the Unix OS byte.
 * (The .zst stream: test_zframe.c, test_zstream.c, test_zpipe.c; the
 * real `zstd -d` and `gzip -d` judge whole images in
 * tests/e2e/test_compressed.sh.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tmptree.h"

#include <zlib.h>

#include "compress.h"

#define SIZE (3u << 20)
#define HOLE_AT (1u << 20) /* a hole of 1.5 MiB from here */
#define HOLE_LEN (3u << 19)

static uint8_t image[SIZE]; /* made once, in main */

static void make_image(void)
{
	uint32_t x = 12345;
	size_t i;

	for (i = 0; i < SIZE; i++) {
		x = x * 1103515245u + 12345u;
		image[i] = (uint8_t)(i % 7 == 0 ? x >> 24 : i);
	}
	memset(image + HOLE_AT, 0, HOLE_LEN);
}

/* Compresses `image` into a file; returns its bytes (malloc'd). */
static uint8_t *compress_to(struct tmptree *t, size_t *len)
{
	struct compressor *c;
	struct ranges_sink s;
	struct mk_err e = { "" };
	uint64_t bytes;
	uint8_t *out;
	int fd = open(tmptree_path(t, "out"), O_RDWR | O_CREAT | O_TRUNC,
		      0644);

	assert_true(fd >= 0);
	assert_int_equal(compress_start(&c, fd, "out", &e), 0);
	s = compress_sink(c);
	assert_int_equal(s.data(s.ctx, 0, image, HOLE_AT, &e), 0);
	assert_int_equal(s.hole(s.ctx, HOLE_AT, HOLE_LEN, &e), 0);
	assert_int_equal(s.data(s.ctx, HOLE_AT + HOLE_LEN,
				image + HOLE_AT + HOLE_LEN,
				SIZE - HOLE_AT - HOLE_LEN, &e), 0);
	assert_int_equal(compress_finish(c, &bytes, &e), 0);
	compress_free(c);
	*len = (size_t)bytes;
	out = malloc(*len);
	assert_non_null(out);
	assert_int_equal(pread(fd, out, *len, 0), (ssize_t)*len);
	assert_int_equal(lseek(fd, 0, SEEK_END), (off_t)*len);
	close(fd);
	return out;
}

static void test_kind_of(void **state)
{
	(void)state;
	assert_int_equal(compress_kind_of("a/r2s.img.zst"), COMPRESS_ZSTD);
	assert_int_equal(compress_kind_of("r2s.img.gz"), COMPRESS_GZIP);
	assert_int_equal(compress_kind_of("r2s.img"), COMPRESS_NONE);
	assert_int_equal(compress_kind_of(".zst"), COMPRESS_NONE);
	assert_int_equal(compress_kind_of("r2s.zstd"), COMPRESS_NONE);
	assert_true(compress_workers(0) >= 1);
	assert_int_equal(compress_workers(1000), MKR2SIMG_THREADS_MAX);
}

static void test_gzip(void **state)
{
	static uint8_t back[SIZE + 1];
	z_stream zs;
	size_t len;
	uint8_t *g;

	g = compress_to(*state, &len);
	/* RFC 1952: 1f 8b, deflate, no flags (no name), time 0, XFL, OS */
	assert_memory_equal(g, "\x1f\x8b\x08\x00\x00\x00\x00\x00", 8);
	assert_int_equal(g[9], COMPRESS_GZIP_OS_UNIX);
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
	zs.next_in = g;
	zs.avail_in = (uInt)len;
	zs.next_out = back;
	zs.avail_out = sizeof(back);
	assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
	assert_int_equal(zs.total_out, SIZE);
	assert_int_equal(zs.avail_in, 0);
	inflateEnd(&zs);
	assert_memory_equal(back, image, SIZE);
	free(g);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tmptree_setup, \
					     tmptree_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_of),
		T(test_gzip),
	};

	make_image();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
