/*
 * test_bmap.c - bmap.c: ranges as bmaptool lists them (first-last, or one
 * block alone), each with the SHA-256 of its bytes (digests of Python's
 * hashlib), counts, bmaptool's human sizes (strings of bmaptools'
 * BmapHelpers.human_size), the whole text of a small image as `bmaptool
 * create` wrote it (tests/data), the mapped-count comment when its text is
 * longer than the blanks bmaptool reserved (the line `bmaptool create`
 * writes for a 1 MiB file with 1000 KiB of data), and the file checksum
 * as bmaptool copy verifies it.  The whole file is compared with
 * `bmaptool create`'s in tests/e2e/test_bmap.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmap.h"
#include "sha256.h"

#define BLK RANGES_BLOCK

static void data(struct bmap *b, uint64_t off, int byte, size_t len)
{
	struct ranges_sink s = bmap_sink(b);
	struct mk_err e = { "" };
	char *buf = malloc(len);

	assert_non_null(buf);
	memset(buf, byte, len);
	assert_int_equal(s.data(s.ctx, off, buf, len, &e), 0);
	free(buf);
}

static void hole(struct bmap *b, uint64_t off, uint64_t len)
{
	struct ranges_sink s = bmap_sink(b);
	struct mk_err e = { "" };

	assert_int_equal(s.hole(s.ctx, off, len, &e), 0);
}

static char *text_of(struct bmap *b)
{
	struct mk_err e = { "" };
	char *text;
	size_t len;

	assert_int_equal(bmap_text(b, &text, &len, &e), 0);
	assert_int_equal(strlen(text), len);
	return text;
}

static void has(const char *text, const char *want)
{
	if (!strstr(text, want))
		fail_msg("the bmap lacks '%s'", want);
}

/* tests/data/bmaptool-create-40k.bmap (see tests/data/README.md). */
static const char *bmaptool_create_40k(void)
{
	static char text[8192];
	const char *dir = getenv("MKR2SIMG_TEST_DATA");
	char path[4096];
	FILE *f;
	size_t n;

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/bmaptool-create-40k.bmap", dir);
	f = fopen(path, "r");
	if (!f)
		fail_msg("%s: cannot open", path);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return text;
}

/* The same ranges as the file bmaptool made its bmap of: the same text. */
static void test_ranges(void **state)
{
	struct bmap *b = bmap_new(10 * BLK);
	char *t;

	(void)state;
	assert_non_null(b);
	data(b, 0, 7, BLK);       /* one range given in two pieces */
	data(b, BLK, 7, BLK);
	hole(b, 2 * BLK, 3 * BLK);
	data(b, 5 * BLK, 9, BLK);
	hole(b, 6 * BLK, 4 * BLK);
	t = text_of(b);
	assert_int_equal(bmap_mapped_blocks(b), 3);
	bmap_free(b);
	assert_string_equal(t, bmaptool_create_40k());
	has(t, "<MappedBlocksCount> 3  </MappedBlocksCount>\n");
	has(t, "        <Range chksum=\"2849b082b033f51af9d7f9a8b324635ad"
	       "0981bf09de270c91b0b5ae8d1aecc35\"> 0-1 </Range>\n"
	       "        <Range chksum=\"8027abbcb17ff5a4c6bf2a5a8761dbd29"
	       "e465336b0bfbf9bcd77e0d8a622f2ff\"> 5 </Range>\n"
	       "    </BlockMap>\n</bmap>\n");
	free(t);
}

/* bmaptool writes the mapped size over blanks as long as the image
 * size's text: a longer text runs over the blanks before "-->". */
static void test_mapped_text_longer(void **state)
{
	struct bmap *b = bmap_new(256 * BLK);
	char *t;

	(void)state;
	assert_non_null(b);
	data(b, 0, 5, 250 * BLK);
	hole(b, 250 * BLK, 6 * BLK);
	t = text_of(b);
	bmap_free(b);
	has(t, "<!-- Image size in bytes: 1.0 MiB -->\n");
	has(t, "    <!-- Count of mapped blocks: 1000.0 KiB or 97.7% -->\n"
	       "    <MappedBlocksCount> 250 </MappedBlocksCount>\n");
	has(t, "<Range chksum=\"5af1355d6a484b82d504b99d9118f66f36c370749acfd"
	       "c3b7e9affd456cf2737\"> 0-249 </Range>\n");
	free(t);
}

static void test_human_sizes(void **state)
{
	static const struct {
		uint64_t size;
		const char *text;
	} v[] = {
		{ 1, "1 byte" }, { 2, "2 bytes" }, { 511, "511 bytes" },
		{ 512, "0.5 KiB" }, { 1048525, "1024.0 KiB" },
		{ 2684354560ull, "2.5 GiB" },
		{ 1125899906842624ull, "1024.0 EiB" }, /* as bmaptool says */
	};
	char want[64], *t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct bmap *b = bmap_new(v[i].size);

		assert_non_null(b);
		t = text_of(b);
		bmap_free(b);
		snprintf(want, sizeof(want), "<!-- Image size in bytes: %s -->",
			 v[i].text);
		has(t, want);
		free(t);
	}
}

/* bmaptool copy: the SHA-256 of the file with the checksum's 64 hex
 * digits written as zeros is that checksum. */
static void test_file_checksum(void **state)
{
	static const char tag[] = "<BmapFileChecksum> ";
	struct bmap *b = bmap_new(4 * BLK);
	uint8_t d[SHA256_DIGEST_SIZE];
	char hex[SHA256_HEX_SIZE], stored[SHA256_HEX_SIZE], *t, *at;
	struct sha256 s;

	(void)state;
	assert_non_null(b);
	data(b, BLK, 1, 2 * BLK);
	hole(b, 3 * BLK, BLK);
	t = text_of(b);
	bmap_free(b);
	at = strstr(t, tag);
	assert_non_null(at);
	at += strlen(tag);
	memcpy(stored, at, 2 * SHA256_DIGEST_SIZE);
	stored[2 * SHA256_DIGEST_SIZE] = '\0';
	memset(at, '0', 2 * SHA256_DIGEST_SIZE);
	sha256_init(&s);
	sha256_update(&s, t, strlen(t));
	sha256_final(&s, d);
	sha256_hex(d, hex);
	assert_string_equal(stored, hex);
	has(t, "\"> 1-2 </Range>\n");
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_mapped_text_longer),
		cmocka_unit_test(test_human_sizes),
		cmocka_unit_test(test_file_checksum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
