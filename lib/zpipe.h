/*
 * zpipe.h - a .zst OUTPUT compressed while its image is being written.
 *
 * Owns: knowing which chunks of the image changed after they were
 * compressed (a generation per chunk, counted as writes land:
 * imgfile.c's watcher), the threads that compress settled chunks (those
 * the writer has left behind) in order into the stream while the image
 * is written, and at the end the rest and again those that changed, so
 * that the stream is the one the finished image gives (zframe.c: its
 * bytes depend on the image alone, never on threads or timing).  Does
 * not own the frames' format (zframe.c) or the stream's file
 * (zstream.c).
 */
#ifndef MK_ZPIPE_H
#define MK_ZPIPE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Compressing threads at most: enough to keep up with the writer,
 * each holding a chunk, its frame and a zstd context (about 5 MiB). */
#define ZPIPE_WORKERS_MAX 4

struct zpipe;

struct zpipe_stats {
	size_t chunks;   /* in the image */
	size_t early;    /* compressed while the image was written */
	size_t changed;  /* compressed again: written after that */
	int moved;       /* the stream's end moved in place (zstream.c) */
};

/*
 * Starts compressing the `size`-byte image in `image_fd` (read only
 * where settled, and where imgfile.c reports its writes to
 * zpipe_landed) into `out_fd`, named `shown`, on `workers` threads
 * (at most ZPIPE_WORKERS_MAX).  `flags`: zstream_open's.
 */
int zpipe_start(struct zpipe **z, int image_fd, int out_fd, const char *shown,
		uint64_t size, unsigned workers, int flags, struct mk_err *e);

/* imgfile.c's watcher: the bytes [off, off + len) changed. */
void zpipe_landed(void *z, uint64_t off, uint64_t len);

/* The writer has probably finished with the image below `below`: the
 * chunks there may be compressed.  (A hint: anything written there
 * later is compressed again at the end.) */
void zpipe_settled(struct zpipe *z, uint64_t below);

/* Chunks in the stream so far. */
size_t zpipe_done(struct zpipe *z);

/* Once every write has landed: compresses what is left and what
 * changed; *bytes: the stream's size. */
int zpipe_finish(struct zpipe *z, uint64_t *bytes, struct zpipe_stats *st,
		 struct mk_err *e);

/* Stops the threads and frees; NULL is fine. */
void zpipe_free(struct zpipe *z);

#endif
