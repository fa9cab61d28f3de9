/*
 * fuzz_closure.c - libFuzzer harness for the closure reader.
 *
 * Owns: feeding arbitrary bytes to closure_read as the CLOSURE file
 * (a memfd opened by path, so mk_read_all's checks run too) and the
 * oracle for what closure.h promises: closure_store_path_problem agrees
 * on every input line with Nix's rule, re-implemented here; on success
 * every path keeps that rule, the list is byte-sorted without repeats,
 * and it is exactly the set of the input's non-blank lines (one
 * trailing CR dropped), re-split here independently; toplevel_pick finds the toplevel iff
 * exactly one path has TOPLEVEL_NAME_MARK.  On failure the message is
 * one line naming the file.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "closure.h"
#include "fuzz_util.h"
#include "toplevel.h"

static struct fuzz_file input;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_file_open(&input, "closure");
	return 0;
}

/* Nix's rule for a store path, written apart from closure.c's: the
 * store dir, 32 nix-base32 characters, '-', then 1 to 211 characters of
 * [A-Za-z0-9+-._?=], not starting with '.'. */
static int reference_store_path(const char *p)
{
	static const char base32[] = "0123456789abcdfghijklmnpqrsvwxyz";
	static const char name_chars[] = "abcdefghijklmnopqrstuvwxyz"
					 "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789+-._?=";
	const size_t dir = strlen(NIX_STORE_DIR "/");
	size_t name;

	if (strncmp(p, NIX_STORE_DIR "/", dir) != 0 ||
	    strspn(p + dir, base32) < NIX_HASH_CHARS ||
	    p[dir + NIX_HASH_CHARS] != '-')
		return 0;
	p += dir + NIX_HASH_CHARS + 1;
	name = strlen(p);
	return name >= 1 && name <= NIX_NAME_MAX && p[0] != '.' &&
	       strspn(p, name_chars) == name;
}

static void check_sorted_valid(const struct mk_closure *c)
{
	size_t i;

	if (c->count == 0)
		fuzz_fail("closure_read succeeded with no paths");
	for (i = 0; i < c->count; i++) {
		const char *why = closure_store_path_problem(c->paths[i]);

		if (why || !reference_store_path(c->paths[i]))
			fuzz_fail("accepted '%s': %s", c->paths[i],
				  why ? why : "not a store path for Nix");
		if (i > 0 && strcmp(c->paths[i - 1], c->paths[i]) >= 0)
			fuzz_fail("not sorted and unique at %zu", i);
	}
}

/* Calls `fn` with each non-blank line of the input (one trailing CR
 * dropped) as a C string and its length before any NUL cut it. */
static void each_line(const uint8_t *data, size_t len,
		      void (*fn)(const char *line, size_t n, void *ctx),
		      void *ctx)
{
	size_t start = 0;

	while (start < len) {
		const uint8_t *nl = memchr(data + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - data) : len, n = end - start;
		char *line;

		if (n > 0 && data[start + n - 1] == '\r')
			n--;
		if (n > 0) {
			line = fuzz_cstring(data + start, n);
			fn(line, n, ctx);
			free(line);
		}
		start = end + 1;
	}
}

/* closure_store_path_problem and the reference agree on every line. */
static void check_rule(const char *line, size_t n, void *ctx)
{
	int ok = closure_store_path_problem(line) == NULL;

	(void)n;
	(void)ctx;
	if (ok != reference_store_path(line))
		fuzz_fail("'%s': closure.c says %s, Nix's rule %s", line,
			  ok ? "valid" : "invalid", ok ? "invalid" : "valid");
}

struct present {
	const struct mk_closure *c;
	size_t lines; /* non-blank lines seen */
};

/* After a success, every non-blank line is a valid path in the closure. */
static void check_present(const char *line, size_t n, void *ctx)
{
	struct present *p = ctx;

	if (strlen(line) != n || !reference_store_path(line))
		fuzz_fail("closure accepted bad line '%s'", line);
	if (!closure_contains(p->c, line))
		fuzz_fail("line '%s' missing from the closure", line);
	p->lines++;
}

/* Every path of the closure is one of the input's lines. */
static void check_paths_from_input(const struct mk_closure *c,
				   const uint8_t *data, size_t len)
{
	size_t i;

	for (i = 0; i < c->count; i++) {
		size_t n = strlen(c->paths[i]);
		const uint8_t *hit = memmem(data, len, c->paths[i], n);

		if (!hit || (hit > data && hit[-1] != '\n'))
			fuzz_fail("'%s' is not an input line", c->paths[i]);
	}
}

static void check_pick(const struct mk_closure *c)
{
	size_t i, marked = 0;
	char *picked = NULL;
	struct mk_err e;
	int rc;

	for (i = 0; i < c->count; i++)
		marked += strstr(c->paths[i] + strlen(NIX_STORE_DIR "/"),
				 TOPLEVEL_NAME_MARK) != NULL;
	rc = toplevel_pick(c, NULL, &picked, &e);
	if ((rc == 0) != (marked == 1))
		fuzz_fail("toplevel_pick %d with %zu marked paths", rc, marked);
	if (rc != 0)
		fuzz_check_err(&e, TOPLEVEL_NAME_MARK);
	free(picked);
	picked = NULL;
	if (toplevel_pick(c, c->paths[c->count - 1], &picked, &e) != 0 ||
	    strcmp(picked, c->paths[c->count - 1]) != 0)
		fuzz_fail("toplevel_pick refused a path of the closure");
	free(picked);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mk_closure c;
	struct present seen = { &c, 0 };
	struct mk_err e;

	fuzz_file_set(&input, data, size, 1);
	each_line(data, size, check_rule, NULL);
	if (closure_read(input.path, &c, &e) != 0) {
		fuzz_check_err(&e, input.path);
		return 0;
	}
	check_sorted_valid(&c);
	each_line(data, size, check_present, &seen);
	if (c.count > seen.lines)
		fuzz_fail("%zu paths from %zu lines", c.count, seen.lines);
	check_paths_from_input(&c, data, size);
	check_pick(&c);
	closure_free(&c);
	return 0;
}
