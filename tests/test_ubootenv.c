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

#include <zlib.h>

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

/* ---- the saved environment ---- */

#define ENV_SIZE 0x8000u

/* A saved environment as U-Boot's env_export writes one: the variables,
 * zeros to `size`, the CRC32 (zlib's, little-endian) of everything after
 * the header, and in the redundant layout the flags byte. */
static uint8_t *saved_env(const char *vars, size_t vlen, size_t size,
			  int flags)
{
	size_t header = 4 + (flags >= 0);
	uint8_t *a = calloc(1, size);
	uint32_t crc;

	assert_non_null(a);
	assert_true(header + vlen <= size);
	memcpy(a + header, vars, vlen);
	if (flags >= 0)
		a[4] = (uint8_t)flags;
	crc = (uint32_t)crc32(0L, a + header, (uInt)(size - header));
	a[0] = (uint8_t)crc;
	a[1] = (uint8_t)(crc >> 8);
	a[2] = (uint8_t)(crc >> 16);
	a[3] = (uint8_t)(crc >> 24);
	return a;
}

static void read_saved(const uint8_t *a, size_t size, int redundant,
		       struct ubootenv_saved *s)
{
	struct mk_err e = { "" };

	if (ubootenv_read_saved(a, size, redundant, s, &e) != 0)
		fail_msg("%s", e.msg);
}

static void test_saved_defaults(void **state)
{
	(void)state;
	/* nanopi-r2s-rk3328_defconfig and env/Kconfig's Rockchip MMC size. */
	assert_int_equal(UBOOTENV_SAVED_OFFSET, 0x3F8000);
	assert_int_equal(UBOOTENV_SAVED_SIZE, 32 * 1024);
	assert_int_equal(UBOOTENV_SAVED_REDUNDANT_OFFSET, 0);
}

static void test_saved_valid(void **state)
{
	static const char vars[] = "bootcmd=run distro_bootcmd\0"
				   "ramdisk_addr_r=0x06000000\0"
				   "script=a\nb\0\0";
	uint8_t *a = saved_env(vars, sizeof(vars) - 1, ENV_SIZE, -1);
	struct ubootenv_saved s;
	struct mk_err e = { "" };
	uint64_t addr = 0;

	(void)state;
	read_saved(a, ENV_SIZE, 0, &s);
	assert_true(s.valid);
	assert_int_equal(s.crc_stored, s.crc_computed);
	assert_int_equal(s.flags, -1);
	assert_int_equal(s.env.vars, 3);
	assert_int_equal(s.env.len, sizeof(vars) - 1);
	assert_memory_equal(s.env.text, vars, sizeof(vars) - 1);
	assert_string_equal(ubootenv_get(&s.env, "bootcmd"),
			    "run distro_bootcmd");
	assert_string_equal(ubootenv_get(&s.env, "script"), "a\nb");
	assert_int_equal(ubootenv_get_addr(&s.env, "ramdisk_addr_r", &addr, &e),
			 1);
	assert_int_equal(addr, 0x06000000);
	ubootenv_saved_free(&s);

	/* One changed byte anywhere in the data: not valid, nothing read. */
	a[ENV_SIZE - 1] ^= 1;
	read_saved(a, ENV_SIZE, 0, &s);
	assert_false(s.valid);
	assert_int_not_equal(s.crc_stored, s.crc_computed);
	assert_null(s.env.text);
	ubootenv_saved_free(&s);
	free(a);
}

/* What a card or an image holds when nothing was saved. */
static void test_saved_blank(void **state)
{
	uint8_t *a = calloc(1, ENV_SIZE);
	struct ubootenv_saved s;

	(void)state;
	assert_non_null(a);
	read_saved(a, ENV_SIZE, 0, &s);
	assert_false(s.valid);
	assert_int_equal(s.crc_stored, 0);
	assert_int_equal(s.crc_computed,
			 (uint32_t)crc32(0L, a + 4, ENV_SIZE - 4));
	memset(a, 0xFF, ENV_SIZE);
	read_saved(a, ENV_SIZE, 0, &s);
	assert_false(s.valid);
	assert_int_equal(s.crc_stored, 0xFFFFFFFFu);
	free(a);
}

/* Data that fills the range without an empty string, and an empty
 * environment: both read as U-Boot's himport_r reads them. */
static void test_saved_edges(void **state)
{
	uint8_t *a = calloc(1, 512);
	struct ubootenv_saved s;
	uint32_t crc;

	(void)state;
	assert_non_null(a);
	memset(a + 4, 'x', 508);
	memcpy(a + 4, "k=", 2);
	crc = (uint32_t)crc32(0L, a + 4, 508);
	for (int i = 0; i < 4; i++)
		a[i] = (uint8_t)(crc >> (8 * i));
	read_saved(a, 512, 0, &s);
	assert_true(s.valid);
	assert_int_equal(s.env.vars, 1);
	assert_int_equal(strlen(ubootenv_get(&s.env, "k")), 506);
	ubootenv_saved_free(&s);
	free(a);

	a = saved_env("\0", 1, 512, -1);
	read_saved(a, 512, 0, &s);
	assert_true(s.valid);
	assert_int_equal(s.env.vars, 0);
	assert_null(ubootenv_get(&s.env, "bootcmd"));
	ubootenv_saved_free(&s);
	free(a);
}

static void test_saved_too_small(void **state)
{
	uint8_t a[5] = { 0 };
	struct ubootenv_saved s;
	struct mk_err e = { "" };

	(void)state;
	assert_int_equal(ubootenv_read_saved(a, 4, 0, &s, &e), -1);
	assert_non_null(strstr(e.msg, "no room"));
	assert_int_equal(ubootenv_read_saved(a, 5, 1, &s, &e), -1);
}

/* The redundant layout: the flags byte after the CRC, outside it. */
static void test_saved_redundant(void **state)
{
	static const char vars[] = "a=1\0\0";
	uint8_t *a = saved_env(vars, sizeof(vars) - 1, ENV_SIZE, 7);
	struct ubootenv_saved s;

	(void)state;
	read_saved(a, ENV_SIZE, 1, &s);
	assert_true(s.valid);
	assert_int_equal(s.flags, 7);
	assert_string_equal(ubootenv_get(&s.env, "a"), "1");
	ubootenv_saved_free(&s);
	/* Read in the single layout the same bytes are not valid. */
	read_saved(a, ENV_SIZE, 0, &s);
	assert_false(s.valid);
	free(a);
}

static int pick(int valid_a, int flags_a, int valid_b, int flags_b)
{
	struct ubootenv_saved a = { .valid = valid_a, .flags = flags_a };
	struct ubootenv_saved b = { .valid = valid_b, .flags = flags_b };

	return ubootenv_saved_pick(&a, &b);
}

/* env_check_redund's rules. */
static void test_saved_pick(void **state)
{
	(void)state;
	assert_int_equal(pick(0, 9, 0, 1), -1);
	assert_int_equal(pick(1, 1, 0, 9), 0);
	assert_int_equal(pick(0, 9, 1, 1), 1);
	assert_int_equal(pick(1, 1, 1, 2), 1);
	assert_int_equal(pick(1, 2, 1, 1), 0);
	assert_int_equal(pick(1, 255, 1, 0), 1); /* 0 follows 255 */
	/* One copy (no CONFIG_ENV_OFFSET_REDUND): it, when valid. */
	{
		struct ubootenv_saved one = { .valid = 1, .flags = -1 };

		assert_int_equal(ubootenv_saved_pick(&one, NULL), 0);
		one.valid = 0;
		assert_int_equal(ubootenv_saved_pick(&one, NULL), -1);
	}
	assert_int_equal(pick(1, 0, 1, 255), 0);
	assert_int_equal(pick(1, 5, 1, 5), 0);
	assert_int_equal(pick(1, 254, 1, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debian_rock64),
		cmocka_unit_test(test_missing_variables),
		cmocka_unit_test(test_hex_and_decimal),
		cmocka_unit_test(test_odd_spacing),
		cmocka_unit_test(test_several_candidates),
		cmocka_unit_test(test_saved_defaults),
		cmocka_unit_test(test_saved_valid),
		cmocka_unit_test(test_saved_blank),
		cmocka_unit_test(test_saved_edges),
		cmocka_unit_test(test_saved_too_small),
		cmocka_unit_test(test_saved_redundant),
		cmocka_unit_test(test_saved_pick),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
