/*
 * fuzz_toplevel.c - libFuzzer harness for toplevel resolution.
 *
 * Owns: building a small store tree from each input inside a private
 * temporary directory (tree.h's encoding: the --dtb value, then
 * directories, files and symlinks with fuzzed names and targets), then
 * toplevel_load and toplevel_resolve on it, and the oracles:
 *  - every path toplevel.c hands to lstat/stat/readlink/open lies
 *    beneath the root and crosses no symlink it should not (checked by
 *    the guard in guard.h, which wraps those calls at link time);
 *  - toplevel_resolve agrees with the kernel's own resolution with the
 *    root as "/" (openat2 RESOLVE_IN_ROOT), but for its documented
 *    lexical ways (see resolve_agrees);
 *  - a successful toplevel_load returns existing, symlink-free paths of
 *    the right types, a one-line kernel-params and, when a dtb is asked
 *    for, a dtbs directory; a failure is a one-line message.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "guard.h"
#include "toplevel.h"
#include "tree.h"

#define EAGAIN_TRIES 100 /* RESOLVE_IN_ROOT retries after any rename */

static struct tree tree;

static void remove_root(void)
{
	tree_remove(&tree);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tree_init(&tree);
	guard_init(tree.root, tree.rootfd);
	atexit(remove_root);
	return 0;
}

/* The kernel's answer for `path` with the root as "/": 0 and the
 * resolved path as seen inside in `out`, or an errno. */
static int kernel_resolve(const char *path, char *out, size_t cap)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT };
	char link[64], host[PATH_MAX];
	size_t rl = strlen(tree.root);
	ssize_t n;
	long fd = -1;
	int i;

	for (i = 0; i < EAGAIN_TRIES && fd < 0; i++) {
		fd = syscall(SYS_openat2, tree.rootfd, *path ? path : "/", &how,
			     sizeof(how));
		if (fd < 0 && errno != EAGAIN)
			return errno;
	}
	if (fd < 0)
		return EAGAIN;
	snprintf(link, sizeof(link), "/proc/self/fd/%ld", fd);
	n = readlink(link, host, sizeof(host) - 1);
	close((int)fd);
	if (n < 0 || (size_t)n < rl || memcmp(host, tree.root, rl) != 0)
		fuzz_fail("openat2 left the root: %.*s", (int)(n < 0 ? 0 : n),
			  host);
	host[n] = '\0';
	snprintf(out, cap, "%s", host[rl] ? host + rl : "/");
	return 0;
}

/*
 * toplevel_resolve drops empty and "." components and applies ".." to
 * what it resolved so far without checking that it is a directory, so
 * it accepts "file/" and "file/.." where the kernel says ENOTDIR; it
 * counts symlinks and lengths its own way (ELOOP, ENAMETOOLONG, "too
 * many symlinks", "too long").  Anything else must agree.
 */
static void resolve_agrees(const char *path)
{
	char want[PATH_MAX], *got = NULL;
	struct mk_err e;
	int kerr = kernel_resolve(path, want, sizeof(want)), rc;

	guard_arm(1);
	rc = toplevel_resolve(tree.root, path, &got, &e);
	guard_arm(0);

	if (rc == 0 && kerr == 0 && strcmp(got, want) != 0)
		fuzz_fail("'%s' resolves to '%s', the kernel says '%s'", path,
			  got, want);
	if (rc == 0 && kerr != 0 && kerr != ENOTDIR && kerr != ELOOP &&
	    kerr != ENAMETOOLONG && kerr != EAGAIN)
		fuzz_fail("'%s' resolves to '%s', the kernel says %s", path,
			  got, strerror(kerr));
	if (rc != 0 && kerr == 0 && !strstr(e.msg, "too many symlinks") &&
	    !strstr(e.msg, "too long"))
		fuzz_fail("'%s' refused (%s), the kernel resolves it to '%s'",
			  path, e.msg, want);
	if (rc == 0 && !guard_clean(got, 1))
		fuzz_fail("'%s' resolved to '%s', not a symlink-free path",
			  path, got);
	if (rc != 0)
		fuzz_check_err(&e, NULL);
	free(got);
}

/* A path toplevel_load returned: existing, symlink-free, of `type`. */
static void check_result(const char *what, const char *inside, mode_t type)
{
	struct stat st;

	if (!inside || inside[0] != '/' || !guard_clean(inside, 1))
		fuzz_fail("%s '%s' is not a symlink-free path inside", what,
			  inside ? inside : "(null)");
	if (fstatat(tree.rootfd, inside[1] ? inside + 1 : ".", &st,
		    AT_SYMLINK_NOFOLLOW) != 0 || (st.st_mode & S_IFMT) != type)
		fuzz_fail("%s '%s' is not a %s", what, inside,
			  type == S_IFDIR ? "directory" : "regular file");
}

static void check_loaded(const struct mk_toplevel *t, const char *dtb)
{
	if (strcmp(t->path, TREE_TOPLEVEL) != 0)
		fuzz_fail("toplevel path changed to '%s'", t->path);
	check_result("kernel", t->kernel, S_IFREG);
	check_result("initrd", t->initrd, S_IFREG);
	if (t->dtbs)
		check_result("dtbs", t->dtbs, S_IFDIR);
	else if (strcmp(dtb, "none") != 0)
		fuzz_fail("dtb '%s' accepted without a dtbs directory", dtb);
	if (!t->kernel_params || strchr(t->kernel_params, '\n'))
		fuzz_fail("kernel-params not one line");
}

static void fuzz_load(const char *dtb)
{
	static const char *const entries[] = {
		"kernel", "initrd", "init", "kernel-params", "dtbs",
	};
	char path[PATH_MAX];
	struct mk_toplevel t;
	struct mk_err e;
	size_t i;
	int rc;

	guard_arm(1);
	rc = toplevel_load(tree.root, TREE_TOPLEVEL, dtb, &t, &e);
	guard_arm(0);
	if (rc == 0 && guard_checked() == 0)
		fuzz_fail("the file-call wrappers are not linked in");
	if (rc == 0) {
		check_loaded(&t, dtb);
		toplevel_free(&t);
	} else {
		fuzz_check_err(&e, NULL);
	}
	for (i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", TREE_TOPLEVEL,
			 entries[i]);
		resolve_agrees(path);
	}
	if (snprintf(path, sizeof(path), "%s/dtbs/%s", TREE_TOPLEVEL, dtb) <
	    (int)sizeof(path))
		resolve_agrees(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tree_input in;
	size_t i;

	tree_build(&tree, data, size, &in);
	fuzz_load(in.dtb);
	for (i = 0; i < in.nresolve; i++)
		resolve_agrees(in.resolve[i]);
	tree_input_free(&in);
	tree_clear(&tree);
	return 0;
}
