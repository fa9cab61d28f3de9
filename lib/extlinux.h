/*
 * extlinux.h - the boot menu NixOS's generic-extlinux-compatible builder
 * writes, so that the first nixos-rebuild on the device takes it over.
 *
 * Owns: the file names under /boot/nixos and the exact text of
 * extlinux/extlinux.conf, and reading one back as U-Boot's pxe parser
 * reads it (the entry it boots first).  Does not own: finding the kernel
 * and friends (toplevel.c) or putting files on the partition (image.c).
 */
#ifndef MK_EXTLINUX_H
#define MK_EXTLINUX_H

#define EXTLINUX_CONF_PATH "extlinux/extlinux.conf"
#define EXTLINUX_KERNELS_DIR "nixos"
#define EXTLINUX_DEFAULT_DTB "rockchip/rk3328-nanopi-r2s.dtb"
#define EXTLINUX_NO_DTB "none"

struct extlinux_entry {
	const char *toplevel;      /* store path of the system */
	const char *kernel;        /* resolved store path of the kernel */
	const char *initrd;        /* resolved store path of the initrd */
	const char *dtbs;          /* resolved dtbs directory, or NULL */
	const char *dtb;           /* name under dtbs, "none": FDTDIR,
				      NULL: EXTLINUX_DEFAULT_DTB */
	const char *kernel_params; /* one line */
	int timeout_seconds;       /* 0: boot at once; negative: no
				      timeout, wait for a choice */
};

/* "/nix/store/abc-linux/Image" -> "abc-linux-Image" (malloc'd), the
 * name the builder gives a store file under /boot/nixos. */
char *extlinux_store_name(const char *store_path);

/* The whole extlinux.conf (malloc'd), or NULL when out of memory. */
char *extlinux_conf(const struct extlinux_entry *entry);

/* ---- reading one back ------------------------------------------------ */

/* The menu's settings and its first LABEL, each value as written (the
 * rest of its line, trailing blanks dropped), NULL when absent. */
struct extlinux_menu {
	char *timeout;      /* TIMEOUT (tenths of a second) */
	char *default_name; /* DEFAULT */
	char *label;        /* the first LABEL's name */
	char *menu_label;   /* its MENU LABEL */
	char *kernel;       /* its LINUX or KERNEL */
	char *initrd;       /* INITRD */
	char *fdt;          /* FDT or DEVICETREE */
	char *fdtdir;       /* FDTDIR or DEVICETREEDIR */
	char *append;       /* APPEND */
};

/*
 * Reads extlinux.conf text as U-Boot's pxe parser does: keywords in any
 * case after optional blanks, '#' lines ignored, TIMEOUT and DEFAULT
 * wherever they are (the last one counts), the lines after the first
 * LABEL up to the next one for that entry.  0, or -1 out of memory.
 */
int extlinux_parse(const char *text, struct extlinux_menu *m);

void extlinux_menu_free(struct extlinux_menu *m);

#endif
