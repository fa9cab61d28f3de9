/*
 * fstree.h - the in-memory tree a filesystem is written from.
 *
 * Owns: the node type (directory, regular file, symlink) with the exact
 * metadata it will get on disk, reading a source tree into nodes without
 * ever following a symlink, sorting entries in byte order, and the
 * walk order every later step (dedup, inode numbering) follows.  Does
 * not own: deciding which files share an inode (dedup.c) or anything
 * about ext4 (ext4fs.c).
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
	uint32_t time;           /* every timestamp */
};

/* Nix's canonical store metadata (0444/0555, time 1). */
extern const struct fst_policy fst_policy_nix_store;

struct fst_node {
	char *name;               /* entry name; "" for a tree's root */
	enum fst_kind kind;
	uint16_t mode;            /* permission bits, type not included */
	uint32_t uid, gid;
	uint32_t time;            /* atime = mtime = ctime = crtime */

	/* FST_FILE: content from `src` (a host path) or from `data`. */
	char *src;
	const void *data;         /* not owned; outlives the tree */
	uint64_t size;
	struct fst_node *same_as; /* dedup: shares this node's inode */
	uint32_t nlink;           /* links to this inode (owner only) */

	char *target;             /* FST_SYMLINK: target, verbatim */

	struct fst_node **kids;   /* FST_DIR: entries in byte order */
	size_t nkids;
	uint32_t prealloc_blocks; /* FST_DIR: minimum blocks (lost+found) */

	uint32_t ino;             /* filled in by the filesystem writer */
};

struct fst_node *fst_new(const char *name, enum fst_kind kind, uint16_t mode,
			 uint32_t time);

/* Adds `kid` to `dir`; the caller calls fst_sort() once all are in. */
int fst_add(struct fst_node *dir, struct fst_node *kid, struct mk_err *e);

/* Sorts every directory's entries by name bytes, recursively; fails on
 * two entries with one name. */
int fst_sort(struct fst_node *root, struct mk_err *e);

/*
 * Reads the file, symlink or directory tree at host path `src` into a
 * node called `name`.  `shown` is how errors name it (e.g. the store
 * path rather than the --store-root one).  Fifos, sockets and device
 * nodes are errors.  Entries come out sorted.
 */
int fst_scan(const char *src, const char *shown, const char *name,
	     const struct fst_policy *policy, struct fst_node **out,
	     struct mk_err *e);

/* Looks up a direct entry by name; NULL when absent. */
struct fst_node *fst_child(const struct fst_node *dir, const char *name);

/* Calls `fn` for every node in walk order: a directory, then its entries
 * in byte order, depth first.  Stops at the first nonzero return. */
int fst_walk(struct fst_node *root, int (*fn)(struct fst_node *n, void *ctx),
	     void *ctx);

void fst_free(struct fst_node *n);

#endif
