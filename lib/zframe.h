/*
 * zframe.h - the frames of a .zst OUTPUT: one zstd frame per fixed-size
 * chunk of the image, in units padded to 4 KiB.
 *
 * Owns: the stream's format.  The image is cut into ZFRAME_CHUNK-byte
 * chunks at fixed offsets (the last one shorter when the image is), and
 * each chunk becomes one independent zstd frame made by libzstd on one
 * thread with every parameter fixed (level ZFRAME_LEVEL, XXH64
 * checksum, the chunk's size in the header), so a frame's bytes depend
 * on its chunk's bytes and the libzstd version alone, never on threads
 * or timing.  Frames are grouped into units: each chunk that holds a
 * non-zero byte is a unit, and so is each longest run of all-zero
 * chunks; every unit is followed by a skippable frame that pads it to a
 * multiple of ZFRAME_ALIGN bytes (none when it already is one).  Since
 * the units depend on the image alone, so do the stream's bytes; being
 * aligned, they can be written with O_DIRECT and moved within the file
 * by the filesystem (zstream.c).  `zstd -d` skips the padding and gives
 * the image.  Does not own where units go in the file (zstream.c) or
 * when chunks are compressed (zpipe.c).
 */
#ifndef MK_ZFRAME_H
#define MK_ZFRAME_H

#include <stddef.h>
#include <stdint.h>

#include <zstd.h>

#include "err.h"

/* Image bytes per frame.  Each compressing thread holds a chunk and
 * its frame: 2 MiB keeps a run at 2x the bench closure under 64 MiB
 * (4 MiB frames are 0.3% smaller); zstd's level-3 window is 2 MiB
 * anyway; the layout's 4 MiB alignment puts partitions on frame
 * boundaries. */
#define ZFRAME_CHUNK (2u << 20)
#define ZFRAME_LEVEL 3            /* zstd's default, as `zstd` and
				     nixpkgs' sd-image.nix compress */
#define ZFRAME_ALIGN 4096u        /* units end on these boundaries: ext4's
				     block, O_DIRECT's alignment */
#define ZFRAME_SKIP_MAGIC 0x184D2A50u /* RFC 8878 skippable frame */
#define ZFRAME_SKIP_HEADER 8u     /* its magic and size fields */

/* Bytes a buffer needs for one chunk's frame and its padding. */
size_t zframe_unit_max(void);

/* A context set up for ZFRAME_* frames; NULL when out of memory. */
ZSTD_CCtx *zframe_context(void);

/* Compresses the `len`-byte chunk at `src` into one frame at `dst`
 * (zframe_unit_max bytes): *flen its size.  `shown` names OUTPUT. */
int zframe_compress(ZSTD_CCtx *c, const void *src, size_t len, void *dst,
		    size_t *flen, const char *shown, struct mk_err *e);

/* Padding after a unit of `len` bytes: 0 when aligned, else the bytes up
 * to the next boundary at least ZFRAME_SKIP_HEADER away. */
size_t zframe_pad_len(uint64_t len);

/* Writes the `pad` bytes of padding (a skippable frame) at `dst`. */
void zframe_pad(void *dst, size_t pad);

#endif
