#include "arm64image.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "util.h"

#define GZIP_MAGIC0 0x1f
#define GZIP_MAGIC1 0x8b
#define GZIP_WINDOW_BITS (16 + MAX_WBITS) /* zlib: gzip wrapper only */
#define READ_CHUNK (256u << 10)

int arm64_image_parse(const uint8_t *bytes, struct arm64_image *img)
{
	struct arm64_image_header h;

	memcpy(&h, bytes, sizeof(h));
	if (le32toh(h.magic) != ARM64_IMAGE_MAGIC)
		return -1;
	img->text_offset = le64toh(h.text_offset);
	img->image_size = le64toh(h.image_size);
	img->flags = le64toh(h.flags);
	return 0;
}

/* Inflates the rest of the gzip stream from `fd` (`first` bytes already
 * read into `in`), keeping the first header bytes and counting the rest. */
static int inflate_all(int fd, uint8_t *in, size_t first, uint8_t *out,
		       uint8_t *head, uint64_t *out_size)
{
	z_stream z;
	int zr = Z_OK;
	long n = (long)first;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, GZIP_WINDOW_BITS) != Z_OK)
		return -1;
	*out_size = 0;
	while (zr != Z_STREAM_END && n > 0) {
		z.next_in = in;
		z.avail_in = (uInt)n;
		do {
			z.next_out = out;
			z.avail_out = READ_CHUNK;
			zr = inflate(&z, Z_NO_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
				break;
			size_t got = READ_CHUNK - z.avail_out;
			if (*out_size < ARM64_IMAGE_HEADER_SIZE)
				memcpy(head + *out_size, out,
				       ARM64_IMAGE_HEADER_SIZE - *out_size < got ?
				       ARM64_IMAGE_HEADER_SIZE - *out_size : got);
			*out_size += got;
		} while (z.avail_out == 0 && zr == Z_OK);
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
			break;
		if (zr != Z_STREAM_END)
			n = mk_read_full(fd, in, READ_CHUNK);
	}
	inflateEnd(&z);
	return zr == Z_STREAM_END ? 0 : -1;
}

int arm64_image_read(const char *path, struct arm64_image *img,
		     struct mk_err *e)
{
	uint8_t head[ARM64_IMAGE_HEADER_SIZE] = { 0 }, *in;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t inflated = 0;
	struct stat st;
	long n;

	memset(img, 0, sizeof(*img));
	if (fd < 0 || fstat(fd, &st) != 0) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return mk_fail_errno(e, err, "%s", path);
	}
	in = malloc(2 * READ_CHUNK); /* compressed in, inflated out */
	if (!in) {
		close(fd);
		return mk_fail(e, "out of memory");
	}
	img->file_size = img->data_size = (uint64_t)st.st_size;
	n = mk_read_full(fd, in, READ_CHUNK);
	if (n < 0) {
		int err = errno;
		close(fd);
		free(in);
		return mk_fail_errno(e, err, "%s", path);
	}
	if (n >= (long)ARM64_IMAGE_HEADER_SIZE && arm64_image_parse(in, img) == 0)
		img->kind = ARM64_IMAGE_PLAIN;
	else if (n >= 2 && in[0] == GZIP_MAGIC0 && in[1] == GZIP_MAGIC1 &&
		 inflate_all(fd, in, (size_t)n, in + READ_CHUNK, head,
			     &inflated) == 0 &&
		 inflated >= ARM64_IMAGE_HEADER_SIZE &&
		 arm64_image_parse(head, img) == 0) {
		img->kind = ARM64_IMAGE_GZIP;
		img->data_size = inflated;
	}
	close(fd);
	free(in);
	return 0;
}
