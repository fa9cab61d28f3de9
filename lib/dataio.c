#include "dataio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One-block reads and writes go through a few cached blocks (as in
 * unix_io, which this channel replaces): an inode table block is read
 * once and written once for its 16 inodes, not once per inode. */
#define CACHE_BLOCKS 8

struct cached {
	char *buf;
	unsigned long long blk;
	unsigned long used;   /* when last used: the least is reused */
	int valid, dirty;
};

struct dio {
	io_channel inner;          /* unix_io's, only closed */
	const struct imgfile *img;
	uint64_t offset;           /* the partition in the image, bytes */
	struct cached cache[CACHE_BLOCKS];
	unsigned long clock;
};

static struct dio *dio_of(io_channel ch)
{
	return ch->private_data;
}

/* Bytes a libext2fs count means: blocks, or (negative) bytes. */
static uint64_t span_bytes(io_channel ch, int count)
{
	return count < 0 ? (uint64_t)-(int64_t)count
			 : (uint64_t)count * (uint64_t)ch->block_size;
}

static errcode_t put(struct dio *d, const void *buf, uint64_t len,
		     uint64_t at)
{
	int err = imgfile_pwrite(d->img, buf, len, d->offset + at);

	return err ? (errcode_t)err : 0;
}

/* Reads `len` bytes at `at`; past the end of the file reads zeros and
 * fails, as unix_io does. */
static errcode_t get(struct dio *d, void *buf, uint64_t len, uint64_t at)
{
	char *p = buf;

	while (len) {
		ssize_t n = pread(d->img->fd, p, len, (off_t)(d->offset + at));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			memset(p, 0, len);
			return n < 0 ? (errcode_t)errno : EXT2_ET_SHORT_READ;
		}
		p += n;
		len -= (uint64_t)n;
		at += (uint64_t)n;
	}
	return 0;
}

/* Writes a cached block that is newer than the file. */
static errcode_t land(io_channel ch, struct cached *c)
{
	if (!c->valid || !c->dirty)
		return 0;
	c->dirty = 0;
	return put(dio_of(ch), c->buf, (uint64_t)ch->block_size,
		   c->blk * (uint64_t)ch->block_size);
}

/* Writes every cached block newer than the file; with `forget`, empties
 * the cache too (before the file changes under it). */
static errcode_t land_all(io_channel ch, int forget)
{
	struct dio *d = dio_of(ch);
	errcode_t err = 0, e;
	int i;

	for (i = 0; i < CACHE_BLOCKS; i++) {
		if ((e = land(ch, &d->cache[i])) && !err)
			err = e;
		if (forget)
			d->cache[i].valid = 0;
	}
	return err;
}

/* The cached copy of `blk`, or NULL with *free set to the entry to use
 * for it (an unused one, else the least recently used). */
static struct cached *find(struct dio *d, unsigned long long blk,
			   struct cached **free)
{
	struct cached *c, *pick = NULL;
	int i;

	for (i = 0; i < CACHE_BLOCKS; i++) {
		c = &d->cache[i];
		if (c->valid && c->blk == blk) {
			c->used = ++d->clock;
			return c;
		}
		if (!pick || (pick->valid && (!c->valid || c->used < pick->used)))
			pick = c;
	}
	*free = pick;
	return NULL;
}

/* An entry for `blk`, its old block landed first. */
static errcode_t take(io_channel ch, struct cached *c, unsigned long long blk)
{
	struct dio *d = dio_of(ch);
	errcode_t err = land(ch, c);

	c->valid = 1;
	c->dirty = 0;
	c->blk = blk;
	c->used = ++d->clock;
	return err;
}

static errcode_t dio_write64(io_channel ch, unsigned long long block,
			     int count, const void *data)
{
	struct dio *d = dio_of(ch);
	struct cached *c, *slot = NULL;
	errcode_t err = 0;

	if (count == 1) {
		if (!(c = find(d, block, &slot))) {
			c = slot;
			err = take(ch, c, block);
		}
		memcpy(c->buf, data, (size_t)ch->block_size);
		c->dirty = 1;
		return err;
	}
	err = land_all(ch, 1);
	if (!err)
		err = put(d, data, span_bytes(ch, count),
			  block * (uint64_t)ch->block_size);
	return err;
}

static errcode_t dio_write32(io_channel ch, unsigned long block, int count,
			     const void *data)
{
	return dio_write64(ch, block, count, data);
}

static errcode_t dio_write_byte(io_channel ch, unsigned long off, int count,
				const void *data)
{
	errcode_t err = land_all(ch, 1);

	return err ? err : put(dio_of(ch), data, (uint64_t)count, off);
}

static errcode_t dio_read64(io_channel ch, unsigned long long block,
			    int count, void *data)
{
	struct dio *d = dio_of(ch);
	uint64_t bs = (uint64_t)ch->block_size, len = span_bytes(ch, count);
	struct cached *c, *slot = NULL;
	errcode_t err;
	int i;

	if (count == 1) {
		if (!(c = find(d, block, &slot))) {
			c = slot;
			if ((err = take(ch, c, block)) ||
			    (err = get(d, c->buf, bs, block * bs))) {
				c->valid = 0;
				return err;
			}
		}
		memcpy(data, c->buf, (size_t)bs);
		return 0;
	}
	err = get(d, data, len, block * bs);
	/* Cached blocks are newer than the file. */
	for (i = 0; i < CACHE_BLOCKS; i++) {
		c = &d->cache[i];
		if (c->valid && c->dirty && c->blk >= block &&
		    (c->blk - block) * bs < len) {
			uint64_t at = (c->blk - block) * bs;

			memcpy((char *)data + at, c->buf,
			       len - at < bs ? len - at : bs);
		}
	}
	return err;
}

static errcode_t dio_read32(io_channel ch, unsigned long block, int count,
			    void *data)
{
	return dio_read64(ch, block, count, data);
}

static errcode_t dio_set_blksize(io_channel ch, int blksize)
{
	struct dio *d = dio_of(ch);
	errcode_t err = land_all(ch, 1);
	int i;

	if (err)
		return err;
	for (i = 0; i < CACHE_BLOCKS; i++) {
		char *buf = realloc(d->cache[i].buf, (size_t)blksize);

		if (!buf)
			return EXT2_ET_NO_MEMORY;
		d->cache[i].buf = buf;
	}
	ch->block_size = blksize;
	return 0;
}

static errcode_t dio_flush(io_channel ch)
{
	return land_all(ch, 0);
}

static errcode_t dio_set_option(io_channel ch, const char *opt,
				const char *arg)
{
	(void)ch;
	(void)opt;
	(void)arg;
	return EXT2_ET_INVALID_ARGUMENT; /* the offset is dataio_wrap's */
}

static void dio_free(struct dio *d)
{
	int i;

	for (i = 0; i < CACHE_BLOCKS; i++)
		free(d->cache[i].buf);
	free(d);
}

static errcode_t dio_close(io_channel ch)
{
	struct dio *d = dio_of(ch);
	errcode_t err, err2;

	if (--ch->refcount > 0)
		return 0;
	err = land_all(ch, 1);
	err2 = io_channel_close(d->inner);
	dio_free(d);
	free(ch->name);
	free(ch);
	return err ? err : err2;
}

/* No .zeroout: io_channel_zeroout then answers "unimplemented" and
 * ext2fs_zero_blocks2 writes blocks of zeros instead. */
static struct struct_io_manager data_manager = {
	.magic = EXT2_ET_MAGIC_IO_MANAGER,
	.name = "mkr2simg data I/O",
	.close = dio_close,
	.set_blksize = dio_set_blksize,
	.read_blk = dio_read32,
	.write_blk = dio_write32,
	.flush = dio_flush,
	.write_byte = dio_write_byte,
	.set_option = dio_set_option,
	.read_blk64 = dio_read64,
	.write_blk64 = dio_write64,
};

errcode_t dataio_wrap(io_channel *channel, const struct imgfile *img,
		      uint64_t offset)
{
	io_channel in = *channel, ch = calloc(1, sizeof(*ch));
	struct dio *d = calloc(1, sizeof(*d));
	int i, ok = ch && d && (ch->name = strdup(in->name));

	for (i = 0; ok && i < CACHE_BLOCKS; i++)
		ok = (d->cache[i].buf = malloc((size_t)in->block_size)) != NULL;
	if (!ok) {
		if (ch)
			free(ch->name);
		free(ch);
		if (d)
			dio_free(d);
		return EXT2_ET_NO_MEMORY;
	}
	d->inner = in;
	d->img = img;
	d->offset = offset;
	ch->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	ch->manager = &data_manager;
	ch->block_size = in->block_size;
	ch->refcount = 1;
	ch->flags = in->flags;
	ch->private_data = d;
	*channel = ch;
	return 0;
}
