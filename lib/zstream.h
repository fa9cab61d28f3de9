/*
 * zstream.h - the .zst stream in OUTPUT's file, written as chunks are
 * compressed and mended when some changed afterwards.
 *
 * Owns: appending units (zframe.c) to the file in chunk order at
 * aligned offsets (with O_DIRECT where the filesystem takes it: the
 * compressed image goes to the disk once, not through the page cache),
 * remembering where each chunk's frame went, and at the end replacing
 * the units of chunks that changed after they were appended: with the
 * filesystem moving the rest of the file (FALLOC_FL_COLLAPSE_RANGE and
 * INSERT_RANGE: ext4, XFS), else by moving it in place.  The result is
 * the stream the final image gives, byte for byte, whatever was
 * appended early.  Not thread-safe: its caller appends one chunk at a
 * time.  Does not own the frames' format (zframe.c) or which chunks
 * changed (zpipe.c).
 */
#ifndef MK_ZSTREAM_H
#define MK_ZSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct zstream;

/* A stream of a `size`-byte image, into `fd` (empty) from its start;
 * `shown` names it in messages.  `flags`: ZSTREAM_NO_DIRECT and
 * ZSTREAM_NO_SHIFT turn off O_DIRECT and the filesystem's moves (the
 * tests compare both ways).  0, or -1 with *zs NULL. */
#define ZSTREAM_NO_DIRECT 1
#define ZSTREAM_NO_SHIFT 2
int zstream_open(struct zstream **zs, int fd, const char *shown,
		 uint64_t size, int flags, struct mk_err *e);

/* Chunks of the image. */
size_t zstream_chunks(const struct zstream *zs);

/* The next chunk to append, zstream_chunks() when all are. */
size_t zstream_next(const struct zstream *zs);

/* Appends the next chunk: all zero (`frame` NULL), or its frame of
 * `flen` bytes in `frame`, a buffer of zframe_unit_max() bytes aligned
 * to ZFRAME_ALIGN, which gets the padding. */
int zstream_append(struct zstream *zs, void *frame, size_t flen,
		   struct mk_err *e);

/* Chunk `c`'s bytes now, for chunks that changed after being appended.
 * is_zero: *zero set when all its bytes are zero.  frame: its frame
 * (zframe_compress) in a buffer of zframe_unit_max() bytes aligned to
 * ZFRAME_ALIGN, valid until the next call. */
struct zstream_source {
	int (*is_zero)(void *ctx, size_t c, int *zero, struct mk_err *e);
	int (*frame)(void *ctx, size_t c, void **frame, size_t *flen,
		     struct mk_err *e);
	void *ctx;
};

/* With every chunk appended: replaces the units of the chunks marked in
 * `changed` (one byte per chunk, non-zero: changed) with what `src`
 * gives now.  *bytes: the stream's size. */
int zstream_finish(struct zstream *zs, const uint8_t *changed,
		   const struct zstream_source *src, uint64_t *bytes,
		   struct mk_err *e);

/* Whether zstream_finish moved the stream's end in place (the
 * filesystem could not shift it). */
int zstream_moved(const struct zstream *zs);

void zstream_free(struct zstream *zs);

#endif
