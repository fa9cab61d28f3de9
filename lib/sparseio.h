/*
 * sparseio.h - an io_channel that keeps the image file sparse.
 *
 * Owns: sitting between libext2fs and its unix_io channel and dropping
 * every write of zeros to a range that was never written (the image
 * file starts as one big hole, so such writes change nothing), and
 * answering "zero out" the same way instead of unix_io's
 * FALLOC_FL_ZERO_RANGE, which would allocate unwritten extents on the
 * host.  Does not own: what libext2fs writes, or file data, which
 * ext4fs.c writes itself.
 */
#ifndef MK_SPARSEIO_H
#define MK_SPARSEIO_H

#include <stdint.h>

#include <ext2fs/ext2fs.h>

/*
 * Replaces *channel (an open unix_io channel on a fresh, all-zero
 * region of `bytes` bytes) with a sparse channel that owns it.
 */
errcode_t sparseio_wrap(io_channel *channel, uint64_t bytes);

#endif
