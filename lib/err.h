/*
 * err.h - how library functions report failure, and the one return
 * convention of lib/.
 *
 * Owns: the error buffer threaded through every call and the helpers
 * that fill it: one line, control characters escaped (\n, \t, \xNN;
 * escaping twice changes nothing, so a message may quote another),
 * and a message too long for the buffer shortened in the middle of its
 * longest word (a path) so that the reason at its end survives; and the
 * list of differences a comparison reports, each line written the same
 * way.  Does not own: printing (the caller prints the message).
 *
 * Return conventions, one per kind of function:
 *  - int f(..., struct mk_err *e): 0 on success; -1 on failure, with one
 *    line in `e` naming what is wrong.  Never 1: write `a() || b()` as
 *    `if (a() || b()) return -1;`.
 *  - T *f(...): a pointer, or NULL only when out of memory.
 *  - errcode_t f(...) (libext2fs callbacks, dataio.c): 0 or an
 *    EXT2_ET_* code, turned into a message by the caller.
 *  - int f(...) helpers named *_errno / mk_pwrite_all: 0 or an errno.
 *  - predicates (is_*, mk_is_zero): 0 or 1.
 *  - comparisons (verify.c, treecmp.c, gpt_compare): 0, each difference
 *    found reported through a struct mk_diffs (counted, so the caller
 *    knows whether there were any), or -1 with `e` set when the
 *    comparison itself cannot go on (an input unreadable, out of
 *    memory).  A difference is never an error.
 *  - mkr2simg_verify (the public entry): 0 equal, 1 differences, -1
 *    error, as diff(1) and cmp(1) answer.
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

/* Differences found by a comparison: `line` gets each one as one line
 * (escaped and shortened as mk_fail's messages); `count` counts them. */
struct mk_diffs {
	void (*line)(void *user, const char *line);
	void *user;
	unsigned long long count;
};

/* Formats and reports one difference. */
void mk_diff(struct mk_diffs *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Copies `text` into `out` (`size` bytes) as mk_fail stores a message:
 * escaped, and shortened in the middle of its longest word to fit. */
void mk_err_fit(const char *text, char *out, size_t size);

#endif
