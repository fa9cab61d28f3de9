/*
 * test_gpt.c - gpt.c against the UEFI specification, chapter 5.
 *
 * Expectations come from the spec, not from gpt.c: fields are read back
 * at their spec offsets with the little readers below, CRCs are
 * recomputed with zlib over the spec's ranges, and on-disk GUID bytes
 * are written out by hand.  sgdisk then checks a whole image.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ci_skip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "gpt.h"

#define SECTOR 512
#define PRIMARY_BYTES (34 * SECTOR)
#define BACKUP_BYTES (33 * SECTOR)
#define ENTRIES_BYTES (128 * 128)
#define DISK_BYTES (64ULL * 1024 * 1024)
#define DISK_SECTORS (DISK_BYTES / SECTOR) /* 131072 */

/* UEFI 5.2.1 / 5.2.3: protective MBR offsets. */
#define MBR_RECORD0 446
#define MBR_SIG 510
/* UEFI 5.3.2: GPT header offsets. */
#define H_SIG 0
#define H_REV 8
#define H_SIZE 12
#define H_CRC 16
#define H_RSVD 20
#define H_MY 24
#define H_ALT 32
#define H_FIRST 40
#define H_LAST 48
#define H_GUID 56
#define H_ENTRY_LBA 72
#define H_COUNT 80
#define H_ENTRY_SIZE 84
#define H_ENTRY_CRC 88
#define H_BYTES 92
/* UEFI 5.3.3: partition entry offsets. */
#define E_TYPE 0
#define E_UNIQUE 16
#define E_FIRST 32
#define E_LAST 40
#define E_ATTR 48
#define E_NAME 56
#define E_NAME_BYTES 72

static const char disk_guid_text[] = "01234567-89AB-CDEF-0123-456789ABCDEF";
static const char boot_guid_text[] = "A1B2C3D4-E5F6-0718-293A-4B5C6D7E8F90";
static const char root_guid_text[] = "00112233-4455-6677-8899-aabbccddeeff";

/* The same GUIDs as GPT stores them, worked out by hand. */
static const uint8_t disk_guid_disk[16] = {
	0x67, 0x45, 0x23, 0x01, 0xAB, 0x89, 0xEF, 0xCD,
	0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF,
};
static const uint8_t linux_fs_disk[16] = {
	0xAF, 0x3D, 0xC6, 0x0F, 0x83, 0x84, 0x72, 0x47,
	0x8E, 0x79, 0x3D, 0x69, 0xD8, 0x47, 0x7D, 0xE4,
};
static const uint8_t root_arm64_disk[16] = {
	0x45, 0xB0, 0x21, 0xB9, 0xF0, 0x1D, 0xC3, 0x41,
	0xAF, 0x44, 0x4C, 0x6F, 0x28, 0x0D, 0x3F, 0xAE,
};
static const uint8_t boot_guid_disk[16] = {
	0xD4, 0xC3, 0xB2, 0xA1, 0xF6, 0xE5, 0x18, 0x07,
	0x29, 0x3A, 0x4B, 0x5C, 0x6D, 0x7E, 0x8F, 0x90,
};
static const uint8_t root_guid_disk[16] = {
	0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66,
	0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF,
};

struct image {
	uint8_t primary[PRIMARY_BYTES];
	uint8_t backup[BACKUP_BYTES];
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static int is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static void set_part(struct gpt_part *p, const char *type, const char *uniq,
		     uint64_t first, uint64_t last, const char *name)
{
	memset(p, 0, sizeof(*p));
	assert_int_equal(gpt_guid_parse(type, p->type_guid), 0);
	assert_int_equal(gpt_guid_parse(uniq, p->unique_guid), 0);
	p->first_lba = first;
	p->last_lba = last;
	snprintf(p->name, sizeof(p->name), "%s", name);
}

/* The R2S shape: /boot at 16 MiB, root right after it up to the end. */
static void make_disk(struct gpt_disk *d)
{
	memset(d, 0, sizeof(*d));
	d->total_sectors = DISK_SECTORS;
	assert_int_equal(gpt_guid_parse(disk_guid_text, d->disk_guid), 0);
	d->nparts = 2;
	set_part(&d->parts[0], GPT_TYPE_LINUX_FS, boot_guid_text, 32768,
		 65535, "boot");
	d->parts[0].attributes = GPT_ATTR_LEGACY_BIOS_BOOTABLE;
	set_part(&d->parts[1], GPT_TYPE_ROOT_ARM64, root_guid_text, 65536,
		 DISK_SECTORS - 34, "nixos");
}

static struct image *encode_ok(const struct gpt_disk *d)
{
	struct image *img = malloc(sizeof(*img));
	struct mk_err e = { "" };

	assert_non_null(img);
	if (gpt_encode(d, img->primary, img->backup, &e) != 0)
		fail_msg("gpt_encode: %s", e.msg);
	return img;
}

static struct image *encode_fixture(void)
{
	struct gpt_disk d;

	make_disk(&d);
	return encode_ok(&d);
}

static void expect_fail(const struct gpt_disk *d, const char *needle)
{
	static uint8_t primary[PRIMARY_BYTES], backup[BACKUP_BYTES];
	struct mk_err e = { "" };

	assert_int_equal(gpt_encode(d, primary, backup, &e), -1);
	assert_non_null(strstr(e.msg, needle));
	assert_null(strchr(e.msg, '\n'));
}

static uint32_t header_crc(const uint8_t *hdr)
{
	uint8_t copy[H_BYTES];

	memcpy(copy, hdr, H_BYTES);
	memset(copy + H_CRC, 0, 4);
	return (uint32_t)crc32(0L, copy, H_BYTES);
}

/* ---- GUIDs ---- */

static void test_guid_known_answer(void **state)
{
	static const uint8_t rfc[16] = {
		0x0F, 0xC6, 0x3D, 0xAF, 0x84, 0x83, 0x47, 0x72,
		0x8E, 0x79, 0x3D, 0x69, 0xD8, 0x47, 0x7D, 0xE4,
	};
	uint8_t g[16], disk[16], lower[16];
	char text[37];

	(void)state;
	assert_int_equal(gpt_guid_parse(GPT_TYPE_LINUX_FS, g), 0);
	assert_memory_equal(g, rfc, 16);
	gpt_guid_to_disk(g, disk);
	assert_memory_equal(disk, linux_fs_disk, 16);
	gpt_guid_to_disk(disk, disk); /* in place, and its own inverse */
	assert_memory_equal(disk, rfc, 16);
	assert_int_equal(
		gpt_guid_parse("0fc63daf-8483-4772-8e79-3d69d8477de4", lower), 0);
	assert_memory_equal(lower, rfc, 16);
	gpt_guid_format(rfc, text);
	assert_string_equal(text, GPT_TYPE_LINUX_FS);
}

static void test_guid_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"0FC63DAF-8483-4772-8E79-3D69D8477DE",   /* short */
		"0FC63DAF-8483-4772-8E79-3D69D8477DE40", /* long */
		"0FC63DAF-8483-4772-8E79-3D69D8477DEG",  /* not hex */
		"0FC63DAF 8483-4772-8E79-3D69D8477DE4",  /* no hyphen */
		"0FC63DA-F8483-4772-8E79-3D69D8477DE4",  /* hyphen moved */
		"0FC63DAF84834772-8E79-3D69D8477DE4XX",  /* no hyphens */
		"{0FC63DAF-8483-4772-8E79-3D69D8477DE4}",
		"0FC63DAF-8483-4772-8E79-3D69D8477DE4\n",
		"-0FC63DAF-8483-4772-8E79-3D69D8477DE",
	};
	uint8_t g[16];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		memset(g, 0x5A, sizeof(g));
		if (gpt_guid_parse(bad[i], g) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		for (size_t j = 0; j < sizeof(g); j++)
			assert_int_equal(g[j], 0x5A); /* left alone */
	}
}

/* ---- protective MBR ---- */

static void test_protective_mbr(void **state)
{
	struct image *img = encode_fixture();
	const uint8_t *m = img->primary;
	const uint8_t *r = m + MBR_RECORD0;

	(void)state;
	assert_true(is_zero(m, 446)); /* boot code, disk signature, unknown */
	assert_int_equal(r[0], 0x00);  /* boot indicator */
	assert_int_equal(r[1], 0x00);  /* starting CHS 0x000200 */
	assert_int_equal(r[2], 0x02);
	assert_int_equal(r[3], 0x00);
	assert_int_equal(r[4], 0xEE); /* OS type */
	assert_int_equal(r[5], 0xFF); /* ending CHS 0xFFFFFF */
	assert_int_equal(r[6], 0xFF);
	assert_int_equal(r[7], 0xFF);
	assert_int_equal(rd32(r + 8), 1);
	assert_int_equal(rd32(r + 12), DISK_SECTORS - 1);
	assert_true(is_zero(r + 16, 3 * 16)); /* records 2..4 */
	assert_int_equal(m[MBR_SIG], 0x55);
	assert_int_equal(m[MBR_SIG + 1], 0xAA);
	assert_int_equal(rd16(m + MBR_SIG), 0xAA55);
	free(img);
}

static void test_protective_mbr_size_saturates(void **state)
{
	struct gpt_disk d = { .total_sectors = 0x100000000ULL + 5 };
	struct image *img;

	(void)state;
	img = encode_ok(&d);
	assert_int_equal(rd32(img->primary + MBR_RECORD0 + 12), 0xFFFFFFFFu);
	free(img);
	d.total_sectors = 0x100000000ULL; /* size - 1 just fits */
	img = encode_ok(&d);
	assert_int_equal(rd32(img->primary + MBR_RECORD0 + 12), 0xFFFFFFFFu);
	free(img);
}

/* ---- headers ---- */

static void check_header_common(const uint8_t *h)
{
	assert_memory_equal(h + H_SIG, "EFI PART", 8);
	assert_int_equal(rd32(h + H_REV), 0x00010000);
	assert_int_equal(rd32(h + H_SIZE), 92);
	assert_int_equal(rd32(h + H_RSVD), 0);
	assert_int_equal(rd64(h + H_FIRST), 34);
	assert_int_equal(rd64(h + H_LAST), DISK_SECTORS - 34);
	assert_memory_equal(h + H_GUID, disk_guid_disk, 16);
	assert_int_equal(rd32(h + H_COUNT), 128);
	assert_int_equal(rd32(h + H_ENTRY_SIZE), 128);
	assert_int_equal(rd32(h + H_CRC), header_crc(h));
	assert_true(is_zero(h + H_BYTES, SECTOR - H_BYTES));
}

static void test_primary_header(void **state)
{
	struct image *img = encode_fixture();
	const uint8_t *h = img->primary + 1 * SECTOR;
	const uint8_t *entries = img->primary + 2 * SECTOR;

	(void)state;
	check_header_common(h);
	assert_int_equal(rd64(h + H_MY), 1);
	assert_int_equal(rd64(h + H_ALT), DISK_SECTORS - 1);
	assert_int_equal(rd64(h + H_ENTRY_LBA), 2);
	assert_int_equal(rd32(h + H_ENTRY_CRC),
			 (uint32_t)crc32(0L, entries, ENTRIES_BYTES));
	free(img);
}

static void test_backup_header(void **state)
{
	struct image *img = encode_fixture();
	const uint8_t *p = img->primary + 1 * SECTOR;
	const uint8_t *h = img->backup + 32 * SECTOR; /* LBA total-1 */
	const uint8_t *entries = img->backup;         /* LBA total-33 */

	(void)state;
	check_header_common(h);
	assert_int_equal(rd64(h + H_MY), DISK_SECTORS - 1);
	assert_int_equal(rd64(h + H_ALT), 1);
	assert_int_equal(rd64(h + H_ENTRY_LBA), DISK_SECTORS - 33);
	assert_int_equal(rd32(h + H_ENTRY_CRC),
			 (uint32_t)crc32(0L, entries, ENTRIES_BYTES));
	assert_int_equal(rd32(h + H_ENTRY_CRC), rd32(p + H_ENTRY_CRC));
	assert_memory_equal(entries, img->primary + 2 * SECTOR, ENTRIES_BYTES);
	free(img);
}

/* A corrupted byte must change the stored CRC's validity. */
static void test_header_crc_detects_change(void **state)
{
	struct image *img = encode_fixture();
	uint8_t *h = img->primary + 1 * SECTOR;

	(void)state;
	h[H_LAST] ^= 1;
	assert_int_not_equal(rd32(h + H_CRC), header_crc(h));
	free(img);
}

/* ---- entries ---- */

static void check_name(const uint8_t *ent, const char *ascii)
{
	size_t n = strlen(ascii);

	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ent[E_NAME + 2 * i], (uint8_t)ascii[i]);
		assert_int_equal(ent[E_NAME + 2 * i + 1], 0);
	}
	assert_true(is_zero(ent + E_NAME + 2 * n, E_NAME_BYTES - 2 * n));
}

static void test_entries(void **state)
{
	struct image *img = encode_fixture();
	const uint8_t *e1 = img->primary + 2 * SECTOR;
	const uint8_t *e2 = e1 + 128;

	(void)state;
	assert_memory_equal(e1 + E_TYPE, linux_fs_disk, 16);
	assert_memory_equal(e1 + E_UNIQUE, boot_guid_disk, 16);
	assert_int_equal(rd64(e1 + E_FIRST), 32768);
	assert_int_equal(rd64(e1 + E_LAST), 65535);
	assert_int_equal(rd64(e1 + E_ATTR), 1ULL << 2);
	check_name(e1, "boot");

	assert_memory_equal(e2 + E_TYPE, root_arm64_disk, 16);
	assert_memory_equal(e2 + E_UNIQUE, root_guid_disk, 16);
	assert_int_equal(rd64(e2 + E_FIRST), 65536);
	assert_int_equal(rd64(e2 + E_LAST), DISK_SECTORS - 34);
	assert_int_equal(rd64(e2 + E_ATTR), 0);
	check_name(e2, "nixos");

	assert_true(is_zero(e1 + 2 * 128, ENTRIES_BYTES - 2 * 128));
	free(img);
}

static void test_name_of_36_chars(void **state)
{
	static const char name[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	struct gpt_disk d;
	struct image *img;

	(void)state;
	assert_int_equal(strlen(name), 36);
	make_disk(&d);
	memcpy(d.parts[0].name, name, sizeof(name));
	img = encode_ok(&d);
	check_name(img->primary + 2 * SECTOR, name);
	free(img);
}

static void test_empty_table_on_smallest_disk(void **state)
{
	struct gpt_disk d = { .total_sectors = 68 };
	struct image *img;

	(void)state;
	img = encode_ok(&d);
	assert_int_equal(rd64(img->primary + SECTOR + H_LAST), 34);
	assert_true(is_zero(img->primary + 2 * SECTOR, ENTRIES_BYTES));
	assert_int_equal(rd32(img->primary + SECTOR + H_ENTRY_CRC),
			 (uint32_t)crc32(0L, img->backup, ENTRIES_BYTES));
	free(img);
}

/* Whole usable range, and two partitions that touch, are both fine. */
static void test_boundaries_accepted(void **state)
{
	struct gpt_disk d;

	(void)state;
	make_disk(&d);
	d.nparts = 1;
	d.parts[0].first_lba = 34;
	d.parts[0].last_lba = DISK_SECTORS - 34;
	free(encode_ok(&d));
	d.parts[0].last_lba = 34; /* a one-sector partition */
	free(encode_ok(&d));
}

static void test_deterministic(void **state)
{
	struct gpt_disk d;
	struct image *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct mk_err e;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	memset(a, 0xA5, sizeof(*a));
	memset(b, 0x5A, sizeof(*b));
	make_disk(&d);
	assert_int_equal(gpt_encode(&d, a->primary, a->backup, &e), 0);
	assert_int_equal(gpt_encode(&d, b->primary, b->backup, &e), 0);
	assert_memory_equal(a, b, sizeof(*a));
	free(a);
	free(b);
}

/* ---- validation ---- */

static void test_rejects_overlap(void **state)
{
	struct gpt_disk d;

	(void)state;
	make_disk(&d);
	d.parts[1].first_lba = d.parts[0].last_lba;
	expect_fail(&d, "overlaps partition 1");
	make_disk(&d);
	d.parts[1].first_lba = 32768; /* same start, and containing it */
	expect_fail(&d, "overlaps");
	make_disk(&d); /* partition 2 before 1, sharing one sector */
	d.parts[1].first_lba = 34;
	d.parts[1].last_lba = d.parts[0].first_lba;
	expect_fail(&d, "partition 2 (LBA 34-32768) overlaps partition 1");
}

static void test_rejects_outside_usable(void **state)
{
	struct gpt_disk d;

	(void)state;
	make_disk(&d);
	d.parts[0].first_lba = 33;
	expect_fail(&d, "outside usable range");
	make_disk(&d);
	d.parts[1].last_lba = DISK_SECTORS - 33;
	expect_fail(&d, "outside usable range");
	make_disk(&d);
	d.parts[1].first_lba = d.parts[1].last_lba = DISK_SECTORS;
	expect_fail(&d, "outside usable range");
}

static void test_rejects_first_after_last(void **state)
{
	struct gpt_disk d;

	(void)state;
	make_disk(&d);
	d.parts[0].first_lba = 40000;
	d.parts[0].last_lba = 39999;
	expect_fail(&d, "after last LBA");
}

static void test_rejects_long_name(void **state)
{
	struct gpt_disk d;

	(void)state;
	make_disk(&d);
	memset(d.parts[1].name, 'x', sizeof(d.parts[1].name)); /* no NUL */
	expect_fail(&d, "partition 2: name longer than 36");
}

static void test_rejects_non_ascii_name(void **state)
{
	struct gpt_disk d;

	(void)state;
	make_disk(&d);
	snprintf(d.parts[0].name, sizeof(d.parts[0].name), "b\xC3\xB6ot");
	expect_fail(&d, "not ASCII");
}

static void test_rejects_too_many_parts(void **state)
{
	struct gpt_disk d;

	(void)state;
	make_disk(&d);
	d.nparts = GPT_MAX_PARTS + 1;
	expect_fail(&d, "at most 4");
}

static void test_rejects_tiny_disk(void **state)
{
	struct gpt_disk d = { .total_sectors = 67 };

	(void)state;
	expect_fail(&d, "too small");
	d.total_sectors = 0;
	expect_fail(&d, "too small");
}

static void test_rejects_zero_type(void **state)
{
	struct gpt_disk d;

	(void)state;
	make_disk(&d);
	memset(d.parts[1].type_guid, 0, 16);
	expect_fail(&d, "zero type GUID");
}

/* ---- an independent reader: sgdisk ---- */

static const char *find_sgdisk(void)
{
	static const char *const sbin[] = { "/usr/sbin/sgdisk", "/sbin/sgdisk" };

	if (system("command -v sgdisk >/dev/null 2>&1") == 0)
		return "sgdisk";
	for (size_t i = 0; i < sizeof(sbin) / sizeof(*sbin); i++)
		if (access(sbin[i], X_OK) == 0)
			return sbin[i];
	return NULL;
}

/* A temp image path, unlinked by the teardown even if a check fails. */
struct temp_image {
	char path[64];
};

static int temp_image_teardown(void **state)
{
	struct temp_image *t = *state;

	if (t != NULL && t->path[0] != '\0')
		unlink(t->path);
	free(t);
	return 0;
}

/* ---- decoding ---- */

static void decode_ok(const uint8_t *sector, uint64_t lba,
		      struct gpt_header_info *h)
{
	struct mk_err e = { "" };

	if (gpt_decode_header(sector, lba, h, &e) != 0)
		fail_msg("gpt_decode_header: %s", e.msg);
}

static void decode_fail(const uint8_t *sector, uint64_t lba,
			const char *needle)
{
	struct gpt_header_info h;
	struct mk_err e = { "" };

	assert_int_equal(gpt_decode_header(sector, lba, &h, &e), -1);
	if (strstr(e.msg, needle) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", e.msg, needle);
}

/* What gpt_encode wrote reads back: the MBR, both headers, entries. */
static void test_decode_round_trip(void **state)
{
	struct image *img = encode_fixture();
	const uint8_t *entries = img->primary + 2 * SECTOR;
	struct gpt_header_info h, b;
	struct gpt_entry_info e;
	struct gpt_mbr m;
	uint8_t g[16];

	(void)state;
	gpt_decode_mbr(img->primary, &m);
	assert_true(m.signature);
	assert_true(m.protective);
	assert_int_equal(m.records[0].type, GPT_MBR_TYPE_PROTECTIVE);
	assert_int_equal(m.records[0].first_lba, 1);
	assert_int_equal(m.records[0].sectors, DISK_SECTORS - 1);
	assert_false(m.records[0].boot);
	assert_int_equal(m.records[1].type, 0);

	decode_ok(img->primary + SECTOR, 1, &h);
	assert_int_equal(h.my_lba, 1);
	assert_int_equal(h.alternate_lba, DISK_SECTORS - 1);
	assert_int_equal(h.first_usable_lba, 34);
	assert_int_equal(h.last_usable_lba, DISK_SECTORS - 34);
	assert_int_equal(h.entries_lba, 2);
	assert_int_equal(h.entry_count, 128);
	assert_int_equal(h.entry_size, 128);
	assert_int_equal(gpt_entries_bytes(&h), ENTRIES_BYTES);
	assert_int_equal(gpt_guid_parse(disk_guid_text, g), 0);
	assert_memory_equal(h.disk_guid, g, 16);
	assert_true(gpt_entries_crc_ok(&h, entries));

	decode_ok(img->backup + 32 * SECTOR, DISK_SECTORS - 1, &b);
	assert_int_equal(b.alternate_lba, 1);
	assert_int_equal(b.entries_lba, DISK_SECTORS - 33);
	assert_true(gpt_entries_crc_ok(&b, img->backup));

	assert_int_equal(gpt_decode_entry(&h, entries, 0, &e), 1);
	assert_int_equal(gpt_guid_parse(GPT_TYPE_LINUX_FS, g), 0);
	assert_memory_equal(e.type_guid, g, 16);
	assert_int_equal(gpt_guid_parse(boot_guid_text, g), 0);
	assert_memory_equal(e.unique_guid, g, 16);
	assert_int_equal(e.first_lba, 32768);
	assert_int_equal(e.last_lba, 65535);
	assert_int_equal(e.attributes, GPT_ATTR_LEGACY_BIOS_BOOTABLE);
	assert_string_equal(e.name, "boot");
	assert_int_equal(gpt_decode_entry(&h, entries, 1, &e), 1);
	assert_string_equal(e.name, "nixos");
	assert_int_equal(e.last_lba, DISK_SECTORS - 34);
	assert_int_equal(gpt_decode_entry(&h, entries, 2, &e), 0);
	assert_int_equal(gpt_decode_entry(&h, entries, 127, &e), 0);
	free(img);
}

/* Sets a header field and makes its CRC right again. */
static void set32_recrc(uint8_t *hdr, size_t at, uint32_t v)
{
	uint32_t crc;

	for (int i = 0; i < 4; i++)
		hdr[at + i] = (uint8_t)(v >> (8 * i));
	crc = header_crc(hdr);
	for (int i = 0; i < 4; i++)
		hdr[H_CRC + i] = (uint8_t)(crc >> (8 * i));
}

static void test_decode_rejects(void **state)
{
	struct image *img = encode_fixture();
	uint8_t *hdr = img->primary + SECTOR, copy[SECTOR];
	struct gpt_header_info h;
	struct mk_err e = { "" };

	(void)state;
	memcpy(copy, hdr, SECTOR);
	decode_fail(hdr, 2, "its own LBA 1, expected 2");
	hdr[H_SIG] = 'e';
	decode_fail(hdr, 1, "EFI PART");
	memcpy(hdr, copy, SECTOR);
	hdr[H_FIRST] ^= 1;
	decode_fail(hdr, 1, "header CRC");
	memcpy(hdr, copy, SECTOR);
	set32_recrc(hdr, H_SIZE, 91);
	decode_fail(hdr, 1, "header size 91");
	memcpy(hdr, copy, SECTOR);
	set32_recrc(hdr, H_ENTRY_SIZE, 192); /* not 128 << n */
	decode_fail(hdr, 1, "entries of 192 bytes");
	memcpy(hdr, copy, SECTOR);
	set32_recrc(hdr, H_COUNT, 0);
	decode_fail(hdr, 1, "0 entries");
	memcpy(hdr, copy, SECTOR);
	set32_recrc(hdr, H_COUNT, 8193); /* over 1 MiB of entries */
	decode_fail(hdr, 1, "8193 entries");
	/* 256-byte entries are the spec's too. */
	memcpy(hdr, copy, SECTOR);
	set32_recrc(hdr, H_ENTRY_SIZE, 256);
	decode_ok(hdr, 1, &h);
	assert_int_equal(gpt_entries_bytes(&h), 2 * ENTRIES_BYTES);
	/* A changed entry fails the array's CRC. */
	memcpy(hdr, copy, SECTOR);
	assert_int_equal(gpt_decode_header(hdr, 1, &h, &e), 0);
	img->primary[2 * SECTOR + E_FIRST] ^= 1;
	assert_false(gpt_entries_crc_ok(&h, img->primary + 2 * SECTOR));
	free(img);
}

/* Names are UTF-16LE: any code point reads as UTF-8, a lone surrogate
 * as U+FFFD, and 36 units fit whatever they are. */
static void test_decode_names(void **state)
{
	static const uint16_t units[] = { 'a', 0xE9, 0x20AC, 0xD83D, 0xDE00,
					  0xD800, 'z', 0xDC00, 0 };
	struct gpt_header_info h = { .entry_count = 1, .entry_size = 128 };
	uint8_t entry[128] = { 0 };
	struct gpt_entry_info e;

	(void)state;
	entry[E_TYPE] = 1;
	for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++) {
		entry[E_NAME + 2 * i] = (uint8_t)units[i];
		entry[E_NAME + 2 * i + 1] = (uint8_t)(units[i] >> 8);
	}
	assert_int_equal(gpt_decode_entry(&h, entry, 0, &e), 1);
	assert_string_equal(e.name, "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"
				    "\xEF\xBF\xBDz\xEF\xBF\xBD");
	/* 36 units of U+FFFF (3 bytes each): the largest name. */
	for (size_t i = 0; i < 36; i++)
		entry[E_NAME + 2 * i] = entry[E_NAME + 2 * i + 1] = 0xFF;
	assert_int_equal(gpt_decode_entry(&h, entry, 0, &e), 1);
	assert_int_equal(strlen(e.name), GPT_NAME_UTF8_MAX);
}

static void test_type_names(void **state)
{
	uint8_t g[16];

	(void)state;
	assert_int_equal(gpt_guid_parse(GPT_TYPE_LINUX_FS, g), 0);
	assert_string_equal(gpt_type_name(g), "Linux filesystem");
	assert_int_equal(gpt_guid_parse(GPT_TYPE_ROOT_ARM64, g), 0);
	assert_string_equal(gpt_type_name(g), "Linux ARM64 root (/)");
	assert_int_equal(
		gpt_guid_parse("C12A7328-F81F-11D2-BA4B-00A0C93EC93B", g), 0);
	assert_string_equal(gpt_type_name(g), "EFI system partition");
	assert_int_equal(gpt_guid_parse(disk_guid_text, g), 0);
	assert_null(gpt_type_name(g));
}

/* Writes the fixture into a sparse 64 MiB file at t->path. */
static void write_image(struct temp_image *t)
{
	struct image *img = encode_fixture();
	int fd;

	snprintf(t->path, sizeof(t->path), "/tmp/test_gpt.XXXXXX");
	fd = mkstemp(t->path);
	if (fd < 0)
		t->path[0] = '\0';
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)DISK_BYTES), 0);
	assert_int_equal(pwrite(fd, img->primary, PRIMARY_BYTES, 0),
			 PRIMARY_BYTES);
	assert_int_equal(pwrite(fd, img->backup, BACKUP_BYTES,
				(off_t)(DISK_BYTES - BACKUP_BYTES)),
			 BACKUP_BYTES);
	assert_int_equal(close(fd), 0);
	free(img);
}

static void run_capture(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	size_t n;

	assert_non_null(p);
	n = fread(out, 1, cap - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
}

static void test_sgdisk_accepts_image(void **state)
{
	const char *sgdisk = find_sgdisk();
	struct temp_image *t;
	char cmd[256], out[8192];

	if (sgdisk == NULL)
		skip_unless_ci("sgdisk is not installed (.ci/deps installs gdisk)");
	t = calloc(1, sizeof(*t));
	assert_non_null(t);
	*state = t;
	write_image(t);

	snprintf(cmd, sizeof(cmd), "%s -v '%s' 2>&1", sgdisk, t->path);
	run_capture(cmd, out, sizeof(out));
	if (strstr(out, "No problems found") == NULL)
		fail_msg("sgdisk -v:\n%s", out);

	snprintf(cmd, sizeof(cmd), "%s -i 1 '%s' 2>&1", sgdisk, t->path);
	run_capture(cmd, out, sizeof(out));
	assert_non_null(strstr(out, "Partition GUID code: " GPT_TYPE_LINUX_FS));
	assert_non_null(strstr(out, boot_guid_text));
	assert_non_null(strstr(out, "First sector: 32768 "));
	assert_non_null(strstr(out, "Last sector: 65535 "));
	assert_non_null(strstr(out, "Attribute flags: 0000000000000004"));
	assert_non_null(strstr(out, "Partition name: 'boot'"));

	snprintf(cmd, sizeof(cmd), "%s -i 2 '%s' 2>&1", sgdisk, t->path);
	run_capture(cmd, out, sizeof(out));
	assert_non_null(
		strstr(out, "Partition GUID code: " GPT_TYPE_ROOT_ARM64));
	assert_non_null(strstr(out, "Partition name: 'nixos'"));
}


/* ---- decoding ---- */

/* Rewrites a header's CRC after a field was changed on purpose, so that
 * the field's own check is what must catch it. */
static void fix_header_crc(uint8_t *hdr)
{
	uint32_t crc = header_crc(hdr);

	for (int i = 0; i < 4; i++)
		hdr[H_CRC + i] = (uint8_t)(crc >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int decode_primary(const struct image *img, struct gpt_disk *d,
			  struct mk_err *e)
{
	return gpt_decode(img->primary + SECTOR, img->primary + 2 * SECTOR, 1,
			  DISK_SECTORS, d, e);
}

static int decode_backup(const struct image *img, struct gpt_disk *d,
			 struct mk_err *e)
{
	return gpt_decode(img->backup + 32 * SECTOR, img->backup,
			  DISK_SECTORS - 1, DISK_SECTORS, d, e);
}

static void test_decode_both_copies(void **state)
{
	struct image *img = encode_fixture();
	struct gpt_disk want, got;
	struct mk_err e = { "" };

	(void)state;
	make_disk(&want);
	if (decode_primary(img, &got, &e))
		fail_msg("primary: %s", e.msg);
	assert_memory_equal(&got, &want, sizeof(want));
	if (decode_backup(img, &got, &e))
		fail_msg("backup: %s", e.msg);
	assert_memory_equal(&got, &want, sizeof(want));
	free(img);
}

/* Changes one primary header field (CRC made right again) and expects
 * the decoder to name it. */
static void expect_header_rejected(size_t off, uint64_t value, int bytes,
				   const char *needle)
{
	struct image *img = encode_fixture();
	uint8_t *h = img->primary + SECTOR;
	struct gpt_disk d;
	struct mk_err e = { "" };

	if (bytes == 8)
		put64(h + off, value);
	else
		put32(h + off, (uint32_t)value);
	fix_header_crc(h);
	assert_int_equal(decode_primary(img, &d, &e), -1);
	if (!strstr(e.msg, needle))
		fail_msg("'%s' does not say '%s'", e.msg, needle);
	free(img);
}

static void test_decode_rejects_header_fields(void **state)
{
	(void)state;
	expect_header_rejected(H_REV, 0x00020000, 4, "revision 131072");
	expect_header_rejected(H_RSVD, 1, 4, "reserved field 1");
	expect_header_rejected(H_MY, 2, 8, "its own LBA 2, expected 1");
	expect_header_rejected(H_ALT, DISK_SECTORS - 2, 8,
			       "other header's LBA 131070, expected 131071");
	expect_header_rejected(H_FIRST, 2048, 8, "first usable LBA 2048");
	expect_header_rejected(H_LAST, DISK_SECTORS - 1, 8,
			       "last usable LBA 131071, expected 131038");
	expect_header_rejected(H_ENTRY_LBA, 3, 8, "entries' LBA 3");
	expect_header_rejected(H_COUNT, 64, 4, "number of entries 64");
	expect_header_rejected(H_ENTRY_SIZE, 256, 4, "entry size 256");
}

/* A 96-byte header (the spec allows up to a sector, its CRC covering
 * them all) is a GPT gpt_decode_header reads, but not gpt_encode's. */
static void test_decode_rejects_longer_header(void **state)
{
	struct image *img = encode_fixture();
	uint8_t *h = img->primary + SECTOR, copy[96];
	struct gpt_header_info info;
	struct gpt_disk d;
	struct mk_err e = { "" };

	(void)state;
	put32(h + H_SIZE, sizeof(copy));
	memcpy(copy, h, sizeof(copy));
	memset(copy + H_CRC, 0, 4);
	put32(h + H_CRC, (uint32_t)crc32(0L, copy, sizeof(copy)));
	if (gpt_decode_header(h, 1, &info, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(info.header_size, 96);
	assert_int_equal(decode_primary(img, &d, &e), -1);
	if (!strstr(e.msg, "header size 96, expected 92"))
		fail_msg("'%s'", e.msg);
	free(img);
}

static void test_decode_rejects_crcs_and_signature(void **state)
{
	struct image *img = encode_fixture();
	struct gpt_disk d;
	struct mk_err e = { "" };

	(void)state;
	/* A header byte changed, its CRC not. */
	img->primary[SECTOR + H_LAST] ^= 1;
	assert_int_equal(decode_primary(img, &d, &e), -1);
	assert_non_null(strstr(e.msg, "header CRC32"));
	/* An entry byte changed: the backup's array, its CRC not. */
	img->backup[E_NAME] ^= 1;
	assert_int_equal(decode_backup(img, &d, &e), -1);
	assert_non_null(strstr(e.msg, "entries CRC32"));
	assert_non_null(strstr(e.msg, "LBA 131039"));
	/* The backup read where the primary is: not its own LBA. */
	assert_int_equal(gpt_decode(img->primary + SECTOR,
				    img->primary + 2 * SECTOR, DISK_SECTORS - 1,
				    DISK_SECTORS, &d, &e), -1);
	/* No header at all. */
	memset(img->primary + SECTOR, 0, SECTOR);
	assert_int_equal(decode_primary(img, &d, &e), -1);
	assert_non_null(strstr(e.msg, "no GPT header"));
	assert_int_equal(gpt_decode(img->backup + 32 * SECTOR, img->backup, 66,
				    67, &d, &e), -1);
	assert_non_null(strstr(e.msg, "too small"));
	free(img);
}

/* Five entries used (by hand: gpt_encode writes at most 4), CRCs made
 * right. */
static void test_decode_rejects_fifth_partition(void **state)
{
	struct image *img = encode_fixture();
	uint8_t *entries = img->primary + 2 * SECTOR, *h = img->primary + SECTOR;
	struct gpt_disk d;
	struct mk_err e = { "" };

	(void)state;
	for (int slot = 2; slot <= 4; slot++)
		memcpy(entries + slot * 128, linux_fs_disk, 16);
	put32(h + H_ENTRY_CRC, (uint32_t)crc32(0L, entries, ENTRIES_BYTES));
	fix_header_crc(h);
	assert_int_equal(decode_primary(img, &d, &e), -1);
	assert_non_null(strstr(e.msg, "more than 4 partitions (entry 5"));
	free(img);
}

static void test_decode_non_ascii_name(void **state)
{
	struct image *img = encode_fixture();
	uint8_t *entries = img->primary + 2 * SECTOR, *h = img->primary + SECTOR;
	struct gpt_disk d;
	struct mk_err e = { "" };

	(void)state;
	entries[E_NAME + 2 * 2] = 0xE9; /* "bo" U+00E9 "t" */
	put32(h + H_ENTRY_CRC, (uint32_t)crc32(0L, entries, ENTRIES_BYTES));
	fix_header_crc(h);
	if (decode_primary(img, &d, &e))
		fail_msg("%s", e.msg);
	assert_string_equal(d.parts[0].name, "bo?t");
	free(img);
}

/* sgdisk, not gpt_encode, writes the table: the decoder reads what the
 * spec says, field for field. */
static void test_decode_sgdisk_table(void **state)
{
	const char *sgdisk = find_sgdisk();
	struct temp_image *t;
	struct image img;
	struct gpt_disk want, got;
	struct mk_err e = { "" };
	char cmd[1024], out[8192];
	int fd;

	if (sgdisk == NULL)
		skip_unless_ci("sgdisk is not installed (.ci/deps installs gdisk)");
	t = calloc(1, sizeof(*t));
	assert_non_null(t);
	*state = t;
	snprintf(t->path, sizeof(t->path), "/tmp/test_gpt.XXXXXX");
	fd = mkstemp(t->path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)DISK_BYTES), 0);
	snprintf(cmd, sizeof(cmd),
		 "%s -U %s -n 1:32768:65535 -t 1:%s -u 1:%s -c 1:boot "
		 "-A 1:set:2 -n 2:65536:%llu -t 2:%s -u 2:%s -c 2:nixos '%s' "
		 "2>&1", sgdisk, disk_guid_text, GPT_TYPE_LINUX_FS,
		 boot_guid_text, (unsigned long long)(DISK_SECTORS - 34),
		 GPT_TYPE_ROOT_ARM64, root_guid_text, t->path);
	run_capture(cmd, out, sizeof(out));
	assert_int_equal(pread(fd, img.primary, PRIMARY_BYTES, 0), PRIMARY_BYTES);
	assert_int_equal(pread(fd, img.backup, BACKUP_BYTES,
			       (off_t)(DISK_BYTES - BACKUP_BYTES)),
			 BACKUP_BYTES);
	assert_int_equal(close(fd), 0);
	make_disk(&want);
	if (decode_primary(&img, &got, &e))
		fail_msg("primary: %s", e.msg);
	assert_memory_equal(&got, &want, sizeof(want));
	if (decode_backup(&img, &got, &e))
		fail_msg("backup: %s", e.msg);
	assert_memory_equal(&got, &want, sizeof(want));
}

/* ---- comparing ---- */

struct lines {
	int n;
	char text[8][256];
};

static void collect_line(void *user, const char *line)
{
	struct lines *l = user;

	if (l->n < 8)
		snprintf(l->text[l->n], sizeof(l->text[0]), "%s", line);
	l->n++;
}

static void test_compare(void **state)
{
	struct gpt_disk want, got;
	struct lines l = { 0 };
	struct mk_diffs diffs = { collect_line, &l, 0 };

	(void)state;
	make_disk(&want);
	got = want;
	gpt_compare(&got, &want, "GPT", &diffs);
	assert_int_equal(diffs.count, 0);

	snprintf(got.parts[1].name, sizeof(got.parts[1].name), "ROOT");
	got.parts[0].attributes = 0;
	got.parts[1].first_lba++;
	assert_int_equal(gpt_guid_parse(GPT_TYPE_LINUX_FS,
					got.parts[1].type_guid), 0);
	gpt_compare(&got, &want, "GPT", &diffs);
	assert_int_equal(diffs.count, 4);
	assert_string_equal(l.text[0], "GPT: partition 1 attributes 0x0, "
			    "expected 0x4");
	assert_string_equal(l.text[1], "GPT: partition 2 type "
			    GPT_TYPE_LINUX_FS ", expected " GPT_TYPE_ROOT_ARM64);
	assert_string_equal(l.text[2], "GPT: partition 2 starts at sector "
			    "65537, expected 65536");
	assert_string_equal(l.text[3], "GPT: partition 2 name 'ROOT', "
			    "expected 'nixos'");

	got = want;
	got.nparts = 1;
	got.disk_guid[0] ^= 1;
	gpt_compare(&got, &want, "GPT backup", &diffs);
	assert_int_equal(diffs.count, 6);
	assert_non_null(strstr(l.text[4], "GPT backup: disk GUID 00234567-"));
	assert_string_equal(l.text[5], "GPT backup: 1 partitions, expected 2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guid_known_answer),
		cmocka_unit_test(test_guid_parse_rejects),
		cmocka_unit_test(test_protective_mbr),
		cmocka_unit_test(test_protective_mbr_size_saturates),
		cmocka_unit_test(test_primary_header),
		cmocka_unit_test(test_backup_header),
		cmocka_unit_test(test_header_crc_detects_change),
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_name_of_36_chars),
		cmocka_unit_test(test_empty_table_on_smallest_disk),
		cmocka_unit_test(test_boundaries_accepted),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_rejects_overlap),
		cmocka_unit_test(test_rejects_outside_usable),
		cmocka_unit_test(test_rejects_first_after_last),
		cmocka_unit_test(test_rejects_long_name),
		cmocka_unit_test(test_rejects_non_ascii_name),
		cmocka_unit_test(test_rejects_too_many_parts),
		cmocka_unit_test(test_rejects_tiny_disk),
		cmocka_unit_test(test_rejects_zero_type),
		cmocka_unit_test(test_decode_round_trip),
		cmocka_unit_test(test_decode_rejects),
		cmocka_unit_test(test_decode_names),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test_teardown(test_sgdisk_accepts_image,
					  temp_image_teardown),
		cmocka_unit_test(test_decode_both_copies),
		cmocka_unit_test(test_decode_rejects_header_fields),
		cmocka_unit_test(test_decode_rejects_longer_header),
		cmocka_unit_test(test_decode_rejects_crcs_and_signature),
		cmocka_unit_test(test_decode_rejects_fifth_partition),
		cmocka_unit_test(test_decode_non_ascii_name),
		cmocka_unit_test_teardown(test_decode_sgdisk_table,
					  temp_image_teardown),
		cmocka_unit_test(test_compare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
