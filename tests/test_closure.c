/*
 * test_closure.c - closure.c against the store-path rules.
 *
 * A store path is "/nix/store/<hash>-<name>": <hash> is 32 characters of
 * nix-base32 ("0123456789abcdfghijklmnpqrsvwxyz": no e, o, u, t), <name>
 * is 1-211 characters of [A-Za-z0-9+-._?=] not starting with '.'.  A
 * store-paths file holds one per line; blank lines and repeats do not
 * count, order does not matter, and every other line that is not a store
 * path is an error naming the file and the line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tmptree.h"

#include "closure.h"

/* The alphabet itself is a valid 32-character hash, and so is it
 * backwards. */
#define H1 "0123456789abcdfghijklmnpqrsvwxyz"
#define H2 "zyxwvsrqpnmlkjihgfdcba9876543210"
#define H3 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define STORE "/nix/store/"
#define SOURCE "closure.txt"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void parse_ok(const char *text, size_t len, struct mk_closure *c)
{
	struct mk_err e = { "" };

	if (closure_parse(text, len, SOURCE, c, &e) != 0)
		fail_msg("closure_parse: %s", e.msg);
}

static void check_paths(const struct mk_closure *c, const char *const *want,
			size_t n)
{
	assert_int_equal(c->count, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(c->paths[i], want[i]);
}

/* ---- accepted input ---- */

static void test_sorted_unique(void **state)
{
	static const char text[] =
		STORE H2 "-zlib-1.3\n"
		"\n"
		STORE H1 "-glibc-2.39\n"
		STORE H2 "-zlib-1.3\n"
		"\n"
		"\n"
		STORE H3 "-bash-5.2\n"
		STORE H1 "-glibc-2.39\n"
		STORE H1 "-glibc-2.39-bin"; /* no final newline */
	static const char *const want[] = {
		STORE H1 "-glibc-2.39",
		STORE H1 "-glibc-2.39-bin",
		STORE H3 "-bash-5.2",
		STORE H2 "-zlib-1.3",
	};
	struct mk_closure c;

	(void)state;
	parse_ok(text, strlen(text), &c);
	check_paths(&c, want, ARRAY_LEN(want));
	closure_free(&c);
	assert_null(c.paths);
	assert_int_equal(c.count, 0);
}

/* Sorting is by bytes: upper case before lower case, '-' before '.'. */
static void test_byte_order(void **state)
{
	static const char text[] =
		STORE H1 "-b\n" STORE H1 "-a.b\n" STORE H1 "-a-b\n"
		STORE H1 "-B\n" STORE H1 "-a\n" STORE H1 "-ab\n";
	static const char *const want[] = {
		STORE H1 "-B",   STORE H1 "-a",  STORE H1 "-a-b",
		STORE H1 "-a.b", STORE H1 "-ab", STORE H1 "-b",
	};
	struct mk_closure c;

	(void)state;
	parse_ok(text, strlen(text), &c);
	check_paths(&c, want, ARRAY_LEN(want));
	closure_free(&c);
}

/* Any order of the same lines gives the same closure. */
static void test_order_independent(void **state)
{
	static const char a[] = STORE H1 "-x\n" STORE H2 "-y\n" STORE H3 "-z\n";
	static const char b[] = STORE H3 "-z\n" STORE H1 "-x\n" STORE H2 "-y\n";
	struct mk_closure ca, cb;

	(void)state;
	parse_ok(a, strlen(a), &ca);
	parse_ok(b, strlen(b), &cb);
	assert_int_equal(ca.count, 3);
	assert_int_equal(cb.count, 3);
	for (size_t i = 0; i < ca.count; i++)
		assert_string_equal(ca.paths[i], cb.paths[i]);
	closure_free(&ca);
	closure_free(&cb);
}

static void test_every_name_char(void **state)
{
	static const char *const good[] = {
		STORE H1 "-x",
		STORE H1 "-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
		STORE H1 "-abcdefghijklmnopqrstuvwxyz",
		STORE H1 "-0123456789",
		STORE H1 "-+-._?=",
		STORE H1 "--leading-dash",
		STORE H1 "-x.",
		STORE H1 "-source?rev=1",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(good); i++) {
		const char *why = closure_store_path_problem(good[i]);
		if (why != NULL)
			fail_msg("rejected %s: %s", good[i], why);
	}
}

static void test_name_length_limit(void **state)
{
	char path[sizeof(STORE H1 "-") + 212];
	size_t base = strlen(STORE H1 "-");

	(void)state;
	memcpy(path, STORE H1 "-", base);
	memset(path + base, 'n', 211);
	path[base + 211] = '\0';
	assert_null(closure_store_path_problem(path)); /* 211: the limit */
	path[base + 211] = 'n';
	path[base + 212] = '\0';
	assert_non_null(closure_store_path_problem(path)); /* 212 */
}

/* ---- rejected lines ---- */

static const char *const bad_paths[] = {
	"nix/store/" H1 "-x",                 /* relative */
	H1 "-x",                              /* relative, bare */
	"/nix/store/../etc",                  /* .. component */
	"/nix/store/" H1 "-x/../y",           /* .. inside a path */
	"/nix/store/..",
	"/nix/store/",                        /* the store itself */
	"/nix/store",
	"/nix/stor/" H1 "-x",                 /* another directory */
	"/nix/store2/" H1 "-x",
	"/gnu/store/" H1 "-x",
	"//nix/store/" H1 "-x",               /* not the canonical form */
	"/nix//store/" H1 "-x",
	"/nix/store//" H1 "-x",
	"/nix/store/0123456789abcdfghijklmnpqrsvwxy-x",   /* 31 chars */
	"/nix/store/0123456789abcdfghijklmnpqrsvwxyzz-x", /* 33 chars */
	"/nix/store/e123456789abcdfghijklmnpqrsvwxyz-x",  /* e */
	"/nix/store/0123456789abcdfghijklmnpqrsvwxyo-x",  /* o */
	"/nix/store/0123456789abcdfghijklmnuqrsvwxyz-x",  /* u */
	"/nix/store/0123456789abcdfghijklmnpqrstwxyz-x",  /* t */
	"/nix/store/0123456789Abcdfghijklmnpqrsvwxyz-x",  /* upper case */
	"/nix/store/0123456789abcdfghijklmnpqrsvwxy_-x",  /* _ in hash */
	"/nix/store/" H1,                     /* no name at all */
	"/nix/store/" H1 "-",                 /* empty name */
	"/nix/store/" H1 "_x",                /* no dash */
	"/nix/store/" H1 "/x",
	"/nix/store/" H1 "-x/bin",            /* inside a store path */
	"/nix/store/" H1 "-x/",
	"/nix/store/" H1 "-.x",               /* name starts with '.' */
	"/nix/store/" H1 "-.",
	"/nix/store/" H1 "-..",
	"/nix/store/" H1 "-x y",              /* trailing garbage */
	"/nix/store/" H1 "-x extra",
	"/nix/store/" H1 "-x\t",
	" /nix/store/" H1 "-x",               /* leading space */
	"\t/nix/store/" H1 "-x",
	"/nix/store/" H1 "-x@1",              /* not a name char */
	"/nix/store/" H1 "-x:y",
	"/nix/store/" H1 "-x~",
	"/nix/store/" H1 "-x\\y",
	"/nix/store/" H1 "-caf\xc3\xa9",      /* not ASCII */
	"#/nix/store/" H1 "-x",               /* no comments */
};

static void test_problem_rejects(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(bad_paths); i++)
		if (closure_store_path_problem(bad_paths[i]) == NULL)
			fail_msg("accepted \"%s\"", bad_paths[i]);
}

/* Parses `text` and checks it fails naming the source and `lineno`. */
static void expect_parse_fail(const char *text, size_t len, size_t lineno)
{
	struct mk_closure c = { NULL, 0 };
	struct mk_err e = { "" };
	char where[64];

	snprintf(where, sizeof(where), SOURCE ":%zu", lineno);
	assert_int_equal(closure_parse(text, len, SOURCE, &c, &e), -1);
	if (strstr(e.msg, where) == NULL)
		fail_msg("message \"%s\" does not name %s", e.msg, where);
	assert_null(strchr(e.msg, '\n'));
	assert_int_equal(c.count, 0);
	closure_free(&c);
}

/* Each bad path, as line 3 after a good line and a blank one. */
static void test_parse_rejects_with_line(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(bad_paths); i++) {
		char text[512];
		int n = snprintf(text, sizeof(text),
				 STORE H1 "-ok\n\n%s\n" STORE H2 "-ok\n",
				 bad_paths[i]);

		assert_true(n > 0 && (size_t)n < sizeof(text));
		expect_parse_fail(text, (size_t)n, 3);
	}
}

static void test_parse_rejects_first_line(void **state)
{
	static const char text[] = "/nix/store/../etc\n" STORE H1 "-ok\n";

	(void)state;
	expect_parse_fail(text, strlen(text), 1);
}

static void test_parse_rejects_nul_byte(void **state)
{
	static const char text[] = STORE H1 "-a\n" STORE H1 "-b\0c\n";
	static const char tail[] = STORE H1 "-a\n" STORE H1 "-b\0";

	(void)state;
	expect_parse_fail(text, sizeof(text) - 1, 2);
	expect_parse_fail(tail, sizeof(tail) - 1, 2); /* NUL ends the line */
}

static void expect_empty_fail(const char *text, size_t len)
{
	struct mk_closure c = { NULL, 0 };
	struct mk_err e = { "" };

	assert_int_equal(closure_parse(text, len, SOURCE, &c, &e), -1);
	if (strstr(e.msg, SOURCE) == NULL)
		fail_msg("message \"%s\" does not name " SOURCE, e.msg);
	assert_int_equal(c.count, 0);
}

static void test_parse_rejects_empty(void **state)
{
	(void)state;
	expect_empty_fail("", 0);
	expect_empty_fail("\n", 1);
	expect_empty_fail("\n\n\n", 3);
}

/* ---- reading files ---- */

static void test_read_file(void **state)
{
	struct tmptree *t = *state;
	struct mk_closure c;
	struct mk_err e = { "" };
	static const char *const want[] = { STORE H1 "-a", STORE H2 "-b" };

	tmptree_file(t, "store-paths", STORE H2 "-b\n" STORE H1 "-a\n", 0644);
	if (closure_read(tmptree_path(t, "store-paths"), &c, &e) != 0)
		fail_msg("closure_read: %s", e.msg);
	check_paths(&c, want, ARRAY_LEN(want));
	closure_free(&c);
}

static void test_read_file_errors_name_it(void **state)
{
	struct tmptree *t = *state;
	struct mk_closure c = { NULL, 0 };
	struct mk_err e = { "" };
	char path[PATH_MAX + 8];

	snprintf(path, sizeof(path), "%s", tmptree_path(t, "missing"));
	assert_int_equal(closure_read(path, &c, &e), -1);
	assert_non_null(strstr(e.msg, path));

	tmptree_file(t, "bad", STORE H1 "-a\n" STORE H1 "-a/bin\n", 0644);
	snprintf(path, sizeof(path), "%s:2", tmptree_path(t, "bad"));
	assert_int_equal(closure_read(tmptree_path(t, "bad"), &c, &e), -1);
	if (strstr(e.msg, path) == NULL)
		fail_msg("message \"%s\" does not name %s", e.msg, path);
}

/* ---- lookups ---- */

static void test_contains(void **state)
{
	static const char text[] =
		STORE H2 "-z\n" STORE H1 "-a\n" STORE H3 "-m\n" STORE H1 "-ab\n";
	struct mk_closure c;

	(void)state;
	parse_ok(text, strlen(text), &c);
	assert_true(closure_contains(&c, STORE H1 "-a"));
	assert_true(closure_contains(&c, STORE H1 "-ab"));
	assert_true(closure_contains(&c, STORE H3 "-m"));
	assert_true(closure_contains(&c, STORE H2 "-z"));
	assert_false(closure_contains(&c, STORE H1 "-"));
	assert_false(closure_contains(&c, STORE H1 "-a/bin"));
	assert_false(closure_contains(&c, STORE H1 "-abc"));
	assert_false(closure_contains(&c, STORE H2 "-a"));
	assert_false(closure_contains(&c, ""));
	closure_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sorted_unique),
		cmocka_unit_test(test_byte_order),
		cmocka_unit_test(test_order_independent),
		cmocka_unit_test(test_every_name_char),
		cmocka_unit_test(test_name_length_limit),
		cmocka_unit_test(test_problem_rejects),
		cmocka_unit_test(test_parse_rejects_with_line),
		cmocka_unit_test(test_parse_rejects_first_line),
		cmocka_unit_test(test_parse_rejects_nul_byte),
		cmocka_unit_test(test_parse_rejects_empty),
		cmocka_unit_test_setup_teardown(test_read_file, tmptree_setup,
						tmptree_teardown),
		cmocka_unit_test_setup_teardown(test_read_file_errors_name_it,
						tmptree_setup,
						tmptree_teardown),
		cmocka_unit_test(test_contains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
