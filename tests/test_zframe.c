/*
 * test_zframe.c - zframe.c: a chunk's frame holds its size and an XXH64
 * checksum and gives the chunk back through libzstd's own decoder, with
 * the padding after it; the same chunk gives the same bytes from a fresh
 * context and from one that compressed other chunks before; padding
 * makes a unit end on a 4 KiB boundary, as a skippable frame of at
 * least its 8-byte header.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_getFrameHeader */
#include <zstd.h>

#include "zframe.h"

#define LEN (ZFRAME_CHUNK / 4 * 3) /* shorter than a chunk, as the last */

static uint8_t *chunk(uint32_t seed, size_t len)
{
	uint8_t *p = malloc(len);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(i % 5 ? i / 64 : seed >> 24); /* compressible */
	}
	return p;
}

static uint8_t *unit_buf(void)
{
	void *p = NULL;

	assert_int_equal(posix_memalign(&p, ZFRAME_ALIGN, zframe_unit_max()),
			 0);
	return p;
}

static void test_pad_len(void **state)
{
	(void)state;
	assert_int_equal(zframe_pad_len(0), 0);
	assert_int_equal(zframe_pad_len(ZFRAME_ALIGN), 0);
	assert_int_equal(zframe_pad_len(1), ZFRAME_ALIGN - 1);
	assert_int_equal(zframe_pad_len(ZFRAME_ALIGN - 8), 8);
	/* Less room than the skippable frame's header: one block more. */
	assert_int_equal(zframe_pad_len(ZFRAME_ALIGN - 7), ZFRAME_ALIGN + 7);
	assert_int_equal(zframe_pad_len(3 * ZFRAME_ALIGN - 1),
			 ZFRAME_ALIGN + 1);
}

static void test_frame_and_padding(void **state)
{
	uint8_t *src = chunk(7, LEN), *buf = unit_buf(), *back = malloc(LEN + 1);
	ZSTD_frameHeader h;
	struct mk_err e = { "" };
	ZSTD_CCtx *c = zframe_context();
	size_t flen, pad, n;

	(void)state;
	assert_non_null(c);
	assert_non_null(back);
	assert_int_equal(zframe_compress(c, src, LEN, buf, &flen, "out", &e), 0);
	assert_true(flen < LEN / 2);
	assert_int_equal(ZSTD_getFrameHeader(&h, buf, flen), 0);
	assert_int_equal(h.frameContentSize, LEN);
	assert_true(h.checksumFlag);
	assert_int_equal(h.frameType, ZSTD_frame);
	pad = zframe_pad_len(flen);
	assert_int_equal((flen + pad) % ZFRAME_ALIGN, 0);
	zframe_pad(buf + flen, pad);
	/* A skippable frame: its magic, the size of what follows. */
	assert_int_equal(buf[flen] | buf[flen + 1] << 8 | buf[flen + 2] << 16 |
			 (uint32_t)buf[flen + 3] << 24, ZFRAME_SKIP_MAGIC);
	assert_int_equal(buf[flen + 4] | buf[flen + 5] << 8,
			 pad - ZFRAME_SKIP_HEADER);
	assert_int_equal(ZSTD_findFrameCompressedSize(buf + flen, pad), pad);
	n = ZSTD_decompress(back, LEN + 1, buf, flen + pad);
	assert_false(ZSTD_isError(n));
	assert_int_equal(n, LEN);
	assert_memory_equal(back, src, LEN);
	ZSTD_freeCCtx(c);
	free(src);
	free(buf);
	free(back);
}

/* Bytes from a context's history would make them depend on which
 * thread compressed what before. */
static void test_same_bytes_from_any_context(void **state)
{
	uint8_t *a = chunk(1, ZFRAME_CHUNK), *b = chunk(2, ZFRAME_CHUNK);
	uint8_t *fresh = unit_buf(), *used = unit_buf();
	ZSTD_CCtx *c1 = zframe_context(), *c2 = zframe_context();
	struct mk_err e = { "" };
	size_t l1, l2, lb;

	(void)state;
	assert_int_equal(zframe_compress(c1, a, ZFRAME_CHUNK, fresh, &l1, "o",
					 &e), 0);
	assert_int_equal(zframe_compress(c2, b, ZFRAME_CHUNK, used, &lb, "o",
					 &e), 0);
	assert_int_equal(zframe_compress(c2, a, LEN, used, &lb, "o", &e), 0);
	assert_int_equal(zframe_compress(c2, a, ZFRAME_CHUNK, used, &l2, "o",
					 &e), 0);
	assert_int_equal(l1, l2);
	assert_memory_equal(fresh, used, l1);
	ZSTD_freeCCtx(c1);
	ZSTD_freeCCtx(c2);
	free(a);
	free(b);
	free(fresh);
	free(used);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pad_len),
		cmocka_unit_test(test_frame_and_padding),
		cmocka_unit_test(test_same_bytes_from_any_context),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
