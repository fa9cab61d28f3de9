/*
 * fstree.h - the tree a filesystem is written from.
 *
 * Owns: the node type (directory, regular file, symlink) with the exact
 * metadata it will get on disk, reading a source tree into nodes without
 * ever following a symlink, sorting entries in byte order, and the walk
 * order every later step (dedup, inode numbering) follows.  A directory
 * read from the host is loaded only while a walk is inside it, so memory
 * follows the entries on the current path, never the whole closure.
 * Does not own: which files share an inode (dedup.c) or anything about
 * ext4 (ext4fs.c).
 */
#ifndef MK_FSTREE_H
#define MK_FSTREE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum fst_kind { FST_DIR, FST_FILE, FST_SYMLINK };

/* Permission and ownership conventions a scanned tree is given. */
struct fst_policy {
	uint16_t file_mode;      /* regular file without any execute bit */
	uint16_t exec_mode;      /* regular file with one */
	uint16_t dir_mode;
	uint16_t symlink_mode;
	int64_t time;            /* every timestamp, seconds since 1970 */
	size_t shown_skip;       /* bytes of a host path before the path
				    errors show (the --store-root part) */
};

/* Nix's canonical store metadata (0444/0555, time 1). */
extern const struct fst_policy fst_policy_nix_store;

struct fst_node {
	char *name;               /* entry name; "" for a tree's root */
	enum fst_kind kind;
	uint16_t mode;            /* permission bits, type not included */
	uint32_t uid, gid;
	int64_t time;             /* atime = mtime = ctime = crtime */

	/* FST_FILE: content from `src` (a host path) or from `data`;
	 * FST_DIR: entries read from `src` by fst_load when it is set. */
	char *src;
	const void *data;         /* not owned; outlives the tree */
	uint64_t size;

	char *target;             /* FST_SYMLINK: target, verbatim */

	struct fst_node **kids;   /* FST_DIR: entries in byte order */
	size_t nkids;
	uint32_t prealloc_blocks; /* FST_DIR: minimum blocks (lost+found) */
	const struct fst_policy *policy; /* how `src` entries are read */
	int loaded;               /* entries of `src` are in `kids` */
	int dir_fd;               /* open while loaded, else -1: entries are
				     reached relative to it, not by path */
	struct fst_node *parent;  /* set by fst_add */

	uint32_t ino;             /* set by the filesystem writer */
};

struct fst_node *fst_new(const char *name, enum fst_kind kind, uint16_t mode,
			 int64_t time);

/* Adds `kid` to `dir`; the caller calls fst_sort() once all are in. */
int fst_add(struct fst_node *dir, struct fst_node *kid, struct mk_err *e);

/* Sorts every directory's entries by name bytes, recursively; fails on
 * two entries with one name. */
int fst_sort(struct fst_node *root, struct mk_err *e);

/*
 * Makes a node called `name` for the file, symlink or directory at host
 * path `src`; a directory's entries are read later, by fst_load.
 * Errors name the path without policy->shown_skip bytes.  Fifos,
 * sockets and device nodes are errors.  `policy` must outlive the node.
 */
int fst_scan(const char *src, const char *name,
	     const struct fst_policy *policy, struct fst_node **out,
	     struct mk_err *e);

/* Reads a host directory's entries, sorted (no-op when in memory). */
int fst_load(struct fst_node *dir, struct mk_err *e);

/* Frees the entries fst_load read (no-op for in-memory directories). */
void fst_unload(struct fst_node *dir);

/* Opens a host file node for reading (relative to its loaded parent
 * directory when it has one), only while it is still a regular file;
 * -1 with an error naming it on failure. */
int fst_open(const struct fst_node *n, struct mk_err *e);

/* A host node's path as errors show it: without policy->shown_skip. */
const char *fst_shown(const struct fst_node *n);

/*
 * Reads the metadata a walk of host tree `src` will need (directories,
 * inodes, symlink targets) into the kernel's caches, without building
 * nodes, following symlinks or opening files; whatever fails changes
 * nothing (the walk reports it).  Safe on any thread.
 */
void fst_prefetch(const char *src);

/* Looks up a direct entry by name; NULL when absent. */
struct fst_node *fst_child(const struct fst_node *dir, const char *name);

/* Calls `fn` for every node in walk order: a directory (loaded), then
 * its entries in byte order, depth first.  Stops at the first nonzero
 * return, or a directory that cannot be read (then -1 with `e` set). */
int fst_walk(struct fst_node *root, int (*fn)(struct fst_node *n, void *ctx),
	     void *ctx, struct mk_err *e);

void fst_free(struct fst_node *n);

#endif
