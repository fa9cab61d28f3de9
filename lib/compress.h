/*
 * compress.h - the compressed OUTPUT's kind, and the .gz stream.
 *
 * Owns: which kind of OUTPUT a name asks for (.zst, .gz), how many
 * threads --threads means, and turning the finished plain image, handed
 * over in order as data and holes (ranges.c), into one gzip stream
 * written to a file, with every parameter that shapes it fixed so that
 * the bytes depend on the image alone: zlib at COMPRESS_GZIP_LEVEL with
 * a header of time 0, no name and the Unix OS byte.  Holes are
 * compressed from a buffer of zeros, never read.  Does not own: the .zst
 * stream (zframe.c, zpipe.c: compressed while the image is written),
 * which file OUTPUT is or its publishing (output.c), or the reading
 * (ranges.c).
 */
#ifndef MK_COMPRESS_H
#define MK_COMPRESS_H

#include <stdint.h>

#include "err.h"
#include "mkr2simg.h"
#include "ranges.h"

/* gzip's and zlib's default level, as `gzip` compresses. */
#define COMPRESS_GZIP_LEVEL 6
#define COMPRESS_GZIP_OS_UNIX 3     /* RFC 1952 OS field: Unix */

enum compress_kind {
	COMPRESS_NONE = 0,
	COMPRESS_ZSTD, /* OUTPUT ends in .zst */
	COMPRESS_GZIP, /* OUTPUT ends in .gz */
};

/* The kind OUTPUT's name asks for. */
enum compress_kind compress_kind_of(const char *path);

/* "zstd", "gzip". */
const char *compress_kind_name(enum compress_kind kind);

/* The number of threads `threads` asks for (0: every online CPU); at
 * least 1, at most MKR2SIMG_THREADS_MAX. */
unsigned compress_workers(unsigned threads);

struct compressor;

/*
 * Starts the gzip stream of the image, written to `fd` from its start
 * (`shown` names it in messages).  0, or -1 with *c NULL.
 */
int compress_start(struct compressor **c, int fd, const char *shown,
		   struct mk_err *e);

/* The sink ranges_read hands the image to. */
struct ranges_sink compress_sink(struct compressor *c);

/* Ends the stream and writes the rest; *bytes: the stream's size. */
int compress_finish(struct compressor *c, uint64_t *bytes, struct mk_err *e);

void compress_free(struct compressor *c);

#endif
