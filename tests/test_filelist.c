/*
 * test_filelist.c - filelist.c: a walk's regular files, by index in
 * walk order, with host paths (none for content from memory), sizes and
 * the path as errors show it; other nodes take no index.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "filelist.h"
#include "tmptree.h"

struct walk {
	struct filelist l;
	struct mk_err e;
};

static int note(struct fst_node *n, void *ctx)
{
	struct walk *w = ctx;

	return filelist_note(&w->l, n, &w->e);
}

static void test_walk_order_paths_sizes(void **state)
{
	struct tmptree *t = *state;
	struct fst_policy policy = fst_policy_nix_store;
	struct fst_node *root = NULL, *mem;
	struct walk w = { .l = { 0 } };
	char *base, *want;
	static const char text[] = "from memory";

	tmptree_mkdir(t, "s", 0755);
	tmptree_mkdir(t, "s/d", 0755);
	tmptree_file(t, "s/d/b", "bb", 0644);
	tmptree_file(t, "s/a", "a", 0644);
	tmptree_file(t, "s/e", "", 0644);
	tmptree_symlink(t, "s/c", "a");
	base = strdup(tmptree_path(t, "s"));
	assert_non_null(base);
	policy.shown_skip = strlen(t->root);
	assert_int_equal(fst_scan(base, "", &policy, &root, &w.e), 0);
	mem = fst_new("m", FST_FILE, 0444, 1);
	assert_non_null(mem);
	mem->data = text;
	mem->size = sizeof(text) - 1;
	assert_int_equal(fst_add(root, mem, &w.e), 0);
	assert_int_equal(fst_sort(root, &w.e), 0);
	assert_int_equal(fst_walk(root, note, &w, &w.e), 0);

	/* a, d/b, e, m: the symlink and directories take no index. */
	assert_int_equal(w.l.count, 4);
	assert_true(asprintf(&want, "%s/a", base) > 0);
	assert_string_equal(filelist_path(&w.l, 0), want);
	free(want);
	assert_string_equal(filelist_shown(&w.l, 0), "/s/a");
	assert_int_equal(w.l.files[0].size, 1);
	assert_true(asprintf(&want, "%s/d/b", base) > 0);
	assert_string_equal(filelist_path(&w.l, 1), want);
	free(want);
	assert_string_equal(filelist_shown(&w.l, 1), "/s/d/b");
	assert_int_equal(w.l.files[1].size, 2);
	assert_int_equal(w.l.files[2].size, 0); /* empty files count */
	assert_null(filelist_path(&w.l, 3));
	assert_int_equal(w.l.files[3].size, sizeof(text) - 1);
	assert_int_equal(w.l.bytes, 1 + 2 + 0 + sizeof(text) - 1);
	filelist_free(&w.l);
	fst_free(root);
	free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_walk_order_paths_sizes,
						tmptree_setup,
						tmptree_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
