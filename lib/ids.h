/*
 * ids.h - every identifier the image carries, derived, never random.
 *
 * Owns: turning a seed (the --seed string, or a digest of all inputs)
 * into RFC 9562 version-8 UUIDs with XXH3-128, one per purpose, and the
 * digest of inputs itself.  Does not own: where each identifier is
 * stored (gpt.c, ext4fs.c) or which inputs go into the digest (image.c).
 */
#ifndef MK_IDS_H
#define MK_IDS_H

#include <stddef.h>
#include <stdint.h>

#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

#include "err.h"

#define MK_UUID_SIZE 16

struct mk_ids {
	uint8_t disk_guid[MK_UUID_SIZE];      /* GPT disk GUID */
	uint8_t boot_part_guid[MK_UUID_SIZE]; /* GPT unique GUID, p1 */
	uint8_t root_part_guid[MK_UUID_SIZE]; /* GPT unique GUID, p2 */
	uint8_t boot_fs_uuid[MK_UUID_SIZE];   /* ext4 UUID of NIXOS_BOOT */
	uint8_t boot_hash_seed[MK_UUID_SIZE]; /* its htree hash seed */
	uint8_t root_fs_uuid[MK_UUID_SIZE];   /* ext4 UUID of NIXOS_SD */
	uint8_t root_hash_seed[MK_UUID_SIZE]; /* its htree hash seed */
};

/* A version-8 UUID from XXH3-128(purpose, seed), in RFC byte order. */
void ids_uuid_v8(const void *seed, size_t seed_len, const char *purpose,
		 uint8_t out[MK_UUID_SIZE]);

/* All identifiers from one seed; distinct purposes give distinct ids. */
void ids_derive(const void *seed, size_t seed_len, struct mk_ids *ids);

/* Streaming digest of the inputs, each field tagged and length-framed
 * so that no two different input sets can produce the same stream. */
struct ids_digest {
	XXH3_state_t *state;
};

int ids_digest_init(struct ids_digest *d, struct mk_err *e);
void ids_digest_add(struct ids_digest *d, const char *tag, const void *data,
		    size_t len);
void ids_digest_add_str(struct ids_digest *d, const char *tag, const char *s);
void ids_digest_add_u64(struct ids_digest *d, const char *tag, uint64_t v);
/* Adds a file's whole contents; fails naming the file when unreadable. */
int ids_digest_add_file(struct ids_digest *d, const char *tag,
			const char *path, struct mk_err *e);
/* Writes the 16-byte digest and frees the state. */
void ids_digest_final(struct ids_digest *d, uint8_t out[MK_UUID_SIZE]);

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" plus NUL. */
void ids_uuid_format(const uint8_t uuid[MK_UUID_SIZE], char out[37]);

#endif
