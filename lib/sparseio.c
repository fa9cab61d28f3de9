#include "sparseio.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define UNIT 4096u /* tracking granularity: the host's page and block */

struct sparse {
	io_channel inner;
	uint64_t units;
	uint8_t *written; /* one bit per UNIT ever written */
};

static errcode_t sp_close(io_channel ch);
static errcode_t sp_set_blksize(io_channel ch, int blksize);
static errcode_t sp_read32(io_channel ch, unsigned long b, int n, void *d);
static errcode_t sp_write32(io_channel ch, unsigned long b, int n,
			    const void *d);
static errcode_t sp_read64(io_channel ch, unsigned long long b, int n,
			   void *d);
static errcode_t sp_write64(io_channel ch, unsigned long long b, int n,
			    const void *d);
static errcode_t sp_flush(io_channel ch);
static errcode_t sp_write_byte(io_channel ch, unsigned long off, int n,
			       const void *d);
static errcode_t sp_set_option(io_channel ch, const char *opt,
			       const char *arg);
static errcode_t sp_get_stats(io_channel ch, io_stats *stats);
static errcode_t sp_zeroout(io_channel ch, unsigned long long b,
			    unsigned long long n);

static struct struct_io_manager sparse_manager = {
	.magic = EXT2_ET_MAGIC_IO_MANAGER,
	.name = "mkr2simg sparse I/O",
	.close = sp_close,
	.set_blksize = sp_set_blksize,
	.read_blk = sp_read32,
	.write_blk = sp_write32,
	.flush = sp_flush,
	.write_byte = sp_write_byte,
	.set_option = sp_set_option,
	.get_stats = sp_get_stats,
	.read_blk64 = sp_read64,
	.write_blk64 = sp_write64,
	.zeroout = sp_zeroout,
};

static struct sparse *priv(io_channel ch)
{
	return ch->private_data;
}

static int is_written(const struct sparse *s, uint64_t unit)
{
	return unit < s->units && (s->written[unit / 8] >> (unit % 8)) & 1;
}

static void mark(struct sparse *s, uint64_t first, uint64_t last)
{
	uint64_t u;

	for (u = first; u <= last && u < s->units; u++)
		s->written[u / 8] |= (uint8_t)(1u << (u % 8));
}

/* Byte size of `count` blocks, where a negative count means bytes. */
static uint64_t span(io_channel ch, int count)
{
	return count < 0 ? (uint64_t)-count
			 : (uint64_t)count * (uint64_t)ch->block_size;
}

/* True when the write may be dropped: zeros over never-written units. */
static int droppable(struct sparse *s, uint64_t off, uint64_t len,
		     const void *data)
{
	uint64_t u;

	if (len == 0 || !mk_is_zero(data, len))
		return 0;
	for (u = off / UNIT; u <= (off + len - 1) / UNIT; u++)
		if (is_written(s, u))
			return 0;
	return 1;
}

static errcode_t sp_write64(io_channel ch, unsigned long long block,
			    int count, const void *data)
{
	struct sparse *s = priv(ch);
	uint64_t off = block * (uint64_t)ch->block_size;
	uint64_t len = span(ch, count);
	errcode_t err;

	if (droppable(s, off, len, data))
		return 0;
	err = io_channel_write_blk64(s->inner, block, count, data);
	if (!err && len)
		mark(s, off / UNIT, (off + len - 1) / UNIT);
	return err;
}

static errcode_t sp_write32(io_channel ch, unsigned long block, int count,
			    const void *data)
{
	return sp_write64(ch, block, count, data);
}

static errcode_t sp_write_byte(io_channel ch, unsigned long off, int count,
			       const void *data)
{
	struct sparse *s = priv(ch);
	errcode_t err;

	if (droppable(s, off, (uint64_t)count, data))
		return 0;
	err = io_channel_write_byte(s->inner, off, count, data);
	if (!err && count > 0)
		mark(s, off / UNIT, (off + (uint64_t)count - 1) / UNIT);
	return err;
}

/* Zeroes only what was written: everything else already reads as 0. */
static errcode_t sp_zeroout(io_channel ch, unsigned long long block,
			    unsigned long long count)
{
	struct sparse *s = priv(ch);
	uint64_t off = block * (uint64_t)ch->block_size;
	uint64_t end = off + count * (uint64_t)ch->block_size, u;
	static const char zeros[UNIT];
	errcode_t err;

	for (u = off / UNIT; count && u <= (end - 1) / UNIT; u++) {
		uint64_t from = u * UNIT > off ? u * UNIT : off;
		uint64_t to = (u + 1) * UNIT < end ? (u + 1) * UNIT : end;

		if (!is_written(s, u))
			continue;
		err = io_channel_write_byte(s->inner, (unsigned long)from,
					    (int)(to - from), zeros);
		if (err)
			return err;
	}
	return 0;
}

static errcode_t sp_read64(io_channel ch, unsigned long long block,
			   int count, void *data)
{
	return io_channel_read_blk64(priv(ch)->inner, block, count, data);
}

static errcode_t sp_read32(io_channel ch, unsigned long block, int count,
			   void *data)
{
	return sp_read64(ch, block, count, data);
}

static errcode_t sp_set_blksize(io_channel ch, int blksize)
{
	errcode_t err = io_channel_set_blksize(priv(ch)->inner, blksize);

	if (!err)
		ch->block_size = blksize;
	return err;
}

static errcode_t sp_flush(io_channel ch)
{
	return io_channel_flush(priv(ch)->inner);
}

static errcode_t sp_set_option(io_channel ch, const char *opt,
			       const char *arg)
{
	io_channel in = priv(ch)->inner;

	return in->manager->set_option ? in->manager->set_option(in, opt, arg)
				       : EXT2_ET_INVALID_ARGUMENT;
}

static errcode_t sp_get_stats(io_channel ch, io_stats *stats)
{
	io_channel in = priv(ch)->inner;

	return in->manager->get_stats ? in->manager->get_stats(in, stats)
				      : EXT2_ET_UNIMPLEMENTED;
}

static errcode_t sp_close(io_channel ch)
{
	struct sparse *s = priv(ch);
	errcode_t err;

	if (--ch->refcount > 0)
		return 0;
	err = io_channel_close(s->inner);
	free(s->written);
	free(s);
	free(ch->name);
	free(ch);
	return err;
}

errcode_t sparseio_wrap(io_channel *channel, uint64_t bytes)
{
	io_channel inner = *channel, ch = calloc(1, sizeof(*ch));
	struct sparse *s = calloc(1, sizeof(*s));

	if (s)
		s->units = mk_div_ceil(bytes, UNIT);
	if (!ch || !s || !(s->written = calloc(mk_div_ceil(s->units, 8) + 1, 1)) ||
	    !(ch->name = strdup(inner->name))) {
		if (s)
			free(s->written);
		free(s);
		free(ch);
		return EXT2_ET_NO_MEMORY;
	}
	s->inner = inner;
	ch->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	ch->manager = &sparse_manager;
	ch->block_size = inner->block_size;
	ch->refcount = 1;
	ch->flags = inner->flags;
	ch->private_data = s;
	*channel = ch;
	return 0;
}
