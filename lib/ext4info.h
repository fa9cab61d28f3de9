/*
 * ext4info.h - what an ext2/3/4 filesystem inside an image says about
 * itself, read back through libext2fs.
 *
 * Owns: recognising one by its superblock magic, its label, UUID,
 * feature names (spelled and ordered as dumpe2fs prints them), block
 * and inode counts, and reading one small file by path from it.  Does
 * not own: writing filesystems (ext4fs.c), judging them (e2fsck does),
 * or where they lie (the caller gives the byte offset in the image).
 */
#ifndef MK_EXT4INFO_H
#define MK_EXT4INFO_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "util.h"

#define EXT4INFO_SB_OFFSET 1024u /* the superblock, from the fs start */
#define EXT4INFO_SB_SIZE 1024u
#define EXT4INFO_LABEL_MAX 16    /* s_volume_name */
#define EXT4INFO_UUID_SIZE 16
#define EXT4INFO_FEATURES_MAX (3 * 32) /* compat, incompat, ro_compat */
#define EXT4INFO_FEATURE_NAME_MAX 20    /* "metadata_csum_seed", "FEATURE_R31" */

struct ext4info {
	const char *type;                   /* "ext2", "ext3", "ext4" */
	char label[EXT4INFO_LABEL_MAX + 1]; /* as stored, NUL-terminated */
	uint8_t uuid[EXT4INFO_UUID_SIZE];
	size_t nfeatures;
	char features[EXT4INFO_FEATURES_MAX][EXT4INFO_FEATURE_NAME_MAX];
	uint32_t block_size;
	uint64_t blocks, free_blocks;       /* superblock counts */
	uint64_t inodes, free_inodes;
};

/* 1 when the EXT4INFO_SB_SIZE bytes at `sb` carry ext2/3/4's magic. */
int ext4info_is_ext(const uint8_t *sb);

/*
 * Reads the superblock of the filesystem at byte `offset` of the image
 * named `fd_path` (imgread.h's name) through libext2fs.  0, or -1 with
 * libext2fs's reason (a damaged superblock, a bad checksum).
 */
int ext4info_read(const char *fd_path, uint64_t offset, struct ext4info *info,
		  struct mk_err *e);

/*
 * Reads the regular file `path` (absolute inside the filesystem,
 * symlinks followed) of at most `max` bytes into `out` (malloc'd,
 * NUL-terminated).  1 when read, 0 when there is no such regular file,
 * -1 with a message when the filesystem cannot be read or the file is
 * larger than `max`.
 */
int ext4info_read_file(const char *fd_path, uint64_t offset, const char *path,
		       size_t max, struct mk_buf *out, struct mk_err *e);

#endif
