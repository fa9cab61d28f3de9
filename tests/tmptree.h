/*
 * tmptree.h - temporary directory trees for the unit tests.
 *
 * Every helper asserts (cmocka) on failure, so a test reads as a list of
 * the entries it needs.  Include after <cmocka.h>.  A tree is a
 * `struct tmptree` made by a setup and removed by tmptree_teardown, so
 * it goes away even when a check fails.
 */
#ifndef MK_TESTS_TMPTREE_H
#define MK_TESTS_TMPTREE_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct tmptree {
	char root[64];
	char buf[PATH_MAX]; /* scratch for tmptree_path */
};

/* root + "/" + rel, in t->buf (valid until the next call). */
static inline const char *tmptree_path(struct tmptree *t, const char *rel)
{
	int n = snprintf(t->buf, sizeof(t->buf), "%s/%s", t->root, rel);

	assert_true(n > 0 && (size_t)n < sizeof(t->buf));
	return t->buf;
}

static inline void tmptree_mkdir(struct tmptree *t, const char *rel,
				 mode_t mode)
{
	const char *p = tmptree_path(t, rel);

	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(chmod(p, mode), 0); /* mode exactly, not umasked */
}

/* `len` bytes of `data`; mode set exactly (chmod, so no umask). */
static inline void tmptree_file_n(struct tmptree *t, const char *rel,
				  const void *data, size_t len, mode_t mode)
{
	const char *p = tmptree_path(t, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	/* Nix builds forbid setuid/setgid modes (seccomp: EPERM); the
	 * permission bits alone still exercise canonicalisation. */
	if (chmod(p, mode) != 0 && errno == EPERM && (mode & 06000))
		mode &= 0777;
	assert_int_equal(chmod(p, mode), 0);
}

static inline void tmptree_file(struct tmptree *t, const char *rel,
				const char *text, mode_t mode)
{
	tmptree_file_n(t, rel, text, strlen(text), mode);
}

static inline void tmptree_symlink(struct tmptree *t, const char *rel,
				   const char *target)
{
	assert_int_equal(symlink(target, tmptree_path(t, rel)), 0);
}

static inline void tmptree_unlink(struct tmptree *t, const char *rel)
{
	assert_int_equal(unlink(tmptree_path(t, rel)), 0);
}

static inline int tmptree_setup(void **state)
{
	struct tmptree *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	snprintf(t->root, sizeof(t->root), "/tmp/mkr2simg-test.XXXXXX");
	if (mkdtemp(t->root) == NULL) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

/* Makes directories writable again (a test may leave one 0555). */
static inline int tmptree_unlock(const char *path, const struct stat *st,
				 int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_D && !S_ISLNK(st->st_mode))
		chmod(path, 0700);
	return 0;
}

static inline int tmptree_rm(const char *path, const struct stat *st,
			     int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : -1;
}

static inline int tmptree_teardown(void **state)
{
	struct tmptree *t = *state;
	int rc = 0;

	if (t == NULL)
		return 0;
	nftw(t->root, tmptree_unlock, 16, FTW_PHYS);
	if (nftw(t->root, tmptree_rm, 16, FTW_DEPTH | FTW_PHYS) != 0)
		rc = -1;
	free(t);
	*state = NULL;
	return rc;
}

#endif
