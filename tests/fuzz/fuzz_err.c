/*
 * fuzz_err.c - libFuzzer harness for error messages (err.c).
 *
 * Every reader quotes what it read (a bad line, a path, a link
 * target) in its message, so the message builder sees fuzzed bytes too.
 * Owns: feeding arbitrary text to mk_err_fit and mk_fail and the oracle
 * for err.h's promise, from a separately written escaper: control bytes
 * become \n, \t or \xNN; a message that fits is exactly the escaped
 * text; one that does not is size-1 bytes long and either keeps
 * everything but the middle of its first longest space-free word (then
 * "...") or, when that word is too short to absorb the cut, is the
 * escaped text's head; fitting a fitted message changes nothing.
 *
 * Input: bytes 0-1 = buffer size - 1 (little endian, modulo 1100), then
 * the text (cut at its first NUL, as a C string is).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fuzz_util.h"

#define SIZE_RANGE 1100
#define ELLIPSIS "..."

/* err.h's escaping, written apart from err.c. */
static char *reference_escape(const char *text)
{
	char *out = malloc(strlen(text) * 4 + 1), *p = out;

	if (!out)
		fuzz_fail("out of memory");
	for (; *text; text++) {
		unsigned char c = (unsigned char)*text;

		if (c == '\n' || c == '\t')
			p += sprintf(p, "\\%c", c == '\n' ? 'n' : 't');
		else if (c < 0x20 || c == 0x7f)
			p += sprintf(p, "\\x%02x", c);
		else
			*p++ = (char)c;
	}
	*p = '\0';
	return out;
}

/* The first longest run of bytes without a space. */
static void first_longest_word(const char *s, size_t *start, size_t *len)
{
	size_t i = 0;

	*start = 0;
	*len = 0;
	while (s[i]) {
		size_t n = strcspn(s + i, " ");

		if (n > *len) {
			*start = i;
			*len = n;
		}
		i += n + (s[i + n] == ' ');
	}
}

static int starts_with(const char *s, const char *head, size_t n)
{
	return strncmp(s, head, n) == 0;
}

static int ends_with(const char *s, const char *tail)
{
	size_t ls = strlen(s), lt = strlen(tail);

	return ls >= lt && strcmp(s + ls - lt, tail) == 0;
}

/* The shortened word `got` (`glen` bytes) is the head of `word` (`wlen`
 * bytes), "...", and its tail, the two within a byte of each other (the
 * word may hold "..." itself, so the cut is looked for where it must be). */
static void check_word_middle(const char *word, size_t wlen, const char *got,
			      size_t glen)
{
	const size_t dots = strlen(ELLIPSIS);
	size_t kept = glen >= dots ? glen - dots : 0, h;

	for (h = kept / 2; glen >= dots && h <= (kept + 1) / 2; h++)
		if (memcmp(got + h, ELLIPSIS, dots) == 0 &&
		    strncmp(got, word, h) == 0 &&
		    memcmp(got + h + dots, word + wlen - (kept - h),
			   kept - h) == 0)
			return;
	fuzz_fail("'%.*s' is not the middle of '%.*s' cut out", (int)glen, got,
		  (int)wlen, word);
}

/* `out` (of a `size`-byte buffer) as err.h promises for `esc`. */
static void check_fit(const char *esc, const char *out, size_t size)
{
	size_t len = strlen(esc), start, wlen;

	if (len < size) {
		if (strcmp(out, esc) != 0)
			fuzz_fail("'%s' fits %zu bytes but became '%s'", esc,
				  size, out);
		return;
	}
	first_longest_word(esc, &start, &wlen);
	if (strlen(out) != size - 1)
		fuzz_fail("'%s' in %zu bytes is %zu long", esc, size,
			  strlen(out));
	if (wlen <= len - size + 1 + strlen(ELLIPSIS)) {
		if (!starts_with(esc, out, size - 1))
			fuzz_fail("'%s' cut to '%s', not its head", esc, out);
		return;
	}
	if (!starts_with(out, esc, start) || !ends_with(out, esc + start + wlen) ||
	    !strstr(out + start, ELLIPSIS))
		fuzz_fail("'%s' in %zu bytes lost more than its longest word's "
			  "middle: '%s'", esc, size, out);
	check_word_middle(esc + start, wlen, out + start,
			  size - 1 - start - (len - start - wlen));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t bufsize = size >= 2 ? 1 + (data[0] | (size_t)data[1] << 8) %
					     SIZE_RANGE : MK_ERR_MAX;
	char *text = fuzz_cstring(data + (size >= 2 ? 2 : 0),
				  size >= 2 ? size - 2 : size);
	char *esc = reference_escape(text);
	char *out = malloc(bufsize), *again = malloc(bufsize);
	struct mk_err e;

	if (!out || !again)
		fuzz_fail("out of memory");
	mk_err_fit(text, out, bufsize);
	check_fit(esc, out, bufsize);
	mk_err_fit(out, again, bufsize);
	if (strcmp(out, again) != 0)
		fuzz_fail("fitting '%s' again gave '%s'", out, again);
	mk_fail(&e, "%s", text);
	check_fit(esc, e.msg, sizeof(e.msg));
	free(text);
	free(esc);
	free(out);
	free(again);
	return 0;
}
