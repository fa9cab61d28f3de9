/*
 * guard.c - link-time wrappers of the file calls toplevel.c and util.c
 * make, for fuzz_toplevel (see guard.h for what is checked and why).
 * Both the plain and the 64-bit names are wrapped: meson builds with
 * _FILE_OFFSET_BITS=64, which makes glibc's headers call the latter.
 */
#include "guard.h"

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_util.h"

static const char *guard_root;
static size_t guard_root_len;
static int guard_rootfd = -1;
static int guard_on;
static unsigned long guard_count;

void guard_init(const char *root, int rootfd)
{
	guard_root = root;
	guard_root_len = strlen(root);
	guard_rootfd = rootfd;
}

void guard_arm(int on)
{
	guard_on = on;
}

unsigned long guard_checked(void)
{
	return guard_count;
}

/* Whether component `name` (len bytes) is "." or "..". */
static int is_dot(const char *name, size_t len)
{
	return (len == 1 && name[0] == '.') ||
	       (len == 2 && name[0] == '.' && name[1] == '.');
}

int guard_clean(const char *inside, int follow_last)
{
	char prefix[PATH_MAX];
	const char *p = inside;
	size_t used = 0;
	struct stat st;

	while (*p) {
		size_t n = strcspn(p, "/");
		int last = p[n] == '\0'; /* "link/" follows the link */

		if (n > 0) {
			if (is_dot(p, n) || used + n + 2 > sizeof(prefix))
				return 0;
			used += (size_t)snprintf(prefix + used,
						 sizeof(prefix) - used, "%s%.*s",
						 used ? "/" : "", (int)n, p);
			if (fstatat(guard_rootfd, prefix, &st,
				    AT_SYMLINK_NOFOLLOW) != 0)
				return 1; /* goes no further: nothing followed */
			if (S_ISLNK(st.st_mode) && (!last || follow_last))
				return 0;
		}
		p += n;
		p += strspn(p, "/");
	}
	return 1;
}

/* Aborts unless host path `path` is the root or beneath it, clean. */
static void guard_check(const char *call, const char *path, int follow_last)
{
	if (!guard_on)
		return;
	guard_count++;
	if (strncmp(path, guard_root, guard_root_len) != 0 ||
	    (path[guard_root_len] != '/' && path[guard_root_len] != '\0'))
		fuzz_fail("%s('%s') outside the root %s", call, path,
			  guard_root);
	if (!guard_clean(path + guard_root_len, follow_last))
		fuzz_fail("%s('%s') crosses a symlink or a '..'", call, path);
}

int __real_lstat(const char *path, struct stat *st);
int __real_stat(const char *path, struct stat *st);
int __real_lstat64(const char *path, struct stat64 *st);
int __real_stat64(const char *path, struct stat64 *st);
ssize_t __real_readlink(const char *path, char *buf, size_t len);
int __real_open(const char *path, int flags, ...);
int __real_open64(const char *path, int flags, ...);

int __wrap_lstat(const char *path, struct stat *st);
int __wrap_stat(const char *path, struct stat *st);
int __wrap_lstat64(const char *path, struct stat64 *st);
int __wrap_stat64(const char *path, struct stat64 *st);
ssize_t __wrap_readlink(const char *path, char *buf, size_t len);
int __wrap_open(const char *path, int flags, ...);
int __wrap_open64(const char *path, int flags, ...);

int __wrap_lstat(const char *path, struct stat *st)
{
	guard_check("lstat", path, 0);
	return __real_lstat(path, st);
}

int __wrap_stat(const char *path, struct stat *st)
{
	guard_check("stat", path, 1);
	return __real_stat(path, st);
}

int __wrap_lstat64(const char *path, struct stat64 *st)
{
	guard_check("lstat", path, 0);
	return __real_lstat64(path, st);
}

int __wrap_stat64(const char *path, struct stat64 *st)
{
	guard_check("stat", path, 1);
	return __real_stat64(path, st);
}

ssize_t __wrap_readlink(const char *path, char *buf, size_t len)
{
	guard_check("readlink", path, 0);
	return __real_readlink(path, buf, len);
}

/* The mode argument exists only with O_CREAT or O_TMPFILE. */
static mode_t open_mode(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE
		       ? (mode_t)va_arg(ap, int)
		       : 0;
}

int __wrap_open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	guard_check("open", path, !(flags & O_NOFOLLOW));
	return __real_open(path, flags, mode);
}

int __wrap_open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	guard_check("open", path, !(flags & O_NOFOLLOW));
	return __real_open64(path, flags, mode);
}
