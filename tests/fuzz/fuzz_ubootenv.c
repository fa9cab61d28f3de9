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
	return 0;
}
