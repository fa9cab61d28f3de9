/*
 * dedup.h - which regular files share one inode.
 *
 * Owns: finding every group of non-empty regular files with identical
 * bytes and the same mode, each member linked to the first of its group
 * in walk order, as `nix-store --optimise` would, at most `max_links`
 * names per inode (the next identical file starts a new inode); and
 * answering, during a later walk, which inode a file shares.  Work is
 * linear in the files: only files that share size and mode with another
 * are read; XXH3 of their first and last 4 KiB picks suspects, whose
 * whole bytes are hashed once (XXH3-128); only files with equal hashes
 * are compared byte for byte.  Files are named by their index: 0, 1, 2…
 * over all regular files in walk order (empty ones too, so that a file
 * that becomes empty or non-empty between walks is the one blamed).
 * Memory: 16 bytes per file, a hash per suspect; paths are the
 * filelist's, kept from the first walk so that no later walk is needed.
 * Does not own: the walk order (fstree.c) or inodes (ext4fs.c).
 */
#ifndef MK_DEDUP_H
#define MK_DEDUP_H

#include <stdint.h>

#include "err.h"
#include "filelist.h"
#include "fstree.h"

struct dedup;

struct dedup_stats {
	uint64_t links;        /* files that became a link to another */
	uint64_t saved_bytes;  /* their sizes, added up */
	uint64_t saved_blocks; /* their cost under `blocks_of`, added up */
};

/* `max_links`: names one inode may have (ext4: EXT4FS_LINK_MAX). */
struct dedup *dedup_new(uint32_t max_links);
void dedup_free(struct dedup *d);

/* Records one node of the first walk (call it for every node, in walk
 * order; only regular files count). */
int dedup_note(struct dedup *d, const struct fst_node *n, struct mk_err *e);

/*
 * Reads the candidates by their paths in `files` (the same walk's
 * list; no walk here, several reads in flight) and decides the groups.
 * `blocks_of(size)` is what one file of that size costs, so that the
 * stats say how much smaller the filesystem gets.
 */
int dedup_resolve(struct dedup *d, const struct filelist *files,
		  uint64_t (*blocks_of)(uint64_t size),
		  struct dedup_stats *stats, struct mk_err *e);

/* The index of the file whose inode file `index` (of `size` bytes)
 * shares, itself when none, and for an owner the number of links; or
 * DEDUP_CHANGED when that is not the file the first walk noted. */
#define DEDUP_CHANGED UINT64_MAX
uint64_t dedup_owner(const struct dedup *d, uint64_t index, uint64_t size,
		     uint32_t *nlink);

#endif
