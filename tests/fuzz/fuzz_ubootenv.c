/*
 * fuzz_ubootenv.c - libFuzzer harness for the U-Boot environment reader.
 *
 * Owns: feeding arbitrary bytes (a stand-in for u-boot.itb or
 * u-boot-rockchip.bin) to ubootenv_find and the oracle for ubootenv.h's
 * promise, from a second, separately written search: split the bytes
 * at NULs; a candidate block is a maximal run of "name=value" strings
 * (name of [A-Za-z0-9_.#:-], value of printable ASCII, tab, newline)
 * that holds a string starting with UBOOTENV_ANCHOR and is followed by
 * an empty string; the first with the most variables wins.  Then
 * ubootenv_get finds every variable's value (the first of a name), and
 * ubootenv_get_addr reads it as U-Boot's strict hexadecimal (optional
 * "0x", at least one hex digit, at most 64 bits) or says why not.
 *
 * The same bytes are also one copy of a saved environment: the first
 * byte picks the layout (bit 0: redundant, with a flags byte) and
 * whether the harness makes the CRC right first (bit 1), so the valid
 * path is reached too; the rest is the copy.  The oracle: a bitwise
 * CRC-32 (IEEE 802.3, reflected, as zlib's and U-Boot's) of the data,
 * little-endian in the first 4 bytes; when it matches, the variables
 * are the strings up to the first empty one (or the end); two copies
 * are picked by env_check_redund's rules.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "ubootenv.h"

struct block {
	size_t start, len, vars; /* len: both final NULs included */
};

static int name_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("_.#:-", c));
}

/* Whether the NUL-terminated string of `n` bytes at `s` is a variable. */
static int is_var(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n && name_char(s[i]))
		i++;
	if (i == 0 || i == n || s[i] != '=')
		return 0;
	for (i++; i < n; i++)
		if (!((s[i] >= 0x20 && s[i] < 0x7f) || s[i] == '\t' ||
		      s[i] == '\n'))
			return 0;
	return 1;
}

/* The run of variables starting at `pos`: its end (the position of the
 * string after it), the count, and whether it holds the anchor. */
static size_t run_at(const uint8_t *d, size_t len, size_t pos, size_t *vars,
		     int *anchor)
{
	const size_t alen = strlen(UBOOTENV_ANCHOR);

	*vars = 0;
	*anchor = 0;
	while (pos < len) {
		const uint8_t *nul = memchr(d + pos, '\0', len - pos);
		size_t n = nul ? (size_t)(nul - d) - pos : 0;

		if (!nul || !is_var(d + pos, n))
			break;
		*anchor |= n >= alen && memcmp(d + pos, UBOOTENV_ANCHOR,
					      alen) == 0;
		(*vars)++;
		pos += n + 1;
	}
	return pos;
}

/* The reference search; best.vars == 0 when there is no block. */
static struct block reference_find(const uint8_t *d, size_t len)
{
	struct block best = { 0, 0, 0 };
	size_t pos = 0;

	while (pos < len) {
		size_t vars, end;
		int anchor;

		end = run_at(d, len, pos, &vars, &anchor);
		if (vars > 0 && anchor && end < len && d[end] == '\0' &&
		    vars > best.vars) {
			best.start = pos;
			best.len = end + 1 - pos;
			best.vars = vars;
		}
		if (vars > 0) {
			pos = end;
			continue;
		}
		end = pos;
		while (end < len && d[end] != '\0')
			end++;
		pos = end + 1; /* past the string that is no variable */
	}
	return best;
}

/* U-Boot's strict_strtoul(value, 16) as ubootenv.h describes it. */
static int reference_addr(const char *v, uint64_t *out)
{
	uint64_t n = 0;
	size_t i, digits;

	if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X'))
		v += 2;
	digits = strspn(v, "0123456789abcdefABCDEF");
	if (digits == 0 || v[digits] != '\0')
		return -1;
	for (i = 0; i < digits; i++) {
		unsigned c = (unsigned char)v[i];
		unsigned d = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

		if (n >> 60)
			return -1;
		n = n << 4 | d;
	}
	*out = n;
	return 0;
}

/* The value of variable `var` ("name=value"), as the first of its name
 * in the block is. */
static void check_var(const struct ubootenv *env, const char *var)
{
	size_t nlen = strcspn(var, "=");
	char *name = fuzz_cstring((const uint8_t *)var, nlen);
	const char *first = ubootenv_get(env, name), *p;
	uint64_t got = 0, want = 0;
	struct mk_err e;
	int rc, want_rc;

	for (p = env->text; strncmp(p, name, nlen) || p[nlen] != '=';
	     p += strlen(p) + 1)
		;
	if (first != p + nlen + 1)
		fuzz_fail("ubootenv_get(%s) is not the first such variable",
			  name);
	rc = ubootenv_get_addr(env, name, &got, &e);
	want_rc = reference_addr(first, &want);
	if (rc != (want_rc == 0 ? 1 : -1) || (rc == 1 && got != want))
		fuzz_fail("%s=%s: get_addr %d (%llu), reference %d (%llu)",
			  name, first, rc, (unsigned long long)got, want_rc,
			  (unsigned long long)want);
	/* A message too long for MK_ERR_MAX loses the middle of its longest
	 * word, here "name=value" (of the first such name): only a short
	 * one must keep the name. */
	if (rc == -1)
		fuzz_check_err(&e, nlen + strlen(first) < MK_ERR_MAX / 4 ? name
								      : NULL);
	free(name);
}

static void check_env(const struct ubootenv *env, const uint8_t *d,
		      struct block want)
{
	const char *p;
	size_t n = 0;

	if (!env->text || env->len != want.len || env->vars != want.vars ||
	    memcmp(env->text, d + want.start, want.len) != 0)
		fuzz_fail("found %zu variables in %zu bytes, the reference "
			  "%zu in %zu bytes at %zu", env->vars, env->len,
			  want.vars, want.len, want.start);
	for (p = env->text; *p; p += strlen(p) + 1, n++)
		check_var(env, p);
	if (n != env->vars || ubootenv_get(env, "kernel_addr_r") == NULL)
		fuzz_fail("the block's variables do not read back");
}

/* ---- the saved environment ---------------------------------------- */

#define CRC32_POLY 0xEDB88320u /* reflected IEEE 802.3 */

static uint32_t reference_crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ CRC32_POLY : c >> 1;
	}
	return ~c;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* The variables' bytes: strings up to the empty one, or all of them. */
static size_t reference_vars(const uint8_t *d, size_t n, size_t *count)
{
	size_t pos = 0;

	*count = 0;
	while (pos < n && d[pos] != '\0') {
		const uint8_t *nul = memchr(d + pos, '\0', n - pos);

		pos = nul ? (size_t)(nul - d) + 1 : n;
		(*count)++;
	}
	return pos;
}

static void check_saved(const uint8_t *data, size_t size)
{
	int redundant, fix;
	size_t header, n, used, count;
	uint8_t *area;
	struct ubootenv_saved s;
	struct mk_err e;
	int rc;

	if (size == 0)
		return;
	redundant = data[0] & 1;
	fix = data[0] & 2;
	header = 4 + (size_t)redundant;
	n = size - 1;
	area = malloc(n ? n : 1);
	if (!area)
		fuzz_fail("out of memory");
	memcpy(area, data + 1, n);
	if (fix && n > header) {
		uint32_t c = reference_crc32(area + header, n - header);

		for (int i = 0; i < 4; i++)
			area[i] = (uint8_t)(c >> (8 * i));
	}
	rc = ubootenv_read_saved(area, n, redundant, &s, &e);
	if (n <= header) {
		if (rc != -1)
			fuzz_fail("a %zu-byte copy was read", n);
		fuzz_check_err(&e, NULL);
		free(area);
		return;
	}
	if (rc != 0)
		fuzz_fail("ubootenv_read_saved failed: %s", e.msg);
	if (s.crc_stored != le32(area) ||
	    s.crc_computed != reference_crc32(area + header, n - header) ||
	    s.valid != (s.crc_stored == s.crc_computed) ||
	    (fix && !s.valid) ||
	    s.flags != (redundant ? area[4] : -1))
		fuzz_fail("CRC %08x/%08x valid %d flags %d", s.crc_stored,
			  s.crc_computed, s.valid, s.flags);
	if (s.valid) {
		used = reference_vars(area + header, n - header, &count);
		if (s.env.vars != count ||
		    memcmp(s.env.text, area + header, used) != 0 ||
		    s.env.text[used] != '\0' || s.env.text[used + 1] != '\0')
			fuzz_fail("%zu variables read, the reference %zu",
				  s.env.vars, count);
	} else if (s.env.text) {
		fuzz_fail("variables of an environment that is not valid");
	}
	ubootenv_saved_free(&s);
	free(area);
}

/* env_check_redund's choice, written as its comments say it. */
static void check_pick(const uint8_t *data, size_t size)
{
	struct ubootenv_saved a = { 0 }, b = { 0 };
	int want, got;

	if (size < 4)
		return;
	a.valid = data[0] & 1;
	b.valid = data[1] & 1;
	a.flags = data[2];
	b.flags = data[3];
	if (!a.valid && !b.valid)
		want = -1;
	else if (!a.valid || !b.valid)
		want = a.valid ? 0 : 1;
	else if (a.flags == 255 && b.flags == 0)
		want = 1;
	else if (b.flags == 255 && a.flags == 0)
		want = 0;
	else
		want = b.flags > a.flags;
	got = ubootenv_saved_pick(&a, &b);
	if (got != want)
		fuzz_fail("pick %d, reference %d", got, want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct block want = reference_find(data, size);
	struct ubootenv env;
	struct mk_err e;

	if (ubootenv_find(data, size, &env, &e) != 0)
		fuzz_fail("ubootenv_find failed: %s", e.msg);
	if (want.vars == 0 && env.text)
		fuzz_fail("found a block of %zu variables; the reference none",
			  env.vars);
	if (want.vars > 0)
		check_env(&env, data, want);
	if (ubootenv_get(&env, "kernel_addr_r") == NULL && env.text)
		fuzz_fail("a block without the anchor");
	ubootenv_free(&env);
	check_saved(data, size);
	check_pick(data, size);
	return 0;
}
