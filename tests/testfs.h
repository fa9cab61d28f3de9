/*
 * testfs.h - a small ext4 filesystem written into a file, for the unit
 * tests that read one back (test_ext4info.c, test_inspect.c).
 *
 * Written with ext4fs.c (the filesystem mkr2simg writes) at a byte
 * offset of the file: a root with extlinux/extlinux.conf holding
 * TESTFS_CONF, a symlink to it, a directory, and lost+found.  Include
 * after <cmocka.h>; every step asserts.
 */
#ifndef MK_TESTS_TESTFS_H
#define MK_TESTS_TESTFS_H

#include <string.h>

#include "ext4fs.h"
#include "imgfile.h"
#include "fstree.h"

#define TESTFS_LABEL "TESTBOOT"
#define TESTFS_BYTES (16u << 20)
#define TESTFS_CONF "TIMEOUT 30\nLABEL one\n  LINUX /Image\n  APPEND x=1\n"

static const uint8_t testfs_uuid[16] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc,
					 0xde, 0xf0, 0x01, 0x23, 0x45, 0x67,
					 0x89, 0xab, 0xcd, 0xef };

static inline struct fst_node *testfs_node(struct fst_node *dir,
					   const char *name,
					   enum fst_kind kind)
{
	struct fst_node *n = fst_new(name, kind, kind == FST_DIR ? 0755 : 0644,
				     1);
	struct mk_err e = { "" };

	assert_non_null(n);
	if (dir)
		assert_int_equal(fst_add(dir, n, &e), 0);
	return n;
}

/* Writes the filesystem at `offset` of the file `path` (open as `fd`). */
static inline void testfs_write(const char *path, int fd, uint64_t offset)
{
	struct ext4fs_spec spec = { .label = TESTFS_LABEL, .time = 1,
				    .offset = offset, .size = TESTFS_BYTES,
				    .inodes = 64 };
	struct fst_node *root = testfs_node(NULL, "", FST_DIR);
	struct fst_node *dir = testfs_node(root, "extlinux", FST_DIR);
	struct fst_node *conf = testfs_node(dir, "extlinux.conf", FST_FILE);
	struct fst_node *link = testfs_node(root, "conf-link", FST_SYMLINK);
	struct imgfile img = imgfile_plain(fd);
	struct ext4fs_stats st;
	struct mk_err e = { "" };

	conf->data = TESTFS_CONF;
	conf->size = strlen(TESTFS_CONF);
	link->target = strdup("extlinux/extlinux.conf");
	assert_non_null(link->target);
	link->size = strlen(link->target);
	memcpy(spec.uuid, testfs_uuid, sizeof(testfs_uuid));
	if (fst_sort(root, &e) || ext4fs_add_lost_found(root, 1, &e) ||
	    ext4fs_write(path, &img, &spec, root, NULL, &st, &e))
		fail_msg("%s", e.msg);
	fst_free(root);
}

#endif
