/*
 * test_ext4info.c - ext4info.c: a filesystem's superblock and one file,
 * read back through libext2fs.
 *
 * The filesystem is written by ext4fs.c (tests/testfs.h) with a known
 * label and UUID at 1 MiB into a file.  Its feature names are the ones
 * dumpe2fs printed for such a filesystem, in dumpe2fs's order; feature
 * bits libe2p has no name for are set with libext2fs and must print as
 * dumpe2fs prints them ("FEATURE_C7").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tmptree.h"

#include <ext2fs/ext2fs.h>

#include "ext4info.h"
#include "testfs.h"

#define OFFSET (1u << 20)
#define FS_BLOCK 4096u

struct fx {
	struct tmptree *t;
	char path[PATH_MAX];
	int fd;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	void *t = NULL;

	if (!f || tmptree_setup(&t))
		return -1;
	f->t = t;
	snprintf(f->path, sizeof(f->path), "%s/image", f->t->root);
	f->fd = open(f->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (f->fd < 0 || ftruncate(f->fd, OFFSET + TESTFS_BYTES))
		return -1;
	testfs_write(f->path, f->fd, OFFSET);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	void *t = f->t;

	close(f->fd);
	free(f);
	return tmptree_teardown(&t);
}

static void read_ok(const struct fx *f, struct ext4info *info)
{
	struct mk_err e = { "" };

	if (ext4info_read(f->path, OFFSET, info, &e) != 0)
		fail_msg("ext4info_read: %s", e.msg);
}

static void test_magic(void **state)
{
	struct fx *f = *state;
	uint8_t sb[EXT4INFO_SB_SIZE];

	assert_int_equal(pread(f->fd, sb, sizeof(sb),
			       OFFSET + EXT4INFO_SB_OFFSET), sizeof(sb));
	assert_true(ext4info_is_ext(sb));
	sb[56] ^= 1;
	assert_false(ext4info_is_ext(sb));
	memset(sb, 0, sizeof(sb));
	assert_false(ext4info_is_ext(sb));
}

static void test_superblock(void **state)
{
	/* dumpe2fs -h of an image mkr2simg wrote, "Filesystem features:". */
	static const char *const features[] = {
		"has_journal", "ext_attr", "resize_inode", "dir_index",
		"filetype", "extent", "64bit", "flex_bg", "sparse_super",
		"large_file", "huge_file", "dir_nlink", "extra_isize",
		"metadata_csum",
	};
	const size_t nfeatures = sizeof(features) / sizeof(*features);
	struct fx *f = *state;
	struct ext4info info;

	read_ok(f, &info);
	assert_string_equal(info.type, "ext4");
	assert_string_equal(info.label, TESTFS_LABEL);
	assert_memory_equal(info.uuid, testfs_uuid, sizeof(testfs_uuid));
	assert_int_equal(info.block_size, FS_BLOCK);
	assert_int_equal(info.blocks, TESTFS_BYTES / FS_BLOCK);
	assert_true(info.free_blocks > 0 && info.free_blocks < info.blocks);
	assert_true(info.inodes >= 64);
	/* The 10 reserved inodes (root is inode 2), then lost+found,
	 * extlinux, its file and the symlink. */
	assert_int_equal(info.inodes - info.free_inodes, 10 + 4);
	assert_int_equal(info.nfeatures, nfeatures);
	for (size_t i = 0; i < nfeatures; i++)
		assert_string_equal(info.features[i], features[i]);
}

/* Bits libe2p has no name for: written by libext2fs itself (so the
 * superblock checksum stays right), read back as dumpe2fs shows them. */
static void test_unnamed_features(void **state)
{
	struct fx *f = *state;
	struct ext4info info;
	char name[PATH_MAX + 32];
	ext2_filsys fs;

	snprintf(name, sizeof(name), "%s?offset=%u", f->path, OFFSET);
	assert_int_equal(ext2fs_open(name, EXT2_FLAG_64BITS | EXT2_FLAG_RW |
					   EXT2_FLAG_FORCE,
				     0, 0, unix_io_manager, &fs), 0);
	fs->super->s_feature_compat |= 1u << 7;
	fs->super->s_feature_ro_compat |= 1u << 2;
	fs->super->s_feature_incompat |= 1u << 31;
	ext2fs_mark_super_dirty(fs);
	assert_int_equal(ext2fs_close_free(&fs), 0);
	read_ok(f, &info);
	assert_string_equal(info.features[0], "has_journal");
	assert_string_equal(info.features[4], "FEATURE_C7");
	assert_string_equal(info.features[5], "filetype");
	assert_string_equal(info.features[8], "flex_bg");
	assert_string_equal(info.features[9], "FEATURE_I31");
	assert_string_equal(info.features[11], "large_file");
	assert_string_equal(info.features[12], "FEATURE_R2");
	assert_string_equal(info.features[14], "dir_nlink");
}

static void test_not_a_filesystem(void **state)
{
	struct fx *f = *state;
	struct ext4info info;
	struct mk_err e = { "" };

	assert_int_equal(ext4info_read(f->path, 0, &info, &e), -1);
	assert_true(strlen(e.msg) > 0);
	assert_null(strchr(e.msg, '\n'));
}

static void test_read_file(void **state)
{
	struct fx *f = *state;
	struct mk_buf b;
	struct mk_err e = { "" };

	assert_int_equal(ext4info_read_file(f->path, OFFSET,
					    "/extlinux/extlinux.conf", 4096, &b,
					    &e), 1);
	assert_int_equal(b.len, strlen(TESTFS_CONF));
	assert_string_equal(b.data, TESTFS_CONF);
	free(b.data);
	/* Through a symlink, as U-Boot's ext4 reader follows one. */
	assert_int_equal(ext4info_read_file(f->path, OFFSET, "/conf-link",
					    4096, &b, &e), 1);
	assert_string_equal(b.data, TESTFS_CONF);
	free(b.data);
	assert_int_equal(ext4info_read_file(f->path, OFFSET, "/nope", 4096, &b,
					    &e), 0);
	assert_int_equal(ext4info_read_file(f->path, OFFSET, "/nope/deeper",
					    4096, &b, &e), 0);
	assert_int_equal(ext4info_read_file(f->path, OFFSET, "/extlinux", 4096,
					    &b, &e), 0); /* a directory */
	assert_null(b.data);
	assert_int_equal(ext4info_read_file(f->path, OFFSET,
					    "/extlinux/extlinux.conf", 8, &b,
					    &e), -1);
	assert_non_null(strstr(e.msg, "more than the 8 read"));
	assert_int_equal(ext4info_read_file(f->path, 0, "/x", 8, &b, &e), -1);
}

#define FX(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX(test_magic),
		FX(test_superblock),
		FX(test_unnamed_features),
		FX(test_not_a_filesystem),
		FX(test_read_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
