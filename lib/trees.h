/*
 * trees.h - the two trees an image holds: /boot and the root filesystem.
 *
 * Owns: what goes into each filesystem, with its exact metadata, as
 * fstree nodes: /boot's extlinux/extlinux.conf and nixos/<store name>
 * copies of the kernel, initrd and dtbs (root's, 0644/0755, the build's
 * time); on / the empty /boot mount point, /nix/store (root:nixbld 1775)
 * holding every closure path with Nix's canonical metadata, and
 * /nix-path-registration; lost+found in both; every directory sorted.
 * Also the normal forms the trees are made from: --store-root without
 * trailing slashes, the time from SOURCE_DATE_EPOCH, and every closure
 * path present under the store root.  The build (image.c) writes these
 * trees and verify (verify.c) reads an image back against them, so both
 * follow this one definition.  Does not own: reading the closure or the
 * toplevel (closure.c, toplevel.c), which files share an inode
 * (dedup.c), or how a tree becomes ext4 (ext4fs.c).
 */
#ifndef MK_TREES_H
#define MK_TREES_H

#include <stdint.h>

#include "closure.h"
#include "err.h"
#include "fstree.h"
#include "toplevel.h"
#include "util.h"

/* What both trees are made from. */
struct trees_input {
	const char *store_root;            /* trees_store_root's form */
	const char *closure_file;          /* the CLOSURE argument, for errors */
	const struct mk_closure *closure;
	const struct mk_toplevel *top;
	const char *dtb;                   /* a name under dtbs, or "none" */
	int timeout_seconds;               /* as in mkr2simg_options */
	int64_t time;                      /* trees_time's result */
	const struct mk_buf *registration; /* NULL: no /nix-path-registration */
	/* Called with each store path before it is read; may be NULL. */
	void (*reading)(void *ctx, const char *store_path);
	void *ctx;
};

/* The trees; nodes point into it (policies, the extlinux.conf text), so
 * it must stay where it is while they live.  Zero it before use. */
struct trees {
	struct fst_policy boot_policy;
	struct fst_policy store_policy;
	char *conf;            /* extlinux.conf */
	struct fst_node *root; /* the root filesystem */
	struct fst_node *boot; /* the /boot filesystem */
};

/* --store-root (NULL: "/") without trailing slashes, malloc'd in *out:
 * "DIR//" and "DIR" are one root. */
int trees_store_root(const char *given, char **out, struct mk_err *e);

/* Where `inside` (a path as seen in the store) is on the host, under
 * `store_root` (trees_store_root's form); malloc'd, NULL when out of
 * memory. */
char *trees_host_path(const char *store_root, const char *inside);

/* The time of /boot, the registration and the skeleton from
 * SOURCE_DATE_EPOCH (-1 or 0: unset, Nix's time 1); after ext4's last
 * readable time it is an error. */
int trees_time(int64_t source_date_epoch, int64_t *time, struct mk_err *e);

/* Every closure path exists under the store root, else an error naming
 * the path, the closure file and the root. */
int trees_check_paths(const struct trees_input *in, struct mk_err *e);

/* Builds t->root: the skeleton, each store path (directories are read
 * later, by walks), the registration, lost+found. */
int trees_root(struct trees *t, const struct trees_input *in,
	       struct mk_err *e);

/* Builds t->boot and t->conf from the toplevel; a kernel that is its
 * own initrd is an error. */
int trees_boot(struct trees *t, const struct trees_input *in,
	       struct mk_err *e);

void trees_free(struct trees *t);

#endif
