#include "ubootenv.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

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

	if (!v)
		return 0;
	p = v;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	if (mk_parse_hex(p, out) == 0)
		return 1;
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

/* ---- the saved environment ---------------------------------------- */

#define FLAGS_WRAP_HIGH 255 /* env_check_redund: 0 is newer than 255 */

/* The strings of `data` up to the empty one that ends them (himport_r
 * stops there), or all of it when none does; always ended by two NULs. */
static int copy_vars(const uint8_t *data, size_t len, struct ubootenv *env,
		     struct mk_err *e)
{
	size_t used = 0, n = 0;

	while (used < len && data[used] != '\0') {
		const uint8_t *nul = memchr(data + used, '\0', len - used);

		used = nul ? (size_t)(nul - data) + 1 : len;
		n++;
	}
	env->text = malloc(used + 2);
	if (!env->text)
		return mk_fail(e, "out of memory");
	memcpy(env->text, data, used);
	env->text[used] = env->text[used + 1] = '\0';
	/* A last string cut by the end of the range ends at `used`. */
	env->len = used && data[used - 1] != '\0' ? used + 2 : used + 1;
	env->vars = n;
	return 0;
}

int ubootenv_read_saved(const uint8_t *area, size_t size, int redundant,
			struct ubootenv_saved *out, struct mk_err *e)
{
	size_t header = UBOOTENV_CRC_SIZE + (redundant ? UBOOTENV_FLAGS_SIZE
						       : 0);
	uint32_t crc;

	memset(out, 0, sizeof(*out));
	out->flags = -1;
	if (size <= header)
		return mk_fail(e, "a saved environment of %zu bytes has no "
			       "room for data after its %zu-byte header",
			       size, header);
	memcpy(&crc, area, sizeof(crc));
	out->crc_stored = le32toh(crc);
	if (redundant)
		out->flags = area[UBOOTENV_CRC_SIZE];
	out->crc_computed = (uint32_t)crc32(0L, area + header,
					    (uInt)(size - header));
	out->valid = out->crc_stored == out->crc_computed;
	if (!out->valid)
		return 0;
	return copy_vars(area + header, size - header, &out->env, e);
}

int ubootenv_saved_pick(const struct ubootenv_saved *a,
			const struct ubootenv_saved *b)
{
	if (!b || !a->valid || !b->valid)
		return a->valid ? 0 : b && b->valid ? 1 : -1;
	if (a->flags == FLAGS_WRAP_HIGH && b->flags == 0)
		return 1;
	if (b->flags == FLAGS_WRAP_HIGH && a->flags == 0)
		return 0;
	return b->flags > a->flags ? 1 : 0;
}

void ubootenv_saved_free(struct ubootenv_saved *s)
{
	ubootenv_free(&s->env);
}
