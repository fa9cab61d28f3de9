#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ahead.h"
#include "bootmem.h"
#include "closure.h"
#include "deliver.h"
#include "dedup.h"
#include "err.h"
#include "ext4fs.h"
#include "extlinux.h"
#include "filelist.h"
#include "fstree.h"
#include "gpt.h"
#include "ids.h"
#include "imgfile.h"
#include "layout.h"
#include "ranges.h"
#include "toplevel.h"
#include "trees.h"
#include "ubootenv.h"
#include "util.h"
#include "zframe.h"

#define BLOB_CHUNK (1u << 20)

/* Constants that modules define each for their own format must agree. */
_Static_assert(LAYOUT_ALIGN % EXT4FS_BLOCK_SIZE == 0,
	       "partitions start on filesystem blocks");
_Static_assert(IMAGE_FILE_MODE == OUTPUT_MODE, "one mode for files made");
_Static_assert(RANGES_BLOCK == EXT4FS_BLOCK_SIZE, "bmap blocks are ext4's");
_Static_assert(BLOB_CHUNK % LAYOUT_SECTOR == 0, "raw area in whole sectors");
#define LOG_LINE_MAX 1024

struct build {
	const struct mkr2simg_options *o;
	struct mkr2simg_summary *sum;
	struct mk_err e;
	char *store_root;   /* --store-root without trailing slashes, or "/" */
	const char *dtb;
	int64_t time;
	struct dedup *dedup;
	struct ext4fs_need root_need, boot_need;
	struct mk_closure closure;
	struct mk_toplevel top;
	struct mk_buf registration;
	struct trees trees; /* what /boot and / hold (trees.c) */
	struct mk_layout layout;
	struct mk_ids ids;
	struct deliver dl; /* where the image goes: OUTPUT, compressed, bmap */
	struct mkr2simg_progress prog;
	struct filelist root_files_list; /* the survey's, for later reads */
	struct fst_node *store;    /* /nix/store in the root tree */
	size_t store_paths_seen;   /* of its entries, by the survey */
	struct ahead *ahead;       /* caches warmed ahead of a walk */
};

static void say(struct build *b, enum mkr2simg_log_level level,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(struct build *b, enum mkr2simg_log_level level,
		const char *fmt, ...)
{
	char line[LOG_LINE_MAX], *text = NULL;
	va_list ap;

	if (!b->o->log || level > b->o->log_level)
		return;
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	mk_err_fit(text ? text : "out of memory", line, sizeof(line));
	free(text);
	b->o->log(b->o->user, level, line);
}

/* ---- progress ----------------------------------------------------- */

static void progress_phase(struct build *b, enum mkr2simg_phase phase,
			   const char *name, uint64_t files, uint64_t bytes)
{
	b->prog = (struct mkr2simg_progress){ .phase = phase,
					      .phase_name = name,
					      .files_total = files,
					      .bytes_total = bytes };
	if (b->o->progress)
		b->o->progress(b->o->user, &b->prog);
}

static void progress_add(void *ctx, uint64_t files, uint64_t bytes)
{
	struct build *b = ctx;

	b->prog.files_done += files;
	b->prog.bytes_done += bytes;
	if (b->o->progress)
		b->o->progress(b->o->user, &b->prog);
}

void mkr2simg_options_init(struct mkr2simg_options *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_seconds = IMAGE_DEFAULT_TIMEOUT;
	o->boot_size = IMAGE_DEFAULT_BOOT_SIZE;
	o->root_headroom = IMAGE_DEFAULT_HEADROOM;
	o->source_date_epoch = -1;
	o->log_level = MKR2SIMG_LOG_INFO;
	o->env_offset = UBOOTENV_SAVED_OFFSET;
	o->env_size = UBOOTENV_SAVED_SIZE;
	o->env_redundant_offset = UBOOTENV_SAVED_REDUNDANT_OFFSET;
}

static char *host_path(const struct build *b, const char *inside)
{
	return trees_host_path(b->store_root, inside);
}

/* ---- inputs ------------------------------------------------------- */

static int check_size(struct build *b, const char *option, uint64_t bytes)
{
	char given[MK_SIZE_TEXT_MAX], max[MK_SIZE_TEXT_MAX];

	if (bytes <= IMAGE_MAX_PART_BYTES)
		return 0;
	return mk_fail(&b->e, "%s %s is more than %s, the largest partition "
		       "mkr2simg writes", option, mk_size_text(bytes, given),
		       mk_size_text(IMAGE_MAX_PART_BYTES, max));
}

static int check_options(struct build *b)
{
	const struct mkr2simg_options *o = b->o;

	if (!o->closure || !o->output)
		return mk_fail(&b->e, "both CLOSURE and OUTPUT are needed");
	if (o->timeout_seconds < 0 &&
	    o->timeout_seconds != MKR2SIMG_TIMEOUT_NONE)
		return mk_fail(&b->e, "--timeout must be 0 or more seconds");
	if (check_size(b, "--boot-size", o->boot_size) ||
	    check_size(b, "--root-size", o->root_size) ||
	    check_size(b, "--root-headroom", o->root_headroom))
		return -1;
	if (trees_store_root(o->store_root, &b->store_root, &b->e))
		return -1;
	b->dtb = o->dtb ? o->dtb : EXTLINUX_DEFAULT_DTB;
	return trees_time(o->source_date_epoch, &b->time, &b->e);
}

static void on_reading(void *ctx, const char *store_path)
{
	say(ctx, MKR2SIMG_LOG_DEBUG, "reading %s", store_path);
}

/* What trees.c builds the two trees from. */
static struct trees_input tree_input(struct build *b)
{
	return (struct trees_input){
		.store_root = b->store_root, .closure_file = b->o->closure,
		.closure = &b->closure, .top = &b->top, .dtb = b->dtb,
		.timeout_seconds = b->o->timeout_seconds, .time = b->time,
		.registration = b->o->registration ? &b->registration : NULL,
		.reading = on_reading, .ctx = b };
}

static int check_paths_exist(struct build *b)
{
	struct trees_input in = tree_input(b);

	return trees_check_paths(&in, &b->e);
}

/* U-Boot's saved environment: zeros in the image (the raw area is
 * written whole), so an old card's `saveenv` data never survives. */
static int place_env(struct build *b)
{
	const struct mkr2simg_options *o = b->o;
	char size[MK_SIZE_TEXT_MAX];
	size_t i;

	if (layout_env(o->env_offset, o->env_size, o->env_redundant_offset,
		       &b->layout, &b->e))
		return -1;
	if (b->layout.nenvs == 0)
		say(b, MKR2SIMG_LOG_DEBUG, "U-Boot saved environment: none "
		    "(--env-offset none)");
	for (i = 0; i < b->layout.nenvs; i++)
		say(b, MKR2SIMG_LOG_DEBUG, "U-Boot saved environment%s: "
		    "0x%llX, %s, written as zeros (U-Boot starts from its "
		    "default environment)", i ? " (redundant copy)" : "",
		    (unsigned long long)b->layout.envs[i].offset,
		    mk_size_text(b->layout.envs[i].size, size));
	return 0;
}

static int load_inputs(struct build *b)
{
	char *toplevel = NULL;
	struct mk_err why;
	int rc;

	if (closure_read(b->o->closure, &b->closure, &b->e) ||
	    check_paths_exist(b) ||
	    toplevel_pick(&b->closure, b->o->toplevel, &toplevel, &b->e))
		return -1;
	rc = toplevel_load(b->store_root, &b->closure, toplevel, b->dtb,
			   &b->top, &b->e);
	free(toplevel);
	if (rc)
		return -1;
	if (b->o->registration &&
	    mk_read_max(b->o->registration, IMAGE_REGISTRATION_MAX,
			&b->registration, &why))
		return mk_fail(&b->e, "--registration %s", why.msg);
	if (!b->o->registration)
		say(b, MKR2SIMG_LOG_WARN, "no --registration: Nix on the "
		    "device will not know its own store on first boot");
	if (layout_bootloaders(b->o->idbloader, b->o->uboot_itb,
			       b->o->uboot_rockchip, &b->layout, &b->e))
		return -1;
	if (place_env(b))
		return -1;
	if (b->layout.nblobs == 0)
		say(b, MKR2SIMG_LOG_WARN, "no bootloader given: the card will "
		    "not boot by itself");
	else if (!b->o->uboot_rockchip && (!b->o->idbloader || !b->o->uboot_itb))
		say(b, MKR2SIMG_LOG_WARN, "only one of --idbloader and "
		    "--uboot-itb given: the card will not boot by itself");
	return 0;
}

/* U-Boot's memory map (its default environment) against the kernel,
 * initrd and device tree: a card it cannot boot is not written. */
static int check_memory_map(struct build *b)
{
	const char *uboot = b->o->uboot_rockchip ? b->o->uboot_rockchip
						 : b->o->uboot_itb;
	struct bootmem_card c = { .bootloader = uboot,
				  .kernel_name = b->top.kernel };
	char note[MK_ERR_MAX] = "";
	int rc = -1;

	if (!uboot || b->o->no_memory_map_check) {
		say(b, MKR2SIMG_LOG_DEBUG, "kernel size not checked: %s",
		    uboot ? "--no-memory-map-check" : "no U-Boot given");
		return 0;
	}
	c.kernel = host_path(b, b->top.kernel);
	c.initrd = host_path(b, b->top.initrd);
	c.dtbs = b->top.dtbs ? host_path(b, b->top.dtbs) : NULL;
	c.dtb = strcmp(b->dtb, EXTLINUX_NO_DTB) ? b->dtb : NULL;
	if (!c.kernel || !c.initrd || (b->top.dtbs && !c.dtbs))
		mk_fail(&b->e, "out of memory");
	else
		rc = bootmem_check_card(&c, note, sizeof(note), &b->e);
	if (rc == 0 && note[0])
		say(b, MKR2SIMG_LOG_DEBUG, "U-Boot memory map: %s", note);
	free((char *)c.kernel);
	free((char *)c.initrd);
	free((char *)c.dtbs);
	return rc;
}

/* ---- the two trees ------------------------------------------------ */

static int build_root_tree(struct build *b)
{
	struct trees_input in = tree_input(b);

	if (trees_root(&b->trees, &in, &b->e))
		return -1;
	/* The survey follows its entries to warm the store ahead of it. */
	b->store = fst_child(fst_child(b->trees.root, "nix"), "store");
	return 0;
}

/* ---- the first walks: sizes, counts, identical files ------------- */

struct first_walk {
	struct build *b;
	struct mk_err *e;
};

/* Store contents are the nodes read from the host; the skeleton around
 * them (/, /nix, /nix/store, lost+found, the registration) is not. */
static void count_node(struct mkr2simg_summary *s, const struct fst_node *n)
{
	if (!n->src)
		return;
	if (n->kind == FST_FILE) {
		s->files++;
		s->content_bytes += n->size;
	} else if (n->kind == FST_SYMLINK) {
		s->symlinks++;
	} else {
		s->directories++;
	}
}

static int first_visit(struct fst_node *n, void *ctx)
{
	struct first_walk *fw = ctx;

	if (ext4fs_measure_node(&fw->b->root_need, n, fw->e))
		return -1;
	count_node(fw->b->sum, n);
	if (n->kind == FST_FILE)
		progress_add(fw->b, 1, n->size);
	if (n->parent == fw->b->store)
		ahead_at(fw->b->ahead, fw->b->store_paths_seen++);
	if (filelist_note(&fw->b->root_files_list, n, fw->e))
		return -1;
	return fw->b->dedup ? dedup_note(fw->b->dedup, n, fw->e) : 0;
}

/* ---- warming a cold store ahead of the walks ---------------------- */

static uint64_t one(void *ctx, size_t i)
{
	(void)ctx;
	(void)i;
	return 1;
}

static void prefetch_store_path(void *ctx, size_t i)
{
	const struct fst_node *store = ctx;

	fst_prefetch(store->kids[i]->src);
}

/* The survey's metadata: a few store paths read on several threads
 * ahead of the walk, whose own reads then find them cached. */
static void warm_store_metadata(struct build *b)
{
	const struct ahead_work w = { .count = b->store->nkids, .cost = one,
				      .run = prefetch_store_path,
				      .ctx = b->store,
				      .limit = IMAGE_PREFETCH_PATHS_AHEAD,
				      .threads = IMAGE_PREFETCH_THREADS };

	b->store_paths_seen = 0;
	b->ahead = ahead_start(&w);
}

static uint64_t file_size(void *ctx, size_t i)
{
	const struct filelist *l = ctx;

	return l->files[i].size;
}

static void read_file_ahead(void *ctx, size_t i)
{
	filelist_read_ahead(ctx, i);
}

/* The writer's data: the next files asked for, a bounded amount ahead. */
static void warm_store_data(struct build *b)
{
	const struct ahead_work w = { .count = b->root_files_list.count,
				      .cost = file_size,
				      .run = read_file_ahead,
				      .ctx = &b->root_files_list,
				      .limit = IMAGE_READ_AHEAD_BYTES,
				      .threads = 1 };

	b->ahead = ahead_start(&w);
}

static void stop_ahead(struct build *b)
{
	ahead_stop(b->ahead);
	b->ahead = NULL;
}

/* One walk over the whole closure for sizes and counts; with dedup, a
 * second that reads only files sharing size and mode with another. */
static int survey_root(struct build *b)
{
	struct first_walk fw = { b, &b->e };
	struct dedup_stats ds;
	int rc;

	if (!b->o->no_dedup && !(b->dedup = dedup_new(EXT4FS_LINK_MAX)))
		return mk_fail(&b->e, "out of memory");
	ext4fs_need_init(&b->root_need, b->ids.root_hash_seed);
	progress_phase(b, MKR2SIMG_PHASE_READING, "reading", 0, 0);
	warm_store_metadata(b);
	rc = fst_walk(b->trees.root, first_visit, &fw, &b->e);
	stop_ahead(b);
	if (rc)
		return -1;
	b->sum->store_paths = b->closure.count;
	if (!b->dedup)
		return 0;
	say(b, MKR2SIMG_LOG_INFO, "finding identical files");
	progress_phase(b, MKR2SIMG_PHASE_DEDUP, "finding identical files", 0,
		       0);
	if (dedup_resolve(b->dedup, &b->root_files_list, ext4fs_file_blocks,
			  &ds, &b->e))
		return -1;
	b->root_need.blocks -= ds.saved_blocks;
	b->root_need.inodes -= ds.links;
	b->sum->dedup_links = ds.links;
	b->sum->dedup_saved = ds.saved_bytes;
	return 0;
}

static int build_boot_tree(struct build *b)
{
	struct trees_input in = tree_input(b);

	return trees_boot(&b->trees, &in, &b->e);
}

/* ---- sizes and identifiers ---------------------------------------- */

static int plan_sizes(struct build *b)
{
	struct ext4fs_need boot_need, root_need;
	uint64_t boot_min, root_min, boot_size;
	char given[MK_SIZE_TEXT_MAX];

	if (ext4fs_measure(b->trees.boot, b->ids.boot_hash_seed, &b->boot_need,
			   &b->e))
		return -1;
	boot_need = b->boot_need;
	root_need = b->root_need;
	if (ext4fs_min_size(&boot_need, 0, &boot_min, &b->e) ||
	    ext4fs_min_size(&root_need, 0, &root_min, &b->e))
		return -1;
	boot_size = mk_align_up(b->o->boot_size, LAYOUT_ALIGN);
	if (boot_size < boot_min)
		return mk_fail(&b->e, "--boot-size %s is too small: /boot "
			       "needs at least %lluM",
			       mk_size_text(b->o->boot_size, given),
			       (unsigned long long)mk_div_ceil(boot_min, 1u << 20));
	if (b->o->root_size && b->o->root_size < root_min)
		return mk_fail(&b->e, "--root-size %s is too small: the "
			       "root filesystem needs at least %lluM",
			       mk_size_text(b->o->root_size, given),
			       (unsigned long long)mk_div_ceil(root_min, 1u << 20));
	if (!b->o->root_size &&
	    ext4fs_min_size(&root_need, b->o->root_headroom, &root_min, &b->e))
		return -1;
	say(b, MKR2SIMG_LOG_DEBUG, "root filesystem: %llu blocks and %llu "
	    "inodes of content, %llu MiB with metadata and headroom",
	    (unsigned long long)root_need.blocks,
	    (unsigned long long)root_need.inodes,
	    (unsigned long long)(root_min >> 20));
	return layout_partitions(b->o->boot_size,
				 b->o->root_size ? b->o->root_size : root_min,
				 &b->layout, &b->e);
}

/* Everything that shapes the image goes into the seed, so that without
 * --seed two different images never share identifiers. */
static int digest_inputs(struct build *b, uint8_t seed[MK_UUID_SIZE])
{
	const struct mkr2simg_options *o = b->o;
	struct ids_digest d;
	size_t i;

	if (ids_digest_init(&d, &b->e))
		return -1;
	for (i = 0; i < b->closure.count; i++)
		ids_digest_add_str(&d, "path", b->closure.paths[i]);
	ids_digest_add_str(&d, "toplevel", b->top.path);
	ids_digest_add_str(&d, "dtb", b->dtb);
	ids_digest_add_u64(&d, "timeout", (uint64_t)o->timeout_seconds);
	ids_digest_add_u64(&d, "boot-size", o->boot_size);
	ids_digest_add_u64(&d, "root-size", o->root_size);
	ids_digest_add_u64(&d, "headroom", o->root_headroom);
	ids_digest_add_u64(&d, "dedup", !o->no_dedup);
	ids_digest_add_u64(&d, "time", b->time);
	ids_digest_add(&d, "registration", b->registration.data,
		       b->registration.len);
	for (i = 0; i < b->layout.nblobs; i++) {
		ids_digest_add_u64(&d, "blob-offset", b->layout.blobs[i].offset);
		if (ids_digest_add_file(&d, "blob", b->layout.blobs[i].path,
					&b->e)) {
			ids_digest_final(&d, seed);
			return -1;
		}
	}
	ids_digest_final(&d, seed);
	return 0;
}

static int derive_ids(struct build *b)
{
	uint8_t seed[MK_UUID_SIZE];

	if (b->o->seed) {
		ids_derive(b->o->seed, strlen(b->o->seed), &b->ids);
		return 0;
	}
	if (digest_inputs(b, seed))
		return -1;
	ids_derive(seed, sizeof(seed), &b->ids);
	return 0;
}

/* ---- writing ------------------------------------------------------ */

/* The inputs OUTPUT and --bmap must not be. */
static int check_output(struct build *b)
{
	const struct mkr2simg_options *o = b->o;
	const char *inputs[] = { o->closure, o->registration, o->idbloader,
				 o->uboot_itb, o->uboot_rockchip };

	return deliver_check(&b->dl, inputs, sizeof(inputs) / sizeof(*inputs),
			     &b->e);
}

static int open_output(struct build *b)
{
	return deliver_open(&b->dl, &b->e);
}

/* The image is complete: compressed, mapped, published. */
static int finish_output(struct build *b)
{
	const char *kind = compress_kind_name(b->dl.kind);
	struct deliver_stats st;

	if (b->dl.kind == COMPRESS_ZSTD)
		say(b, MKR2SIMG_LOG_INFO, "finishing zstd (%u threads)",
		    deliver_workers(&b->dl));
	else if (b->dl.kind != COMPRESS_NONE)
		say(b, MKR2SIMG_LOG_INFO, "compressing to %s", kind);
	if (deliver_finish(&b->dl, b->layout.image_size, &st, &b->e))
		return -1;
	if (b->dl.kind == COMPRESS_ZSTD)
		say(b, MKR2SIMG_LOG_DEBUG, "zstd: %zu frames of %u MiB, %zu "
		    "compressed while writing, %zu again (written after)%s",
		    st.zstd.chunks, ZFRAME_CHUNK >> 20, st.zstd.early,
		    st.zstd.changed, st.zstd.moved ? ", the stream's end "
		    "moved in place" : "");
	if (b->o->bmap)
		say(b, MKR2SIMG_LOG_INFO, "%s: %llu MiB of the %llu MiB image "
		    "to write", b->o->bmap,
		    (unsigned long long)(st.mapped_bytes >> 20),
		    (unsigned long long)(b->layout.image_size >> 20));
	if (b->dl.kind != COMPRESS_NONE)
		say(b, MKR2SIMG_LOG_INFO, "%s: %llu MiB of %s", b->o->output,
		    (unsigned long long)(st.output_bytes >> 20), kind);
	return 0;
}

static int fail_write(struct build *b, int err)
{
	return mk_fail_errno(&b->e, err, "%s: cannot write", b->o->output);
}

static int write_gpt(struct build *b)
{
	uint8_t primary[GPT_PRIMARY_SECTORS * GPT_SECTOR_SIZE];
	uint8_t backup[GPT_BACKUP_SECTORS * GPT_SECTOR_SIZE];
	struct gpt_disk d;
	const struct mk_layout *l = &b->layout;
	int err;

	layout_gpt_disk(l, b->ids.disk_guid, b->ids.boot_part_guid,
			b->ids.root_part_guid, &d);
	if (gpt_encode(&d, primary, backup, &b->e))
		return -1;
	err = imgfile_pwrite(&b->dl.img, primary, sizeof(primary), 0);
	if (!err)
		err = imgfile_pwrite(&b->dl.img, backup, sizeof(backup),
				     l->image_size - sizeof(backup));
	return err ? fail_write(b, err) : 0;
}

static int copy_blob(struct build *b, const struct layout_blob *blob,
		     char *buf)
{
	int in = open(blob->path, O_RDONLY | O_CLOEXEC), err = 0;
	uint64_t done = 0;
	long n;

	if (in < 0)
		return mk_fail_errno(&b->e, errno, "%s %s", blob->option,
				     blob->path);
	while (!err && (n = mk_read_full(in, buf, BLOB_CHUNK)) > 0) {
		err = imgfile_pwrite(&b->dl.img, buf, (size_t)n,
				     blob->offset + done);
		done += (uint64_t)n;
	}
	close(in);
	if (err)
		return fail_write(b, err);
	if (done != blob->size)
		return mk_fail(&b->e, "%s %s: changed size while reading",
			       blob->option, blob->path);
	return 0;
}

/*
 * The raw area between the primary GPT and partition 1 is written whole:
 * zeros, then the bootloaders over them.  A card's old contents there
 * (an earlier idbloader, U-Boot or its saved environment) are what the
 * boot ROM and U-Boot read, so a flasher that copies only data ranges
 * must overwrite them too.
 */
static int write_raw_area(struct build *b)
{
	uint64_t at = (uint64_t)GPT_PRIMARY_SECTORS * GPT_SECTOR_SIZE;
	char *buf = calloc(1, BLOB_CHUNK);
	size_t i;
	int rc = 0, err;

	if (!buf)
		return mk_fail(&b->e, "out of memory");
	for (; rc == 0 && at < b->layout.boot_start; at += BLOB_CHUNK) {
		uint64_t n = b->layout.boot_start - at;

		err = imgfile_pwrite(&b->dl.img, buf,
				     n < BLOB_CHUNK ? n : BLOB_CHUNK, at);
		rc = err ? fail_write(b, err) : 0;
	}
	for (i = 0; rc == 0 && i < b->layout.nblobs; i++)
		rc = copy_blob(b, &b->layout.blobs[i], buf);
	free(buf);
	return rc;
}

static uint64_t dedup_owner_of(const void *ctx, uint64_t index,
			       uint64_t size, uint32_t *nlink)
{
	uint64_t owner = dedup_owner(ctx, index, size, nlink);

	return owner == DEDUP_CHANGED ? EXT4FS_TREE_CHANGED : owner;
}

struct tally {
	uint64_t files, bytes;
};

static int tally_visit(struct fst_node *n, void *ctx)
{
	struct tally *t = ctx;

	if (n->kind == FST_FILE) {
		t->files++;
		t->bytes += n->size;
	}
	return 0;
}

/* The writer's progress: shown, and where the read-ahead follows it
 * (it is told of each file as it starts). */
static void written(void *ctx, uint64_t files, uint64_t bytes)
{
	struct build *b = ctx;

	progress_add(b, files, bytes);
	if (files)
		ahead_at(b->ahead, b->prog.files_done - 1);
}

/* The progress phase of writing one filesystem, with its totals: the
 * root's from the survey's filelist (linked files are not written),
 * /boot's (a few files) counted now. */
static int start_fs_phase(struct build *b, int is_root)
{
	struct tally t = { b->root_files_list.count,
			   b->root_files_list.bytes - b->sum->dedup_saved };

	if (!is_root) {
		t = (struct tally){ 0, 0 };
		if (fst_walk(b->trees.boot, tally_visit, &t, &b->e))
			return -1;
	}
	progress_phase(b, is_root ? MKR2SIMG_PHASE_ROOT : MKR2SIMG_PHASE_BOOT,
		       is_root ? "writing /nix/store" : "writing /boot",
		       t.files, t.bytes);
	return 0;
}

static void settled(void *ctx, uint64_t below)
{
	struct build *b = ctx;

	deliver_settled(&b->dl, below);
}

static int write_fs(struct build *b, struct fst_node *tree, const char *label,
		    const uint8_t *uuid, const uint8_t *seed, uint64_t start,
		    uint64_t size, struct ext4fs_stats *st)
{
	int is_root = tree == b->trees.root;
	struct ext4fs_spec spec = {
		.label = label, .time = b->time, .offset = start, .size = size,
		.inodes = is_root ? b->root_need.inodes : b->boot_need.inodes,
		.progress = written, .settled = settled, .progress_ctx = b };
	struct ext4fs_links links = { dedup_owner_of, b->dedup };
	struct mk_err why;
	int rc;

	memcpy(spec.uuid, uuid, MK_UUID_SIZE);
	memcpy(spec.hash_seed, seed, MK_UUID_SIZE);
	say(b, MKR2SIMG_LOG_INFO, "writing %s (%llu MiB)", label,
	    (unsigned long long)(size >> 20));
	if (start_fs_phase(b, is_root))
		return -1;
	if (is_root)
		warm_store_data(b);
	/* libext2fs opens the image by name: the unnamed file's is fd_path. */
	rc = ext4fs_write(b->dl.image.fd_path, &b->dl.img, &spec, tree,
			  is_root && b->dedup ? &links : NULL, st, &why);
	stop_ahead(b);
	if (rc)
		return mk_fail(&b->e, "%s: partition %s: %s", b->o->output,
			       label, why.msg);
	return 0;
}

static int write_image(struct build *b)
{
	const struct mk_layout *l = &b->layout;
	struct ext4fs_stats boot, root;
	int err;

	if (deliver_start(&b->dl, l->image_size, &b->e))
		return -1;
	if ((err = imgfile_truncate(&b->dl.img, l->image_size)))
		return fail_write(b, err);
	/* Each part settled (a hint for a .zst OUTPUT) once written. */
	if (write_gpt(b) || write_raw_area(b))
		return -1;
	deliver_settled(&b->dl, l->boot_start);
	if (write_fs(b, b->trees.boot, IMAGE_BOOT_LABEL, b->ids.boot_fs_uuid,
		     b->ids.boot_hash_seed, l->boot_start, l->boot_size, &boot))
		return -1;
	deliver_settled(&b->dl, l->root_start);
	if (write_fs(b, b->trees.root, IMAGE_ROOT_LABEL, b->ids.root_fs_uuid,
		     b->ids.root_hash_seed, l->root_start, l->root_size, &root))
		return -1;
	b->sum->boot_fs_bytes = boot.size;
	b->sum->root_fs_bytes = root.size;
	b->sum->root_used_bytes = root.used;
	b->sum->image_bytes = l->image_size;
	return 0;
}

/* ---- the whole build ---------------------------------------------- */

static int run(struct build *b)
{
	if (check_options(b) || check_output(b) || open_output(b) ||
	    load_inputs(b) || check_memory_map(b))
		return -1;
	say(b, MKR2SIMG_LOG_INFO, "reading %zu store paths",
	    b->closure.count);
	/* Identifiers first: the hash seeds decide how indexed directories
	 * split into blocks, so the sizes need them. */
	if (derive_ids(b) || build_root_tree(b) || survey_root(b) ||
	    build_boot_tree(b) || plan_sizes(b))
		return -1;
	if (write_image(b))
		return -1;
	progress_phase(b, MKR2SIMG_PHASE_FINISH,
		       b->dl.kind != COMPRESS_NONE ? "compressing and syncing"
						   : "syncing", 0, 0);
	if (finish_output(b))
		return -1;
	return 0;
}

int mkr2simg_build(const struct mkr2simg_options *o,
		   struct mkr2simg_summary *summary, char *err, size_t errlen)
{
	struct mkr2simg_summary ignored;
	struct build b;
	int rc;

	memset(&b, 0, sizeof(b));
	b.o = o;
	deliver_init(&b.dl, o);
	b.sum = summary ? summary : &ignored;
	memset(b.sum, 0, sizeof(*b.sum));
	rc = run(&b);
	if (rc && err && errlen)
		mk_err_fit(b.e.msg, err, errlen);
	deliver_discard(&b.dl);
	trees_free(&b.trees);
	free(b.registration.data);
	toplevel_free(&b.top);
	free(b.store_root);
	closure_free(&b.closure);
	dedup_free(b.dedup);
	filelist_free(&b.root_files_list);
	return rc;
}
