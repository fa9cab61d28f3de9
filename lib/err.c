#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ESCAPED_MAX 4        /* "\xNN" */
#define ELLIPSIS "..."

/* Writes byte `c` as it is shown; returns the bytes written. */
static size_t escape_byte(unsigned char c, char *out)
{
	if (c == '\n')
		return (size_t)sprintf(out, "\\n");
	if (c == '\t')
		return (size_t)sprintf(out, "\\t");
	if (c < 0x20 || c == 0x7f)
		return (size_t)sprintf(out, "\\x%02x", c);
	*out = (char)c;
	return 1;
}

/* `text` escaped, malloc'd; NULL when out of memory. */
static char *escape(const char *text)
{
	char *out = malloc(strlen(text) * ESCAPED_MAX + 1), *p = out;

	if (!out)
		return NULL;
	for (; *text; text++)
		p += escape_byte((unsigned char)*text, p);
	*p = '\0';
	return out;
}

/* The longest run of bytes without a space: where a path is. */
static void longest_word(const char *s, size_t *start, size_t *len)
{
	size_t i = 0, best = 0, best_len = 0;

	while (s[i]) {
		size_t j = i;

		while (s[j] && s[j] != ' ')
			j++;
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
		i = s[j] ? j + 1 : j;
	}
	*start = best;
	*len = best_len;
}

void mk_err_fit(const char *text, char *out, size_t size)
{
	char *s = escape(text);
	size_t len, start, wlen, cut, keep_head;

	if (!s) {
		snprintf(out, size, "%s", "out of memory");
		return;
	}
	len = strlen(s);
	longest_word(s, &start, &wlen);
	if (len >= size && wlen > len - size + 1 + strlen(ELLIPSIS)) {
		/* Cut the middle of the path, keep both of its ends. */
		cut = len - size + 1 + strlen(ELLIPSIS);
		keep_head = (wlen - cut) / 2;
		memcpy(s + start + keep_head, ELLIPSIS, strlen(ELLIPSIS));
		memmove(s + start + keep_head + strlen(ELLIPSIS),
			s + start + keep_head + cut,
			len - (start + keep_head + cut) + 1);
	}
	snprintf(out, size, "%s", s);
	free(s);
}

static void vfail(struct mk_err *e, const char *suffix, const char *fmt,
		  va_list ap)
{
	char *text = NULL, *full = NULL;

	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	if (text && suffix && asprintf(&full, "%s: %s", text, suffix) < 0)
		full = NULL;
	mk_err_fit(full ? full : text ? text : "out of memory", e->msg,
		   sizeof(e->msg));
	free(full);
	free(text);
}

int mk_fail(struct mk_err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(e, NULL, fmt, ap);
	va_end(ap);
	return -1;
}

int mk_fail_errno(struct mk_err *e, int errno_value, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(e, strerror(errno_value), fmt, ap);
	va_end(ap);
	return -1;
}

void mk_diff(struct mk_diffs *d, const char *fmt, ...)
{
	struct mk_err line;
	va_list ap;

	va_start(ap, fmt);
	vfail(&line, NULL, fmt, ap);
	va_end(ap);
	d->count++;
	if (d->line)
		d->line(d->user, line.msg);
}
