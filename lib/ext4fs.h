/*
 * ext4fs.h - one ext4 filesystem, written with libext2fs inside the image.
 *
 * Owns: the feature set and geometry (4 KiB blocks, 256-byte inodes,
 * journal, extents, 64bit, flex_bg, dir_index, metadata_csum, never
 * inline_data), the size a tree needs, and writing a tree: inode numbers
 * in walk order, directory blocks packed from sorted entries (an htree,
 * htree.c's format, for every directory larger than one block), file
 * data written straight to its blocks, every identifier and time given
 * by the caller.  Does not own: what goes into the tree (image.c,
 * fstree.c) or where the partition lies (layout.c).
 */
#ifndef MK_EXT4FS_H
#define MK_EXT4FS_H

#include <stdint.h>

#include "err.h"
#include "fstree.h"
#include "ids.h"
#include "imgfile.h"

#define EXT4FS_BLOCK_SIZE 4096u
#define EXT4FS_LOST_FOUND "lost+found"
/* Links one inode may have (ext4's EXT4_LINK_MAX, e2fsck's EXT2_LINK_MAX);
 * a directory with more subdirectories counts 1 (dir_nlink). */
#define EXT4FS_LINK_MAX 65000u
/*
 * Times: 32 bits of seconds plus two epoch bits in the 256-byte inode
 * reach 2446, but e2fsck reads epoch 3 with bit 31 set (2310-04-04 to
 * 2378) as a mis-encoded pre-1970 time and "fixes" it, so the last
 * second written is the one before that range.
 */
#define EXT4FS_TIME_MIN 0
#define EXT4FS_TIME_MAX 10737418239LL /* 2310-04-04 16:10:39 UTC */

struct ext4fs_spec {
	const char *label;               /* volume name, at most 16 bytes */
	uint8_t uuid[MK_UUID_SIZE];      /* filesystem UUID */
	uint8_t hash_seed[MK_UUID_SIZE]; /* htree hash seed */
	int64_t time;                    /* superblock and internal times */
	uint64_t offset;                 /* partition start, bytes */
	uint64_t size;                   /* partition size, bytes */
	uint64_t inodes;                 /* inodes the tree needs */
	/* Told after each regular file (files 1) and each chunk of file
	 * data (bytes) written or linked; may be NULL. */
	void (*progress)(void *ctx, uint64_t files, uint64_t bytes);
	/* Told, as the allocation cursor moves on (every few MiB), the
	 * image offset below which the data area is written, cached blocks
	 * included; may be NULL.  (Metadata below it may still change.) */
	void (*settled)(void *ctx, uint64_t below);
	void *progress_ctx; /* for both */
};

/* What a tree occupies beyond the filesystem's own metadata. */
struct ext4fs_need {
	uint64_t blocks; /* data, directory, symlink and extent blocks */
	uint64_t inodes; /* inodes in use, reserved ones included */
	uint8_t hash_seed[MK_UUID_SIZE]; /* the filesystem's: how indexed
					    directories split into blocks */
};

struct ext4fs_stats {
	uint64_t size;       /* filesystem bytes */
	uint64_t used;       /* bytes in use when written */
	uint64_t inodes;     /* inodes in the filesystem */
};

/*
 * Which inode each regular file gets: `owner` answers, for the index-th
 * regular file in walk order (of `size` bytes), the index of
 * the file whose inode it shares (itself for its own inode) and, for an
 * owner, its link count; EXT4FS_TREE_CHANGED when the file is not the
 * one it knew.  NULL: every file its own inode.
 */
#define EXT4FS_TREE_CHANGED UINT64_MAX
struct ext4fs_links {
	uint64_t (*owner)(const void *ctx, uint64_t index, uint64_t size,
			  uint32_t *nlink);
	const void *ctx;
};

/* i_links_count of a directory with `subdirs` subdirectories. */
uint32_t ext4fs_dir_nlink(uint64_t subdirs);

/* A time (EXT4FS_TIME_MIN..MAX) as an inode stores it: the low 32 bits
 * and the *_extra field (epoch bits; nanoseconds 0). */
void ext4fs_encode_time(int64_t t, uint32_t *lo, uint32_t *extra);

/* The seconds an inode's `lo` and *_extra fields hold (nanoseconds are
 * extra >> EXT4_EPOCH_BITS), as the kernel reads them. */
int64_t ext4fs_decode_time(uint32_t lo, uint32_t extra);

/* Adds lost+found (as mke2fs makes it) to a root that has none. */
int ext4fs_add_lost_found(struct fst_node *root, int64_t time,
			  struct mk_err *e);

/*
 * Measuring, one node at a time during a walk (the tree must have
 * lost+found): start with ext4fs_need_init, with the hash seed the
 * filesystem will get (ext4fs_spec.hash_seed), then every node in walk
 * order, every file counted as its own inode.  Fails on a directory too
 * large for a two-level htree.
 */
void ext4fs_need_init(struct ext4fs_need *need,
		      const uint8_t hash_seed[MK_UUID_SIZE]);
int ext4fs_measure_node(struct ext4fs_need *need, const struct fst_node *n,
			struct mk_err *e);

/* Both of the above over a whole tree. */
int ext4fs_measure(struct fst_node *root,
		   const uint8_t hash_seed[MK_UUID_SIZE],
		   struct ext4fs_need *need, struct mk_err *e);

/* Blocks one regular file of `size` bytes takes (data and extents). */
uint64_t ext4fs_file_blocks(uint64_t size);

/* Smallest filesystem size (bytes) that holds `need` with `headroom`
 * bytes still free. */
int ext4fs_min_size(const struct ext4fs_need *need, uint64_t headroom,
		    uint64_t *bytes, struct mk_err *e);

/*
 * Makes the filesystem in `image_path` at spec->offset and writes the
 * tree into it, in one walk.  Every write goes through `img` (open on
 * the same file; libext2fs's through dataio.c), file data straight to
 * its blocks so that all-zero blocks stay holes.
 */
int ext4fs_write(const char *image_path, const struct imgfile *img,
		 const struct ext4fs_spec *spec, struct fst_node *root,
		 const struct ext4fs_links *links, struct ext4fs_stats *stats,
		 struct mk_err *e);

#endif
