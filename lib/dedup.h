/*
 * dedup.h - which regular files share one inode.
 *
 * Owns: finding every group of non-empty regular files with identical
 * bytes and the same mode (XXH3 to find candidates, a byte-for-byte
 * comparison to confirm), and linking each member to the first of its
 * group in walk order, as `nix-store --optimise` would.  Does not own:
 * the walk order itself (fstree.c) or writing inodes (ext4fs.c).
 */
#ifndef MK_DEDUP_H
#define MK_DEDUP_H

#include <stdint.h>

#include "err.h"
#include "fstree.h"

struct dedup_stats {
	uint64_t links;       /* files that became a link to another */
	uint64_t saved_bytes; /* their sizes, added up */
};

/* Sets `same_as` and `nlink` over the whole tree. */
int dedup_tree(struct fst_node *root, struct dedup_stats *stats,
	       struct mk_err *e);

#endif
