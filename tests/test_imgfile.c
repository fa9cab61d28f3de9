/*
 * test_imgfile.c - imgfile.c: the watcher is told of a write once its
 * bytes are in the file (read back inside the callback), and of a size
 * change as the bytes between the old and the new end; an unchanged size
 * tells nothing; a failed write returns its errno.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tmptree.h"

#include "imgfile.h"

struct seen {
	int fd;
	size_t calls;
	uint64_t off, len;
	char first; /* the file's first byte at off, when told */
};

static void landed(void *ctx, uint64_t off, uint64_t len)
{
	struct seen *s = ctx;

	s->calls++;
	s->off = off;
	s->len = len;
	if (pread(s->fd, &s->first, 1, (off_t)off) != 1)
		s->first = 0;
}

static void test_told_after(void **state)
{
	struct tmptree *t = *state;
	struct seen s = { 0 };
	struct imgfile f;

	s.fd = open(tmptree_path(t, "image"), O_RDWR | O_CREAT, 0600);
	assert_true(s.fd >= 0);
	f = (struct imgfile){ s.fd, landed, &s };
	assert_int_equal(imgfile_truncate(&f, 1u << 20), 0);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.off, 0);
	assert_int_equal(s.len, 1u << 20);
	assert_int_equal(imgfile_pwrite(&f, "xyz", 3, 5000), 0);
	assert_int_equal(s.calls, 2);
	assert_int_equal(s.off, 5000);
	assert_int_equal(s.len, 3);
	assert_int_equal(s.first, 'x'); /* there when told */
	assert_int_equal(imgfile_truncate(&f, 1u << 20), 0);
	assert_int_equal(s.calls, 2);
	assert_int_equal(imgfile_truncate(&f, 4096), 0);
	assert_int_equal(s.calls, 3);
	assert_int_equal(s.off, 4096);
	assert_int_equal(s.len, (1u << 20) - 4096);
	close(s.fd);
	s.fd = open(tmptree_path(t, "image"), O_RDONLY);
	f.fd = s.fd;
	assert_int_equal(imgfile_pwrite(&f, "q", 1, 0), EBADF);
	close(s.fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_told_after, tmptree_setup,
						tmptree_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
