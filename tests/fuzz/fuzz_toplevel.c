/*
 * fuzz_toplevel.c - libFuzzer harness for toplevel resolution.
 *
 * Owns: building a small store tree from each input inside a private
 * temporary directory (tree.h's encoding: the --dtb value, then
 * directories, files, symlinks with fuzzed names and targets, and store
 * paths left out of the closure), then toplevel_load and
 * toplevel_resolve on it, and the oracles:
 *  - every path toplevel.c hands to lstat/stat/readlink/open lies
 *    beneath the root and crosses no symlink it should not (checked by
 *    the guard in guard.h, which wraps those calls at link time);
 *  - toplevel_resolve agrees with the kernel's own resolution with the
 *    root as "/" (openat2 RESOLVE_IN_ROOT), but for its documented
 *    lexical ways (see resolve_agrees);
 *  - toplevel_load succeeds exactly when expect_load, worked out here
 *    from the resolved entries, says it should: kernel, initrd, init and
 *    kernel-params regular files, dtbs (when it resolves to a directory)
 *    and the --dtb file, each inside a closure path; kernel-params one
 *    line; the --dtb name relative without empty, "." or ".." parts;
 *  - what it returns are those paths, symlink-free, and the parameters;
 *    a failure is a one-line message.
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
#include "util.h"
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

/* Nix's view: `resolved` is a closure path or lies inside one. */
static int reference_in_closure(const struct mk_closure *c,
				const char *resolved)
{
	const size_t dir = strlen(NIX_STORE_DIR "/");
	size_t i, n;

	if (strncmp(resolved, NIX_STORE_DIR "/", dir) != 0)
		return 0;
	n = dir + strcspn(resolved + dir, "/");
	for (i = 0; i < c->count; i++)
		if (strlen(c->paths[i]) == n &&
		    memcmp(c->paths[i], resolved, n) == 0)
			return 1;
	return 0;
}

/* --dtb: relative, not empty, no empty, "." or ".." component. */
static int reference_dtb_ok(const char *dtb)
{
	const char *p = dtb;

	if (*dtb == '\0' || *dtb == '/')
		return 0;
	for (;;) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (p[n] == '\0')
			return 1;
		p += n + 1;
	}
}

/* TREE_TOPLEVEL/entry resolved (by toplevel_resolve, which
 * resolve_agrees checks) to a `type` inside the closure; the resolved
 * path in `out` (size PATH_MAX). */
static int entry_ok(const struct mk_closure *c, const char *entry,
		    mode_t type, char *out)
{
	char path[PATH_MAX], *got = NULL;
	struct mk_err e;
	struct stat st;
	int ok;

	if (snprintf(path, sizeof(path), "%s/%s", TREE_TOPLEVEL, entry) >=
	    (int)sizeof(path))
		return 0;
	guard_arm(1);
	ok = toplevel_resolve(tree.root, path, &got, &e) == 0;
	guard_arm(0);
	ok = ok && fstatat(tree.rootfd, got[1] ? got + 1 : ".", &st, 0) == 0 &&
	     (st.st_mode & S_IFMT) == type && reference_in_closure(c, got);
	if (ok)
		snprintf(out, PATH_MAX, "%s", got);
	free(got);
	return ok;
}

/* kernel-params at `inside` is one line once trailing newlines go. */
static int params_one_line(const char *inside)
{
	int fd = openat(tree.rootfd, inside + 1, O_RDONLY | O_CLOEXEC);
	char buf[8192];
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;

	if (fd >= 0)
		close(fd);
	if (n < 0 || n == (ssize_t)sizeof(buf))
		fuzz_fail("cannot read back %s", inside);
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	return !memchr(buf, '\n', (size_t)n) && !memchr(buf, '\0', (size_t)n);
}

/* Whether dtbs resolves to a directory (anywhere in the root); the
 * resolved path in `out` (size PATH_MAX). */
static int dtbs_dir(char *out)
{
	char *got = NULL;
	struct mk_err e;
	struct stat st;
	int ok;

	guard_arm(1);
	ok = toplevel_resolve(tree.root, TREE_TOPLEVEL "/dtbs", &got, &e) == 0;
	guard_arm(0);
	ok = ok && fstatat(tree.rootfd, got[1] ? got + 1 : ".", &st, 0) == 0 &&
	     S_ISDIR(st.st_mode);
	if (ok)
		snprintf(out, PATH_MAX, "%s", got);
	free(got);
	return ok;
}

/* Whether toplevel_load must succeed; *has_dtbs: whether dtbs resolves
 * to a directory. */
static int expect_load(const struct mk_closure *c, const char *dtb,
		       int *has_dtbs)
{
	char got[PATH_MAX], dtbs[PATH_MAX], entry[PATH_MAX];
	int ok = entry_ok(c, "kernel", S_IFREG, got) &&
		 entry_ok(c, "initrd", S_IFREG, got) &&
		 entry_ok(c, "init", S_IFREG, got) &&
		 entry_ok(c, "kernel-params", S_IFREG, got) &&
		 params_one_line(got);

	*has_dtbs = dtbs_dir(dtbs);
	if (ok && *has_dtbs)
		ok = reference_in_closure(c, dtbs);
	if (ok && strcmp(dtb, "none") != 0)
		ok = reference_dtb_ok(dtb) && *has_dtbs &&
		     snprintf(entry, sizeof(entry), "dtbs/%s", dtb) <
			     (int)sizeof(entry) &&
		     entry_ok(c, entry, S_IFREG, got);
	return ok;
}

/* A path toplevel_load returned: symlink-free, of `type`, inside. */
static void check_result(const struct mk_closure *c, const char *what,
			 const char *inside, mode_t type)
{
	struct stat st;

	if (!inside || inside[0] != '/' || !guard_clean(inside, 1))
		fuzz_fail("%s '%s' is not a symlink-free path inside", what,
			  inside ? inside : "(null)");
	if (fstatat(tree.rootfd, inside[1] ? inside + 1 : ".", &st,
		    AT_SYMLINK_NOFOLLOW) != 0 || (st.st_mode & S_IFMT) != type)
		fuzz_fail("%s '%s' is not a %s", what, inside,
			  type == S_IFDIR ? "directory" : "regular file");
	if (!reference_in_closure(c, inside))
		fuzz_fail("%s '%s' is outside the closure", what, inside);
}

static void check_loaded(const struct mk_closure *c,
			 const struct mk_toplevel *t, int has_dtbs)
{
	if (strcmp(t->path, TREE_TOPLEVEL) != 0)
		fuzz_fail("toplevel path changed to '%s'", t->path);
	check_result(c, "kernel", t->kernel, S_IFREG);
	check_result(c, "initrd", t->initrd, S_IFREG);
	if (t->dtbs)
		check_result(c, "dtbs", t->dtbs, S_IFDIR);
	if (!t->dtbs != !has_dtbs)
		fuzz_fail("dtbs %s, but it %s to a directory",
			  t->dtbs ? t->dtbs : "(none)",
			  has_dtbs ? "resolves" : "does not resolve");
	if (!t->kernel_params || strchr(t->kernel_params, '\n'))
		fuzz_fail("kernel-params not one line");
}

static void fuzz_load(const struct mk_closure *c, const char *dtb)
{
	static const char *const entries[] = {
		"kernel", "initrd", "init", "kernel-params", "dtbs",
	};
	char path[PATH_MAX];
	struct mk_toplevel t;
	struct mk_err e;
	int rc, has_dtbs, want = expect_load(c, dtb, &has_dtbs);
	size_t i;

	if ((toplevel_dtb_problem(dtb) == NULL) != reference_dtb_ok(dtb))
		fuzz_fail("--dtb '%s': toplevel_dtb_problem says %s", dtb,
			  toplevel_dtb_problem(dtb) ? "no" : "yes");
	guard_arm(1);
	rc = toplevel_load(tree.root, c, TREE_TOPLEVEL, dtb, &t, &e);
	guard_arm(0);
	if (guard_checked() == 0)
		fuzz_fail("the file-call wrappers are not linked in");
	if ((rc == 0) != want)
		fuzz_fail("toplevel_load %s, expected %s (%s)",
			  rc ? "failed" : "succeeded",
			  want ? "success" : "failure", rc ? e.msg : "");
	if (rc == 0) {
		check_loaded(c, &t, has_dtbs);
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
	struct mk_closure c;
	size_t i;

	tree_build(&tree, data, size, &in);
	tree_closure(&tree, &in, &c);
	fuzz_load(&c, in.dtb);
	for (i = 0; i < in.nresolve; i++)
		resolve_agrees(in.resolve[i]);
	closure_free(&c);
	tree_input_free(&in);
	tree_clear(&tree);
	return 0;
}
