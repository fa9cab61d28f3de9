/*
 * dataio.h - the io_channel libext2fs writes a filesystem through.
 *
 * Owns: every read and write libext2fs makes of the image, done on the
 * image file itself (imgfile.c, so every write is reported once it has
 * landed) at the partition's offset: "zero out" requests become written
 * zeros, never holes or unwritten extents (unix_io's FALLOC_FL_PUNCH_HOLE
 * or ZERO_RANGE, after which a tool that copies only an image's data
 * ranges onto a used card would leave the card's old bytes where ext4
 * expects zeros, as in the journal); repeated one-block writes of the
 * same block (an inode table block, once per inode) are held and written
 * once; a flush writes what is held and nothing more (the image is
 * fsynced once, when complete, by output.c).  Does not own: what
 * libext2fs writes, or file data, which ext4fs.c writes itself.
 */
#ifndef MK_DATAIO_H
#define MK_DATAIO_H

#include <stdint.h>

#include <ext2fs/ext2fs.h>

#include "imgfile.h"

/* Replaces *channel (the unix_io channel libext2fs opened on the image,
 * kept only to be closed) with one that reads and writes `img` from
 * byte `offset` on.  `img` must outlive the channel. */
errcode_t dataio_wrap(io_channel *channel, const struct imgfile *img,
		      uint64_t offset);

#endif
