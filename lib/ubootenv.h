/*
 * ubootenv.h - the default environment compiled into a U-Boot binary.
 *
 * Owns: finding U-Boot's built-in default environment inside a
 * bootloader file (u-boot.bin, u-boot.itb, u-boot-rockchip.bin) by its
 * shape -- NUL-separated "name=value" strings ended by an empty string
 * -- and reading variables and addresses from it the way U-Boot reads
 * them.  Does not own: what the variables mean for booting (bootmem.c)
 * or the FIT and Rockchip containers (the search needs neither, as long
 * as U-Boot's own image is stored uncompressed, which is how u-boot.itb
 * is built).
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

#endif
