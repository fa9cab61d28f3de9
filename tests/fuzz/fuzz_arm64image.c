/*
 * fuzz_arm64image.c - libFuzzer harness for the arm64 Image header reader.
 *
 * Owns: feeding arbitrary bytes as the kernel file (a memfd opened by
 * path) to arm64_image_read, and the oracle for arm64image.h's promise,
 * worked out here on the bytes in memory: with the "ARM\x64" magic at
 * byte 56 of the first 64 it is a plain Image with the header's little
 * endian fields; else, when the bytes are one complete gzip stream
 * (inflated here in one go; bytes after its end do not matter) whose
 * first 64 inflated bytes are such a header, a gzip'd Image whose data
 * size is the inflated length; else neither.  The file size is always
 * the input's length.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "arm64image.h"
#include "fuzz_util.h"

#define OUT_CHUNK (1u << 16)

static struct fuzz_file input;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_file_open(&input, "Image");
	return 0;
}

static uint64_t le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

/* Whether 64 bytes at `h` are a header; fills `img`'s fields if so. */
static int reference_header(const uint8_t *h, struct arm64_image *img)
{
	if (le(h + 56, 4) != ARM64_IMAGE_MAGIC)
		return 0;
	img->text_offset = le(h + 8, 8);
	img->image_size = le(h + 16, 8);
	img->flags = le(h + 24, 8);
	return 1;
}

/* Inflates one gzip stream from `d`: 0 with the inflated length and its
 * first 64 bytes (zeros past the end), or -1 when it never ends. */
static int reference_gunzip(const uint8_t *d, size_t len, uint8_t *head,
			    uint64_t *total)
{
	uint8_t *out = malloc(OUT_CHUNK);
	z_stream z;
	int zr;

	memset(&z, 0, sizeof(z));
	if (!out || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		fuzz_fail("zlib cannot start");
	z.next_in = (uint8_t *)d;
	z.avail_in = (uInt)len;
	*total = 0;
	do {
		z.next_out = out;
		z.avail_out = OUT_CHUNK;
		zr = inflate(&z, Z_NO_FLUSH);
		if (*total < ARM64_IMAGE_HEADER_SIZE)
			memcpy(head + *total, out,
			       ARM64_IMAGE_HEADER_SIZE - *total);
		*total += OUT_CHUNK - z.avail_out;
	} while (zr == Z_OK);
	inflateEnd(&z);
	free(out);
	return zr == Z_STREAM_END ? 0 : -1;
}

static struct arm64_image reference_read(const uint8_t *d, size_t len)
{
	struct arm64_image want;
	uint8_t head[ARM64_IMAGE_HEADER_SIZE];
	uint64_t total;

	memset(&want, 0, sizeof(want));
	want.file_size = want.data_size = len;
	if (len >= ARM64_IMAGE_HEADER_SIZE && reference_header(d, &want)) {
		want.kind = ARM64_IMAGE_PLAIN;
	} else if (len >= 2 && d[0] == 0x1f && d[1] == 0x8b &&
		   reference_gunzip(d, len, head, &total) == 0 &&
		   total >= ARM64_IMAGE_HEADER_SIZE &&
		   reference_header(head, &want)) {
		want.kind = ARM64_IMAGE_GZIP;
		want.data_size = total;
	} else {
		want.text_offset = want.image_size = want.flags = 0;
	}
	return want;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arm64_image got, want = reference_read(data, size);
	struct mk_err e;

	fuzz_file_set(&input, data, size, 1);
	if (arm64_image_read(input.path, &got, &e) != 0)
		fuzz_fail("a readable file was refused: %s", e.msg);
	if (got.kind != want.kind || got.file_size != want.file_size ||
	    got.data_size != want.data_size)
		fuzz_fail("kind %d size %llu/%llu, reference kind %d %llu/%llu",
			  got.kind, (unsigned long long)got.file_size,
			  (unsigned long long)got.data_size, want.kind,
			  (unsigned long long)want.file_size,
			  (unsigned long long)want.data_size);
	if (got.kind != ARM64_IMAGE_NONE &&
	    (got.text_offset != want.text_offset ||
	     got.image_size != want.image_size || got.flags != want.flags))
		fuzz_fail("header fields differ from the reference");
	return 0;
}
