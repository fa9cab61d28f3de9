#include "imgread.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "util.h"

#define IN_CHUNK (1u << 20)
#define OUT_CHUNK (1u << 20)
#define DEFAULT_TMPDIR "/tmp"
#define TEMP_NAME "/mkr2simg-XXXXXX"
#define GZIP_WINDOW (16 + MAX_WBITS) /* zlib: gzip wrapper only */
#define MAGIC_MAX 6

_Static_assert(OUT_CHUNK % IMGREAD_BLOCK == 0, "whole blocks per chunk");

/* The first bytes of each stream (RFC 8878 3.1.1, RFC 1952 2.3.1, the
 * xz and bzip2 file formats). */
static const struct {
	uint8_t bytes[MAGIC_MAX];
	size_t len;
	const char *name;
	int form; /* enum imgread_form, or -1: known but not read */
} magics[] = {
	{ { 0x28, 0xB5, 0x2F, 0xFD }, 4, "zstd", IMGREAD_ZSTD },
	{ { 0x1F, 0x8B }, 2, "gzip", IMGREAD_GZIP },
	{ { 0xFD, '7', 'z', 'X', 'Z', 0x00 }, 6, "xz", -1 },
	{ { 'B', 'Z', 'h' }, 3, "bzip2", -1 },
};

/* Decompressed bytes on their way to the sparse temporary. */
struct sink {
	const struct mk_imgread *r;
	const char *dir;  /* $TMPDIR, for messages */
	uint8_t *buf;     /* OUT_CHUNK bytes */
	size_t fill;      /* bytes in buf */
	uint64_t at;      /* image offset of buf[0] */
};

const char *imgread_form_name(enum imgread_form form)
{
	switch (form) {
	case IMGREAD_ZSTD: return "zstd";
	case IMGREAD_GZIP: return "gzip";
	default: return "plain";
	}
}

static const char *temp_dir(void)
{
	const char *dir = getenv("TMPDIR");

	return dir && *dir ? dir : DEFAULT_TMPDIR;
}

/* An unnamed file in $TMPDIR; where it has no O_TMPFILE, a named one
 * removed at once. */
static int open_temp(struct mk_imgread *r, const char *dir, struct mk_err *e)
{
	char *name;

	r->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (r->fd >= 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		goto fail;
	if (asprintf(&name, "%s" TEMP_NAME, dir) < 0)
		return mk_fail(e, "out of memory");
	r->fd = mkostemp(name, O_CLOEXEC);
	if (r->fd >= 0)
		unlink(name);
	free(name);
	if (r->fd >= 0)
		return 0;
fail:
	return mk_fail_errno(e, errno, "%s: cannot make a file in %s to "
			     "decompress it into (TMPDIR)", r->path, dir);
}

/* Writes the non-zero blocks of the buffer; holes stay holes. */
static int sink_flush(struct sink *s, struct mk_err *e)
{
	for (size_t off = 0; off < s->fill; off += IMGREAD_BLOCK) {
		size_t n = s->fill - off < IMGREAD_BLOCK ? s->fill - off
							 : IMGREAD_BLOCK;
		int err;

		if (mk_is_zero(s->buf + off, n))
			continue;
		err = mk_pwrite_all(s->r->fd, s->buf + off, n, s->at + off);
		if (err)
			return mk_fail_errno(e, err, "%s: cannot write the "
					     "decompressed image to %s (TMPDIR)",
					     s->r->path, s->dir);
	}
	s->at += s->fill;
	s->fill = 0;
	return 0;
}

static long read_input(int fd, uint8_t *buf, const char *path,
		       struct mk_err *e)
{
	long n = mk_read_full(fd, buf, IN_CHUNK);

	if (n < 0)
		mk_fail_errno(e, errno, "%s: cannot read", path);
	return n;
}

static int unzstd(int in, uint8_t *ibuf, struct sink *s, struct mk_err *e)
{
	ZSTD_DStream *z = ZSTD_createDStream();
	int rc = -1, full = 0, eof = 0, frame_done = 0;

	if (!z)
		return mk_fail(e, "out of memory");
	while (!eof) {
		long n = read_input(in, ibuf, s->r->path, e);
		ZSTD_inBuffer ib = { ibuf, n > 0 ? (size_t)n : 0, 0 };

		if (n < 0)
			goto out;
		eof = n == 0;
		while (ib.pos < ib.size || full) {
			ZSTD_outBuffer ob = { s->buf + s->fill,
					      OUT_CHUNK - s->fill, 0 };
			size_t before = ib.pos, ret;

			ret = ZSTD_decompressStream(z, &ob, &ib);
			if (ZSTD_isError(ret)) {
				mk_fail(e, "%s: damaged zstd stream (%s)",
					s->r->path, ZSTD_getErrorName(ret));
				goto out;
			}
			/* 0: a frame ends, all flushed; input read after it
			 * starts the next one. */
			if (ret == 0)
				frame_done = 1;
			else if (ib.pos > before)
				frame_done = 0;
			s->fill += ob.pos;
			full = ob.pos == ob.size;
			if (s->fill == OUT_CHUNK && sink_flush(s, e))
				goto out;
		}
	}
	if (!frame_done)
		mk_fail(e, "%s: the zstd stream ends early (a truncated file?)",
			s->r->path);
	else
		rc = 0;
out:
	ZSTD_freeDStream(z);
	return rc;
}

/* One inflate step into the sink; Z_* status, or -1 after a message. */
static int inflate_step(z_stream *z, struct sink *s, int *full,
			struct mk_err *e)
{
	int status;

	z->next_out = s->buf + s->fill;
	z->avail_out = (uInt)(OUT_CHUNK - s->fill);
	status = inflate(z, Z_NO_FLUSH);
	s->fill = OUT_CHUNK - z->avail_out;
	*full = z->avail_out == 0;
	if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR)
		return mk_fail(e, "%s: damaged gzip stream (%s)", s->r->path,
			       z->msg ? z->msg : "inflate failed");
	if (s->fill == OUT_CHUNK && sink_flush(s, e))
		return -1;
	return status;
}

/* gzip members one after another, as gzip -d reads them. */
static int ungzip(int in, uint8_t *ibuf, struct sink *s, struct mk_err *e)
{
	z_stream z;
	int rc = -1, in_member = 1, full = 0, status, eof = 0;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, GZIP_WINDOW) != Z_OK)
		return mk_fail(e, "out of memory");
	while (!eof) {
		long n = read_input(in, ibuf, s->r->path, e);

		if (n < 0)
			goto out;
		eof = n == 0;
		z.next_in = ibuf;
		z.avail_in = (uInt)n;
		while (z.avail_in > 0 || full) {
			if (!in_member) {
				if (z.avail_in == 0)
					break;
				inflateReset(&z);
				in_member = 1;
			}
			status = inflate_step(&z, s, &full, e);
			if (status < 0)
				goto out;
			if (status == Z_STREAM_END)
				in_member = 0;
			else if (status == Z_BUF_ERROR && !full)
				break;
		}
	}
	if (in_member)
		mk_fail(e, "%s: the gzip stream ends early (a truncated file?)",
			s->r->path);
	else
		rc = 0;
out:
	inflateEnd(&z);
	return rc;
}

static int decompress(struct mk_imgread *r, int in, struct mk_err *e)
{
	struct sink s = { r, temp_dir(), malloc(OUT_CHUNK), 0, 0 };
	uint8_t *ibuf = malloc(IN_CHUNK);
	int rc = -1;

	if (!s.buf || !ibuf)
		mk_fail(e, "out of memory");
	else if (open_temp(r, s.dir, e) == 0)
		rc = r->form == IMGREAD_ZSTD ? unzstd(in, ibuf, &s, e)
					     : ungzip(in, ibuf, &s, e);
	if (rc == 0)
		rc = sink_flush(&s, e);
	if (rc == 0 && ftruncate(r->fd, (off_t)s.at) != 0)
		rc = mk_fail_errno(e, errno, "%s: cannot write the decompressed "
				   "image to %s (TMPDIR)", r->path, s.dir);
	r->size = s.at;
	free(s.buf);
	free(ibuf);
	return rc;
}

/* Which form the first bytes say; -1 after a message when unreadable. */
static int detect(struct mk_imgread *r, int fd, struct mk_err *e)
{
	uint8_t head[MAGIC_MAX] = { 0 };
	ssize_t n = pread(fd, head, sizeof(head), 0);

	if (n < 0)
		return mk_fail_errno(e, errno, "%s: cannot read", r->path);
	for (size_t i = 0; i < sizeof(magics) / sizeof(*magics); i++) {
		if ((size_t)n < magics[i].len ||
		    memcmp(head, magics[i].bytes, magics[i].len) != 0)
			continue;
		if (magics[i].form < 0)
			return mk_fail(e, "%s: compressed with %s, which mkr2simg "
				       "does not read; decompress it first, or "
				       "use zstd or gzip", r->path,
				       magics[i].name);
		r->form = (enum imgread_form)magics[i].form;
		return 0;
	}
	r->form = IMGREAD_PLAIN;
	return 0;
}

static int open_input(struct mk_imgread *r, uint64_t *size, struct mk_err *e)
{
	struct stat st;
	off_t end;
	int fd = open(r->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return mk_fail_errno(e, errno, "%s", r->path);
	if (fstat(fd, &st) != 0) {
		mk_fail_errno(e, errno, "%s", r->path);
	} else if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		mk_fail(e, "%s: is a %s, not an image file or a card's block "
			"device", r->path, mk_file_kind(st.st_mode));
	} else if ((end = lseek(fd, 0, SEEK_END)) < 0 ||
		   lseek(fd, 0, SEEK_SET) != 0) {
		mk_fail_errno(e, errno, "%s: cannot read", r->path);
	} else if (end == 0) {
		mk_fail(e, "%s: is empty", r->path);
	} else {
		*size = (uint64_t)end;
		return fd;
	}
	close(fd);
	return -1;
}

int imgread_open(struct mk_imgread *r, const char *path, struct mk_err *e)
{
	uint64_t size = 0;
	int in;

	memset(r, 0, sizeof(*r));
	r->path = path;
	r->fd = -1;
	in = open_input(r, &size, e);
	if (in < 0)
		return -1;
	if (detect(r, in, e)) {
		close(in);
		return -1;
	}
	if (r->form == IMGREAD_PLAIN) {
		r->fd = in;
		r->size = size;
	} else {
		int rc = decompress(r, in, e);

		close(in);
		if (rc) {
			imgread_close(r);
			return -1;
		}
	}
	snprintf(r->fd_path, sizeof(r->fd_path), "/proc/self/fd/%d", r->fd);
	return 0;
}

int imgread_pread(const struct mk_imgread *r, void *buf, size_t len,
		  uint64_t offset, struct mk_err *e)
{
	size_t done = 0;

	if (offset > r->size || len > r->size - offset)
		return mk_fail(e, "%s: the image ends at byte %llu, before the "
			       "%zu bytes at %llu", r->path,
			       (unsigned long long)r->size, len,
			       (unsigned long long)offset);
	while (done < len) {
		ssize_t n = pread(r->fd, (uint8_t *)buf + done, len - done,
				  (off_t)(offset + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? mk_fail_errno(e, errno, "%s: cannot read",
						     r->path)
				     : mk_fail(e, "%s: shrank while being read",
					       r->path);
		done += (size_t)n;
	}
	return 0;
}

void imgread_close(struct mk_imgread *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->fd_path[0] = '\0';
}
