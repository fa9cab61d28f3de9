/*
 * test_ext4fs.c - ext4fs.c: link counts, times, and what a written
 * filesystem holds, read back through libext2fs itself.
 *
 * A directory's link count is 2 plus its subdirectories while that is at
 * most 65,000 (EXT4_LINK_MAX), else 1 (dir_nlink), as the kernel's
 * ext4_inc_count and e2fsck's pass 4 count it.  Times are stored as the
 * kernel decodes them: the low 32 bits signed, plus two epoch bits of
 * 2^32 in *_extra.  A file's all-zero blocks are holes of the ext4 file
 * (mapped to no block), so they read as zero wherever the image lands;
 * every other block is mapped and holds the file's bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tmptree.h"

#include <errno.h>

#include <ext2fs/ext2fs.h>

#include "ext4fs.h"
#include "fstree.h"

#define BS EXT4FS_BLOCK_SIZE
#define FS_BYTES (64u << 20)
#define IMAGE_OFFSET (1u << 20) /* the filesystem starts 1 MiB in */

/* ---- link counts ---- */

static void expect_dir_nlink(uint64_t links_counted, uint32_t want)
{
	uint32_t got = ext4fs_dir_nlink(links_counted - 2);

	if (got != want)
		fail_msg("%llu links counted: stored %u, want %u",
			 (unsigned long long)links_counted, got, want);
}

static void test_dir_nlink(void **state)
{
	(void)state;
	expect_dir_nlink(2, 2); /* no subdirectories */
	expect_dir_nlink(64999, 64999);
	expect_dir_nlink(65000, 65000);
	expect_dir_nlink(65001, 1);
	expect_dir_nlink(65535, 1);
	expect_dir_nlink(65536, 1);
	expect_dir_nlink(1ull << 32, 1);
}

/* ---- times ---- */

/* How the kernel (ext4_decode_extra_time) reads a stored time back. */
static int64_t decode(uint32_t lo, uint32_t extra)
{
	return (int64_t)(int32_t)lo + ((int64_t)(extra & EXT4_EPOCH_MASK) << 32);
}

static void expect_time(int64_t t, uint32_t lo, uint32_t extra)
{
	uint32_t got_lo = 7, got_extra = 7;

	ext4fs_encode_time(t, &got_lo, &got_extra);
	if (got_lo != lo || got_extra != extra)
		fail_msg("%lld: stored %#x:%u, want %#x:%u", (long long)t,
			 got_lo, got_extra, lo, extra);
	assert_int_equal(decode(got_lo, got_extra), t);
	/* verify's reader gives back the time from the spec's fields. */
	assert_int_equal(ext4fs_decode_time(lo, extra), t);
}

static void test_times(void **state)
{
	(void)state;
	expect_time(0, 0, 0);
	expect_time(1, 1, 0);
	expect_time(INT32_MAX, 0x7fffffffu, 0);        /* 2038-01-19 */
	expect_time((int64_t)INT32_MAX + 1, 0x80000000u, 1);
	expect_time(3000000000ll, 3000000000u, 1);     /* 2065 */
	expect_time(1ll << 32, 0, 1);                  /* 2106 */
	expect_time(EXT4FS_TIME_MAX, 0x7fffffffu, 2);  /* 2310-04-04 */
	/* One second later needs epoch 3 with bit 31 set, which e2fsck
	 * takes for a pre-1970 time: the limit is right below it. */
	expect_time(EXT4FS_TIME_MAX + 1, 0x80000000u, 3);
}

/* ---- a written filesystem, read back ---- */

struct fs_fixture {
	struct tmptree *tree;
	char *image;
	int fd;
	char *content;
	uint64_t size;
	struct fst_node *root;
};

/* Content of `nblocks` blocks: block i is zero where `zero[i]` is 1. */
static char *blocks_content(const int *zero, size_t nblocks)
{
	char *c = calloc(nblocks, BS);

	assert_non_null(c);
	for (size_t i = 0; i < nblocks; i++)
		if (!zero[i])
			memset(c + i * BS, (int)('a' + i), BS);
	return c;
}

static struct fst_node *inline_file(struct fst_node *dir, const char *name,
				    const char *data, uint64_t size)
{
	struct fst_node *f = fst_new(name, FST_FILE, 0444, 1);
	struct mk_err e = { "" };

	assert_non_null(f);
	f->data = data;
	f->size = size;
	assert_int_equal(fst_add(dir, f, &e), 0);
	return f;
}

static int fs_setup(void **state)
{
	struct fs_fixture *f = calloc(1, sizeof(*f));
	void *tree = NULL;

	if (!f || tmptree_setup(&tree) != 0)
		return -1;
	f->tree = tree;
	f->image = strdup(tmptree_path(f->tree, "image"));
	f->fd = open(f->image, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (f->fd < 0 || ftruncate(f->fd, IMAGE_OFFSET + FS_BYTES) != 0)
		return -1;
	f->root = fst_new("", FST_DIR, 0755, 1);
	*state = f;
	return f->root ? 0 : -1;
}

static int fs_teardown(void **state)
{
	struct fs_fixture *f = *state;
	void *tree = f->tree;

	close(f->fd);
	free(f->image);
	free(f->content);
	fst_free(f->root);
	free(f);
	return tmptree_teardown(&tree);
}

static void write_fs(struct fs_fixture *f)
{
	struct ext4fs_spec spec = { .label = "TEST", .time = 1,
				    .offset = IMAGE_OFFSET, .size = FS_BYTES,
				    .inodes = 64 };
	struct ext4fs_stats st;
	struct mk_err e = { "" };

	if (fst_sort(f->root, &e) || ext4fs_add_lost_found(f->root, 1, &e) ||
	    ext4fs_write(f->image, f->fd, &spec, f->root, NULL, &st, &e))
		fail_msg("%s", e.msg);
}

static ext2_filsys open_fs(const struct fs_fixture *f)
{
	char name[4096];
	ext2_filsys fs = NULL;

	snprintf(name, sizeof(name), "%s?offset=%u", f->image, IMAGE_OFFSET);
	assert_int_equal(ext2fs_open(name, EXT2_FLAG_64BITS, 0, 0,
				     unix_io_manager, &fs), 0);
	return fs;
}

static void test_zero_blocks_are_holes(void **state)
{
	static const int zero[] = { 0, 1, 1, 0, 1, 0, 0, 1 };
	const size_t nblocks = sizeof(zero) / sizeof(zero[0]);
	struct fs_fixture *f = *state;
	struct ext2_inode in;
	ext2_filsys fs;
	ext2_ino_t ino;
	char *got = malloc(BS);
	blk64_t pblk;
	size_t i, mapped = 0;

	assert_non_null(got);
	f->content = blocks_content(zero, nblocks);
	f->size = nblocks * BS - 100; /* the last block is partial */
	inline_file(f->root, "sparse", f->content, f->size);
	write_fs(f);
	fs = open_fs(f);
	assert_int_equal(ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO,
				      "sparse", &ino), 0);
	assert_int_equal(ext2fs_read_inode(fs, ino, &in), 0);
	for (i = 0; i < nblocks; i++) {
		pblk = 0;
		assert_int_equal(ext2fs_bmap2(fs, ino, &in, NULL, 0, i, NULL,
					      &pblk), 0);
		if (zero[i] && pblk != 0)
			fail_msg("zero block %zu is mapped to %llu", i,
				 (unsigned long long)pblk);
		if (zero[i])
			continue;
		if (pblk == 0)
			fail_msg("data block %zu is not mapped", i);
		mapped++;
		assert_int_equal(pread(f->fd, got, BS, (off_t)(IMAGE_OFFSET +
							     pblk * BS)),
				 BS);
		assert_memory_equal(got, f->content + i * BS,
				    i + 1 == nblocks ? BS - 100 : BS);
	}
	assert_int_equal(EXT2_I_SIZE(&in), f->size);
	assert_int_equal(ext2fs_get_stat_i_blocks(fs, &in),
			 mapped * (BS / 512));
	ext2fs_close_free(&fs);
	free(got);
}

static void test_all_zero_file_has_no_blocks(void **state)
{
	struct fs_fixture *f = *state;
	struct ext2_inode in;
	ext2_filsys fs;
	ext2_ino_t ino;

	f->content = calloc(3, BS);
	f->size = 3 * BS;
	inline_file(f->root, "zeros", f->content, f->size);
	write_fs(f);
	fs = open_fs(f);
	assert_int_equal(ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO,
				      "zeros", &ino), 0);
	assert_int_equal(ext2fs_read_inode(fs, ino, &in), 0);
	assert_int_equal(EXT2_I_SIZE(&in), 3 * BS);
	assert_int_equal(in.i_blocks, 0);
	ext2fs_close_free(&fs);
}

/* Every block the journal maps is data in the image file (written
 * zeros, not a hole a used card would keep its old bytes in). */
static int journal_block(ext2_filsys fs, blk64_t *blocknr, e2_blkcnt_t cnt,
			 blk64_t ref, int off, void *priv)
{
	const struct fs_fixture *f = priv;
	off_t at = (off_t)(IMAGE_OFFSET + *blocknr * BS);

	(void)fs, (void)cnt, (void)ref, (void)off;
	if (lseek(f->fd, at, SEEK_DATA) != at)
		fail_msg("journal block %llu is a hole in the image",
			 (unsigned long long)*blocknr);
	return 0;
}

static void test_journal_is_data(void **state)
{
	struct fs_fixture *f = *state;
	ext2_filsys fs;

	write_fs(f);
	fs = open_fs(f);
	assert_int_not_equal(fs->super->s_journal_inum, 0);
	assert_int_equal(ext2fs_block_iterate3(fs, fs->super->s_journal_inum,
					       BLOCK_FLAG_DATA_ONLY, NULL,
					       journal_block, f),
			 0);
	ext2fs_close_free(&fs);
}

/* Inode tables are not claimed zeroed: the unused tail of each is left
 * to the kernel's lazy init, and bg_itable_unused says where it starts. */
static void test_inode_tables_not_claimed_zeroed(void **state)
{
	struct fs_fixture *f = *state;
	ext2_filsys fs;
	dgrp_t g;

	write_fs(f);
	fs = open_fs(f);
	for (g = 0; g < fs->group_desc_count; g++) {
		assert_false(ext2fs_bg_flags_test(fs, g, EXT2_BG_INODE_ZEROED));
		assert_true(ext2fs_bg_itable_unused(fs, g) <=
			    fs->super->s_inodes_per_group);
	}
	assert_true(ext2fs_bg_itable_unused(fs, 0) <
		    fs->super->s_inodes_per_group);
	ext2fs_close_free(&fs);
}

struct seen {
	int n;
	char last[EXT2_NAME_LEN + 1];
};

static int count_entry(struct ext2_dir_entry *de, int off, int bs, char *buf,
		       void *priv)
{
	struct seen *s = priv;
	int len = ext2fs_dirent_name_len(de);
	char name[EXT2_NAME_LEN + 1];

	(void)off, (void)bs, (void)buf;
	memcpy(name, de->name, (size_t)len);
	name[len] = '\0';
	if (strcmp(name, ".") && strcmp(name, "..")) {
		if (s->n && strcmp(s->last, name) >= 0)
			fail_msg("%s after %s: not in byte order", name, s->last);
		memcpy(s->last, name, (size_t)len + 1);
		s->n++;
	}
	return 0;
}

/* A directory of many entries, packed into several blocks, reads back
 * through libext2fs whole and in byte order. */
static void test_directory_blocks(void **state)
{
	struct fs_fixture *f = *state;
	struct fst_node *dir = fst_new("many", FST_DIR, 0755, 1);
	struct mk_err e = { "" };
	struct seen seen = { 0, "" };
	struct ext2_inode in;
	ext2_filsys fs;
	ext2_ino_t ino;
	char name[300];

	assert_non_null(dir);
	assert_int_equal(fst_add(f->root, dir, &e), 0);
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "entry-%04d-%.*s", i, i % 200,
			 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		inline_file(dir, name, "x", 1);
	}
	write_fs(f);
	fs = open_fs(f);
	assert_int_equal(ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO,
				      "many", &ino), 0);
	assert_int_equal(ext2fs_read_inode(fs, ino, &in), 0);
	assert_true(EXT2_I_SIZE(&in) > 10 * BS); /* several blocks */
	assert_int_equal(ext2fs_dir_iterate(fs, ino, 0, NULL, count_entry,
					    &seen), 0);
	assert_int_equal(seen.n, 1000);
	ext2fs_close_free(&fs);
}

/* The smallest size ext4fs_min_size gives for a need holds it. */
static void test_min_size_holds(void **state)
{
	struct fs_fixture *f = *state;
	struct ext4fs_need need;
	struct mk_err e = { "" };
	uint64_t bytes = 0;

	f->content = malloc(8u << 20);
	assert_non_null(f->content);
	for (size_t i = 0; i < (8u << 20); i++)
		f->content[i] = (char)(i * 7 + 1);
	inline_file(f->root, "big", f->content, 8u << 20);
	assert_int_equal(fst_sort(f->root, &e), 0);
	assert_int_equal(ext4fs_add_lost_found(f->root, 1, &e), 0);
	assert_int_equal(ext4fs_measure(f->root, &need, &e), 0);
	assert_int_equal(ext4fs_min_size(&need, 0, &bytes, &e), 0);
	assert_true(bytes <= FS_BYTES);
	{
		struct ext4fs_spec spec = { .label = "MIN", .time = 1,
					    .offset = IMAGE_OFFSET,
					    .size = bytes,
					    .inodes = need.inodes };
		struct ext4fs_stats st;

		if (ext4fs_write(f->image, f->fd, &spec, f->root, NULL, &st,
				 &e))
			fail_msg("at its minimum size %llu: %s",
				 (unsigned long long)bytes, e.msg);
		assert_int_equal(st.size, bytes);
	}
}

/* A failure is -1 (the one convention), with a message naming it. */
static void test_full_filesystem_fails(void **state)
{
	struct fs_fixture *f = *state;
	struct ext4fs_spec spec = { .label = "SMALL", .time = 1,
				    .offset = IMAGE_OFFSET, .size = FS_BYTES,
				    .inodes = 64 };
	struct ext4fs_stats st;
	struct mk_err e = { "" };

	f->content = malloc(FS_BYTES);
	assert_non_null(f->content);
	memset(f->content, 'x', FS_BYTES);
	inline_file(f->root, "too-big", f->content, FS_BYTES);
	assert_int_equal(fst_sort(f->root, &e), 0);
	assert_int_equal(ext4fs_add_lost_found(f->root, 1, &e), 0);
	assert_int_equal(ext4fs_write(f->image, f->fd, &spec, f->root, NULL,
				      &st, &e), -1);
	assert_non_null(strstr(e.msg, "SMALL filesystem is full"));
}

#define FS_TEST(t) cmocka_unit_test_setup_teardown(t, fs_setup, fs_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dir_nlink),
		cmocka_unit_test(test_times),
		FS_TEST(test_zero_blocks_are_holes),
		FS_TEST(test_all_zero_file_has_no_blocks),
		FS_TEST(test_journal_is_data),
		FS_TEST(test_inode_tables_not_claimed_zeroed),
		FS_TEST(test_directory_blocks),
		FS_TEST(test_min_size_holds),
		FS_TEST(test_full_filesystem_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
