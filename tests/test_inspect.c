/*
 * test_inspect.c - inspect.c and inspectfmt.c on images made here, byte
 * by byte.
 *
 * The image is laid out as the RK3328 boot flow and U-Boot expect it
 * (idbloader at sector 64 with the boot ROM's header bytes, binman's
 * 0xFF padding, a saved environment at 0x3F8000 with its CRC32, a FIT
 * at sector 16384) around a GPT of gpt.c and an ext4 of ext4fs.c, plus
 * unknown data in a gap.  Every sector must be accounted for by exactly
 * the regions written; damaged tables, a redundant environment, an
 * image too small or not an image at all are read as they are.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tmptree.h"

#include <zlib.h>

#include "inspect.h"
#include "testfs.h"

#define SECTOR 512u
#define SECTORS 131072u /* 64 MiB */
#define P1_FIRST 32768u
#define P1_LAST 65535u
#define P2_FIRST 65536u
#define P2_LAST 81919u
#define IDB_LAST 263u   /* 100 KiB from sector 64 */
#define FIT_LAST 17983u /* 800 KiB from sector 16384 */
#define DATA_FIRST 90000u
#define DATA_LAST 90007u
#define ENV_OFFSET 0x3F8000u
#define ENV_SIZE 0x8000u
#define ENV_VARS "bootcmd=boot old\0bin=\xff\x01\0ramdisk_addr_r=0x6000000\0\0"

struct fx {
	struct tmptree *t;
	char path[PATH_MAX];
	int fd;
};

static void put_at(int fd, uint64_t off, const void *p, size_t n)
{
	assert_int_equal(pwrite(fd, p, n, (off_t)off), (ssize_t)n);
}

static void fill_at(int fd, uint64_t off, int byte, size_t n)
{
	uint8_t *b = malloc(n);

	assert_non_null(b);
	memset(b, byte, n);
	put_at(fd, off, b, n);
	free(b);
}

/* Bytes that are never all zero or all 0xFF in a sector. */
static void data_at(int fd, uint64_t off, size_t n, unsigned seed)
{
	uint8_t *b = malloc(n);

	assert_non_null(b);
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed + i * 13 + (i >> 9));
	put_at(fd, off, b, n);
	free(b);
}

/* A saved environment copy as U-Boot writes it. */
static void env_at(int fd, uint64_t off, const char *vars, size_t vlen,
		   int flags)
{
	size_t header = 4 + (flags >= 0);
	uint8_t *a = calloc(1, ENV_SIZE);
	uint32_t crc;

	assert_non_null(a);
	memcpy(a + header, vars, vlen);
	if (flags >= 0)
		a[4] = (uint8_t)flags;
	crc = (uint32_t)crc32(0L, a + header, ENV_SIZE - header);
	for (int i = 0; i < 4; i++)
		a[i] = (uint8_t)(crc >> (8 * i));
	put_at(fd, off, a, ENV_SIZE);
	free(a);
}

static void write_gpt(int fd, uint64_t sectors, int two_parts)
{
	uint8_t primary[34 * SECTOR], backup[33 * SECTOR];
	struct gpt_disk d;
	struct mk_err e = { "" };

	memset(&d, 0, sizeof(d));
	d.total_sectors = sectors;
	assert_int_equal(gpt_guid_parse("11111111-2222-3333-4444-555555555555",
					d.disk_guid), 0);
	d.nparts = two_parts ? 2 : 1;
	gpt_guid_parse(GPT_TYPE_LINUX_FS, d.parts[0].type_guid);
	gpt_guid_parse("AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE",
		       d.parts[0].unique_guid);
	d.parts[0].first_lba = two_parts ? P1_FIRST : 2048;
	d.parts[0].last_lba = two_parts ? P1_LAST : 4095;
	d.parts[0].attributes = GPT_ATTR_LEGACY_BIOS_BOOTABLE;
	strcpy(d.parts[0].name, "BOOT");
	gpt_guid_parse("C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
		       d.parts[1].type_guid);
	gpt_guid_parse("0FFFFFFF-BBBB-CCCC-DDDD-EEEEEEEEEEEE",
		       d.parts[1].unique_guid);
	d.parts[1].first_lba = P2_FIRST;
	d.parts[1].last_lba = P2_LAST;
	strcpy(d.parts[1].name, "a\tb");
	if (gpt_encode(&d, primary, backup, &e))
		fail_msg("%s", e.msg);
	put_at(fd, 0, primary, sizeof(primary));
	put_at(fd, (sectors - 33) * SECTOR, backup, sizeof(backup));
}

/* The whole R2S-shaped image. */
static void write_image(struct fx *f)
{
	static const uint8_t idb[] = { 0x3B, 0x8C, 0xDC, 0xFC };
	static const uint8_t fdt[] = { 0xD0, 0x0D, 0xFE, 0xED,
				       0x00, 0x00, 0x04, 0xA8 };
	int fd = f->fd;

	assert_int_equal(ftruncate(fd, (off_t)SECTORS * SECTOR), 0);
	write_gpt(fd, SECTORS, 2);
	data_at(fd, 64 * SECTOR, (IDB_LAST - 63) * SECTOR, 1);
	put_at(fd, 64 * SECTOR, idb, sizeof(idb));
	put_at(fd, 64 * SECTOR + 2048, "RK32", 4);
	fill_at(fd, 100 * SECTOR, 0, 16 * 1024); /* inside the idbloader */
	fill_at(fd, (IDB_LAST + 1) * SECTOR, 0xFF,
		ENV_OFFSET - (IDB_LAST + 1) * SECTOR);
	env_at(fd, ENV_OFFSET, ENV_VARS, sizeof(ENV_VARS) - 1, -1);
	fill_at(fd, ENV_OFFSET + ENV_SIZE, 0xFF,
		16384 * SECTOR - ENV_OFFSET - ENV_SIZE);
	data_at(fd, 16384 * SECTOR, (FIT_LAST - 16383) * SECTOR, 2);
	put_at(fd, 16384 * SECTOR, fdt, sizeof(fdt));
	testfs_write(f->path, fd, (uint64_t)P1_FIRST * SECTOR);
	data_at(fd, (uint64_t)DATA_FIRST * SECTOR,
		(DATA_LAST - DATA_FIRST + 1) * SECTOR, 3);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	void *t = NULL;

	if (!f || tmptree_setup(&t))
		return -1;
	f->t = t;
	snprintf(f->path, sizeof(f->path), "%s/card.img", f->t->root);
	f->fd = open(f->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (f->fd < 0)
		return -1;
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	void *t = f->t;

	close(f->fd);
	free(f);
	return tmptree_teardown(&t);
}

static void inspect_ok(const struct fx *f, struct inspect_report *r,
		       uint64_t redundant)
{
	struct mkr2simg_inspect_options o;
	struct mk_err e = { "" };

	mkr2simg_inspect_options_init(&o);
	o.image = f->path;
	o.env_redundant_offset = redundant;
	if (inspect_image(&o, r, &e) != 0)
		fail_msg("inspect_image: %s", e.msg);
}

struct want {
	uint64_t first, last;
	enum inspect_kind kind;
};

static void expect_regions(const struct inspect_report *r,
			   const struct want *w, size_t n)
{
	for (size_t i = 0; i < n && i < r->nregions; i++)
		if (r->regions[i].first != w[i].first ||
		    r->regions[i].last != w[i].last ||
		    r->regions[i].kind != w[i].kind)
			fail_msg("region %zu: %llu-%llu kind %d, want %llu-%llu "
				 "kind %d", i,
				 (unsigned long long)r->regions[i].first,
				 (unsigned long long)r->regions[i].last,
				 r->regions[i].kind,
				 (unsigned long long)w[i].first,
				 (unsigned long long)w[i].last, w[i].kind);
	assert_int_equal(r->nregions, n);
}

static void test_regions(void **state)
{
	struct fx *f = *state;
	const struct want w[] = {
		{ 0, 0, INSPECT_MBR },
		{ 1, 1, INSPECT_GPT_HEADER },
		{ 2, 33, INSPECT_GPT_ENTRIES },
		{ 34, 63, INSPECT_EMPTY },
		{ 64, IDB_LAST, INSPECT_IDBLOADER },
		{ IDB_LAST + 1, 8127, INSPECT_FILL },
		{ 8128, 8191, INSPECT_ENV },
		{ 8192, 16383, INSPECT_FILL },
		{ 16384, FIT_LAST, INSPECT_FIT },
		{ FIT_LAST + 1, P1_FIRST - 1, INSPECT_EMPTY },
		{ P1_FIRST, P1_LAST, INSPECT_PARTITION },
		{ P2_FIRST, P2_LAST, INSPECT_PARTITION },
		{ P2_LAST + 1, DATA_FIRST - 1, INSPECT_EMPTY },
		{ DATA_FIRST, DATA_LAST, INSPECT_DATA },
		{ DATA_LAST + 1, SECTORS - 34, INSPECT_EMPTY },
		{ SECTORS - 33, SECTORS - 2, INSPECT_GPT_ENTRIES },
		{ SECTORS - 1, SECTORS - 1, INSPECT_GPT_HEADER },
	};
	struct inspect_report r;

	write_image(f);
	inspect_ok(f, &r, 0);
	expect_regions(&r, w, sizeof(w) / sizeof(*w));
	assert_string_equal(r.regions[4].detail, "SPL tag RK32");
	assert_string_equal(r.regions[8].detail, "device tree of 1192 bytes");
	assert_int_equal(r.regions[10].index, 0);
	assert_int_equal(r.regions[11].index, 1);
	assert_false(r.regions[1].backup);
	assert_true(r.regions[16].backup);
	assert_int_equal(r.form, IMGREAD_PLAIN);
	assert_int_equal(r.size, (uint64_t)SECTORS * SECTOR);
	assert_true(r.mbr.signature && r.mbr.protective);
	assert_true(r.gpt && r.copies_agree);
	assert_true(r.primary.valid && r.primary.entries_ok);
	assert_int_equal(r.backup.lba, SECTORS - 1);
	inspect_free(&r);
}

static void test_partitions(void **state)
{
	struct fx *f = *state;
	struct inspect_report r;
	const struct inspect_part *p;

	write_image(f);
	inspect_ok(f, &r, 0);
	assert_int_equal(r.nparts, 2);
	p = &r.parts[0];
	assert_int_equal(p->number, 1);
	assert_string_equal(p->e.name, "BOOT");
	assert_string_equal(p->type_name, "Linux filesystem");
	assert_true(p->has_fs && p->fs_ok);
	assert_string_equal(p->fs.label, TESTFS_LABEL);
	assert_memory_equal(p->fs.uuid, testfs_uuid, 16);
	p = &r.parts[1];
	assert_int_equal(p->number, 2);
	assert_string_equal(p->e.name, "a\tb");
	assert_string_equal(p->type_name, "EFI system partition");
	assert_false(p->has_fs);
	assert_true(r.extlinux.found);
	assert_int_equal(r.extlinux.partition, 1);
	assert_string_equal(r.extlinux.path, "/extlinux/extlinux.conf");
	assert_string_equal(r.extlinux.menu.timeout, "30");
	assert_string_equal(r.extlinux.menu.label, "one");
	assert_string_equal(r.extlinux.menu.kernel, "/Image");
	assert_string_equal(r.extlinux.menu.append, "x=1");
	inspect_free(&r);
}

static void test_env(void **state)
{
	struct fx *f = *state;
	struct inspect_report r;
	const struct inspect_env *v;

	write_image(f);
	inspect_ok(f, &r, 0);
	assert_int_equal(r.nenvs, 1);
	assert_int_equal(r.env_size, ENV_SIZE);
	v = &r.envs[0];
	assert_int_equal(v->offset, ENV_OFFSET);
	assert_true(v->inside && v->saved.valid && v->in_use);
	assert_int_equal(v->partition, 0);
	assert_string_equal(v->content, "data");
	assert_int_equal(v->saved.env.vars, 3);
	assert_string_equal(ubootenv_get(&v->saved.env, "bootcmd"), "boot old");
	inspect_free(&r);

	/* Zeros there, as mkr2simg writes them: nothing saved. */
	fill_at(f->fd, ENV_OFFSET, 0, ENV_SIZE);
	inspect_ok(f, &r, 0);
	assert_false(r.envs[0].saved.valid || r.envs[0].in_use);
	assert_string_equal(r.envs[0].content, "zeros");
	assert_null(r.envs[0].saved.env.text);
	inspect_free(&r);
}

/* Two copies: the one U-Boot would load is the one in use. */
static void test_env_redundant(void **state)
{
	struct fx *f = *state;
	struct inspect_report r;

	write_image(f);
	env_at(f->fd, ENV_OFFSET, "a=old\0\0", 7, 4);
	env_at(f->fd, ENV_OFFSET + ENV_SIZE, "a=new\0\0", 7, 5);
	inspect_ok(f, &r, ENV_OFFSET + ENV_SIZE);
	assert_int_equal(r.nenvs, 2);
	assert_true(r.env_redundant);
	assert_true(r.envs[0].saved.valid && r.envs[1].saved.valid);
	assert_int_equal(r.envs[0].saved.flags, 4);
	assert_false(r.envs[0].in_use);
	assert_true(r.envs[1].in_use);
	assert_string_equal(ubootenv_get(&r.envs[1].saved.env, "a"), "new");
	assert_int_equal(r.regions[6].kind, INSPECT_ENV);
	assert_int_equal(r.regions[6].index, 0);
	assert_int_equal(r.regions[7].kind, INSPECT_ENV);
	assert_int_equal(r.regions[7].index, 1);
	assert_int_equal(r.regions[7].first, 8192);
	inspect_free(&r);
}

/* A damaged primary header: the backup tells the partitions. */
static void test_damaged_primary(void **state)
{
	struct fx *f = *state;
	struct inspect_report r;
	uint8_t b = 0;

	write_image(f);
	assert_int_equal(pread(f->fd, &b, 1, SECTOR + 40), 1);
	b ^= 1;
	put_at(f->fd, SECTOR + 40, &b, 1);
	inspect_ok(f, &r, 0);
	assert_false(r.primary.valid);
	assert_non_null(strstr(r.primary.error, "header CRC"));
	assert_true(r.backup.valid && r.backup.entries_ok);
	assert_true(r.gpt);
	assert_false(r.copies_agree);
	assert_int_equal(r.nparts, 2);
	assert_int_equal(r.regions[1].first, 1);
	assert_int_equal(r.regions[1].kind, INSPECT_DATA);
	inspect_free(&r);
}

/* A changed entry: the primary header is fine, its array is not. */
static void test_damaged_entries(void **state)
{
	struct fx *f = *state;
	struct inspect_report r;
	uint8_t b = 0;

	write_image(f);
	assert_int_equal(pread(f->fd, &b, 1, 2 * SECTOR + 56), 1);
	b ^= 0x20; /* "BOOT" -> "bOOT" */
	put_at(f->fd, 2 * SECTOR + 56, &b, 1);
	inspect_ok(f, &r, 0);
	assert_true(r.primary.valid);
	assert_false(r.primary.entries_ok);
	assert_non_null(strstr(r.primary.error, "entry array CRC"));
	assert_false(r.copies_agree);
	assert_string_equal(r.parts[0].e.name, "BOOT"); /* the backup's */
	inspect_free(&r);
}

/* A long gap is read up to INSPECT_SCAN_SECTORS; an environment past the
 * end of a small image is said to be so. */
static void test_big_gap_small_image(void **state)
{
	const uint64_t big = 524288; /* 256 MiB, sparse */
	/* The environment's 64 sectors are carved out, not scanned. */
	const uint64_t scanned_end = 4096 + INSPECT_SCAN_SECTORS + 64 - 1;
	const struct want w[] = {
		{ 0, 0, INSPECT_MBR },
		{ 1, 1, INSPECT_GPT_HEADER },
		{ 2, 33, INSPECT_GPT_ENTRIES },
		{ 34, 2047, INSPECT_EMPTY },
		{ 2048, 4095, INSPECT_PARTITION },
		{ 4096, 8127, INSPECT_EMPTY },
		{ 8128, 8191, INSPECT_ENV },
		{ 8192, scanned_end, INSPECT_EMPTY },
		{ scanned_end + 1, big - 34, INSPECT_UNSCANNED },
		{ big - 33, big - 2, INSPECT_GPT_ENTRIES },
		{ big - 1, big - 1, INSPECT_GPT_HEADER },
	};
	struct fx *f = *state;
	struct inspect_report r;

	assert_int_equal(ftruncate(f->fd, (off_t)(big * SECTOR)), 0);
	write_gpt(f->fd, big, 0);
	inspect_ok(f, &r, 0);
	expect_regions(&r, w, sizeof(w) / sizeof(*w));
	assert_false(r.parts[0].has_fs);
	assert_false(r.extlinux.found);
	inspect_free(&r);

	assert_int_equal(ftruncate(f->fd, 0), 0);
	assert_int_equal(ftruncate(f->fd, 6144 * SECTOR), 0); /* 3 MiB */
	write_gpt(f->fd, 6144, 0);
	inspect_ok(f, &r, 0);
	assert_false(r.envs[0].inside);
	assert_null(r.envs[0].content);
	assert_false(r.envs[0].in_use);
	inspect_free(&r);
}

static void inspect_fails(const struct fx *f, const char *needle)
{
	struct mkr2simg_inspect_options o;
	struct inspect_report r;
	struct mk_err e = { "" };

	mkr2simg_inspect_options_init(&o);
	o.image = f->path;
	assert_int_equal(inspect_image(&o, &r, &e), -1);
	if (!strstr(e.msg, needle) || !strstr(e.msg, "card.img"))
		fail_msg("\"%s\" does not say \"%s\"", e.msg, needle);
	assert_null(r.regions);
}

static void test_not_an_image(void **state)
{
	struct fx *f = *state;

	fill_at(f->fd, 0, 'A', 1 << 20);
	inspect_fails(f, "not a disk image: no MBR boot signature and no GPT");
	assert_int_equal(ftruncate(f->fd, 100), 0);
	inspect_fails(f, "less than one sector");
}

static char *render(const struct inspect_report *r, int json)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	assert_int_equal(json ? inspect_print_json(r, out)
			      : inspect_print_text(r, out), 0);
	assert_int_equal(fclose(out), 0);
	return text;
}

static void expect_in(const char *text, const char *needle)
{
	if (!text || !strstr(text, needle))
		fail_msg("no \"%s\" in:\n%s", needle, text ? text : "");
}

/* Both renderings, with the bytes an image may hold escaped. */
static void test_render(void **state)
{
	struct fx *f = *state;
	struct inspect_report r;
	char *json, *text;

	write_image(f);
	inspect_ok(f, &r, 0);
	json = render(&r, 1);
	expect_in(json, "\"format\": 1,");
	expect_in(json, "\"compression\": \"none\"");
	expect_in(json, "\"name\": \"a\\tb\"");
	expect_in(json, "\"kind\": \"idbloader\"");
	expect_in(json, "\"detail\": \"SPL tag RK32\"");
	expect_in(json, "{\"name\": \"bin\", \"value\": \"\\ufffd\\u0001\"}");
	expect_in(json, "\"type\": \"EFI system partition\"");
	expect_in(json, "\"linux\": \"/Image\"");
	expect_in(json, "\"valid\": true, \"in_use\": true");
	text = render(&r, 0);
	expect_in(text, "partition 2 \"a\\tb\"");
	expect_in(text, "Rockchip idbloader: SPL tag RK32");
	expect_in(text, "bin=\\xff\\x01");
	expect_in(text, "VALID: U-Boot loads it");
	expect_in(text, "LINUX    /Image");
	free(json);
	free(text);
	inspect_free(&r);
}

/* The public entry: a report string, or one line naming the image. */
static void test_public_entry(void **state)
{
	struct fx *f = *state;
	struct mkr2simg_inspect_options o;
	char err[256] = "", *report = (char *)1;

	write_image(f);
	mkr2simg_inspect_options_init(&o);
	o.image = f->path;
	o.json = 1;
	assert_int_equal(mkr2simg_inspect(&o, &report, err, sizeof(err)), 0);
	assert_non_null(report);
	expect_in(report, "\"format\": 1");
	free(report);
	o.env_size = 100;
	assert_int_equal(mkr2simg_inspect(&o, &report, err, sizeof(err)), -1);
	assert_null(report);
	expect_in(err, "--env-size 100");
	o.env_size = ENV_SIZE;
	o.env_offset = 0;
	o.env_redundant_offset = ENV_OFFSET;
	assert_int_equal(mkr2simg_inspect(&o, &report, err, sizeof(err)), -1);
	expect_in(err, "needs --env-offset");
	o.env_redundant_offset = 0;
	assert_int_equal(mkr2simg_inspect(&o, &report, err, sizeof(err)), 0);
	expect_in(report, "\"uboot_env\": null");
	free(report);
}

#define FX(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX(test_regions),
		FX(test_partitions),
		FX(test_env),
		FX(test_env_redundant),
		FX(test_damaged_primary),
		FX(test_damaged_entries),
		FX(test_big_gap_small_image),
		FX(test_not_an_image),
		FX(test_render),
		FX(test_public_entry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
