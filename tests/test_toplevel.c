/*
 * test_toplevel.c - toplevel.c on store trees built in a temp directory.
 *
 * The temp directory plays --store-root: every path the library is
 * given or returns is as seen inside it, absolute symlinks start again
 * at it, ".." stops at it, and nothing on the host outside it is ever
 * looked at.  A NixOS toplevel has kernel, initrd, init and
 * kernel-params, and dtbs when the kernel has device trees.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tmptree.h"

#include "toplevel.h"

#define ST "/nix/store/"
#define HSYS "0123456789abcdfghijklmnpqrsvwxyz"
#define HLNX "zyxwvsrqpnmlkjihgfdcba9876543210"
#define HINI "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HDTB "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SYS_NAME HSYS "-nixos-system-r2s-24.05"
#define SYS ST SYS_NAME
#define LNX ST HLNX "-linux-6.6.30"
#define INI ST HINI "-initrd-linux-6.6.30"
#define DTB ST HDTB "-linux-6.6.30-dtbs"
#define R2S_DTB "rockchip/rk3328-nanopi-r2s.dtb"
#define PARAMS "console=ttyS2,1500000 loglevel=4"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Relative to the tree root, without the leading "/". */
#define R(p) ((p) + 1)

/*
 * The usual shape: kernel and initrd as absolute links into other store
 * paths, dtbs a link to a directory, init a file, as NixOS makes them.
 */
static void make_store(struct tmptree *t)
{
	tmptree_mkdir(t, "nix", 0755);
	tmptree_mkdir(t, "nix/store", 0755);
	tmptree_mkdir(t, R(LNX), 0755);
	tmptree_mkdir(t, R(INI), 0755);
	tmptree_mkdir(t, R(DTB), 0755);
	tmptree_mkdir(t, R(DTB "/rockchip"), 0755);
	tmptree_mkdir(t, R(SYS), 0755);
	tmptree_file(t, R(LNX "/Image"), "kernel image", 0444);
	tmptree_file(t, R(INI "/initrd"), "initrd image", 0444);
	tmptree_file(t, R(DTB "/rockchip/rk3328-nanopi-r2s.dtb"), "dtb", 0444);
	tmptree_symlink(t, R(SYS "/kernel"), LNX "/Image");
	tmptree_symlink(t, R(SYS "/initrd"), INI "/initrd");
	tmptree_symlink(t, R(SYS "/dtbs"), DTB);
	tmptree_file(t, R(SYS "/init"), "#!/bin/sh\n", 0555);
	tmptree_file(t, R(SYS "/kernel-params"), PARAMS "\n", 0444);
}

static int store_setup(void **state)
{
	if (tmptree_setup(state) != 0)
		return -1;
	make_store(*state);
	return 0;
}

static char *resolve_ok(struct tmptree *t, const char *path)
{
	struct mk_err e = { "" };
	char *out = NULL;

	if (toplevel_resolve(t->root, path, &out, &e) != 0)
		fail_msg("toplevel_resolve %s: %s", path, e.msg);
	assert_non_null(out);
	return out;
}

static void expect_resolve(struct tmptree *t, const char *path,
			   const char *want)
{
	char *got = resolve_ok(t, path);

	assert_string_equal(got, want);
	free(got);
}

/*
 * Fails with a message naming `what` (the missing component, as seen
 * inside, or the path itself), never the host's view of the tree.
 */
static void expect_resolve_fail(struct tmptree *t, const char *path,
				const char *what)
{
	struct mk_err e = { "" };
	char *out = NULL;

	assert_int_equal(toplevel_resolve(t->root, path, &out, &e), -1);
	if (strstr(e.msg, what) == NULL)
		fail_msg("message \"%s\" does not name %s", e.msg, what);
	if (strstr(e.msg, t->root) != NULL)
		fail_msg("message \"%s\" shows the host path", e.msg);
	assert_null(strchr(e.msg, '\n'));
	assert_null(out);
}

static void closure_of(struct mk_closure *c, const char *const *paths,
		       size_t n);

/* The closure of make_store's system. */
static const char *const store_closure[] = { SYS, LNX, INI, DTB };

static int load(struct tmptree *t, const char *dtb, struct mk_toplevel *tl,
		struct mk_err *e)
{
	struct mk_closure c;
	int rc;

	closure_of(&c, store_closure, ARRAY_LEN(store_closure));
	rc = toplevel_load(t->root, &c, SYS, dtb, tl, e);
	closure_free(&c);
	return rc;
}

static void load_ok(struct tmptree *t, const char *dtb, struct mk_toplevel *tl)
{
	struct mk_err e = { "" };

	if (load(t, dtb, tl, &e) != 0)
		fail_msg("toplevel_load: %s", e.msg);
}

/* Fails, naming the toplevel and every one of `needles`. */
static void expect_load_fail(struct tmptree *t, const char *dtb,
			     const char *n1, const char *n2)
{
	struct mk_toplevel tl;
	struct mk_err e = { "" };
	const char *needles[] = { SYS, n1, n2 };

	assert_int_equal(load(t, dtb, &tl, &e), -1);
	for (size_t i = 0; i < ARRAY_LEN(needles); i++)
		if (needles[i] != NULL && strstr(e.msg, needles[i]) == NULL)
			fail_msg("message \"%s\" does not contain \"%s\"",
				 e.msg, needles[i]);
	assert_null(strchr(e.msg, '\n'));
}

/* ---- toplevel_pick ---- */

static void closure_of(struct mk_closure *c, const char *const *paths,
		       size_t n)
{
	char text[4096] = "";
	struct mk_err e = { "" };

	for (size_t i = 0; i < n; i++) {
		strcat(text, paths[i]);
		strcat(text, "\n");
	}
	if (closure_parse(text, strlen(text), "test", c, &e) != 0)
		fail_msg("closure_parse: %s", e.msg);
}

static void test_pick_the_one(void **state)
{
	static const char *const paths[] = { LNX, SYS, INI, DTB };
	struct mk_closure c;
	struct mk_err e = { "" };
	char *out = NULL;

	(void)state;
	closure_of(&c, paths, ARRAY_LEN(paths));
	assert_int_equal(toplevel_pick(&c, NULL, &out, &e), 0);
	assert_string_equal(out, SYS);
	free(out);
	closure_free(&c);
}

static void test_pick_requested(void **state)
{
	static const char *const paths[] = {
		LNX, SYS, ST HINI "-nixos-system-other-24.05",
	};
	struct mk_closure c;
	struct mk_err e = { "" };
	char *out = NULL;

	(void)state;
	closure_of(&c, paths, ARRAY_LEN(paths));
	assert_int_equal(toplevel_pick(&c, SYS, &out, &e), 0);
	assert_string_equal(out, SYS);
	free(out);
	/* Any closure path may be asked for, named so or not. */
	assert_int_equal(toplevel_pick(&c, LNX, &out, &e), 0);
	assert_string_equal(out, LNX);
	free(out);
	assert_int_equal(toplevel_pick(&c, DTB, &out, &e), -1);
	assert_non_null(strstr(e.msg, DTB));
	assert_int_equal(toplevel_pick(&c, SYS "/kernel", &out, &e), -1);
	assert_non_null(strstr(e.msg, SYS "/kernel"));
	closure_free(&c);
}

static void test_pick_none_or_several(void **state)
{
	static const char *const none[] = { LNX, INI, ST HSYS "-nixos-system" };
	static const char *const two[] = {
		LNX, SYS, ST HINI "-nixos-system-other-24.05",
	};
	struct mk_closure c;
	struct mk_err e = { "" };
	char *out = NULL;

	(void)state;
	closure_of(&c, none, ARRAY_LEN(none));
	assert_int_equal(toplevel_pick(&c, NULL, &out, &e), -1);
	assert_non_null(strstr(e.msg, "--toplevel"));
	closure_free(&c);
	closure_of(&c, two, ARRAY_LEN(two));
	assert_int_equal(toplevel_pick(&c, NULL, &out, &e), -1);
	assert_non_null(strstr(e.msg, "--toplevel"));
	closure_free(&c);
}

/* ---- toplevel_resolve ---- */

static void test_resolve_plain(void **state)
{
	struct tmptree *t = *state;

	expect_resolve(t, SYS "/init", SYS "/init");
	expect_resolve(t, SYS, SYS);
	expect_resolve(t, "/", "/");
	expect_resolve(t, "//nix/./store//" SYS_NAME "/./init", SYS "/init");
	expect_resolve(t, SYS "/", SYS);
}

static void test_resolve_absolute_links_stay_inside(void **state)
{
	struct tmptree *t = *state;

	expect_resolve(t, SYS "/kernel", LNX "/Image");
	expect_resolve(t, SYS "/dtbs", DTB);
	expect_resolve(t, SYS "/dtbs/" R2S_DTB, DTB "/" R2S_DTB);
	/* /etc/passwd exists on the host but not in the tree. */
	assert_int_equal(access("/etc/passwd", F_OK), 0);
	tmptree_symlink(t, R(SYS "/passwd"), "/etc/passwd");
	expect_resolve_fail(t, SYS "/passwd", "/etc");
	/* Once it exists inside, that is what the link means. */
	tmptree_mkdir(t, "etc", 0755);
	tmptree_file(t, "etc/passwd", "inside\n", 0644);
	expect_resolve(t, SYS "/passwd", "/etc/passwd");
}

static void test_resolve_dotdot_stops_at_root(void **state)
{
	struct tmptree *t = *state;

	tmptree_mkdir(t, "etc", 0755);
	tmptree_file(t, "etc/marker", "inside\n", 0644);
	expect_resolve(t, "/../../../etc/marker", "/etc/marker");
	expect_resolve(t, SYS "/../../../../../../etc/marker", "/etc/marker");
	expect_resolve(t, "/..", "/");
	tmptree_symlink(t, R(SYS "/up"), "../../../../../../../etc/marker");
	expect_resolve(t, SYS "/up", "/etc/marker");
	/* The host's own /etc is never reached that way. */
	tmptree_symlink(t, R(SYS "/host"), "../../../../../../../etc/passwd");
	expect_resolve_fail(t, SYS "/host", "/etc");
}

static void test_resolve_relative_links(void **state)
{
	struct tmptree *t = *state;

	tmptree_symlink(t, R(SYS "/k2"), "kernel");        /* to a link */
	tmptree_symlink(t, R(SYS "/k3"), "./k2");
	tmptree_symlink(t, R(SYS "/sibling"), "../" HLNX "-linux-6.6.30");
	expect_resolve(t, SYS "/k3", LNX "/Image");
	expect_resolve(t, SYS "/sibling/Image", LNX "/Image");
	/* ".." after a link to a directory climbs from where it points. */
	tmptree_symlink(t, R(SYS "/rk"), DTB "/rockchip");
	expect_resolve(t, SYS "/rk/..", DTB);
	expect_resolve(t, SYS "/rk/../rockchip/rk3328-nanopi-r2s.dtb",
		       DTB "/" R2S_DTB);
}

static void test_resolve_missing(void **state)
{
	struct tmptree *t = *state;

	expect_resolve_fail(t, SYS "/nothing", SYS "/nothing");
	expect_resolve_fail(t, ST "nothing/at/all", ST "nothing");
	expect_resolve_fail(t, SYS "/init/below-a-file",
			    SYS "/init/below-a-file");
	tmptree_symlink(t, R(SYS "/dangling"), LNX "/zImage");
	expect_resolve_fail(t, SYS "/dangling", LNX "/zImage");
}

static void test_resolve_loops(void **state)
{
	struct tmptree *t = *state;

	tmptree_symlink(t, R(SYS "/self"), "self");
	tmptree_symlink(t, R(SYS "/a"), "b");
	tmptree_symlink(t, R(SYS "/b"), SYS "/a");
	tmptree_symlink(t, R(SYS "/deeper"), "deeper/x");
	tmptree_symlink(t, R(SYS "/root"), "/");
	expect_resolve_fail(t, SYS "/self", SYS "/self");
	expect_resolve_fail(t, SYS "/a", SYS "/a");
	expect_resolve_fail(t, SYS "/b/x", SYS "/b/x");
	expect_resolve_fail(t, SYS "/deeper", SYS "/deeper");
	/* A link back to the root is not a loop by itself. */
	expect_resolve(t, SYS "/root" SYS "/root" SYS "/init", SYS "/init");
}

/* Forty links in a row are fine (as on Linux); a loop is not. */
static void test_resolve_long_chain(void **state)
{
	struct tmptree *t = *state;
	char name[32], target[32];

	for (int i = 1; i <= 40; i++) {
		snprintf(name, sizeof(name), "tmp/l%d", i);
		snprintf(target, sizeof(target), "l%d", i - 1);
		if (i == 1)
			tmptree_mkdir(t, "tmp", 0755);
		tmptree_symlink(t, name, i == 1 ? "/etc/target" : target);
	}
	tmptree_mkdir(t, "etc", 0755);
	tmptree_file(t, "etc/target", "x", 0644);
	expect_resolve(t, "/tmp/l40", "/etc/target");
}

/* ---- toplevel_load ---- */

static void test_load(void **state)
{
	struct tmptree *t = *state;
	struct mk_toplevel tl;

	load_ok(t, R2S_DTB, &tl);
	assert_string_equal(tl.path, SYS);
	assert_string_equal(tl.kernel, LNX "/Image");
	assert_string_equal(tl.initrd, INI "/initrd");
	assert_string_equal(tl.dtbs, DTB);
	assert_string_equal(tl.kernel_params, PARAMS);
	toplevel_free(&tl);
	assert_null(tl.path);
	assert_null(tl.kernel);
}

static void test_load_dtb_none(void **state)
{
	struct tmptree *t = *state;
	struct mk_toplevel tl;

	load_ok(t, "none", &tl);
	assert_string_equal(tl.dtbs, DTB);
	toplevel_free(&tl);
	tmptree_unlink(t, R(SYS "/dtbs"));
	load_ok(t, "none", &tl);
	assert_null(tl.dtbs);
	assert_string_equal(tl.kernel, LNX "/Image");
	toplevel_free(&tl);
}

/* Files held directly, and links relative to the toplevel, work too. */
static void test_load_plain_files(void **state)
{
	struct tmptree *t = *state;
	struct mk_toplevel tl;

	tmptree_unlink(t, R(SYS "/kernel"));
	tmptree_file(t, R(SYS "/kernel"), "k", 0444);
	tmptree_unlink(t, R(SYS "/initrd"));
	tmptree_symlink(t, R(SYS "/initrd"), "../" HINI "-initrd-linux-6.6.30"
					     "/initrd");
	load_ok(t, R2S_DTB, &tl);
	assert_string_equal(tl.kernel, SYS "/kernel");
	assert_string_equal(tl.initrd, INI "/initrd");
	toplevel_free(&tl);
}

static void test_load_params(void **state)
{
	struct tmptree *t = *state;
	struct mk_toplevel tl;

	tmptree_unlink(t, R(SYS "/kernel-params"));
	tmptree_file(t, R(SYS "/kernel-params"), PARAMS "\n\n\n", 0444);
	load_ok(t, R2S_DTB, &tl);
	assert_string_equal(tl.kernel_params, PARAMS);
	toplevel_free(&tl);
	tmptree_unlink(t, R(SYS "/kernel-params"));
	tmptree_file(t, R(SYS "/kernel-params"), "", 0444);
	load_ok(t, R2S_DTB, &tl);
	assert_string_equal(tl.kernel_params, "");
	toplevel_free(&tl);
	tmptree_unlink(t, R(SYS "/kernel-params"));
	tmptree_file(t, R(SYS "/kernel-params"), "a\nb\n", 0444);
	expect_load_fail(t, R2S_DTB, "kernel-params", NULL);
}

/* Missing, dangling, or the wrong type: each names toplevel and entry. */
static void check_entry_failures(struct tmptree *t, const char *entry,
				 const char *fill)
{
	char rel[256], quoted[64];

	snprintf(rel, sizeof(rel), "%s/%s", R(SYS), entry);
	snprintf(quoted, sizeof(quoted), "'%s'", entry);
	assert_int_equal(unlink(tmptree_path(t, rel)), 0);
	expect_load_fail(t, R2S_DTB, quoted, NULL);
	tmptree_symlink(t, rel, ST "missing-store-path/file");
	expect_load_fail(t, R2S_DTB, quoted, NULL);
	tmptree_unlink(t, rel);
	tmptree_symlink(t, rel, LNX); /* a directory */
	expect_load_fail(t, R2S_DTB, quoted, NULL);
	tmptree_unlink(t, rel);
	tmptree_file(t, rel, fill, 0444); /* back as it was, for the next */
}

static void test_load_missing_kernel(void **state)
{
	check_entry_failures(*state, "kernel", "k");
}

static void test_load_missing_initrd(void **state)
{
	check_entry_failures(*state, "initrd", "i");
}

static void test_load_missing_init(void **state)
{
	check_entry_failures(*state, "init", "#!/bin/sh\n");
}

static void test_load_missing_params(void **state)
{
	check_entry_failures(*state, "kernel-params", PARAMS);
}

/* Absolute links in the toplevel never reach the host's files. */
static void test_load_kernel_on_host(void **state)
{
	struct tmptree *t = *state;

	assert_int_equal(access("/etc/passwd", F_OK), 0);
	tmptree_unlink(t, R(SYS "/kernel"));
	tmptree_symlink(t, R(SYS "/kernel"), "/etc/passwd");
	expect_load_fail(t, R2S_DTB, "'kernel'", NULL);
}

static void test_load_missing_dtb(void **state)
{
	struct tmptree *t = *state;

	expect_load_fail(t, "rockchip/rk3399-other.dtb",
			 "rockchip/rk3399-other.dtb", NULL);
	expect_load_fail(t, "rockchip", "rockchip", NULL); /* a directory */
	tmptree_unlink(t, R(SYS "/dtbs"));
	expect_load_fail(t, R2S_DTB, R2S_DTB, "dtbs");
	tmptree_symlink(t, R(SYS "/dtbs"), DTB "/rockchip/rk3328-nanopi-r2s.dtb");
	expect_load_fail(t, R2S_DTB, R2S_DTB, NULL); /* dtbs not a dir */
}

/*
 * Issue 9: each of kernel, initrd, init, kernel-params and dtbs must
 * resolve into a store path of the closure; a link to /etc/shadow
 * (inside --store-root, which is the host with the default root) or to
 * / would copy that onto /boot.  The error names the link and target.
 */
static void expect_confined(struct tmptree *t, const char *entry,
			    const char *target, const char *restore)
{
	char rel[256], quoted[64];

	snprintf(rel, sizeof(rel), "%s/%s", R(SYS), entry);
	snprintf(quoted, sizeof(quoted), "'%s'", entry);
	tmptree_unlink(t, rel);
	tmptree_symlink(t, rel, target);
	expect_load_fail(t, R2S_DTB, quoted, target);
	tmptree_unlink(t, rel);
	tmptree_symlink(t, rel, restore);
}

static void test_load_outside_store(void **state)
{
	struct tmptree *t = *state;

	tmptree_mkdir(t, "etc", 0755);
	tmptree_file(t, "etc/shadow", "root:secret", 0600);
	tmptree_mkdir(t, R(ST "00000000000000000000000000000000-not-in-closure"),
		      0755);
	tmptree_file(t, R(ST "00000000000000000000000000000000-not-in-closure/f"),
		     "f", 0444);
	expect_confined(t, "kernel", "/etc/shadow", LNX "/Image");
	expect_confined(t, "initrd", "/etc/shadow", INI "/initrd");
	expect_confined(t, "kernel", ST "00000000000000000000000000000000"
			"-not-in-closure/f", LNX "/Image");
	expect_confined(t, "dtbs", "/", DTB);
	expect_confined(t, "dtbs", "/etc", DTB);
	tmptree_unlink(t, R(SYS "/init"));
	tmptree_symlink(t, R(SYS "/init"), "/etc/shadow");
	expect_load_fail(t, R2S_DTB, "'init'", "/etc/shadow");
	tmptree_unlink(t, R(SYS "/init"));
	tmptree_file(t, R(SYS "/init"), "#!/bin/sh\n", 0555);
	tmptree_unlink(t, R(SYS "/kernel-params"));
	tmptree_symlink(t, R(SYS "/kernel-params"), "../../../etc/shadow");
	expect_load_fail(t, R2S_DTB, "'kernel-params'", "/etc/shadow");
}

/* A device tree under dtbs that links out of the store is refused too. */
static void test_load_dtb_link_outside(void **state)
{
	struct tmptree *t = *state;

	tmptree_mkdir(t, "etc", 0755);
	tmptree_file(t, "etc/hostname", "host", 0644);
	tmptree_symlink(t, R(DTB "/rockchip/evil.dtb"), "/etc/hostname");
	expect_load_fail(t, "rockchip/evil.dtb", "evil.dtb", "/etc/hostname");
}

/*
 * The message names the device tree link's own target, read inside the
 * store root.  dtbs is an absolute link, which the host would follow to
 * its own /nix/store rather than the tree's had toplevel.c read
 * "toplevel/dtbs/rockchip/evil.dtb" as is (found by fuzz_toplevel).
 */
static void test_load_dtb_link_read_inside(void **state)
{
	struct tmptree *t = *state;

	tmptree_mkdir(t, "etc", 0755);
	tmptree_file(t, "etc/hostname", "host", 0644);
	tmptree_symlink(t, R(DTB "/rockchip/evil.dtb"),
			"../../../../etc/hostname");
	expect_load_fail(t, "rockchip/evil.dtb", "-> ../../../../etc/hostname",
			 "not to /etc/hostname");
}

static void expect_dtb_refused(struct tmptree *t, const char *dtb,
			       const char *why)
{
	struct mk_toplevel tl;
	struct mk_err e = { "" };

	assert_int_equal(load(t, dtb, &tl, &e), -1);
	if (!strstr(e.msg, "--dtb") || !strstr(e.msg, dtb) ||
	    !strstr(e.msg, why))
		fail_msg("message \"%s\" does not name --dtb %s (%s)", e.msg,
			 dtb, why);
}

/* --dtb is a relative path without "..": it goes into the FDT line. */
static void test_load_dtb_name(void **state)
{
	struct tmptree *t = *state;

	tmptree_mkdir(t, "etc", 0755);
	tmptree_file(t, "etc/hostname", "host", 0644);
	expect_dtb_refused(t, "../../../../etc/hostname", "'..'");
	expect_dtb_refused(t, "rockchip/../rockchip/rk3328-nanopi-r2s.dtb",
			   "'..'");
	expect_dtb_refused(t, "/etc/hostname", "relative");
	expect_dtb_refused(t, "", "empty");
	expect_dtb_refused(t, "rockchip//rk3328-nanopi-r2s.dtb", "component");
	assert_null(toplevel_dtb_problem(R2S_DTB));
	assert_null(toplevel_dtb_problem("rk3328-nanopi-r2s.dtb"));
	assert_non_null(toplevel_dtb_problem("rockchip/"));
}

#define STORE_TEST(f) cmocka_unit_test_setup_teardown(f, store_setup, \
						      tmptree_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick_the_one),
		cmocka_unit_test(test_pick_requested),
		cmocka_unit_test(test_pick_none_or_several),
		STORE_TEST(test_resolve_plain),
		STORE_TEST(test_resolve_absolute_links_stay_inside),
		STORE_TEST(test_resolve_dotdot_stops_at_root),
		STORE_TEST(test_resolve_relative_links),
		STORE_TEST(test_resolve_missing),
		STORE_TEST(test_resolve_loops),
		STORE_TEST(test_resolve_long_chain),
		STORE_TEST(test_load),
		STORE_TEST(test_load_dtb_none),
		STORE_TEST(test_load_plain_files),
		STORE_TEST(test_load_params),
		STORE_TEST(test_load_missing_kernel),
		STORE_TEST(test_load_missing_initrd),
		STORE_TEST(test_load_missing_init),
		STORE_TEST(test_load_missing_params),
		STORE_TEST(test_load_kernel_on_host),
		STORE_TEST(test_load_missing_dtb),
		STORE_TEST(test_load_outside_store),
		STORE_TEST(test_load_dtb_link_outside),
		STORE_TEST(test_load_dtb_link_read_inside),
		STORE_TEST(test_load_dtb_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
