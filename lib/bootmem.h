/*
 * bootmem.h - whether U-Boot can start this kernel with this initrd and
 * device tree: U-Boot's memory map, as its extlinux (pxe) support and
 * `booti` use it.
 *
 * Owns: the ranges pxe loads the three files into (kernel_addr_r,
 * ramdisk_addr_r, fdt_addr_r from the bootloader's default
 * environment), the range booti moves an arm64 Image to (the 2 MiB
 * boundary at or above kernel_addr_r - text_offset, plus text_offset,
 * image_size long; 16 MiB at 0x80000 when image_size is 0), the
 * decompression buffer of a gzip'd Image (kernel_comp_addr_r,
 * kernel_comp_size), and booti's own "RD image overlaps OS image" and
 * "FDT image overlaps OS image" tests, computed as U-Boot computes them.
 * Does not own: finding the environment (ubootenv.c) or reading the
 * Image header (arm64image.c).  U-Boot's later moves of the initrd and
 * device tree (initrd_high, fdt_high) happen after these tests and are
 * not modelled; neither is an environment saved on the card, which
 * replaces the default one (the caller's option skips the check then).
 */
#ifndef MK_BOOTMEM_H
#define MK_BOOTMEM_H

#include <stddef.h>
#include <stdint.h>

#include "arm64image.h"
#include "err.h"
#include "ubootenv.h"

#define BOOTMEM_BOOTI_ALIGN (2u << 20)       /* booti's 2 MiB boundary */
#define BOOTMEM_NO_SIZE_BYTES (16u << 20)    /* image_size 0: assumed */
#define BOOTMEM_NO_SIZE_OFFSET 0x80000u      /* image_size 0: text_offset */
#define BOOTMEM_DECOMP_FACTOR 10u            /* booti: kernel_comp_size x10 */

/* The environment's addresses; `has_*` 0 when the variable is absent. */
struct bootmem_map {
	uint64_t kernel_addr_r, ramdisk_addr_r, fdt_addr_r;
	uint64_t kernel_comp_addr_r, kernel_comp_size;
	int has_kernel, has_ramdisk, has_fdt, has_comp_addr, has_comp_size;
};

/* What goes on the card. */
struct bootmem_files {
	const char *kernel_name;   /* for messages */
	struct arm64_image kernel;
	uint64_t initrd_size;
	uint64_t fdt_size;         /* 0: no device tree loaded */
};

/* Reads the map from an environment: 0, or -1 when a value is bad. */
int bootmem_map_from_env(const struct ubootenv *env, struct bootmem_map *m,
			 struct mk_err *e);

/* Where booti puts the Image (`*start`, `*size`), as booti_setup
 * computes it; 0, or -1 when it cannot be told (no kernel_addr_r, or
 * flags bit 3 clear: then booti uses the start of RAM, which the
 * environment does not give) with the reason in `e`. */
int bootmem_os_range(const struct bootmem_map *m, const struct arm64_image *k,
		     uint64_t *start, uint64_t *size, struct mk_err *e);

/*
 * The check.  0 when U-Boot can load and start the files; -1 with one
 * line naming the sizes, the addresses and the way out otherwise.
 * Parts the map cannot tell (e.g. no ramdisk_addr_r) are described in
 * `note` (may be NULL) and not checked.
 */
int bootmem_check(const struct bootmem_map *m, const struct bootmem_files *f,
		  char *note, size_t notelen, struct mk_err *e);

/* The files of a card, by their host paths. */
struct bootmem_card {
	const char *bootloader;  /* the file holding U-Boot proper */
	const char *kernel;
	const char *kernel_name; /* for messages */
	const char *initrd;
	const char *dtbs;        /* the dtbs folder, or NULL */
	const char *dtb;         /* FDT under dtbs; NULL: FDTDIR, where
				    U-Boot takes its fdtfile variable */
};

/*
 * Reads the bootloader's default environment and the files and runs
 * bootmem_check.  Without an environment (or with one that has no
 * kernel_addr_r) it only says so in `note`.  `note` (may be NULL) also
 * gets the addresses and the largest kernel that fits.
 */
int bootmem_check_card(const struct bootmem_card *c, char *note,
		       size_t notelen, struct mk_err *e);

#endif
