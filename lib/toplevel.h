/*
 * toplevel.h - the NixOS system to boot and the files it names.
 *
 * Owns: picking the toplevel from the closure, resolving its `kernel`,
 * `initrd`, `dtbs`, `init` and `kernel-params` through symlinks inside
 * --store-root (never on the host) and keeping them inside the
 * closure's store paths (a link to /etc/shadow or to / must not reach
 * /boot), reading `kernel-params`, and checking the --dtb name.  Does not own: the
 * boot menu text (extlinux.c) or copying files (image.c, ext4fs.c).
 */
#ifndef MK_TOPLEVEL_H
#define MK_TOPLEVEL_H

#include "closure.h"
#include "err.h"

#define TOPLEVEL_NAME_MARK "-nixos-system-"

struct mk_toplevel {
	char *path;          /* the toplevel store path */
	char *kernel;        /* resolved store paths ("/nix/store/…") */
	char *initrd;
	char *dtbs;          /* NULL when the toplevel has none */
	char *kernel_params; /* trailing newlines removed */
};

/* `requested` when given (must be in the closure), else the one path
 * whose name has TOPLEVEL_NAME_MARK.  *out is malloc'd. */
int toplevel_pick(const struct mk_closure *c, const char *requested,
		  char **out, struct mk_err *e);

/*
 * Resolves `path` (absolute, as seen inside the store) through every
 * symlink, treating `root` as "/".  *out is the resolved path as seen
 * inside, malloc'd.  Fails when a component is missing.
 */
int toplevel_resolve(const char *root, const char *path, char **out,
		     struct mk_err *e);

/*
 * Loads kernel, initrd, init, dtbs, kernel-params, each of which must
 * resolve to a path inside one of the closure's store paths (else an
 * error naming the link and its target); with a dtb name (not "none"),
 * checks it is relative without a ".." component and exists under dtbs.
 */
int toplevel_load(const char *root, const struct mk_closure *c,
		  const char *toplevel, const char *dtb, struct mk_toplevel *t,
		  struct mk_err *e);

/* NULL when `dtb` is a usable --dtb name (relative, no empty, "." or
 * ".." component), else a short reason. */
const char *toplevel_dtb_problem(const char *dtb);

void toplevel_free(struct mk_toplevel *t);

#endif
