/*
 * tree.c - builds and removes fuzz_toplevel's store tree (the encoding
 * and the safety rules are in tree.h).
 */
#include "tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "util.h"

#define TOPLEVEL_REL "nix/store/" TREE_HASH "-nixos-system-fuzz"

void tree_init(struct tree *t)
{
	const char *tmp = getenv("TMPDIR");
	char made[PATH_MAX];

	snprintf(made, sizeof(made), "%s/mkr2simg-fuzz.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(made) || !realpath(made, t->root))
		fuzz_fail("cannot make the fuzz root %s", made);
	t->rootfd = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->rootfd < 0)
		fuzz_fail("cannot open the fuzz root %s", t->root);
}

/* `n` bytes at `src` with @, # and $ expanded; 0, or -1 if too long. */
static int expand(const char *src, size_t n, char *out, size_t cap)
{
	size_t used = 0, i;

	for (i = 0; i < n; i++) {
		const char *rep = src[i] == '@'   ? "nix/store/"
				  : src[i] == '#' ? TREE_HASH
				  : src[i] == '$' ? TOPLEVEL_REL
						  : NULL;
		size_t len = rep ? strlen(rep) : 1;

		if (used + len + 1 > cap)
			return -1;
		memcpy(out + used, rep ? rep : src + i, len);
		used += len;
	}
	out[used] = '\0';
	return 0;
}

/* "\n", "\0" and "\\" in `n` bytes at `src`, into `out`; returns the
 * length (never more than n). */
static size_t unescape(const char *src, size_t n, char *out)
{
	size_t i, used = 0;

	for (i = 0; i < n; i++) {
		if (src[i] == '\\' && i + 1 < n && strchr("n0\\", src[i + 1])) {
			i++;
			out[used++] = src[i] == 'n' ? '\n'
				      : src[i] == '0' ? '\0' : '\\';
		} else {
			out[used++] = src[i];
		}
	}
	return used;
}

/* One path component: not empty, ".", ".." nor too long. */
static int usable_name(const char *name, size_t len)
{
	return len > 0 && len <= NAME_MAX && !(len == 1 && name[0] == '.') &&
	       !(len == 2 && name[0] == '.' && name[1] == '.');
}

/* Opens (making it when missing) the real directory that is to hold
 * the last component of `rel`; returns its descriptor and points
 * *leaf at that component, or -1 when the path is not usable. */
static int open_parent(int rootfd, char *rel, const char **leaf)
{
	int fd = dup(rootfd);
	char *p = rel, *slash;

	while (*p == '/')
		p++;
	while (fd >= 0 && (slash = strchr(p, '/'))) {
		int next;

		*slash = '\0';
		if (!usable_name(p, strlen(p)))
			next = -1;
		else if (mkdirat(fd, p, 0755) != 0 && errno != EEXIST)
			next = -1;
		else
			next = openat(fd, p, O_RDONLY | O_DIRECTORY |
						     O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = next;
		p = slash + 1;
	}
	if (fd >= 0 && !usable_name(p, strlen(p))) {
		close(fd);
		fd = -1;
	}
	*leaf = p;
	return fd;
}

static void make_file(int dir, const char *leaf, const char *text, size_t n)
{
	char *bytes = malloc(n + 1);
	size_t len = unescape(text, n, bytes);
	int fd = openat(dir, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
					   O_CLOEXEC, 0644);

	if (fd >= 0) {
		if (write(fd, bytes, len) != (ssize_t)len)
			fuzz_fail("cannot write a tree file");
		close(fd);
	}
	free(bytes);
}

/* One "X PATH [ARG]" line (`n` bytes at `line`). */
static void apply_op(struct tree *t, const char *line, size_t n,
		     struct tree_input *in)
{
	const char *sp = memchr(line + 2, ' ', n - 2), *arg, *leaf;
	size_t plen = sp ? (size_t)(sp - line - 2) : n - 2;
	size_t alen = sp ? n - 2 - plen - 1 : 0;
	char path[PATH_MAX], target[PATH_MAX];
	/* Made paths stay below PATH_MAX with the root in front, so that
	 * nftw can remove them again. */
	size_t cap = line[0] == 'r' ? sizeof(path)
				    : sizeof(path) - strlen(t->root) - 1;
	int dir;

	arg = sp ? sp + 1 : line + n;
	if (expand(line + 2, line[0] == 'r' ? n - 2 : plen, path, cap))
		return;
	if (line[0] == 'r') {
		if (in->nresolve < TREE_MAX_RESOLVE)
			in->resolve[in->nresolve++] = strdup(path);
		return;
	}
	if (line[0] == 'x') {
		if (in->nexclude < TREE_MAX_EXCLUDE)
			in->exclude[in->nexclude++] = strdup(path);
		return;
	}
	dir = open_parent(t->rootfd, path, &leaf);
	if (dir < 0)
		return;
	if (line[0] == 'd')
		mkdirat(dir, leaf, 0755);
	else if (line[0] == 'f')
		make_file(dir, leaf, arg, alen);
	else if (line[0] == 'l' &&
		 expand(arg, alen, target, sizeof(target)) == 0)
		symlinkat(target, dir, leaf);
	close(dir);
}

void tree_build(struct tree *t, const uint8_t *data, size_t size,
		struct tree_input *in)
{
	const char *text = (const char *)data;
	size_t pos = 0, ops = 0;

	memset(in, 0, sizeof(*in));
	while (pos <= size && ops <= TREE_MAX_OPS) {
		const char *nl = memchr(text + pos, '\n', size - pos);
		size_t end = nl ? (size_t)(nl - text) : size, n = end - pos;

		if (ops == 0)
			in->dtb = fuzz_cstring(data + pos, n);
		else if (n > 2 && text[pos + 1] == ' ' &&
			 strchr("dflrx", text[pos]) && text[pos] != '\0')
			apply_op(t, text + pos, n, in);
		ops++;
		pos = end + 1;
	}
	if (!in->dtb)
		in->dtb = fuzz_cstring(data, 0);
}

void tree_input_free(struct tree_input *in)
{
	size_t i;

	free(in->dtb);
	for (i = 0; i < in->nresolve; i++)
		free(in->resolve[i]);
	for (i = 0; i < in->nexclude; i++)
		free(in->exclude[i]);
	memset(in, 0, sizeof(*in));
}

/* Whether the input left store path `path` ("/nix/store/...") out. */
static int excluded(const struct tree_input *in, const char *path)
{
	size_t i;

	for (i = 0; i < in->nexclude; i++)
		if (strcmp(in->exclude[i], path + 1) == 0)
			return 1;
	return 0;
}

/* Appends "line\n" to the growing text `*text` of `*len` bytes. */
static void add_line(char **text, size_t *len, const char *line)
{
	size_t n = strlen(line);
	char *grown = realloc(*text, *len + n + 2);

	if (!grown)
		fuzz_fail("out of memory");
	memcpy(grown + *len, line, n);
	grown[*len + n] = '\n';
	grown[*len + n + 1] = '\0';
	*text = grown;
	*len += n + 1;
}

void tree_closure(struct tree *t, const struct tree_input *in,
		  struct mk_closure *c)
{
	int fd = openat(t->rootfd, "nix/store",
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	char *text = NULL, *path;
	size_t len = 0;
	struct dirent *de;
	struct mk_err e;

	add_line(&text, &len, TREE_TOPLEVEL);
	while (dir && (de = readdir(dir)) != NULL) {
		path = mk_path_join(NIX_STORE_DIR, de->d_name);
		if (!path)
			fuzz_fail("out of memory");
		if (!closure_store_path_problem(path) && !excluded(in, path))
			add_line(&text, &len, path);
		free(path);
	}
	if (dir)
		closedir(dir);
	else if (fd >= 0)
		close(fd);
	if (closure_parse(text, len, "tree", c, &e) != 0)
		fuzz_fail("the tree's closure does not parse: %s", e.msg);
	free(text);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	if (ftw->level > 0 && remove(path) != 0)
		fuzz_fail("cannot remove %s", path);
	return 0;
}

void tree_clear(struct tree *t)
{
	if (nftw(t->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fuzz_fail("cannot empty the fuzz root %s", t->root);
}

void tree_remove(struct tree *t)
{
	tree_clear(t);
	close(t->rootfd);
	rmdir(t->root);
}
