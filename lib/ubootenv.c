#include "ubootenv.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* U-Boot's variable names in practice: letters, digits and "_.#:-". */
static int is_name_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '#' ||
	       c == ':' || c == '-';
}

/* Printable ASCII, or a tab or newline (multi-line scripts). */
static int is_text_char(uint8_t c)
{
	return (c >= 0x20 && c < 0x7f) || c == '\t' || c == '\n';
}

/* Length of the "name=value" string at p (before its NUL, within end),
 * or 0 when the bytes there are not one. */
static size_t var_len(const uint8_t *p, const uint8_t *end)
{
	const uint8_t *q = p;

	while (q < end && is_name_char(*q))
		q++;
	if (q == p || q >= end || *q != '=')
		return 0;
	while (q < end && *q != '\0') {
		if (!is_text_char(*q))
			return 0;
		q++;
	}
	return q < end ? (size_t)(q - p) : 0;
}

/* Start of the string that ends (with its NUL) just before `p`. */
static const uint8_t *prev_string(const uint8_t *base, const uint8_t *p)
{
	const uint8_t *s = p - 1; /* its NUL */

	while (s > base && s[-1] != '\0')
		s--;
	return s;
}

/* The block around the variable at `at`: back while the strings before
 * are variables, forward to the empty string that ends it. */
static int block_at(const uint8_t *data, size_t len, const uint8_t *at,
		    const uint8_t **start, size_t *blen, size_t *vars)
{
	const uint8_t *end = data + len, *s = at, *p;
	size_t n = 0, l;

	while (s > data + 1 && s[-1] == '\0' && s[-2] != '\0') {
		const uint8_t *prev = prev_string(data, s - 1);

		if (var_len(prev, end) != (size_t)(s - 1 - prev))
			break;
		s = prev;
	}
	for (p = s; p < end && *p != '\0'; p += l + 1, n++)
		if ((l = var_len(p, end)) == 0)
			return 0;
	if (p >= end)
		return 0; /* no empty string at the end: not U-Boot's block */
	*start = s;
	*blen = (size_t)(p + 1 - s);
	*vars = n;
	return 1;
}

int ubootenv_find(const uint8_t *data, size_t len, struct ubootenv *env,
		  struct mk_err *e)
{
	const size_t alen = strlen(UBOOTENV_ANCHOR);
	const uint8_t *p = data, *best = NULL, *start;
	size_t best_len = 0, best_vars = 0, blen, vars;

	memset(env, 0, sizeof(*env));
	while (len >= alen && (size_t)(p - data) <= len - alen &&
	       (p = memmem(p, len - (size_t)(p - data), UBOOTENV_ANCHOR,
			   alen)) != NULL) {
		if ((p == data || p[-1] == '\0') &&
		    block_at(data, len, p, &start, &blen, &vars) &&
		    vars > best_vars) {
			best = start;
			best_len = blen;
			best_vars = vars;
		}
		p++;
	}
	if (!best)
		return 0;
	env->text = malloc(best_len);
	if (!env->text)
		return mk_fail(e, "out of memory");
	memcpy(env->text, best, best_len);
	env->len = best_len;
	env->vars = best_vars;
	return 0;
}

int ubootenv_load(const char *path, struct ubootenv *env, struct mk_err *e)
{
	struct mk_buf b;
	int rc;

	memset(env, 0, sizeof(*env));
	if (mk_read_all(path, &b, e))
		return -1;
	rc = ubootenv_find((const uint8_t *)b.data, b.len, env, e);
	free(b.data);
	return rc;
}

const char *ubootenv_get(const struct ubootenv *env, const char *name)
{
	size_t nlen = strlen(name);
	const char *p;

	if (!env->text)
		return NULL;
	for (p = env->text; *p; p += strlen(p) + 1)
		if (strncmp(p, name, nlen) == 0 && p[nlen] == '=')
			return p + nlen + 1;
	return NULL;
}


int ubootenv_get_addr(const struct ubootenv *env, const char *name,
		      uint64_t *out, struct mk_err *e)
{
	const char *v = ubootenv_get(env, name), *p;
	uint64_t n = 0;
	int d;

	if (!v)
		return 0;
	p = v;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	if (*p == '\0')
		goto bad;
	for (; *p; p++) {
		if ((d = mk_hex_value(*p)) < 0 || n > (UINT64_MAX >> 4))
			goto bad;
		n = n << 4 | (uint64_t)d;
	}
	*out = n;
	return 1;
bad:
	/* The name stands alone, so a long value shortened in the middle of
	 * the message never takes the name with it. */
	return mk_fail(e, "%s in the bootloader's environment is '%s', not a "
		       "hexadecimal address, so U-Boot cannot load there",
		       name, v);
}

void ubootenv_free(struct ubootenv *env)
{
	free(env->text);
	memset(env, 0, sizeof(*env));
}
