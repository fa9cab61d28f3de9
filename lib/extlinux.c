#include "extlinux.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "closure.h"

#define SYSLINUX_TICKS_PER_SECOND 10 /* TIMEOUT is in tenths */
#define TIMEOUT_AT_ONCE (-10)        /* what the builder writes for 0 */
#define TIMEOUT_WAIT 0               /* ... for null (-t -1): no timeout */

char *extlinux_store_name(const char *store_path)
{
	const char *prefix = NIX_STORE_DIR "/";
	char *name, *p;

	if (strncmp(store_path, prefix, strlen(prefix)) == 0)
		store_path += strlen(prefix);
	name = strdup(store_path);
	if (!name)
		return NULL;
	for (p = name; *p; p++)
		if (*p == '/')
			*p = '-';
	return name;
}

/* As NixOS's extlinux-conf-builder.sh: its -t is the seconds, or -1 for
 * boot.loader.timeout = null; U-Boot reads TIMEOUT 0 as "wait".  64-bit:
 * INT_MAX seconds must not wrap into an instant boot. */
static long long menu_timeout(int seconds)
{
	if (seconds < 0)
		return TIMEOUT_WAIT;
	return seconds == 0 ? TIMEOUT_AT_ONCE
			    : (long long)seconds * SYSLINUX_TICKS_PER_SECOND;
}

/* The device-tree line (malloc'd, "" without dtbs); NULL when out of
 * memory.  As long as the names are: never cut. */
static char *fdt_line(const char *dtbs, const char *dtb)
{
	char *line = NULL;
	int n;

	if (!dtbs)
		return strdup("");
	if (strcmp(dtb, EXTLINUX_NO_DTB) == 0)
		n = asprintf(&line, "  FDTDIR ../%s/%s\n", EXTLINUX_KERNELS_DIR,
			     dtbs);
	else
		n = asprintf(&line, "  FDT ../%s/%s/%s\n", EXTLINUX_KERNELS_DIR,
			     dtbs, dtb);
	return n < 0 ? NULL : line;
}

char *extlinux_conf(const struct extlinux_entry *en)
{
	char *kernel = extlinux_store_name(en->kernel);
	char *initrd = extlinux_store_name(en->initrd);
	char *dtbs = en->dtbs ? extlinux_store_name(en->dtbs) : NULL;
	const char *dtb = en->dtb ? en->dtb : EXTLINUX_DEFAULT_DTB;
	char *text = NULL, *fdt = NULL;
	int n;

	if (!kernel || !initrd || (en->dtbs && !dtbs) ||
	    !(fdt = fdt_line(dtbs, dtb)))
		goto out;
	n = asprintf(&text,
		     "# Generated file, all changes will be lost on "
		     "nixos-rebuild!\n"
		     "\n"
		     "# Change this to e.g. nixos-42 to temporarily boot to an "
		     "older configuration.\n"
		     "DEFAULT nixos-default\n"
		     "\n"
		     "MENU TITLE ------------------------------------------------"
		     "------------\n"
		     "TIMEOUT %lld\n"
		     "\n"
		     "LABEL nixos-default\n"
		     "  MENU LABEL NixOS - Default\n"
		     "  LINUX ../%s/%s\n"
		     "  INITRD ../%s/%s\n"
		     "  APPEND init=%s/init %s\n"
		     "%s",
		     menu_timeout(en->timeout_seconds), EXTLINUX_KERNELS_DIR,
		     kernel, EXTLINUX_KERNELS_DIR, initrd, en->toplevel,
		     en->kernel_params, fdt);
	if (n < 0)
		text = NULL;
out:
	free(fdt);
	free(kernel);
	free(initrd);
	free(dtbs);
	return text;
}
