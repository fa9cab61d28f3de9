#include "verify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "closure.h"
#include "err.h"
#include "extlinux.h"
#include "gpt.h"
#include "image.h"
#include "imgread.h"
#include "layout.h"
#include "toplevel.h"
#include "treecmp.h"
#include "trees.h"
#include "ubootenv.h"
#include "util.h"

/* Where the table puts the two partitions (bytes). */
struct parts {
	uint64_t boot_start, boot_size, root_start, root_size;
};

struct verify {
	const struct mkr2simg_verify_options *o;
	struct mk_diffs diffs;
	struct mk_err e;
	char *store_root;
	const char *dtb;
	int64_t time;
	struct mk_closure closure;
	struct mk_toplevel top;
	struct mk_buf registration;
	struct trees trees;
	struct mk_layout blobs;    /* the bootloaders given, the saved
				      environment's range */
	struct mk_imgread img;     /* plain, or decompressed: imgread.c */
	struct parts parts;
	int have_parts;
};

void mkr2simg_verify_options_init(struct mkr2simg_verify_options *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_seconds = IMAGE_DEFAULT_TIMEOUT;
	o->source_date_epoch = -1;
	o->env_offset = UBOOTENV_SAVED_OFFSET;
	o->env_size = UBOOTENV_SAVED_SIZE;
	o->env_redundant_offset = UBOOTENV_SAVED_REDUNDANT_OFFSET;
}

/* ---- inputs, as the build reads them ---------------------------- */

static struct trees_input tree_input(struct verify *v)
{
	return (struct trees_input){
		.store_root = v->store_root, .closure_file = v->o->closure,
		.closure = &v->closure, .top = &v->top, .dtb = v->dtb,
		.timeout_seconds = v->o->timeout_seconds, .time = v->time,
		.registration = v->o->registration ? &v->registration : NULL };
}

static int load_inputs(struct verify *v)
{
	const struct mkr2simg_verify_options *o = v->o;
	struct trees_input in;
	char *toplevel = NULL;
	struct mk_err why;
	int rc;

	if (!o->image || !o->closure)
		return mk_fail(&v->e, "both IMAGE and CLOSURE are needed");
	if (o->timeout_seconds < 0 &&
	    o->timeout_seconds != MKR2SIMG_TIMEOUT_NONE)
		return mk_fail(&v->e, "--timeout must be 0 or more seconds");
	v->dtb = o->dtb ? o->dtb : EXTLINUX_DEFAULT_DTB;
	if (trees_store_root(o->store_root, &v->store_root, &v->e) ||
	    trees_time(o->source_date_epoch, &v->time, &v->e) ||
	    closure_read(o->closure, &v->closure, &v->e))
		return -1;
	in = tree_input(v);
	if (trees_check_paths(&in, &v->e) ||
	    toplevel_pick(&v->closure, o->toplevel, &toplevel, &v->e))
		return -1;
	rc = toplevel_load(v->store_root, &v->closure, toplevel, v->dtb,
			   &v->top, &v->e);
	free(toplevel);
	if (rc)
		return -1;
	if (o->registration &&
	    mk_read_max(o->registration, IMAGE_REGISTRATION_MAX,
			&v->registration, &why))
		return mk_fail(&v->e, "--registration %s", why.msg);
	/* The saved environment's range, as the build places and checks
	 * it: the same options, the same refusals. */
	return layout_bootloaders(o->idbloader, o->uboot_itb,
				  o->uboot_rockchip, &v->blobs, &v->e) ||
	       layout_env(o->env_offset, o->env_size, o->env_redundant_offset,
			  &v->blobs, &v->e) ? -1 : 0;
}

/* The trees the build would write, from the build's own code. */
static int build_trees(struct verify *v)
{
	struct trees_input in = tree_input(v);

	return trees_root(&v->trees, &in, &v->e) ||
	       trees_boot(&v->trees, &in, &v->e) ? -1 : 0;
}

/* ---- the image ---------------------------------------------------- */

static int read_image(struct verify *v, void *buf, size_t len, uint64_t off)
{
	return imgread_pread(&v->img, buf, len, off, &v->e);
}

/* ---- the partition table ----------------------------------------- */

/* Bytes of one region against what gpt_encode writes there. */
static void compare_region(struct verify *v, const char *what,
			   const uint8_t *got, const uint8_t *want, size_t len)
{
	size_t i, first = len, count = 0;

	for (i = 0; i < len; i++)
		if (got[i] != want[i]) {
			first = first < len ? first : i;
			count++;
		}
	if (count)
		mk_diff(&v->diffs, "%s: %zu %s from the table mkr2simg writes, "
			"first at byte %zu", what, count,
			count == 1 ? "byte differs" : "bytes differ", first);
}

struct gpt_copies {
	uint8_t primary[GPT_PRIMARY_SECTORS * GPT_SECTOR_SIZE];
	uint8_t backup[GPT_BACKUP_SECTORS * GPT_SECTOR_SIZE];
	struct gpt_disk p, b; /* decoded */
	int p_ok, b_ok;
};

/* Each copy's sectors that decoded, against the encoder's bytes for the
 * table they describe: the MBR, reserved bytes, unused entries. */
static int compare_encoded(struct verify *v, const struct gpt_copies *g,
			   const struct gpt_disk *want)
{
	uint8_t primary[sizeof(g->primary)], backup[sizeof(g->backup)];
	const size_t s = GPT_SECTOR_SIZE, array = GPT_ENTRY_ARRAY_SECTORS * s;
	char what[96];

	if (gpt_encode(want, primary, backup, &v->e))
		return -1;
	compare_region(v, "protective MBR (sector 0)", g->primary, primary, s);
	if (g->p_ok) {
		compare_region(v, "GPT primary header (sector 1)",
			       g->primary + s, primary + s, s);
		compare_region(v, "GPT primary entries (sectors 2-33)",
			       g->primary + 2 * s, primary + 2 * s, array);
	}
	if (g->b_ok) {
		snprintf(what, sizeof(what), "GPT backup entries (sectors "
			 "%llu-%llu)", (unsigned long long)
			 GPT_BACKUP_ENTRIES_LBA(want->total_sectors),
			 (unsigned long long)(want->total_sectors - 2));
		compare_region(v, what, g->backup, backup, array);
		snprintf(what, sizeof(what), "GPT backup header (sector %llu)",
			 (unsigned long long)(want->total_sectors - 1));
		compare_region(v, what, g->backup + array, backup + array, s);
	}
	return 0;
}

/* Where the table puts partitions 1 and 2, when both lie in the image:
 * the filesystems are read there even when the layout is wrong. */
static void take_parts(struct verify *v, const struct gpt_disk *d)
{
	uint64_t sectors = v->img.size / GPT_SECTOR_SIZE;

	if (d->nparts < 2 || d->parts[0].last_lba >= sectors ||
	    d->parts[1].last_lba >= sectors ||
	    d->parts[0].first_lba > d->parts[0].last_lba ||
	    d->parts[1].first_lba > d->parts[1].last_lba)
		return;
	v->parts.boot_start = d->parts[0].first_lba * GPT_SECTOR_SIZE;
	v->parts.boot_size = (d->parts[0].last_lba - d->parts[0].first_lba +
			      1) * GPT_SECTOR_SIZE;
	v->parts.root_start = d->parts[1].first_lba * GPT_SECTOR_SIZE;
	v->parts.root_size = (d->parts[1].last_lba - d->parts[1].first_lba +
			      1) * GPT_SECTOR_SIZE;
	v->have_parts = 1;
}

static void decode_copies(struct verify *v, struct gpt_copies *g,
			  uint64_t total)
{
	const size_t s = GPT_SECTOR_SIZE;
	struct mk_err ep, eb;

	g->p_ok = gpt_decode(g->primary + s, g->primary + 2 * s, 1, total,
			     &g->p, &ep) == 0;
	g->b_ok = gpt_decode(g->backup + GPT_ENTRY_ARRAY_SECTORS * s,
			     g->backup, GPT_BACKUP_HEADER_LBA(total), total,
			     &g->b, &eb) == 0;
	if (!g->p_ok)
		mk_diff(&v->diffs, "GPT primary header (sector 1): %s", ep.msg);
	if (!g->b_ok)
		mk_diff(&v->diffs, "GPT backup header (sector %llu, the last): "
			"%s", (unsigned long long)GPT_BACKUP_HEADER_LBA(total),
			eb.msg);
	if (g->p_ok && g->b_ok)
		gpt_compare(&g->b, &g->p, "GPT backup (against the primary)",
			    &v->diffs);
}

static int check_gpt(struct verify *v)
{
	uint64_t total = v->img.size / GPT_SECTOR_SIZE;
	struct gpt_copies *g;
	struct gpt_disk want;
	const struct gpt_disk *d;
	struct mk_layout l;
	unsigned long long before;
	struct mk_err why;
	int rc = 0;

	if (total < GPT_MIN_TOTAL_SECTORS) {
		mk_diff(&v->diffs, "%s: %llu bytes, too small for a partition "
			"table", v->o->image, (unsigned long long)v->img.size);
		return 0;
	}
	if (!(g = calloc(1, sizeof(*g))))
		return mk_fail(&v->e, "out of memory");
	if (read_image(v, g->primary, sizeof(g->primary), 0) ||
	    read_image(v, g->backup, sizeof(g->backup),
		       GPT_BACKUP_ENTRIES_LBA(total) * GPT_SECTOR_SIZE)) {
		free(g);
		return -1;
	}
	decode_copies(v, g, total);
	d = g->p_ok ? &g->p : g->b_ok ? &g->b : NULL;
	if (!d) {
		mk_diff(&v->diffs, "GPT: neither copy can be read, so the "
			"partitions are not checked");
		free(g);
		return 0;
	}
	take_parts(v, d);
	if (layout_from_gpt(d, v->img.size, &l, &why)) {
		mk_diff(&v->diffs, "GPT: %s", why.msg);
		free(g);
		return 0;
	}
	layout_gpt_disk(&l, d->disk_guid, d->parts[0].unique_guid,
			d->parts[1].unique_guid, &want);
	before = v->diffs.count;
	gpt_compare(d, &want, "GPT", &v->diffs);
	/* The bytes too, unless the fields already said how they differ. */
	if (v->diffs.count == before)
		rc = compare_encoded(v, g, &want);
	free(g);
	return rc;
}

/* ---- the raw area ------------------------------------------------- */

/* Differences in one region of the raw area. */
struct region {
	unsigned long long count;
	uint64_t first; /* image offset of the first */
};

/* Fills `want` with what the build writes at [at, at + n): zeros, and
 * the bootloaders over them. */
static int expected_raw(struct verify *v, const int *fds, uint64_t at,
			size_t n, char *want)
{
	size_t i;

	memset(want, 0, n);
	for (i = 0; i < v->blobs.nblobs; i++) {
		const struct layout_blob *b = &v->blobs.blobs[i];
		uint64_t from = at > b->offset ? at : b->offset;
		uint64_t to = at + n < b->offset + b->size ? at + n
							   : b->offset + b->size;
		ssize_t got;

		if (from >= to)
			continue;
		got = pread(fds[i], want + (from - at), to - from,
			    (off_t)(from - b->offset));
		if (got != (ssize_t)(to - from))
			return got < 0 ? mk_fail_errno(&v->e, errno, "%s %s",
						       b->option, b->path)
				       : mk_fail(&v->e, "%s %s: changed size "
						 "while reading", b->option,
						 b->path);
	}
	return 0;
}

/*
 * The raw area's regions, each with its own line: the bootloaders
 * (0..nblobs-1), the saved environment's copies (nblobs..), and the
 * zeros around them (ZEROS).  A byte in an environment copy is that
 * copy's, even under a bootloader's padding: U-Boot reads it there.
 */
#define ENV_REGION(bl, i) ((bl)->nblobs + (i))
#define ZEROS(bl) ((bl)->nblobs + (bl)->nenvs)

static int inside(uint64_t off, uint64_t start, uint64_t size)
{
	return off >= start && off - start < size;
}

static size_t region_of(const struct mk_layout *bl, uint64_t off)
{
	size_t i;

	for (i = 0; i < bl->nenvs; i++)
		if (inside(off, bl->envs[i].offset, bl->envs[i].size))
			return ENV_REGION(bl, i);
	for (i = 0; i < bl->nblobs; i++)
		if (inside(off, bl->blobs[i].offset, bl->blobs[i].size))
			return i;
	return ZEROS(bl);
}

static void tally(const struct mk_layout *bl, struct region *r,
		  const char *got, const char *want, size_t n, uint64_t at)
{
	size_t i;

	if (memcmp(got, want, n) == 0)
		return;
	for (i = 0; i < n; i++)
		if (got[i] != want[i]) {
			struct region *x = &r[region_of(bl, at + i)];

			if (x->count++ == 0)
				x->first = at + i;
		}
}

static void report_raw(struct verify *v, const struct region *r,
		       uint64_t start, uint64_t end)
{
	size_t i;

	for (i = 0; i < v->blobs.nblobs; i++) {
		const struct layout_blob *b = &v->blobs.blobs[i];

		if (r[i].count)
			mk_diff(&v->diffs, "bootloader area: %s %s at sector "
				"%llu: %llu %s, first at byte %llu of the file",
				b->option, b->path,
				(unsigned long long)(b->offset / LAYOUT_SECTOR),
				r[i].count, r[i].count == 1 ? "byte differs"
							    : "bytes differ",
				(unsigned long long)(r[i].first - b->offset));
	}
	i = ZEROS(&v->blobs);
	if (r[i].count)
		mk_diff(&v->diffs, "bootloader area (sectors %llu-%llu): %llu "
			"%s not zero outside the bootloaders given, first at "
			"sector %llu",
			(unsigned long long)(start / LAYOUT_SECTOR),
			(unsigned long long)(end / LAYOUT_SECTOR - 1),
			r[i].count, r[i].count == 1 ? "byte is" : "bytes are",
			(unsigned long long)(r[i].first / LAYOUT_SECTOR));
}

/* ---- U-Boot's saved environment ---------------------------------- */

/* What U-Boot makes of copy `i`, read into `s` when its bytes are not
 * the build's (an unread copy stays invalid: zeros or padding never
 * carry a right CRC). */
static int read_env(struct verify *v, const struct region *r, size_t i,
		    struct ubootenv_saved *s)
{
	const struct layout_env *env = &v->blobs.envs[i];
	uint8_t *area;
	int rc;

	if (r[ENV_REGION(&v->blobs, i)].count == 0 ||
	    !inside(env->offset + env->size - 1, 0, v->img.size))
		return 0;
	if (!(area = malloc(env->size)))
		return mk_fail(&v->e, "out of memory");
	rc = read_image(v, area, env->size, env->offset) ||
	     ubootenv_read_saved(area, env->size, v->blobs.nenvs > 1, s,
				 &v->e) ? -1 : 0;
	free(area);
	return rc;
}

/* One line per copy whose bytes differ: a valid environment (U-Boot
 * would boot with it), or just other bytes. */
static void report_env(struct verify *v, const struct region *r, size_t i,
		       const struct ubootenv_saved *s, int picked)
{
	const struct layout_env *env = &v->blobs.envs[i];
	const struct region *x = &r[ENV_REGION(&v->blobs, i)];
	char range[128];

	if (x->count == 0)
		return;
	snprintf(range, sizeof(range), "U-Boot saved environment at "
		 "0x%llX-0x%llX (%s, sectors %llu-%llu)",
		 (unsigned long long)env->offset,
		 (unsigned long long)(env->offset + env->size - 1), env->option,
		 (unsigned long long)(env->offset / LAYOUT_SECTOR),
		 (unsigned long long)((env->offset + env->size) /
				      LAYOUT_SECTOR - 1));
	if (s->valid)
		mk_diff(&v->diffs, "%s: a valid saved environment of %zu "
			"variable%s, %s", range, s->env.vars,
			s->env.vars == 1 ? "" : "s",
			picked ? "which U-Boot would load instead of its "
				 "default environment"
			       : "though U-Boot would load the other copy");
	else
		mk_diff(&v->diffs, "%s: %llu %s from what mkr2simg writes "
			"there (no valid environment), first at sector %llu",
			range, x->count, x->count == 1 ? "byte differs"
						       : "bytes differ",
			(unsigned long long)(x->first / LAYOUT_SECTOR));
}

static int check_env(struct verify *v, const struct region *r)
{
	struct ubootenv_saved s[LAYOUT_MAX_ENVS];
	size_t i, n = v->blobs.nenvs;
	int rc = 0, pick;

	memset(s, 0, sizeof(s));
	for (i = 0; rc == 0 && i < n; i++)
		rc = read_env(v, r, i, &s[i]);
	if (rc == 0) {
		pick = ubootenv_saved_pick(&s[0], n > 1 ? &s[1] : NULL);
		for (i = 0; i < n; i++)
			report_env(v, r, i, &s[i], pick == (int)i);
	}
	for (i = 0; i < n; i++)
		ubootenv_saved_free(&s[i]);
	return rc;
}

/* ---- the raw area, whole ----------------------------------------- */

/* From the primary GPT to partition 1: zeros, the bootloaders over them
 * (as the build's write_raw_area); the saved environment's range. */
static int check_raw_area(struct verify *v)
{
	uint64_t start = (uint64_t)GPT_PRIMARY_SECTORS * GPT_SECTOR_SIZE;
	uint64_t end = (uint64_t)LAYOUT_BOOT_PART_SECTOR * LAYOUT_SECTOR;
	struct region r[LAYOUT_MAX_BLOBS + LAYOUT_MAX_ENVS + 1];
	int fds[LAYOUT_MAX_BLOBS];
	char *got = malloc(VERIFY_CHUNK), *want = malloc(VERIFY_CHUNK);
	size_t i, opened = 0;
	int rc = got && want ? 0 : mk_fail(&v->e, "out of memory");

	memset(r, 0, sizeof(r));
	if (end > v->img.size)
		end = v->img.size;
	for (i = 0; rc == 0 && i < v->blobs.nblobs; i++) {
		const struct layout_blob *b = &v->blobs.blobs[i];

		fds[i] = open(b->path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			rc = mk_fail_errno(&v->e, errno, "%s %s", b->option,
					   b->path);
		else
			opened++;
	}
	for (uint64_t at = start; rc == 0 && at < end; at += VERIFY_CHUNK) {
		size_t n = end - at < VERIFY_CHUNK ? (size_t)(end - at)
						   : VERIFY_CHUNK;

		rc = read_image(v, got, n, at) ||
		     expected_raw(v, fds, at, n, want) ? -1 : 0;
		if (rc == 0)
			tally(&v->blobs, r, got, want, n, at);
	}
	if (rc == 0)
		report_raw(v, r, start, end);
	if (rc == 0)
		rc = check_env(v, r);
	for (i = 0; i < opened; i++)
		close(fds[i]);
	free(got);
	free(want);
	return rc;
}

/* ---- the filesystems ---------------------------------------------- */

static int check_filesystems(struct verify *v)
{
	struct treecmp_fs boot = {
		v->img.fd_path, v->parts.boot_start,
		v->parts.boot_size, IMAGE_BOOT_LABEL,
		"partition 1 (" IMAGE_BOOT_LABEL ")", "/boot" };
	struct treecmp_fs root = {
		v->img.fd_path, v->parts.root_start,
		v->parts.root_size, IMAGE_ROOT_LABEL,
		"partition 2 (" IMAGE_ROOT_LABEL ")", "" };

	if (!v->have_parts)
		return 0;
	return treecmp_run(&boot, v->trees.boot, &v->diffs, &v->e) ||
	       treecmp_run(&root, v->trees.root, &v->diffs, &v->e) ? -1 : 0;
}

/* ---- the whole check ---------------------------------------------- */

static int run(struct verify *v)
{
	if (load_inputs(v) || build_trees(v) ||
	    imgread_open(&v->img, v->o->image, &v->e))
		return -1;
	return check_gpt(v) || check_raw_area(v) || check_filesystems(v)
		       ? -1 : 0;
}

int mkr2simg_verify(const struct mkr2simg_verify_options *o,
		    void (*difference)(void *user, const char *line),
		    void *user, char *err, size_t errlen)
{
	struct verify v;
	int rc;

	memset(&v, 0, sizeof(v));
	v.o = o;
	v.diffs.line = difference;
	v.diffs.user = user;
	v.img.fd = -1;
	rc = run(&v);
	if (rc && err && errlen)
		mk_err_fit(v.e.msg, err, errlen);
	imgread_close(&v.img);
	trees_free(&v.trees);
	free(v.registration.data);
	toplevel_free(&v.top);
	free(v.store_root);
	closure_free(&v.closure);
	return rc ? -1 : v.diffs.count ? 1 : 0;
}
