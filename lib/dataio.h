/*
 * dataio.h - an io_channel under which every write is image data.
 *
 * Owns: sitting between libext2fs and its unix_io channel so that
 * "zero out" requests become written zeros.  unix_io answers them with
 * FALLOC_FL_PUNCH_HOLE or ZERO_RANGE, which leave holes or unwritten
 * extents in the image file, and a tool that copies only an image's
 * data ranges onto a used card would then leave the card's old bytes
 * where ext4 expects zeros (the journal).  Does not own: what libext2fs
 * writes, or file data, which ext4fs.c writes itself.
 */
#ifndef MK_DATAIO_H
#define MK_DATAIO_H

#include <ext2fs/ext2fs.h>

/* Replaces *channel (an open unix_io channel) with one that owns it. */
errcode_t dataio_wrap(io_channel *channel);

#endif
