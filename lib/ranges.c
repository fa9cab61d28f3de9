#include "ranges.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "util.h"

struct reader {
	int fd;
	uint64_t size;
	const char *shown;
	const struct ranges_sink *sinks;
	size_t n;
	char *buf;
};

static int give_hole(struct reader *r, uint64_t off, uint64_t len,
		     struct mk_err *e)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->sinks[i].hole(r->sinks[i].ctx, off, len, e))
			return -1;
	return 0;
}

static int give_data(struct reader *r, uint64_t off, uint64_t end,
		     struct mk_err *e)
{
	size_t i;

	while (off < end) {
		size_t len = end - off < RANGES_CHUNK ? (size_t)(end - off)
						      : RANGES_CHUNK;
		ssize_t got = pread(r->fd, r->buf, len, (off_t)off);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return mk_fail_errno(e, errno, "%s: cannot read the "
					     "image back", r->shown);
		if (got == 0)
			return mk_fail(e, "%s: the image ends at %llu bytes, "
				       "not %llu", r->shown,
				       (unsigned long long)off,
				       (unsigned long long)r->size);
		for (i = 0; i < r->n; i++)
			if (r->sinks[i].data(r->sinks[i].ctx, off, r->buf,
					     (size_t)got, e))
				return -1;
		off += (uint64_t)got;
	}
	return 0;
}

/* The next data range at or after `pos` as [*start, *end), widened to
 * whole blocks (*start never before `pos`); *start == size: none. */
static int next_range(struct reader *r, uint64_t pos, uint64_t *start,
		      uint64_t *end, struct mk_err *e)
{
	off_t d = lseek(r->fd, (off_t)pos, SEEK_DATA), h;

	if (d < 0 && errno == ENXIO) {
		*start = *end = r->size;
		return 0;
	}
	if (d < 0 || (h = lseek(r->fd, d, SEEK_HOLE)) < 0)
		return mk_fail_errno(e, errno, "%s: cannot find the image's "
				     "data", r->shown);
	*start = (uint64_t)d / RANGES_BLOCK * RANGES_BLOCK;
	if (*start < pos)
		*start = pos;
	if (*start > r->size)
		*start = r->size;
	*end = mk_align_up((uint64_t)h, RANGES_BLOCK);
	if (*end > r->size)
		*end = r->size;
	return 0;
}

int ranges_read(int fd, uint64_t size, const char *shown,
		const struct ranges_sink *sinks, size_t n, struct mk_err *e)
{
	struct reader r = { fd, size, shown, sinks, n, malloc(RANGES_CHUNK) };
	uint64_t pos = 0, start = 0, end = 0;
	int rc = 0;

	if (!r.buf)
		return mk_fail(e, "out of memory");
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	while (rc == 0 && pos < size) {
		rc = next_range(&r, pos, &start, &end, e);
		if (rc == 0 && start > pos)
			rc = give_hole(&r, pos, start - pos, e);
		if (rc == 0 && end > start)
			rc = give_data(&r, start, end, e);
		pos = end > start ? end : start;
	}
	free(r.buf);
	return rc;
}
