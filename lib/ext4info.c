#include "ext4info.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ext2fs/ext2fs.h>

#include "e2fs.h"

#define BITS 32

/* Where the magic is in the superblock, and what it is. */
#define SB_MAGIC_AT 56
#define SB_MAGIC_BYTES { 0x53, 0xEF }

enum feature_set { COMPAT, INCOMPAT, RO_COMPAT, FEATURE_SETS };

/* The names e2fsprogs 1.47's libe2p gives (dumpe2fs, tune2fs -O), by
 * set and bit; a bit without a name is printed as it prints it. */
static const struct {
	enum feature_set set;
	uint32_t mask;
	const char *name;
} feature_names[] = {
	{ COMPAT, EXT2_FEATURE_COMPAT_DIR_PREALLOC, "dir_prealloc" },
	{ COMPAT, EXT2_FEATURE_COMPAT_IMAGIC_INODES, "imagic_inodes" },
	{ COMPAT, EXT3_FEATURE_COMPAT_HAS_JOURNAL, "has_journal" },
	{ COMPAT, EXT2_FEATURE_COMPAT_EXT_ATTR, "ext_attr" },
	{ COMPAT, EXT2_FEATURE_COMPAT_RESIZE_INODE, "resize_inode" },
	{ COMPAT, EXT2_FEATURE_COMPAT_DIR_INDEX, "dir_index" },
	{ COMPAT, EXT2_FEATURE_COMPAT_LAZY_BG, "lazy_bg" },
	{ COMPAT, EXT2_FEATURE_COMPAT_EXCLUDE_BITMAP, "snapshot_bitmap" },
	{ COMPAT, EXT4_FEATURE_COMPAT_SPARSE_SUPER2, "sparse_super2" },
	{ COMPAT, EXT4_FEATURE_COMPAT_FAST_COMMIT, "fast_commit" },
	{ COMPAT, EXT4_FEATURE_COMPAT_STABLE_INODES, "stable_inodes" },
	{ COMPAT, EXT4_FEATURE_COMPAT_ORPHAN_FILE, "orphan_file" },
	{ INCOMPAT, EXT2_FEATURE_INCOMPAT_COMPRESSION, "compression" },
	{ INCOMPAT, EXT2_FEATURE_INCOMPAT_FILETYPE, "filetype" },
	{ INCOMPAT, EXT3_FEATURE_INCOMPAT_RECOVER, "needs_recovery" },
	{ INCOMPAT, EXT3_FEATURE_INCOMPAT_JOURNAL_DEV, "journal_dev" },
	{ INCOMPAT, EXT2_FEATURE_INCOMPAT_META_BG, "meta_bg" },
	{ INCOMPAT, EXT3_FEATURE_INCOMPAT_EXTENTS, "extent" },
	{ INCOMPAT, EXT4_FEATURE_INCOMPAT_64BIT, "64bit" },
	{ INCOMPAT, EXT4_FEATURE_INCOMPAT_MMP, "mmp" },
	{ INCOMPAT, EXT4_FEATURE_INCOMPAT_FLEX_BG, "flex_bg" },
	{ INCOMPAT, EXT4_FEATURE_INCOMPAT_EA_INODE, "ea_inode" },
	{ INCOMPAT, EXT4_FEATURE_INCOMPAT_DIRDATA, "dirdata" },
	{ INCOMPAT, EXT4_FEATURE_INCOMPAT_CSUM_SEED, "metadata_csum_seed" },
	{ INCOMPAT, EXT4_FEATURE_INCOMPAT_LARGEDIR, "large_dir" },
	{ INCOMPAT, EXT4_FEATURE_INCOMPAT_INLINE_DATA, "inline_data" },
	{ INCOMPAT, EXT4_FEATURE_INCOMPAT_ENCRYPT, "encrypt" },
	{ INCOMPAT, EXT4_FEATURE_INCOMPAT_CASEFOLD, "casefold" },
	{ RO_COMPAT, EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER, "sparse_super" },
	{ RO_COMPAT, EXT2_FEATURE_RO_COMPAT_LARGE_FILE, "large_file" },
	{ RO_COMPAT, EXT4_FEATURE_RO_COMPAT_HUGE_FILE, "huge_file" },
	{ RO_COMPAT, EXT4_FEATURE_RO_COMPAT_GDT_CSUM, "uninit_bg" },
	{ RO_COMPAT, EXT4_FEATURE_RO_COMPAT_DIR_NLINK, "dir_nlink" },
	{ RO_COMPAT, EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE, "extra_isize" },
	{ RO_COMPAT, EXT4_FEATURE_RO_COMPAT_QUOTA, "quota" },
	{ RO_COMPAT, EXT4_FEATURE_RO_COMPAT_BIGALLOC, "bigalloc" },
	{ RO_COMPAT, EXT4_FEATURE_RO_COMPAT_METADATA_CSUM, "metadata_csum" },
	{ RO_COMPAT, EXT4_FEATURE_RO_COMPAT_REPLICA, "replica" },
	{ RO_COMPAT, EXT4_FEATURE_RO_COMPAT_READONLY, "read-only" },
	{ RO_COMPAT, EXT4_FEATURE_RO_COMPAT_PROJECT, "project" },
	{ RO_COMPAT, EXT4_FEATURE_RO_COMPAT_SHARED_BLOCKS, "shared_blocks" },
	{ RO_COMPAT, EXT4_FEATURE_RO_COMPAT_VERITY, "verity" },
	{ RO_COMPAT, EXT4_FEATURE_RO_COMPAT_ORPHAN_PRESENT, "orphan_present" },
};

/* What libe2p prints for a bit it has no name for. */
static const char unnamed_set[FEATURE_SETS] = { 'C', 'I', 'R' };

/* What ext3 could not mount: blkid calls such a filesystem ext4. */
#define EXT3_INCOMPAT (EXT2_FEATURE_INCOMPAT_FILETYPE | \
		       EXT3_FEATURE_INCOMPAT_RECOVER | \
		       EXT2_FEATURE_INCOMPAT_META_BG)
#define EXT3_RO_COMPAT (EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER | \
			EXT2_FEATURE_RO_COMPAT_LARGE_FILE)

int ext4info_is_ext(const uint8_t *sb)
{
	static const uint8_t magic[] = SB_MAGIC_BYTES;

	return memcmp(sb + SB_MAGIC_AT, magic, sizeof(magic)) == 0;
}

static void feature_name(enum feature_set set, unsigned bit,
			 char out[EXT4INFO_FEATURE_NAME_MAX])
{
	for (size_t i = 0; i < sizeof(feature_names) / sizeof(*feature_names);
	     i++)
		if (feature_names[i].set == set &&
		    feature_names[i].mask == 1u << bit) {
			snprintf(out, EXT4INFO_FEATURE_NAME_MAX, "%s",
				 feature_names[i].name);
			return;
		}
	snprintf(out, EXT4INFO_FEATURE_NAME_MAX, "FEATURE_%c%u",
		 unnamed_set[set], bit);
}

static void describe(struct ext2_super_block *sb, struct ext4info *info)
{
	/* The order dumpe2fs prints: the three words as they lie on disk. */
	const uint32_t words[FEATURE_SETS] = { sb->s_feature_compat,
					       sb->s_feature_incompat,
					       sb->s_feature_ro_compat };

	memset(info, 0, sizeof(*info));
	for (int set = 0; set < FEATURE_SETS; set++)
		for (unsigned bit = 0; bit < BITS; bit++)
			if (words[set] & (1u << bit))
				feature_name((enum feature_set)set, bit,
					     info->features[info->nfeatures++]);
	if ((sb->s_feature_incompat & ~EXT3_INCOMPAT) ||
	    (sb->s_feature_ro_compat & ~EXT3_RO_COMPAT))
		info->type = "ext4";
	else
		info->type = sb->s_feature_compat &
					     EXT3_FEATURE_COMPAT_HAS_JOURNAL
				     ? "ext3"
				     : "ext2";
	memcpy(info->label, sb->s_volume_name, EXT4INFO_LABEL_MAX);
	memcpy(info->uuid, sb->s_uuid, EXT4INFO_UUID_SIZE);
	info->block_size = EXT2_BLOCK_SIZE(sb);
	info->blocks = ext2fs_blocks_count(sb);
	info->free_blocks = ext2fs_free_blocks_count(sb);
	info->inodes = sb->s_inodes_count;
	info->free_inodes = sb->s_free_inodes_count;
}

int ext4info_read(const char *fd_path, uint64_t offset, struct ext4info *info,
		  struct mk_err *e)
{
	ext2_filsys fs;
	/* The superblock alone, whatever features it names: enough to say
	 * what it is, and robust against damage further in. */
	errcode_t err = e2fs_open_ro(fd_path, offset,
				EXT2_FLAG_SUPER_ONLY | EXT2_FLAG_FORCE, &fs);

	if (err)
		return mk_fail(e, "%s", e2fs_message(err));
	describe(fs->super, info);
	ext2fs_close_free(&fs);
	return 0;
}

static int read_inode_file(ext2_filsys fs, ext2_ino_t ino, size_t max,
			   const char *path, struct mk_buf *out,
			   struct mk_err *e)
{
	struct ext2_inode inode;
	ext2_file_t file;
	unsigned int got = 0;
	uint64_t size;
	errcode_t err = ext2fs_read_inode(fs, ino, &inode);

	if (err)
		return mk_fail(e, "%s: %s", path, e2fs_message(err));
	if (!LINUX_S_ISREG(inode.i_mode))
		return 0;
	size = EXT2_I_SIZE(&inode);
	if (size > max)
		return mk_fail(e, "%s: %llu bytes, more than the %zu read", path,
			       (unsigned long long)size, max);
	out->data = malloc((size_t)size + 1);
	if (!out->data)
		return mk_fail(e, "out of memory");
	err = ext2fs_file_open(fs, ino, 0, &file);
	if (!err) {
		err = ext2fs_file_read(file, out->data, (unsigned int)size, &got);
		ext2fs_file_close(file);
	}
	if (!err && got != size)
		err = EXT2_ET_SHORT_READ;
	if (err) {
		free(out->data);
		out->data = NULL;
		return mk_fail(e, "%s: %s", path, e2fs_message(err));
	}
	out->data[size] = '\0';
	out->len = (size_t)size;
	return 1;
}

int ext4info_read_file(const char *fd_path, uint64_t offset, const char *path,
		       size_t max, struct mk_buf *out, struct mk_err *e)
{
	ext2_filsys fs;
	ext2_ino_t ino;
	errcode_t err = e2fs_open_ro(fd_path, offset, 0, &fs);
	int rc;

	memset(out, 0, sizeof(*out));
	if (err)
		return mk_fail(e, "%s", e2fs_message(err));
	err = ext2fs_namei_follow(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path, &ino);
	if (err == EXT2_ET_FILE_NOT_FOUND || err == EXT2_ET_NO_DIRECTORY)
		rc = 0;
	else if (err)
		rc = mk_fail(e, "%s: %s", path, e2fs_message(err));
	else
		rc = read_inode_file(fs, ino, max, path, out, e);
	ext2fs_close_free(&fs);
	return rc;
}
