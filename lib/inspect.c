#include "inspect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define CHUNK_SECTORS 2048u /* 1 MiB read at a time */
#define ENV_MAX_SIZE (16u << 20) /* the most a U-Boot environment takes */

/* What the boot ROM finds at sector 64: rkcommon.c's header0, whose
 * signature 0x0FF0AA55 is RC4-encrypted with the ROM's fixed key into
 * these bytes (as in Debian's and mainline's idbloader.img), or the
 * plain "RKNS" of the v2 header of newer SoCs. */
static const uint8_t idb_rc4_magic[] = { 0x3B, 0x8C, 0xDC, 0xFC };
static const uint8_t idb_v2_magic[] = { 'R', 'K', 'N', 'S' };
#define IDB_SPL_TAG_AT 2048 /* header1: the SPL's "RK32"-style tag */
#define IDB_TAG_LEN 4
/* Devicetree spec 5.2: big-endian magic, then totalsize. */
static const uint8_t fdt_magic[] = { 0xD0, 0x0D, 0xFE, 0xED };
#define FDT_TOTALSIZE_AT 4

static const char *const extlinux_paths[] = { "/extlinux/extlinux.conf",
					 "/boot/extlinux/extlinux.conf" };

struct ctx {
	struct inspect_report *r;
	struct mk_imgread img;
	struct mk_err *e;
	uint8_t *buf;            /* CHUNK_SECTORS sectors */
};

/* ---- regions ------------------------------------------------------- */

static int add_region(struct inspect_report *r, uint64_t first, uint64_t last,
		      enum inspect_kind kind, struct mk_err *e)
{
	struct inspect_region *g;

	if (mk_grow(&r->regions, &r->cap, r->nregions, sizeof(*r->regions)))
		return mk_fail(e, "out of memory");
	g = &r->regions[r->nregions++];
	memset(g, 0, sizeof(*g));
	g->first = first;
	g->last = last;
	g->kind = kind;
	return 0;
}

static struct inspect_region *last_region(struct inspect_report *r)
{
	return &r->regions[r->nregions - 1];
}

static enum inspect_kind classify(const uint8_t *s)
{
	if (mk_is_zero(s, INSPECT_SECTOR))
		return INSPECT_EMPTY;
	for (size_t i = 0; i < INSPECT_SECTOR; i++)
		if (s[i] != LAYOUT_PAD_BYTE)
			return INSPECT_DATA;
	return INSPECT_FILL;
}

/* Appends a run of one kind, joining it to the region before it when
 * that is of the same kind and was appended by this scan. */
static int add_run(struct ctx *c, size_t from, uint64_t first, uint64_t last,
		   enum inspect_kind kind)
{
	struct inspect_report *r = c->r;

	if (r->nregions > from && last_region(r)->kind == kind &&
	    last_region(r)->last + 1 == first) {
		last_region(r)->last = last;
		return 0;
	}
	return add_region(r, first, last, kind, c->e);
}

/* Sectors [lba, lba + n) classified into runs; holes of the file are
 * zeros without being read. */
static int scan_runs(struct ctx *c, size_t from, uint64_t lba, uint64_t n)
{
	uint64_t end = lba + n;

	while (lba < end) {
		off_t data = lseek(c->img.fd, (off_t)(lba * INSPECT_SECTOR),
				   SEEK_DATA);
		uint64_t hole_end = data < 0 ? end : (uint64_t)data / INSPECT_SECTOR;
		uint64_t todo;

		if (data < 0 && errno != ENXIO)
			hole_end = lba; /* no SEEK_DATA: read everything */
		if (hole_end > lba) {
			hole_end = hole_end < end ? hole_end : end;
			if (add_run(c, from, lba, hole_end - 1, INSPECT_EMPTY))
				return -1;
			lba = hole_end;
			continue;
		}
		todo = end - lba < CHUNK_SECTORS ? end - lba : CHUNK_SECTORS;
		if (imgread_pread(&c->img, c->buf, todo * INSPECT_SECTOR,
				  lba * INSPECT_SECTOR, c->e))
			return -1;
		for (uint64_t i = 0; i < todo; i++)
			if (add_run(c, from, lba + i, lba + i,
				    classify(c->buf + i * INSPECT_SECTOR)))
				return -1;
		lba += todo;
	}
	return 0;
}

/* Short zeros or fill between two data runs are part of the data. */
static void merge_runs(struct inspect_report *r, size_t from)
{
	size_t out = from;

	for (size_t i = from; i < r->nregions; i++) {
		struct inspect_region g = r->regions[i];

		if (g.kind != INSPECT_DATA && i > from && i + 1 < r->nregions &&
		    r->regions[i - 1].kind == INSPECT_DATA &&
		    r->regions[i + 1].kind == INSPECT_DATA &&
		    g.last - g.first + 1 < INSPECT_MERGE_SECTORS)
			g.kind = INSPECT_DATA;
		if (out > from && r->regions[out - 1].kind == g.kind) {
			r->regions[out - 1].last = g.last;
			continue;
		}
		r->regions[out++] = g;
	}
	r->nregions = out;
}

static int has_bytes(struct ctx *c, uint64_t offset, const uint8_t *want,
		     size_t len)
{
	uint8_t got[IDB_TAG_LEN];

	return len <= sizeof(got) &&
	       imgread_pread(&c->img, got, len, offset, c->e) == 0 &&
	       memcmp(got, want, len) == 0;
}

static void name_idbloader(struct ctx *c, struct inspect_region *g)
{
	const uint64_t at = (uint64_t)INSPECT_IDBLOADER_LBA * INSPECT_SECTOR;
	char tag[IDB_TAG_LEN + 1] = "";
	int printable = 1;

	if (has_bytes(c, at, idb_v2_magic, sizeof(idb_v2_magic))) {
		g->kind = INSPECT_IDBLOADER;
		snprintf(g->detail, sizeof(g->detail), "header v2 (RKNS)");
		return;
	}
	if (!has_bytes(c, at, idb_rc4_magic, sizeof(idb_rc4_magic)))
		return;
	g->kind = INSPECT_IDBLOADER;
	if ((g->last - g->first + 1) * INSPECT_SECTOR <
		    IDB_SPL_TAG_AT + IDB_TAG_LEN ||
	    imgread_pread(&c->img, tag, IDB_TAG_LEN, at + IDB_SPL_TAG_AT, c->e))
		return;
	for (size_t i = 0; i < IDB_TAG_LEN; i++)
		printable &= tag[i] > 0x20 && tag[i] < 0x7f;
	if (printable)
		snprintf(g->detail, sizeof(g->detail), "SPL tag %s", tag);
}

static void name_fit(struct ctx *c, struct inspect_region *g)
{
	const uint64_t at = (uint64_t)INSPECT_FIT_LBA * INSPECT_SECTOR;
	uint8_t size[4];

	if (!has_bytes(c, at, fdt_magic, sizeof(fdt_magic)) ||
	    imgread_pread(&c->img, size, sizeof(size), at + FDT_TOTALSIZE_AT,
			  c->e))
		return;
	g->kind = INSPECT_FIT;
	snprintf(g->detail, sizeof(g->detail), "device tree of %u bytes",
		 (unsigned)size[0] << 24 | (unsigned)size[1] << 16 |
			 (unsigned)size[2] << 8 | size[3]);
}

/* Sectors [first, last] of a gap, at most *budget of them read. */
static int scan_segment(struct ctx *c, uint64_t first, uint64_t last,
			uint64_t *budget)
{
	struct inspect_report *r = c->r;
	uint64_t n = last - first + 1, now = n < *budget ? n : *budget;
	size_t from = r->nregions;

	if (now > 0 && scan_runs(c, from, first, now))
		return -1;
	*budget -= now;
	merge_runs(r, from);
	if (r->nregions > from && r->regions[from].kind == INSPECT_DATA) {
		if (first == INSPECT_IDBLOADER_LBA)
			name_idbloader(c, &r->regions[from]);
		else if (first == INSPECT_FIT_LBA)
			name_fit(c, &r->regions[from]);
	}
	return now < n ? add_region(r, first + now, last, INSPECT_UNSCANNED,
				    c->e)
		       : 0;
}

/* The environment copy that is exactly [first, last], if any. */
static int env_at(const struct inspect_report *r, uint64_t first,
		  uint64_t last)
{
	for (size_t i = 0; i < r->nenvs; i++)
		if (r->envs[i].offset / INSPECT_SECTOR == first &&
		    (r->envs[i].offset + r->env_size) / INSPECT_SECTOR - 1 ==
			    last)
			return (int)i;
	return -1;
}

static void add_cut(uint64_t *cuts, size_t *n, uint64_t at, uint64_t first,
		    uint64_t last)
{
	if (at > first && at <= last)
		cuts[(*n)++] = at;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* An unpartitioned gap: cut where the boot ROM, SPL and U-Boot look,
 * then each piece scanned (or, for an environment copy wholly inside,
 * shown as such). */
static int scan_gap(struct ctx *c, uint64_t first, uint64_t last)
{
	struct inspect_report *r = c->r;
	uint64_t cuts[4 + 2 * INSPECT_MAX_ENVS], budget = INSPECT_SCAN_SECTORS;
	size_t n = 0;

	add_cut(cuts, &n, INSPECT_IDBLOADER_LBA, first, last);
	add_cut(cuts, &n, INSPECT_FIT_LBA, first, last);
	for (size_t i = 0; i < r->nenvs; i++) {
		uint64_t a = r->envs[i].offset / INSPECT_SECTOR;
		uint64_t b = a + r->env_size / INSPECT_SECTOR - 1;

		if (a >= first && b <= last) {
			add_cut(cuts, &n, a, first, last);
			add_cut(cuts, &n, b + 1, first, last);
		}
	}
	cuts[n++] = last + 1;
	qsort(cuts, n, sizeof(*cuts), cmp_u64);
	for (size_t i = 0; i < n; i++) {
		uint64_t to = cuts[i] - 1;
		int env;

		if (cuts[i] == first)
			continue;
		env = env_at(r, first, to);
		if (env >= 0) {
			if (add_region(r, first, to, INSPECT_ENV, c->e))
				return -1;
			last_region(r)->index = (size_t)env;
		} else if (scan_segment(c, first, to, &budget)) {
			return -1;
		}
		first = cuts[i];
	}
	return 0;
}

/* ---- the tables ---------------------------------------------------- */

static void read_gpt(struct ctx *c, struct inspect_gpt *g, uint64_t lba)
{
	uint8_t sector[INSPECT_SECTOR];
	struct mk_err why;
	size_t n;

	g->lba = lba;
	if (lba == 0 || lba >= c->r->sectors) {
		snprintf(g->error, sizeof(g->error), "LBA %llu is outside the "
			 "image (%llu sectors)", (unsigned long long)lba,
			 (unsigned long long)c->r->sectors);
		return;
	}
	g->looked = 1;
	if (imgread_pread(&c->img, sector, sizeof(sector),
			  lba * INSPECT_SECTOR, &why) ||
	    gpt_decode_header(sector, lba, &g->h, &why)) {
		snprintf(g->error, sizeof(g->error), "%s", why.msg);
		return;
	}
	g->valid = 1;
	n = gpt_entries_bytes(&g->h);
	g->entries = malloc(n);
	if (!g->entries || g->h.entries_lba >= c->r->sectors ||
	    imgread_pread(&c->img, g->entries, n,
			  g->h.entries_lba * INSPECT_SECTOR, &why)) {
		snprintf(g->error, sizeof(g->error), "entry array at LBA %llu "
			 "cannot be read", (unsigned long long)g->h.entries_lba);
		free(g->entries);
		g->entries = NULL;
		return;
	}
	g->entries_ok = gpt_entries_crc_ok(&g->h, g->entries);
	if (!g->entries_ok)
		snprintf(g->error, sizeof(g->error), "entry array CRC is not "
			 "0x%08X", g->h.entries_crc);
}

static int copies_agree(const struct inspect_gpt *p, const struct inspect_gpt *b)
{
	return p->valid && b->valid && p->entries_ok && b->entries_ok &&
	       p->h.alternate_lba == b->lba && b->h.alternate_lba == p->lba &&
	       p->h.first_usable_lba == b->h.first_usable_lba &&
	       p->h.last_usable_lba == b->h.last_usable_lba &&
	       memcmp(p->h.disk_guid, b->h.disk_guid, GPT_GUID_SIZE) == 0 &&
	       p->h.entry_count == b->h.entry_count &&
	       p->h.entry_size == b->h.entry_size &&
	       memcmp(p->entries, b->entries,
		      (size_t)p->h.entry_count * p->h.entry_size) == 0;
}

static int read_tables(struct ctx *c)
{
	struct inspect_report *r = c->r;
	uint8_t sector[INSPECT_SECTOR];

	if (imgread_pread(&c->img, sector, sizeof(sector), 0, c->e))
		return -1;
	gpt_decode_mbr(sector, &r->mbr);
	read_gpt(c, &r->primary, 1);
	/* The backup is where the primary says, else at the very end. */
	read_gpt(c, &r->backup, r->primary.valid ? r->primary.h.alternate_lba
						 : r->sectors - 1);
	r->gpt = r->primary.valid || r->backup.valid;
	r->copies_agree = copies_agree(&r->primary, &r->backup);
	if (!r->mbr.signature && !r->gpt)
		return mk_fail(c->e, "%s: not a disk image: no MBR boot signature "
			       "and no GPT header", r->image);
	return 0;
}

/* ---- partitions ---------------------------------------------------- */

static void read_fs(struct ctx *c, struct inspect_part *p)
{
	uint64_t start = p->e.first_lba * INSPECT_SECTOR;
	uint8_t sb[EXT4INFO_SB_SIZE];
	struct mk_err why;

	if (p->e.last_lba < p->e.first_lba ||
	    start + EXT4INFO_SB_OFFSET + sizeof(sb) > c->r->size ||
	    imgread_pread(&c->img, sb, sizeof(sb), start + EXT4INFO_SB_OFFSET,
			  &why) ||
	    !ext4info_is_ext(sb))
		return;
	p->has_fs = 1;
	if (ext4info_read(c->img.fd_path, start, &p->fs, &why) == 0)
		p->fs_ok = 1;
	else
		snprintf(p->fs_error, sizeof(p->fs_error), "%s", why.msg);
}

static int read_partitions(struct ctx *c)
{
	struct inspect_report *r = c->r;
	const struct inspect_gpt *g = &r->primary;
	struct gpt_entry_info e;

	/* The copy whose array is intact; failing that, any readable one. */
	if (!(g->valid && g->entries_ok) && r->backup.valid &&
	    (r->backup.entries_ok || !g->entries))
		g = &r->backup;
	if (!g->entries)
		return 0;
	r->parts = calloc(g->h.entry_count, sizeof(*r->parts));
	if (!r->parts)
		return mk_fail(c->e, "out of memory");
	for (uint32_t i = 0; i < g->h.entry_count; i++) {
		struct inspect_part *p = &r->parts[r->nparts];

		if (!gpt_decode_entry(&g->h, g->entries, i, &e))
			continue;
		p->e = e;
		p->number = i + 1;
		p->type_name = gpt_type_name(e.type_guid);
		read_fs(c, p);
		r->nparts++;
	}
	return 0;
}

/* ---- U-Boot's saved environment ----------------------------------- */

static const char *content_of(const uint8_t *p, size_t n)
{
	size_t i;

	if (mk_is_zero(p, n))
		return "zeros";
	for (i = 0; i < n && p[i] == LAYOUT_PAD_BYTE; i++)
		;
	return i == n ? "fill" : "data";
}

static int check_env_options(const struct mkr2simg_inspect_options *o,
			     struct mk_err *e)
{
	if (o->env_offset == 0)
		return o->env_redundant_offset
			       ? mk_fail(e, "--env-redundant-offset needs "
					    "--env-offset (the first copy)")
			       : 0;
	if (o->env_size < INSPECT_SECTOR || o->env_size > ENV_MAX_SIZE)
		return mk_fail(e, "--env-size %llu: not a size U-Boot's "
			       "environment has (%u bytes to 16M)",
			       (unsigned long long)o->env_size,
			       INSPECT_SECTOR);
	if (o->env_offset % INSPECT_SECTOR || o->env_size % INSPECT_SECTOR ||
	    o->env_redundant_offset % INSPECT_SECTOR)
		return mk_fail(e, "--env-offset, --env-size and "
			       "--env-redundant-offset are whole %u-byte "
			       "sectors on a card", INSPECT_SECTOR);
	return 0;
}

static uint32_t partition_over(const struct inspect_report *r, uint64_t from,
			       uint64_t size)
{
	for (size_t i = 0; i < r->nparts; i++) {
		uint64_t a = r->parts[i].e.first_lba * INSPECT_SECTOR;
		uint64_t b = (r->parts[i].e.last_lba + 1) * INSPECT_SECTOR;

		if (from < b && a < from + size)
			return r->parts[i].number;
	}
	return 0;
}

static int read_env_copy(struct ctx *c, struct inspect_env *v,
			 uint8_t *area)
{
	struct inspect_report *r = c->r;

	v->partition = partition_over(r, v->offset, r->env_size);
	v->inside = v->offset < r->size && r->env_size <= r->size - v->offset;
	if (!v->inside)
		return 0;
	if (imgread_pread(&c->img, area, r->env_size, v->offset, c->e))
		return -1;
	v->content = content_of(area, r->env_size);
	return ubootenv_read_saved(area, r->env_size, r->env_redundant,
				   &v->saved, c->e);
}

static int read_env(struct ctx *c, const struct mkr2simg_inspect_options *o)
{
	struct inspect_report *r = c->r;
	uint8_t *area;
	int rc = 0, pick;

	if (o->env_offset == 0)
		return 0;
	r->env_size = o->env_size;
	r->env_redundant = o->env_redundant_offset != 0;
	r->envs[r->nenvs++].offset = o->env_offset;
	if (r->env_redundant)
		r->envs[r->nenvs++].offset = o->env_redundant_offset;
	area = malloc(r->env_size);
	if (!area)
		return mk_fail(c->e, "out of memory");
	for (size_t i = 0; rc == 0 && i < r->nenvs; i++)
		rc = read_env_copy(c, &r->envs[i], area);
	free(area);
	if (rc)
		return -1;
	pick = ubootenv_saved_pick(&r->envs[0].saved,
				   r->env_redundant ? &r->envs[1].saved : NULL);
	if (pick >= 0)
		r->envs[pick].in_use = 1;
	return 0;
}

/* ---- the layout ---------------------------------------------------- */

struct span {
	uint64_t first, last;
	enum inspect_kind kind;
	int backup;
	size_t index;
};

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

static void gpt_spans(const struct inspect_gpt *g, int backup,
		      struct span *s, size_t *n)
{
	if (!g->valid)
		return;
	s[(*n)++] = (struct span){ g->lba, g->lba, INSPECT_GPT_HEADER,
				   backup, 0 };
	s[(*n)++] = (struct span){
		g->h.entries_lba,
		g->h.entries_lba + gpt_entries_bytes(&g->h) / INSPECT_SECTOR - 1,
		INSPECT_GPT_ENTRIES, backup, 0 };
}

/* Neighbours of one generic kind that a cut (sector 64, 16384) split
 * become one region again. */
static void join_generic(struct inspect_report *r)
{
	size_t out = 0;

	for (size_t i = 0; i < r->nregions; i++) {
		const struct inspect_region *g = &r->regions[i];
		struct inspect_region *prev = out ? &r->regions[out - 1] : NULL;

		if (prev && prev->kind == g->kind && prev->last + 1 == g->first &&
		    (g->kind == INSPECT_EMPTY || g->kind == INSPECT_FILL ||
		     g->kind == INSPECT_DATA || g->kind == INSPECT_UNSCANNED)) {
			prev->last = g->last;
			continue;
		}
		r->regions[out++] = *g;
	}
	r->nregions = out;
}

/* What the tables place, by first LBA; the gaps are scanned. */
static int build_regions(struct ctx *c)
{
	struct inspect_report *r = c->r;
	struct span *s = calloc(r->nparts + 5, sizeof(*s));
	uint64_t next = 0;
	size_t n = 0;
	int rc = 0;

	if (!s)
		return mk_fail(c->e, "out of memory");
	if (r->mbr.signature)
		s[n++] = (struct span){ 0, 0, INSPECT_MBR, 0, 0 };
	gpt_spans(&r->primary, 0, s, &n);
	if (r->backup.lba != r->primary.lba)
		gpt_spans(&r->backup, 1, s, &n);
	for (size_t i = 0; i < r->nparts; i++)
		if (r->parts[i].e.first_lba <= r->parts[i].e.last_lba)
			s[n++] = (struct span){ r->parts[i].e.first_lba,
						r->parts[i].e.last_lba,
						INSPECT_PARTITION, 0, i };
	qsort(s, n, sizeof(*s), cmp_span);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (s[i].first > next)
			rc = scan_gap(c, next, s[i].first - 1);
		if (rc == 0)
			rc = add_region(r, s[i].first, s[i].last, s[i].kind,
					c->e);
		if (rc == 0) {
			last_region(r)->backup = s[i].backup;
			last_region(r)->index = s[i].index;
			if (s[i].last + 1 > next)
				next = s[i].last + 1;
		}
	}
	if (rc == 0 && next < r->sectors)
		rc = scan_gap(c, next, r->sectors - 1);
	if (rc == 0)
		join_generic(r);
	free(s);
	return rc;
}

/* ---- extlinux ------------------------------------------------------ */

static int find_extlinux(struct ctx *c)
{
	struct inspect_report *r = c->r;
	struct mk_buf text;
	struct mk_err why;

	for (size_t i = 0; i < r->nparts; i++) {
		if (!r->parts[i].fs_ok)
			continue;
		for (size_t k = 0; k < sizeof(extlinux_paths) / sizeof(*extlinux_paths);
		     k++) {
			uint64_t at = r->parts[i].e.first_lba * INSPECT_SECTOR;
			int rc = ext4info_read_file(c->img.fd_path, at,
						    extlinux_paths[k],
						    INSPECT_EXTLINUX_MAX, &text,
						    &why);

			if (rc <= 0)
				continue; /* absent or unreadable: look on */
			rc = extlinux_parse(text.data, &r->extlinux.menu);
			free(text.data);
			if (rc)
				return mk_fail(c->e, "out of memory");
			r->extlinux.found = 1;
			r->extlinux.partition = r->parts[i].number;
			r->extlinux.path = extlinux_paths[k];
			return 0;
		}
	}
	return 0;
}

/* ---- the whole ----------------------------------------------------- */

int inspect_image(const struct mkr2simg_inspect_options *o,
		  struct inspect_report *r, struct mk_err *e)
{
	struct ctx c = { r, { 0 }, e, NULL };
	int rc = -1;

	memset(r, 0, sizeof(*r));
	r->image = o->image;
	c.img.fd = -1;
	if (!o->image)
		return mk_fail(e, "no IMAGE given");
	if (check_env_options(o, e) || imgread_open(&c.img, o->image, e))
		return -1;
	r->form = c.img.form;
	r->size = c.img.size;
	r->sectors = r->size / INSPECT_SECTOR;
	c.buf = malloc((size_t)CHUNK_SECTORS * INSPECT_SECTOR);
	if (!c.buf)
		mk_fail(e, "out of memory");
	else if (r->sectors == 0)
		mk_fail(e, "%s: not a disk image: %llu bytes, less than one "
			"sector", r->image, (unsigned long long)r->size);
	else if (read_tables(&c) == 0 && read_partitions(&c) == 0 &&
		 read_env(&c, o) == 0 && build_regions(&c) == 0 &&
		 find_extlinux(&c) == 0)
		rc = 0;
	free(c.buf);
	imgread_close(&c.img);
	if (rc)
		inspect_free(r);
	return rc;
}

void inspect_free(struct inspect_report *r)
{
	free(r->primary.entries);
	free(r->backup.entries);
	free(r->parts);
	free(r->regions);
	for (size_t i = 0; i < r->nenvs; i++)
		ubootenv_saved_free(&r->envs[i].saved);
	extlinux_menu_free(&r->extlinux.menu);
	memset(r, 0, sizeof(*r));
}

/* ---- the public entry ---------------------------------------------- */

void mkr2simg_inspect_options_init(struct mkr2simg_inspect_options *o)
{
	memset(o, 0, sizeof(*o));
	o->env_offset = UBOOTENV_SAVED_OFFSET;
	o->env_size = UBOOTENV_SAVED_SIZE;
	o->env_redundant_offset = UBOOTENV_SAVED_REDUNDANT_OFFSET;
}

int mkr2simg_inspect(const struct mkr2simg_inspect_options *o, char **report,
		     char *err, size_t errlen)
{
	struct inspect_report r;
	struct mk_err e;
	size_t len = 0;
	FILE *out;
	int rc;

	*report = NULL;
	if (inspect_image(o, &r, &e)) {
		if (err && errlen)
			mk_err_fit(e.msg, err, errlen);
		return -1;
	}
	out = open_memstream(report, &len);
	rc = out ? (o->json ? inspect_print_json(&r, out)
			    : inspect_print_text(&r, out))
		 : -1;
	if (out && fclose(out) != 0)
		rc = -1;
	inspect_free(&r);
	if (rc) {
		free(*report);
		*report = NULL;
		if (err && errlen)
			mk_err_fit("out of memory writing the report", err,
				   errlen);
	}
	return rc ? -1 : 0;
}
