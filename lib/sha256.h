/*
 * sha256.h - SHA-256, as FIPS 180-4 defines it.
 *
 * Owns: the hash function (incremental: init, update any number of
 * times with pieces of any length, final).  Does not own: what is
 * hashed, or how a digest is shown (bmap.c writes it as hex).
 */
#ifndef MK_SHA256_H
#define MK_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32 /* bytes of a digest */
#define SHA256_BLOCK_SIZE 64  /* bytes of a message block */
#define SHA256_HEX_SIZE (2 * SHA256_DIGEST_SIZE + 1) /* hex text and NUL */

struct sha256 {
	uint32_t h[8];                  /* the hash value H(i) */
	uint64_t bytes;                 /* message length so far */
	uint8_t block[SHA256_BLOCK_SIZE]; /* a partial block */
	size_t fill;                    /* bytes in `block` */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* Pads, finishes and writes the digest; `s` must be initialised again
 * before another use. */
void sha256_final(struct sha256 *s, uint8_t digest[SHA256_DIGEST_SIZE]);

/* The digest as lower-case hex, as sha256sum and bmaptool print it. */
void sha256_hex(const uint8_t digest[SHA256_DIGEST_SIZE],
		char hex[SHA256_HEX_SIZE]);

#endif
