#include "ids.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define UUID_VERSION_BYTE 6
#define UUID_VERSION_8 0x80
#define UUID_VARIANT_BYTE 8
#define UUID_VARIANT_RFC 0x80 /* 0b10xxxxxx */
#define DIGEST_READ_CHUNK (1u << 20)

void ids_uuid_v8(const void *seed, size_t seed_len, const char *purpose,
		 uint8_t out[MK_UUID_SIZE])
{
	XXH3_state_t st;
	XXH128_canonical_t canon;
	static const uint8_t separator = 0;

	XXH3_INITSTATE(&st);
	XXH3_128bits_reset(&st);
	XXH3_128bits_update(&st, purpose, strlen(purpose));
	XXH3_128bits_update(&st, &separator, 1);
	XXH3_128bits_update(&st, seed, seed_len);
	XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(&st));
	memcpy(out, canon.digest, MK_UUID_SIZE);
	out[UUID_VERSION_BYTE] = (uint8_t)((out[UUID_VERSION_BYTE] & 0x0f) |
					   UUID_VERSION_8);
	out[UUID_VARIANT_BYTE] = (uint8_t)((out[UUID_VARIANT_BYTE] & 0x3f) |
					   UUID_VARIANT_RFC);
}

void ids_derive(const void *seed, size_t seed_len, struct mk_ids *ids)
{
	ids_uuid_v8(seed, seed_len, "gpt-disk", ids->disk_guid);
	ids_uuid_v8(seed, seed_len, "gpt-part-boot", ids->boot_part_guid);
	ids_uuid_v8(seed, seed_len, "gpt-part-root", ids->root_part_guid);
	ids_uuid_v8(seed, seed_len, "ext4-boot-uuid", ids->boot_fs_uuid);
	ids_uuid_v8(seed, seed_len, "ext4-boot-hash-seed", ids->boot_hash_seed);
	ids_uuid_v8(seed, seed_len, "ext4-root-uuid", ids->root_fs_uuid);
	ids_uuid_v8(seed, seed_len, "ext4-root-hash-seed", ids->root_hash_seed);
}

int ids_digest_init(struct ids_digest *d, struct mk_err *e)
{
	d->state = XXH3_createState();
	if (!d->state)
		return mk_fail(e, "out of memory");
	XXH3_128bits_reset(d->state);
	return 0;
}

static void add_frame(struct ids_digest *d, const char *tag, uint64_t len)
{
	uint8_t le[8];
	int i;

	for (i = 0; i < 8; i++)
		le[i] = (uint8_t)(len >> (8 * i));
	XXH3_128bits_update(d->state, tag, strlen(tag) + 1);
	XXH3_128bits_update(d->state, le, sizeof(le));
}

void ids_digest_add(struct ids_digest *d, const char *tag, const void *data,
		    size_t len)
{
	add_frame(d, tag, len);
	XXH3_128bits_update(d->state, data, len);
}

void ids_digest_add_str(struct ids_digest *d, const char *tag, const char *s)
{
	ids_digest_add(d, tag, s ? s : "", s ? strlen(s) : 0);
}

void ids_digest_add_u64(struct ids_digest *d, const char *tag, uint64_t v)
{
	uint8_t le[8];
	int i;

	for (i = 0; i < 8; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	ids_digest_add(d, tag, le, sizeof(le));
}

int ids_digest_add_file(struct ids_digest *d, const char *tag,
			const char *path, struct mk_err *e)
{
	XXH128_canonical_t canon;
	XXH3_state_t *st = XXH3_createState();
	char *chunk = malloc(DIGEST_READ_CHUNK);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	long n;
	int read_errno = 0;

	if (fd < 0 || !st || !chunk) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		XXH3_freeState(st);
		free(chunk);
		return mk_fail_errno(e, err, "%s: cannot read", path);
	}
	XXH3_128bits_reset(st);
	while ((n = mk_read_full(fd, chunk, DIGEST_READ_CHUNK)) > 0)
		XXH3_128bits_update(st, chunk, (size_t)n);
	if (n < 0)
		read_errno = errno;
	close(fd);
	free(chunk);
	if (n < 0) {
		XXH3_freeState(st);
		return mk_fail_errno(e, read_errno, "%s: cannot read", path);
	}
	XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(st));
	XXH3_freeState(st);
	ids_digest_add(d, tag, canon.digest, sizeof(canon.digest));
	return 0;
}

void ids_digest_final(struct ids_digest *d, uint8_t out[MK_UUID_SIZE])
{
	XXH128_canonical_t canon;

	XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(d->state));
	memcpy(out, canon.digest, MK_UUID_SIZE);
	XXH3_freeState(d->state);
	d->state = NULL;
}

void ids_uuid_format(const uint8_t u[MK_UUID_SIZE], char out[37])
{
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}
