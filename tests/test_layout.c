/*
 * test_layout.c - layout.c against the RK3328 card layout.
 *
 * The boot ROM reads idbloader at sector 64; U-Boot SPL loads u-boot.itb
 * from sector 16384; the first partition starts at sector 32768 (16 MiB).
 * So idbloader has sectors 64..16383, u-boot.itb 16384..32767, and a
 * combined u-boot-rockchip.bin 64..32767.  Partitions and the image size
 * are multiples of 4 MiB, and the root partition runs to the last usable
 * LBA, just before the 33 sectors of backup GPT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tmptree.h"

#include "layout.h"

#define SECTOR 512ULL
#define MIB (1024ULL * 1024)
#define ALIGN (4 * MIB)
#define IDB_OFFSET (64 * SECTOR)
#define ITB_OFFSET (16384 * SECTOR)
#define BOOT_OFFSET (32768 * SECTOR)
#define IDB_ROOM (ITB_OFFSET - IDB_OFFSET)       /* 8355840 */
#define ITB_ROOM (BOOT_OFFSET - ITB_OFFSET)      /* 8388608 */
#define ROCKCHIP_ROOM (BOOT_OFFSET - IDB_OFFSET) /* 16744448 */
#define BACKUP_GPT (33 * SECTOR)

/* A sparse file of `size` bytes under the tree; returns its path. */
static char *sized_file(struct tmptree *t, const char *name, uint64_t size)
{
	char *path = strdup(tmptree_path(t, name));
	int fd;

	assert_non_null(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	assert_int_equal(close(fd), 0);
	return path;
}

static void blobs_ok(const char *idb, const char *itb, const char *rk,
		     struct mk_layout *l)
{
	struct mk_err e = { "" };

	memset(l, 0xA5, sizeof(*l));
	if (layout_bootloaders(idb, itb, rk, l, &e) != 0)
		fail_msg("layout_bootloaders: %s", e.msg);
}

static void blobs_fail(const char *idb, const char *itb, const char *rk,
		       const char *needle)
{
	struct mk_layout l;
	struct mk_err e = { "" };

	assert_int_equal(layout_bootloaders(idb, itb, rk, &l, &e), -1);
	if (needle != NULL && strstr(e.msg, needle) == NULL)
		fail_msg("message \"%s\" does not contain \"%s\"", e.msg,
			 needle);
	assert_null(strchr(e.msg, '\n'));
}

static void check_blob(const struct layout_blob *b, const char *path,
		       uint64_t offset, uint64_t size)
{
	assert_string_equal(b->path, path);
	assert_int_equal(b->offset, offset);
	assert_int_equal(b->size, size);
	assert_non_null(b->option);
}

/* ---- bootloaders ---- */

static void test_constants(void **state)
{
	(void)state;
	assert_int_equal(LAYOUT_SECTOR, SECTOR);
	assert_int_equal(LAYOUT_ALIGN, ALIGN);
	assert_int_equal(LAYOUT_IDBLOADER_SECTOR * SECTOR, IDB_OFFSET);
	assert_int_equal(LAYOUT_UBOOT_ITB_SECTOR * SECTOR, ITB_OFFSET);
	assert_int_equal(LAYOUT_BOOT_PART_SECTOR * SECTOR, BOOT_OFFSET);
	assert_int_equal(IDB_ROOM, 8355840);
	assert_int_equal(ITB_ROOM, 8388608);
	assert_int_equal(ROCKCHIP_ROOM, 16744448);
}

static void test_no_bootloaders(void **state)
{
	struct mk_layout l;

	(void)state;
	blobs_ok(NULL, NULL, NULL, &l);
	assert_int_equal(l.nblobs, 0);
}

static void test_idbloader_and_itb(void **state)
{
	struct tmptree *t = *state;
	char *idb = sized_file(t, "idbloader.img", 150000);
	char *itb = sized_file(t, "u-boot.itb", 900000);
	struct mk_layout l;

	blobs_ok(idb, itb, NULL, &l);
	assert_int_equal(l.nblobs, 2);
	check_blob(&l.blobs[0], idb, IDB_OFFSET, 150000);
	check_blob(&l.blobs[1], itb, ITB_OFFSET, 900000);
	blobs_ok(idb, NULL, NULL, &l);
	assert_int_equal(l.nblobs, 1);
	check_blob(&l.blobs[0], idb, IDB_OFFSET, 150000);
	blobs_ok(NULL, itb, NULL, &l);
	assert_int_equal(l.nblobs, 1);
	check_blob(&l.blobs[0], itb, ITB_OFFSET, 900000);
	free(idb);
	free(itb);
}

static void test_rockchip(void **state)
{
	struct tmptree *t = *state;
	char *rk = sized_file(t, "u-boot-rockchip.bin", 9000000);
	struct mk_layout l;

	blobs_ok(NULL, NULL, rk, &l);
	assert_int_equal(l.nblobs, 1);
	check_blob(&l.blobs[0], rk, IDB_OFFSET, 9000000);
	free(rk);
}

static void test_rockchip_excludes_others(void **state)
{
	struct tmptree *t = *state;
	char *idb = sized_file(t, "idbloader.img", 1000);
	char *itb = sized_file(t, "u-boot.itb", 1000);
	char *rk = sized_file(t, "u-boot-rockchip.bin", 1000);

	blobs_fail(idb, NULL, rk, NULL);
	blobs_fail(NULL, itb, rk, NULL);
	blobs_fail(idb, itb, rk, NULL);
	free(idb);
	free(itb);
	free(rk);
}

/* Exact fit accepted, one byte more rejected, naming the file. */
static void check_room(struct tmptree *t, int which, uint64_t room,
		       uint64_t offset)
{
	char *fit = sized_file(t, "fit.bin", room);
	char *over = sized_file(t, "over.bin", room + 1);
	const char *args[3] = { NULL, NULL, NULL };
	struct mk_layout l;

	args[which] = fit;
	blobs_ok(args[0], args[1], args[2], &l);
	assert_int_equal(l.nblobs, 1);
	check_blob(&l.blobs[0], fit, offset, room);
	args[which] = over;
	blobs_fail(args[0], args[1], args[2], over);
	free(fit);
	free(over);
}

static void test_idbloader_room(void **state)
{
	check_room(*state, 0, IDB_ROOM, IDB_OFFSET);
}

static void test_itb_room(void **state)
{
	check_room(*state, 1, ITB_ROOM, ITB_OFFSET);
}

static void test_rockchip_room(void **state)
{
	check_room(*state, 2, ROCKCHIP_ROOM, IDB_OFFSET);
}

/* A too-large idbloader fails even when u-boot.itb is fine. */
static void test_first_of_two_too_large(void **state)
{
	struct tmptree *t = *state;
	char *idb = sized_file(t, "idbloader.img", IDB_ROOM + 1);
	char *itb = sized_file(t, "u-boot.itb", 1000);

	blobs_fail(idb, itb, NULL, idb);
	free(idb);
	free(itb);
}

/* Empty, directory and missing files fail in every slot, naming it. */
static void check_bad_file(const char *path)
{
	blobs_fail(path, NULL, NULL, path);
	blobs_fail(NULL, path, NULL, path);
	blobs_fail(NULL, NULL, path, path);
}

static void test_bad_files(void **state)
{
	struct tmptree *t = *state;
	char *empty = sized_file(t, "empty.bin", 0);
	char *dir, *missing;

	tmptree_mkdir(t, "dir.bin", 0755);
	dir = strdup(tmptree_path(t, "dir.bin"));
	missing = strdup(tmptree_path(t, "missing.bin"));
	assert_non_null(dir);
	assert_non_null(missing);
	check_bad_file(empty);
	check_bad_file(dir);
	check_bad_file(missing);
	free(empty);
	free(dir);
	free(missing);
}

/* ---- partitions ---- */

static void parts_ok(uint64_t boot, uint64_t root_min, struct mk_layout *l)
{
	struct mk_err e = { "" };

	memset(l, 0xA5, sizeof(*l));
	if (layout_partitions(boot, root_min, l, &e) != 0)
		fail_msg("layout_partitions: %s", e.msg);
}

/* What every layout must satisfy, whatever the sizes asked for. */
static void check_invariants(const struct mk_layout *l, uint64_t boot,
			     uint64_t root_min)
{
	uint64_t total = l->image_size / SECTOR;
	uint64_t root_last_lba = (l->root_start + l->root_size) / SECTOR - 1;

	assert_int_equal(l->boot_start, BOOT_OFFSET);
	assert_int_equal(l->boot_size % ALIGN, 0);
	assert_true(l->boot_size >= boot);
	assert_true(l->boot_size < boot + ALIGN);
	assert_int_equal(l->root_start, l->boot_start + l->boot_size);
	assert_int_equal(l->root_start % ALIGN, 0);
	assert_int_equal(l->image_size % ALIGN, 0);
	assert_true(l->root_size >= root_min);
	assert_int_equal(l->root_size % SECTOR, 0);
	assert_int_equal(root_last_lba, total - 34);
	assert_int_equal(l->root_start + l->root_size,
			 l->image_size - BACKUP_GPT);
}

static void test_partitions_typical(void **state)
{
	struct mk_layout l;

	(void)state;
	parts_ok(256 * MIB, 1024 * MIB, &l);
	check_invariants(&l, 256 * MIB, 1024 * MIB);
	assert_int_equal(l.boot_start, 16 * MIB);
	assert_int_equal(l.boot_size, 256 * MIB);
	assert_int_equal(l.root_start, 272 * MIB);
	/* 272 MiB + 1 GiB + the backup GPT rounds up to 1300 MiB. */
	assert_int_equal(l.image_size, 1300 * MIB);
	assert_int_equal(l.root_size, 1028 * MIB - BACKUP_GPT);
}

static void test_boot_size_rounds_up(void **state)
{
	struct mk_layout l;

	(void)state;
	parts_ok(1, 0, &l);
	check_invariants(&l, 1, 0);
	assert_int_equal(l.boot_size, 4 * MIB);
	parts_ok(4 * MIB, 0, &l);
	assert_int_equal(l.boot_size, 4 * MIB);
	parts_ok(4 * MIB + 1, 0, &l);
	check_invariants(&l, 4 * MIB + 1, 0);
	assert_int_equal(l.boot_size, 8 * MIB);
	parts_ok(100 * 1000 * 1000, 0, &l); /* 95.4 MiB -> 96 MiB */
	assert_int_equal(l.boot_size, 96 * MIB);
}

/* The root fits exactly before the backup GPT, or takes 4 MiB more. */
static void test_root_exact_fit(void **state)
{
	const uint64_t fit = 8 * MIB - BACKUP_GPT;
	struct mk_layout l;

	(void)state;
	parts_ok(32 * MIB, fit, &l);
	check_invariants(&l, 32 * MIB, fit);
	assert_int_equal(l.image_size, (16 + 32 + 8) * MIB);
	assert_int_equal(l.root_size, fit);
	parts_ok(32 * MIB, fit + 1, &l);
	check_invariants(&l, 32 * MIB, fit + 1);
	assert_int_equal(l.image_size, (16 + 32 + 12) * MIB);
	assert_int_equal(l.root_size, fit + 4 * MIB);
}

static void test_root_zero(void **state)
{
	struct mk_layout l;

	(void)state;
	parts_ok(32 * MIB, 0, &l);
	check_invariants(&l, 32 * MIB, 0);
	assert_int_equal(l.image_size, (16 + 32 + 4) * MIB);
	assert_int_equal(l.root_size, 4 * MIB - BACKUP_GPT);
}

static void test_many_sizes(void **state)
{
	static const uint64_t sizes[] = {
		1, 511, 512, 513, 4 * MIB - 1, 4 * MIB, 4 * MIB + 1,
		7654321, 1000 * MIB + 3, 64ULL * 1024 * MIB,
	};
	struct mk_layout l;

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++)
		for (size_t j = 0; j < sizeof(sizes) / sizeof(*sizes); j++) {
			parts_ok(sizes[i], sizes[j], &l);
			check_invariants(&l, sizes[i], sizes[j]);
			/* Nothing wasted: a smaller image would not fit. */
			assert_true(l.root_size - sizes[j] < ALIGN);
		}
}

static void test_partitions_reject(void **state)
{
	struct mk_layout l;
	struct mk_err e = { "" };

	(void)state;
	assert_int_equal(layout_partitions(0, MIB, &l, &e), -1);
	assert_int_equal(layout_partitions(UINT64_MAX, MIB, &l, &e), -1);
	assert_int_equal(layout_partitions(MIB, UINT64_MAX, &l, &e), -1);
	assert_int_equal(
		layout_partitions(UINT64_MAX / 2, UINT64_MAX / 2, &l, &e), -1);
}


/* ---- the partition table ---- */

static const uint8_t guid_a[16] = { 0xA0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
				    12, 13, 14, 15 };
static const uint8_t guid_b[16] = { 0xB0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
				    12, 13, 14, 15 };
static const uint8_t guid_c[16] = { 0xC0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
				    12, 13, 14, 15 };

/* 512M /boot and 100M of root: an image of 16M + 512M + 104M. */
static void typical_disk(struct mk_layout *l, struct gpt_disk *d)
{
	struct mk_err e = { "" };

	assert_int_equal(layout_partitions(512 * MIB, 100 * MIB, l, &e), 0);
	layout_gpt_disk(l, guid_a, guid_b, guid_c, d);
}

static void test_gpt_disk(void **state)
{
	struct mk_layout l;
	struct gpt_disk d;
	uint8_t linux_fs[16], root_arm64[16];

	(void)state;
	typical_disk(&l, &d);
	assert_int_equal(gpt_guid_parse("0FC63DAF-8483-4772-8E79-3D69D8477DE4",
					linux_fs), 0);
	assert_int_equal(gpt_guid_parse("B921B045-1DF0-41C3-AF44-4C6F280D3FAE",
					root_arm64), 0);
	assert_int_equal(d.total_sectors, (16 + 512 + 104) * MIB / SECTOR);
	assert_memory_equal(d.disk_guid, guid_a, 16);
	assert_int_equal(d.nparts, 2);
	assert_memory_equal(d.parts[0].type_guid, linux_fs, 16);
	assert_memory_equal(d.parts[0].unique_guid, guid_b, 16);
	assert_int_equal(d.parts[0].first_lba, 32768);
	assert_int_equal(d.parts[0].last_lba, 32768 + 512 * MIB / SECTOR - 1);
	assert_int_equal(d.parts[0].attributes, 1u << 2); /* legacy BIOS */
	assert_string_equal(d.parts[0].name, "NIXOS_BOOT");
	assert_memory_equal(d.parts[1].type_guid, root_arm64, 16);
	assert_memory_equal(d.parts[1].unique_guid, guid_c, 16);
	assert_int_equal(d.parts[1].first_lba, (16 + 512) * MIB / SECTOR);
	/* The last usable sector: 33 sectors of backup GPT after it. */
	assert_int_equal(d.parts[1].last_lba, d.total_sectors - 34);
	assert_int_equal(d.parts[1].attributes, 0);
	assert_string_equal(d.parts[1].name, "NIXOS_SD");
}

static void test_from_gpt_round_trip(void **state)
{
	struct mk_layout l, back;
	struct gpt_disk d;
	struct mk_err e = { "" };

	(void)state;
	typical_disk(&l, &d);
	if (layout_from_gpt(&d, l.image_size, &back, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(back.boot_start, l.boot_start);
	assert_int_equal(back.boot_size, l.boot_size);
	assert_int_equal(back.root_start, l.root_start);
	assert_int_equal(back.root_size, l.root_size);
	assert_int_equal(back.image_size, l.image_size);
}

static void expect_from_gpt_fails(const struct gpt_disk *d, uint64_t size,
				  const char *needle)
{
	struct mk_layout l;
	struct mk_err e = { "" };

	assert_int_equal(layout_from_gpt(d, size, &l, &e), -1);
	if (!strstr(e.msg, needle))
		fail_msg("'%s' does not say '%s'", e.msg, needle);
}

static void test_from_gpt_rules(void **state)
{
	struct mk_layout l;
	struct gpt_disk d, x;

	(void)state;
	typical_disk(&l, &d);
	x = d;
	x.nparts = 3;
	expect_from_gpt_fails(&x, l.image_size, "3 partitions, expected 2");
	x = d;
	x.parts[0].first_lba += 8192;
	expect_from_gpt_fails(&x, l.image_size,
			      "partition 1 starts at sector 40960, expected "
			      "32768");
	x = d;
	x.parts[0].last_lba -= 1;
	expect_from_gpt_fails(&x, l.image_size,
			      "partition 1 has 536870400 bytes, not a multiple of 4M");
	x = d;
	x.parts[1].first_lba += 8192;
	expect_from_gpt_fails(&x, l.image_size, "partition 2 starts at sector "
			      "1089536, expected 1081344 (right after "
			      "partition 1)");
	x = d;
	x.parts[1].last_lba -= 8192;
	expect_from_gpt_fails(&x, l.image_size, "partition 2 ends at sector");
	/* The table right, the image 1M longer: the backup is not last. */
	expect_from_gpt_fails(&d, l.image_size + MIB, "partition 2 ends at");
	x = d;
	x.parts[1].first_lba = x.parts[1].last_lba + 1;
	expect_from_gpt_fails(&x, l.image_size, "ends before it starts");
}

/* ---- U-Boot's saved environment ---- */

#define ENV_OFFSET 0x3F8000ULL /* the R2S's CONFIG_ENV_OFFSET */
#define ENV_SIZE 0x8000ULL

static void env_ok(struct mk_layout *l, uint64_t offset, uint64_t size,
		   uint64_t redundant)
{
	struct mk_err e = { "" };

	if (layout_env(offset, size, redundant, l, &e) != 0)
		fail_msg("layout_env: %s", e.msg);
}

static void env_fail(struct mk_layout *l, uint64_t offset, uint64_t size,
		     uint64_t redundant, const char *needle)
{
	struct mk_err e = { "" };

	assert_int_equal(layout_env(offset, size, redundant, l, &e), -1);
	if (strstr(e.msg, needle) == NULL)
		fail_msg("message \"%s\" does not contain \"%s\"", e.msg,
			 needle);
}

static void test_env_ranges(void **state)
{
	struct mk_layout l;

	(void)state;
	blobs_ok(NULL, NULL, NULL, &l);
	env_ok(&l, ENV_OFFSET, ENV_SIZE, 0);
	assert_int_equal(l.nenvs, 1);
	assert_int_equal(l.envs[0].offset, ENV_OFFSET);
	assert_int_equal(l.envs[0].size, ENV_SIZE);
	env_ok(&l, ENV_OFFSET, ENV_SIZE, ENV_OFFSET + ENV_SIZE);
	assert_int_equal(l.nenvs, 2);
	assert_int_equal(l.envs[1].offset, ENV_OFFSET + ENV_SIZE);
	env_ok(&l, 0, ENV_SIZE, 0); /* none */
	assert_int_equal(l.nenvs, 0);
	/* The first sector after the primary GPT, and the last before
	 * partition 1. */
	env_ok(&l, 34 * SECTOR, SECTOR, BOOT_OFFSET - SECTOR);
	env_fail(&l, 33 * SECTOR, ENV_SIZE, 0, "not inside the raw area");
	env_fail(&l, BOOT_OFFSET - SECTOR, 2 * SECTOR, 0, "not inside");
	env_fail(&l, BOOT_OFFSET, SECTOR, 0, "not inside");
	env_fail(&l, ENV_OFFSET, UINT64_MAX - SECTOR + 1, 0, "not inside");
	env_fail(&l, ENV_OFFSET + 1, ENV_SIZE, 0, "whole 512-byte sectors");
	env_fail(&l, ENV_OFFSET, ENV_SIZE + 1, 0, "whole 512-byte sectors");
	env_fail(&l, ENV_OFFSET, 0, 0, "--env-size must be more than 0");
	env_fail(&l, 0, ENV_SIZE, ENV_OFFSET, "needs --env-offset");
	env_fail(&l, ENV_OFFSET, ENV_SIZE, ENV_OFFSET + ENV_SIZE - SECTOR,
		 "overlaps the first copy");
	env_fail(&l, ENV_OFFSET, ENV_SIZE, ENV_OFFSET - ENV_SIZE + SECTOR,
		 "overlaps");
	env_fail(&l, ENV_OFFSET, ENV_SIZE, BOOT_OFFSET, "--env-redundant-offset");
}

/* A file of `size` bytes of `fill`, with `data` bytes of 'x' at `at`. */
static char *filled_file(struct tmptree *t, const char *name, uint64_t size,
			 int fill, uint64_t at, uint64_t data)
{
	char *path = strdup(tmptree_path(t, name));
	char *buf = malloc(size);
	int fd;

	assert_non_null(path);
	assert_non_null(buf);
	memset(buf, fill, size);
	memset(buf + at, 'x', data);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	assert_int_equal(close(fd), 0);
	free(buf);
	return path;
}

/* A bootloader with data where U-Boot would save its environment is
 * refused; padding there (binman's 0xFF, or zeros) is fine. */
static void test_env_over_bootloader(void **state)
{
	const uint64_t in_file = ENV_OFFSET - IDB_OFFSET; /* the range in an
							     idbloader.img */
	struct tmptree *t = *state;
	char *ff = filled_file(t, "ff.bin", ROCKCHIP_ROOM, 0xFF, 0, 4096);
	char *zero = filled_file(t, "zero.bin", ROCKCHIP_ROOM, 0, 0, 4096);
	char *last = filled_file(t, "last.bin", ROCKCHIP_ROOM, 0xFF,
				 in_file + ENV_SIZE - 1, 1);
	char *after = filled_file(t, "after.bin", ROCKCHIP_ROOM, 0xFF,
				  in_file + ENV_SIZE, 1);
	char *before = filled_file(t, "before.bin", ROCKCHIP_ROOM, 0,
				   in_file - 1, 1);
	char *short_idb = filled_file(t, "short.bin", in_file + 1, 0,
				      in_file, 1);
	char *itb = filled_file(t, "itb.bin", 4096, 'i', 0, 0);
	struct mk_layout l;

	blobs_ok(NULL, NULL, ff, &l);
	env_ok(&l, ENV_OFFSET, ENV_SIZE, 0);
	blobs_ok(NULL, NULL, zero, &l);
	env_ok(&l, ENV_OFFSET, ENV_SIZE, 0);
	blobs_ok(NULL, NULL, after, &l);
	env_ok(&l, ENV_OFFSET, ENV_SIZE, 0);
	blobs_ok(NULL, NULL, before, &l);
	env_ok(&l, ENV_OFFSET, ENV_SIZE, 0);
	blobs_ok(NULL, NULL, last, &l);
	env_fail(&l, ENV_OFFSET, ENV_SIZE, 0, "last.bin has data at "
		 "0x3F8000-0x3FFFFF, where U-Boot keeps its saved environment");
	/* Elsewhere, it fits. */
	env_ok(&l, ENV_OFFSET + ENV_SIZE, ENV_SIZE, 0);
	/* The redundant copy is checked the same way. */
	env_fail(&l, ENV_OFFSET + ENV_SIZE, ENV_SIZE, ENV_OFFSET,
		 "(--env-redundant-offset)");
	/* An idbloader that ends inside the range, with its last byte in
	 * it; and a u-boot.itb that does not reach it. */
	blobs_ok(short_idb, itb, NULL, &l);
	env_fail(&l, ENV_OFFSET, ENV_SIZE, 0, "--idbloader");
	blobs_ok(NULL, itb, NULL, &l);
	env_ok(&l, ENV_OFFSET, ENV_SIZE, 0);
	free(ff);
	free(zero);
	free(last);
	free(after);
	free(before);
	free(short_idb);
	free(itb);
}

#define TREE_TEST(f) cmocka_unit_test_setup_teardown(f, tmptree_setup, \
						     tmptree_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constants),
		cmocka_unit_test(test_no_bootloaders),
		TREE_TEST(test_idbloader_and_itb),
		TREE_TEST(test_rockchip),
		TREE_TEST(test_rockchip_excludes_others),
		TREE_TEST(test_idbloader_room),
		TREE_TEST(test_itb_room),
		TREE_TEST(test_rockchip_room),
		TREE_TEST(test_first_of_two_too_large),
		TREE_TEST(test_bad_files),
		cmocka_unit_test(test_partitions_typical),
		cmocka_unit_test(test_boot_size_rounds_up),
		cmocka_unit_test(test_root_exact_fit),
		cmocka_unit_test(test_root_zero),
		cmocka_unit_test(test_many_sizes),
		cmocka_unit_test(test_partitions_reject),
		cmocka_unit_test(test_gpt_disk),
		cmocka_unit_test(test_from_gpt_round_trip),
		cmocka_unit_test(test_from_gpt_rules),
		cmocka_unit_test(test_env_ranges),
		TREE_TEST(test_env_over_bootloader),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
