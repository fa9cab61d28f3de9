/*
 * deliver.h - from the written plain image to the files asked for.
 *
 * Owns: where the plain image is written (OUTPUT itself, or an unnamed
 * scratch file in OUTPUT's folder when OUTPUT ends in .zst or .gz), and
 * who watches its writes (a .zst OUTPUT is compressed while the image is
 * written: zpipe.c); the checks of --bmap before any work (a new or
 * regular file in an existing folder, neither OUTPUT nor an input); the
 * one read of the finished image that feeds the gzip stream and the
 * bmap; and publishing the bmap and OUTPUT together: both, or neither.
 * Does not own: the image's contents (image.c), the formats (zframe.c,
 * compress.c, bmap.c), or how a file gets its name (output.c).
 */
#ifndef MK_DELIVER_H
#define MK_DELIVER_H

#include <stddef.h>
#include <stdint.h>

#include "compress.h"
#include "err.h"
#include "imgfile.h"
#include "mkr2simg.h"
#include "output.h"
#include "zpipe.h"

struct deliver {
	const struct mkr2simg_options *o;
	enum compress_kind kind;
	struct mk_output image;  /* the plain image being written */
	struct imgfile img;      /* image.fd, as everything writes to it */
	struct zpipe *zpipe;     /* a .zst OUTPUT being compressed */
	struct mk_output packed; /* the compressed OUTPUT, or unused */
	struct mk_output bmap;   /* --bmap, opened once its text is ready */
};

struct deliver_stats {
	uint64_t output_bytes; /* of OUTPUT */
	uint64_t mapped_bytes; /* listed in the bmap */
	struct zpipe_stats zstd; /* a .zst OUTPUT's chunks */
};

/* Before anything else: nothing open. */
void deliver_init(struct deliver *d, const struct mkr2simg_options *o);

/* Refuses an OUTPUT or --bmap that cannot be written or is one of the
 * `n` inputs (NULL entries and "-" skipped), before any work. */
int deliver_check(const struct deliver *d, const char *const *inputs,
		  size_t n, struct mk_err *e);

/* Opens what the image is written to (d->image). */
int deliver_open(struct deliver *d, struct mk_err *e);

/* The zstd workers a compressed OUTPUT uses, or 0 for none. */
unsigned deliver_workers(const struct deliver *d);

/* Before the first write of the `size`-byte image (d->img): a .zst
 * OUTPUT starts compressing it as it is written. */
int deliver_start(struct deliver *d, uint64_t size, struct mk_err *e);

/* The writer has probably finished with the image below `below`. */
void deliver_settled(struct deliver *d, uint64_t below);

/* After the `size`-byte image is complete in d->image: compresses it,
 * writes the bmap, and publishes everything. */
int deliver_finish(struct deliver *d, uint64_t size, struct deliver_stats *st,
		   struct mk_err *e);

/* Removes whatever was not published; closes everything. */
void deliver_discard(struct deliver *d);

#endif
