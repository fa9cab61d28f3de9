/*
 * test_ubootenv.c - ubootenv.c: finding U-Boot's default environment in
 * a bootloader's bytes and reading addresses from it.
 *
 * tests/data/rock64-rk3328.env is the environment block of Debian 12's
 * u-boot-rockchip rock64-rk3328/u-boot.itb (2023.01+dfsg-2+deb12u3),
 * cut out with perl by tests/data/README.md's command.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ubootenv.h"
#include "util.h"

/* `text` (with its NULs, `len` bytes) between blocks of other bytes:
 * printf-like strings without '=' before, binary after. */
static uint8_t *embed(const char *text, size_t len, size_t *out_len)
{
	static const char before[] = "\x13\x37junk\0%s: %d\0No closing ']' "
				     "bracket\0Insufficient RAM: 0x%lx\0";
	static const char after[] = "\xff\xfe\x01\x02more code";
	uint8_t *b = malloc(sizeof(before) + len + sizeof(after));

	assert_non_null(b);
	memcpy(b, before, sizeof(before));
	memcpy(b + sizeof(before), text, len);
	memcpy(b + sizeof(before) + len, after, sizeof(after));
	*out_len = sizeof(before) + len + sizeof(after);
	return b;
}

static void find(const char *text, size_t len, struct ubootenv *env)
{
	struct mk_err e = { "" };
	size_t blen;
	uint8_t *b = embed(text, len, &blen);

	assert_int_equal(ubootenv_find(b, blen, env, &e), 0);
	free(b);
}

static uint64_t addr(const struct ubootenv *env, const char *name)
{
	struct mk_err e = { "" };
	uint64_t v = 0;

	if (ubootenv_get_addr(env, name, &v, &e) != 1)
		fail_msg("%s: %s", name, e.msg);
	return v;
}

/* The real thing: Debian's rock64-rk3328 u-boot.itb environment. */
static void test_debian_rock64(void **state)
{
	const char *dir = getenv("MKR2SIMG_TEST_DATA");
	char path[4096];
	struct mk_buf b;
	struct mk_err e = { "" };
	struct ubootenv env;

	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/rock64-rk3328.env", dir);
	if (mk_read_all(path, &b, &e))
		fail_msg("%s", e.msg);
	find(b.data, b.len, &env);
	assert_non_null(env.text);
	assert_int_equal(env.len, b.len);
	assert_int_equal(addr(&env, "kernel_addr_r"), 0x02080000);
	assert_int_equal(addr(&env, "ramdisk_addr_r"), 0x06000000);
	assert_int_equal(addr(&env, "fdt_addr_r"), 0x01f00000);
	assert_string_equal(ubootenv_get(&env, "fdtfile"),
			    "rockchip/rk3328-rock64.dtb");
	assert_string_equal(ubootenv_get(&env, "bootcmd"), "run distro_bootcmd");
	assert_null(ubootenv_get(&env, "kernel_comp_addr_r"));
	ubootenv_free(&env);
	free(b.data);
}

#define ENV(s) s, sizeof(s) /* the literal's own final NUL ends the block */

static void test_missing_variables(void **state)
{
	struct ubootenv env;
	struct mk_err e = { "" };
	uint64_t v = 7;

	(void)state;
	find(ENV("bootdelay=2\0kernel_addr_r=0x40400000\0"), &env);
	assert_non_null(env.text);
	assert_int_equal(env.vars, 2);
	assert_int_equal(ubootenv_get_addr(&env, "ramdisk_addr_r", &v, &e), 0);
	assert_int_equal(v, 7);
	assert_null(ubootenv_get(&env, "kernel_addr"));  /* a prefix */
	assert_null(ubootenv_get(&env, "ernel_addr_r")); /* a suffix */
	ubootenv_free(&env);
	/* No kernel_addr_r: no environment found at all. */
	find(ENV("bootdelay=2\0ramdisk_addr_r=0x44000000\0"), &env);
	assert_null(env.text);
}

/* Values are read as U-Boot reads them: base 16, "0x" optional. */
static void test_hex_and_decimal(void **state)
{
	struct ubootenv env;
	struct mk_err e = { "" };
	uint64_t v;

	(void)state;
	find(ENV("kernel_addr_r=02080000\0ramdisk_addr_r=0X6000000\0"
		 "fdt_addr_r=33554432\0kernel_comp_size=0x2000000\0"
		 "a=\0b=0x\0c= 0x1000\0d=0x1000 \0e=12g\0"), &env);
	assert_int_equal(addr(&env, "kernel_addr_r"), 0x02080000);
	assert_int_equal(addr(&env, "ramdisk_addr_r"), 0x06000000);
	/* decimal digits are still hex to U-Boot */
	assert_int_equal(addr(&env, "fdt_addr_r"), 0x33554432);
	assert_int_equal(addr(&env, "kernel_comp_size"), 0x2000000);
	for (const char *n = "abcde"; *n; n++) {
		char name[2] = { *n, 0 };
		assert_int_equal(ubootenv_get_addr(&env, name, &v, &e), -1);
		assert_non_null(strstr(e.msg, name));
	}
	ubootenv_free(&env);
}

/* Spaces, tabs and newlines inside values are text; the block still
 * stops at the first string that is not name=value. */
static void test_odd_spacing(void **state)
{
	struct ubootenv env;

	(void)state;
	find(ENV("bootcmd=run  distro_bootcmd ;\techo  done\0"
		 "script=if x; then\n  y\nfi\0kernel_addr_r=0x100\0"), &env);
	assert_int_equal(env.vars, 3);
	assert_string_equal(ubootenv_get(&env, "bootcmd"),
			    "run  distro_bootcmd ;\techo  done");
	assert_int_equal(addr(&env, "kernel_addr_r"), 0x100);
	ubootenv_free(&env);
	/* "x = y" has a space in the name: not part of the block */
	find(ENV("x = y\0kernel_addr_r=0x100\0"), &env);
	assert_int_equal(env.vars, 1);
	ubootenv_free(&env);
}

/* Several candidates: help text mentioning kernel_addr_r= is not the
 * environment; the block with the most variables wins. */
static void test_several_candidates(void **state)
{
	static const char blob[] =
		"\x01\x02kernel_addr_r=0x1 is where\x03\x04\0\0"
		"kernel_addr_r=0x2\0\0\x05\0"
		"arch=arm\0kernel_addr_r=0x3\0ramdisk_addr_r=0x4\0\0\x06";
	struct mk_err e = { "" };
	struct ubootenv env;

	(void)state;
	assert_int_equal(ubootenv_find((const uint8_t *)blob, sizeof(blob),
				       &env, &e), 0);
	assert_int_equal(env.vars, 3);
	assert_int_equal(addr(&env, "kernel_addr_r"), 3);
	ubootenv_free(&env);
	/* an unterminated block (file ends) is not an environment */
	assert_int_equal(ubootenv_find((const uint8_t *)"kernel_addr_r=0x1",
				       17, &env, &e), 0);
	assert_null(env.text);
	assert_int_equal(ubootenv_find((const uint8_t *)"", 0, &env, &e), 0);
	assert_null(env.text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debian_rock64),
		cmocka_unit_test(test_missing_variables),
		cmocka_unit_test(test_hex_and_decimal),
		cmocka_unit_test(test_odd_spacing),
		cmocka_unit_test(test_several_candidates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
