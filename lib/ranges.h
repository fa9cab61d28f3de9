/*
 * ranges.h - one read of the finished plain image: its data ranges
 * and its holes.
 *
 * Owns: finding the data ranges of the image file (SEEK_DATA and
 * SEEK_HOLE), widened to whole RANGES_BLOCK-byte blocks, and reading
 * the image once, in order, handing every piece to each sink: data
 * ranges as read, holes by length only (never read: a hole is zeros).
 * Does not own: which bytes are data (image.c and ext4fs.c write as data
 * everything a consumer reads; README, "The image's holes carry no
 * meaning"), or what the sinks make of the pieces (compress.c, bmap.c).
 */
#ifndef MK_RANGES_H
#define MK_RANGES_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define RANGES_BLOCK 4096u      /* bmaptool's and ext4's block */
#define RANGES_CHUNK (4u << 20) /* bytes read at a time */

struct ranges_sink {
	/* `len` bytes of data at `off` (consecutive calls of one data
	 * range have consecutive offsets; at most RANGES_CHUNK each). */
	int (*data)(void *ctx, uint64_t off, const void *buf, size_t len,
		    struct mk_err *e);
	/* `len` bytes of hole (zeros) at `off`. */
	int (*hole)(void *ctx, uint64_t off, uint64_t len, struct mk_err *e);
	void *ctx;
};

/*
 * Reads the `size`-byte image open at `fd` (named `shown` in messages)
 * once from start to end and gives each piece, in order, to the `n`
 * sinks.  0, or -1 with the first error of a read or of a sink.
 */
int ranges_read(int fd, uint64_t size, const char *shown,
		const struct ranges_sink *sinks, size_t n, struct mk_err *e);

#endif
