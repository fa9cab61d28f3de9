/*
 * compress.h - the compressed OUTPUT (.zst, .gz).
 *
 * Owns: turning the finished plain image, handed over in order as data
 * and holes (ranges.c), into one zstd or gzip stream written to a file,
 * with every parameter that shapes the stream fixed so that the bytes
 * depend on the image alone: zstd at level COMPRESS_ZSTD_LEVEL with a
 * content checksum and the image size in the header, always in
 * libzstd's multithreaded mode (its output is the same for any number
 * of workers from 1 up, but not for 0, the single-threaded mode);
 * gzip by zlib at COMPRESS_GZIP_LEVEL with a header of time 0, no name
 * and the Unix OS byte.  Holes are compressed from a buffer of zeros,
 * never read.  Does not own: which file OUTPUT is or its publishing
 * (output.c), or the reading (ranges.c).
 */
#ifndef MK_COMPRESS_H
#define MK_COMPRESS_H

#include <stdint.h>

#include "err.h"
#include "ranges.h"

/* zstd's default level: measured on the bench closure (0.25x) levels 1
 * and 3 take about the same time on 2 cores, and 3 is smaller. */
#define COMPRESS_ZSTD_LEVEL 3
/* gzip's and zlib's default level, as `gzip` compresses. */
#define COMPRESS_GZIP_LEVEL 6
#define COMPRESS_GZIP_OS_UNIX 3     /* RFC 1952 OS field: Unix */
#define COMPRESS_MAX_THREADS 200    /* libzstd's limit for 64-bit */

enum compress_kind {
	COMPRESS_NONE = 0,
	COMPRESS_ZSTD, /* OUTPUT ends in .zst */
	COMPRESS_GZIP, /* OUTPUT ends in .gz */
};

/* The kind OUTPUT's name asks for. */
enum compress_kind compress_kind_of(const char *path);

/* "zstd", "gzip". */
const char *compress_kind_name(enum compress_kind kind);

/* The number of zstd workers for `threads` (0: every online CPU); at
 * least 1, at most COMPRESS_MAX_THREADS. */
unsigned compress_workers(unsigned threads);

struct compressor;

/*
 * Starts a `kind` stream of a `size`-byte image, written to `fd` from
 * its start (`shown` names it in messages); zstd uses `threads` workers
 * (see compress_workers).  0, or -1 with *c NULL.
 */
int compress_start(struct compressor **c, enum compress_kind kind, int fd,
		   const char *shown, unsigned threads, uint64_t size,
		   struct mk_err *e);

/* The sink ranges_read hands the image to. */
struct ranges_sink compress_sink(struct compressor *c);

/* Ends the stream and writes the rest; *bytes: the stream's size. */
int compress_finish(struct compressor *c, uint64_t *bytes, struct mk_err *e);

void compress_free(struct compressor *c);

#endif
