/*
 * arm64image.h - the header of a Linux arm64 kernel Image.
 *
 * Owns: the 64-byte header Linux puts at the start of an arm64 `Image`
 * (Documentation/arch/arm64/booting.rst: text_offset, image_size,
 * flags, the "ARM\x64" magic), read from a plain Image or from a
 * gzip-compressed one (as U-Boot's booti takes both), and the sizes of
 * the file and of the Image in it.  Does not own: where U-Boot puts the
 * Image (bootmem.c).
 */
#ifndef MK_ARM64IMAGE_H
#define MK_ARM64IMAGE_H

#include <stdint.h>

#include "err.h"

#define ARM64_IMAGE_MAGIC 0x644d5241u       /* "ARM\x64", little endian */
#define ARM64_IMAGE_HEADER_SIZE 64u
#define ARM64_IMAGE_FLAG_ANYWHERE (1u << 3) /* 2 MiB-aligned base anywhere */

/* The header as stored (every field little endian). */
struct arm64_image_header {
	uint32_t code0;       /* executable code (a branch) */
	uint32_t code1;       /* executable code */
	uint64_t text_offset; /* offset of the Image from a 2 MiB boundary */
	uint64_t image_size;  /* bytes the kernel occupies, BSS included;
				 0 before Linux 3.17 */
	uint64_t flags;       /* bit 0 big endian, 1-2 page size, 3 anywhere */
	uint64_t res2;        /* reserved */
	uint64_t res3;        /* reserved */
	uint64_t res4;        /* reserved */
	uint32_t magic;       /* ARM64_IMAGE_MAGIC */
	uint32_t res5;        /* offset of the PE header (EFI stub) */
} __attribute__((packed));
_Static_assert(sizeof(struct arm64_image_header) == ARM64_IMAGE_HEADER_SIZE,
	       "arm64 Image header");

enum arm64_image_kind {
	ARM64_IMAGE_NONE = 0,  /* neither a plain nor a gzip'd Image */
	ARM64_IMAGE_PLAIN = 1,
	ARM64_IMAGE_GZIP = 2,
};

struct arm64_image {
	enum arm64_image_kind kind;
	uint64_t file_size;   /* bytes of the file */
	uint64_t data_size;   /* bytes of the Image (file_size if plain) */
	uint64_t text_offset; /* host-endian copies of the header's fields */
	uint64_t image_size;
	uint64_t flags;
};

/* Decodes the first ARM64_IMAGE_HEADER_SIZE bytes: 0, or -1 without the
 * magic (img->kind is left alone). */
int arm64_image_parse(const uint8_t *bytes, struct arm64_image *img);

/* Reads the file `path`: a plain Image, a gzip'd one (decompressed to
 * learn its size), or ARM64_IMAGE_NONE.  -1 only when it cannot be read. */
int arm64_image_read(const char *path, struct arm64_image *img,
		     struct mk_err *e);

#endif
