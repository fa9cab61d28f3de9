#include "closure.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define NIX_BASE32_ALPHABET "0123456789abcdfghijklmnpqrsvwxyz"
#define LINE_QUOTE_MAX 80 /* how much of a bad line an error repeats */

static int is_name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || strchr("+-._?=", ch) != NULL;
}

const char *closure_store_path_problem(const char *path)
{
	const size_t prefix = strlen(NIX_STORE_DIR "/");
	const char *hash, *name;
	size_t i, name_len;

	if (path[0] != '/')
		return "not an absolute path";
	if (strncmp(path, NIX_STORE_DIR "/", prefix) != 0)
		return "not under " NIX_STORE_DIR;
	hash = path + prefix;
	for (i = 0; i < NIX_HASH_CHARS; i++)
		if (hash[i] == '\0' || !strchr(NIX_BASE32_ALPHABET, hash[i]))
			return "hash part is not 32 nix-base32 characters";
	if (hash[NIX_HASH_CHARS] != '-')
		return "hash part is not 32 nix-base32 characters";
	name = hash + NIX_HASH_CHARS + 1;
	name_len = strlen(name);
	if (name_len == 0)
		return "empty name after the hash";
	if (name_len > NIX_NAME_MAX)
		return "name too long";
	if (name[0] == '.')
		return "name starts with '.'";
	for (i = 0; i < name_len; i++) {
		if (name[i] == '/')
			return "names a file inside a store path, not a store path";
		if (!is_name_char(name[i]))
			return "name has a character Nix does not allow";
	}
	return NULL;
}

static int cmp_paths(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts and drops repeats, so the result never depends on line order. */
static void sort_unique(struct mk_closure *c)
{
	size_t in, out = 0;

	qsort(c->paths, c->count, sizeof(c->paths[0]), cmp_paths);
	for (in = 0; in < c->count; in++) {
		if (out > 0 && strcmp(c->paths[out - 1], c->paths[in]) == 0) {
			free(c->paths[in]);
			continue;
		}
		c->paths[out++] = c->paths[in];
	}
	c->count = out;
}

static int add_line(struct mk_closure *c, size_t *cap, const char *line,
		    size_t len, const char *source, size_t lineno,
		    struct mk_err *e)
{
	char *path = mk_strndup(line, len);
	const char *problem;

	if (!path)
		return mk_fail(e, "out of memory reading %s", source);
	problem = strlen(path) != len ? "contains a NUL byte"
				      : closure_store_path_problem(path);
	if (problem) {
		mk_fail(e, "%s:%zu: '%.*s' is not a store path: %s", source,
			lineno, LINE_QUOTE_MAX, path, problem);
		free(path);
		return -1;
	}
	if (mk_grow(&c->paths, cap, c->count, sizeof(*c->paths))) {
		free(path);
		return mk_fail(e, "out of memory reading %s", source);
	}
	c->paths[c->count++] = path;
	return 0;
}

int closure_parse(const char *text, size_t len, const char *source,
		  struct mk_closure *c, struct mk_err *e)
{
	size_t pos = 0, lineno = 0, cap = 0;

	c->paths = NULL;
	c->count = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t line_len = end - pos;

		lineno++;
		if (line_len > 0 && text[pos + line_len - 1] == '\r')
			line_len--;
		if (line_len > 0 &&
		    add_line(c, &cap, text + pos, line_len, source, lineno, e)) {
			closure_free(c);
			return -1;
		}
		pos = end + 1;
	}
	if (c->count == 0) {
		closure_free(c);
		return mk_fail(e, "%s: no store paths in it", source);
	}
	sort_unique(c);
	return 0;
}

int closure_read(const char *path, struct mk_closure *c, struct mk_err *e)
{
	const char *source = strcmp(path, "-") == 0 ? "<stdin>" : path;
	struct mk_buf text;
	int rc;

	if (mk_read_all(path, &text, e))
		return -1;
	rc = closure_parse(text.data, text.len, source, c, e);
	free(text.data);
	return rc;
}

int closure_contains(const struct mk_closure *c, const char *path)
{
	return bsearch(&path, c->paths, c->count, sizeof(c->paths[0]),
		       cmp_paths) != NULL;
}

void closure_free(struct mk_closure *c)
{
	size_t i;

	for (i = 0; i < c->count; i++)
		free(c->paths[i]);
	free(c->paths);
	c->paths = NULL;
	c->count = 0;
}
