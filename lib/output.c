#include "output.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define TEMP_SUFFIX "XXXXXX"
#define LINK_TRIES 100

const struct output_role output_image = { "OUTPUT", "image" };
const struct output_role output_bmap = { "--bmap", "bmap" };

/* ---- checks ----------------------------------------------------- */

static int split_path(const char *path, char **dir, char **base)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		*dir = strdup(".");
		*base = strdup(path);
	} else {
		*dir = slash == path ? strdup("/")
				     : mk_strndup(path, (size_t)(slash - path));
		*base = strdup(slash + 1);
	}
	return *dir && *base ? 0 : -1;
}

static int check_folder(const char *path, const struct output_role *role,
			const char *dir, const char *base, struct mk_err *e)
{
	struct stat st;

	if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return mk_fail(e, "%s: %s must name a file", path, role->option);
	if (stat(dir, &st) != 0)
		return mk_fail_errno(e, errno, "%s: cannot create the %s in "
				     "its folder %s", path, role->noun, dir);
	if (!S_ISDIR(st.st_mode))
		return mk_fail(e, "%s: cannot create the %s in its folder: "
			       "%s is a %s", path, role->noun, dir,
			       mk_file_kind(st.st_mode));
	if (access(dir, W_OK | X_OK) != 0)
		return mk_fail_errno(e, errno, "%s: cannot create the %s in "
				     "its folder %s", path, role->noun, dir);
	return 0;
}

static int check_not_input(const char *path, const struct output_role *role,
			   const struct stat *st, const char *const *inputs,
			   size_t ninputs, struct mk_err *e)
{
	struct stat in;
	size_t i;

	for (i = 0; i < ninputs; i++) {
		if (!inputs[i] || strcmp(inputs[i], "-") == 0)
			continue;
		if (stat(inputs[i], &in) == 0 && in.st_dev == st->st_dev &&
		    in.st_ino == st->st_ino)
			return mk_fail(e, "%s: is the input %s; %s must be "
				       "another file", path, inputs[i],
				       role->option);
	}
	return 0;
}

int output_check(const char *path, const char *const *inputs, size_t ninputs,
		 struct mk_err *e)
{
	return output_check_as(path, &output_image, inputs, ninputs, e);
}

int output_check_as(const char *path, const struct output_role *role,
		    const char *const *inputs, size_t ninputs, struct mk_err *e)
{
	char *dir = NULL, *base = NULL;
	struct stat st;
	int rc;

	if (split_path(path, &dir, &base))
		rc = mk_fail(e, "out of memory");
	else
		rc = check_folder(path, role, dir, base, e);
	free(dir);
	free(base);
	if (rc)
		return -1;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : mk_fail_errno(e, errno, "%s", path);
	if (!S_ISREG(st.st_mode))
		return mk_fail(e, "%s: is a %s; %s must be a new name or a "
			       "regular file, which mkr2simg replaces", path,
			       mk_file_kind(st.st_mode), role->option);
	return check_not_input(path, role, &st, inputs, ninputs, e);
}

/* Whether `a` and `b` name one file: the same name in the same folder,
 * or one existing file (hardlinks too). */
static int same_file(const char *a, const char *b)
{
	char *da = NULL, *ba = NULL, *db = NULL, *bb = NULL;
	struct stat sa, sb;
	int same = 0;

	if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	if (split_path(a, &da, &ba) == 0 && split_path(b, &db, &bb) == 0 &&
	    strcmp(ba, bb) == 0 && stat(da, &sa) == 0 && stat(db, &sb) == 0)
		same = sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	free(da);
	free(ba);
	free(db);
	free(bb);
	return same;
}

int output_check_distinct(const char *path, const struct output_role *role,
			  const char *other,
			  const struct output_role *other_role,
			  struct mk_err *e)
{
	if (same_file(path, other))
		return mk_fail(e, "%s: is also %s; %s must be another file",
			       path, other_role->option, role->option);
	return 0;
}

/* ---- the file being written --------------------------------------- */

/* Removes temporaries of runs that were killed: a live run holds a lock
 * on its own. */
static void remove_stale(int dir_fd)
{
	int scan = dup(dir_fd);
	DIR *d = scan >= 0 ? fdopendir(scan) : NULL;
	struct dirent *de;

	if (!d) {
		if (scan >= 0)
			close(scan);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		int fd;

		if (strncmp(de->d_name, OUTPUT_TEMP_PREFIX,
			    strlen(OUTPUT_TEMP_PREFIX)) != 0)
			continue;
		fd = openat(dir_fd, de->d_name, O_RDONLY | O_CLOEXEC |
						       O_NOFOLLOW | O_NONBLOCK);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			unlinkat(dir_fd, de->d_name, 0);
		close(fd);
	}
	closedir(d);
}

/* The name of a temporary (out->temp is a path) within the folder. */
static const char *temp_name(const struct mk_output *out)
{
	return strrchr(out->temp, '/') + 1;
}

static int open_named(struct mk_output *out, struct mk_err *e)
{
	if (asprintf(&out->temp, "%s/%s%s", out->dir, OUTPUT_TEMP_PREFIX,
		     TEMP_SUFFIX) < 0) {
		out->temp = NULL;
		return mk_fail(e, "out of memory");
	}
	out->fd = mkostemp(out->temp, O_CLOEXEC);
	if (out->fd < 0) {
		free(out->temp);
		out->temp = NULL;
		return mk_fail_errno(e, errno, "%s: cannot create the %s in "
				     "its folder", out->path, out->role->noun);
	}
	flock(out->fd, LOCK_EX); /* ours: not stale while we run */
	if (out->tempfile)
		out->tempfile(out->user, out->temp);
	return 0;
}

static int open_file(struct mk_output *out, int flags, struct mk_err *e)
{
	if (!(flags & OUTPUT_NO_TMPFILE)) {
		out->fd = openat(out->dir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC,
				 OUTPUT_MODE);
		if (out->fd >= 0) {
			/* Locked, so that a temporary name it may get at
			 * the end is never taken for a stale one. */
			flock(out->fd, LOCK_EX);
			return 0;
		}
		if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
			return mk_fail_errno(e, errno, "%s: cannot create the "
					     "%s in its folder", out->path,
					     out->role->noun);
	}
	return open_named(out, e);
}

int output_open(struct mk_output *out, const char *path, int flags,
		void (*tempfile)(void *user, const char *path), void *user,
		struct mk_err *e)
{
	return output_open_as(out, path, &output_image, flags, tempfile, user,
			      e);
}

int output_open_as(struct mk_output *out, const char *path,
		   const struct output_role *role, int flags,
		   void (*tempfile)(void *user, const char *path), void *user,
		   struct mk_err *e)
{
	memset(out, 0, sizeof(*out));
	out->path = path;
	out->role = role;
	out->fd = out->dir_fd = -1;
	out->tempfile = tempfile;
	out->user = user;
	if (split_path(path, &out->dir, &out->base))
		return mk_fail(e, "out of memory");
	out->dir_fd = open(out->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (out->dir_fd < 0)
		return mk_fail_errno(e, errno, "%s: cannot create the %s in "
				     "its folder", path, role->noun);
	remove_stale(out->dir_fd);
	if (open_file(out, flags, e))
		return -1;
	snprintf(out->fd_path, sizeof(out->fd_path), "/proc/self/fd/%d",
		 out->fd);
	return 0;
}

int output_open_scratch(struct mk_output *out, const struct mk_output *beside,
			struct mk_err *e)
{
	memset(out, 0, sizeof(*out));
	out->path = beside->path;
	out->role = beside->role;
	out->fd = -1;
	out->dir_fd = dup(beside->dir_fd);
	if (out->dir_fd < 0 || !(out->dir = strdup(beside->dir)))
		return mk_fail_errno(e, errno, "%s: cannot create a scratch "
				     "file in its folder", out->path);
	if (open_file(out, 0, e))
		return -1;
	if (out->temp) { /* no O_TMPFILE: the open file needs no name */
		unlinkat(out->dir_fd, temp_name(out), 0);
		free(out->temp);
		out->temp = NULL;
	}
	snprintf(out->fd_path, sizeof(out->fd_path), "/proc/self/fd/%d",
		 out->fd);
	return 0;
}

void output_announce(const struct mk_output *out)
{
	if (out->temp && out->tempfile)
		out->tempfile(out->user, out->temp);
}

/* ---- publishing --------------------------------------------------- */

/* Gives the unnamed file the name `name` in the folder; errno on failure. */
static int link_unnamed(struct mk_output *out, const char *name)
{
	if (linkat(AT_FDCWD, out->fd_path, out->dir_fd, name,
		   AT_SYMLINK_FOLLOW) == 0)
		return 0;
	if (errno != ENOENT)
		return errno;
	/* Without /proc: needs CAP_DAC_READ_SEARCH. */
	return linkat(out->fd, "", out->dir_fd, name, AT_EMPTY_PATH) == 0 ? 0
									  : errno;
}

/* Links the unnamed file under a fresh temporary name in the folder
 * (out->temp), from which it replaces OUTPUT by rename. */
static int link_temp(struct mk_output *out)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	const size_t nrand = sizeof(TEMP_SUFFIX) - 1;
	unsigned char rnd[sizeof(TEMP_SUFFIX) - 1];
	char *tail;
	size_t i;
	int t, err = EEXIST;

	if (asprintf(&out->temp, "%s/%s%s", out->dir, OUTPUT_TEMP_PREFIX,
		     TEMP_SUFFIX) < 0) {
		out->temp = NULL;
		return ENOMEM;
	}
	tail = out->temp + strlen(out->temp) - nrand;
	for (t = 0; t < LINK_TRIES && err == EEXIST; t++) {
		if (getrandom(rnd, nrand, 0) != (ssize_t)nrand)
			err = errno ? errno : EIO;
		else {
			for (i = 0; i < nrand; i++)
				tail[i] = chars[rnd[i] % (sizeof(chars) - 1)];
			err = link_unnamed(out, temp_name(out));
		}
	}
	if (err) { /* the name is not ours: never remove it */
		free(out->temp);
		out->temp = NULL;
	}
	return err;
}

/* Gives the file OUTPUT's name, replacing what was there. */
static int place(struct mk_output *out)
{
	int err;

	if (!out->temp) {
		err = link_unnamed(out, out->base);
		if (err != EEXIST)
			return err;
		err = link_temp(out);
		if (err)
			return err;
	}
	return renameat(out->dir_fd, temp_name(out), out->dir_fd, out->base)
		       ? errno : 0;
}

int output_publish(struct mk_output *out, struct mk_err *e)
{
	int err = 0;

	if (fsync(out->fd) != 0 || fchmod(out->fd, OUTPUT_MODE) != 0)
		err = errno;
	if (!err)
		err = place(out);
	if (err)
		return mk_fail_errno(e, err, "%s: cannot move the finished "
				     "%s into place", out->path, out->role->noun);
	out->published = 1;
	free(out->temp);
	out->temp = NULL;
	if (out->tempfile)
		out->tempfile(out->user, NULL);
	if (fsync(out->dir_fd) != 0)
		return mk_fail_errno(e, errno, "%s: cannot make its folder "
				     "durable", out->path);
	return 0;
}

void output_unpublish(struct mk_output *out)
{
	if (out->published && unlinkat(out->dir_fd, out->base, 0) == 0)
		fsync(out->dir_fd);
	out->published = 0;
}

void output_discard(struct mk_output *out)
{
	if (out->temp) {
		unlinkat(out->dir_fd, temp_name(out), 0);
		if (out->tempfile)
			out->tempfile(out->user, NULL);
	}
	if (out->fd >= 0)
		close(out->fd);
	if (out->dir_fd >= 0)
		close(out->dir_fd);
	free(out->temp);
	free(out->dir);
	free(out->base);
	memset(out, 0, sizeof(*out));
	out->fd = out->dir_fd = -1;
}
