/*
 * test_arm64image.c - arm64image.c: the header of plain and gzip'd
 * arm64 Images, little endian whatever the host.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <zlib.h>

#include "tmptree.h"

#include "arm64image.h"

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A 64-byte header (Linux's layout) followed by `pad` zero bytes. */
static uint8_t *image(uint64_t text_offset, uint64_t image_size,
		      uint64_t flags, size_t pad, size_t *len)
{
	uint8_t *b = calloc(1, ARM64_IMAGE_HEADER_SIZE + pad);

	assert_non_null(b);
	b[0] = 0x4d; b[1] = 0x5a; /* "MZ", the EFI stub's */
	put_le64(b + 8, text_offset);
	put_le64(b + 16, image_size);
	put_le64(b + 24, flags);
	memcpy(b + 56, "ARM\x64", 4);
	*len = ARM64_IMAGE_HEADER_SIZE + pad;
	return b;
}

static void test_parse(void **state)
{
	struct arm64_image img;
	size_t len;
	uint8_t *b = image(0x80000, 0x4810000, 0xa, 0, &len);

	(void)state;
	assert_int_equal(arm64_image_parse(b, &img), 0);
	assert_int_equal(img.text_offset, 0x80000);
	assert_int_equal(img.image_size, 0x4810000);
	assert_int_equal(img.flags, 0xa);
	b[59] = 0x65; /* "ARM\x65" */
	assert_int_equal(arm64_image_parse(b, &img), -1);
	free(b);
}

static void test_read_plain_and_other(void **state)
{
	struct tmptree *t = *state;
	struct arm64_image img;
	struct mk_err e = { "" };
	size_t len;
	uint8_t *b = image(0, 72u << 20, 0xa, 4000, &len);

	tmptree_file_n(t, "Image", b, len, 0444);
	assert_int_equal(arm64_image_read(tmptree_path(t, "Image"), &img, &e), 0);
	assert_int_equal(img.kind, ARM64_IMAGE_PLAIN);
	assert_int_equal(img.file_size, len);
	assert_int_equal(img.data_size, len);
	assert_int_equal(img.image_size, 72u << 20);
	tmptree_file(t, "random", "not a kernel at all", 0444);
	assert_int_equal(arm64_image_read(tmptree_path(t, "random"), &img, &e), 0);
	assert_int_equal(img.kind, ARM64_IMAGE_NONE);
	tmptree_file(t, "short", "ARM", 0444);
	assert_int_equal(arm64_image_read(tmptree_path(t, "short"), &img, &e), 0);
	assert_int_equal(img.kind, ARM64_IMAGE_NONE);
	assert_int_equal(arm64_image_read(tmptree_path(t, "missing"), &img, &e),
			 -1);
	assert_non_null(strstr(e.msg, "missing"));
	free(b);
}

/* gzip'd as `gzip` writes it; the inflated size is counted. */
static void test_read_gzip(void **state)
{
	struct tmptree *t = *state;
	struct arm64_image img;
	struct mk_err e = { "" };
	size_t len;
	uint8_t *b = image(0, 40u << 20, 0xa, 3u << 20, &len);
	gzFile gz = gzopen(tmptree_path(t, "Image.gz"), "wb9");

	assert_non_null(gz);
	assert_int_equal(gzwrite(gz, b, (unsigned)len), (int)len);
	assert_int_equal(gzclose(gz), Z_OK);
	assert_int_equal(arm64_image_read(tmptree_path(t, "Image.gz"), &img, &e),
			 0);
	assert_int_equal(img.kind, ARM64_IMAGE_GZIP);
	assert_int_equal(img.data_size, len);
	assert_true(img.file_size < len);
	assert_int_equal(img.image_size, 40u << 20);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test_setup_teardown(test_read_plain_and_other,
						tmptree_setup, tmptree_teardown),
		cmocka_unit_test_setup_teardown(test_read_gzip, tmptree_setup,
						tmptree_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
