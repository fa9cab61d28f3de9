#include "layout.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "util.h"

#define MIB (1u << 20)

static int add_blob(struct mk_layout *l, const char *path, const char *option,
		    uint64_t sector, uint64_t end_sector, const char *end_what,
		    struct mk_err *e)
{
	uint64_t room = (end_sector - sector) * LAYOUT_SECTOR;
	struct stat st;

	if (stat(path, &st) != 0)
		return mk_fail_errno(e, errno, "%s %s", option, path);
	if (!S_ISREG(st.st_mode))
		return mk_fail(e, "%s %s: not a regular file", option, path);
	if (st.st_size == 0)
		return mk_fail(e, "%s %s: file is empty (it has %llu bytes of "
			       "room at sector %llu)", option, path,
			       (unsigned long long)room,
			       (unsigned long long)sector);
	if ((uint64_t)st.st_size > room)
		return mk_fail(e, "%s %s: %llu bytes do not fit in the %llu "
			       "bytes from sector %llu to %s at sector %llu",
			       option, path, (unsigned long long)st.st_size,
			       (unsigned long long)room,
			       (unsigned long long)sector, end_what,
			       (unsigned long long)end_sector);
	l->blobs[l->nblobs++] = (struct layout_blob){
		path, option, sector * LAYOUT_SECTOR, (uint64_t)st.st_size };
	return 0;
}

int layout_bootloaders(const char *idbloader, const char *uboot_itb,
		       const char *uboot_rockchip, struct mk_layout *l,
		       struct mk_err *e)
{
	l->nblobs = 0;
	if (uboot_rockchip && (idbloader || uboot_itb))
		return mk_fail(e, "--uboot-rockchip replaces --idbloader and "
			       "--uboot-itb; give one or the other");
	if (uboot_rockchip)
		return add_blob(l, uboot_rockchip, "--uboot-rockchip",
				LAYOUT_IDBLOADER_SECTOR,
				LAYOUT_BOOT_PART_SECTOR, "the first partition",
				e);
	if (idbloader && add_blob(l, idbloader, "--idbloader",
				  LAYOUT_IDBLOADER_SECTOR,
				  LAYOUT_UBOOT_ITB_SECTOR, "u-boot.itb", e))
		return -1;
	if (uboot_itb && add_blob(l, uboot_itb, "--uboot-itb",
				  LAYOUT_UBOOT_ITB_SECTOR,
				  LAYOUT_BOOT_PART_SECTOR,
				  "the first partition", e))
		return -1;
	return 0;
}

/* ---- U-Boot's saved environment ----------------------------------- */


static int env_range_ok(const char *option, uint64_t offset, uint64_t size,
			struct mk_err *e)
{
	const uint64_t first = (uint64_t)LAYOUT_RAW_START_SECTOR * LAYOUT_SECTOR;
	const uint64_t end = (uint64_t)LAYOUT_BOOT_PART_SECTOR * LAYOUT_SECTOR;

	if (offset % LAYOUT_SECTOR || size % LAYOUT_SECTOR)
		return mk_fail(e, "%s 0x%llX, --env-size 0x%llX: U-Boot reads "
			       "its environment in whole %u-byte sectors",
			       option, (unsigned long long)offset,
			       (unsigned long long)size, LAYOUT_SECTOR);
	if (offset < first || offset > end || size > end - offset)
		return mk_fail(e, "%s 0x%llX, --env-size 0x%llX: not inside "
			       "the raw area 0x%llX-0x%llX between the primary "
			       "GPT and partition 1", option,
			       (unsigned long long)offset,
			       (unsigned long long)size,
			       (unsigned long long)first,
			       (unsigned long long)end - 1);
	return 0;
}

/* Whether `blob`'s bytes under `env` are all padding; -1 on error. */
static int blob_padding_under(const struct layout_blob *blob,
			      const struct layout_env *env, struct mk_err *e)
{
	uint64_t from = env->offset > blob->offset ? env->offset : blob->offset;
	uint64_t to = env->offset + env->size < blob->offset + blob->size
			      ? env->offset + env->size
			      : blob->offset + blob->size;
	uint8_t buf[LAYOUT_SECTOR];
	int fd, rc = 1;

	if (from >= to)
		return 1;
	fd = open(blob->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mk_fail_errno(e, errno, "%s %s", blob->option,
				     blob->path);
	for (; rc == 1 && from < to; from += sizeof(buf)) {
		size_t n = to - from < sizeof(buf) ? (size_t)(to - from)
						   : sizeof(buf);
		ssize_t got = pread(fd, buf, n, (off_t)(from - blob->offset));

		if (got != (ssize_t)n)
			rc = mk_fail(e, "%s %s: cannot read", blob->option,
				     blob->path);
		for (size_t i = 0; rc == 1 && i < n; i++)
			if (buf[i] != 0 && buf[i] != LAYOUT_PAD_BYTE)
				rc = 0;
	}
	close(fd);
	return rc;
}

static int env_clear_of_blobs(const struct mk_layout *l,
			      const struct layout_env *env, struct mk_err *e)
{
	for (size_t i = 0; i < l->nblobs; i++) {
		const struct layout_blob *b = &l->blobs[i];
		int rc = blob_padding_under(b, env, e);

		if (rc < 0)
			return -1;
		if (rc == 0)
			return mk_fail(e, "%s %s has data at 0x%llX-0x%llX, where "
				       "U-Boot keeps its saved environment (%s): "
				       "saveenv would overwrite the bootloader; "
				       "give this U-Boot's CONFIG_ENV_OFFSET and "
				       "CONFIG_ENV_SIZE as --env-offset and "
				       "--env-size", b->option, b->path,
				       (unsigned long long)env->offset,
				       (unsigned long long)(env->offset +
							    env->size - 1),
				       env->option);
	}
	return 0;
}

static int add_env(struct mk_layout *l, const char *option, uint64_t offset,
		   uint64_t size, struct mk_err *e)
{
	struct layout_env *env = &l->envs[l->nenvs];

	if (env_range_ok(option, offset, size, e))
		return -1;
	*env = (struct layout_env){ option, offset, size };
	if (env_clear_of_blobs(l, env, e))
		return -1;
	l->nenvs++;
	return 0;
}

int layout_env(uint64_t offset, uint64_t size, uint64_t redundant_offset,
	       struct mk_layout *l, struct mk_err *e)
{
	l->nenvs = 0;
	if (offset == 0)
		return redundant_offset == 0
			       ? 0
			       : mk_fail(e, "--env-redundant-offset needs "
					    "--env-offset (the first copy)");
	if (size == 0)
		return mk_fail(e, "--env-size must be more than 0");
	if (add_env(l, "--env-offset", offset, size, e))
		return -1;
	if (redundant_offset == 0)
		return 0;
	if (redundant_offset < offset + size && offset < redundant_offset + size)
		return mk_fail(e, "--env-redundant-offset 0x%llX overlaps the "
			       "first copy at --env-offset 0x%llX (--env-size "
			       "0x%llX each)",
			       (unsigned long long)redundant_offset,
			       (unsigned long long)offset,
			       (unsigned long long)size);
	return add_env(l, "--env-redundant-offset", redundant_offset, size, e);
}

int layout_partitions(uint64_t boot_size, uint64_t root_min,
		      struct mk_layout *l, struct mk_err *e)
{
	const uint64_t backup = LAYOUT_GPT_BACKUP_SECTORS * LAYOUT_SECTOR;

	if (boot_size == 0)
		return mk_fail(e, "--boot-size must be more than 0");
	if (boot_size > UINT64_MAX / 4 || root_min > UINT64_MAX / 4)
		return mk_fail(e, "partition sizes too large");
	l->boot_start = (uint64_t)LAYOUT_BOOT_PART_SECTOR * LAYOUT_SECTOR;
	l->boot_size = mk_align_up(boot_size, LAYOUT_ALIGN);
	l->root_start = l->boot_start + l->boot_size;
	l->image_size = mk_align_up(l->root_start + root_min + backup,
				    LAYOUT_ALIGN);
	/* The last usable sector is just before the backup entries. */
	l->root_size = l->image_size - backup - l->root_start;
	return 0;
}

static void set_part(struct gpt_part *p, const char *type,
		     const uint8_t guid[GPT_GUID_SIZE], uint64_t start,
		     uint64_t size, const char *name)
{
	memset(p, 0, sizeof(*p));
	gpt_guid_parse(type, p->type_guid);
	memcpy(p->unique_guid, guid, GPT_GUID_SIZE);
	p->first_lba = start / LAYOUT_SECTOR;
	p->last_lba = (start + size) / LAYOUT_SECTOR - 1;
	snprintf(p->name, sizeof(p->name), "%s", name);
}

void layout_gpt_disk(const struct mk_layout *l,
		     const uint8_t disk_guid[GPT_GUID_SIZE],
		     const uint8_t boot_guid[GPT_GUID_SIZE],
		     const uint8_t root_guid[GPT_GUID_SIZE],
		     struct gpt_disk *d)
{
	memset(d, 0, sizeof(*d));
	d->total_sectors = l->image_size / LAYOUT_SECTOR;
	memcpy(d->disk_guid, disk_guid, GPT_GUID_SIZE);
	d->nparts = 2;
	set_part(&d->parts[0], GPT_TYPE_LINUX_FS, boot_guid, l->boot_start,
		 l->boot_size, IMAGE_BOOT_LABEL);
	d->parts[0].attributes = GPT_ATTR_LEGACY_BIOS_BOOTABLE;
	set_part(&d->parts[1], GPT_TYPE_ROOT_ARM64, root_guid, l->root_start,
		 l->root_size, IMAGE_ROOT_LABEL);
}

static uint64_t part_bytes(const struct gpt_part *p)
{
	return (p->last_lba - p->first_lba + 1) * LAYOUT_SECTOR;
}

int layout_from_gpt(const struct gpt_disk *d, uint64_t image_size,
		    struct mk_layout *l, struct mk_err *e)
{
	const struct gpt_part *boot = &d->parts[0], *root = &d->parts[1];

	memset(l, 0, sizeof(*l));
	if (d->nparts != 2)
		return mk_fail(e, "%zu partitions, expected 2", d->nparts);
	if (boot->first_lba > boot->last_lba || root->first_lba > root->last_lba)
		return mk_fail(e, "a partition ends before it starts");
	/* Where layout_partitions puts partitions of these sizes. */
	if (layout_partitions(part_bytes(boot), part_bytes(root), l, e))
		return -1;
	if (boot->first_lba * LAYOUT_SECTOR != l->boot_start)
		return mk_fail(e, "partition 1 starts at sector %llu, expected "
			       "%u", (unsigned long long)boot->first_lba,
			       LAYOUT_BOOT_PART_SECTOR);
	if (part_bytes(boot) != l->boot_size)
		return mk_fail(e, "partition 1 has %llu bytes, not a multiple "
			       "of %uM", (unsigned long long)part_bytes(boot),
			       LAYOUT_ALIGN / MIB);
	if (root->first_lba * LAYOUT_SECTOR != l->root_start)
		return mk_fail(e, "partition 2 starts at sector %llu, expected "
			       "%llu (right after partition 1)",
			       (unsigned long long)root->first_lba,
			       (unsigned long long)(l->root_start /
						    LAYOUT_SECTOR));
	if (l->image_size != image_size || part_bytes(root) != l->root_size)
		return mk_fail(e, "partition 2 ends at sector %llu in an image "
			       "of %llu sectors; mkr2simg ends it at the last "
			       "usable sector of an image of a multiple of %uM",
			       (unsigned long long)root->last_lba,
			       (unsigned long long)(image_size / LAYOUT_SECTOR),
			       LAYOUT_ALIGN / MIB);
	return 0;
}
