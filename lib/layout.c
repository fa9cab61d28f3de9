#include "layout.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

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
