/*
 * test_output.c - output.c: what OUTPUT may be, and that no run leaves
 * anything but a finished image.
 *
 * OUTPUT is a new name or an existing regular file (replaced) in an
 * existing folder, never a device, fifo, symlink, directory or one of
 * the inputs.  The file is written unnamed (O_TMPFILE) and gets its name
 * when published; where O_TMPFILE is missing (forced here with
 * OUTPUT_NO_TMPFILE) a locked .mkr2simg-* temporary is renamed instead,
 * and temporaries that nobody holds locked (killed runs) are removed by
 * the next run, while a live run's are kept.  A scratch file (the plain
 * image of a compressed OUTPUT) never has a name, with or without
 * O_TMPFILE, yet opens by fd_path; a second file (--bmap) is refused
 * when it is OUTPUT or an input, and a published one can be taken back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tmptree.h"

#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "output.h"

/* Entries of the tree's root, "." and ".." not counted. */
static int entries(struct tmptree *t)
{
	DIR *d = opendir(tmptree_path(t, ""));
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

static void expect_refused(struct tmptree *t, const char *rel,
			   const char *const *inputs, size_t n,
			   const char *want)
{
	struct mk_err e = { "" };
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", tmptree_path(t, rel));
	assert_int_equal(output_check(path, inputs, n, &e), -1);
	if (!strstr(e.msg, want))
		fail_msg("%s: '%s' lacks '%s'", rel, e.msg, want);
}

static void test_check(void **state)
{
	struct tmptree *t = *state;
	struct mk_err e = { "" };
	char in[PATH_MAX], path[PATH_MAX];
	const char *inputs[] = { NULL, "-", in };

	tmptree_file(t, "closure", "x", 0644);
	tmptree_file(t, "old.img", "old", 0644);
	tmptree_mkdir(t, "dir", 0755);
	tmptree_symlink(t, "link", "old.img");
	assert_int_equal(mkfifo(tmptree_path(t, "fifo"), 0644), 0);
	assert_int_equal(mknod(tmptree_path(t, "null"), S_IFCHR | 0644,
			       makedev(1, 3)), 0);
	snprintf(in, sizeof(in), "%s", tmptree_path(t, "closure"));
	expect_refused(t, "fifo", inputs, 3, "is a fifo");
	expect_refused(t, "null", inputs, 3, "is a character device");
	expect_refused(t, "link", inputs, 3, "is a symlink");
	expect_refused(t, "dir", inputs, 3, "is a directory");
	expect_refused(t, "closure", inputs, 3, "is the input");
	expect_refused(t, "nowhere/x.img", inputs, 3, "folder");
	expect_refused(t, "old.img/x.img", inputs, 3, "is a regular file");
	snprintf(path, sizeof(path), "%s", tmptree_path(t, "old.img"));
	assert_int_equal(output_check(path, inputs, 3, &e), 0);
	snprintf(path, sizeof(path), "%s", tmptree_path(t, "new.img"));
	assert_int_equal(output_check(path, inputs, 3, &e), 0);
}

static void write_and_publish(struct tmptree *t, int flags)
{
	struct mk_output out;
	struct mk_err e = { "" };
	char path[PATH_MAX], buf[8] = "";
	int fd;

	snprintf(path, sizeof(path), "%s", tmptree_path(t, "out.img"));
	assert_int_equal(output_open(&out, path, flags, NULL, NULL, &e), 0);
	assert_int_equal(entries(t), (flags & OUTPUT_NO_TMPFILE) ? 2 : 1);
	assert_int_equal(pwrite(out.fd, "image", 5, 0), 5);
	assert_int_equal(output_publish(&out, &e), 0);
	output_discard(&out);
	assert_int_equal(entries(t), 1); /* only out.img */
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "image");
	close(fd);
}

static void test_publish_unnamed(void **state)
{
	struct tmptree *t = *state;

	tmptree_file(t, "out.img", "older", 0600); /* replaced */
	write_and_publish(t, 0);
}

static void test_publish_named(void **state)
{
	struct tmptree *t = *state;

	tmptree_file(t, "out.img", "older", 0600);
	write_and_publish(t, OUTPUT_NO_TMPFILE);
}

static void test_discard_leaves_nothing(void **state)
{
	struct tmptree *t = *state;
	struct mk_output out;
	struct mk_err e = { "" };
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", tmptree_path(t, "out.img"));
	for (int flags = 0; flags <= OUTPUT_NO_TMPFILE; flags++) {
		assert_int_equal(output_open(&out, path, flags, NULL, NULL, &e),
				 0);
		output_discard(&out);
		assert_int_equal(entries(t), 0);
	}
}

/* A killed run's temporary is unlocked: removed.  A live run holds its
 * lock: kept. */
static void test_stale_temporaries(void **state)
{
	struct tmptree *t = *state;
	struct mk_output out;
	struct mk_err e = { "" };
	char path[PATH_MAX];
	int live;

	tmptree_file(t, OUTPUT_TEMP_PREFIX "dead01", "old run", 0600);
	tmptree_file(t, OUTPUT_TEMP_PREFIX "live01", "running", 0600);
	tmptree_file(t, ".other", "not ours", 0600);
	live = open(tmptree_path(t, OUTPUT_TEMP_PREFIX "live01"), O_RDONLY);
	assert_true(live >= 0);
	assert_int_equal(flock(live, LOCK_EX), 0);
	snprintf(path, sizeof(path), "%s", tmptree_path(t, "out.img"));
	assert_int_equal(output_open(&out, path, 0, NULL, NULL, &e), 0);
	assert_int_equal(access(tmptree_path(t, OUTPUT_TEMP_PREFIX "dead01"),
				F_OK), -1);
	assert_int_equal(access(tmptree_path(t, OUTPUT_TEMP_PREFIX "live01"),
				F_OK), 0);
	assert_int_equal(access(tmptree_path(t, ".other"), F_OK), 0);
	output_discard(&out);
	close(live);
}

static void test_scratch_has_no_name(void **state)
{
	struct tmptree *t = *state;
	struct mk_output out, scratch;
	struct mk_err e = { "" };
	char path[PATH_MAX], buf[8] = "";
	int flags, fd;

	snprintf(path, sizeof(path), "%s", tmptree_path(t, "out.img.zst"));
	for (flags = 0; flags <= OUTPUT_NO_TMPFILE; flags++) {
		assert_int_equal(output_open(&out, path, 0, NULL, NULL, &e), 0);
		assert_int_equal(output_open_scratch(&scratch, &out, flags, &e),
				 0);
		assert_int_equal(entries(t), 0);
		/* libext2fs opens the image again by this name */
		fd = open(scratch.fd_path, O_RDWR);
		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, "plain", 5, 0), 5);
		close(fd);
		assert_int_equal(pread(scratch.fd, buf, 5, 0), 5);
		assert_string_equal(buf, "plain");
		output_discard(&scratch);
		output_discard(&out);
		assert_int_equal(entries(t), 0);
	}
}

static void test_second_file(void **state)
{
	struct tmptree *t = *state;
	struct mk_output out;
	struct mk_err e = { "" };
	char img[PATH_MAX], bmap[PATH_MAX], other[PATH_MAX], in[PATH_MAX];
	const char *inputs[] = { in };

	tmptree_file(t, "closure", "x", 0644);
	tmptree_mkdir(t, "sub", 0755);
	snprintf(in, sizeof(in), "%s", tmptree_path(t, "closure"));
	snprintf(img, sizeof(img), "%s", tmptree_path(t, "r2s.img"));
	snprintf(other, sizeof(other), "%s", tmptree_path(t, "sub/../r2s.img"));
	snprintf(bmap, sizeof(bmap), "%s", tmptree_path(t, "r2s.bmap"));
	assert_int_equal(output_check_distinct(other, &output_bmap, img,
					       &output_image, &e), -1);
	assert_non_null(strstr(e.msg, "is also OUTPUT; --bmap must be"));
	assert_int_equal(output_check_distinct(bmap, &output_bmap, img,
					       &output_image, &e), 0);
	assert_int_equal(output_check_as(in, &output_bmap, inputs, 1, &e), -1);
	assert_non_null(strstr(e.msg, "--bmap must be another file"));
	assert_int_equal(output_open_as(&out, bmap, &output_bmap, 0, NULL,
					NULL, &e), 0);
	assert_int_equal(output_publish(&out, &e), 0);
	assert_int_equal(access(bmap, F_OK), 0);
	output_unpublish(&out); /* OUTPUT failed after all */
	output_discard(&out);
	assert_int_equal(access(bmap, F_OK), -1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tmptree_setup, \
					     tmptree_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_check),
		T(test_publish_unnamed),
		T(test_publish_named),
		T(test_discard_leaves_nothing),
		T(test_stale_temporaries),
		T(test_scratch_has_no_name),
		T(test_second_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
