/*
 * readahead.h - reading a cold store ahead of the writer.
 *
 * Owns: one thread that asks the kernel to read the next files of a
 * filelist into the page cache (POSIX_FADV_WILLNEED), in the order the
 * writer will copy them, at most a fixed number of bytes ahead of it, so
 * that the disk is busy while the writer works instead of waiting on one
 * read at a time.  It changes nothing the writer reads: a file that is
 * gone, or not a regular file any more, is skipped and left for the
 * writer to report.  Does not own the order (the filelist) or reading
 * itself (ext4fs.c).
 */
#ifndef MK_READAHEAD_H
#define MK_READAHEAD_H

#include <stddef.h>
#include <stdint.h>

#include "filelist.h"

/* Enough to keep the disk's queue full, small beside the page cache. */
#define READAHEAD_BYTES_AHEAD (128ull << 20)

struct readahead;

/* Starts reading ahead from file 0; NULL when no thread could start
 * (then nothing is read ahead, which changes only the speed). */
struct readahead *readahead_start(const struct filelist *l,
				  uint64_t bytes_ahead);

/* The writer is at file `index`: files before it are no longer needed. */
void readahead_at(struct readahead *ra, size_t index);

/* Stops the thread and frees; NULL is fine. */
void readahead_stop(struct readahead *ra);

#endif
