#include "deliver.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bmap.h"
#include "ranges.h"
#include "util.h"

static void unused(struct mk_output *out)
{
	memset(out, 0, sizeof(*out));
	out->fd = out->dir_fd = -1;
}

void deliver_init(struct deliver *d, const struct mkr2simg_options *o)
{
	memset(d, 0, sizeof(*d));
	d->o = o;
	d->kind = o->output ? compress_kind_of(o->output) : COMPRESS_NONE;
	unused(&d->image);
	unused(&d->packed);
	unused(&d->bmap);
}

int deliver_check(const struct deliver *d, const char *const *inputs,
		  size_t n, struct mk_err *e)
{
	const char *bmap = d->o->bmap;

	if (output_check(d->o->output, inputs, n, e))
		return -1;
	if (!bmap)
		return 0;
	return output_check_as(bmap, &output_bmap, inputs, n, e) ||
			       output_check_distinct(bmap, &output_bmap,
						     d->o->output, &output_image, e)
		       ? -1 : 0;
}

int deliver_open(struct deliver *d, struct mk_err *e)
{
	const struct mkr2simg_options *o = d->o;

	if (d->kind == COMPRESS_NONE) {
		if (output_open(&d->image, o->output, 0, o->tempfile, o->user,
				e))
			return -1;
	} else if (output_open(&d->packed, o->output, 0, o->tempfile,
			       o->user, e) ||
		   output_open_scratch(&d->image, &d->packed, 0, e)) {
		return -1;
	}
	d->img = imgfile_plain(d->image.fd);
	return 0;
}

unsigned deliver_workers(const struct deliver *d)
{
	unsigned n = compress_workers(d->o->threads);

	if (d->kind != COMPRESS_ZSTD)
		return 0;
	return n < ZPIPE_WORKERS_MAX ? n : ZPIPE_WORKERS_MAX;
}

int deliver_start(struct deliver *d, uint64_t size, struct mk_err *e)
{
	if (d->kind != COMPRESS_ZSTD)
		return 0;
	if (zpipe_start(&d->zpipe, d->image.fd, d->packed.fd, d->o->output,
			size, deliver_workers(d), 0, e))
		return -1;
	d->img.landed = zpipe_landed;
	d->img.ctx = d->zpipe;
	return 0;
}

void deliver_settled(struct deliver *d, uint64_t below)
{
	if (d->zpipe)
		zpipe_settled(d->zpipe, below);
}

static struct mk_output *final(struct deliver *d)
{
	return d->kind == COMPRESS_NONE ? &d->image : &d->packed;
}

static int write_bmap(struct deliver *d, const char *text, size_t len,
		      struct mk_err *e)
{
	const struct mkr2simg_options *o = d->o;
	int err;

	if (output_open_as(&d->bmap, o->bmap, &output_bmap, 0, o->tempfile,
			   o->user, e))
		return -1;
	err = mk_pwrite_all(d->bmap.fd, text, len, 0);
	if (err)
		return mk_fail_errno(e, err, "%s: cannot write", o->bmap);
	if (output_publish(&d->bmap, e))
		return -1;
	output_announce(final(d)); /* the callback holds one name */
	return 0;
}

/* The one read of the image: into the gzip stream, the bmap, or both. */
static int read_back(struct deliver *d, uint64_t size, struct compressor *c,
		     struct bmap *bm, struct mk_err *e)
{
	struct ranges_sink sinks[2];
	size_t n = 0;

	if (c)
		sinks[n++] = compress_sink(c);
	if (bm)
		sinks[n++] = bmap_sink(bm);
	return n ? ranges_read(d->image.fd, size, d->o->output, sinks, n, e)
		 : 0;
}

static int produce(struct deliver *d, uint64_t size, struct compressor **c,
		   struct bmap **bm, struct deliver_stats *st, struct mk_err *e)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (d->zpipe && zpipe_finish(d->zpipe, &st->output_bytes, &st->zstd, e))
		return -1;
	if (d->kind == COMPRESS_GZIP &&
	    compress_start(c, d->packed.fd, d->o->output, e))
		return -1;
	if (d->o->bmap && !(*bm = bmap_new(size)))
		return mk_fail(e, "out of memory");
	if (read_back(d, size, *c, *bm, e) ||
	    (*c && compress_finish(*c, &st->output_bytes, e)))
		return -1;
	if (!*bm)
		return 0;
	rc = bmap_text(*bm, &text, &len, e);
	st->mapped_bytes = bmap_mapped_blocks(*bm) * RANGES_BLOCK;
	if (rc == 0)
		rc = write_bmap(d, text, len, e);
	free(text);
	return rc;
}

int deliver_finish(struct deliver *d, uint64_t size, struct deliver_stats *st,
		   struct mk_err *e)
{
	struct compressor *c = NULL;
	struct bmap *bm = NULL;
	int rc;

	memset(st, 0, sizeof(*st));
	st->output_bytes = size;
	rc = produce(d, size, &c, &bm, st, e);
	zpipe_free(d->zpipe);
	d->zpipe = NULL;
	compress_free(c);
	bmap_free(bm);
	/* The scratch image is done with: dropped before OUTPUT's fsync,
	 * whose journal commit would otherwise first write out whatever of
	 * it writeback had already allocated (ext4, data=ordered). */
	if (rc == 0 && d->kind != COMPRESS_NONE)
		(void)!ftruncate(d->image.fd, 0);
	if (rc == 0 && output_publish(final(d), e)) {
		output_unpublish(&d->bmap); /* both or neither */
		rc = -1;
	}
	return rc;
}

void deliver_discard(struct deliver *d)
{
	zpipe_free(d->zpipe);
	d->zpipe = NULL;
	output_discard(&d->bmap);
	output_discard(&d->image);
	output_discard(&d->packed);
}
