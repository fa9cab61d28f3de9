/*
 * imgfile.h - the image file as it is written.
 *
 * Owns: the one way bytes reach the image file while it is being
 * written (the partition table, the raw area, file data, and everything
 * libext2fs writes through dataio.c), so that whoever needs to know
 * which bytes changed, and when, is told of every change after it has
 * landed in the file.  Does not own: what is written (image.c,
 * ext4fs.c), or what the watcher makes of it (zpipe.c).
 */
#ifndef MK_IMGFILE_H
#define MK_IMGFILE_H

#include <stddef.h>
#include <stdint.h>

struct imgfile {
	int fd;
	/* Told, after the bytes [off, off + len) of the file have changed
	 * (pwrite returned, or ftruncate did), that they have; NULL: no
	 * one watches. */
	void (*landed)(void *ctx, uint64_t off, uint64_t len);
	void *ctx;
};

/* An image file nobody watches. */
static inline struct imgfile imgfile_plain(int fd)
{
	struct imgfile f = { fd, NULL, NULL };

	return f;
}

/* Writes all `len` bytes at `off`.  0 or an errno. */
int imgfile_pwrite(const struct imgfile *f, const void *buf, size_t len,
		   uint64_t off);

/* Sets the file's size to `size` (growing it with a hole).  0 or an
 * errno. */
int imgfile_truncate(const struct imgfile *f, uint64_t size);

#endif
