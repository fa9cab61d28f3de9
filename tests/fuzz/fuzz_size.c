/*
 * fuzz_size.c - libFuzzer harness for the size parser.
 *
 * Owns: feeding arbitrary strings to mkr2simg_parse_size (the parser of
 * --boot-size, --root-size and --root-headroom) and a second, separately
 * written parser of the same grammar to compare it with: decimal digits,
 * then optionally one of K M G T (either case, powers of 1024) followed
 * by nothing, "B" or "iB"; anything else, or a value past 2^64 - 1, is
 * refused.  The reference counts in 128 bits, so overflow is visible.
 * Also mk_size_text, its inverse for messages: every accepted value and
 * the input's first 8 bytes as a number must read back as themselves.
 * And mkr2simg_parse_offset (--env-offset and friends): "0x" or "0X"
 * then one or more hex digits and nothing else, at most 2^64 - 1; any
 * other text as a size.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "mkr2simg.h"
#include "util.h"

typedef unsigned __int128 u128;

/* 0 and *out, or -1: the grammar above, computed without overflow. */
static int reference_parse(const char *s, uint64_t *out)
{
	static const char units[] = "KMGT";
	size_t digits = strspn(s, "0123456789"), i;
	const char *unit;
	u128 v = 0;
	unsigned shift = 0;

	if (digits == 0)
		return -1;
	for (i = 0; i < digits; i++) {
		v = v * 10 + (u128)(s[i] - '0');
		if (v > UINT64_MAX)
			return -1;
	}
	s += digits;
	if (*s != '\0') {
		unit = strchr(units, toupper((unsigned char)*s));
		if (!unit || !isalpha((unsigned char)*s))
			return -1;
		shift = 10u * (unsigned)(unit - units + 1);
		s++;
		if (strcmp(s, "") != 0 && strcmp(s, "B") != 0 &&
		    strcmp(s, "iB") != 0)
			return -1;
	}
	v <<= shift;
	if (v > UINT64_MAX)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

/* The offset grammar above, in 128 bits. */
static int reference_offset(const char *s, uint64_t *out)
{
	size_t digits, i;
	u128 v = 0;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return reference_parse(s, out);
	s += 2;
	digits = strspn(s, "0123456789abcdefABCDEF");
	if (digits == 0 || s[digits] != '\0')
		return -1;
	for (i = 0; i < digits; i++) {
		int c = tolower((unsigned char)s[i]);

		v = v * 16 + (u128)(c <= '9' ? c - '0' : c - 'a' + 10);
		if (v > UINT64_MAX)
			return -1;
	}
	*out = (uint64_t)v;
	return 0;
}

static void check_offset(const char *text)
{
	uint64_t got = 0, want = 0;
	int rc = mkr2simg_parse_offset(text, &got);
	int want_rc = reference_offset(text, &want);

	if (rc != want_rc || (rc == 0 && got != want))
		fuzz_fail("offset '%s': parser %d (%llu), reference %d (%llu)",
			  text, rc, (unsigned long long)got, want_rc,
			  (unsigned long long)want);
}

/* mk_size_text(bytes) parses back to bytes. */
static void check_round_trip(uint64_t bytes)
{
	char buf[MK_SIZE_TEXT_MAX];
	const char *text = mk_size_text(bytes, buf);
	uint64_t back = 0;

	if (mkr2simg_parse_size(text, &back) != 0 || back != bytes)
		fuzz_fail("%llu written as '%s' reads back as %llu",
			  (unsigned long long)bytes, text,
			  (unsigned long long)back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstring(data, size);
	uint64_t got = 0, want = 0;
	int rc = mkr2simg_parse_size(text, &got);
	int want_rc = reference_parse(text, &want);

	if (rc != want_rc)
		fuzz_fail("'%s': parser says %d, reference %d", text, rc,
			  want_rc);
	if (rc == 0 && got != want)
		fuzz_fail("'%s': parser %llu, reference %llu", text,
			  (unsigned long long)got, (unsigned long long)want);
	if (rc == 0)
		check_round_trip(got);
	check_offset(text);
	if (size >= sizeof(got)) {
		memcpy(&got, data, sizeof(got));
		check_round_trip(got);
	}
	free(text);
	return 0;
}
