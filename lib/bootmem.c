#include "bootmem.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define MIB (1u << 20)
#define SIZE_TEXT 32
#define SKIP_HINT "--no-memory-map-check if the board boots from a saved " \
	"U-Boot environment with other addresses"

/* One range in memory, for messages and tests. */
struct range {
	const char *what;
	uint64_t start, end; /* [start, end) */
};

/* "62 MiB", "62.004 MiB": exact enough to tell a limit from a miss. */
static const char *mib(uint64_t bytes, char buf[SIZE_TEXT])
{
	if (bytes % MIB == 0)
		snprintf(buf, SIZE_TEXT, "%llu MiB",
			 (unsigned long long)(bytes / MIB));
	else
		snprintf(buf, SIZE_TEXT, "%.3f MiB", (double)bytes / MIB);
	return buf;
}

static int overlap(const struct range *a, const struct range *b)
{
	return a->start < b->end && b->start < a->end;
}

/* booti's test (boot/bootm.c, bootm_find_images) for the initrd. */
static int booti_rd_overlaps(uint64_t rd_start, uint64_t rd_end,
			     uint64_t start, uint64_t size)
{
	return rd_start &&
	       ((rd_start >= start && rd_start < start + size) ||
		(rd_end > start && rd_end <= start + size) ||
		(rd_start < start && rd_end >= start + size));
}

/* booti's test for the device tree (same place). */
static int booti_fdt_overlaps(uint64_t ft, uint64_t len, uint64_t start,
			      uint64_t size)
{
	return ft && ((ft >= start && ft < start + size) ||
		      (ft + len >= start && ft + len < start + size));
}

static void add_note(char *note, size_t notelen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add_note(char *note, size_t notelen, const char *fmt, ...)
{
	size_t used;
	va_list ap;

	if (!note || notelen == 0)
		return;
	used = strnlen(note, notelen);
	if (used + 3 >= notelen)
		return;
	if (used) {
		strcpy(note + used, "; ");
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(note + used, notelen - used, fmt, ap);
	va_end(ap);
}

int bootmem_map_from_env(const struct ubootenv *env, struct bootmem_map *m,
			 struct mk_err *e)
{
	memset(m, 0, sizeof(*m));
	if ((m->has_kernel = ubootenv_get_addr(env, "kernel_addr_r",
					       &m->kernel_addr_r, e)) < 0 ||
	    (m->has_ramdisk = ubootenv_get_addr(env, "ramdisk_addr_r",
						&m->ramdisk_addr_r, e)) < 0 ||
	    (m->has_fdt = ubootenv_get_addr(env, "fdt_addr_r", &m->fdt_addr_r,
					    e)) < 0 ||
	    (m->has_comp_addr = ubootenv_get_addr(env, "kernel_comp_addr_r",
						  &m->kernel_comp_addr_r, e)) < 0 ||
	    (m->has_comp_size = ubootenv_get_addr(env, "kernel_comp_size",
						  &m->kernel_comp_size, e)) < 0)
		return -1;
	return 0;
}

int bootmem_os_range(const struct bootmem_map *m, const struct arm64_image *k,
		     uint64_t *start, uint64_t *size, struct mk_err *e)
{
	uint64_t text_offset = k->text_offset, dst;

	if (!m->has_kernel)
		return mk_fail(e, "the environment has no kernel_addr_r");
	*size = k->image_size;
	if (k->image_size == 0) {
		*size = BOOTMEM_NO_SIZE_BYTES;
		text_offset = BOOTMEM_NO_SIZE_OFFSET;
	}
	if (!(k->flags & ARM64_IMAGE_FLAG_ANYWHERE))
		return mk_fail(e, "the kernel's header does not allow a base "
			       "anywhere (flags bit 3), so booti moves it to "
			       "the start of RAM, which the environment does "
			       "not give");
	dst = m->kernel_addr_r - text_offset;
	*start = mk_align_up(dst, BOOTMEM_BOOTI_ALIGN) + text_offset;
	return 0;
}

/* A one-line failure about ranges `a` and `b`. */
static int conflict(struct mk_err *e, const char *kernel,
		    const struct range *a, const struct range *b,
		    const char *uboot_says)
{
	char as[SIZE_TEXT], bs[SIZE_TEXT];

	return mk_fail(e, "%s: U-Boot cannot boot it: %s (%s at 0x%08llx..0x%08llx) "
		       "overlaps %s (%s at 0x%08llx..0x%08llx)%s; use a "
		       "U-Boot whose environment places them apart, a "
		       "smaller file, or %s", kernel, a->what,
		       mib(a->end - a->start, as), (unsigned long long)a->start,
		       (unsigned long long)a->end, b->what,
		       mib(b->end - b->start, bs), (unsigned long long)b->start,
		       (unsigned long long)b->end, uboot_says, SKIP_HINT);
}

/* The usual case, said plainly: the kernel reaches ramdisk_addr_r. */
static int kernel_too_big(struct mk_err *e, const struct bootmem_files *f,
			  const struct bootmem_map *m, uint64_t start,
			  uint64_t size)
{
	char ks[SIZE_TEXT], gap[SIZE_TEXT];

	return mk_fail(e, "%s: U-Boot cannot boot it: the kernel needs %s "
		       "(image_size 0x%llx) from 0x%08llx, where booti moves "
		       "it, but this U-Boot loads the initrd at "
		       "ramdisk_addr_r=0x%08llx, leaving %s: U-Boot would stop "
		       "with \"RD image overlaps OS image\"; use a U-Boot with "
		       "ramdisk_addr_r at or above 0x%08llx (the NixOS module's "
		       "default U-Boot has 0x0c000000), a kernel of at most "
		       "%s, or %s", f->kernel_name, mib(size, ks),
		       (unsigned long long)f->kernel.image_size,
		       (unsigned long long)start,
		       (unsigned long long)m->ramdisk_addr_r,
		       mib(m->ramdisk_addr_r - start, gap),
		       (unsigned long long)mk_align_up(start + size, MIB),
		       gap, SKIP_HINT);
}

/* A gzip'd Image: booti inflates it (at most kernel_comp_size bytes in,
 * ten times that out) into kernel_comp_addr_r and moves it back. */
static int check_decompression(const struct bootmem_map *m,
			       const struct bootmem_files *f,
			       const struct range *loaded, size_t nloaded,
			       struct mk_err *e)
{
	const struct arm64_image *k = &f->kernel;
	struct range d = { "the inflated kernel at kernel_comp_addr_r",
			   m->kernel_comp_addr_r,
			   m->kernel_comp_addr_r + k->data_size };
	char a[SIZE_TEXT], b[SIZE_TEXT];
	size_t i;

	if (!m->has_comp_addr || !m->has_comp_size || !m->kernel_comp_addr_r ||
	    !m->kernel_comp_size)
		return mk_fail(e, "%s: U-Boot cannot boot it: the kernel is "
			       "gzip-compressed and the bootloader's environment "
			       "has no kernel_comp_addr_r and kernel_comp_size; "
			       "use a plain Image or %s", f->kernel_name,
			       SKIP_HINT);
	if (k->file_size > m->kernel_comp_size ||
	    k->data_size > m->kernel_comp_size * BOOTMEM_DECOMP_FACTOR)
		return mk_fail(e, "%s: U-Boot cannot boot it: the compressed "
			       "kernel has %s (%s inflated), more than "
			       "kernel_comp_size=0x%llx (and ten times that) "
			       "lets booti read; use a plain Image or %s",
			       f->kernel_name, mib(k->file_size, a),
			       mib(k->data_size, b),
			       (unsigned long long)m->kernel_comp_size,
			       SKIP_HINT);
	for (i = 0; i < nloaded; i++)
		if (overlap(&d, &loaded[i]))
			return conflict(e, f->kernel_name, &d, &loaded[i], "");
	return 0;
}

/* What pxe loads (initrd, kernel, device tree) must not overlap. */
static int check_loads(const struct bootmem_map *m,
		       const struct bootmem_files *f, struct range *loaded,
		       size_t *n, char *note, size_t notelen,
		       struct mk_err *e)
{
	const struct arm64_image *k = &f->kernel;
	uint64_t ksize = k->file_size > k->data_size ? k->file_size
						     : k->data_size;
	size_t i, j;

	*n = 0;
	loaded[(*n)++] = (struct range){ "the kernel at kernel_addr_r",
					 m->kernel_addr_r,
					 m->kernel_addr_r + ksize };
	if (m->has_ramdisk)
		loaded[(*n)++] = (struct range){
			"the initrd at ramdisk_addr_r", m->ramdisk_addr_r,
			m->ramdisk_addr_r + f->initrd_size };
	else
		add_note(note, notelen, "no ramdisk_addr_r: the initrd's "
			 "place is not checked");
	if (f->fdt_size && m->has_fdt)
		loaded[(*n)++] = (struct range){
			"the device tree at fdt_addr_r", m->fdt_addr_r,
			m->fdt_addr_r + f->fdt_size };
	else if (f->fdt_size)
		add_note(note, notelen, "no fdt_addr_r: the device tree's "
			 "place is not checked");
	for (i = 0; i < *n; i++)
		for (j = i + 1; j < *n; j++)
			if (overlap(&loaded[i], &loaded[j]))
				return conflict(e, f->kernel_name, &loaded[i],
						&loaded[j], "");
	if (k->kind == ARM64_IMAGE_GZIP)
		return check_decompression(m, f, loaded, *n, e);
	return 0;
}

/* booti's own tests against the range it moved the Image to. */
static int check_booti(const struct bootmem_map *m,
		       const struct bootmem_files *f, char *note,
		       size_t notelen, struct mk_err *e)
{
	uint64_t start, size;
	struct mk_err why;
	struct range os, fdt;

	if (bootmem_os_range(m, &f->kernel, &start, &size, &why)) {
		add_note(note, notelen, "booti's place for the kernel is not "
			 "checked: %s", why.msg);
		return 0;
	}
	os = (struct range){ "the kernel where booti moves it", start,
			     start + size };
	if (m->has_ramdisk &&
	    booti_rd_overlaps(m->ramdisk_addr_r,
			      m->ramdisk_addr_r + f->initrd_size, start, size)) {
		if (m->ramdisk_addr_r >= start)
			return kernel_too_big(e, f, m, start, size);
		fdt = (struct range){ "the initrd at ramdisk_addr_r",
				      m->ramdisk_addr_r,
				      m->ramdisk_addr_r + f->initrd_size };
		return conflict(e, f->kernel_name, &fdt, &os, ": U-Boot would "
				"stop with \"RD image overlaps OS image\"");
	}
	fdt = (struct range){ "the device tree at fdt_addr_r", m->fdt_addr_r,
			      m->fdt_addr_r + f->fdt_size };
	if (f->fdt_size && m->has_fdt &&
	    (booti_fdt_overlaps(m->fdt_addr_r, f->fdt_size, start, size) ||
	     overlap(&fdt, &os)))
		return conflict(e, f->kernel_name, &fdt, &os, ": U-Boot would "
				"stop with \"FDT image overlaps OS image\"");
	return 0;
}

int bootmem_check(const struct bootmem_map *m, const struct bootmem_files *f,
		  char *note, size_t notelen, struct mk_err *e)
{
	struct range loaded[3];
	size_t n;

	if (note && notelen)
		note[0] = '\0';
	if (!m->has_kernel) {
		add_note(note, notelen, "the bootloader's environment has no "
			 "kernel_addr_r: kernel size not checked");
		return 0;
	}
	if (f->kernel.kind == ARM64_IMAGE_NONE)
		return mk_fail(e, "%s: U-Boot cannot boot it: not an arm64 "
			       "Image (no \"ARM\\x64\" magic at byte 56, plain "
			       "or gzip'd), which is what its extlinux support "
			       "starts with booti; use the kernel's Image or %s",
			       f->kernel_name, SKIP_HINT);
	if (check_loads(m, f, loaded, &n, note, notelen, e))
		return -1;
	return check_booti(m, f, note, notelen, e);
}

static int file_size(const char *path, uint64_t *size, struct mk_err *e)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return mk_fail_errno(e, errno, "%s", path);
	*size = (uint64_t)st.st_size;
	return 0;
}

/* The device tree U-Boot loads: the FDT line's, else (FDTDIR) the one
 * its fdtfile names; 0 bytes when there is none. */
static int fdt_size(const struct bootmem_card *c, const struct ubootenv *env,
		    uint64_t *size, char *note, size_t notelen,
		    struct mk_err *e)
{
	const char *name = c->dtb ? c->dtb : ubootenv_get(env, "fdtfile");
	char *path;
	int rc;

	*size = 0;
	if (!c->dtbs)
		return 0;
	if (!name || strchr(name, '$')) {
		add_note(note, notelen, "FDTDIR without a plain fdtfile in "
			 "the environment: the device tree's place is not "
			 "checked");
		return 0;
	}
	if (!(path = mk_path_join(c->dtbs, name)))
		return mk_fail(e, "out of memory");
	rc = access(path, F_OK) == 0 || c->dtb ? file_size(path, size, e) : 0;
	free(path);
	return rc;
}

/* "kernel_addr_r=…, …; booti: …": what the check used, for -v. */
static void describe(const struct bootmem_map *m, const struct arm64_image *k,
		     const char *bootloader, char *note, size_t notelen)
{
	uint64_t start, size;
	struct mk_err ignored;
	char ks[SIZE_TEXT], lim[SIZE_TEXT];

	add_note(note, notelen, "%s: kernel_addr_r=0x%08llx "
		 "ramdisk_addr_r=0x%08llx fdt_addr_r=0x%08llx", bootloader,
		 (unsigned long long)m->kernel_addr_r,
		 (unsigned long long)m->ramdisk_addr_r,
		 (unsigned long long)m->fdt_addr_r);
	if (bootmem_os_range(m, k, &start, &size, &ignored) == 0 &&
	    m->has_ramdisk && m->ramdisk_addr_r >= start)
		add_note(note, notelen, "booti places the kernel (%s) at "
			 "0x%08llx; kernels up to %s fit below ramdisk_addr_r",
			 mib(size, ks), (unsigned long long)start,
			 mib(m->ramdisk_addr_r - start, lim));
}

int bootmem_check_card(const struct bootmem_card *c, char *note,
		       size_t notelen, struct mk_err *e)
{
	struct bootmem_files f = { .kernel_name = c->kernel_name };
	struct ubootenv env;
	struct bootmem_map m;
	char extra[MK_ERR_MAX] = "";
	int rc = -1;

	if (note && notelen)
		note[0] = '\0';
	if (ubootenv_load(c->bootloader, &env, e))
		return -1;
	if (!env.text) {
		add_note(note, notelen, "%s holds no U-Boot default environment "
			 "with kernel_addr_r: kernel size not checked",
			 c->bootloader);
		return 0;
	}
	if (bootmem_map_from_env(&env, &m, e) == 0 &&
	    arm64_image_read(c->kernel, &f.kernel, e) == 0 &&
	    file_size(c->initrd, &f.initrd_size, e) == 0 &&
	    fdt_size(c, &env, &f.fdt_size, note, notelen, e) == 0 &&
	    bootmem_check(&m, &f, extra, sizeof(extra), e) == 0) {
		describe(&m, &f.kernel, c->bootloader, note, notelen);
		if (extra[0])
			add_note(note, notelen, "%s", extra);
		rc = 0;
	}
	ubootenv_free(&env);
	return rc;
}
