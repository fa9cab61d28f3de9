/*
 * test_treecmp.c - treecmp.c: a filesystem read back against a tree.
 *
 * A filesystem written from a tree holds that tree: no difference.  Then
 * the tree (what the filesystem should hold) or the filesystem (through
 * libext2fs, as debugfs would) is changed in one way, and exactly that
 * way must be reported, as one line naming the path: a mode, an owner,
 * a time, a byte, a size, a symlink target, an entry missing or extra,
 * a kind, the label, the size, a links count that disagrees with the
 * names, an inode with more than 65,000 names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tmptree.h"

#include <ext2fs/ext2fs.h>

#include "ext4fs.h"
#include "imgfile.h"
#include "fstree.h"
#include "treecmp.h"

#define FS_BYTES (64u << 20)
#define IMAGE_OFFSET (1u << 20)
#define BIG 5000
#define LONG_TARGET "a-target-longer-than-the-sixty-bytes-that-fit-in-the-" \
		    "inode-itself"
#define MAX_LINES 8

static char big[BIG];

struct fixture {
	struct tmptree *tree;
	char *image;
	int fd;
	struct imgfile img; /* fd, as ext4fs writes it */
	struct fst_node *root;
	struct treecmp_fs spec;
	struct mk_diffs diffs;
	int nlines;
	char lines[MAX_LINES][512];
};

static void save_line(void *user, const char *line)
{
	struct fixture *f = user;

	if (f->nlines < MAX_LINES)
		snprintf(f->lines[f->nlines], sizeof(f->lines[0]), "%s", line);
	f->nlines++;
}

static struct fst_node *add(struct fst_node *dir, const char *name,
			    enum fst_kind kind, uint16_t mode)
{
	struct fst_node *n = fst_new(name, kind, mode, 1);
	struct mk_err e = { "" };

	assert_non_null(n);
	assert_int_equal(fst_add(dir, n, &e), 0);
	return n;
}

static struct fst_node *add_file(struct fst_node *dir, const char *name,
				 const char *data, size_t size)
{
	struct fst_node *n = add(dir, name, FST_FILE, 0444);

	n->data = data;
	n->size = size;
	return n;
}

static void add_symlink(struct fst_node *dir, const char *name,
			const char *target)
{
	struct fst_node *n = add(dir, name, FST_SYMLINK, 0777);

	n->target = strdup(target);
	assert_non_null(n->target);
}

/* /a, /exec, /dir/{b,fast,slow}, /host (read from a host file). */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct fst_node *dir, *host = NULL;
	struct mk_err e = { "" };
	void *tree = NULL;

	if (!f || tmptree_setup(&tree) != 0)
		return -1;
	*state = f;
	f->tree = tree;
	for (size_t i = 0; i < BIG; i++)
		big[i] = (char)('a' + i % 26);
	f->image = strdup(tmptree_path(f->tree, "image"));
	f->fd = open(f->image, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	f->img = imgfile_plain(f->fd);
	if (f->fd < 0 || ftruncate(f->fd, IMAGE_OFFSET + FS_BYTES) != 0)
		return -1;
	f->root = fst_new("", FST_DIR, 0755, 1);
	add_file(f->root, "a", "hello world", 11);
	add_file(f->root, "exec", "#!", 2)->mode = 0555;
	dir = add(f->root, "dir", FST_DIR, 0555);
	add_file(dir, "b", big, BIG);
	add_symlink(dir, "fast", "a-target");
	add_symlink(dir, "slow", LONG_TARGET);
	tmptree_file(f->tree, "src", "from the host", 0600);
	if (fst_scan(tmptree_path(f->tree, "src"), "host",
		     &fst_policy_nix_store, &host, &e) ||
	    fst_add(f->root, host, &e) || fst_sort(f->root, &e) ||
	    ext4fs_add_lost_found(f->root, 1, &e))
		return -1;
	f->spec = (struct treecmp_fs){ f->image, IMAGE_OFFSET,
				       FS_BYTES, "TEST", "partition 9", "" };
	f->diffs = (struct mk_diffs){ save_line, f, 0 };
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	void *tree = f->tree;

	close(f->fd);
	free(f->image);
	fst_free(f->root);
	free(f);
	return tmptree_teardown(&tree);
}

static void write_fs(struct fixture *f, const struct ext4fs_links *links)
{
	struct ext4fs_spec spec = { .label = "TEST", .time = 1,
				    .offset = IMAGE_OFFSET, .size = FS_BYTES,
				    .inodes = 70000 };
	struct ext4fs_stats st;
	struct mk_err e = { "" };

	if (ext4fs_write(f->image, &f->img, &spec, f->root, links, &st, &e))
		fail_msg("%s", e.msg);
}

/* Compares and expects exactly the lines given (NULL-terminated). */
static void expect_lines(struct fixture *f, ...)
{
	struct mk_err e = { "" };
	const char *want;
	va_list ap;
	int n = 0;

	f->nlines = 0;
	f->diffs.count = 0;
	if (treecmp_run(&f->spec, f->root, &f->diffs, &e))
		fail_msg("treecmp_run: %s", e.msg);
	va_start(ap, f);
	while ((want = va_arg(ap, const char *)) != NULL) {
		if (n >= f->nlines || strcmp(f->lines[n], want) != 0)
			fail_msg("line %d: '%s', expected '%s'", n + 1,
				 n < f->nlines ? f->lines[n] : "(none)", want);
		n++;
	}
	va_end(ap);
	if (f->nlines != n)
		fail_msg("%d lines, expected %d; the next: %s", f->nlines, n,
			 f->lines[n < MAX_LINES ? n : 0]);
	assert_int_equal(f->diffs.count, (unsigned long long)n);
}

static ext2_filsys open_rw(struct fixture *f)
{
	char name[4096];
	ext2_filsys fs = NULL;

	snprintf(name, sizeof(name), "%s?offset=%u", f->image, IMAGE_OFFSET);
	assert_int_equal(ext2fs_open(name, EXT2_FLAG_64BITS | EXT2_FLAG_RW, 0,
				     0, unix_io_manager, &fs), 0);
	return fs;
}

static struct fst_node *node(struct fixture *f, const char *a, const char *b)
{
	struct fst_node *n = fst_child(f->root, a);

	assert_non_null(n);
	if (b)
		assert_non_null(n = fst_child(n, b));
	return n;
}

static void test_same(void **state)
{
	struct fixture *f = *state;

	write_fs(f, NULL);
	expect_lines(f, NULL);
}

static void test_metadata(void **state)
{
	struct fixture *f = *state;

	write_fs(f, NULL);
	node(f, "a", NULL)->mode = 0555;
	node(f, "dir", NULL)->gid = 30000;
	node(f, "dir", "fast")->uid = 1000;
	expect_lines(f, "/a: mode 0444, expected 0555",
		     "/dir: owner 0:0, expected 0:30000",
		     "/dir/fast: owner 0:0, expected 1000:0", NULL);
	node(f, "a", NULL)->mode = 0444;
	node(f, "dir", NULL)->gid = 0;
	node(f, "dir", "fast")->uid = 0;
	node(f, "exec", NULL)->time = (int64_t)1 << 32; /* epoch bits */
	expect_lines(f, "/exec: mtime 1, expected 4294967296",
		     "/exec: atime 1, expected 4294967296",
		     "/exec: ctime 1, expected 4294967296",
		     "/exec: crtime 1, expected 4294967296", NULL);
}

static void test_contents(void **state)
{
	struct fixture *f = *state;

	write_fs(f, NULL);
	node(f, "a", NULL)->data = "hello World";
	node(f, "dir", "b")->size = BIG - 1;
	node(f, "dir", "slow")->target[3] = 'X';
	free(node(f, "dir", "fast")->target);
	node(f, "dir", "fast")->target = strdup("other");
	expect_lines(f, "/a: content differs (first at byte 6)",
		     "/dir/b: size 5000, expected 4999",
		     "/dir/fast: symlink to 'a-target', expected 'other'",
		     "/dir/slow: symlink to '" LONG_TARGET "', expected 'a-tX"
		     "rget-longer-than-the-sixty-bytes-that-fit-in-the-inode-"
		     "itself'", NULL);
}

/* The host file changes after it was written: its new bytes differ. */
static void test_host_file(void **state)
{
	struct fixture *f = *state;
	const char *src;
	int fd;

	write_fs(f, NULL);
	src = tmptree_path(f->tree, "src");
	assert_int_equal(chmod(src, 0644), 0);
	fd = open(src, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "T", 1, 9), 1);
	close(fd);
	expect_lines(f, "/host: content differs (first at byte 9)", NULL);
}

static void test_entries(void **state)
{
	struct fixture *f = *state;
	struct fst_node *dir, *gone;
	struct mk_err e = { "" };

	write_fs(f, NULL);
	dir = node(f, "dir", NULL);
	add_file(dir, "new", "x", 1);
	gone = dir->kids[0]; /* "b" */
	dir->kids[0] = dir->kids[--dir->nkids];
	assert_int_equal(fst_sort(f->root, &e), 0);
	expect_lines(f, "/dir/b: not written by mkr2simg", "/dir/new: missing",
		     NULL);
	/* Below /nix/store, an entry too many is not in the closure. */
	f->spec.mounted = "/nix/store";
	expect_lines(f, "/nix/store/dir/b: not in the closure",
		     "/nix/store/dir/new: missing", NULL);
	fst_free(gone);
}

static void test_kind(void **state)
{
	struct fixture *f = *state;

	write_fs(f, NULL);
	node(f, "exec", NULL)->kind = FST_DIR;
	node(f, "dir", "fast")->kind = FST_FILE;
	expect_lines(f, "/dir/fast: symlink, expected regular file",
		     "/exec: regular file, expected directory", NULL);
}

static void test_label_and_size(void **state)
{
	struct fixture *f = *state;

	write_fs(f, NULL);
	f->spec.label = "OTHER";
	f->spec.size = FS_BYTES + EXT4FS_BLOCK_SIZE + 100;
	expect_lines(f, "partition 9: volume label 'TEST', expected 'OTHER'",
		     "partition 9: a filesystem of 16384 blocks, expected 16385 "
		     "(all that fit the partition)", NULL);
	f->spec.offset += EXT4FS_BLOCK_SIZE;
	expect_lines(f, "partition 9: no ext4 filesystem can be read there: "
		     "Bad magic number in super-block", NULL);
}

/* A second name for /a's inode, made with libext2fs as debugfs `ln`
 * does: the links count (1) disagrees until it is raised. */
static void test_links_count(void **state)
{
	struct fixture *f = *state;
	struct ext2_inode in;
	struct mk_err e = { "" };
	ext2_ino_t a, dir;
	ext2_filsys fs;

	write_fs(f, NULL);
	add_file(node(f, "dir", NULL), "a2", "hello world", 11);
	assert_int_equal(fst_sort(f->root, &e), 0);
	fs = open_rw(f);
	assert_int_equal(ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, "a",
				      &a), 0);
	assert_int_equal(ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, "dir",
				      &dir), 0);
	assert_int_equal(ext2fs_link(fs, dir, "a2", a, EXT2_FT_REG_FILE), 0);
	assert_int_equal(ext2fs_close_free(&fs), 0);
	expect_lines(f, "/dir/a2: links count 1, but its inode has 2 names",
		     NULL);
	fs = open_rw(f);
	assert_int_equal(ext2fs_read_inode(fs, a, &in), 0);
	in.i_links_count = 2;
	assert_int_equal(ext2fs_write_inode(fs, a, &in), 0);
	assert_int_equal(ext2fs_close_free(&fs), 0);
	expect_lines(f, NULL);
	/* Names of one inode against sources with other bytes. */
	node(f, "dir", "a2")->data = "hello_world";
	expect_lines(f, "/dir/a2: content differs (first at byte 5)", NULL);
}

/* The files after the first four (/a /dir/b /exec /host) all link to
 * the first of them, whose count says how many names. */
static uint64_t all_one(const void *ctx, uint64_t index, uint64_t size,
			uint32_t *nlink)
{
	(void)size;
	*nlink = index < 4 ? 1 : *(const uint32_t *)ctx;
	return index < 4 ? index : 4;
}

static void test_more_names_than_ext4_allows(void **state)
{
	struct fixture *f = *state;
	const uint32_t names = EXT4FS_LINK_MAX + 1;
	struct ext4fs_links links = { all_one, &names };
	struct fst_node *many = add(f->root, "many", FST_DIR, 0555);
	struct mk_err e = { "" };
	char name[16];

	for (uint32_t i = 0; i < names; i++) {
		snprintf(name, sizeof(name), "%05u", i);
		add_file(many, name, "same", 4);
	}
	assert_int_equal(fst_sort(f->root, &e), 0);
	write_fs(f, &links);
	expect_lines(f, "/many/00000: its inode has 65001 names, more than "
		     "ext4's 65000", NULL);
}

#define FS_TEST(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		FS_TEST(test_same),
		FS_TEST(test_metadata),
		FS_TEST(test_contents),
		FS_TEST(test_host_file),
		FS_TEST(test_entries),
		FS_TEST(test_kind),
		FS_TEST(test_label_and_size),
		FS_TEST(test_links_count),
		FS_TEST(test_more_names_than_ext4_allows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
