#include "ext4fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#include "dataio.h"
#include "e2fs.h"
#include "htree.h"
#include "util.h"

#define INODE_SIZE 256
#define LOG_BLOCK_SIZE 2             /* 1024 << 2 = 4096 */
#define LOG_GROUPS_PER_FLEX 4        /* 16 groups per flex group */
#define BYTES_PER_INODE 16384        /* mke2fs's default inode ratio */
#define INODE_SLACK_DIV 4            /* keep a quarter more inodes free */
#define INODE_SLACK_MIN 256
#define LOST_FOUND_BLOCKS 4          /* 16 KiB, as mke2fs makes it */
#define LOST_FOUND_MODE 0700
#define FAST_SYMLINK_MAX 59          /* targets shorter than i_block */
#define DIRENT_HEADER 8              /* inode, rec_len, name_len, type */
#define DIRENT_ALIGN 4
#define EXTENTS_IN_INODE 4           /* i_block holds four extents */
#define EXTENTS_PER_BLOCK 340        /* (4096 - 12) / 12 */
#define EXTENT_MAX_BLOCKS 32768      /* initialised extent length limit */
#define DATA_CHUNK_BLOCKS 256        /* 1 MiB reads and writes */
#define SETTLE_STEP (2u << 20)       /* cursor moves between reports */
#define SIZE_SLACK_BLOCKS 64         /* allocator fragmentation margin, */
#define SIZE_SLACK_DIV 512           /* plus 0.2% of the filesystem */
#define MAX_SIZE_ROUNDS 16           /* fixed-point iterations on size */
#define NULL_DEVICE "/dev/null"      /* io target for geometry trials */
#define MIN_FS_BLOCKS 8192           /* 32 MiB: smaller gets no journal */
#define WIPE_TAIL_BYTES 65536        /* md/RAID signatures sit in the last 64 KiB */
#define DIR_USABLE (EXT4FS_BLOCK_SIZE - sizeof(struct ext2_dir_entry_tail))
#define PATH_SHOWN 1024              /* bytes of a path in a message */

_Static_assert(HTREE_BLOCK_SIZE == EXT4FS_BLOCK_SIZE, "one block size");
_Static_assert(HTREE_LEAF_USABLE == DIR_USABLE, "one directory block tail");
_Static_assert(HTREE_SEED_BYTES == MK_UUID_SIZE, "the hash seed is a UUID");

static int fail_ext2(struct mk_err *e, errcode_t err, const char *what)
{
	return mk_fail(e, "%s: %s", what, e2fs_message(err));
}

uint32_t ext4fs_dir_nlink(uint64_t subdirs)
{
	/* "." and the parent's entry, plus each subdirectory's "..";
	 * past the limit, dir_nlink stores 1 ("many"), as the kernel's
	 * ext4_inc_count and e2fsck's pass 4 do. */
	uint64_t links = 2 + subdirs;

	return links > EXT4FS_LINK_MAX ? 1 : (uint32_t)links;
}

void ext4fs_encode_time(int64_t t, uint32_t *lo, uint32_t *extra)
{
	uint32_t low = (uint32_t)(uint64_t)t;
	/* The seconds field is signed: the epoch counts whole 2^32 steps
	 * from its sign-extended value up to t. */
	int64_t base = low & 0x80000000u ? (int64_t)low - ((int64_t)1 << 32)
					 : (int64_t)low;

	*lo = low;
	*extra = (uint32_t)((uint64_t)(t - base) >> 32) & EXT4_EPOCH_MASK;
}

int64_t ext4fs_decode_time(uint32_t lo, uint32_t extra)
{
	/* Sign-extended seconds, plus whole 2^32 steps of the epoch. */
	return (int64_t)(int32_t)lo +
	       ((int64_t)(extra & EXT4_EPOCH_MASK) << 32);
}

static uint32_t dirent_len(size_t name_len)
{
	return (uint32_t)mk_align_up(DIRENT_HEADER + name_len, DIRENT_ALIGN);
}

static void set_times(struct ext2_inode_large *in, int64_t t)
{
	uint32_t lo, extra;

	ext4fs_encode_time(t, &lo, &extra);
	in->i_atime = in->i_ctime = in->i_mtime = in->i_crtime = lo;
	in->i_atime_extra = in->i_ctime_extra = in->i_mtime_extra =
		in->i_crtime_extra = extra;
}

/* ---- geometry --------------------------------------------------- */

static void set_features(struct ext2_super_block *p)
{
	ext2fs_set_feature_journal(p);
	ext2fs_set_feature_xattr(p);
	ext2fs_set_feature_resize_inode(p);
	ext2fs_set_feature_dir_index(p);
	ext2fs_set_feature_filetype(p);
	ext2fs_set_feature_extents(p);
	ext2fs_set_feature_64bit(p);
	ext2fs_set_feature_flex_bg(p);
	ext2fs_set_feature_sparse_super(p);
	ext2fs_set_feature_large_file(p);
	ext2fs_set_feature_huge_file(p);
	ext2fs_set_feature_dir_nlink(p);
	ext2fs_set_feature_extra_isize(p);
	ext2fs_set_feature_metadata_csum(p);
}

static uint64_t inodes_for(uint64_t blocks, uint64_t need_inodes)
{
	uint64_t by_ratio = blocks * EXT4FS_BLOCK_SIZE / BYTES_PER_INODE;
	uint64_t by_need = need_inodes + need_inodes / INODE_SLACK_DIV +
			   INODE_SLACK_MIN;

	return by_ratio > by_need ? by_ratio : by_need;
}

static int fs_init(const char *path, uint64_t blocks, uint64_t need_inodes,
		   ext2_filsys *fs, struct mk_err *e)
{
	struct ext2_super_block p;
	uint64_t inodes = inodes_for(blocks, need_inodes);
	errcode_t err;

	if (inodes > UINT32_MAX)
		return mk_fail(e, "filesystem needs %llu inodes, more than "
			       "ext4 has", (unsigned long long)inodes);
	memset(&p, 0, sizeof(p));
	p.s_rev_level = EXT2_DYNAMIC_REV;
	p.s_log_block_size = LOG_BLOCK_SIZE;
	p.s_inode_size = INODE_SIZE;
	p.s_log_groups_per_flex = LOG_GROUPS_PER_FLEX;
	p.s_desc_size = EXT2_MIN_DESC_SIZE_64BIT;
	p.s_inodes_count = (uint32_t)inodes;
	set_features(&p);
	ext2fs_blocks_count_set(&p, blocks);
	ext2fs_r_blocks_count_set(&p, 0);
	err = ext2fs_initialize(path, EXT2_FLAG_64BITS, &p, unix_io_manager,
				fs);
	if (err)
		return fail_ext2(e, err, "cannot lay out ext4");
	return 0;
}

/* Blocks a fresh filesystem of `blocks` leaves for content. */
static int usable_blocks(uint64_t blocks, uint64_t need_inodes,
			 uint64_t *usable, struct mk_err *e)
{
	struct ext2fs_journal_params jp;
	ext2_filsys fs;
	uint64_t free_blocks, taken;
	errcode_t err;

	if (fs_init(NULL_DEVICE, blocks, need_inodes, &fs, e))
		return -1;
	/* With flex_bg, ext2fs_initialize counts bitmaps and inode tables
	 * as free until they are placed, so place them (in memory only). */
	err = ext2fs_allocate_tables(fs);
	if (!err)
		err = ext2fs_get_journal_params(&jp, fs);
	free_blocks = ext2fs_free_blocks_count(fs->super);
	ext2fs_free(fs);
	if (err)
		return fail_ext2(e, err, "cannot size the filesystem");
	/* The journal, the resize inode's indirect block, and a margin for
	 * extent blocks of fragmented files that the estimate cannot see. */
	taken = (uint64_t)jp.num_journal_blocks + jp.num_fc_blocks + 1 +
		SIZE_SLACK_BLOCKS + blocks / SIZE_SLACK_DIV;
	*usable = free_blocks > taken ? free_blocks - taken : 0;
	return 0;
}

int ext4fs_min_size(const struct ext4fs_need *need, uint64_t headroom,
		    uint64_t *bytes, struct mk_err *e)
{
	uint64_t want = need->blocks + mk_div_ceil(headroom, EXT4FS_BLOCK_SIZE);
	uint64_t blocks = want + MIN_FS_BLOCKS; /* grows to the fixed point */
	uint64_t usable = 0;
	int round;

	for (round = 0; round < MAX_SIZE_ROUNDS; round++) {
		if (usable_blocks(blocks, need->inodes, &usable, e))
			return -1;
		if (usable >= want) {
			*bytes = blocks * EXT4FS_BLOCK_SIZE;
			return 0;
		}
		blocks += want - usable;
	}
	return mk_fail(e, "cannot find an ext4 size for %llu blocks",
		       (unsigned long long)want);
}

/* ---- directory blocks ------------------------------------------- */

struct dirent_src {
	const char *name;
	size_t name_len;
	uint32_t ino;
	int type;
};

static int ext2_file_type(const struct fst_node *n)
{
	switch (n->kind) {
	case FST_DIR:
		return EXT2_FT_DIR;
	case FST_SYMLINK:
		return EXT2_FT_SYMLINK;
	default:
		return EXT2_FT_REG_FILE;
	}
}

/* Entry i of a directory: ".", "..", then its entries in order. */
static struct dirent_src dir_entry(const struct fst_node *d, uint32_t parent,
				   size_t i)
{
	const struct fst_node *k;

	if (i < 2)
		return (struct dirent_src){ i ? ".." : ".", i + 1,
					    i ? parent : d->ino, EXT2_FT_DIR };
	k = d->kids[i - 2];
	return (struct dirent_src){ k->name, strlen(k->name), k->ino,
				    ext2_file_type(k) };
}

static void put_dirent(ext2_filsys fs, char *at, const struct dirent_src *s,
		       uint32_t rec_len)
{
	struct ext2_dir_entry *de = (struct ext2_dir_entry *)at;

	de->inode = s->ino;
	ext2fs_set_rec_len(fs, rec_len, de);
	ext2fs_dirent_set_name_len(de, (int)s->name_len);
	ext2fs_dirent_set_file_type(de, s->type);
	memcpy(at + DIRENT_HEADER, s->name, s->name_len);
}

/* Closes a block: the last entry (or an empty one) reaches the tail. */
static void close_block(ext2_filsys fs, char *block, uint32_t last,
			uint32_t used, uint32_t usable)
{
	if (used == 0) {
		struct dirent_src none = { "", 0, 0, 0 };
		put_dirent(fs, block, &none, usable);
	} else {
		ext2fs_set_rec_len(fs, usable - last,
				   (struct ext2_dir_entry *)(block + last));
	}
	if (usable < EXT4FS_BLOCK_SIZE)
		ext2fs_initialize_dirent_tail(
			fs, EXT2_DIRENT_TAIL(block, EXT4FS_BLOCK_SIZE));
}

/*
 * Packs a directory's entries in order, first fit, into blocks of
 * `usable` bytes.  Returns the block count; fills `buf` (that many
 * zeroed blocks) when it is not NULL.  Counting and filling share this
 * code so that the size estimate is exact.
 */
static uint64_t dir_pack(ext2_filsys fs, const struct fst_node *d,
			 uint32_t parent, uint32_t usable, char *buf)
{
	uint64_t blocks = 0;
	uint32_t used = 0, last = 0;
	size_t i;

	for (i = 0; i < d->nkids + 2; i++) {
		struct dirent_src s = dir_entry(d, parent, i);
		uint32_t len = dirent_len(s.name_len);

		if (used + len > usable) {
			if (buf)
				close_block(fs, buf + blocks * EXT4FS_BLOCK_SIZE,
					    last, used, usable);
			blocks++;
			used = 0;
		}
		if (buf)
			put_dirent(fs, buf + blocks * EXT4FS_BLOCK_SIZE + used,
				   &s, len);
		last = used;
		used += len;
	}
	if (buf)
		close_block(fs, buf + blocks * EXT4FS_BLOCK_SIZE, last, used,
			    usable);
	for (blocks++; blocks < d->prealloc_blocks; blocks++)
		if (buf)
			close_block(fs, buf + blocks * EXT4FS_BLOCK_SIZE, 0, 0,
				    usable);
	return blocks;
}

/* ---- indexed directories ---------------------------------------- */

/* Bytes of a directory's entries, "." and ".." included, packed. */
static uint64_t dir_bytes(const struct fst_node *d)
{
	uint64_t bytes = dirent_len(1) + dirent_len(2);
	size_t i;

	for (i = 0; i < d->nkids; i++)
		bytes += dirent_len(strlen(d->kids[i]->name));
	return bytes;
}

/* Larger than one block: written as an htree.  The kernel only indexes
 * a directory when its first block fills, so one written linear would
 * stay linear (every lookup a scan of every block) for good. */
static int dir_indexed(const struct fst_node *d)
{
	return dir_bytes(d) > DIR_USABLE;
}

/* Where errors about a directory point: its host path, or for one made
 * in memory (/, /nix/store, ...) its names up to the root. */
static void dir_shown(const struct fst_node *d, char *buf, size_t size)
{
	const struct fst_node *p;
	size_t len = 0, n;

	if (d->src) {
		snprintf(buf, size, "%s", fst_shown(d));
		return;
	}
	buf[0] = '\0';
	for (p = d; p->parent && len + 1 < size; p = p->parent) {
		n = strlen(p->name) + 1; /* "/name" before what is there */
		if (n > size - 1 - len)
			n = size - 1 - len;
		memmove(buf + n, buf, len + 1);
		buf[0] = '/';
		memcpy(buf + 1, p->name, n - 1);
		len += n;
	}
	if (len == 0)
		snprintf(buf, size, "/");
}

/* An indexed directory's entries in hash order, and its blocks. */
struct dx_layout {
	struct htree_name *names;
	uint64_t leaves;
	uint64_t blocks; /* root, leaves, dx_nodes */
};

/*
 * Puts the entries, in hash order, into leaves.  Returns the leaf count;
 * with `buf` fills leaves 1 on (zeroed blocks) and leaf_hash[] (the
 * first hash of each leaf, its low bit set when the previous leaf ends
 * with that hash too: lookups of that hash then read both).
 */
static uint64_t dx_fill_leaves(ext2_filsys fs, const struct fst_node *d,
			       const struct htree_name *v, char *buf,
			       uint32_t *leaf_hash)
{
	struct htree_fill f = HTREE_FILL_INIT;
	uint32_t off, last = 0, used = 0;
	char *leaf = NULL;
	size_t i;

	for (i = 0; i < d->nkids; i++) {
		struct dirent_src s = dir_entry(d, 0, v[i].index + 2);
		uint32_t len = dirent_len(s.name_len);

		if (htree_fill_add(&f, len, &off) && buf) {
			if (leaf)
				close_block(fs, leaf, last, used, DIR_USABLE);
			leaf = buf + f.leaves * EXT4FS_BLOCK_SIZE;
			leaf_hash[f.leaves - 1] =
				v[i].hash | (i > 0 && v[i].hash == v[i - 1].hash);
		}
		if (buf)
			put_dirent(fs, leaf + off, &s, len);
		last = off;
		used = off + len;
	}
	if (leaf)
		close_block(fs, leaf, last, used, DIR_USABLE);
	return f.leaves;
}

static int dx_plan(const struct fst_node *d,
		   const uint8_t hash_seed[MK_UUID_SIZE], struct dx_layout *x,
		   struct mk_err *e)
{
	char shown[PATH_SHOWN];
	uint32_t seed[HTREE_SEED_WORDS];
	uint64_t index;
	size_t i;

	htree_seed(hash_seed, seed);
	x->names = malloc(d->nkids * sizeof(*x->names));
	if (!x->names)
		return mk_fail(e, "out of memory");
	for (i = 0; i < d->nkids; i++) {
		struct htree_name *n = &x->names[i];
		size_t len = strlen(d->kids[i]->name);

		*n = (struct htree_name){ .name = d->kids[i]->name,
					  .len = (uint8_t)len,
					  .index = (uint32_t)i };
		if (len > EXT2_NAME_LEN || htree_hash(seed, n)) {
			dir_shown(d, shown, sizeof(shown));
			return mk_fail(e, "%s/%s: cannot hash a name of %zu "
				       "bytes", shown, d->kids[i]->name, len);
		}
	}
	htree_sort(x->names, d->nkids);
	x->leaves = dx_fill_leaves(NULL, d, x->names, NULL, NULL);
	if (htree_index_blocks(x->leaves, &index) == 0) {
		x->blocks = index + x->leaves;
		return 0;
	}
	dir_shown(d, shown, sizeof(shown));
	return mk_fail(e, "%s: directory of %zu entries needs %llu blocks of "
		       "entries, more than an ext4 directory index of two levels "
		       "reaches (%llu; three need large_dir)", shown, d->nkids,
		       (unsigned long long)x->leaves,
		       (unsigned long long)HTREE_MAX_LEAVES);
}

/* Blocks a directory's entries take, indexed or not. */
static int dir_blocks(const struct fst_node *d,
		      const uint8_t hash_seed[MK_UUID_SIZE], uint64_t *blocks,
		      struct mk_err *e)
{
	struct dx_layout x = { NULL, 0, 0 };
	int rc;

	if (!dir_indexed(d)) {
		*blocks = dir_pack(NULL, d, 0, DIR_USABLE, NULL);
		return 0;
	}
	rc = dx_plan(d, hash_seed, &x, e);
	free(x.names);
	*blocks = x.blocks;
	return rc;
}

/* ---- measuring --------------------------------------------------- */

/* Extent tree blocks a mapping of `blocks` may need (generous: a run
 * may be cut by group metadata once per extent-length stretch). */
static uint64_t extent_blocks(uint64_t blocks)
{
	uint64_t runs = 2 * mk_div_ceil(blocks, EXTENT_MAX_BLOCKS) + 2;

	if (runs <= EXTENTS_IN_INODE)
		return 0;
	return mk_div_ceil(runs, EXTENTS_PER_BLOCK) + 1;
}

uint64_t ext4fs_file_blocks(uint64_t size)
{
	uint64_t data = mk_div_ceil(size, EXT4FS_BLOCK_SIZE);

	return data + extent_blocks(data);
}

void ext4fs_need_init(struct ext4fs_need *need,
		      const uint8_t hash_seed[MK_UUID_SIZE])
{
	need->blocks = 0;
	/* Inodes 1 to 10 are reserved; the walk counts the root (2). */
	need->inodes = EXT2_GOOD_OLD_FIRST_INO - 2;
	memcpy(need->hash_seed, hash_seed, MK_UUID_SIZE);
}

int ext4fs_measure_node(struct ext4fs_need *need, const struct fst_node *n,
			struct mk_err *e)
{
	uint64_t blocks = 0;

	need->inodes++;
	if (n->kind == FST_DIR) {
		if (dir_blocks(n, need->hash_seed, &blocks, e))
			return -1;
	} else if (n->kind == FST_FILE) {
		blocks = mk_div_ceil(n->size, EXT4FS_BLOCK_SIZE);
	} else if (strlen(n->target) > FAST_SYMLINK_MAX) {
		blocks = 1;
	}
	need->blocks += blocks + extent_blocks(blocks);
	return 0;
}

struct measure_walk {
	struct ext4fs_need *need;
	struct mk_err *e;
};

static int measure_visit(struct fst_node *n, void *ctx)
{
	struct measure_walk *m = ctx;

	return ext4fs_measure_node(m->need, n, m->e);
}

int ext4fs_measure(struct fst_node *root,
		   const uint8_t hash_seed[MK_UUID_SIZE],
		   struct ext4fs_need *need, struct mk_err *e)
{
	struct measure_walk m = { need, e };

	ext4fs_need_init(need, hash_seed);
	return fst_walk(root, measure_visit, &m, e);
}

int ext4fs_add_lost_found(struct fst_node *root, int64_t time,
			  struct mk_err *e)
{
	struct fst_node *lf;

	if (fst_child(root, EXT4FS_LOST_FOUND))
		return 0;
	lf = fst_new(EXT4FS_LOST_FOUND, FST_DIR, LOST_FOUND_MODE, time);
	if (!lf)
		return mk_fail(e, "out of memory");
	lf->prealloc_blocks = LOST_FOUND_BLOCKS;
	if (fst_add(root, lf, e)) {
		fst_free(lf);
		return -1;
	}
	return fst_sort(root, e);
}

/* ---- making the empty filesystem --------------------------------- */

static void set_identity(ext2_filsys fs, const struct ext4fs_spec *spec)
{
	struct ext2_super_block *sb = fs->super;

	memcpy(sb->s_uuid, spec->uuid, sizeof(sb->s_uuid));
	/* In memory libext2fs keeps the words in host order; htree.c hashes
	 * with these same words. */
	htree_seed(spec->hash_seed, sb->s_hash_seed);
	memset(sb->s_volume_name, 0, sizeof(sb->s_volume_name));
	strncpy((char *)sb->s_volume_name, spec->label,
		sizeof(sb->s_volume_name));
	sb->s_def_hash_version = HTREE_HASH_VERSION;
	/* libext2fs picks the flag from the build host's char signedness;
	 * fix it so the bytes (and the kernel's hashes) do not depend on
	 * the machine. */
	sb->s_flags &= ~(EXT2_FLAGS_UNSIGNED_HASH | EXT2_FLAGS_SIGNED_HASH);
	sb->s_flags |= HTREE_HASH_FLAG;
	sb->s_checksum_type = EXT2_CRC32C_CHKSUM;
	sb->s_max_mnt_count = -1;
	sb->s_checkinterval = 0;
	/* Superblock times are unsigned, with 8 more bits above the 32. */
	sb->s_mkfs_time = sb->s_lastcheck = sb->s_wtime =
		(uint32_t)(uint64_t)spec->time;
	sb->s_mkfs_time_hi = sb->s_lastcheck_hi = sb->s_wtime_hi =
		(uint8_t)((uint64_t)spec->time >> 32);
	sb->s_kbytes_written = 0;
	fs->now = spec->time;
	ext2fs_init_csum_seed(fs);
}

/*
 * Inode tables are left as they are on the card, not zeroed: the group
 * descriptors keep INODE_ZEROED off and count the unused inodes at the
 * end of each table (bg_itable_unused), which neither the kernel nor
 * e2fsck reads, and the kernel zeroes them on the first read-write
 * mount (lazy_itable_init), as mke2fs does by default.  Zeroing them
 * here would make tens of MiB of zeros part of the image's data.  Every
 * inode in use is written, and the inodes are numbered without gaps, so
 * the blocks below bg_itable_unused are all written.
 */
static int write_reserved_inodes(ext2_filsys fs, struct mk_err *e)
{
	struct ext2_inode_large zero;
	ext2_ino_t ino;
	dgrp_t g;
	errcode_t err;

	for (g = 0; g < fs->group_desc_count; g++) {
		ext2fs_bg_flags_clear(fs, g, EXT2_BG_INODE_ZEROED);
		ext2fs_group_desc_csum_set(fs, g);
	}
	/* Reserved inodes must carry valid checksums even when unused. */
	memset(&zero, 0, sizeof(zero));
	for (ino = 1; ino < EXT2_FIRST_INO(fs->super); ino++) {
		err = ext2fs_write_inode_full(fs, ino, (struct ext2_inode *)&zero,
					      sizeof(zero));
		if (err)
			return fail_ext2(e, err, "cannot write reserved inodes");
	}
	return 0;
}

/*
 * Zeroes the partition's first block (the superblock goes into it
 * later) and its last WIPE_TAIL_BYTES, as mke2fs does: a card's earlier
 * filesystem or RAID signature there would otherwise survive and make
 * blkid (and so mounting by label) see two filesystems.
 */
static int wipe_old_signatures(ext2_filsys fs, struct mk_err *e)
{
	static const char zeros[WIPE_TAIL_BYTES];
	blk64_t blocks = ext2fs_blocks_count(fs->super);
	int tail = WIPE_TAIL_BYTES / EXT4FS_BLOCK_SIZE;
	errcode_t err;

	err = io_channel_write_blk64(fs->io, 0, 1, zeros);
	if (!err && blocks > (blk64_t)tail)
		err = io_channel_write_blk64(fs->io, blocks - (blk64_t)tail,
					     tail, zeros);
	return err ? fail_ext2(e, err, "cannot clear old signatures") : 0;
}

/* Gives an inode libext2fs made the filesystem's time, epoch bits too. */
static int restamp(ext2_filsys fs, ext2_ino_t ino, struct mk_err *e)
{
	struct ext2_inode_large in;
	errcode_t err;

	err = ext2fs_read_inode_full(fs, ino, (struct ext2_inode *)&in,
				     sizeof(in));
	if (!err) {
		set_times(&in, fs->now);
		err = ext2fs_write_inode_full(fs, ino, (struct ext2_inode *)&in,
					      sizeof(in));
	}
	return err ? fail_ext2(e, err, "cannot stamp a system inode") : 0;
}

static int make_special_inodes(ext2_filsys fs, struct mk_err *e)
{
	struct ext2fs_journal_params jp;
	ext2_ino_t ino;
	errcode_t err;

	/* The root (inode 2) is counted when the tree is written. */
	for (ino = EXT2_ROOT_INO + 1; ino < EXT2_FIRST_INO(fs->super); ino++)
		ext2fs_inode_alloc_stats2(fs, ino, +1, 0);
	ext2fs_inode_alloc_stats2(fs, EXT2_BAD_INO, +1, 0);
	err = ext2fs_update_bb_inode(fs, NULL);
	if (err)
		return fail_ext2(e, err, "cannot write the bad-blocks inode");
	err = ext2fs_create_resize_inode(fs);
	if (err)
		return fail_ext2(e, err, "cannot reserve blocks for resizing");
	err = ext2fs_get_journal_params(&jp, fs);
	if (!err)
		err = ext2fs_add_journal_inode3(fs, &jp, ~0ULL, 0);
	if (err)
		return fail_ext2(e, err, "cannot create the journal");
	/* libext2fs stamps them with 32 bits of fs->now. */
	if (restamp(fs, EXT2_RESIZE_INO, e) ||
	    restamp(fs, fs->super->s_journal_inum, e))
		return -1;
	return 0;
}

static int fs_create(const char *image_path, const struct imgfile *img,
		     const struct ext4fs_spec *spec, uint64_t need_inodes,
		     ext2_filsys *out, struct mk_err *e)
{
	ext2_filsys fs;
	errcode_t err;

	if (fs_init(image_path, spec->size / EXT4FS_BLOCK_SIZE, need_inodes,
		    &fs, e))
		return -1;
	err = dataio_wrap(&fs->io, img, spec->offset);
	fs->image_io = fs->io;
	if (err) {
		ext2fs_free(fs);
		return fail_ext2(e, err, "cannot place ext4 in the image");
	}
	set_identity(fs, spec);
	err = ext2fs_allocate_tables(fs);
	if (err) {
		ext2fs_free(fs);
		return fail_ext2(e, err, "cannot allocate ext4 group tables");
	}
	if (wipe_old_signatures(fs, e) || write_reserved_inodes(fs, e) ||
	    make_special_inodes(fs, e)) {
		ext2fs_free(fs);
		return -1;
	}
	*out = fs;
	return 0;
}

/* ---- writing the tree --------------------------------------------- */

struct writer {
	ext2_filsys fs;
	const struct imgfile *img; /* the image, for file data */
	const char *label; /* the filesystem's, for messages */
	uint64_t offset;   /* partition start in the image */
	blk64_t goal;      /* where the next allocation starts looking */
	ext2_ino_t next_ino;
	uint32_t usable;   /* directory block bytes before the tail */
	const uint8_t *hash_seed; /* the superblock's, for htrees */
	char *buf;         /* DATA_CHUNK_BLOCKS blocks */
	const struct ext4fs_links *links;
	uint64_t file_index;      /* regular files so far */
	struct owner_ino *owners; /* inodes of files with links, by index */
	size_t nowners, owners_cap;
	const struct fst_node *lost_found;
	const struct ext4fs_spec *spec; /* for its progress callback */
	uint64_t settled;  /* the image offset last told spec->settled */
	struct mk_err *e;
};

struct owner_ino {
	uint64_t index;
	uint32_t ino;
};

static void inode_base(const struct fst_node *n, uint16_t type,
		       uint32_t nlink, struct ext2_inode_large *in)
{
	memset(in, 0, sizeof(*in));
	in->i_mode = (uint16_t)(type | n->mode);
	in->i_uid = (uint16_t)n->uid;
	ext2fs_set_i_uid_high(*in, n->uid >> 16);
	in->i_gid = (uint16_t)n->gid;
	ext2fs_set_i_gid_high(*in, n->gid >> 16);
	set_times(in, n->time);
	in->i_extra_isize = sizeof(struct ext2_inode_large) -
			    EXT2_GOOD_OLD_INODE_SIZE;
	in->i_links_count = (uint16_t)nlink;
}

static int fail_alloc(struct writer *w, errcode_t err, const char *what)
{
	if (err == EXT2_ET_BLOCK_ALLOC_FAIL)
		return mk_fail(w->e, "%s filesystem is full (%llu MiB)",
			       w->label,
			       (unsigned long long)(ext2fs_blocks_count(
				       w->fs->super) * EXT4FS_BLOCK_SIZE >> 20));
	return fail_ext2(w->e, err, what);
}

/* Gives the inode an (empty) extent tree. */
static int start_extents(struct writer *w, ext2_ino_t ino,
			 struct ext2_inode_large *in)
{
	ext2_extent_handle_t h;
	errcode_t err;

	in->i_flags |= EXT4_EXTENTS_FL;
	err = ext2fs_extent_open2(w->fs, ino, (struct ext2_inode *)in, &h);
	if (err)
		return fail_ext2(w->e, err, "cannot start an extent tree");
	ext2fs_extent_free(h);
	return 0;
}

/* Writes `nblocks` blocks of `data` at physical block `pblk`. */
typedef int (*block_writer)(struct writer *w, const char *data,
			    uint64_t nblocks, blk64_t pblk, ext2_ino_t ino);

static int write_data_blocks(struct writer *w, const char *data,
			     uint64_t nblocks, blk64_t pblk, ext2_ino_t ino)
{
	int err = imgfile_pwrite(w->img, data, nblocks * EXT4FS_BLOCK_SIZE,
				 w->offset + pblk * EXT4FS_BLOCK_SIZE);

	(void)ino;
	if (err)
		return mk_fail_errno(w->e, err, "cannot write");
	return 0;
}

static int write_dir_blocks(struct writer *w, const char *data,
			    uint64_t nblocks, blk64_t pblk, ext2_ino_t ino)
{
	uint64_t i;
	errcode_t err = 0;

	/* Through libext2fs, which adds each block's checksum. */
	for (i = 0; !err && i < nblocks; i++)
		err = ext2fs_write_dir_block4(w->fs, pblk + i,
					      (void *)(data + i * EXT4FS_BLOCK_SIZE),
					      0, ino);
	return err ? fail_ext2(w->e, err, "cannot write a directory block") : 0;
}

/*
 * Tells spec->settled where the allocation cursor is, each time it has
 * moved SETTLE_STEP on: the blocks libext2fs holds are written first,
 * so everything below it is in the file (but metadata written later).
 */
static int report_settled(struct writer *w)
{
	uint64_t at = w->offset + w->goal * EXT4FS_BLOCK_SIZE;
	errcode_t err;

	if (!w->spec->settled || at < w->settled + SETTLE_STEP)
		return 0;
	if ((err = io_channel_flush(w->fs->io)))
		return fail_ext2(w->e, err, "cannot write");
	w->settled = at;
	w->spec->settled(w->spec->progress_ctx, at);
	return 0;
}

/*
 * Writes the blocks that logical blocks [lblk, lblk + len) map to, from
 * `data` (block lblk first), following the extent tree.
 */
static int write_mapped(struct writer *w, ext2_ino_t ino,
			struct ext2_inode_large *in, uint64_t lblk,
			uint64_t len, const char *data, block_writer put)
{
	ext2_extent_handle_t h;
	struct ext2fs_extent ex;
	uint64_t at = lblk, end = lblk + len;
	errcode_t err;
	int rc = 0;

	err = ext2fs_extent_open2(w->fs, ino, (struct ext2_inode *)in, &h);
	if (err)
		return fail_ext2(w->e, err, "cannot read back an extent tree");
	err = ext2fs_extent_goto2(h, 0, (blk64_t)lblk);
	while (!err && rc == 0 && at < end) {
		uint64_t skip, n;

		err = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &ex);
		if (err || at < ex.e_lblk || at >= ex.e_lblk + ex.e_len) {
			err = err ? err : EXT2_ET_EXTENT_NOT_FOUND;
			break;
		}
		skip = at - ex.e_lblk;
		n = ex.e_len - skip < end - at ? ex.e_len - skip : end - at;
		rc = put(w, data + (at - lblk) * EXT4FS_BLOCK_SIZE, n,
			 ex.e_pblk + skip, ino);
		w->goal = ex.e_pblk + skip + n;
		if (rc == 0)
			rc = report_settled(w);
		at += n;
		if (at < end)
			err = ext2fs_extent_get(h, EXT2_EXTENT_NEXT_LEAF, &ex);
	}
	ext2fs_extent_free(h);
	if (rc == 0 && err)
		return fail_ext2(w->e, err, "cannot read back an extent tree");
	return rc;
}

/* Maps logical blocks [lblk, lblk + len) (initialised, near the last
 * placement) and writes `data` to them. */
static int place_blocks(struct writer *w, ext2_ino_t ino,
			struct ext2_inode_large *in, uint64_t lblk,
			uint64_t len, const char *data, block_writer put)
{
	errcode_t err = ext2fs_fallocate(w->fs, EXT2_FALLOCATE_FORCE_INIT, ino,
					 (struct ext2_inode *)in, w->goal,
					 (blk64_t)lblk, len);

	if (err)
		return fail_alloc(w, err, "cannot allocate blocks");
	return write_mapped(w, ino, in, lblk, len, data, put);
}

/*
 * Places the non-zero blocks among `nblocks` blocks of file content
 * that start at logical block `lblk`; all-zero blocks stay holes of the
 * ext4 file, mapped to nothing, so they read as zero on any card.
 */
static int place_nonzero(struct writer *w, ext2_ino_t ino,
			 struct ext2_inode_large *in, uint64_t lblk,
			 const char *data, uint64_t nblocks)
{
	uint64_t i = 0, start;
	int rc = 0;

	while (rc == 0 && i < nblocks) {
		for (; i < nblocks && mk_is_zero(data + i * EXT4FS_BLOCK_SIZE,
						 EXT4FS_BLOCK_SIZE); i++)
			;
		for (start = i; i < nblocks &&
		     !mk_is_zero(data + i * EXT4FS_BLOCK_SIZE,
				 EXT4FS_BLOCK_SIZE); i++)
			;
		if (i > start)
			rc = place_blocks(w, ino, in, lblk + start, i - start,
					  data + start * EXT4FS_BLOCK_SIZE,
					  write_data_blocks);
	}
	return rc;
}

static int write_inode(struct writer *w, ext2_ino_t ino,
		       struct ext2_inode_large *in, uint64_t size)
{
	errcode_t err = ext2fs_inode_size_set(w->fs, (struct ext2_inode *)in,
					      size);

	if (!err)
		err = ext2fs_write_inode_full(w->fs, ino,
					      (struct ext2_inode *)in,
					      sizeof(*in));
	if (err)
		return fail_ext2(w->e, err, "cannot write an inode");
	return 0;
}

/* Fills w->buf with `nblocks` blocks of file content from byte `pos`. */
static int read_chunk(struct writer *w, const struct fst_node *n, int src_fd,
		      uint64_t pos, uint64_t nblocks)
{
	uint64_t want = nblocks * EXT4FS_BLOCK_SIZE;
	long got;

	if (want > n->size - pos)
		want = n->size - pos;
	if (n->data) {
		memcpy(w->buf, (const char *)n->data + pos, want);
	} else {
		if (lseek(src_fd, (off_t)pos, SEEK_SET) < 0)
			return mk_fail_errno(w->e, errno, "%s: cannot read",
					     fst_shown(n));
		got = mk_read_full(src_fd, w->buf, want);
		if (got < 0)
			return mk_fail_errno(w->e, errno, "%s: cannot read",
					     fst_shown(n));
		if ((uint64_t)got != want)
			return mk_fail(w->e, "%s: changed size while reading",
				       fst_shown(n));
	}
	memset(w->buf + want, 0, nblocks * EXT4FS_BLOCK_SIZE - want);
	return 0;
}

/* The block-aligned offset of the next host data at or after `pos`
 * (host holes are skipped without reading them), or n->size when none
 * is left. */
static uint64_t next_data(const struct fst_node *n, int src_fd, uint64_t pos)
{
	off_t at;

	if (src_fd < 0)
		return pos;
	at = lseek(src_fd, (off_t)pos, SEEK_DATA);
	if (at < 0)
		return errno == ENXIO ? n->size : pos;
	return (uint64_t)at / EXT4FS_BLOCK_SIZE * EXT4FS_BLOCK_SIZE;
}

static int check_size_kept(struct writer *w, const struct fst_node *n,
			   int src_fd)
{
	struct stat st;

	if (fstat(src_fd, &st) != 0)
		return mk_fail_errno(w->e, errno, "%s: cannot read",
				     fst_shown(n));
	if ((uint64_t)st.st_size != n->size)
		return mk_fail(w->e, "%s: changed size while reading",
			       fst_shown(n));
	return 0;
}

static void report(const struct writer *w, uint64_t files, uint64_t bytes)
{
	if (w->spec->progress)
		w->spec->progress(w->spec->progress_ctx, files, bytes);
}

static int copy_content(struct writer *w, const struct fst_node *n,
			ext2_ino_t ino, struct ext2_inode_large *in)
{
	const uint64_t chunk = DATA_CHUNK_BLOCKS * (uint64_t)EXT4FS_BLOCK_SIZE;
	int src_fd = -1, rc = 0;
	uint64_t pos = 0, reported = 0;

	if (!n->data) {
		src_fd = fst_open(n, w->e);
		if (src_fd < 0)
			return -1;
	}
	while (rc == 0 && (pos = next_data(n, src_fd, pos)) < n->size) {
		uint64_t nb = mk_div_ceil(n->size - pos, EXT4FS_BLOCK_SIZE);

		if (nb > DATA_CHUNK_BLOCKS)
			nb = DATA_CHUNK_BLOCKS;
		rc = read_chunk(w, n, src_fd, pos, nb);
		if (rc == 0)
			rc = place_nonzero(w, ino, in, pos / EXT4FS_BLOCK_SIZE,
					   w->buf, nb);
		pos += chunk;
		/* Host holes skipped count too: bytes are the file's size. */
		report(w, 0, (pos < n->size ? pos : n->size) - reported);
		reported = pos < n->size ? pos : n->size;
	}
	if (rc == 0)
		report(w, 0, n->size - reported);
	if (rc == 0 && src_fd >= 0)
		rc = check_size_kept(w, n, src_fd);
	if (src_fd >= 0)
		close(src_fd);
	return rc;
}

static int write_file(struct writer *w, const struct fst_node *n,
		      uint32_t nlink)
{
	struct ext2_inode_large in;

	ext2fs_inode_alloc_stats2(w->fs, n->ino, +1, 0);
	inode_base(n, LINUX_S_IFREG, nlink, &in);
	if (start_extents(w, n->ino, &in) || copy_content(w, n, n->ino, &in))
		return -1;
	return write_inode(w, n->ino, &in, n->size);
}

static int write_symlink(struct writer *w, const struct fst_node *n)
{
	struct ext2_inode_large in;
	size_t len = strlen(n->target);

	if (len >= EXT4FS_BLOCK_SIZE)
		return mk_fail(w->e, "symlink target too long (%zu bytes): %s",
			       len, n->target);
	ext2fs_inode_alloc_stats2(w->fs, n->ino, +1, 0);
	inode_base(n, LINUX_S_IFLNK, 1, &in);
	if (len <= FAST_SYMLINK_MAX) {
		/* A fast symlink keeps its target in i_block. */
		memcpy(in.i_block, n->target, len);
		return write_inode(w, n->ino, &in, len);
	}
	memset(w->buf, 0, EXT4FS_BLOCK_SIZE);
	memcpy(w->buf, n->target, len);
	if (start_extents(w, n->ino, &in) ||
	    place_blocks(w, n->ino, &in, 0, 1, w->buf, write_data_blocks))
		return -1;
	return write_inode(w, n->ino, &in, len);
}


static int new_ino(struct writer *w, struct fst_node *n)
{
	if (n == w->lost_found)
		return 0; /* numbered before the walk */
	if (w->next_ino > w->fs->super->s_inodes_count)
		return mk_fail(w->e, "%s filesystem is out of inodes", w->label);
	n->ino = w->next_ino++;
	return 0;
}

static int cmp_owner(const void *key, const void *elem)
{
	uint64_t index = *(const uint64_t *)key;
	const struct owner_ino *o = elem;

	return index < o->index ? -1 : index > o->index;
}

/* Owners are remembered in walk order, so the array is sorted. */
static uint32_t owner_ino(const struct writer *w, uint64_t index)
{
	const struct owner_ino *o =
		w->nowners ? bsearch(&index, w->owners, w->nowners,
				     sizeof(*w->owners), cmp_owner)
			   : NULL;

	return o ? o->ino : 0;
}

static int remember_owner(struct writer *w, uint64_t index, uint32_t ino)
{
	if (mk_grow(&w->owners, &w->owners_cap, w->nowners, sizeof(*w->owners)))
		return mk_fail(w->e, "out of memory");
	w->owners[w->nowners++] = (struct owner_ino){ index, ino };
	return 0;
}

/* A regular file: its own inode with its data, or a link to an earlier
 * file's inode. */
static int place_file(struct writer *w, struct fst_node *f)
{
	uint64_t index, owner;
	uint32_t nlink = 1;

	index = w->file_index++;
	owner = w->links ? w->links->owner(w->links->ctx, index, f->size,
					   &nlink)
			 : index;
	if (owner == EXT4FS_TREE_CHANGED)
		return mk_fail(w->e, "%s: changed while being read",
			       f->src ? fst_shown(f) : f->name);
	report(w, 1, 0);
	if (owner != index) {
		f->ino = owner_ino(w, owner);
		return f->ino ? 0 : mk_fail(w->e, "%s: no inode for a hardlink "
					    "(the tree changed between passes)",
					    f->src ? fst_shown(f) : f->name);
	}
	if (new_ino(w, f) || write_file(w, f, nlink))
		return -1;
	return nlink > 1 ? remember_owner(w, index, f->ino) : 0;
}

static int write_dir(struct writer *w, struct fst_node *d, uint32_t parent);

/* Every entry of a directory in order, subdirectories depth first, so
 * that inode numbers and data follow the walk. */
static int write_entries(struct writer *w, struct fst_node *d)
{
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < d->nkids; i++) {
		struct fst_node *k = d->kids[i];

		if (k->kind == FST_DIR)
			rc = new_ino(w, k) || write_dir(w, k, d->ino) ? -1 : 0;
		else if (k->kind == FST_SYMLINK)
			rc = new_ino(w, k) || write_symlink(w, k) ? -1 : 0;
		else
			rc = place_file(w, k);
	}
	return rc ? -1 : 0;
}

/* A directory's blocks, filled (zeroed first): linear, or when larger
 * than one block an htree (then *indexed is set). */
static int dir_build(struct writer *w, const struct fst_node *d,
		     uint32_t parent, char **out, uint64_t *nblocks,
		     int *indexed)
{
	struct dx_layout x = { NULL, 0, 0 };
	uint32_t *leaf_hash = NULL;
	int rc = 0;

	*indexed = dir_indexed(d);
	if (!*indexed) {
		*nblocks = dir_pack(NULL, d, parent, w->usable, NULL);
		*out = calloc(*nblocks, EXT4FS_BLOCK_SIZE);
		if (!*out)
			return mk_fail(w->e, "out of memory");
		dir_pack(w->fs, d, parent, w->usable, *out);
		return 0;
	}
	if (dx_plan(d, w->hash_seed, &x, w->e) == 0) {
		*out = calloc(x.blocks, EXT4FS_BLOCK_SIZE);
		leaf_hash = malloc(x.leaves * sizeof(*leaf_hash));
		if (!*out || !leaf_hash)
			rc = mk_fail(w->e, "out of memory");
	} else {
		rc = -1;
	}
	if (rc == 0) {
		dx_fill_leaves(w->fs, d, x.names, *out, leaf_hash);
		htree_write_index(*out, d->ino, parent, x.leaves, leaf_hash);
		*nblocks = x.blocks;
	}
	free(leaf_hash);
	free(x.names);
	return rc;
}

/* A directory whose inode is numbered: everything below it, then its
 * own blocks, which need the entries' inode numbers. */
static int write_dir(struct writer *w, struct fst_node *d, uint32_t parent)
{
	struct ext2_inode_large in;
	uint64_t nblocks = 0, subdirs = 0;
	char *blocks = NULL;
	size_t i;
	int rc, indexed = 0;

	if (fst_load(d, w->e))
		return -1;
	rc = write_entries(w, d);
	if (rc == 0)
		rc = dir_build(w, d, parent, &blocks, &nblocks, &indexed);
	for (i = 0; rc == 0 && i < d->nkids; i++)
		subdirs += d->kids[i]->kind == FST_DIR;
	if (rc == 0) {
		ext2fs_inode_alloc_stats2(w->fs, d->ino, +1, 1);
		inode_base(d, LINUX_S_IFDIR, ext4fs_dir_nlink(subdirs), &in);
		if (indexed)
			in.i_flags |= EXT2_INDEX_FL;
		rc = start_extents(w, d->ino, &in) ||
				     place_blocks(w, d->ino, &in, 0, nblocks,
						  blocks, write_dir_blocks)
			     ? -1 : 0;
	}
	free(blocks);
	if (rc == 0)
		rc = write_inode(w, d->ino, &in, nblocks * EXT4FS_BLOCK_SIZE);
	fst_unload(d);
	return rc;
}

static int start_numbering(struct writer *w, struct fst_node *root)
{
	struct fst_node *lf = fst_child(root, EXT4FS_LOST_FOUND);

	if (!lf)
		return mk_fail(w->e, "%s: tree has no lost+found", w->label);
	root->ino = EXT2_ROOT_INO;
	lf->ino = EXT2_FIRST_INO(w->fs->super); /* where mke2fs puts it */
	w->lost_found = lf;
	w->next_ino = lf->ino + 1;
	return 0;
}

static int fs_finish(struct writer *w, struct ext4fs_stats *stats)
{
	errcode_t err;

	stats->size = ext2fs_blocks_count(w->fs->super) * EXT4FS_BLOCK_SIZE;
	stats->used = stats->size -
		      ext2fs_free_blocks_count(w->fs->super) * EXT4FS_BLOCK_SIZE;
	stats->inodes = w->fs->super->s_inodes_count;
	err = ext2fs_close_free(&w->fs);
	return err ? fail_ext2(w->e, err, "cannot finish the filesystem") : 0;
}

int ext4fs_write(const char *image_path, const struct imgfile *img,
		 const struct ext4fs_spec *spec, struct fst_node *root,
		 const struct ext4fs_links *links, struct ext4fs_stats *stats,
		 struct mk_err *e)
{
	struct writer w = { .img = img,
			    .label = spec->label, .offset = spec->offset,
			    .usable = DIR_USABLE, .links = links,
			    .spec = spec, .e = e,
			    .hash_seed = spec->hash_seed };
	int rc;

	w.buf = malloc((size_t)DATA_CHUNK_BLOCKS * EXT4FS_BLOCK_SIZE);
	if (!w.buf)
		return mk_fail(e, "out of memory");
	rc = fs_create(image_path, img, spec, spec->inodes, &w.fs, e);
	if (rc == 0) {
		rc = start_numbering(&w, root);
		if (rc == 0)
			rc = write_dir(&w, root, EXT2_ROOT_INO);
		if (rc == 0)
			rc = fs_finish(&w, stats);
		else
			ext2fs_free(w.fs);
	}
	free(w.owners);
	free(w.buf);
	return rc;
}
