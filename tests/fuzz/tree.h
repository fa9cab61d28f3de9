/*
 * tree.h - the store tree fuzz_toplevel builds from each input.
 *
 * Owns: the private temporary root (made once, emptied after every
 * input, removed at exit) and the input encoding, a text that mutates
 * well and reads as a test case:
 *
 *   line 1   the --dtb value ("none": boot without a device tree)
 *   d PATH          a directory
 *   f PATH TEXT     a regular file; in TEXT "\n" is a newline, "\0" a
 *                   NUL byte, "\\" a backslash (raw bytes stay as they are)
 *   l PATH TARGET   a symlink to TARGET, verbatim (absolute, relative,
 *                   climbing with "..": whatever the fuzzer makes)
 *   r PATH          also resolve PATH (as seen inside the store root)
 *   x PATH          leave store path PATH out of the closure (every
 *                   other valid store path made under nix/store, and
 *                   the toplevel, is in it)
 *
 * In PATH and TARGET "@" stands for "nix/store/", "#" for a 32-character
 * store hash and "$" for the toplevel "nix/store/<hash>-nixos-system-fuzz"
 * (TREE_TOPLEVEL without its leading slash).  Missing parents of PATH are
 * made as directories.  An op whose PATH has an empty, "." or ".."
 * component, or that crosses a symlink or file, is dropped: the tree is
 * made only of real directories below the root, every creation uses
 * *at() calls with O_NOFOLLOW, so nothing is ever written outside it.
 */
#ifndef MK_FUZZ_TREE_H
#define MK_FUZZ_TREE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "closure.h"

#define TREE_HASH "00000000000000000000000000000000"
#define TREE_TOPLEVEL "/nix/store/" TREE_HASH "-nixos-system-fuzz"
#define TREE_MAX_OPS 64
#define TREE_MAX_RESOLVE 8
#define TREE_MAX_EXCLUDE 8

struct tree {
	char root[PATH_MAX]; /* canonical host path, no trailing slash */
	int rootfd;
};

struct tree_input {
	char *dtb;                        /* malloc'd */
	char *resolve[TREE_MAX_RESOLVE];  /* malloc'd "r" paths */
	size_t nresolve;
	char *exclude[TREE_MAX_EXCLUDE];  /* malloc'd "x" paths, expanded */
	size_t nexclude;
};

/* Makes the root under $TMPDIR (or /tmp); aborts when it cannot. */
void tree_init(struct tree *t);

/* Builds the tree the input describes (the root must be empty). */
void tree_build(struct tree *t, const uint8_t *data, size_t size,
		struct tree_input *in);

void tree_input_free(struct tree_input *in);

/* The closure of a built tree: TREE_TOPLEVEL and every valid store path
 * made under nix/store but those the input left out ("x"). */
void tree_closure(struct tree *t, const struct tree_input *in,
		  struct mk_closure *c);

/* Removes everything below the root. */
void tree_clear(struct tree *t);

/* Removes the root itself too. */
void tree_remove(struct tree *t);

#endif
