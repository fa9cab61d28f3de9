/*
 * htree.c - ext4 hashed directory index blocks, byte for byte.
 *
 * The layouts below follow the ext4 on-disk format ("Hash Tree
 * Directories" in the kernel's Documentation/filesystems/ext4) as the
 * kernel (fs/ext4/namei.c: dx_probe, dx_root_limit, dx_node_limit) reads
 * them and e2fsck (rehash.c) writes them.  Multi-byte integers on disk
 * are little-endian; every store goes through htole16/32.
 */
#include "htree.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include <ext2fs/ext2fs.h>

#define DX_INFO_LENGTH 8     /* bytes of dx_root_info */
#define DOT_REC_LEN 12       /* "." padded to four bytes */
/* e2fsck's default indexed_dir_slack_percentage: a leaf closes once an
 * entry leaves less than this share of it free, so that entries added
 * later on the device rarely split a leaf. */
#define LEAF_SLACK_PERCENT 20
#define LEAF_SLACK (HTREE_LEAF_USABLE * LEAF_SLACK_PERCENT / 100)
/* Hash versions from EXT2_HASH_LEGACY to EXT2_HASH_TEA have unsigned
 * twins this much higher, for userspace (EXT2_HASH_*_UNSIGNED). */
#define HASH_UNSIGNED_OFFSET (EXT2_HASH_LEGACY_UNSIGNED - EXT2_HASH_LEGACY)

/* The fixed head of a directory entry (ext4 "Linear Directories"). */
struct dx_dirent {
	uint32_t inode;    /* 0 for a dx_node's fake entry */
	uint16_t rec_len;  /* bytes to the next entry */
	uint8_t name_len;  /* bytes of name */
	uint8_t file_type; /* EXT2_FT_DIR for "." and "..", else 0 */
} __attribute__((packed));

/* Block 0 of an indexed directory, up to its dx entries. */
struct dx_root {
	struct dx_dirent dot;    /* ".", DOT_REC_LEN bytes */
	char dot_name[4];        /* ".", zero-padded */
	struct dx_dirent dotdot; /* "..", reaching the end of the block */
	char dotdot_name[4];     /* "..", zero-padded */
	/* dx_root_info: */
	uint32_t reserved_zero;  /* 0 */
	uint8_t hash_version;    /* HTREE_HASH_VERSION */
	uint8_t info_length;     /* DX_INFO_LENGTH */
	uint8_t indirect_levels; /* 0: entries name leaves; 1: dx_nodes */
	uint8_t unused_flags;    /* 0 */
} __attribute__((packed));

/* A dx_node: an empty entry spanning the block, so that a reader of
 * linear directories skips it, then dx entries. */
struct dx_node {
	struct dx_dirent fake; /* inode 0, rec_len the whole block */
} __attribute__((packed));

/* The first dx entry's hash field holds the array's size. */
struct dx_countlimit {
	uint16_t limit; /* entries the block has room for */
	uint16_t count; /* entries in use, this one included */
} __attribute__((packed));

struct dx_entry {
	uint32_t hash;  /* lowest hash of the block (unused in entry 0) */
	uint32_t block; /* logical block in the directory */
} __attribute__((packed));

/* After `limit` entries, with metadata_csum (ext2_dx_tail). */
struct dx_tail {
	uint32_t reserved; /* 0 */
	uint32_t checksum; /* crc32c, set by libext2fs on write */
} __attribute__((packed));

_Static_assert(sizeof(struct dx_dirent) == 8, "dirent head");
_Static_assert(sizeof(struct dx_root) == 32, "dx_root before its entries");
_Static_assert(offsetof(struct dx_root, reserved_zero) + DX_INFO_LENGTH ==
		       sizeof(struct dx_root), "dx_root_info length");
_Static_assert(sizeof(struct dx_countlimit) == 4, "countlimit");
_Static_assert(sizeof(struct dx_entry) == 8, "dx_entry");
_Static_assert(sizeof(struct dx_tail) == sizeof(struct ext2_dx_tail),
	       "dx_tail");
_Static_assert(HTREE_LEAF_USABLE ==
		       HTREE_BLOCK_SIZE - sizeof(struct ext2_dir_entry_tail),
	       "leaf tail");
_Static_assert(HTREE_ROOT_LIMIT ==
		       (HTREE_BLOCK_SIZE - sizeof(struct dx_root) -
			sizeof(struct dx_tail)) / sizeof(struct dx_entry),
	       "root limit as dx_root_limit computes it");
_Static_assert(HTREE_NODE_LIMIT ==
		       (HTREE_BLOCK_SIZE - sizeof(struct dx_node) -
			sizeof(struct dx_tail)) / sizeof(struct dx_entry),
	       "node limit as dx_node_limit computes it");

void htree_seed(const uint8_t bytes[HTREE_SEED_BYTES],
		uint32_t seed[HTREE_SEED_WORDS])
{
	int i;

	for (i = 0; i < HTREE_SEED_WORDS; i++) {
		uint32_t w;

		memcpy(&w, bytes + 4 * i, sizeof(w));
		seed[i] = le32toh(w);
	}
}

/* The version libext2fs hashes with: the signedness is the flag's. */
static int hash_alg(void)
{
	return HTREE_HASH_FLAG == EXT2_FLAGS_UNSIGNED_HASH
		       ? HTREE_HASH_VERSION + HASH_UNSIGNED_OFFSET
		       : HTREE_HASH_VERSION;
}

int htree_hash(const uint32_t seed[HTREE_SEED_WORDS], struct htree_name *n)
{
	ext2_dirhash_t hash, minor;
	errcode_t err = ext2fs_dirhash2(hash_alg(), n->name, n->len, NULL, 0,
					seed, &hash, &minor);

	if (err)
		return -1;
	n->hash = hash;
	n->minor = minor;
	return 0;
}

/* e2fsck's hash_cmp: hash, minor hash, then name bytes (a prefix first). */
static int cmp_names(const void *pa, const void *pb)
{
	const struct htree_name *a = pa, *b = pb;
	size_t len = a->len < b->len ? a->len : b->len;
	int c;

	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	if (a->minor != b->minor)
		return a->minor < b->minor ? -1 : 1;
	c = memcmp(a->name, b->name, len);
	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

void htree_sort(struct htree_name *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_names);
}

int htree_fill_add(struct htree_fill *f, uint32_t rec_len, uint32_t *offset)
{
	int fresh = rec_len > f->left;

	if (fresh) {
		f->leaves++;
		f->left = HTREE_LEAF_USABLE;
	}
	*offset = HTREE_LEAF_USABLE - f->left;
	f->left -= rec_len;
	if (f->left < LEAF_SLACK)
		f->left = 0; /* the entry takes the rest of the leaf */
	return fresh;
}

/* dx_nodes under the root, or 0 when the root names every leaf. */
static uint64_t node_count(uint64_t leaves)
{
	if (leaves <= HTREE_ROOT_LIMIT)
		return 0;
	return (leaves + HTREE_NODE_LIMIT - 1) / HTREE_NODE_LIMIT;
}

int htree_index_blocks(uint64_t leaves, uint64_t *blocks)
{
	if (leaves > HTREE_MAX_LEAVES)
		return -1;
	*blocks = 1 + node_count(leaves);
	return 0;
}

static void put_dirent(struct dx_dirent *d, uint32_t ino, uint32_t rec_len,
		       uint8_t name_len, uint8_t file_type)
{
	d->inode = htole32(ino);
	d->rec_len = htole16((uint16_t)rec_len);
	d->name_len = name_len;
	d->file_type = file_type;
}

/* Entry i of the dx entries at `at`; entry 0's hash field is the
 * countlimit's, so its hash is not stored. */
static void put_entry(char *at, uint32_t i, uint32_t hash, uint64_t block)
{
	struct dx_entry e = { htole32(hash), htole32((uint32_t)block) };

	if (i == 0)
		memcpy(at + offsetof(struct dx_entry, block), &e.block,
		       sizeof(e.block));
	else
		memcpy(at + i * sizeof(e), &e, sizeof(e));
}

static void put_countlimit(char *at, uint32_t limit, uint64_t count)
{
	struct dx_countlimit cl = { htole16((uint16_t)limit),
				    htole16((uint16_t)count) };

	memcpy(at, &cl, sizeof(cl));
}

static void put_root(char *block, uint32_t ino, uint32_t parent,
		     uint8_t levels)
{
	struct dx_root r;

	memset(&r, 0, sizeof(r));
	put_dirent(&r.dot, ino, DOT_REC_LEN, 1, EXT2_FT_DIR);
	r.dot_name[0] = '.';
	put_dirent(&r.dotdot, parent, HTREE_BLOCK_SIZE - DOT_REC_LEN, 2,
		   EXT2_FT_DIR);
	memcpy(r.dotdot_name, "..", 2);
	r.hash_version = HTREE_HASH_VERSION;
	r.info_length = DX_INFO_LENGTH;
	r.indirect_levels = levels;
	memcpy(block, &r, sizeof(r));
}

/* A dx_node naming leaves first + 1 to first + n. */
static void put_node(char *block, uint64_t first, uint64_t n,
		     const uint32_t *leaf_hash)
{
	struct dx_node node;
	char *at = block + sizeof(node);
	uint32_t i;

	put_dirent(&node.fake, 0, HTREE_BLOCK_SIZE, 0, 0);
	memcpy(block, &node, sizeof(node));
	for (i = 0; i < n; i++)
		put_entry(at, i, leaf_hash[first + i], 1 + first + i);
	put_countlimit(at, HTREE_NODE_LIMIT, n);
}

void htree_write_index(char *dir, uint32_t ino, uint32_t parent,
		       uint64_t leaves, const uint32_t *leaf_hash)
{
	uint64_t nodes = node_count(leaves), k;
	char *at = dir + sizeof(struct dx_root);

	put_root(dir, ino, parent, nodes ? 1 : 0);
	if (!nodes) {
		for (k = 0; k < leaves; k++)
			put_entry(at, (uint32_t)k, leaf_hash[k], 1 + k);
		put_countlimit(at, HTREE_ROOT_LIMIT, leaves);
		return;
	}
	/* Node k, after the leaves, names HTREE_NODE_LIMIT leaves from
	 * k * HTREE_NODE_LIMIT on (the last one the rest); the root names
	 * each node by its first leaf's hash. */
	for (k = 0; k < nodes; k++) {
		uint64_t first = k * HTREE_NODE_LIMIT, left = leaves - first;

		put_node(dir + HTREE_BLOCK_SIZE * (1 + leaves + k), first,
			 left < HTREE_NODE_LIMIT ? left : HTREE_NODE_LIMIT,
			 leaf_hash);
		put_entry(at, (uint32_t)k, leaf_hash[first], 1 + leaves + k);
	}
	put_countlimit(at, HTREE_ROOT_LIMIT, nodes);
}
