/*
 * test_ids.c - ids.c against RFC 9562 and its own promises.
 *
 * RFC 9562 section 5.8: a version-8 UUID has 0b1000 in the high nibble of
 * octet 6 and the variant 0b10 in the two high bits of octet 8; the
 * other 122 bits are the implementation's.  ids.h promises they are
 * derived (same seed and purpose, same UUID), that purposes and seeds
 * are kept apart, and that the input digest frames every field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tmptree.h"

#include "ids.h"

#define NIDS 7

static void check_v8(const uint8_t u[MK_UUID_SIZE])
{
	char text[37];

	ids_uuid_format(u, text);
	if ((u[6] >> 4) != 8)
		fail_msg("%s: version nibble %d, not 8", text, u[6] >> 4);
	if ((u[8] & 0xC0) != 0x80)
		fail_msg("%s: variant bits are not 10", text);
	assert_int_equal(text[14], '8'); /* the textual form agrees */
	assert_non_null(strchr("89ab", text[19]));
}

static void uuid(const char *seed, const char *purpose,
		 uint8_t out[MK_UUID_SIZE])
{
	ids_uuid_v8(seed, strlen(seed), purpose, out);
}

static void all_ids(const struct mk_ids *ids, const uint8_t *out[NIDS])
{
	out[0] = ids->disk_guid;
	out[1] = ids->boot_part_guid;
	out[2] = ids->root_part_guid;
	out[3] = ids->boot_fs_uuid;
	out[4] = ids->boot_hash_seed;
	out[5] = ids->root_fs_uuid;
	out[6] = ids->root_hash_seed;
}

/* ---- UUIDs ---- */

static void test_v8_bits(void **state)
{
	static const char *const seeds[] = { "", "a", "seed", "\xff\xff" };
	static const char *const purposes[] = { "", "x", "gpt-disk",
						"ext4-root-uuid" };
	uint8_t u[MK_UUID_SIZE];

	(void)state;
	for (size_t i = 0; i < 4; i++)
		for (size_t j = 0; j < 4; j++) {
			uuid(seeds[i], purposes[j], u);
			check_v8(u);
		}
	/* Many seeds, so every value of the free bits around them shows. */
	for (unsigned n = 0; n < 512; n++) {
		ids_uuid_v8(&n, sizeof(n), "p", u);
		check_v8(u);
	}
}

static void test_uuid_deterministic(void **state)
{
	uint8_t a[MK_UUID_SIZE], b[MK_UUID_SIZE];

	(void)state;
	memset(a, 0x11, sizeof(a));
	memset(b, 0x22, sizeof(b));
	uuid("seed", "purpose", a);
	uuid("seed", "purpose", b);
	assert_memory_equal(a, b, MK_UUID_SIZE);
}

static void test_uuid_inputs_matter(void **state)
{
	uint8_t base[MK_UUID_SIZE], u[MK_UUID_SIZE];

	(void)state;
	uuid("seed", "purpose", base);
	uuid("seed2", "purpose", u);
	assert_memory_not_equal(base, u, MK_UUID_SIZE);
	uuid("seed", "purpose2", u);
	assert_memory_not_equal(base, u, MK_UUID_SIZE);
	ids_uuid_v8("seed", 5, "purpose", u); /* the NUL is part of it */
	assert_memory_not_equal(base, u, MK_UUID_SIZE);
	/* Purpose and seed do not run together. */
	uuid("bc", "a", base);
	uuid("c", "ab", u);
	assert_memory_not_equal(base, u, MK_UUID_SIZE);
	uuid("", "ab", base);
	uuid("ab", "", u);
	assert_memory_not_equal(base, u, MK_UUID_SIZE);
}

/*
 * Pins the derivation (XXH3-128 of purpose, a NUL, then the seed, in
 * canonical big-endian order, then the version and variant bits), so
 * that an image's identifiers never change between releases by
 * accident.  Computed here with the one-shot API.
 */
static void test_uuid_derivation_pinned(void **state)
{
	static const char input[] = "gpt-disk\0my-seed";
	XXH128_canonical_t c;
	uint8_t u[MK_UUID_SIZE];

	(void)state;
	XXH128_canonicalFromHash(&c, XXH3_128bits(input, sizeof(input) - 1));
	c.digest[6] = (uint8_t)((c.digest[6] & 0x0F) | 0x80);
	c.digest[8] = (uint8_t)((c.digest[8] & 0x3F) | 0x80);
	uuid("my-seed", "gpt-disk", u);
	assert_memory_equal(u, c.digest, MK_UUID_SIZE);
}

static void test_derive(void **state)
{
	struct mk_ids a, b, c;
	const uint8_t *ia[NIDS], *ic[NIDS];

	(void)state;
	memset(&a, 0x11, sizeof(a));
	memset(&b, 0x22, sizeof(b));
	ids_derive("seed", 4, &a);
	ids_derive("seed", 4, &b);
	assert_memory_equal(&a, &b, sizeof(a));
	ids_derive("other", 5, &c);
	all_ids(&a, ia);
	all_ids(&c, ic);
	for (size_t i = 0; i < NIDS; i++) {
		check_v8(ia[i]);
		check_v8(ic[i]);
		for (size_t j = 0; j < NIDS; j++) {
			assert_memory_not_equal(ia[i], ic[j], MK_UUID_SIZE);
			if (i != j)
				assert_memory_not_equal(ia[i], ia[j],
							MK_UUID_SIZE);
		}
	}
}

static void test_format(void **state)
{
	static const uint8_t u[MK_UUID_SIZE] = {
		0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0x8D, 0xEF,
		0xB0, 0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE,
	};
	char text[37];

	(void)state;
	memset(text, 'X', sizeof(text));
	ids_uuid_format(u, text);
	assert_string_equal(text, "01234567-89ab-8def-b012-3456789abcde");
}

/* ---- digests ---- */

static void digest_begin(struct ids_digest *d)
{
	struct mk_err e = { "" };

	if (ids_digest_init(d, &e) != 0)
		fail_msg("ids_digest_init: %s", e.msg);
}

/* The digest of two string fields. */
static void digest2(const char *t1, const char *s1, const char *t2,
		    const char *s2, uint8_t out[MK_UUID_SIZE])
{
	struct ids_digest d;

	digest_begin(&d);
	ids_digest_add_str(&d, t1, s1);
	if (t2 != NULL)
		ids_digest_add_str(&d, t2, s2);
	ids_digest_final(&d, out);
	assert_null(d.state);
}

static void test_digest_deterministic(void **state)
{
	uint8_t a[MK_UUID_SIZE], b[MK_UUID_SIZE];

	(void)state;
	digest2("closure", "x", "seed", "y", a);
	digest2("closure", "x", "seed", "y", b);
	assert_memory_equal(a, b, MK_UUID_SIZE);
}

static void test_digest_framing(void **state)
{
	uint8_t a[MK_UUID_SIZE], b[MK_UUID_SIZE];

	(void)state;
	digest2("a", "bc", NULL, NULL, a); /* tag and value kept apart */
	digest2("ab", "c", NULL, NULL, b);
	assert_memory_not_equal(a, b, MK_UUID_SIZE);
	digest2("t", "ab", NULL, NULL, a); /* one field is not two */
	digest2("t", "a", "t", "b", b);
	assert_memory_not_equal(a, b, MK_UUID_SIZE);
	digest2("t", "a", "t", "", a); /* an empty field still counts */
	digest2("t", "a", NULL, NULL, b);
	assert_memory_not_equal(a, b, MK_UUID_SIZE);
	digest2("t", "x", "u", "y", a); /* order matters */
	digest2("u", "y", "t", "x", b);
	assert_memory_not_equal(a, b, MK_UUID_SIZE);
	digest2("t", "x", NULL, NULL, a); /* tags matter */
	digest2("u", "x", NULL, NULL, b);
	assert_memory_not_equal(a, b, MK_UUID_SIZE);
}

/* A value whose bytes look like the next field's frame stays apart. */
static void test_digest_framing_binary(void **state)
{
	static const uint8_t tricky[] = { 'b', 'c', 0, 1, 0, 0, 0, 0, 0, 0, 0,
					  'd' };
	uint8_t a[MK_UUID_SIZE], b[MK_UUID_SIZE];
	struct ids_digest d;

	(void)state;
	digest_begin(&d);
	ids_digest_add(&d, "a", tricky, sizeof(tricky));
	ids_digest_final(&d, a);
	digest_begin(&d);
	ids_digest_add(&d, "a", "bc", 2);
	ids_digest_add(&d, "bc", "d", 1);
	ids_digest_final(&d, b);
	assert_memory_not_equal(a, b, MK_UUID_SIZE);
}

/* Without lengths, "t"="a" then "u"="b" would read as "t"="a\0u\0b"
 * minus the first NUL: values may hold any bytes, so only the length
 * frame keeps them apart. */
static void test_digest_framing_needs_length(void **state)
{
	uint8_t a[MK_UUID_SIZE], b[MK_UUID_SIZE];
	struct ids_digest d;

	(void)state;
	digest_begin(&d);
	ids_digest_add(&d, "t", "a", 1);
	ids_digest_add(&d, "u", "b", 1);
	ids_digest_final(&d, a);
	digest_begin(&d);
	ids_digest_add(&d, "t", "au\0b", 4);
	ids_digest_final(&d, b);
	assert_memory_not_equal(a, b, MK_UUID_SIZE);
}

static void test_digest_u64(void **state)
{
	uint8_t a[MK_UUID_SIZE], b[MK_UUID_SIZE];
	struct ids_digest d;

	(void)state;
	digest_begin(&d);
	ids_digest_add_u64(&d, "n", 1);
	ids_digest_final(&d, a);
	digest_begin(&d);
	ids_digest_add_u64(&d, "n", 256);
	ids_digest_final(&d, b);
	assert_memory_not_equal(a, b, MK_UUID_SIZE);
	digest_begin(&d);
	ids_digest_add_u64(&d, "n", 1);
	ids_digest_final(&d, b);
	assert_memory_equal(a, b, MK_UUID_SIZE);
}

static void digest_file(struct tmptree *t, const char *name,
			uint8_t out[MK_UUID_SIZE])
{
	struct ids_digest d;
	struct mk_err e = { "" };

	digest_begin(&d);
	if (ids_digest_add_file(&d, "file", tmptree_path(t, name), &e) != 0)
		fail_msg("ids_digest_add_file: %s", e.msg);
	ids_digest_final(&d, out);
}

static void test_digest_file(void **state)
{
	struct tmptree *t = *state;
	uint8_t a[MK_UUID_SIZE], b[MK_UUID_SIZE], c[MK_UUID_SIZE];
	size_t big = (3u << 20) + 17; /* more than one read */
	char *data = malloc(big);

	assert_non_null(data);
	for (size_t i = 0; i < big; i++)
		data[i] = (char)(i * 7 + i / 4096);
	tmptree_file_n(t, "one", data, big, 0644);
	tmptree_file_n(t, "two", data, big, 0600); /* mode does not count */
	data[big - 1] ^= 1;
	tmptree_file_n(t, "three", data, big, 0644);
	free(data);
	digest_file(t, "one", a);
	digest_file(t, "two", b);
	digest_file(t, "three", c);
	assert_memory_equal(a, b, MK_UUID_SIZE);
	assert_memory_not_equal(a, c, MK_UUID_SIZE);
	tmptree_file(t, "empty", "", 0644);
	digest_file(t, "empty", a);
	digest_file(t, "empty", b);
	assert_memory_equal(a, b, MK_UUID_SIZE);
}

static void test_digest_file_missing(void **state)
{
	struct tmptree *t = *state;
	struct ids_digest d;
	struct mk_err e = { "" };
	char path[PATH_MAX];
	uint8_t out[MK_UUID_SIZE];

	snprintf(path, sizeof(path), "%s", tmptree_path(t, "missing"));
	digest_begin(&d);
	assert_int_equal(ids_digest_add_file(&d, "file", path, &e), -1);
	assert_non_null(strstr(e.msg, path));
	ids_digest_final(&d, out);
}

#define TREE_TEST(f) cmocka_unit_test_setup_teardown(f, tmptree_setup, \
						     tmptree_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v8_bits),
		cmocka_unit_test(test_uuid_deterministic),
		cmocka_unit_test(test_uuid_inputs_matter),
		cmocka_unit_test(test_uuid_derivation_pinned),
		cmocka_unit_test(test_derive),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_digest_deterministic),
		cmocka_unit_test(test_digest_framing),
		cmocka_unit_test(test_digest_framing_binary),
		cmocka_unit_test(test_digest_framing_needs_length),
		cmocka_unit_test(test_digest_u64),
		TREE_TEST(test_digest_file),
		TREE_TEST(test_digest_file_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
