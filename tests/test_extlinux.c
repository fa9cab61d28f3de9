/*
 * test_extlinux.c - extlinux.c against the text NixOS's
 * generic-extlinux-compatible builder writes.
 *
 * The expected files are spelled out in full: the builder's header, a
 * TIMEOUT in tenths of a second (-10 for "boot at once"), and one
 * nixos-default entry whose kernel, initrd and device trees are named
 * as the builder copies them to /boot/nixos: the store path without
 * "/nix/store/", with every "/" turned into "-".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>

#include <stdlib.h>
#include <string.h>

#include "extlinux.h"

#define SYS "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nixos-system-r2s-24.05"
#define KERNEL "/nix/store/zyxwvsrqpnmlkjihgfdcba9876543210-linux-6.6.30/Image"
#define INITRD "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-initrd-linux-6.6.30/initrd"
#define DTBS "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-linux-6.6.30/dtbs"
#define PARAMS "console=ttyS2,1500000 loglevel=4 init_on_alloc=1"

#define HEADER(timeout)                                                      \
	"# Generated file, all changes will be lost on nixos-rebuild!\n"     \
	"\n"                                                                 \
	"# Change this to e.g. nixos-42 to temporarily boot to an older "   \
	"configuration.\n"                                                   \
	"DEFAULT nixos-default\n"                                            \
	"\n"                                                                 \
	"MENU TITLE ------------------------------------------------------------\n" \
	"TIMEOUT " timeout "\n"                                              \
	"\n"                                                                 \
	"LABEL nixos-default\n"                                              \
	"  MENU LABEL NixOS - Default\n"                                     \
	"  LINUX ../nixos/zyxwvsrqpnmlkjihgfdcba9876543210-linux-6.6.30-Image\n" \
	"  INITRD ../nixos/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-initrd-linux-6.6.30-initrd\n" \
	"  APPEND init=" SYS "/init " PARAMS "\n"

static struct extlinux_entry entry(void)
{
	return (struct extlinux_entry){
		.toplevel = SYS,
		.kernel = KERNEL,
		.initrd = INITRD,
		.dtbs = DTBS,
		.dtb = EXTLINUX_DEFAULT_DTB,
		.kernel_params = PARAMS,
		.timeout_seconds = 1,
	};
}

static void expect_conf(const struct extlinux_entry *en, const char *want)
{
	char *got = extlinux_conf(en);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void expect_name(const char *store_path, const char *want)
{
	char *got = extlinux_store_name(store_path);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_store_name(void **state)
{
	(void)state;
	expect_name("/nix/store/abc-linux/Image", "abc-linux-Image");
	expect_name("/nix/store/abc-linux-6.6-dtbs", "abc-linux-6.6-dtbs");
	expect_name("/nix/store/abc-initrd/a/b/initrd", "abc-initrd-a-b-initrd");
	expect_name(KERNEL,
		    "zyxwvsrqpnmlkjihgfdcba9876543210-linux-6.6.30-Image");
}

static void test_constants(void **state)
{
	(void)state;
	assert_string_equal(EXTLINUX_CONF_PATH, "extlinux/extlinux.conf");
	assert_string_equal(EXTLINUX_KERNELS_DIR, "nixos");
	assert_string_equal(EXTLINUX_DEFAULT_DTB,
			    "rockchip/rk3328-nanopi-r2s.dtb");
	assert_string_equal(EXTLINUX_NO_DTB, "none");
}

static void test_default_dtb(void **state)
{
	struct extlinux_entry en = entry();

	(void)state;
	expect_conf(&en, HEADER("10")
		    "  FDT ../nixos/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-linux-6.6.30-dtbs"
		    "/rockchip/rk3328-nanopi-r2s.dtb\n");
}

static void test_full_text_literal(void **state)
{
	static const char want[] =
		"# Generated file, all changes will be lost on nixos-rebuild!\n"
		"\n"
		"# Change this to e.g. nixos-42 to temporarily boot to an older configuration.\n"
		"DEFAULT nixos-default\n"
		"\n"
		"MENU TITLE ------------------------------------------------------------\n"
		"TIMEOUT 30\n"
		"\n"
		"LABEL nixos-default\n"
		"  MENU LABEL NixOS - Default\n"
		"  LINUX ../nixos/k-linux-Image\n"
		"  INITRD ../nixos/i-initrd-initrd\n"
		"  APPEND init=/nix/store/s-nixos-system-x/init root=LABEL=NIXOS_SD\n"
		"  FDT ../nixos/d-dtbs/rockchip/rk3328-nanopi-r2s.dtb\n";
	struct extlinux_entry en = {
		.toplevel = "/nix/store/s-nixos-system-x",
		.kernel = "/nix/store/k-linux/Image",
		.initrd = "/nix/store/i-initrd/initrd",
		.dtbs = "/nix/store/d-dtbs",
		.dtb = "rockchip/rk3328-nanopi-r2s.dtb",
		.kernel_params = "root=LABEL=NIXOS_SD",
		.timeout_seconds = 3,
	};

	(void)state;
	expect_conf(&en, want);
}

static void test_timeout(void **state)
{
	struct extlinux_entry en = entry();

	(void)state;
	en.dtbs = NULL;
	en.timeout_seconds = 0;
	expect_conf(&en, HEADER("-10"));
	en.timeout_seconds = 5;
	expect_conf(&en, HEADER("50"));
	en.timeout_seconds = 120;
	expect_conf(&en, HEADER("1200"));
	/* boot.loader.timeout = null: NixOS's builder gets -t -1 and
	 * writes TIMEOUT 0, which U-Boot reads as "wait for a choice" */
	en.timeout_seconds = -1;
	expect_conf(&en, HEADER("0"));
	/* Through the library API any int is possible: no wrap-around into
	 * a negative (instant) timeout. */
	en.timeout_seconds = INT_MAX;
	expect_conf(&en, HEADER("21474836470"));
}

/* A device-tree line longer than any fixed buffer is written whole. */
static void test_long_fdt_line(void **state)
{
	struct extlinux_entry en = entry();
	char *dtb = malloc(5001), *conf, *line;

	(void)state;
	assert_non_null(dtb);
	memset(dtb, 'd', 5000);
	dtb[5000] = '\0';
	memcpy(dtb + 4990, ".dtb", 5);
	en.dtb = dtb;
	conf = extlinux_conf(&en);
	assert_non_null(conf);
	line = strstr(conf, "  FDT ../nixos/");
	assert_non_null(line);
	assert_non_null(strstr(line, dtb));
	assert_string_equal(conf + strlen(conf) - 5, ".dtb\n");
	free(conf);
	free(dtb);
}

static void test_fdtdir(void **state)
{
	struct extlinux_entry en = entry();

	(void)state;
	en.dtb = "none";
	expect_conf(&en, HEADER("10")
		    "  FDTDIR ../nixos/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-linux-6.6.30-dtbs\n");
}

static void test_no_dtbs(void **state)
{
	struct extlinux_entry en = entry();

	(void)state;
	en.dtbs = NULL;
	en.dtb = "none";
	expect_conf(&en, HEADER("10"));
}

static void test_other_dtb(void **state)
{
	struct extlinux_entry en = entry();

	(void)state;
	en.dtb = "rockchip/rk3328-nanopi-r2s-plus.dtb";
	expect_conf(&en, HEADER("10")
		    "  FDT ../nixos/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-linux-6.6.30-dtbs"
		    "/rockchip/rk3328-nanopi-r2s-plus.dtb\n");
}

/* ---- reading one back ---- */

static void parse_ok(const char *text, struct extlinux_menu *m)
{
	assert_int_equal(extlinux_parse(text, m), 0);
}

/* The builder's own text reads back as what went in. */
static void test_parse_builder_text(void **state)
{
	const struct extlinux_entry en = entry();
	char *conf = extlinux_conf(&en);
	struct extlinux_menu m;

	(void)state;
	assert_non_null(conf);
	parse_ok(conf, &m);
	assert_string_equal(m.timeout, "10");
	assert_string_equal(m.default_name, "nixos-default");
	assert_string_equal(m.label, "nixos-default");
	assert_string_equal(m.menu_label, "NixOS - Default");
	assert_string_equal(m.kernel, "../nixos/zyxwvsrqpnmlkjihgfdcba9876543210"
				      "-linux-6.6.30-Image");
	assert_string_equal(m.initrd, "../nixos/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				      "-initrd-linux-6.6.30-initrd");
	assert_string_equal(m.fdt, "../nixos/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
				   "-linux-6.6.30-dtbs/" EXTLINUX_DEFAULT_DTB);
	assert_null(m.fdtdir);
	assert_string_equal(m.append, "init=" SYS "/init " PARAMS);
	extlinux_menu_free(&m);
	free(conf);
}

/* As U-Boot's pxe parser: any case, KERNEL and DEVICETREE as aliases,
 * blanks and CRLF around, comments, the first LABEL only, TIMEOUT and
 * DEFAULT anywhere (the last wins). */
static void test_parse_pxe_rules(void **state)
{
	static const char text[] =
		"timeout 50\r\n"
		"# LABEL commented\n"
		"\tlabel  first \n"
		"kernel /Image\n"
		"  devicetreedir /dtbs\n"
		"  Initrd /initrd\r\n"
		"  append a=1  b=2\t\n"
		"  devicetree /x.dtb\n"
		"  fdtfile nothing\n"
		"LABEL second\n"
		"  LINUX /other\n"
		"TIMEOUT 0\n"
		"DEFAULT second";
	struct extlinux_menu m;

	(void)state;
	parse_ok(text, &m);
	assert_string_equal(m.timeout, "0");
	assert_string_equal(m.default_name, "second");
	assert_string_equal(m.label, "first");
	assert_null(m.menu_label);
	assert_string_equal(m.kernel, "/Image");
	assert_string_equal(m.fdtdir, "/dtbs");
	assert_string_equal(m.initrd, "/initrd");
	assert_string_equal(m.append, "a=1  b=2");
	assert_string_equal(m.fdt, "/x.dtb");
	extlinux_menu_free(&m);

	parse_ok("", &m);
	assert_null(m.timeout);
	assert_null(m.label);
	parse_ok("LINUX /before-any-label\nlabel\n", &m);
	assert_null(m.kernel); /* outside an entry */
	assert_string_equal(m.label, "");
	extlinux_menu_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_name),
		cmocka_unit_test(test_constants),
		cmocka_unit_test(test_default_dtb),
		cmocka_unit_test(test_full_text_literal),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_long_fdt_line),
		cmocka_unit_test(test_fdtdir),
		cmocka_unit_test(test_no_dtbs),
		cmocka_unit_test(test_other_dtb),
		cmocka_unit_test(test_parse_builder_text),
		cmocka_unit_test(test_parse_pxe_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
