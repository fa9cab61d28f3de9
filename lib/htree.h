/*
 * htree.h - ext4's hashed directory index (htree), as e2fsck -D builds it.
 *
 * Owns: the directory hash (half_md4 with the filesystem's seed, signed
 * chars whatever the host's), the order of an indexed directory's
 * entries (hash, minor hash, name), which leaf block each entry goes to
 * (e2fsck's fill: a leaf closes once less than 20% of it is free), and
 * the bytes of the index blocks above the leaves: the dx_root in block 0
 * and, when its 507 entries do not reach every leaf, one level of
 * dx_node blocks after the leaves.  Two levels at most: a third needs
 * the large_dir feature, which these filesystems do not set.
 * Does not own: which directories are indexed, the bytes of the entries
 * in the leaves, checksums (libext2fs adds them when the blocks are
 * written) or the inode (ext4fs.c).
 */
#ifndef MK_HTREE_H
#define MK_HTREE_H

#include <stddef.h>
#include <stdint.h>

#include <ext2fs/ext2_fs.h>

#define HTREE_BLOCK_SIZE 4096u
#define HTREE_SEED_BYTES 16
#define HTREE_SEED_WORDS 4
/* The superblock's s_def_hash_version and every dx_root's hash_version. */
#define HTREE_HASH_VERSION EXT2_HASH_HALF_MD4
/*
 * The superblock's s_flags hash bit.  Without one, the kernel and
 * libext2fs each pick by their own build's char signedness (signed on
 * x86_64, unsigned on arm64): set, it is what both use, and names with
 * bytes from 0x80 hash the same on every machine.  Signed, as mke2fs
 * sets it on x86_64.
 */
#define HTREE_HASH_FLAG EXT2_FLAGS_SIGNED_HASH

/* Bytes of a leaf before its checksum tail (struct ext2_dir_entry_tail). */
#define HTREE_LEAF_USABLE (HTREE_BLOCK_SIZE - 12u)
/* dx entries in the root (after ".", ".." and dx_root_info) and in a
 * dx_node (after a fake entry), each before its dx_tail. */
#define HTREE_ROOT_LIMIT ((HTREE_BLOCK_SIZE - 32u - 8u) / 8u) /* 507 */
#define HTREE_NODE_LIMIT ((HTREE_BLOCK_SIZE - 8u - 8u) / 8u)  /* 510 */
/* Leaves two levels reach: the most an indexed directory may have. */
#define HTREE_MAX_LEAVES ((uint64_t)HTREE_ROOT_LIMIT * HTREE_NODE_LIMIT)

/* One entry of an indexed directory. */
struct htree_name {
	const char *name; /* not NUL-terminated here; len bytes */
	uint32_t hash;    /* major hash, low bit clear */
	uint32_t minor;   /* minor hash, the first tie-break */
	uint32_t index;   /* the caller's: which entry this is */
	uint8_t len;
};

/* The seed words as the superblock's s_hash_seed holds them, from the
 * 16 bytes (a UUID) on disk. */
void htree_seed(const uint8_t bytes[HTREE_SEED_BYTES],
		uint32_t seed[HTREE_SEED_WORDS]);

/* Sets n->hash and n->minor for n->name under `seed`. 0, or -1 when
 * libext2fs refuses (never for a name of 1 to 255 bytes). */
int htree_hash(const uint32_t seed[HTREE_SEED_WORDS], struct htree_name *n);

/* Sorts entries into the order of their leaves. */
void htree_sort(struct htree_name *v, size_t n);

/*
 * Filling leaves with entries in order, as e2fsck -D does: start with
 * HTREE_FILL_INIT; htree_fill_add places an entry of `rec_len` bytes,
 * sets *offset (where it goes in its leaf) and returns 1 when it starts
 * a new leaf (f->leaves counts them).  The last entry of each leaf
 * reaches HTREE_LEAF_USABLE.
 */
struct htree_fill {
	uint32_t left;   /* bytes the current leaf still takes; 0: closed */
	uint64_t leaves; /* leaves started */
};
#define HTREE_FILL_INIT ((struct htree_fill){ 0, 0 })
int htree_fill_add(struct htree_fill *f, uint32_t rec_len, uint32_t *offset);

/* Index blocks (root and dx_nodes) above `leaves` leaves; -1 when two
 * levels cannot reach them all (more than HTREE_MAX_LEAVES). */
int htree_index_blocks(uint64_t leaves, uint64_t *blocks);

/*
 * Writes the index of a directory whose blocks are `dir` (zeroed, each
 * HTREE_BLOCK_SIZE): the root in block 0 (with "." = `ino` and ".." =
 * `parent`), leaves 1 to `leaves` (already filled), dx_nodes after them.
 * leaf_hash[i] is the hash of leaf i + 1's first entry, with the low bit
 * set when it continues the previous leaf's last hash.  dx_tails are
 * left zero for libext2fs to checksum.  `leaves` must have passed
 * htree_index_blocks.
 */
void htree_write_index(char *dir, uint32_t ino, uint32_t parent,
		       uint64_t leaves, const uint32_t *leaf_hash);

#endif
