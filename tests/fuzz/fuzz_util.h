/*
 * fuzz_util.h - what every libFuzzer harness in tests/fuzz/ shares.
 *
 * Owns: turning fuzz bytes into a real file the library opens by path
 * (a memfd, reached as /proc/self/fd/N, so nothing is written to disk),
 * a C string copy of the input, and the checks every error message must
 * pass (one line, no control characters, names what it is about).  A
 * broken promise aborts, which libFuzzer reports as a crash.  Does not
 * own any target's encoding or oracle (each fuzz_<target>.c does).
 */
#ifndef MK_FUZZ_UTIL_H
#define MK_FUZZ_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "err.h"

/* Prints why and aborts: libFuzzer saves the input as a crash. */
__attribute__((format(printf, 1, 2), noreturn))
static inline void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz: broken promise: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

struct fuzz_file {
	int fd;
	char path[64]; /* "/proc/self/fd/N" */
};

/* A memory-backed regular file, made once per process. */
static inline void fuzz_file_open(struct fuzz_file *f, const char *name)
{
	f->fd = memfd_create(name, MFD_CLOEXEC);
	if (f->fd < 0)
		fuzz_fail("memfd_create: cannot make the input file");
	snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
}

/* Makes the file hold `copies` repeats of `len` bytes at `data`. */
static inline void fuzz_file_set(struct fuzz_file *f, const void *data,
				 size_t len, size_t copies)
{
	size_t i;

	if (ftruncate(f->fd, 0) != 0)
		fuzz_fail("ftruncate of the input file failed");
	for (i = 0; i < copies && len > 0; i++)
		if (pwrite(f->fd, data, len, (off_t)(i * len)) != (ssize_t)len)
			fuzz_fail("pwrite of the input file failed");
}

/* The input as a NUL-terminated string (cut at its first NUL, as a C
 * caller would see it); malloc'd. */
static inline char *fuzz_cstring(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		fuzz_fail("out of memory");
	memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

/* err.h's promise: one line, control characters escaped, not empty;
 * and, when `names` is given, the message contains it. */
static inline void fuzz_check_err(const struct mk_err *e, const char *names)
{
	const unsigned char *p;
	size_t len = strnlen(e->msg, sizeof(e->msg));

	if (len == 0 || len == sizeof(e->msg))
		fuzz_fail("error message empty or not terminated");
	for (p = (const unsigned char *)e->msg; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			fuzz_fail("control byte 0x%02x in error '%s'", *p,
				  e->msg);
	if (names && !strstr(e->msg, names))
		fuzz_fail("error '%s' does not name '%s'", e->msg, names);
}

#endif
