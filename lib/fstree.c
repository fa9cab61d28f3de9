#include "fstree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define NIX_CANONICAL_TIME 1 /* Nix resets every store mtime to 1 */
#define ANY_EXEC_BITS (S_IXUSR | S_IXGRP | S_IXOTH)

const struct fst_policy fst_policy_nix_store = {
	.file_mode = 0444,
	.exec_mode = 0555,
	.dir_mode = 0555,
	.symlink_mode = 0777,
	.time = NIX_CANONICAL_TIME,
};

struct fst_node *fst_new(const char *name, enum fst_kind kind, uint16_t mode,
			 int64_t time)
{
	struct fst_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->name = strdup(name);
	if (!n->name) {
		free(n);
		return NULL;
	}
	n->kind = kind;
	n->mode = mode;
	n->time = time;
	n->dir_fd = -1;
	return n;
}

int fst_add(struct fst_node *dir, struct fst_node *kid, struct mk_err *e)
{
	struct fst_node **nk;

	/* Grow by doubling; nkids is a power of two exactly when full. */
	if ((dir->nkids & (dir->nkids - 1)) == 0) {
		size_t cap = dir->nkids ? dir->nkids * 2 : 4;
		nk = realloc(dir->kids, cap * sizeof(*nk));
		if (!nk)
			return mk_fail(e, "out of memory");
		dir->kids = nk;
	}
	dir->kids[dir->nkids++] = kid;
	kid->parent = dir;
	return 0;
}

/* Where a node's name resolves: its loaded parent, or the path itself. */
static int at_fd(const struct fst_node *n, const char **name)
{
	if (n->parent && n->parent->dir_fd >= 0) {
		*name = n->name;
		return n->parent->dir_fd;
	}
	*name = n->src;
	return AT_FDCWD;
}

const char *fst_shown(const struct fst_node *n)
{
	size_t skip = n->policy ? n->policy->shown_skip : 0;

	if (!n->src)
		return n->name;
	return strlen(n->src) > skip ? n->src + skip : n->src;
}

int fst_open(const struct fst_node *n, struct mk_err *e)
{
	const char *name;
	int at = at_fd(n, &name);

	return mk_open_regular(at, name, fst_shown(n), e);
}

static int cmp_names(const void *a, const void *b)
{
	const struct fst_node *x = *(struct fst_node *const *)a;
	const struct fst_node *y = *(struct fst_node *const *)b;

	return strcmp(x->name, y->name);
}

int fst_sort(struct fst_node *root, struct mk_err *e)
{
	size_t i;

	if (root->kind != FST_DIR)
		return 0;
	if (root->nkids > 1) /* kids is NULL in an empty directory */
		qsort(root->kids, root->nkids, sizeof(root->kids[0]),
		      cmp_names);
	for (i = 0; i < root->nkids; i++) {
		if (i > 0 && strcmp(root->kids[i - 1]->name,
				    root->kids[i]->name) == 0)
			return mk_fail(e, "two entries named '%s'",
				       root->kids[i]->name);
		if (fst_sort(root->kids[i], e))
			return -1;
	}
	return 0;
}

static const char *shown(const struct fst_policy *policy, const char *src)
{
	return strlen(src) > policy->shown_skip ? src + policy->shown_skip
						: src;
}

static int scan_symlink(int at, const char *at_name, const char *src,
			const struct fst_policy *policy, struct fst_node *n,
			const struct stat *st, struct mk_err *e)
{
	size_t cap = (size_t)st->st_size + 1;
	ssize_t len;

	n->target = malloc(cap);
	if (!n->target)
		return mk_fail(e, "out of memory");
	len = readlinkat(at, at_name, n->target, cap);
	if (len < 0)
		return mk_fail_errno(e, errno, "%s: cannot read symlink",
				     shown(policy, src));
	if ((size_t)len >= cap)
		return mk_fail(e, "%s: symlink changed while reading",
			       shown(policy, src));
	n->target[len] = '\0';
	return 0;
}

static struct fst_node *node_for(const struct stat *st, const char *name,
				 const struct fst_policy *policy)
{
	if (S_ISREG(st->st_mode))
		return fst_new(name, FST_FILE,
			       (st->st_mode & ANY_EXEC_BITS) ? policy->exec_mode
							     : policy->file_mode,
			       policy->time);
	if (S_ISDIR(st->st_mode))
		return fst_new(name, FST_DIR, policy->dir_mode, policy->time);
	return fst_new(name, FST_SYMLINK, policy->symlink_mode, policy->time);
}

/* Takes ownership of `src` (a malloc'd host path).  `at` is the open
 * parent directory (then `name` is looked up in it) or AT_FDCWD. */
static int scan_node(int at, char *src, const char *name,
		     const struct fst_policy *policy, struct fst_node **out,
		     struct mk_err *e)
{
	const char *at_name = at == AT_FDCWD ? src : name;
	struct stat st;
	struct fst_node *n;
	int rc = 0;

	if (fstatat(at, at_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		rc = mk_fail_errno(e, errno, "%s", shown(policy, src));
		free(src);
		return rc;
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) &&
	    !S_ISLNK(st.st_mode)) {
		rc = mk_fail(e, "%s: is a %s; a store path holds only files, "
			     "directories and symlinks", shown(policy, src),
			     S_ISFIFO(st.st_mode)   ? "fifo"
			     : S_ISSOCK(st.st_mode) ? "socket"
						    : "device node");
		free(src);
		return rc;
	}
	n = node_for(&st, name, policy);
	if (!n) {
		free(src);
		return mk_fail(e, "out of memory");
	}
	n->src = src;
	n->policy = policy;
	if (n->kind == FST_FILE)
		n->size = (uint64_t)st.st_size;
	else if (n->kind == FST_SYMLINK)
		rc = scan_symlink(at, at_name, src, policy, n, &st, e);
	if (rc) {
		fst_free(n);
		return -1;
	}
	*out = n;
	return 0;
}

int fst_scan(const char *src, const char *name,
	     const struct fst_policy *policy, struct fst_node **out,
	     struct mk_err *e)
{
	char *copy = strdup(src);

	if (!copy)
		return mk_fail(e, "out of memory");
	return scan_node(AT_FDCWD, copy, name, policy, out, e);
}

static int load_entry(struct fst_node *dir, const char *name,
		      struct mk_err *e)
{
	char *ksrc = mk_path_join(dir->src, name);
	struct fst_node *kid = NULL;

	if (!ksrc)
		return mk_fail(e, "out of memory");
	if (scan_node(dir->dir_fd, ksrc, name, dir->policy, &kid, e))
		return -1;
	if (fst_add(dir, kid, e)) {
		fst_free(kid);
		return -1;
	}
	return 0;
}

static int open_dir(const struct fst_node *dir)
{
	const char *name;
	int at = at_fd(dir, &name);

	return openat(at, name,
		      O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

/* Each directory on the walk's path stays open, so depth is bounded by
 * the open-file limit: say so, with both numbers. */
static int too_deep(const struct fst_node *dir, struct mk_err *e)
{
	struct rlimit lim = { 0, 0 };
	size_t depth = 0;
	const struct fst_node *p;

	for (p = dir; p; p = p->parent)
		depth++;
	getrlimit(RLIMIT_NOFILE, &lim);
	return mk_fail(e, "%s: too deep: %zu directory levels, each open while "
		       "the walk is below it, reach the open-file limit of %llu "
		       "(raise it with ulimit -n)", shown(dir->policy, dir->src),
		       depth, (unsigned long long)lim.rlim_cur);
}

int fst_load(struct fst_node *dir, struct mk_err *e)
{
	DIR *d = NULL;
	struct dirent *de;
	int rc = 0, copy = -1;

	if (dir->kind != FST_DIR || !dir->src || dir->loaded)
		return 0;
	/* The directory stays open for lookups relative to it; readdir
	 * gets (and closedir closes) a duplicate. */
	dir->dir_fd = open_dir(dir);
	if (dir->dir_fd >= 0 && (copy = dup(dir->dir_fd)) >= 0)
		d = fdopendir(copy);
	if (!d) {
		int err = errno;

		if (copy >= 0)
			close(copy);
		rc = err == EMFILE ? too_deep(dir, e)
				   : mk_fail_errno(e, err, "%s: cannot read "
						   "directory",
						   shown(dir->policy, dir->src));
		fst_unload(dir);
		return rc;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				rc = mk_fail_errno(e, errno, "%s: cannot read "
						   "directory",
						   shown(dir->policy, dir->src));
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		rc = load_entry(dir, de->d_name, e);
		if (rc)
			break;
	}
	closedir(d);
	dir->loaded = 1;
	if (rc == 0 && dir->nkids > 1)
		qsort(dir->kids, dir->nkids, sizeof(dir->kids[0]), cmp_names);
	if (rc)
		fst_unload(dir);
	return rc;
}

void fst_unload(struct fst_node *dir)
{
	size_t i;

	if (dir->kind != FST_DIR || !dir->src)
		return;
	for (i = 0; i < dir->nkids; i++)
		fst_free(dir->kids[i]);
	free(dir->kids);
	dir->kids = NULL;
	dir->nkids = 0;
	dir->loaded = 0;
	if (dir->dir_fd >= 0)
		close(dir->dir_fd);
	dir->dir_fd = -1;
}

/* Directory levels fst_prefetch descends (one open file each). */
#define PREFETCH_DEPTH_MAX 64

static void prefetch_dir(int dir_fd, int depth)
{
	DIR *d = fdopendir(dir_fd);
	struct dirent *de;
	char target[PATH_MAX];
	struct stat st;

	if (!d) {
		close(dir_fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		int sub;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISLNK(st.st_mode))
			(void)!readlinkat(dirfd(d), de->d_name, target,
					  sizeof(target));
		if (!S_ISDIR(st.st_mode) || depth >= PREFETCH_DEPTH_MAX)
			continue;
		sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY |
			     O_CLOEXEC | O_NOFOLLOW);
		if (sub >= 0)
			prefetch_dir(sub, depth + 1);
	}
	closedir(d);
}

void fst_prefetch(const char *src)
{
	struct stat st;
	char target[PATH_MAX];
	int fd;

	if (lstat(src, &st) != 0)
		return;
	if (S_ISLNK(st.st_mode))
		(void)!readlink(src, target, sizeof(target));
	if (!S_ISDIR(st.st_mode))
		return;
	fd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0)
		prefetch_dir(fd, 1);
}

struct fst_node *fst_child(const struct fst_node *dir, const char *name)
{
	size_t i;

	for (i = 0; i < dir->nkids; i++)
		if (strcmp(dir->kids[i]->name, name) == 0)
			return dir->kids[i];
	return NULL;
}

int fst_walk(struct fst_node *root, int (*fn)(struct fst_node *n, void *ctx),
	     void *ctx, struct mk_err *e)
{
	size_t i;
	int rc;

	if (fst_load(root, e))
		return -1;
	rc = fn(root, ctx);
	for (i = 0; rc == 0 && root->kind == FST_DIR && i < root->nkids; i++)
		rc = fst_walk(root->kids[i], fn, ctx, e);
	fst_unload(root);
	return rc;
}

void fst_free(struct fst_node *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->nkids; i++)
		fst_free(n->kids[i]);
	free(n->kids);
	free(n->name);
	free(n->src);
	free(n->target);
	free(n);
}
