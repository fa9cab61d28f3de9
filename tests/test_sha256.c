/*
 * test_sha256.c - sha256.c against the test vectors of FIPS 180-4's
 * examples (NIST CSRC "SHA256.pdf": one-block "abc", two-block 448-bit
 * message), FIPS 180-2's one million "a", the 896-bit message of the
 * SHA-2 test sets, and NIST CAVS SHA256ShortMsg (Len = 0, 8, 16); padding
 * at every block boundary (55, 56, 63, 64, 119, 120 bytes; digests of
 * sha256sum); and the same digest whatever pieces a message is fed in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sha256.h"

static void digest_of(const void *data, size_t len, char hex[SHA256_HEX_SIZE])
{
	uint8_t d[SHA256_DIGEST_SIZE];
	struct sha256 s;

	sha256_init(&s);
	sha256_update(&s, data, len);
	sha256_final(&s, d);
	sha256_hex(d, hex);
}

static void expect(const void *data, size_t len, const char *want)
{
	char hex[SHA256_HEX_SIZE];

	digest_of(data, len, hex);
	assert_string_equal(hex, want);
}

static void test_fips_examples(void **state)
{
	(void)state;
	expect("abc", 3, "ba7816bf8f01cfea414140de5dae2223"
			 "b00361a396177a9cb410ff61f20015ad");
	expect("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	       "248d6a61d20638b8e5c026930c3e6039"
	       "a33ce45964ff2167f6ecedd419db06c1");
	expect("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	       "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 112,
	       "cf5b16a778af8380036ce59e7b049237"
	       "0b249b11e8f07a51afac45037afee9d1");
}

static void test_cavs_short(void **state)
{
	(void)state;
	expect("", 0, "e3b0c44298fc1c149afbf4c8996fb924"
		      "27ae41e4649b934ca495991b7852b855");
	expect("\xd3", 1, "28969cdfa74a12c82f3bad960b0b000a"
			  "ca2ac329deea5c2328ebc6f2ba9802c1");
	expect("\x11\xaf", 2, "5ca7133fa735326081558ac312c620ee"
			      "ca9970d1e70a4b95533d956f072d1f98");
}

static void test_million_a(void **state)
{
	const size_t n = 1000000;
	char *a = malloc(n);

	(void)state;
	assert_non_null(a);
	memset(a, 'a', n);
	expect(a, n, "cdc76e5c9914fb9281a1c7e284d73e67"
		     "f1809a48a497200e046d39ccc7112cd0");
	free(a);
}

/* The 0x80 byte and the 8-byte length land in the same block, straddle
 * two, or start a new one. */
static void test_padding_boundaries(void **state)
{
	static const struct {
		size_t len;
		const char *hex;
	} v[] = {
		{ 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
		{ 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
		{ 63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34" },
		{ 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
		{ 119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb" },
		{ 120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c" },
	};
	char a[128];
	size_t i;

	(void)state;
	memset(a, 'a', sizeof(a));
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		expect(a, v[i].len, v[i].hex);
}

/* Every split of a message into two pieces, and byte by byte, gives the
 * digest of the whole. */
static void test_pieces(void **state)
{
	uint8_t msg[300], d[SHA256_DIGEST_SIZE];
	char whole[SHA256_HEX_SIZE], hex[SHA256_HEX_SIZE];
	struct sha256 s;
	size_t i, cut;

	(void)state;
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 131 + 7);
	digest_of(msg, sizeof(msg), whole);
	for (cut = 0; cut <= sizeof(msg); cut++) {
		sha256_init(&s);
		sha256_update(&s, msg, cut);
		sha256_update(&s, msg + cut, sizeof(msg) - cut);
		sha256_final(&s, d);
		sha256_hex(d, hex);
		assert_string_equal(hex, whole);
	}
	sha256_init(&s);
	for (i = 0; i < sizeof(msg); i++)
		sha256_update(&s, msg + i, 1);
	sha256_final(&s, d);
	sha256_hex(d, hex);
	assert_string_equal(hex, whole);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fips_examples),
		cmocka_unit_test(test_cavs_short),
		cmocka_unit_test(test_million_a),
		cmocka_unit_test(test_padding_boundaries),
		cmocka_unit_test(test_pieces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
