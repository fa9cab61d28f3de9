/*
 * imgread.h - an image opened for reading, whatever its form.
 *
 * Owns: telling a plain image (a file or a card's block device) from a
 * zstd or gzip stream by its first bytes (never by its name), and
 * turning a compressed one into plain bytes: decompressed into an
 * unnamed temporary file (O_TMPFILE in $TMPDIR, default /tmp) of which
 * only the non-zero 4 KiB blocks are written, so it stays sparse and
 * costs what the image's data costs; gone when closed, however the
 * process ends.  The caller gets one descriptor and one name that
 * libext2fs can open ("/proc/self/fd/N").  Does not own: what the bytes
 * mean (inspect.c and others read them).
 *
 * Use:
 *     struct mk_imgread r;
 *     if (imgread_open(&r, path, &e)) ...report e.msg...
 *     imgread_pread(&r, buf, len, offset, &e);  or ext2fs_open(r.fd_path)
 *     imgread_close(&r);
 */
#ifndef MK_IMGREAD_H
#define MK_IMGREAD_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define IMGREAD_BLOCK 4096u /* the granularity of the sparse copy */

enum imgread_form {
	IMGREAD_PLAIN,
	IMGREAD_ZSTD,
	IMGREAD_GZIP,
};

struct mk_imgread {
	const char *path;       /* as given, for messages */
	enum imgread_form form; /* what the file held */
	int fd;                 /* the plain bytes: the file itself, or the
				   decompressed temporary */
	char fd_path[32];       /* "/proc/self/fd/N" of fd */
	uint64_t size;          /* bytes of the plain image */
};

/*
 * Opens `path` (a regular file or a block device) and, when it holds a
 * zstd or gzip stream, decompresses it.  0, or -1 with one line naming
 * the file: unreadable, empty, compressed in a form it cannot read (xz,
 * bzip2), a stream that is damaged or ends early.  Nothing is left open
 * or behind on failure.
 */
int imgread_open(struct mk_imgread *r, const char *path, struct mk_err *e);

/* "plain", "zstd", "gzip". */
const char *imgread_form_name(enum imgread_form form);

/*
 * Reads exactly `len` bytes at `offset` of the plain image; 0, or -1
 * naming the file when they are not all there (past the end included).
 */
int imgread_pread(const struct mk_imgread *r, void *buf, size_t len,
		  uint64_t offset, struct mk_err *e);

/* Closes what imgread_open opened (the temporary disappears with it). */
void imgread_close(struct mk_imgread *r);

#endif
