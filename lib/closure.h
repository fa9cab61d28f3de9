/*
 * closure.h - the list of store paths to put on the root filesystem.
 *
 * Owns: reading a store-paths file (closureInfo's `store-paths`, or
 * `nix-store -qR` output), validating every line as a Nix store path,
 * and presenting the set sorted and without repeats.  Does not own:
 * reading the paths' contents (fstree.c) or choosing the toplevel
 * (toplevel.c).
 */
#ifndef MK_CLOSURE_H
#define MK_CLOSURE_H

#include <stddef.h>

#include "err.h"

#define NIX_STORE_DIR "/nix/store"
#define NIX_HASH_CHARS 32     /* nix-base32 characters of a store hash */
#define NIX_NAME_MAX 211      /* longest name Nix accepts after the hash */

struct mk_closure {
	char **paths; /* "/nix/store/<hash>-<name>", byte-sorted, unique */
	size_t count;
};

/*
 * Checks that `path` is "/nix/store/<32 nix-base32>-<name>" with a name
 * Nix would accept.  Returns NULL when it is, else a short reason.
 */
const char *closure_store_path_problem(const char *path);

/*
 * Parses the text of a store-paths file.  Blank lines and repeats are
 * ignored; any other bad line is an error naming `source` and the line.
 */
int closure_parse(const char *text, size_t len, const char *source,
		  struct mk_closure *c, struct mk_err *e);

/* Reads and parses `path` ("-" reads standard input). */
int closure_read(const char *path, struct mk_closure *c, struct mk_err *e);

/* Nonzero when `path` is one of the closure's paths. */
int closure_contains(const struct mk_closure *c, const char *path);

void closure_free(struct mk_closure *c);

#endif
