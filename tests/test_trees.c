/*
 * test_trees.c - trees.c against README's description of the image.
 *
 * `/boot` holds extlinux/extlinux.conf and nixos/<store-name>-Image,
 * -initrd and -dtbs/, writable by root (0644, 0755), at the build's time;
 * `/` holds /nix/store/<every closure path> with Nix's canonical metadata
 * (root-owned, 0444 or 0555, time 1), /nix/store root:nixbld 1775,
 * /nix-path-registration, an empty /boot mount point and lost+found.
 * The trees are read from a small store made here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tmptree.h"

#include "closure.h"
#include "ext4fs.h"
#include "fstree.h"
#include "toplevel.h"
#include "trees.h"

#define NIXBLD_GID 30000
#define BUILD_TIME 1700000000

#define STORE "/nix/store/"
#define A_NAME "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-linux-6.6"
#define B_NAME "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-initrd"
#define T_NAME "cccccccccccccccccccccccccccccccc-nixos-system-x"
#define A STORE A_NAME
#define B STORE B_NAME
#define T STORE T_NAME

/* A store under the tree: the kernel package (Image 0444, dtbs/ with one
 * device tree, an executable 0700), the initrd, the toplevel. */
static void make_store(struct tmptree *t)
{
	tmptree_mkdir(t, "nix", 0755);
	tmptree_mkdir(t, "nix/store", 0755);
	tmptree_mkdir(t, "nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-linux-6.6",
		      0700);
	tmptree_file(t, "nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-linux-6.6/"
		     "Image", "kernel", 0444);
	tmptree_file(t, "nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-linux-6.6/"
		     "run", "#!/bin/sh\n", 0700);
	tmptree_mkdir(t, "nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-linux-6.6/"
		      "dtbs", 0755);
	tmptree_file(t, "nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-linux-6.6/"
		     "dtbs/board.dtb", "fdt", 0600);
	tmptree_file(t, "nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-initrd",
		     "initrd", 0444);
	tmptree_mkdir(t, "nix/store/cccccccccccccccccccccccccccccccc-"
		      "nixos-system-x", 0555);
}

struct inputs {
	struct mk_closure closure;
	struct mk_toplevel top;
	struct mk_buf registration;
	struct trees_input in;
};

static void make_inputs(struct tmptree *t, struct inputs *x)
{
	static const char text[] = T "\n" A "\n" B "\n";
	static char registration[] = "registration bytes";
	struct mk_err e = { "" };

	memset(x, 0, sizeof(*x));
	if (closure_parse(text, strlen(text), "closure.txt", &x->closure, &e))
		fail_msg("%s", e.msg);
	x->top = (struct mk_toplevel){ T, A "/Image", B, A "/dtbs", "quiet" };
	x->registration = (struct mk_buf){ registration,
					   strlen(registration) };
	x->in = (struct trees_input){
		.store_root = t->root, .closure_file = "closure.txt",
		.closure = &x->closure, .top = &x->top, .dtb = "board.dtb",
		.timeout_seconds = 1, .time = BUILD_TIME,
		.registration = &x->registration };
}

static void expect_node(const struct fst_node *n, enum fst_kind kind,
			uint16_t mode, uint32_t gid, int64_t time)
{
	if (n->kind != kind || n->mode != mode || n->uid != 0 ||
	    n->gid != gid || n->time != time)
		fail_msg("%s: kind %d mode %04o %u:%u time %lld, expected kind "
			 "%d mode %04o 0:%u time %lld", n->name, n->kind,
			 n->mode, n->uid, n->gid, (long long)n->time, kind,
			 mode, gid, (long long)time);
}

static struct fst_node *child(struct fst_node *dir, const char *name)
{
	struct fst_node *n = fst_child(dir, name);

	if (!n)
		fail_msg("%s has no %s", dir->name, name);
	return n;
}

static void test_store_root(void **state)
{
	struct mk_err e = { "" };
	char *root = NULL;

	(void)state;
	assert_int_equal(trees_store_root(NULL, &root, &e), 0);
	assert_string_equal(root, "/");
	free(root);
	assert_int_equal(trees_store_root("///", &root, &e), 0);
	assert_string_equal(root, "/");
	free(root);
	assert_int_equal(trees_store_root("/srv/root//", &root, &e), 0);
	assert_string_equal(root, "/srv/root");
	free(root);
	assert_int_equal(trees_store_root("", &root, &e), -1);
	assert_string_equal(e.msg, "--store-root must name a folder");
	root = trees_host_path("/", A);
	assert_string_equal(root, A);
	free(root);
	root = trees_host_path("/srv", A);
	assert_string_equal(root, "/srv" A);
	free(root);
}

static void test_time(void **state)
{
	struct mk_err e = { "" };
	int64_t t = 7;

	(void)state;
	assert_int_equal(trees_time(-1, &t, &e), 0);
	assert_int_equal(t, 1); /* unset: Nix's time */
	assert_int_equal(trees_time(0, &t, &e), 0);
	assert_int_equal(t, 1);
	assert_int_equal(trees_time(BUILD_TIME, &t, &e), 0);
	assert_int_equal(t, BUILD_TIME);
	assert_int_equal(trees_time(EXT4FS_TIME_MAX, &t, &e), 0);
	assert_int_equal(t, EXT4FS_TIME_MAX);
	assert_int_equal(trees_time(EXT4FS_TIME_MAX + 1, &t, &e), -1);
	assert_non_null(strstr(e.msg, "SOURCE_DATE_EPOCH 10737418240 is after"));
}

static void test_check_paths(void **state)
{
	struct tmptree *t = *state;
	struct inputs x;
	struct mk_err e = { "" };

	make_store(t);
	make_inputs(t, &x);
	if (trees_check_paths(&x.in, &e))
		fail_msg("%s", e.msg);
	tmptree_unlink(t, "nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-initrd");
	assert_int_equal(trees_check_paths(&x.in, &e), -1);
	assert_non_null(strstr(e.msg, B ": listed in closure.txt but cannot "
			       "be read (No such file or directory) under "
			       "--store-root /tmp/"));
	closure_free(&x.closure);
}

/* Walk callback: every store node has Nix's canonical metadata. */
static int canonical(struct fst_node *n, void *ctx)
{
	(void)ctx;
	if (n->kind == FST_DIR)
		expect_node(n, FST_DIR, 0555, 0, 1);
	else if (n->kind == FST_SYMLINK)
		expect_node(n, FST_SYMLINK, 0777, 0, 1);
	else
		expect_node(n, FST_FILE, strcmp(n->name, "run") ? 0444 : 0555,
			    0, 1);
	return 0;
}

static void test_root(void **state)
{
	struct tmptree *t = *state;
	struct trees tr;
	struct inputs x;
	struct fst_node *r, *store, *reg;
	struct mk_err e = { "" };

	make_store(t);
	make_inputs(t, &x);
	memset(&tr, 0, sizeof(tr));
	if (trees_root(&tr, &x.in, &e))
		fail_msg("%s", e.msg);
	r = tr.root;
	expect_node(r, FST_DIR, 0755, 0, BUILD_TIME);
	assert_int_equal(r->nkids, 4); /* in byte order: */
	assert_string_equal(r->kids[0]->name, "boot");
	assert_string_equal(r->kids[1]->name, "lost+found");
	assert_string_equal(r->kids[2]->name, "nix");
	assert_string_equal(r->kids[3]->name, "nix-path-registration");
	expect_node(r->kids[0], FST_DIR, 0755, 0, BUILD_TIME);
	assert_int_equal(r->kids[0]->nkids, 0);
	expect_node(r->kids[1], FST_DIR, 0700, 0, BUILD_TIME);
	reg = r->kids[3];
	expect_node(reg, FST_FILE, 0444, 0, BUILD_TIME);
	assert_int_equal(reg->size, strlen("registration bytes"));
	assert_memory_equal(reg->data, "registration bytes", reg->size);
	store = child(child(r, "nix"), "store");
	expect_node(child(r, "nix"), FST_DIR, 0755, 0, BUILD_TIME);
	expect_node(store, FST_DIR, 01775, NIXBLD_GID, BUILD_TIME);
	assert_int_equal(store->nkids, 3);
	assert_string_equal(store->kids[0]->name, A_NAME);
	assert_string_equal(store->kids[1]->name, B_NAME);
	assert_string_equal(store->kids[2]->name, T_NAME);
	for (size_t i = 0; i < store->nkids; i++)
		if (fst_walk(store->kids[i], canonical, NULL, &e))
			fail_msg("%s", e.msg);
	trees_free(&tr);

	/* No registration: no file. */
	x.in.registration = NULL;
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(trees_root(&tr, &x.in, &e), 0);
	assert_null(fst_child(tr.root, "nix-path-registration"));
	trees_free(&tr);
	closure_free(&x.closure);
}

static int boot_modes(struct fst_node *n, void *ctx)
{
	(void)ctx;
	if (n->kind == FST_DIR)
		expect_node(n, FST_DIR, strcmp(n->name, "lost+found") ? 0755
								    : 0700,
			    0, BUILD_TIME);
	else
		expect_node(n, FST_FILE, 0644, 0, BUILD_TIME);
	return 0;
}

static void test_boot(void **state)
{
	struct tmptree *t = *state;
	struct trees tr;
	struct inputs x;
	struct fst_node *b, *nixos, *conf;
	struct mk_err e = { "" };

	make_store(t);
	make_inputs(t, &x);
	memset(&tr, 0, sizeof(tr));
	if (trees_boot(&tr, &x.in, &e))
		fail_msg("%s", e.msg);
	b = tr.boot;
	assert_int_equal(b->nkids, 3);
	assert_string_equal(b->kids[0]->name, "extlinux");
	assert_string_equal(b->kids[1]->name, "lost+found");
	assert_string_equal(b->kids[2]->name, "nixos");
	conf = child(b->kids[0], "extlinux.conf");
	assert_int_equal(conf->size, strlen(tr.conf));
	assert_non_null(strstr(conf->data, "  LINUX ../nixos/aaaaaaaaaaaaaaaaaa"
			       "aaaaaaaaaaaaaa-linux-6.6-Image\n"));
	assert_non_null(strstr(conf->data, "  FDT ../nixos/aaaaaaaaaaaaaaaaaaaaa"
			       "aaaaaaaaaaa-linux-6.6-dtbs/board.dtb\n"));
	assert_non_null(strstr(conf->data, "  APPEND init=" T "/init quiet\n"));
	assert_non_null(strstr(conf->data, "TIMEOUT 10\n"));
	nixos = b->kids[2];
	assert_int_equal(nixos->nkids, 3);
	assert_string_equal(nixos->kids[0]->name, "aaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			    "aaaa-linux-6.6-Image");
	assert_string_equal(nixos->kids[1]->name, "aaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			    "aaaa-linux-6.6-dtbs");
	assert_string_equal(nixos->kids[2]->name, "bbbbbbbbbbbbbbbbbbbbbbbbbbbb"
			    "bbbb-initrd");
	/* Writable by root whatever the store's modes, the build's time. */
	if (fst_walk(b, boot_modes, NULL, &e))
		fail_msg("%s", e.msg);
	trees_free(&tr);

	x.top.initrd = x.top.kernel;
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(trees_boot(&tr, &x.in, &e), -1);
	assert_non_null(strstr(e.msg, "its kernel and initrd are the same"));
	trees_free(&tr);
	closure_free(&x.closure);
}

#define TREE_TEST(f) cmocka_unit_test_setup_teardown(f, tmptree_setup, \
						     tmptree_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_root),
		cmocka_unit_test(test_time),
		TREE_TEST(test_check_paths),
		TREE_TEST(test_root),
		TREE_TEST(test_boot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
