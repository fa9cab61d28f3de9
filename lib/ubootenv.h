/*
 * ubootenv.h - U-Boot's environment: the default one compiled into a
 * U-Boot binary, and the one `saveenv` keeps on the card.
 *
 * Owns: finding U-Boot's built-in default environment inside a
 * bootloader file (u-boot.bin, u-boot.itb, u-boot-rockchip.bin) by its
 * shape -- NUL-separated "name=value" strings ended by an empty string
 * -- and reading variables and addresses from it the way U-Boot reads
 * them; where the R2S's U-Boot keeps its saved environment and reading
 * one copy of it (CRC32, flags, variables) as U-Boot's env_import does.
 * Does not own: what the variables mean for booting (bootmem.c), the
 * FIT and Rockchip containers (the search needs neither, as long as
 * U-Boot's own image is stored uncompressed, which is how u-boot.itb is
 * built), or where the range lies among the image's other parts
 * (layout.c checks it).
 */
#ifndef MK_UBOOTENV_H
#define MK_UBOOTENV_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The variable whose "name=" marks a candidate block. */
#define UBOOTENV_ANCHOR "kernel_addr_r="

struct ubootenv {
	char *text;   /* the block: "a=1\0b=2\0...\0\0" (malloc'd), or NULL */
	size_t len;   /* bytes of text, both final NULs included */
	size_t vars;  /* number of variables */
};

/*
 * Finds the environment in `len` bytes at `data`: every "name=value"
 * block holding UBOOTENV_ANCHOR is a candidate, the one with the most
 * variables wins.  env->text is NULL when there is none (not an error).
 */
int ubootenv_find(const uint8_t *data, size_t len, struct ubootenv *env,
		  struct mk_err *e);

/* Reads the file `path` and calls ubootenv_find on it. */
int ubootenv_load(const char *path, struct ubootenv *env, struct mk_err *e);

/* The value of `name`, or NULL when the environment has no such one. */
const char *ubootenv_get(const struct ubootenv *env, const char *name);

/*
 * An address as U-Boot's pxe and booti read one (strict_strtoul in base
 * 16): optional "0x", then only hex digits -- "33554432" is 0x33554432.
 * Returns 1 and sets *out; 0 when `name` is absent; -1 when its value is
 * not such a number (U-Boot would not boot), with a message naming it.
 */
int ubootenv_get_addr(const struct ubootenv *env, const char *name,
		      uint64_t *out, struct mk_err *e);

void ubootenv_free(struct ubootenv *env);

/* ---- the saved environment ---------------------------------------- */

/*
 * Where the R2S's U-Boot keeps `saveenv` data: nanopi-r2s-rk3328_defconfig
 * sets CONFIG_ENV_IS_IN_MMC and CONFIG_ENV_OFFSET=0x3F8000 (in the gap
 * between idbloader and u-boot.itb); CONFIG_ENV_SIZE is env/Kconfig's
 * default for ARCH_ROCKCHIP && ENV_IS_IN_MMC, 0x8000; it sets no
 * CONFIG_ENV_OFFSET_REDUND, so there is no second copy (0: none).
 */
#define UBOOTENV_SAVED_OFFSET 0x3F8000u
#define UBOOTENV_SAVED_SIZE 0x8000u
#define UBOOTENV_SAVED_REDUNDANT_OFFSET 0u

/*
 * include/env_internal.h, env_t: a CRC32 (little-endian, zlib's) of the
 * data, then -- only with CONFIG_SYS_REDUNDAND_ENVIRONMENT, which a
 * redundant offset implies -- one flags byte (a serial number: the
 * higher wins, 0 after 255), then the data up to CONFIG_ENV_SIZE.
 */
#define UBOOTENV_CRC_SIZE 4u
#define UBOOTENV_FLAGS_SIZE 1u

struct ubootenv_saved {
	int valid;             /* the CRC matches: U-Boot would use it */
	uint32_t crc_stored;   /* as on the card */
	uint32_t crc_computed; /* of the data */
	int flags;             /* the flags byte; -1 in the single layout */
	struct ubootenv env;   /* when valid: the strings up to the empty
				  one ("a=1\0b=2\0\0"); text NULL else */
};

/*
 * Reads one copy of a saved environment: the `size` bytes of the
 * CONFIG_ENV_SIZE range at `area`, in the redundant layout (flags byte)
 * or not.  Any bytes are a result (valid or not); -1 only when `size`
 * is smaller than the header or memory runs out.
 */
int ubootenv_read_saved(const uint8_t *area, size_t size, int redundant,
			struct ubootenv_saved *out, struct mk_err *e);

/*
 * Of two copies, the one U-Boot loads (env_check_redund): a valid one
 * over an invalid one; of two valid ones the higher flags, except that
 * 0 follows 255; equal flags: the first.  0 for `a`, 1 for `b`, -1 when
 * neither is valid.  `b` NULL: a U-Boot with one copy, `a` if valid.
 */
int ubootenv_saved_pick(const struct ubootenv_saved *a,
			const struct ubootenv_saved *b);

void ubootenv_saved_free(struct ubootenv_saved *s);

#endif
