/*
 * filelist.h - the regular files of a tree in walk order, kept from one
 * walk.
 *
 * Owns: each regular file's host path (none for content from memory)
 * and size, by index 0, 1, 2... in walk order, in one growing string
 * buffer, so that the steps after the survey (dedup's reads, reading
 * ahead of the writer) reach files without a walk of their own.
 * Memory: the path plus 24 bytes per file.  Does not own the walk
 * (fstree.c) or what the files are read for.
 */
#ifndef MK_FILELIST_H
#define MK_FILELIST_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "fstree.h"

struct filelist_entry {
	uint64_t path;      /* offset in filelist.paths, or FILELIST_NO_PATH */
	uint64_t size;
	uint32_t shown_skip; /* errors leave out this many bytes of the path */
};

#define FILELIST_NO_PATH UINT64_MAX

struct filelist {
	struct filelist_entry *files;
	size_t count, cap;
	uint64_t bytes;     /* their sizes, added up */
	char *paths;
	size_t paths_len, paths_cap;
};

/* Appends `n` when it is a regular file (other nodes are skipped). */
int filelist_note(struct filelist *l, const struct fst_node *n,
		  struct mk_err *e);

/* The host path of file `i`, or NULL for content from memory. */
const char *filelist_path(const struct filelist *l, size_t i);

/* That path as errors show it (without --store-root). */
const char *filelist_shown(const struct filelist *l, size_t i);

/* Asks the kernel to start reading file `i` into the page cache
 * (POSIX_FADV_WILLNEED), never waiting on a fifo nor following a
 * symlink that replaced the file; whatever fails changes nothing. */
void filelist_read_ahead(const struct filelist *l, size_t i);

void filelist_free(struct filelist *l);

#endif
