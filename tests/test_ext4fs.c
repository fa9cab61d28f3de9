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

#include <endian.h>
#include <errno.h>
#include <sys/wait.h>

#include <ext2fs/ext2fs.h>

#include "ci_skip.h"
#include "ext4fs.h"
#include "imgfile.h"
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
	struct imgfile img; /* fd, as ext4fs writes it */
	char *content;
	uint64_t size;
	struct fst_node *root;
	uint64_t inodes; /* the spec's; 64 unless a test needs more */
};

/* The filesystem's htree hash seed in these tests (not zero: with an
 * all-zero seed libext2fs and the kernel hash with a default one). */
static const uint8_t test_seed[MK_UUID_SIZE] = {
	0x4d, 0x6b, 0x72, 0x32, 0x73, 0x69, 0x6d, 0x67,
	0x2d, 0x68, 0x74, 0x72, 0x65, 0x65, 0x21, 0x07 };

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
	f->img = imgfile_plain(f->fd);
	if (f->fd < 0 || ftruncate(f->fd, IMAGE_OFFSET + FS_BYTES) != 0)
		return -1;
	f->root = fst_new("", FST_DIR, 0755, 1);
	f->inodes = 64;
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
				    .inodes = f->inodes };
	struct ext4fs_stats st;
	struct mk_err e = { "" };

	memcpy(spec.hash_seed, test_seed, MK_UUID_SIZE);
	if (fst_sort(f->root, &e) || ext4fs_add_lost_found(f->root, 1, &e) ||
	    ext4fs_write(f->image, &f->img, &spec, f->root, NULL, &st, &e))
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
	int sorted; /* every name after the one before, in byte order */
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
			s->sorted = 0;
		memcpy(s->last, name, (size_t)len + 1);
		s->n++;
	}
	return 0;
}

/* Directories read back through libext2fs whole: one of a block in byte
 * order, one of many blocks (an htree, in hash order) with every entry. */
static void test_directory_blocks(void **state)
{
	struct fs_fixture *f = *state;
	struct fst_node *dir = fst_new("many", FST_DIR, 0755, 1);
	struct fst_node *small = fst_new("small", FST_DIR, 0755, 1);
	struct mk_err e = { "" };
	struct seen seen = { 0, 1, "" }, seen_small = { 0, 1, "" };
	struct ext2_inode in;
	ext2_filsys fs;
	ext2_ino_t ino;
	char name[300];

	assert_non_null(dir);
	assert_non_null(small);
	assert_int_equal(fst_add(f->root, dir, &e), 0);
	assert_int_equal(fst_add(f->root, small, &e), 0);
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "entry-%04d-%.*s", i, i % 200,
			 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		inline_file(dir, name, "x", 1);
		if (i < 50)
			inline_file(small, name, "x", 1);
	}
	f->inodes = 1100;
	write_fs(f);
	fs = open_fs(f);
	assert_int_equal(ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO,
				      "many", &ino), 0);
	assert_int_equal(ext2fs_read_inode(fs, ino, &in), 0);
	assert_true(EXT2_I_SIZE(&in) > 10 * BS); /* several blocks */
	assert_int_equal(ext2fs_dir_iterate(fs, ino, 0, NULL, count_entry,
					    &seen), 0);
	assert_int_equal(seen.n, 1000);
	assert_false(seen.sorted); /* hash order */
	assert_int_equal(ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO,
				      "small", &ino), 0);
	assert_int_equal(ext2fs_dir_iterate(fs, ino, 0, NULL, count_entry,
					    &seen_small), 0);
	assert_int_equal(seen_small.n, 50);
	assert_true(seen_small.sorted);
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
	assert_int_equal(ext4fs_measure(f->root, test_seed, &need, &e), 0);
	assert_int_equal(ext4fs_min_size(&need, 0, &bytes, &e), 0);
	assert_true(bytes <= FS_BYTES);
	{
		struct ext4fs_spec spec = { .label = "MIN", .time = 1,
					    .offset = IMAGE_OFFSET,
					    .size = bytes,
					    .inodes = need.inodes };
		struct ext4fs_stats st;

		memcpy(spec.hash_seed, test_seed, MK_UUID_SIZE);
		if (ext4fs_write(f->image, &f->img, &spec, f->root, NULL, &st,
				 &e))
			fail_msg("at its minimum size %llu: %s",
				 (unsigned long long)bytes, e.msg);
		assert_int_equal(st.size, bytes);
	}
}

/* ---- where the writer has been (spec->settled) ---- */

struct settle_log {
	uint64_t first, last; /* the reports so far */
	size_t reports;
	size_t late;          /* writes landing in [first, last) after */
	uint64_t late_at;
};

static void on_settled(void *ctx, uint64_t below)
{
	struct settle_log *l = ctx;

	assert_true(below > l->last); /* onwards only */
	assert_true(below <= IMAGE_OFFSET + FS_BYTES);
	if (!l->reports++)
		l->first = below;
	l->last = below;
}

static void on_landed(void *ctx, uint64_t off, uint64_t len)
{
	struct settle_log *l = ctx;

	if (l->reports && off + len > l->first && off < l->last &&
	    !l->late++)
		l->late_at = off;
}

/*
 * Told every few MiB how far the data area is written, and then it is:
 * nothing lands in the data area behind the report afterwards (the
 * directory blocks libext2fs held are written before each report).
 * Only the metadata before the data area (inode tables, bitmaps,
 * superblock) is written later.
 */
static void test_settled_reports(void **state)
{
	struct fs_fixture *f = *state;
	struct settle_log log = { 0, 0, 0, 0, 0 };
	struct ext4fs_spec spec = { .label = "TEST", .time = 1,
				    .offset = IMAGE_OFFSET, .size = FS_BYTES,
				    .inodes = 1024, .settled = on_settled,
				    .progress_ctx = &log };
	struct ext4fs_stats st;
	struct mk_err e = { "" };
	char name[16];
	int i, j;

	f->content = malloc(256u << 10);
	assert_non_null(f->content);
	memset(f->content, 'x', 256u << 10);
	for (i = 0; i < 40; i++) {
		struct fst_node *d;

		snprintf(name, sizeof(name), "d%02d", i);
		d = fst_new(name, FST_DIR, 0755, 1);
		assert_non_null(d);
		assert_int_equal(fst_add(f->root, d, &e), 0);
		for (j = 0; j < 40; j++) {
			snprintf(name, sizeof(name), "f%02d", j);
			inline_file(d, name, f->content, j ? 1 : 256u << 10);
		}
	}
	f->img.landed = on_landed;
	f->img.ctx = &log;
	memcpy(spec.hash_seed, test_seed, MK_UUID_SIZE);
	if (fst_sort(f->root, &e) || ext4fs_add_lost_found(f->root, 1, &e) ||
	    ext4fs_write(f->image, &f->img, &spec, f->root, NULL, &st, &e))
		fail_msg("%s", e.msg);
	assert_true(log.reports >= 3);
	if (log.late)
		fail_msg("%zu writes landed behind a report, the first at %llu "
			 "(reports from %llu to %llu)", log.late,
			 (unsigned long long)log.late_at,
			 (unsigned long long)log.first,
			 (unsigned long long)log.last);
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
	assert_int_equal(ext4fs_write(f->image, &f->img, &spec, f->root, NULL,
				      &st, &e), -1);
	assert_non_null(strstr(e.msg, "SMALL filesystem is full"));
}

/* A partition too small for ext4: the message is libext2fs's own text
 * for its error code.  Nothing in this program registers libext2fs's
 * com_err table, so without the library's doing so this reads
 * "Unknown code ext2 N". */
static void test_libext2fs_error_has_its_text(void **state)
{
	struct fs_fixture *f = *state;
	struct ext4fs_spec spec = { .label = "TINY", .time = 1,
				    .offset = IMAGE_OFFSET, .size = 2 * BS,
				    .inodes = 64 };
	struct ext4fs_stats st;
	struct mk_err e = { "" };

	assert_int_equal(fst_sort(f->root, &e), 0);
	assert_int_equal(ext4fs_add_lost_found(f->root, 1, &e), 0);
	assert_int_equal(ext4fs_write(f->image, &f->img, &spec, f->root, NULL,
				      &st, &e), -1);
	if (strstr(e.msg, "Unknown code") ||
	    !strstr(e.msg, "cannot lay out ext4: Not enough space to build "
			   "proposed filesystem"))
		fail_msg("'%s'", e.msg);
}

/* ---- indexed directories (htree) ---- */

#define DX_ROOT_INFO 24      /* dx_root_info: after "." and ".." (12 each) */
#define DX_NODE_ENTRIES 8    /* a dx_node's entries: after its fake entry */
#define LEAF_USABLE (BS - 12) /* a leaf's bytes before its checksum tail */
/* e2fsck -D (rehash.c) closes a leaf once an entry leaves less than 20%
 * of LEAF_USABLE free. */
#define LEAF_SLACK (LEAF_USABLE * 20 / 100)

static uint32_t le32_at(const char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static uint16_t le16_at(const char *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

/* Logical block `lblk` of directory `dir`, its checksum verified. */
static void read_dir_block(ext2_filsys fs, ext2_ino_t dir, blk64_t lblk,
			   char *buf)
{
	blk64_t pblk = 0;

	assert_int_equal(ext2fs_bmap2(fs, dir, NULL, NULL, 0, lblk, NULL,
				      &pblk), 0);
	assert_true(pblk != 0);
	assert_int_equal(ext2fs_read_dir_block4(fs, pblk, buf, 0, dir), 0);
}

/* In the dx entries at `e`: the last one whose stored hash is at most
 * `hash` (entry 0 stands for every hash below entry 1's). */
static uint32_t dx_search(const char *e, uint32_t hash, uint32_t *count)
{
	uint32_t i = 1;

	*count = le16_at(e + 2);
	assert_true(*count >= 1 && *count <= le16_at(e));
	while (i < *count && le32_at(e + 8 * i) <= hash)
		i++;
	return i - 1;
}

static int leaf_has(ext2_filsys fs, const char *leaf, const char *name,
		    ext2_ino_t *ino)
{
	size_t len = strlen(name);
	unsigned int off = 0, rec_len;

	while (off < LEAF_USABLE) {
		const struct ext2_dir_entry *de =
			(const struct ext2_dir_entry *)(leaf + off);

		assert_int_equal(ext2fs_get_rec_len(fs,
				     (struct ext2_dir_entry *)de, &rec_len), 0);
		assert_true(rec_len >= 8);
		if (de->inode && (size_t)ext2fs_dirent_name_len(de) == len &&
		    memcmp(de->name, name, len) == 0) {
			*ino = de->inode;
			return 1;
		}
		off += rec_len;
	}
	return 0;
}

/*
 * How the kernel finds a name in an indexed directory (fs/ext4/namei.c:
 * dx_probe, ext4_htree_next_block), restated from its source, apart from
 * the writer: hash the name with the superblock's seed and signedness;
 * in the root, then in a dx_node when indirect_levels is 1, take the
 * last entry whose stored hash is at most the name's; read that leaf;
 * when the name is not there, go on to the next leaf only while its
 * stored hash with the low bit cleared equals the name's.  Returns 1 and
 * the inode when found.
 */
static int dx_lookup(ext2_filsys fs, ext2_ino_t dir, const char *name,
		     ext2_ino_t *ino)
{
	char *root = malloc(BS), *node = malloc(BS), *leaf = malloc(BS);
	uint32_t hash, minor, at0, at1 = 0, n0, n1 = 0, bhash;
	const char *e0, *e1 = NULL;
	int version, levels, found = 0;

	assert_true(root && node && leaf);
	read_dir_block(fs, dir, 0, root);
	version = (uint8_t)root[DX_ROOT_INFO + 4];
	levels = root[DX_ROOT_INFO + 6];
	assert_true(levels == 0 || levels == 1);
	if (fs->super->s_flags & EXT2_FLAGS_UNSIGNED_HASH)
		version += EXT2_HASH_LEGACY_UNSIGNED;
	assert_int_equal(ext2fs_dirhash2(version, name, (int)strlen(name),
					 NULL, 0, fs->super->s_hash_seed,
					 &hash, &minor), 0);
	e0 = root + DX_ROOT_INFO + root[DX_ROOT_INFO + 5];
	at0 = dx_search(e0, hash, &n0);
	if (levels) {
		read_dir_block(fs, dir, le32_at(e0 + 8 * at0 + 4), node);
		e1 = node + DX_NODE_ENTRIES;
		at1 = dx_search(e1, hash, &n1);
	}
	for (;;) {
		read_dir_block(fs, dir, levels ? le32_at(e1 + 8 * at1 + 4)
					       : le32_at(e0 + 8 * at0 + 4),
			       leaf);
		if ((found = leaf_has(fs, leaf, name, ino)))
			break;
		if (levels && ++at1 < n1) {
			bhash = le32_at(e1 + 8 * at1);
		} else if (++at0 < n0) {
			bhash = le32_at(e0 + 8 * at0);
			if (levels && (bhash & ~1u) == hash) {
				read_dir_block(fs, dir,
					       le32_at(e0 + 8 * at0 + 4), node);
				at1 = 0;
				n1 = le16_at(e1 + 2);
			}
		} else {
			break;
		}
		if ((bhash & ~1u) != hash)
			break;
	}
	free(root);
	free(node);
	free(leaf);
	return found;
}

static struct fst_node *add_dir(struct fst_node *parent, const char *name)
{
	struct fst_node *d = fst_new(name, FST_DIR, 0555, 1);
	struct mk_err e = { "" };

	assert_non_null(d);
	assert_int_equal(fst_add(parent, d, &e), 0);
	return d;
}

/* e2fsck -fn on the test's filesystem prints nothing but its passes. */
static void expect_e2fsck_clean(const struct fs_fixture *f)
{
	static const char *const tools[] = { "/sbin/e2fsck", "/usr/sbin/e2fsck" };
	const char *e2fsck = NULL;
	char cmd[8192], out[16384], *line, *save = NULL;
	FILE *p;
	size_t n;
	int status;

	for (size_t i = 0; i < sizeof(tools) / sizeof(*tools); i++)
		if (access(tools[i], X_OK) == 0)
			e2fsck = tools[i];
	if (!e2fsck)
		skip_unless_ci("e2fsck is not installed (.ci/deps: e2fsprogs)");
	snprintf(cmd, sizeof(cmd), "%s -fn '%s?offset=%u' 2>&1", e2fsck,
		 f->image, IMAGE_OFFSET);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	while (fread(cmd, 1, sizeof(cmd), p) > 0)
		; /* the rest, unread: e2fsck must not die writing it */
	status = pclose(p);
	if (status != 0)
		fail_msg("e2fsck -fn: exit %d:\n%s",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1, out);
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "e2fsck ", 7) && strncmp(line, "Pass ", 5) &&
		    !strstr(line, " files ("))
			fail_msg("e2fsck -fn: %s", line);
}

static void expect_flags(ext2_filsys fs, const char *path, int indexed,
			 uint64_t blocks)
{
	struct ext2_inode in;
	ext2_ino_t ino;

	assert_int_equal(ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path,
				      &ino), 0);
	assert_int_equal(ext2fs_read_inode(fs, ino, &in), 0);
	if (!!(in.i_flags & EXT2_INDEX_FL) != indexed)
		fail_msg("%s: INDEX_FL %s", path, indexed ? "missing" : "set");
	if (blocks && EXT2_I_SIZE(&in) != blocks * BS)
		fail_msg("%s: %llu bytes, want %llu blocks", path,
			 (unsigned long long)EXT2_I_SIZE(&in),
			 (unsigned long long)blocks);
}

/* Every kid of `d` is found through the index, with its inode, and
 * `absent` names are not. */
static void expect_lookups(ext2_filsys fs, const struct fst_node *d,
			   const char *path, const char *const *absent,
			   size_t nabsent)
{
	ext2_ino_t dir, ino;

	assert_int_equal(ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path,
				      &dir), 0);
	for (size_t i = 0; i < d->nkids; i++) {
		ino = 0;
		if (!dx_lookup(fs, dir, d->kids[i]->name, &ino) ||
		    ino != d->kids[i]->ino)
			fail_msg("%s/%s: not found through the index", path,
				 d->kids[i]->name);
	}
	for (size_t i = 0; i < nabsent; i++) {
		if (dx_lookup(fs, dir, absent[i], &ino))
			fail_msg("%s/%s: absent, but found", path, absent[i]);
		assert_int_equal(ext2fs_lookup(fs, dir, absent[i],
					       (int)strlen(absent[i]), NULL,
					       &ino), EXT2_ET_FILE_NOT_FOUND);
	}
}

static const char *const absent_names[] = {
	"absent", "n00000-", "n99999-x", "\xe9", "lost+found", "..." };
#define NABSENT (sizeof(absent_names) / sizeof(*absent_names))

/* `n` empty files named from `fmt` (one %d) in `d`. */
static void add_files(struct fst_node *d, const char *fmt, int n)
{
	char name[EXT2_NAME_LEN + 1];

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), fmt, i);
		inline_file(d, name, "", 0);
	}
}

/* A directory whose entries fill exactly one block stays linear; one
 * entry more and it is indexed: a root and two leaves (a leaf takes
 * 164 entries of 20 bytes before less than 20% of it is free). */
static void test_one_block_linear_two_indexed(void **state)
{
	struct fs_fixture *f = *state;
	struct fst_node *one = add_dir(f->root, "one"),
			*two = add_dir(f->root, "two");
	ext2_filsys fs;

	/* ".", ".." (12 bytes each) and 203 names of 12 bytes (20 each):
	 * 4084 bytes, all a block holds before its checksum tail. */
	add_files(one, "one-%08d", 203);
	add_files(two, "two-%08d", 204);
	f->inodes = 512;
	write_fs(f);
	fs = open_fs(f);
	expect_flags(fs, "one", 0, 1);
	expect_flags(fs, "two", 1, 3);
	expect_lookups(fs, two, "two", absent_names, NABSENT);
	ext2fs_close_free(&fs);
	expect_e2fsck_clean(f);
}

/* Blocks the filesystem gives a node: i_blocks in filesystem blocks. */
static uint64_t used_blocks(ext2_filsys fs, const char *path)
{
	struct ext2_inode in;
	ext2_ino_t ino;

	assert_int_equal(ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path,
				      &ino), 0);
	assert_int_equal(ext2fs_read_inode(fs, ino, &in), 0);
	return ext2fs_get_stat_i_blocks(fs, &in) / (BS / 512);
}

/*
 * 18,000 names of 100 bytes (108-byte entries, 31 to a leaf): 581
 * leaves, more than the root's 507 entries, so a second level of
 * dx_nodes; a tenth of the names have bytes from 0x80, which hash
 * differently with signed and unsigned chars.  Every name is found
 * through the index, absent ones are not, e2fsck -fn is clean, and the
 * blocks measured before writing are the blocks written.
 */
static void test_two_level_directory(void **state)
{
	struct fs_fixture *f = *state;
	struct fst_node *big = add_dir(f->root, "big");
	struct ext4fs_need need;
	struct mk_err e = { "" };
	char name[EXT2_NAME_LEN + 1], root[BS];
	ext2_filsys fs;
	ext2_ino_t ino;
	uint64_t used;

	for (int i = 0; i < 18000; i++) {
		snprintf(name, sizeof(name), "n%05d-%093d", i, 0);
		if (i % 10 == 0)
			memcpy(name + 7, "\xe9t\xe9-\xff", 5);
		inline_file(big, name, "", 0);
	}
	f->inodes = 18100;
	assert_int_equal(fst_sort(f->root, &e), 0);
	assert_int_equal(ext4fs_add_lost_found(f->root, 1, &e), 0);
	assert_int_equal(ext4fs_measure(f->root, test_seed, &need, &e), 0);
	write_fs(f);
	fs = open_fs(f);
	assert_int_equal(fs->super->s_def_hash_version, EXT2_HASH_HALF_MD4);
	assert_int_equal(fs->super->s_flags & (EXT2_FLAGS_SIGNED_HASH |
					       EXT2_FLAGS_UNSIGNED_HASH),
			 EXT2_FLAGS_SIGNED_HASH);
	assert_memory_equal(fs->super->s_hash_seed, test_seed, MK_UUID_SIZE);
	expect_flags(fs, "big", 1, 0);
	assert_int_equal(ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, "big",
				      &ino), 0);
	read_dir_block(fs, ino, 0, root);
	assert_int_equal(root[DX_ROOT_INFO + 6], 1); /* indirect_levels */
	expect_lookups(fs, big, "big", absent_names, NABSENT);
	/* The walk measured the root, lost+found and big (the files are
	 * empty): the filesystem gave them exactly that. */
	used = used_blocks(fs, "/") + used_blocks(fs, EXT4FS_LOST_FOUND) +
	       used_blocks(fs, "big");
	assert_int_equal(need.blocks, used);
	/* A sample through libext2fs's own (linear) lookup. */
	for (size_t i = 0; i < big->nkids; i += 997) {
		const char *n = big->kids[i]->name;
		ext2_ino_t got = 0;

		assert_int_equal(ext2fs_lookup(fs, ino, n, (int)strlen(n), NULL,
					       &got), 0);
		assert_int_equal(got, big->kids[i]->ino);
	}
	ext2fs_close_free(&fs);
	expect_e2fsck_clean(f);
}

/* ---- names whose hashes collide ---- */

#define COLLIDE_LEN 100       /* every name of the test: 108-byte entries */
#define COLLIDE_TRIES (1 << 17)

struct cand {
	uint32_t hash;
	uint32_t i;
};

static void cand_name(char *buf, uint32_t i)
{
	snprintf(buf, COLLIDE_LEN + 1, "c%07u-%0*d", i, COLLIDE_LEN - 9, 0);
}

static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Hashes of COLLIDE_TRIES names under the test's seed, signed (what the
 * superblock says), sorted; about four pairs share a hash. */
static struct cand *hash_candidates(void)
{
	struct cand *c = calloc(COLLIDE_TRIES, sizeof(*c));
	uint32_t seed[4], minor;
	char name[COLLIDE_LEN + 1];

	assert_non_null(c);
	for (int w = 0; w < 4; w++)
		seed[w] = le32_at((const char *)test_seed + 4 * w);
	for (uint32_t i = 0; i < COLLIDE_TRIES; i++) {
		cand_name(name, i);
		c[i].i = i;
		assert_int_equal(ext2fs_dirhash2(EXT2_HASH_HALF_MD4, name,
						 COLLIDE_LEN, NULL, 0, seed,
						 &c[i].hash, &minor), 0);
	}
	qsort(c, COLLIDE_TRIES, sizeof(*c), cmp_cand);
	return c;
}

/* Entries of COLLIDE_LEN bytes e2fsck puts in a leaf. */
static unsigned int per_leaf(void)
{
	unsigned int rec = 8 + COLLIDE_LEN, n = 1;

	while (LEAF_USABLE - n * rec >= LEAF_SLACK)
		n++;
	return n;
}

/*
 * Two names with one hash, the first the last entry of a leaf and the
 * second the first of the next (2k - 1 names with lower hashes before
 * them, k to a leaf): the index must give the second leaf that hash with
 * its low bit set, or the kernel, searching for the first name, lands in
 * the second leaf and never looks back.  Both are found through the
 * index, e2fsck -fn is clean.
 */
static void test_colliding_hashes(void **state)
{
	struct fs_fixture *f = *state;
	struct fst_node *d = add_dir(f->root, "collide");
	struct cand *c = hash_candidates();
	unsigned int k = per_leaf(), below = 0, above = 0;
	char name[COLLIDE_LEN + 1], root[BS];
	uint32_t pair = 0, hash;
	ext2_filsys fs;
	ext2_ino_t ino;

	assert_int_equal(k, 31);
	while (pair + 2 < COLLIDE_TRIES &&
	       !(c[pair].hash == c[pair + 1].hash &&
		 c[pair + 2].hash != c[pair].hash &&
		 (pair == 0 || c[pair - 1].hash != c[pair].hash) &&
		 pair >= 2 * k))
		pair++;
	assert_true(pair + 2 < COLLIDE_TRIES);
	hash = c[pair].hash;
	for (uint32_t i = pair - (2 * k - 1); i < pair + 2 + 20; i++) {
		cand_name(name, c[i].i);
		inline_file(d, name, "", 0);
		below += c[i].hash < hash;
		above += c[i].hash > hash;
	}
	assert_int_equal(below, 2 * k - 1);
	assert_int_equal(above, 20); /* and a leaf's worth after them */
	f->inodes = 256;
	write_fs(f);
	fs = open_fs(f);
	expect_flags(fs, "collide", 1, 4); /* the root and three leaves */
	assert_int_equal(ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO,
				      "collide", &ino), 0);
	read_dir_block(fs, ino, 0, root);
	/* dx entry 2 (leaf 3) starts with the second name of the pair */
	assert_int_equal(le16_at(root + DX_ROOT_INFO + 8 + 2), 3);
	assert_int_equal(le32_at(root + DX_ROOT_INFO + 8 + 2 * 8), hash | 1);
	expect_lookups(fs, d, "collide", absent_names, NABSENT);
	ext2fs_close_free(&fs);
	expect_e2fsck_clean(f);
	free(c);
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
		FS_TEST(test_libext2fs_error_has_its_text),
		FS_TEST(test_settled_reports),
		FS_TEST(test_one_block_linear_two_indexed),
		FS_TEST(test_two_level_directory),
		FS_TEST(test_colliding_hashes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
