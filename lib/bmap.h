/*
 * bmap.h - the block map bmaptool copies by (--bmap FILE).
 *
 * Owns: the text of a bmaptool bmap, format 2.0 with SHA-256: the data
 * ranges of the plain image in RANGES_BLOCK-byte blocks, each with the
 * SHA-256 of its bytes, the image's size and block counts, and the
 * BmapFileChecksum (the SHA-256 of the whole file with that field
 * written as zeros), laid out byte for byte as `bmaptool create` (bmap-
 * tools 3.x, BmapCreate.py) writes it for the same ranges.  Does not own:
 * which ranges are data (ranges.c reads them), or writing the file
 * (output.c).
 */
#ifndef MK_BMAP_H
#define MK_BMAP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ranges.h"

#define BMAP_VERSION "2.0"
#define BMAP_CHECKSUM_TYPE "sha256"

struct bmap;

/* A bmap of a `size`-byte image; NULL only when out of memory. */
struct bmap *bmap_new(uint64_t size);

/* The sink ranges_read hands the image to: every data range becomes a
 * <Range> with its checksum. */
struct ranges_sink bmap_sink(struct bmap *b);

/* The finished text (malloc'd, *len bytes, NUL after them); after it the
 * sink takes nothing more.  0, or -1 when out of memory. */
int bmap_text(struct bmap *b, char **text, size_t *len, struct mk_err *e);

/* Blocks listed (after bmap_text). */
uint64_t bmap_mapped_blocks(const struct bmap *b);

void bmap_free(struct bmap *b);

#endif
