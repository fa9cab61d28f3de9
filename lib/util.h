/*
 * util.h - small helpers every module needs.
 *
 * Owns: whole-file reading, string and path helpers, alignment
 * arithmetic and size parsing.  Does not own anything format-specific.
 */
#ifndef MK_UTIL_H
#define MK_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

struct mk_buf {
	char *data; /* NUL-terminated for convenience; len excludes it */
	size_t len;
};

/* Inputs read whole are at most this big unless said otherwise. */
#define MK_READ_MAX (64ull << 20)

/* Reads the whole file (or stdin for "-", which may be a pipe) into
 * `out`: a regular file of at most `max` bytes, else an error naming it
 * (a fifo, device or endless input is refused, never waited on). */
int mk_read_max(const char *path, uint64_t max, struct mk_buf *out,
		struct mk_err *e);

/* mk_read_max with MK_READ_MAX. */
int mk_read_all(const char *path, struct mk_buf *out, struct mk_err *e);

/* Opens `name` (relative to directory `at`, or AT_FDCWD) for reading
 * only if it is a regular file, never following a symlink nor waiting on
 * a fifo; -1 with an error naming it as `shown` otherwise. */
int mk_open_regular(int at, const char *name, const char *shown,
		    struct mk_err *e);

/* The value of hex digit `c` (either case), or -1. */
int mk_hex_value(char c);

/* Reads `digits`, one or more hex digits and nothing else (no "0x"),
 * into *out.  0, or -1 when it is not such a number or past 64 bits. */
int mk_parse_hex(const char *digits, uint64_t *out);

/* "regular file", "fifo", "character device", ... for a st_mode. */
const char *mk_file_kind(mode_t mode);

char *mk_strndup(const char *s, size_t n);

/* Makes room for one more element in a growable array of `count`
 * elements of `size` bytes (capacity doubles).  0, or -1 when out of
 * memory (the array is then unchanged). */
int mk_grow(void *array_ptr, size_t *cap, size_t count, size_t size);

/* Returns malloc'd "a/b" (one slash between), or NULL when out of memory. */
char *mk_path_join(const char *a, const char *b);

static inline uint64_t mk_align_up(uint64_t v, uint64_t align)
{
	return (v + align - 1) / align * align;
}

static inline uint64_t mk_div_ceil(uint64_t v, uint64_t d)
{
	return (v + d - 1) / d;
}

/* `bytes` as a size argument reads it back: "512M", "3G", "4097" (the
 * largest unit that divides it exactly).  Returns `buf`. */
#define MK_SIZE_TEXT_MAX 32
const char *mk_size_text(uint64_t bytes, char buf[MK_SIZE_TEXT_MAX]);

/* Nonzero when `len` bytes at `p` are all zero. */
int mk_is_zero(const void *p, size_t len);

/* pwrite() all of `len` bytes, retrying short writes. 0 or errno. */
int mk_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);

/* read() up to `len` bytes, retrying short reads; returns bytes or -1. */
long mk_read_full(int fd, void *buf, size_t len);

#endif
