/*
 * test_htree.c - htree.c: how many entries an indexed directory takes.
 *
 * Without large_dir an ext4 directory index has two levels at most: the
 * root's dx entries (507 with metadata_csum: (4096 - 32 - 8) / 8, as the
 * kernel's dx_root_limit computes it) each naming a dx_node of 510 ((4096
 * - 8 - 8) / 8, dx_node_limit), so 507 * 510 = 258,570 leaves.  e2fsck
 * -D fills a leaf (4084 bytes before its checksum tail) until an entry
 * leaves less than 20% of it (816 bytes) free: 13 entries of a 255-byte
 * name (264 bytes each), 273 of a 1-byte name (12 bytes).  So a
 * directory of 255-byte names takes at most 13 * 258,570 = 3,361,410
 * entries, one of 1-byte names 273 * 258,570 = 70,589,610; the next
 * entry would need a third level, which mkr2simg refuses (ext4fs.c's
 * dx_plan says so in one line, naming the directory).  test_ext4fs.c
 * checks the blocks themselves, with e2fsck and a lookup written from
 * the kernel's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "htree.h"

#define REC_LEN_255 264 /* 8-byte head + 255 bytes, to four */
#define REC_LEN_1 12

/* Leaves `n` entries of `rec_len` bytes take. */
static uint64_t leaves_for(uint64_t n, uint32_t rec_len)
{
	struct htree_fill f = HTREE_FILL_INIT;
	uint32_t off;

	for (uint64_t i = 0; i < n; i++)
		htree_fill_add(&f, rec_len, &off);
	return f.leaves;
}

static void test_per_leaf(void **state)
{
	(void)state;
	assert_int_equal(leaves_for(13, REC_LEN_255), 1);
	assert_int_equal(leaves_for(14, REC_LEN_255), 2);
	assert_int_equal(leaves_for(273, REC_LEN_1), 1);
	assert_int_equal(leaves_for(274, REC_LEN_1), 2);
}

/* Where each entry goes: one after the other, a new leaf at offset 0
 * once the previous one is closed. */
static void test_offsets(void **state)
{
	struct htree_fill f = HTREE_FILL_INIT;
	uint32_t off = 1;

	(void)state;
	assert_int_equal(htree_fill_add(&f, REC_LEN_255, &off), 1);
	assert_int_equal(off, 0);
	for (uint32_t i = 1; i < 13; i++) {
		assert_int_equal(htree_fill_add(&f, REC_LEN_255, &off), 0);
		assert_int_equal(off, i * REC_LEN_255);
	}
	assert_int_equal(htree_fill_add(&f, REC_LEN_1, &off), 1);
	assert_int_equal(off, 0);
	assert_int_equal(f.leaves, 2);
}

static void test_index_blocks(void **state)
{
	uint64_t blocks = 0;

	(void)state;
	assert_int_equal(HTREE_ROOT_LIMIT, 507);
	assert_int_equal(HTREE_NODE_LIMIT, 510);
	assert_int_equal(htree_index_blocks(1, &blocks), 0);
	assert_int_equal(blocks, 1); /* the root names the leaf */
	assert_int_equal(htree_index_blocks(507, &blocks), 0);
	assert_int_equal(blocks, 1);
	assert_int_equal(htree_index_blocks(508, &blocks), 0);
	assert_int_equal(blocks, 1 + 1); /* one dx_node of 508 */
	assert_int_equal(htree_index_blocks(511, &blocks), 0);
	assert_int_equal(blocks, 1 + 2);
	assert_int_equal(htree_index_blocks(258570, &blocks), 0);
	assert_int_equal(blocks, 1 + 507);
	assert_int_equal(htree_index_blocks(258571, &blocks), -1);
}

/* The largest directories two levels index, entry by entry. */
static void test_max_entries(void **state)
{
	uint64_t blocks = 0;

	(void)state;
	assert_int_equal(leaves_for(3361410, REC_LEN_255), 258570);
	assert_int_equal(htree_index_blocks(leaves_for(3361410, REC_LEN_255),
					    &blocks), 0);
	assert_int_equal(htree_index_blocks(leaves_for(3361411, REC_LEN_255),
					    &blocks), -1);
	/* 1-byte names: 273 to a leaf, so 70,589,610 in 258,570 leaves. */
	assert_int_equal(leaves_for(273 * 2, REC_LEN_1), 2);
	assert_int_equal(leaves_for(273 * 2 + 1, REC_LEN_1), 3);
	assert_int_equal(273ull * HTREE_MAX_LEAVES, 70589610ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_leaf),
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_index_blocks),
		cmocka_unit_test(test_max_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
