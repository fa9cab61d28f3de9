#include "imgfile.h"

#include <errno.h>
#include <sys/types.h>
#include <unistd.h>

#include "util.h"

int imgfile_pwrite(const struct imgfile *f, const void *buf, size_t len,
		   uint64_t off)
{
	int err = mk_pwrite_all(f->fd, buf, len, off);

	/* Told even after a failure: part of it may have landed. */
	if (f->landed && len)
		f->landed(f->ctx, off, len);
	return err;
}

int imgfile_truncate(const struct imgfile *f, uint64_t size)
{
	off_t old = lseek(f->fd, 0, SEEK_END);
	int err = ftruncate(f->fd, (off_t)size) == 0 ? 0 : errno;

	if (f->landed && old >= 0 && (uint64_t)old != size)
		f->landed(f->ctx, (uint64_t)old < size ? (uint64_t)old : size,
			  (uint64_t)old < size ? size - (uint64_t)old
					       : (uint64_t)old - size);
	return err;
}
