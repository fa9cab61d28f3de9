/*
 * output.h - the image file: what OUTPUT may be, and writing it so that
 * no run, however it ends, leaves anything half-written behind.
 *
 * Owns: refusing an OUTPUT that is not a new name or an existing regular
 * file in a writable folder, or that is one of the inputs, before any
 * work; writing to an unnamed file in OUTPUT's folder (O_TMPFILE) that
 * gets its name only when complete (fsync of the file, link or rename
 * into place, fsync of the folder), so even `kill -9` leaves nothing;
 * where the folder's filesystem has no O_TMPFILE, a named temporary
 * (.mkr2simg-*) locked while in use, whose stale copies from killed runs
 * the next run removes.  Does not own: what is written (image.c) or
 * signals (the caller's; see the tempfile callback).
 */
#ifndef MK_OUTPUT_H
#define MK_OUTPUT_H

#include <stddef.h>

#include "err.h"

#define OUTPUT_TEMP_PREFIX ".mkr2simg-"
#define OUTPUT_MODE 0644

struct mk_output {
	const char *path;   /* OUTPUT as given */
	char *dir, *base;   /* its folder and name */
	int dir_fd;         /* the folder, open */
	int fd;             /* the file being written */
	char *temp;         /* named temporary in the folder, or NULL */
	char fd_path[32];   /* "/proc/self/fd/N": the file by name, for
			       whoever opens it again (libext2fs) */
	void (*tempfile)(void *user, const char *path); /* see mkr2simg.h */
	void *user;
};

/* Flags of output_open. */
#define OUTPUT_NO_TMPFILE 1 /* use a named temporary (tests the fallback) */

/*
 * Checks that `path` can become the image: an existing regular file or a
 * new name, in an existing folder, and none of the `ninputs` input files
 * (NULL entries and "-" are skipped).  0, or -1 with one line.
 */
int output_check(const char *path, const char *const *inputs, size_t ninputs,
		 struct mk_err *e);

/* Creates the file to write (out->fd) in `path`'s folder; removes stale
 * temporaries of killed runs first. */
int output_open(struct mk_output *out, const char *path, int flags,
		void (*tempfile)(void *user, const char *path), void *user,
		struct mk_err *e);

/* Makes the finished file OUTPUT: fsync, mode 0644, into place, fsync of
 * the folder.  After it the output is no longer discarded. */
int output_publish(struct mk_output *out, struct mk_err *e);

/* Removes what output_open made (nothing once published); frees. */
void output_discard(struct mk_output *out);

#endif
