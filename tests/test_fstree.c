/*
 * test_fstree.c - fstree.c on source trees built in a temp directory.
 *
 * A scanned tree gets the store's canonical metadata whatever the
 * source says: regular files 0444, or 0555 with any execute bit, and
 * directories 0555, every time 1 (fst_policy_nix_store); symlinks are
 * never followed and keep their target byte for byte.  Entries are in
 * byte order (strcmp), the walk is a directory then its entries, depth
 * first, and anything but a file, directory or symlink is an error
 * naming it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tmptree.h"

#include <sys/socket.h>
#include <sys/un.h>

#include "fstree.h"

#define SHOWN "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-src"
#define NAME "0123456789abcdfghijklmnpqrsvwxyz-src"
#define LONG_TARGET_LEN 4095 /* PATH_MAX - 1: the longest Linux allows */

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct expect {
	const char *path; /* relative to the scanned root; "" is the root */
	enum fst_kind kind;
	uint16_t mode;
};

/* Every node, in walk order, with its canonical mode. */
static const struct expect walk_order[] = {
	{ "", FST_DIR, 0555 },
	{ "B", FST_FILE, 0444 },
	{ "Z", FST_FILE, 0555 },
	{ "_", FST_FILE, 0444 },
	{ "a", FST_FILE, 0555 },
	{ "a-b", FST_FILE, 0444 },
	{ "a.b", FST_FILE, 0444 },
	{ "ab", FST_FILE, 0444 },
	{ "abs", FST_SYMLINK, 0777 },
	{ "b", FST_FILE, 0444 },
	{ "d0500", FST_DIR, 0555 },
	{ "d0500/f", FST_FILE, 0444 },
	{ "empty", FST_DIR, 0555 },
	{ "link", FST_SYMLINK, 0777 },
	{ "long", FST_SYMLINK, 0777 },
	{ "s", FST_FILE, 0555 },
	{ "sub", FST_DIR, 0555 },
	{ "sub/link", FST_SYMLINK, 0777 },
	{ "sub/y", FST_DIR, 0555 },
	{ "sub/y/deep", FST_FILE, 0444 },
	{ "sub/z", FST_FILE, 0444 },
	{ "weird", FST_SYMLINK, 0777 },
	{ "x-g", FST_FILE, 0555 },
	{ "x-o", FST_FILE, 0555 },
	{ "\xc3\xa9", FST_FILE, 0444 },
};

static char long_target[LONG_TARGET_LEN + 1];

static void make_long_target(void)
{
	for (size_t i = 0; i < LONG_TARGET_LEN; i++)
		long_target[i] = (i % 8 == 7) ? '/' : (char)('a' + i % 7);
	long_target[LONG_TARGET_LEN] = '\0';
}

/* Created in an order unlike byte order, with assorted source modes. */
static void make_source(struct tmptree *t)
{
	tmptree_mkdir(t, "src", 0700);
	tmptree_file(t, "src/x-o", "o", 0641);  /* other exec */
	tmptree_file(t, "src/b", "bee", 0600);
	tmptree_mkdir(t, "src/sub", 0700);
	tmptree_file(t, "src/sub/z", "zed", 0600);
	tmptree_mkdir(t, "src/sub/y", 0711);
	tmptree_file(t, "src/sub/y/deep", "", 0400);
	tmptree_symlink(t, "src/sub/link", "../some/where");
	tmptree_file(t, "src/a", "ay", 0711);
	tmptree_file(t, "src/\xc3\xa9", "e acute", 0644);
	tmptree_file(t, "src/Z", "zz", 0744);   /* owner exec only */
	tmptree_file(t, "src/B", "B", 0664);
	tmptree_file(t, "src/_", "_", 0666);
	tmptree_file(t, "src/ab", "ab", 0644);
	tmptree_file(t, "src/a.b", "a.b", 0644);
	tmptree_file(t, "src/a-b", "a-b", 0644);
	tmptree_file(t, "src/x-g", "g", 0654);  /* group exec */
	tmptree_file(t, "src/s", "suid", 04755);
	tmptree_symlink(t, "src/abs", "/nix/store/aaaa-foo/bin/sh");
	tmptree_symlink(t, "src/link", "../some/where");
	tmptree_symlink(t, "src/weird", "dir//x/./../ y ");
	make_long_target();
	tmptree_symlink(t, "src/long", long_target);
	tmptree_mkdir(t, "src/empty", 0755);
	tmptree_mkdir(t, "src/d0500", 0700);
	tmptree_file(t, "src/d0500/f", "f", 0000);
	assert_int_equal(chmod(tmptree_path(t, "src/d0500"), 0500), 0);
}

static int source_setup(void **state)
{
	if (tmptree_setup(state) != 0)
		return -1;
	make_source(*state);
	return 0;
}

static struct fst_node *scan_ok(struct tmptree *t, const char *rel)
{
	struct fst_node *root = NULL;
	struct mk_err e = { "" };
	char src[PATH_MAX];

	snprintf(src, sizeof(src), "%s", tmptree_path(t, rel));
	if (fst_scan(src, SHOWN, NAME, &fst_policy_nix_store, &root, &e) != 0)
		fail_msg("fst_scan: %s", e.msg);
	assert_non_null(root);
	return root;
}

static void expect_scan_fail(struct tmptree *t, const char *rel,
			     const char *n1, const char *n2)
{
	struct fst_node *root = NULL;
	struct mk_err e = { "" };
	char src[PATH_MAX];

	snprintf(src, sizeof(src), "%s", tmptree_path(t, rel));
	assert_int_equal(
		fst_scan(src, SHOWN, NAME, &fst_policy_nix_store, &root, &e),
		-1);
	if (strstr(e.msg, n1) == NULL || (n2 && strstr(e.msg, n2) == NULL))
		fail_msg("message \"%s\" does not name \"%s\"", e.msg, n1);
	assert_null(strchr(e.msg, '\n'));
}

/* Follows "a/b/c" down from `root` by fst_child. */
static struct fst_node *lookup(struct fst_node *root, const char *path)
{
	char buf[256], *save = NULL;
	struct fst_node *n = root;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *c = strtok_r(buf, "/", &save); c && n;
	     c = strtok_r(NULL, "/", &save)) {
		assert_int_equal(n->kind, FST_DIR);
		n = fst_child(n, c);
	}
	if (n == NULL)
		fail_msg("no node at \"%s\"", path);
	return n;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* ---- metadata ---- */

static void test_canonical_metadata(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *root = scan_ok(t, "src");

	assert_string_equal(root->name, NAME);
	for (size_t i = 0; i < ARRAY_LEN(walk_order); i++) {
		const struct expect *x = &walk_order[i];
		struct fst_node *n = lookup(root, x->path);

		if (n->kind != x->kind || n->mode != x->mode)
			fail_msg("%s: kind %d mode %o, want kind %d mode %o",
				 x->path, n->kind, n->mode, x->kind, x->mode);
		assert_int_equal(n->time, 1);
		assert_int_equal(n->uid, 0);
		assert_int_equal(n->gid, 0);
		assert_null(n->same_as);
		assert_int_equal(n->nlink, 1);
	}
	fst_free(root);
}

static void test_files(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *root = scan_ok(t, "src");
	struct fst_node *n;

	n = lookup(root, "b");
	assert_int_equal(n->size, 3);
	assert_string_equal(n->src, tmptree_path(t, "src/b"));
	assert_null(n->data);
	n = lookup(root, "sub/z");
	assert_int_equal(n->size, 3);
	assert_string_equal(n->src, tmptree_path(t, "src/sub/z"));
	n = lookup(root, "sub/y/deep");
	assert_int_equal(n->size, 0);
	n = lookup(root, "\xc3\xa9");
	assert_int_equal(n->size, 7);
	fst_free(root);
}

static void test_symlink_targets_verbatim(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *root = scan_ok(t, "src");

	assert_string_equal(lookup(root, "link")->target, "../some/where");
	assert_string_equal(lookup(root, "sub/link")->target,
			    "../some/where");
	assert_string_equal(lookup(root, "abs")->target,
			    "/nix/store/aaaa-foo/bin/sh");
	assert_string_equal(lookup(root, "weird")->target, "dir//x/./../ y ");
	assert_int_equal(strlen(lookup(root, "long")->target),
			 LONG_TARGET_LEN);
	assert_string_equal(lookup(root, "long")->target, long_target);
	assert_int_equal(lookup(root, "link")->nkids, 0); /* not followed */
	fst_free(root);
}

/* A symlink to a directory is a symlink, even at the top. */
static void test_top_level_kinds(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *n;

	tmptree_symlink(t, "to-dir", "src/sub");
	n = scan_ok(t, "to-dir");
	assert_int_equal(n->kind, FST_SYMLINK);
	assert_string_equal(n->target, "src/sub");
	assert_string_equal(n->name, NAME);
	fst_free(n);
	n = scan_ok(t, "src/a");
	assert_int_equal(n->kind, FST_FILE);
	assert_int_equal(n->mode, 0555);
	assert_int_equal(n->size, 2);
	assert_string_equal(n->name, NAME);
	fst_free(n);
	n = scan_ok(t, "src/empty");
	assert_int_equal(n->kind, FST_DIR);
	assert_int_equal(n->nkids, 0);
	fst_free(n);
}

static void test_other_policy(void **state)
{
	static const struct fst_policy p = { 0640, 0750, 0711, 0777, 42 };
	struct tmptree *t = *state;
	struct fst_node *root = NULL;
	struct mk_err e = { "" };
	char src[PATH_MAX];

	snprintf(src, sizeof(src), "%s", tmptree_path(t, "src"));
	assert_int_equal(fst_scan(src, SHOWN, "", &p, &root, &e), 0);
	assert_string_equal(root->name, "");
	assert_int_equal(root->mode, 0711);
	assert_int_equal(lookup(root, "b")->mode, 0640);
	assert_int_equal(lookup(root, "x-o")->mode, 0750);
	assert_int_equal(lookup(root, "sub/y")->mode, 0711);
	assert_int_equal(lookup(root, "sub/y")->time, 42);
	fst_free(root);
}

/* ---- order ---- */

static void check_sorted(const struct fst_node *n)
{
	for (size_t i = 0; n->kind == FST_DIR && i < n->nkids; i++) {
		if (i > 0)
			assert_true(strcmp(n->kids[i - 1]->name,
					   n->kids[i]->name) < 0);
		check_sorted(n->kids[i]);
	}
}

static void test_entries_in_byte_order(void **state)
{
	static const char *const top[] = {
		"B", "Z", "_", "a", "a-b", "a.b", "ab", "abs", "b", "d0500",
		"empty", "link", "long", "s", "sub", "weird", "x-g", "x-o",
		"\xc3\xa9",
	};
	struct tmptree *t = *state;
	struct fst_node *root = scan_ok(t, "src");

	assert_int_equal(root->nkids, ARRAY_LEN(top));
	for (size_t i = 0; i < ARRAY_LEN(top); i++)
		assert_string_equal(root->kids[i]->name, top[i]);
	check_sorted(root);
	fst_free(root);
}

struct walk_log {
	const struct fst_node *seen[64];
	size_t n;
	size_t stop_after;
};

static int log_node(struct fst_node *n, void *ctx)
{
	struct walk_log *log = ctx;

	assert_true(log->n < ARRAY_LEN(log->seen));
	log->seen[log->n++] = n;
	return log->n == log->stop_after ? 7 : 0;
}

static void test_walk_order(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *root = scan_ok(t, "src");
	struct walk_log log = { .n = 0 };

	assert_int_equal(fst_walk(root, log_node, &log), 0);
	assert_int_equal(log.n, ARRAY_LEN(walk_order));
	for (size_t i = 0; i < log.n; i++) {
		const char *want = walk_order[i].path;
		assert_ptr_equal(log.seen[i], lookup(root, want));
		assert_string_equal(log.seen[i]->name,
				    i == 0 ? NAME : base_name(want));
	}
	fst_free(root);
}

static void test_walk_stops(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *root = scan_ok(t, "src");
	struct walk_log log = { .n = 0, .stop_after = 18 };

	assert_int_equal(fst_walk(root, log_node, &log), 7);
	assert_int_equal(log.n, 18);
	assert_string_equal(log.seen[17]->name, base_name(walk_order[17].path));
	fst_free(root);
}

/* ---- errors ---- */

static void test_fifo(void **state)
{
	struct tmptree *t = *state;

	assert_int_equal(mkfifo(tmptree_path(t, "src/sub/y/pipe"), 0644), 0);
	expect_scan_fail(t, "src", SHOWN "/sub/y/pipe", "fifo");
	expect_scan_fail(t, "src/sub/y/pipe", SHOWN, "fifo");
}

static void test_socket(void **state)
{
	struct tmptree *t = *state;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	const char *path = tmptree_path(t, "src/sock");

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(a.sun_path));
	memcpy(a.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	close(fd);
	expect_scan_fail(t, "src", SHOWN "/sock", "socket");
}

static void test_missing(void **state)
{
	struct tmptree *t = *state;

	expect_scan_fail(t, "nothing", SHOWN, NULL);
}

/* ---- building trees by hand ---- */

static struct fst_node *node(const char *name, enum fst_kind kind)
{
	struct fst_node *n = fst_new(name, kind, 0555, 1);

	assert_non_null(n);
	return n;
}

static void test_sort_by_hand(void **state)
{
	static const char *const names[] = { "zz", "a", "\xff", "A", "aa",
					     "-", "z" };
	static const char *const sorted[] = { "-", "A", "a", "aa", "z", "zz",
					      "\xff" };
	struct fst_node *root = node("", FST_DIR);
	struct mk_err e = { "" };

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		assert_int_equal(fst_add(root, node(names[i], FST_FILE), &e), 0);
	assert_int_equal(fst_sort(root, &e), 0);
	assert_int_equal(root->nkids, ARRAY_LEN(sorted));
	for (size_t i = 0; i < ARRAY_LEN(sorted); i++)
		assert_string_equal(root->kids[i]->name, sorted[i]);
	assert_null(fst_child(root, "b"));
	assert_ptr_equal(fst_child(root, "aa"), root->kids[3]);
	fst_free(root);
}

static void test_sort_rejects_duplicates(void **state)
{
	struct fst_node *root = node("", FST_DIR);
	struct fst_node *sub = node("sub", FST_DIR);
	struct mk_err e = { "" };

	(void)state;
	assert_int_equal(fst_add(root, sub, &e), 0);
	assert_int_equal(fst_add(sub, node("x", FST_FILE), &e), 0);
	assert_int_equal(fst_add(sub, node("y", FST_FILE), &e), 0);
	assert_int_equal(fst_add(sub, node("x", FST_SYMLINK), &e), 0);
	assert_int_equal(fst_sort(root, &e), -1);
	assert_non_null(strstr(e.msg, "'x'"));
	fst_free(root);
}

/* Many entries: fst_add grows, fst_sort orders them all. */
static void test_many_entries(void **state)
{
	struct fst_node *root = node("", FST_DIR);
	struct mk_err e = { "" };
	char name[16];

	(void)state;
	for (int i = 999; i >= 0; i--) {
		snprintf(name, sizeof(name), "f%04d", (i * 7919) % 1000);
		assert_int_equal(fst_add(root, node(name, FST_FILE), &e), 0);
	}
	assert_int_equal(fst_sort(root, &e), 0);
	assert_int_equal(root->nkids, 1000);
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "f%04d", i);
		assert_string_equal(root->kids[i]->name, name);
	}
	fst_free(root);
}

#define SRC_TEST(f) cmocka_unit_test_setup_teardown(f, source_setup, \
						    tmptree_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		SRC_TEST(test_canonical_metadata),
		SRC_TEST(test_files),
		SRC_TEST(test_symlink_targets_verbatim),
		SRC_TEST(test_top_level_kinds),
		SRC_TEST(test_other_policy),
		SRC_TEST(test_entries_in_byte_order),
		SRC_TEST(test_walk_order),
		SRC_TEST(test_walk_stops),
		SRC_TEST(test_fifo),
		SRC_TEST(test_socket),
		SRC_TEST(test_missing),
		cmocka_unit_test(test_sort_by_hand),
		cmocka_unit_test(test_sort_rejects_duplicates),
		cmocka_unit_test(test_many_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
