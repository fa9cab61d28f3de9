/*
 * test_dataio.c - dataio.c: the channel libext2fs writes through lands
 * every write in the image file at the partition's offset and tells
 * imgfile's watcher only once the bytes are there (read back inside the
 * callback); one-block writes of the same block are held and written
 * once; reads see held blocks; larger writes, a flush and closing land
 * what is held first; there is no zero-out (libext2fs writes zeros).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tmptree.h"

#include <ext2fs/ext2fs.h>

#include "dataio.h"
#include "imgfile.h"

#define BS 4096u
#define OFFSET (1u << 20) /* the partition in the image */
#define FILE_BYTES (OFFSET + 64 * BS)

/* What imgfile's watcher was told, and what the file held then. */
struct landing {
	uint64_t off, len;
	int byte; /* every byte landed, or -1 when they differ */
};

struct watch {
	int fd;
	size_t writes;
	struct landing log[8];
};

static void landed(void *ctx, uint64_t off, uint64_t len)
{
	struct watch *w = ctx;
	uint8_t *got = malloc(len);
	struct landing *l = &w->log[w->writes % 8];
	uint64_t i;

	assert_non_null(got);
	assert_int_equal(pread(w->fd, got, len, (off_t)off), (ssize_t)len);
	*l = (struct landing){ off, len, got[0] };
	for (i = 1; i < len; i++)
		if (got[i] != got[0])
			l->byte = -1;
	free(got);
	w->writes++;
}

static void expect(const struct watch *w, size_t i, uint64_t off,
		   uint64_t len, int byte)
{
	assert_true(i < w->writes);
	assert_int_equal(w->log[i % 8].off, off);
	assert_int_equal(w->log[i % 8].len, len);
	assert_int_equal(w->log[i % 8].byte, byte);
}

struct fixture {
	struct tmptree *t;
	struct watch w;
	struct imgfile img;
	io_channel ch;
	uint8_t a[BS], b[BS], big[5 * BS];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	void *t = NULL;
	int fd;

	if (!f || tmptree_setup(&t))
		return -1;
	f->t = t;
	fd = open(tmptree_path(f->t, "image"), O_RDWR | O_CREAT, 0600);
	if (fd < 0 || ftruncate(fd, FILE_BYTES))
		return -1;
	f->w.fd = fd;
	f->img = (struct imgfile){ fd, landed, &f->w };
	if (unix_io_manager->open(tmptree_path(f->t, "image"), IO_FLAG_RW,
				  &f->ch) ||
	    dataio_wrap(&f->ch, &f->img, OFFSET) ||
	    io_channel_set_blksize(f->ch, BS))
		return -1;
	memset(f->a, 'a', BS);
	memset(f->b, 'b', BS);
	memset(f->big, 'g', sizeof(f->big));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	void *t = f->t;

	if (f->ch)
		io_channel_close(f->ch);
	close(f->w.fd);
	free(f);
	return tmptree_teardown(&t);
}

static void test_held_and_landed(void **state)
{
	struct fixture *f = *state;
	uint8_t got[3 * BS];
	int i;

	/* The same block written many times: held, read back, one write. */
	for (i = 0; i < 16; i++)
		assert_int_equal(io_channel_write_blk64(f->ch, 3, 1,
							i % 2 ? f->a : f->b), 0);
	assert_int_equal(f->w.writes, 0);
	assert_int_equal(io_channel_read_blk64(f->ch, 2, 3, got), 0);
	assert_memory_equal(got + BS, f->a, BS); /* held, newer than file */
	assert_int_equal(io_channel_flush(f->ch), 0);
	assert_int_equal(f->w.writes, 1);
	expect(&f->w, 0, OFFSET + 3 * BS, BS, 'a');
	/* A larger write over a held block: the held one lands first. */
	assert_int_equal(io_channel_write_blk64(f->ch, 10, 1, f->b), 0);
	assert_int_equal(io_channel_write_blk64(f->ch, 8, 5, f->big), 0);
	assert_int_equal(f->w.writes, 3);
	expect(&f->w, 1, OFFSET + 10 * BS, BS, 'b');
	expect(&f->w, 2, OFFSET + 8 * BS, 5 * BS, 'g');
	assert_int_equal(io_channel_read_blk64(f->ch, 10, 1, got), 0);
	assert_memory_equal(got, f->big, BS);
}

static void test_close_lands(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(io_channel_write_blk64(f->ch, 5, 1, f->a), 0);
	assert_int_equal(io_channel_write_blk64(f->ch, 6, 1, f->b), 0);
	assert_int_equal(io_channel_close(f->ch), 0);
	f->ch = NULL;
	assert_int_equal(f->w.writes, 2);
	expect(&f->w, 0, OFFSET + 5 * BS, BS, 'a');
	expect(&f->w, 1, OFFSET + 6 * BS, BS, 'b');
}

/* No zero-out of our own: libext2fs then writes blocks of zeros (data,
 * not a hole; test_ext4fs.c's journal test sees them in the image). */
static void test_no_zeroout(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(io_channel_zeroout(f->ch, 40, 4),
			 EXT2_ET_UNIMPLEMENTED);
	assert_int_equal(f->w.writes, 0);
}

#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_held_and_landed),
		T(test_close_lands),
		T(test_no_zeroout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
