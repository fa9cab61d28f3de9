/*
 * test_err.c - err.c: every message is one printable line that keeps its
 * reason.
 *
 * Control characters from names (newline, tab, ESC, BEL, CR) are shown
 * escaped, so a name cannot add a line or drive the terminal, and
 * escaping an escaped message changes nothing (messages quote others).
 * A message longer than the buffer loses the middle of its longest word,
 * the path, never its end, where the reason is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

static void test_plain_message_unchanged(void **state)
{
	struct mk_err e;

	(void)state;
	assert_int_equal(mk_fail(&e, "%s: %d bytes", "/nix/store/x", 42), -1);
	assert_string_equal(e.msg, "/nix/store/x: 42 bytes");
	assert_int_equal(mk_fail_errno(&e, ENOENT, "%s", "f"), -1);
	assert_string_equal(e.msg, "f: No such file or directory");
}

static void test_control_characters_escaped(void **state)
{
	struct mk_err e, again;

	(void)state;
	mk_fail(&e, "%s: is a fifo", "x\nmkr2simg: wrote fake.img\t\x1b[31m\a\r\x7f");
	assert_string_equal(e.msg, "x\\nmkr2simg: wrote fake.img\\t\\x1b[31m"
				   "\\x07\\x0d\\x7f: is a fifo");
	mk_fail(&again, "--registration %s", e.msg);
	assert_string_equal(again.msg + strlen("--registration "), e.msg);
}

static void test_long_path_keeps_reason(void **state)
{
	struct mk_err e;
	char *path = malloc(3000), *p = path;

	(void)state;
	assert_non_null(path);
	p += sprintf(p, "/nix/store/abc-deep");
	while (p < path + 2900)
		p += sprintf(p, "/d");
	sprintf(p, "/leaf");
	mk_fail_errno(&e, EMFILE, "%s: cannot read directory", path);
	assert_true(strlen(e.msg) < MK_ERR_MAX);
	assert_non_null(strstr(e.msg, ": cannot read directory: Too many open "
				      "files"));
	assert_memory_equal(e.msg, "/nix/store/abc-deep/d/d", 23);
	assert_non_null(strstr(e.msg, "..."));
	assert_non_null(strstr(e.msg, "/d/d/leaf: cannot"));
	free(path);
}

static void test_fit_small_buffer(void **state)
{
	char out[40];

	(void)state;
	mk_err_fit("/a/very/long/path/to/some/file/in/the/store: gone", out,
		   sizeof(out));
	assert_true(strlen(out) == sizeof(out) - 1);
	assert_non_null(strstr(out, ": gone"));
	assert_memory_equal(out, "/a/very", 7);
}


/* Differences are lines as errors are: one line each, escaped, counted
 * even when nobody listens. */
static void save_line(void *user, const char *line)
{
	snprintf(user, MK_ERR_MAX, "%s", line);
}

static void test_diff_lines(void **state)
{
	char got[MK_ERR_MAX] = "";
	struct mk_diffs d = { save_line, got, 0 };
	struct mk_diffs quiet = { NULL, NULL, 0 };
	char path[3000];

	(void)state;
	mk_diff(&d, "%s: mode %04o, expected %04o", "/nix/store/a\nb", 0755,
		0555);
	assert_string_equal(got, "/nix/store/a\\nb: mode 0755, expected 0555");
	memset(path, 'p', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	mk_diff(&d, "/%s: missing", path);
	assert_true(strlen(got) < MK_ERR_MAX);
	assert_non_null(strstr(got, "...p"));
	assert_string_equal(got + strlen(got) - strlen("p: missing"),
			    "p: missing");
	assert_int_equal(d.count, 2);
	mk_diff(&quiet, "%s", "counted");
	assert_int_equal(quiet.count, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_message_unchanged),
		cmocka_unit_test(test_control_characters_escaped),
		cmocka_unit_test(test_long_path_keeps_reason),
		cmocka_unit_test(test_fit_small_buffer),
		cmocka_unit_test(test_diff_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
