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
 * the next run removes; the same for a second file published beside it
 * (the bmap), and scratch files that never get a name (the plain image
 * of a compressed OUTPUT).  Does not own: what is written (image.c,
 * deliver.c) or signals (the caller's; see the tempfile callback).
 */
#ifndef MK_OUTPUT_H
#define MK_OUTPUT_H

#include <stddef.h>

#include "err.h"

#define OUTPUT_TEMP_PREFIX ".mkr2simg-"
#define OUTPUT_MODE 0644

/* What a file is called in messages. */
struct output_role {
	const char *option; /* "OUTPUT", "--bmap" */
	const char *noun;   /* "image", "bmap" */
};
extern const struct output_role output_image, output_bmap;

struct mk_output {
	const char *path;   /* OUTPUT as given */
	const struct output_role *role;
	int published;      /* has its name (output_publish) */
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

/* output_check for a file of another `role`. */
int output_check_as(const char *path, const struct output_role *role,
		    const char *const *inputs, size_t ninputs, struct mk_err *e);

/* Refuses `path` (of `role`) when it names the same file as `other`
 * (of `other_role`), existing or to be made. */
int output_check_distinct(const char *path, const struct output_role *role,
			  const char *other,
			  const struct output_role *other_role,
			  struct mk_err *e);

/* Creates the file to write (out->fd) in `path`'s folder; removes stale
 * temporaries of killed runs first. */
int output_open(struct mk_output *out, const char *path, int flags,
		void (*tempfile)(void *user, const char *path), void *user,
		struct mk_err *e);

/* output_open for a file of another `role`. */
int output_open_as(struct mk_output *out, const char *path,
		   const struct output_role *role, int flags,
		   void (*tempfile)(void *user, const char *path), void *user,
		   struct mk_err *e);

/* A file that never gets a name, in the folder of `beside` (open): an
 * unnamed file, or a temporary removed at once where the folder has no
 * O_TMPFILE.  Messages name beside->path.  output_discard closes it. */
int output_open_scratch(struct mk_output *out, const struct mk_output *beside,
			struct mk_err *e);

/* Tells the tempfile callback about out's named temporary again (after
 * another file's came and went: the callback holds one). */
void output_announce(const struct mk_output *out);

/* Removes the name a publish gave, when a file published with it
 * fails after all. */
void output_unpublish(struct mk_output *out);

/* Makes the finished file OUTPUT: fsync, mode 0644, into place, fsync of
 * the folder.  After it the output is no longer discarded. */
int output_publish(struct mk_output *out, struct mk_err *e);

/* Removes what output_open made (nothing once published); frees. */
void output_discard(struct mk_output *out);

#endif
