#include "dataio.h"

#include <stdlib.h>
#include <string.h>

static io_channel inner(io_channel ch)
{
	return ch->private_data;
}

static errcode_t dio_write64(io_channel ch, unsigned long long block,
			     int count, const void *data)
{
	return io_channel_write_blk64(inner(ch), block, count, data);
}

static errcode_t dio_write32(io_channel ch, unsigned long block, int count,
			     const void *data)
{
	return dio_write64(ch, block, count, data);
}

static errcode_t dio_write_byte(io_channel ch, unsigned long off, int count,
				const void *data)
{
	return io_channel_write_byte(inner(ch), off, count, data);
}

static errcode_t dio_read64(io_channel ch, unsigned long long block,
			    int count, void *data)
{
	return io_channel_read_blk64(inner(ch), block, count, data);
}

static errcode_t dio_read32(io_channel ch, unsigned long block, int count,
			    void *data)
{
	return dio_read64(ch, block, count, data);
}

static errcode_t dio_set_blksize(io_channel ch, int blksize)
{
	errcode_t err = io_channel_set_blksize(inner(ch), blksize);

	if (!err)
		ch->block_size = blksize;
	return err;
}

static errcode_t dio_flush(io_channel ch)
{
	return io_channel_flush(inner(ch));
}

static errcode_t dio_set_option(io_channel ch, const char *opt,
				const char *arg)
{
	io_channel in = inner(ch);

	return in->manager->set_option ? in->manager->set_option(in, opt, arg)
				       : EXT2_ET_INVALID_ARGUMENT;
}

static errcode_t dio_get_stats(io_channel ch, io_stats *stats)
{
	io_channel in = inner(ch);

	return in->manager->get_stats ? in->manager->get_stats(in, stats)
				      : EXT2_ET_UNIMPLEMENTED;
}

static errcode_t dio_close(io_channel ch)
{
	errcode_t err;

	if (--ch->refcount > 0)
		return 0;
	err = io_channel_close(inner(ch));
	free(ch->name);
	free(ch);
	return err;
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
	.get_stats = dio_get_stats,
	.read_blk64 = dio_read64,
	.write_blk64 = dio_write64,
};

errcode_t dataio_wrap(io_channel *channel)
{
	io_channel in = *channel, ch = calloc(1, sizeof(*ch));

	if (!ch || !(ch->name = strdup(in->name))) {
		free(ch);
		return EXT2_ET_NO_MEMORY;
	}
	ch->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	ch->manager = &data_manager;
	ch->block_size = in->block_size;
	ch->refcount = 1;
	ch->flags = in->flags;
	ch->private_data = in;
	*channel = ch;
	return 0;
}
