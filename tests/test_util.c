/*
 * test_util.c - util.c: size parsing, whole writes and the helpers.
 *
 * Sizes are decimal digits with an optional K, M, G or T (powers of
 * 1024), optionally written KiB or KB; anything else, and anything that
 * does not fit in 64 bits, is not a size.  mk_pwrite_all writes all it
 * is given, zeros too, as data (checked with SEEK_DATA): the image has no
 * hole that must read as zero.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ci_skip.h"

#include "tmptree.h"

#include <errno.h>

#include "mkr2simg.h"
#include "util.h"

#define KIB 1024ULL
#define MIB (1024ULL * KIB)
#define GIB (1024ULL * MIB)
#define TIB (1024ULL * GIB)
#define PIECE 4096u

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- mkr2simg_parse_size ---- */

static void expect_size(const char *text, uint64_t want)
{
	uint64_t got = 0xDEADBEEF;

	if (mkr2simg_parse_size(text, &got) != 0)
		fail_msg("rejected \"%s\"", text);
	if (got != want)
		fail_msg("\"%s\": %llu, not %llu", text,
			 (unsigned long long)got, (unsigned long long)want);
}

static void expect_not_size(const char *text)
{
	uint64_t got = 0;

	if (mkr2simg_parse_size(text, &got) != -1)
		fail_msg("accepted \"%s\" as %llu", text,
			 (unsigned long long)got);
}

static void test_size_plain(void **state)
{
	(void)state;
	expect_size("0", 0);
	expect_size("1", 1);
	expect_size("512", 512);
	expect_size("1048576", MIB);
	expect_size("007", 7);
	expect_size("123456789012", 123456789012ULL);
}

static void test_size_units(void **state)
{
	(void)state;
	expect_size("64K", 64 * KIB);
	expect_size("512M", 512 * MIB);
	expect_size("2G", 2 * GIB);
	expect_size("1T", TIB);
	expect_size("0K", 0);
	expect_size("0T", 0);
	expect_size("3000M", 3000 * MIB);
	expect_size("1KiB", KIB);
	expect_size("8MiB", 8 * MIB);
	expect_size("2GiB", 2 * GIB);
	expect_size("5TiB", 5 * TIB);
	expect_size("1KB", KIB);
	expect_size("256MB", 256 * MIB);
	expect_size("4GB", 4 * GIB);
	expect_size("1TB", TIB);
}

static void test_size_rejects(void **state)
{
	static const char *const bad[] = {
		"", "K", "M", "KiB", "-1", "+1", "-0", " 1", "1 ", "1 K",
		"\t1", "1\n", "1.5G", "1,5G", "1_000", "0x10", "1e6",
		"1X", "1P", "1E", "1KK", "1MG", "1iB", "1Ki", "1KiBB",
		"1KBB", "1KIB", "1Kib", "1KiB ", "G1", "1G1",
		"one", "1\xc2\xa0K",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		expect_not_size(bad[i]);
}

/* Offsets as U-Boot's configuration writes them, or any size. */
static void expect_offset(const char *text, uint64_t want)
{
	uint64_t got = 0xDEADBEEF;

	if (mkr2simg_parse_offset(text, &got) != 0)
		fail_msg("rejected offset \"%s\"", text);
	if (got != want)
		fail_msg("offset \"%s\": %llu, not %llu", text,
			 (unsigned long long)got, (unsigned long long)want);
}

static void test_offset(void **state)
{
	static const char *const bad[] = {
		"0x", "0X", "x10", "0x-1", "0x 1", "0x1 ", "0x1G", "0xg",
		"0x10000000000000000", "00x10", "", "-0x10", "0x1.0",
	};
	uint64_t got = 7;

	(void)state;
	expect_offset("0x3F8000", 0x3F8000);
	expect_offset("0x3f8000", 0x3F8000);
	expect_offset("0X8000", 0x8000);
	expect_offset("0x0", 0);
	expect_offset("0xFFFFFFFFFFFFFFFF", UINT64_MAX);
	expect_offset("0x000000000000000000001", 1); /* leading zeros */
	expect_offset("4161536", 0x3F8000);
	expect_offset("32K", 0x8000);
	expect_offset("4064KiB", 0x3F8000);
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		if (mkr2simg_parse_offset(bad[i], &got) != -1)
			fail_msg("accepted offset \"%s\" as %llu", bad[i],
				 (unsigned long long)got);
	assert_int_equal(got, 7); /* a refusal leaves the value alone */
}

static void test_size_overflow(void **state)
{
	(void)state;
	/* The largest value of each form fits; one more does not. */
	expect_size("18446744073709551615", UINT64_MAX);
	expect_not_size("18446744073709551616");
	expect_not_size("18446744073709551620");
	expect_not_size("99999999999999999999");
	expect_not_size("184467440737095516150");
	expect_size("18446744073709551610", UINT64_MAX - 5);
	expect_size("18014398509481983K", UINT64_MAX >> 10 << 10);
	expect_not_size("18014398509481984K");
	expect_size("17592186044415M", UINT64_MAX >> 20 << 20);
	expect_not_size("17592186044416M");
	expect_size("17179869183G", UINT64_MAX >> 30 << 30);
	expect_not_size("17179869184G");
	expect_size("16777215T", UINT64_MAX >> 40 << 40);
	expect_not_size("16777216T");
	expect_not_size("16777216TiB");
	expect_not_size("99999999999999999999T");
}

/* ---- mk_pwrite_all ---- */

struct temp_file {
	struct tmptree *tree;
	int fd;
};

static int temp_file_setup(void **state)
{
	struct temp_file *f = calloc(1, sizeof(*f));
	void *tree = NULL;

	if (f == NULL || tmptree_setup(&tree) != 0) {
		free(f);
		return -1;
	}
	f->tree = tree;
	f->fd = open(tmptree_path(f->tree, "image"),
		     O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	*state = f;
	return f->fd >= 0 ? 0 : -1;
}

static int temp_file_teardown(void **state)
{
	struct temp_file *f = *state;
	void *tree;

	if (f == NULL)
		return 0;
	if (f->fd >= 0)
		close(f->fd);
	tree = f->tree;
	free(f);
	return tmptree_teardown(&tree);
}

/* Skips the test on a filesystem that cannot report holes. */
static void need_holes(struct temp_file *f)
{
	int fd = open(tmptree_path(f->tree, "probe"),
		      O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	off_t hole;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	hole = lseek(fd, 0, SEEK_HOLE);
	close(fd);
	if (hole != 0)
		skip_unless_ci("the temporary folder's filesystem reports no holes");
}

static int is_hole_at(int fd, off_t off)
{
	return lseek(fd, off, SEEK_HOLE) == off;
}

static int is_data_at(int fd, off_t off)
{
	return lseek(fd, off, SEEK_DATA) == off;
}

static void check_contents(int fd, const uint8_t *want, size_t len,
			   uint64_t off)
{
	uint8_t *got = malloc(len + 1);
	struct stat st;

	assert_non_null(got);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, (off_t)(off + len));
	assert_int_equal(pread(fd, got, len + 1, (off_t)off), (ssize_t)len);
	assert_memory_equal(got, want, len);
	free(got);
}

/* Zeros are written as data: a card that receives only the image's data
 * ranges must get them too. */
static void test_pwrite_all_writes_zeros(void **state)
{
	struct temp_file *f = *state;
	const size_t len = 3 * PIECE + 100;
	uint8_t *buf = calloc(1, len);

	assert_non_null(buf);
	need_holes(f);
	buf[PIECE + 5] = 1;
	assert_int_equal(mk_pwrite_all(f->fd, buf, len, PIECE), 0);
	check_contents(f->fd, buf, len, PIECE);
	assert_true(is_hole_at(f->fd, 0));
	for (size_t off = PIECE; off < PIECE + len; off += PIECE)
		if (!is_data_at(f->fd, (off_t)off))
			fail_msg("zeros at %zu were left as a hole", off);
	free(buf);
}

/* ---- small helpers ---- */

/* Doubling past what size_t holds fails instead of wrapping around to a
 * small allocation. */
static void test_grow_overflow(void **state)
{
	char *array = malloc(64);
	size_t cap = 64;

	(void)state;
	assert_non_null(array);
	assert_int_equal(mk_grow(&array, &cap, 64, SIZE_MAX / 100), -1);
	assert_int_equal(cap, 64);
	assert_int_equal(mk_grow(&array, &cap, 63, SIZE_MAX / 100), 0);
	assert_int_equal(mk_grow(&array, &cap, 64, 1), 0);
	assert_int_equal(cap, 128);
	free(array);
}

static void test_is_zero(void **state)
{
	uint8_t b[100] = { 0 };

	(void)state;
	assert_true(mk_is_zero(b, 0));
	assert_true(mk_is_zero(b, 1));
	assert_true(mk_is_zero(b, sizeof(b)));
	b[99] = 1;
	assert_false(mk_is_zero(b, sizeof(b)));
	assert_true(mk_is_zero(b, 99));
	b[0] = 1;
	assert_false(mk_is_zero(b, 1));
	b[99] = 0;
	assert_false(mk_is_zero(b, sizeof(b)));
	memset(b, 0xFF, sizeof(b)); /* all equal but not zero */
	assert_false(mk_is_zero(b, sizeof(b)));
}

static void test_align(void **state)
{
	(void)state;
	assert_int_equal(mk_align_up(0, 4096), 0);
	assert_int_equal(mk_align_up(1, 4096), 4096);
	assert_int_equal(mk_align_up(4096, 4096), 4096);
	assert_int_equal(mk_align_up(4097, 4096), 8192);
	assert_int_equal(mk_align_up(5, 3), 6);
	assert_int_equal(mk_div_ceil(0, 512), 0);
	assert_int_equal(mk_div_ceil(1, 512), 1);
	assert_int_equal(mk_div_ceil(512, 512), 1);
	assert_int_equal(mk_div_ceil(513, 512), 2);
}

static void expect_join(const char *a, const char *b, const char *want)
{
	char *got = mk_path_join(a, b);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_path_join(void **state)
{
	(void)state;
	expect_join("a", "b", "a/b");
	expect_join("a/", "b", "a/b");
	expect_join("a", "/b", "a/b");
	expect_join("a//", "//b/c", "a/b/c");
	expect_join("/", "nix", "/nix");
	expect_join("/root", "/nix/store", "/root/nix/store");
}

static void test_strndup(void **state)
{
	char *s;

	(void)state;
	s = mk_strndup("abcdef", 3);
	assert_string_equal(s, "abc");
	free(s);
	s = mk_strndup("", 0);
	assert_string_equal(s, "");
	free(s);
}

static void test_read_all(void **state)
{
	struct tmptree *t = *state;
	static const char data[] = "line one\nline two\0after nul";
	struct mk_buf b;
	struct mk_err e = { "" };
	char path[PATH_MAX];

	tmptree_file_n(t, "f", data, sizeof(data), 0644);
	assert_int_equal(mk_read_all(tmptree_path(t, "f"), &b, &e), 0);
	assert_int_equal(b.len, sizeof(data));
	assert_memory_equal(b.data, data, sizeof(data));
	assert_int_equal(b.data[b.len], '\0');
	free(b.data);
	snprintf(path, sizeof(path), "%s", tmptree_path(t, "missing"));
	assert_int_equal(mk_read_all(path, &b, &e), -1);
	assert_non_null(strstr(e.msg, path));
}

static void test_read_all_large(void **state)
{
	struct tmptree *t = *state;
	const size_t n = 300000; /* several growth steps */
	char *data = malloc(n);
	struct mk_buf b;
	struct mk_err e = { "" };

	assert_non_null(data);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)('a' + i % 26);
	tmptree_file_n(t, "big", data, n, 0644);
	assert_int_equal(mk_read_all(tmptree_path(t, "big"), &b, &e), 0);
	assert_int_equal(b.len, n);
	assert_memory_equal(b.data, data, n);
	free(b.data);
	free(data);
}

#define FILE_TEST(f) cmocka_unit_test_setup_teardown(f, temp_file_setup, \
						     temp_file_teardown)
#define TREE_TEST(f) cmocka_unit_test_setup_teardown(f, tmptree_setup, \
						     tmptree_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_plain),
		cmocka_unit_test(test_size_units),
		cmocka_unit_test(test_size_rejects),
		cmocka_unit_test(test_size_overflow),
		cmocka_unit_test(test_offset),
		FILE_TEST(test_pwrite_all_writes_zeros),
		cmocka_unit_test(test_grow_overflow),
		cmocka_unit_test(test_is_zero),
		cmocka_unit_test(test_align),
		cmocka_unit_test(test_path_join),
		cmocka_unit_test(test_strndup),
		TREE_TEST(test_read_all),
		TREE_TEST(test_read_all_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
