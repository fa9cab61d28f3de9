/*
 * err.h - how library functions report failure.
 *
 * Owns: the error buffer threaded through every call and the helpers
 * that fill it.  Does not own: printing (the caller prints the message).
 * Convention: a function that can fail returns 0 or -1 and, on -1, has
 * written one line into its `struct mk_err` naming what is wrong.
 */
#ifndef MK_ERR_H
#define MK_ERR_H

#include <stddef.h>

#define MK_ERR_MAX 1024

struct mk_err {
	char msg[MK_ERR_MAX];
};

/* Formats the message and returns -1, so `return mk_fail(e, ...);`. */
int mk_fail(struct mk_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* As mk_fail, appending ": " and strerror(errno_value). */
int mk_fail_errno(struct mk_err *e, int errno_value, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
