/*
 * test_dedup.c - dedup.c (with fstree.c) on source trees in a temp dir.
 *
 * As `nix-store --optimise` would: non-empty regular files with the same
 * bytes and the same (canonical) mode share one inode, owned by the
 * first of them in walk order; every other member points at that owner
 * (never at another member), the owner's nlink counts them all, and the
 * stats count the links and the bytes they did not store.  Empty files,
 * and files that only share a size, are left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tmptree.h"

#include "dedup.h"
#include "fstree.h"

#define BIG (300u * 1024u) /* more than one comparison chunk */

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static struct fst_node *scan_ok(struct tmptree *t, const char *rel)
{
	struct fst_node *root = NULL;
	struct mk_err e = { "" };
	char src[PATH_MAX];

	snprintf(src, sizeof(src), "%s", tmptree_path(t, rel));
	if (fst_scan(src, "/nix/store", "", &fst_policy_nix_store, &root,
		     &e) != 0)
		fail_msg("fst_scan: %s", e.msg);
	return root;
}

static void dedup_ok(struct fst_node *root, struct dedup_stats *st)
{
	struct mk_err e = { "" };

	memset(st, 0xA5, sizeof(*st));
	if (dedup_tree(root, st, &e) != 0)
		fail_msg("dedup_tree: %s", e.msg);
}

/* Follows "a/b/c" down from `root` by fst_child. */
static struct fst_node *lookup(struct fst_node *root, const char *path)
{
	char buf[256], *save = NULL;
	struct fst_node *n = root;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *c = strtok_r(buf, "/", &save); c && n;
	     c = strtok_r(NULL, "/", &save))
		n = fst_child(n, c);
	if (n == NULL)
		fail_msg("no node at \"%s\"", path);
	return n;
}

/* `path` is an owner (links == nlink - 1) or a link to `owner`. */
static void expect_owner(struct fst_node *root, const char *path,
			 uint32_t nlink)
{
	struct fst_node *n = lookup(root, path);

	if (n->same_as != NULL)
		fail_msg("%s is linked to %s, not an owner", path,
			 n->same_as->src);
	if (n->nlink != nlink)
		fail_msg("%s: nlink %u, want %u", path, n->nlink, nlink);
}

static void expect_link(struct fst_node *root, const char *path,
			const char *owner)
{
	struct fst_node *n = lookup(root, path), *o = lookup(root, owner);

	if (n->same_as != o)
		fail_msg("%s: same_as %s, want %s", path,
			 n->same_as ? n->same_as->src : "NULL", owner);
	assert_int_equal(n->nlink, 1);
}

static void big_file(struct tmptree *t, const char *rel, uint8_t last,
		     mode_t mode)
{
	uint8_t *data = malloc(BIG);

	assert_non_null(data);
	for (size_t i = 0; i < BIG; i++)
		data[i] = (uint8_t)(i * 31 + i / 1000);
	data[BIG - 1] = last;
	tmptree_file_n(t, rel, data, BIG, mode);
	free(data);
}

/*
 * Walk order: a, a/x, a/y, b, big1, big2, big3, c, d, e, f, g, g/h, z.
 * Files are created in another order so that creation order cannot
 * pass for walk order.
 */
static void make_source(struct tmptree *t)
{
	tmptree_mkdir(t, "src", 0755);
	tmptree_mkdir(t, "src/g", 0755);
	tmptree_file(t, "src/z", "hello", 0600);     /* last in walk order */
	tmptree_file(t, "src/g/h", "hello", 0644);
	tmptree_file(t, "src/f", "hellp", 0644);     /* same size only */
	tmptree_file(t, "src/e", "", 0644);          /* empty */
	tmptree_file(t, "src/d", "", 0644);          /* empty */
	tmptree_file(t, "src/c", "hello", 0700);     /* same as b */
	big_file(t, "src/big3", 1, 0444);            /* differs at the end */
	big_file(t, "src/big2", 0, 0444);
	big_file(t, "src/big1", 0, 0444);
	tmptree_file(t, "src/b", "hello", 0755);     /* exec: not a/x */
	tmptree_mkdir(t, "src/a", 0755);
	tmptree_file(t, "src/a/y", "hello", 0644);
	tmptree_file(t, "src/a/x", "hello", 0444);   /* first "hello" */
}

static int source_setup(void **state)
{
	if (tmptree_setup(state) != 0)
		return -1;
	make_source(*state);
	return 0;
}

static void test_groups(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *root = scan_ok(t, "src");
	struct dedup_stats st;

	dedup_ok(root, &st);
	expect_owner(root, "a/x", 4);
	expect_link(root, "a/y", "a/x");
	expect_link(root, "g/h", "a/x"); /* the first, not a/y */
	expect_link(root, "z", "a/x");
	expect_owner(root, "b", 2);      /* exec bit: its own group */
	expect_link(root, "c", "b");
	expect_owner(root, "big1", 2);
	expect_link(root, "big2", "big1");
	expect_owner(root, "big3", 1);   /* same size, one byte differs */
	expect_owner(root, "d", 1);      /* empty files never link */
	expect_owner(root, "e", 1);
	expect_owner(root, "f", 1);      /* same size, other bytes */
	assert_int_equal(st.links, 5);
	assert_int_equal(st.saved_bytes, 5 + 5 + 5 + 5 + BIG);
	fst_free(root);
}

/* Directories and symlinks are never touched. */
static void test_only_files(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *root;
	struct dedup_stats st;

	tmptree_symlink(t, "src/l1", "hello");
	tmptree_symlink(t, "src/l2", "hello");
	root = scan_ok(t, "src");
	dedup_ok(root, &st);
	assert_null(lookup(root, "l1")->same_as);
	assert_null(lookup(root, "l2")->same_as);
	assert_int_equal(lookup(root, "l1")->nlink, 1);
	assert_null(lookup(root, "a")->same_as);
	assert_null(root->same_as);
	assert_int_equal(st.links, 5);
	fst_free(root);
}

/* The same tree twice gives the same links. */
static void test_deterministic(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *r1 = scan_ok(t, "src"), *r2 = scan_ok(t, "src");
	static const char *const paths[] = { "a/x", "a/y", "b", "big1",
					     "big2", "big3", "c", "d", "e",
					     "f", "g/h", "z" };
	struct dedup_stats s1, s2;

	dedup_ok(r1, &s1);
	dedup_ok(r2, &s2);
	assert_memory_equal(&s1, &s2, sizeof(s1));
	for (size_t i = 0; i < ARRAY_LEN(paths); i++) {
		struct fst_node *a = lookup(r1, paths[i]);
		struct fst_node *b = lookup(r2, paths[i]);
		assert_int_equal(a->nlink, b->nlink);
		assert_int_equal(a->same_as == NULL, b->same_as == NULL);
		if (a->same_as)
			assert_string_equal(a->same_as->src, b->same_as->src);
	}
	fst_free(r1);
	fst_free(r2);
}

static void test_nothing_to_share(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *root;
	struct dedup_stats st;

	tmptree_mkdir(t, "other", 0755);
	tmptree_file(t, "other/one", "1", 0644);
	tmptree_file(t, "other/two", "2", 0644);
	tmptree_file(t, "other/e1", "", 0644);
	tmptree_file(t, "other/e2", "", 0644);
	tmptree_mkdir(t, "other/dir", 0755);
	root = scan_ok(t, "other");
	dedup_ok(root, &st);
	assert_int_equal(st.links, 0);
	assert_int_equal(st.saved_bytes, 0);
	expect_owner(root, "one", 1);
	expect_owner(root, "two", 1);
	expect_owner(root, "e1", 1);
	expect_owner(root, "e2", 1);
	fst_free(root);
}

/* A single file, and an empty directory, are trees too. */
static void test_degenerate_trees(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *root;
	struct dedup_stats st;

	root = scan_ok(t, "src/a/x");
	dedup_ok(root, &st);
	assert_int_equal(st.links, 0);
	assert_int_equal(root->nlink, 1);
	fst_free(root);
	tmptree_mkdir(t, "void", 0755);
	root = scan_ok(t, "void");
	dedup_ok(root, &st);
	assert_int_equal(st.links, 0);
	assert_int_equal(st.saved_bytes, 0);
	fst_free(root);
}

/* A candidate that vanished after the scan is an error naming it. */
static void test_vanished_file(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *root = scan_ok(t, "src");
	struct dedup_stats st;
	struct mk_err e = { "" };
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", tmptree_path(t, "src/g/h"));
	tmptree_unlink(t, "src/g/h");
	assert_int_equal(dedup_tree(root, &st, &e), -1);
	if (strstr(e.msg, path) == NULL)
		fail_msg("message \"%s\" does not name %s", e.msg, path);
	fst_free(root);
}

/* Many copies: every one links straight to the first. */
static void test_many_copies(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *root;
	struct dedup_stats st;
	char name[32];

	tmptree_mkdir(t, "many", 0755);
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "many/f%02d", 49 - i);
		tmptree_file(t, name, i % 2 ? "same-odd" : "same-eve", 0644);
	}
	root = scan_ok(t, "many");
	dedup_ok(root, &st);
	/* Even-numbered files hold one text, odd-numbered the other. */
	expect_owner(root, "f00", 25);
	expect_owner(root, "f01", 25);
	for (int i = 2; i < 50; i++) {
		snprintf(name, sizeof(name), "f%02d", i);
		expect_link(root, name, i % 2 ? "f01" : "f00");
	}
	assert_int_equal(st.links, 48);
	assert_int_equal(st.saved_bytes, 48 * 8);
	fst_free(root);
}

#define SRC_TEST(f) cmocka_unit_test_setup_teardown(f, source_setup, \
						    tmptree_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		SRC_TEST(test_groups),
		SRC_TEST(test_only_files),
		SRC_TEST(test_deterministic),
		SRC_TEST(test_nothing_to_share),
		SRC_TEST(test_degenerate_trees),
		SRC_TEST(test_vanished_file),
		SRC_TEST(test_many_copies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
