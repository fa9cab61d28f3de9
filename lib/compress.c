#include "compress.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "util.h"

#define OUT_CHUNK (1u << 20)  /* compressed bytes written at a time */
#define ZERO_CHUNK (1u << 20) /* zeros fed at a time for a hole */
#define GZIP_WINDOW_BITS (15 + 16) /* 32 KiB window, gzip wrapping */
#define GZIP_MEM_LEVEL 8           /* zlib's default */

struct compressor {
	int fd;
	const char *shown;
	uint64_t written;     /* bytes of the stream written to fd */
	uint8_t *out;         /* OUT_CHUNK bytes of output to write */
	uint8_t *zeros;       /* ZERO_CHUNK zero bytes */
	z_stream gz;
	gz_header gz_head;    /* zlib reads it at the first deflate */
	int gz_live;          /* deflateInit2 done */
};

enum compress_kind compress_kind_of(const char *path)
{
	size_t len = strlen(path);

	if (len > 4 && strcmp(path + len - 4, ".zst") == 0)
		return COMPRESS_ZSTD;
	if (len > 3 && strcmp(path + len - 3, ".gz") == 0)
		return COMPRESS_GZIP;
	return COMPRESS_NONE;
}

const char *compress_kind_name(enum compress_kind kind)
{
	return kind == COMPRESS_ZSTD ? "zstd" : kind == COMPRESS_GZIP ? "gzip"
								      : "none";
}

unsigned compress_workers(unsigned threads)
{
	long online;

	if (threads == 0) {
		online = sysconf(_SC_NPROCESSORS_ONLN);
		threads = online > 0 ? (unsigned)online : 1;
	}
	return threads > MKR2SIMG_THREADS_MAX ? MKR2SIMG_THREADS_MAX : threads;
}

/* Writes `len` bytes of `c->out` at the end of the stream. */
static int drain(struct compressor *c, size_t len, struct mk_err *e)
{
	int err = mk_pwrite_all(c->fd, c->out, len, c->written);

	if (err)
		return mk_fail_errno(e, err, "%s: cannot write", c->shown);
	c->written += len;
	return 0;
}

/* ---- gzip --------------------------------------------------------- */

static int gzip_start(struct compressor *c, struct mk_err *e)
{
	gz_header *h = &c->gz_head;

	memset(h, 0, sizeof(*h)); /* time 0, no name, comment or extra */
	h->os = COMPRESS_GZIP_OS_UNIX;
	if (deflateInit2(&c->gz, COMPRESS_GZIP_LEVEL, Z_DEFLATED,
			 GZIP_WINDOW_BITS, GZIP_MEM_LEVEL,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return mk_fail(e, "%s: gzip: cannot start zlib", c->shown);
	c->gz_live = 1;
	if (deflateSetHeader(&c->gz, h) != Z_OK)
		return mk_fail(e, "%s: gzip: cannot set the header", c->shown);
	return 0;
}

/* Feeds `len` bytes (at most ZERO_CHUNK, so they fit zlib's uInt), or
 * with Z_FINISH ends the stream. */
static int gzip_feed(struct compressor *c, const void *buf, size_t len,
		     int flush, struct mk_err *e)
{
	int r;

	c->gz.next_in = (Bytef *)buf;
	c->gz.avail_in = (uInt)len;
	do {
		c->gz.next_out = c->out;
		c->gz.avail_out = OUT_CHUNK;
		r = deflate(&c->gz, flush);
		if (r == Z_STREAM_ERROR)
			return mk_fail(e, "%s: gzip: zlib failed", c->shown);
		if (OUT_CHUNK - c->gz.avail_out &&
		    drain(c, OUT_CHUNK - c->gz.avail_out, e))
			return -1;
	} while (flush == Z_FINISH ? r != Z_STREAM_END
				   : c->gz.avail_in || !c->gz.avail_out);
	return 0;
}

/* ---- the stream --------------------------------------------------- */

static int feed(struct compressor *c, const void *buf, size_t len,
		struct mk_err *e)
{
	const uint8_t *p = buf;

	while (len) {
		size_t n = len < ZERO_CHUNK ? len : ZERO_CHUNK;

		if (gzip_feed(c, p, n, Z_NO_FLUSH, e))
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int on_data(void *ctx, uint64_t off, const void *buf, size_t len,
		   struct mk_err *e)
{
	(void)off;
	return feed(ctx, buf, len, e);
}

static int on_hole(void *ctx, uint64_t off, uint64_t len, struct mk_err *e)
{
	struct compressor *c = ctx;

	(void)off;
	while (len) {
		size_t n = len < ZERO_CHUNK ? (size_t)len : ZERO_CHUNK;

		if (feed(c, c->zeros, n, e))
			return -1;
		len -= n;
	}
	return 0;
}

struct ranges_sink compress_sink(struct compressor *c)
{
	struct ranges_sink s = { on_data, on_hole, c };

	return s;
}

int compress_start(struct compressor **cp, int fd, const char *shown,
		   struct mk_err *e)
{
	struct compressor *c = calloc(1, sizeof(*c));

	*cp = NULL;
	if (!c || !(c->out = malloc(OUT_CHUNK)) ||
	    !(c->zeros = calloc(1, ZERO_CHUNK))) {
		compress_free(c);
		return mk_fail(e, "out of memory");
	}
	c->fd = fd;
	c->shown = shown;
	if (gzip_start(c, e)) {
		compress_free(c);
		return -1;
	}
	*cp = c;
	return 0;
}

int compress_finish(struct compressor *c, uint64_t *bytes, struct mk_err *e)
{
	int rc = gzip_feed(c, NULL, 0, Z_FINISH, e);

	*bytes = c->written;
	return rc;
}

void compress_free(struct compressor *c)
{
	if (!c)
		return;
	if (c->gz_live)
		deflateEnd(&c->gz);
	free(c->out);
	free(c->zeros);
	free(c);
}
