/*
 * layout.h - where everything lies on the card.
 *
 * Owns: the RK3328 boot ROM's fixed offsets (idbloader at sector 64,
 * u-boot.itb at 16384, the first partition at 32768), 4 MiB alignment
 * of partitions and of the image size, the checks that each bootloader
 * file fits its room, the partition table's contents (which partitions,
 * their types, names and attributes), telling whether a table read from
 * an image describes such a layout, and where U-Boot's saved
 * environment lies: inside the raw area, with no bootloader data under
 * it.  Does not own: encoding the partition table (gpt.c), the
 * filesystems (ext4fs.c) or the environment's format (ubootenv.c).
 */
#ifndef MK_LAYOUT_H
#define MK_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "gpt.h"

#define LAYOUT_SECTOR ((unsigned)GPT_SECTOR_SIZE)
#define LAYOUT_RAW_START_SECTOR ((unsigned)GPT_PRIMARY_SECTORS)
#define LAYOUT_ALIGN (4u << 20)             /* SD erase-block multiple */
#define LAYOUT_IDBLOADER_SECTOR 64u         /* where the boot ROM looks */
#define LAYOUT_UBOOT_ITB_SECTOR 16384u      /* U-Boot SPL's default */
#define LAYOUT_BOOT_PART_SECTOR 32768u      /* first partition, 16 MiB */
#define LAYOUT_GPT_BACKUP_SECTORS ((unsigned)GPT_BACKUP_SECTORS)
#define LAYOUT_MAX_BLOBS 2
#define LAYOUT_MAX_ENVS 2                   /* U-Boot's two copies */
#define LAYOUT_PAD_BYTE 0xFF /* binman pads u-boot-rockchip.bin with it */

/* A raw file written outside any partition. */
struct layout_blob {
	const char *path;
	const char *option;   /* the command-line option that named it */
	uint64_t offset;      /* bytes from the start of the image */
	uint64_t size;        /* bytes of the file */
};

/* A copy of U-Boot's saved environment (written as zeros). */
struct layout_env {
	const char *option;   /* the option that placed it */
	uint64_t offset;      /* bytes from the start of the image */
	uint64_t size;        /* CONFIG_ENV_SIZE */
};

struct mk_layout {
	uint64_t boot_start, boot_size; /* partition 1, bytes */
	uint64_t root_start, root_size; /* partition 2, bytes */
	uint64_t image_size;            /* multiple of LAYOUT_ALIGN */
	struct layout_blob blobs[LAYOUT_MAX_BLOBS];
	size_t nblobs;
	struct layout_env envs[LAYOUT_MAX_ENVS];
	size_t nenvs;
};

/*
 * Checks the bootloader files (any may be NULL) and records them: a
 * file that is missing, not regular, empty or too large for its room is
 * an error naming it, its size and its room.
 */
int layout_bootloaders(const char *idbloader, const char *uboot_itb,
		       const char *uboot_rockchip, struct mk_layout *l,
		       struct mk_err *e);

/*
 * Checks and records U-Boot's saved-environment copies (`offset` 0:
 * none; `redundant_offset` 0: no second copy), given by --env-offset,
 * --env-size and --env-redundant-offset: whole sectors between the
 * primary GPT and partition 1, the copies apart; and, after
 * layout_bootloaders, that no bootloader file has anything but padding
 * (0x00 or 0xFF bytes) where a copy lies, since U-Boot's saveenv would
 * overwrite it.  An error names the option or the file and the range.
 */
int layout_env(uint64_t offset, uint64_t size, uint64_t redundant_offset,
	       struct mk_layout *l, struct mk_err *e);

/*
 * Places partition 1 (`boot_size` rounded up to LAYOUT_ALIGN) and
 * partition 2 (at least `root_min` bytes, running to the last usable
 * sector of an image whose size is a multiple of LAYOUT_ALIGN).
 */
int layout_partitions(uint64_t boot_size, uint64_t root_min,
		      struct mk_layout *l, struct mk_err *e);

/*
 * The partition table of layout `l` (both partitions placed): 1 is the
 * Linux-filesystem NIXOS_BOOT, legacy BIOS bootable (U-Boot's distro
 * boot looks for that bit), 2 the ARM64-root NIXOS_SD; GUIDs as given
 * (RFC 9562 byte order).
 */
void layout_gpt_disk(const struct mk_layout *l,
		     const uint8_t disk_guid[GPT_GUID_SIZE],
		     const uint8_t boot_guid[GPT_GUID_SIZE],
		     const uint8_t root_guid[GPT_GUID_SIZE],
		     struct gpt_disk *d);

/*
 * The layout of an image of `image_size` bytes with partition table `d`,
 * when layout_partitions could have placed it: two partitions, 1 from
 * LAYOUT_BOOT_PART_SECTOR, both multiples of LAYOUT_ALIGN, 2 right after
 * 1 up to the last usable sector, the image a multiple of LAYOUT_ALIGN.
 * Else -1 with the first rule broken.  (Types, names and attributes are
 * for comparing `d` with layout_gpt_disk.)  No bootloaders are set.
 */
int layout_from_gpt(const struct gpt_disk *d, uint64_t image_size,
		    struct mk_layout *l, struct mk_err *e);

#endif
