/*
 * test_bootmem.c - bootmem.c: U-Boot's memory map against the kernel,
 * initrd and device tree, computed as booti computes it.
 *
 * Maps: Debian 12's rock64-rk3328 u-boot.itb (tests/data/rock64-rk3328.env:
 * a 62 MiB gap), the same with nix/uboot-memory-map.sh's ramdisk_addr_r
 * (0x0c000000), and Debian's qemu_arm64 u-boot.bin (kernel_addr_r
 * 0x40400000, ramdisk_addr_r 0x44000000: 60 MiB, as the boot suite
 * shows under QEMU).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tmptree.h"

#include "bootmem.h"
#include "util.h"

#define MIB (1ull << 20)
#define KIB (1ull << 10)
#define ANYWHERE 0xa /* flags of today's kernels: LE, 4K, bit 3 */

static struct bootmem_map rock64(void)
{
	const char *dir = getenv("MKR2SIMG_TEST_DATA");
	char path[4096];
	struct mk_err e = { "" };
	struct ubootenv env;
	struct bootmem_map m = { 0 };

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/rock64-rk3328.env", dir);
	if (ubootenv_load(path, &env, &e) || !env.text ||
	    bootmem_map_from_env(&env, &m, &e))
		fail_msg("%s: %s", path, e.msg[0] ? e.msg : "no environment");
	ubootenv_free(&env);
	return m;
}

static struct bootmem_map moved(void)
{
	struct bootmem_map m = rock64();

	m.ramdisk_addr_r = 0x0c000000;
	return m;
}

static struct bootmem_map qemu(void)
{
	struct bootmem_map m = { .kernel_addr_r = 0x40400000,
				 .ramdisk_addr_r = 0x44000000,
				 .has_kernel = 1, .has_ramdisk = 1 };
	return m;
}

static struct bootmem_files files(uint64_t image_size)
{
	struct bootmem_files f = {
		.kernel_name = "/nix/store/x-linux/Image",
		.kernel = { .kind = ARM64_IMAGE_PLAIN, .file_size = 40 * MIB,
			    .data_size = 40 * MIB, .text_offset = 0,
			    .image_size = image_size, .flags = ANYWHERE },
		.initrd_size = 20 * MIB,
		.fdt_size = 60 * KIB,
	};
	if (image_size < f.kernel.file_size)
		f.kernel.file_size = f.kernel.data_size = image_size;
	return f;
}

static void ok(const struct bootmem_map *m, const struct bootmem_files *f)
{
	struct mk_err e = { "" };
	char note[1024];

	if (bootmem_check(m, f, note, sizeof(note), &e) != 0)
		fail_msg("unexpected failure: %s", e.msg);
}

/* Fails with one line holding each needle. */
static void refused(const struct bootmem_map *m, const struct bootmem_files *f,
		    const char *n1, const char *n2, const char *n3)
{
	const char *needles[] = { f->kernel_name, n1, n2, n3 };
	struct mk_err e = { "" };

	assert_int_equal(bootmem_check(m, f, NULL, 0, &e), -1);
	for (size_t i = 0; i < 4; i++)
		if (needles[i] && !strstr(e.msg, needles[i]))
			fail_msg("message \"%s\" lacks \"%s\"", e.msg,
				 needles[i]);
	assert_null(strchr(e.msg, '\n'));
}

/* booti moves a text_offset-0 Image to 0x02200000: 62 MiB up to
 * ramdisk_addr_r, not a byte more. */
static void test_rock64_limit(void **state)
{
	struct bootmem_map m = rock64();
	struct bootmem_files f = files(62 * MIB);
	uint64_t start, size;
	struct mk_err e = { "" };

	(void)state;
	assert_int_equal(bootmem_os_range(&m, &f.kernel, &start, &size, &e), 0);
	assert_int_equal(start, 0x02200000);
	ok(&m, &f);
	f = files(62 * MIB + 4 * KIB);
	refused(&m, &f, "RD image overlaps OS image", "ramdisk_addr_r=0x06000000",
		"at most 62 MiB");
	f = files(72 * MIB);
	refused(&m, &f, "72 MiB", "0x02200000", "0x0c000000");
}

/* The NixOS module's U-Boot: 158 MiB of kernel, then the initrd. */
static void test_moved_ramdisk(void **state)
{
	struct bootmem_map m = moved();
	struct bootmem_files f = files(72 * MIB);

	(void)state;
	ok(&m, &f);
	f = files(128 * MIB);
	f.initrd_size = 128 * MIB;
	ok(&m, &f);
	f = files(158 * MIB);
	ok(&m, &f);
	f = files(158 * MIB + 1);
	refused(&m, &f, "RD image overlaps OS image", "0x0c000000", NULL);
}

static void test_qemu_limit(void **state)
{
	struct bootmem_map m = qemu();
	struct bootmem_files f = files(60 * MIB);

	(void)state;
	f.fdt_size = 0;
	ok(&m, &f);
	f.kernel.image_size = 60 * MIB + 4 * KIB;
	refused(&m, &f, "RD image overlaps OS image", "0x44000000", "60 MiB");
	f.kernel.image_size = 0x02010000; /* Debian 12's 6.1 kernel */
	ok(&m, &f);
}

/* text_offset 0x80000 (older kernels): the Image sits at kernel_addr_r
 * itself, 0x02080000, and the gap grows by 1.5 MiB. */
static void test_text_offset(void **state)
{
	struct bootmem_map m = rock64();
	struct bootmem_files f = files(63 * MIB + 512 * KIB);

	(void)state;
	f.kernel.text_offset = 0x80000;
	ok(&m, &f);
	f.kernel.image_size += 1;
	refused(&m, &f, "0x02080000", NULL, NULL);
	/* image_size 0: U-Boot assumes 16 MiB at 0x80000 */
	f.kernel.image_size = 0;
	f.kernel.text_offset = 0x12345;
	ok(&m, &f);
}

/* Without flags bit 3 booti moves the Image to the start of RAM, which
 * the environment does not give: said in the note, not refused. */
static void test_no_anywhere_flag(void **state)
{
	struct bootmem_map m = rock64();
	struct bootmem_files f = files(100 * MIB);
	struct mk_err e = { "" };
	char note[1024];

	(void)state;
	f.kernel.flags = 0x2;
	f.kernel.file_size = f.kernel.data_size = 20 * MIB;
	assert_int_equal(bootmem_check(&m, &f, note, sizeof(note), &e), 0);
	assert_non_null(strstr(note, "bit 3"));
}

/* What pxe loads must not overlap: a kernel file reaching the initrd,
 * a device tree reaching the kernel. */
static void test_loads_overlap(void **state)
{
	struct bootmem_map m = rock64();
	struct bootmem_files f = files(50 * MIB);

	(void)state;
	f.kernel.file_size = f.kernel.data_size = 70 * MIB;
	refused(&m, &f, "the kernel at kernel_addr_r", "the initrd at "
		"ramdisk_addr_r", NULL);
	f = files(50 * MIB);
	f.fdt_size = 2 * MIB; /* 0x01f00000 + 2 MiB > 0x02080000 */
	refused(&m, &f, "the device tree at fdt_addr_r", NULL, NULL);
	f.fdt_size = 1536 * KIB; /* ends exactly at kernel_addr_r */
	ok(&m, &f);
	/* an initrd below the kernel, reaching into it */
	m.ramdisk_addr_r = 0x00800000;
	f = files(20 * MIB);
	f.initrd_size = 0x02080000 - 0x00800000 + 1;
	f.fdt_size = 0;
	refused(&m, &f, "the initrd at ramdisk_addr_r", "the kernel at "
		"kernel_addr_r", NULL);
	f.initrd_size -= 1;
	ok(&m, &f);
}

static void test_missing_variables(void **state)
{
	struct bootmem_map m = rock64();
	struct bootmem_files f = files(200 * MIB);
	struct mk_err e = { "" };
	char note[1024];

	(void)state;
	m.has_ramdisk = 0;
	m.ramdisk_addr_r = 0;
	assert_int_equal(bootmem_check(&m, &f, note, sizeof(note), &e), 0);
	assert_non_null(strstr(note, "no ramdisk_addr_r"));
	m.has_kernel = 0;
	assert_int_equal(bootmem_check(&m, &f, note, sizeof(note), &e), 0);
	assert_non_null(strstr(note, "no kernel_addr_r"));
}

/* Not an Image: booti cannot start it. */
static void test_not_an_image(void **state)
{
	struct bootmem_map m = rock64();
	struct bootmem_files f = files(20 * MIB);

	(void)state;
	f.kernel.kind = ARM64_IMAGE_NONE;
	refused(&m, &f, "not an arm64 Image", "--no-memory-map-check", NULL);
}

/* A gzip'd Image: booti needs kernel_comp_addr_r and kernel_comp_size
 * (newer rk3328_common.h: 0x08000000, 32 MiB). */
static void test_gzip(void **state)
{
	struct bootmem_map m = rock64();
	struct bootmem_files f = files(40 * MIB);

	(void)state;
	f.kernel.kind = ARM64_IMAGE_GZIP;
	f.kernel.file_size = 15 * MIB;
	f.kernel.data_size = 38 * MIB;
	refused(&m, &f, "kernel_comp_addr_r", NULL, NULL);
	m.kernel_comp_addr_r = 0x08000000;
	m.kernel_comp_size = 0x2000000;
	m.has_comp_addr = m.has_comp_size = 1;
	ok(&m, &f);
	f.kernel.file_size = 33 * MIB;
	refused(&m, &f, "kernel_comp_size=0x2000000", NULL, NULL);
	/* the moved map: the inflated kernel at 0x08000000 would sit in
	 * the kernel's room; uboot-memory-map.sh moves it to 0x1c000000 */
	m = moved();
	m.kernel_comp_addr_r = 0x1c000000;
	m.kernel_comp_size = 0x2000000;
	m.has_comp_addr = m.has_comp_size = 1;
	f = files(100 * MIB);
	f.kernel.kind = ARM64_IMAGE_GZIP;
	f.kernel.file_size = 30 * MIB;
	f.kernel.data_size = 90 * MIB;
	f.initrd_size = 300 * MIB; /* 0x0c000000 + 300 MiB > 0x1c000000 */
	refused(&m, &f, "the inflated kernel at kernel_comp_addr_r",
		"the initrd", NULL);
	f.initrd_size = 128 * MIB;
	ok(&m, &f);
}

/* ---- bootmem_check_card: the files themselves ---- */

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void write_image(struct tmptree *t, const char *rel, uint64_t size)
{
	uint8_t h[4096] = { 0 };

	put_le64(h + 16, size);
	put_le64(h + 24, ANYWHERE);
	memcpy(h + 56, "ARM\x64", 4);
	tmptree_file_n(t, rel, h, sizeof(h), 0444);
}

static const char env_blob[] = "\x7f" "ELF\0\0arch=arm\0"
	"kernel_addr_r=0x02080000\0ramdisk_addr_r=0x06000000\0"
	"fdt_addr_r=0x01f00000\0fdtfile=rockchip/rk3328-nanopi-r2s.dtb\0\0"
	"\x01\x02";

static void test_card(void **state)
{
	struct tmptree *t = *state;
	struct bootmem_card c = { .kernel_name = "K" };
	struct mk_err e = { "" };
	char note[2048], dtbs[PATH_MAX + 1];

	tmptree_file_n(t, "u-boot.itb", env_blob, sizeof(env_blob), 0444);
	tmptree_file(t, "none.itb", "no environment here", 0444);
	write_image(t, "Image", 62 * MIB);
	write_image(t, "Big", 72 * MIB);
	tmptree_file(t, "initrd", "initrd", 0444);
	tmptree_mkdir(t, "dtbs", 0755);
	tmptree_mkdir(t, "dtbs/rockchip", 0755);
	tmptree_file(t, "dtbs/rockchip/rk3328-nanopi-r2s.dtb", "dtb", 0444);
	c.bootloader = strdup(tmptree_path(t, "u-boot.itb"));
	c.kernel = strdup(tmptree_path(t, "Image"));
	c.initrd = strdup(tmptree_path(t, "initrd"));
	snprintf(dtbs, sizeof(dtbs), "%s", tmptree_path(t, "dtbs"));
	c.dtbs = dtbs;
	c.dtb = "rockchip/rk3328-nanopi-r2s.dtb";
	if (bootmem_check_card(&c, note, sizeof(note), &e))
		fail_msg("%s", e.msg);
	assert_non_null(strstr(note, "kernels up to 62 MiB fit"));
	c.dtb = NULL; /* FDTDIR: fdtfile */
	assert_int_equal(bootmem_check_card(&c, note, sizeof(note), &e), 0);
	free((char *)c.kernel);
	c.kernel = strdup(tmptree_path(t, "Big"));
	assert_int_equal(bootmem_check_card(&c, note, sizeof(note), &e), -1);
	assert_non_null(strstr(e.msg, "RD image overlaps OS image"));
	free((char *)c.bootloader);
	c.bootloader = strdup(tmptree_path(t, "none.itb"));
	assert_int_equal(bootmem_check_card(&c, note, sizeof(note), &e), 0);
	assert_non_null(strstr(note, "no U-Boot default environment"));
	free((char *)c.bootloader);
	free((char *)c.kernel);
	free((char *)c.initrd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rock64_limit),
		cmocka_unit_test(test_moved_ramdisk),
		cmocka_unit_test(test_qemu_limit),
		cmocka_unit_test(test_text_offset),
		cmocka_unit_test(test_no_anywhere_flag),
		cmocka_unit_test(test_loads_overlap),
		cmocka_unit_test(test_missing_variables),
		cmocka_unit_test(test_not_an_image),
		cmocka_unit_test(test_gzip),
		cmocka_unit_test_setup_teardown(test_card, tmptree_setup,
						tmptree_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
