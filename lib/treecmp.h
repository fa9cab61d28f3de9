/*
 * treecmp.h - one ext4 filesystem of an image read back and compared
 * with the tree it should hold.
 *
 * Owns: walking the directories of a filesystem opened read-only
 * (libext2fs never writes to it) in step with an fstree (trees.c's, the
 * tree the build writes), reporting each difference as one line naming
 * the path: an entry missing, or there but not in the tree; another kind
 * of file; permission bits; owner; any of the four times; a file's size
 * or bytes (compared directly with the source, not by hash); a symlink's
 * target; and the links of regular files: each inode has exactly as
 * many names as its links count, and at most EXT4FS_LINK_MAX.  Also the
 * filesystem's label and size against its partition.  Memory: the
 * entries of the directories on the current path, 24 bytes per regular
 * file's inode, and a path per inode with more than one name.
 * Does not own: what the tree holds (trees.c), the partition table
 * (gpt.c, layout.c), how libext2fs opens it and names its errors
 * (e2fs.c), or the filesystem's own consistency (bitmaps, directory
 * link counts, checksums of unused blocks: e2fsck's).
 */
#ifndef MK_TREECMP_H
#define MK_TREECMP_H

#include <stdint.h>

#include "err.h"
#include "fstree.h"

struct treecmp_fs {
	const char *image;     /* the image file's name (imgread.h's) */
	uint64_t offset;       /* the partition's first byte in the image */
	uint64_t size;         /* and its bytes */
	const char *label;     /* the volume label it must have */
	const char *what;      /* the partition in messages */
	const char *mounted;   /* where it is mounted: paths are shown
				  below it ("" for /, "/boot") */
};

/*
 * Compares the filesystem with `tree` (its host directories are read
 * while the walk is inside them).  A filesystem that cannot be opened
 * or read is a difference; -1 only when the tree's own files cannot be
 * read, or out of memory.
 */
int treecmp_run(const struct treecmp_fs *fs, struct fst_node *tree,
		struct mk_diffs *diffs, struct mk_err *e);

#endif
