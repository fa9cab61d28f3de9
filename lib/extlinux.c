#include "extlinux.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "closure.h"
#include "util.h"

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

/* ---- reading one back ------------------------------------------------ */

#define BLANKS " \t"

/* Keywords of U-Boot's pxe_utils.c this reader keeps, and where. */
enum menu_field { F_TIMEOUT, F_DEFAULT, F_LABEL, F_MENU_LABEL, F_KERNEL,
		  F_INITRD, F_FDT, F_FDTDIR, F_APPEND };

static const struct {
	const char *word;
	enum menu_field field;
} keywords[] = {
	{ "timeout", F_TIMEOUT },  { "default", F_DEFAULT },
	{ "label", F_LABEL },      { "menu label", F_MENU_LABEL },
	{ "linux", F_KERNEL },     { "kernel", F_KERNEL },
	{ "initrd", F_INITRD },    { "fdt", F_FDT },
	{ "devicetree", F_FDT },   { "fdtdir", F_FDTDIR },
	{ "devicetreedir", F_FDTDIR }, { "append", F_APPEND },
};

static char **field_of(struct extlinux_menu *m, enum menu_field f)
{
	char **fields[] = { &m->timeout, &m->default_name, &m->label,
			    &m->menu_label, &m->kernel, &m->initrd, &m->fdt,
			    &m->fdtdir, &m->append };

	return fields[f];
}

/* The keyword `line` starts with (a word, then a blank or its end), and
 * where its value starts; -1 when it is none of ours. */
static int keyword_at(const char *line, size_t len, const char **value)
{
	for (size_t i = 0; i < sizeof(keywords) / sizeof(*keywords); i++) {
		size_t n = strlen(keywords[i].word);

		if (n <= len && strncasecmp(line, keywords[i].word, n) == 0 &&
		    (n == len || strchr(BLANKS, line[n]))) {
			*value = line + n + strspn(line + n, BLANKS);
			return (int)keywords[i].field;
		}
	}
	return -1;
}

/* One line (without its newline); *labels counts the LABELs so far. */
static int parse_line(const char *line, size_t len, int *labels,
		      struct extlinux_menu *m)
{
	const char *value, *end = line + len;
	char **slot;
	int f;

	line += strspn(line, BLANKS);
	while (end > line && strchr(BLANKS "\r", end[-1]))
		end--;
	if (line >= end || *line == '#')
		return 0;
	f = keyword_at(line, (size_t)(end - line), &value);
	if (f == F_LABEL)
		(*labels)++;
	if (f < 0 || (f != F_TIMEOUT && f != F_DEFAULT && *labels != 1))
		return 0;
	slot = field_of(m, (enum menu_field)f);
	free(*slot);
	*slot = mk_strndup(value, (size_t)(end - value));
	return *slot ? 0 : -1;
}

int extlinux_parse(const char *text, struct extlinux_menu *m)
{
	int labels = 0;

	memset(m, 0, sizeof(*m));
	while (*text) {
		size_t len = strcspn(text, "\n");

		if (parse_line(text, len, &labels, m)) {
			extlinux_menu_free(m);
			return -1;
		}
		text += len + (text[len] == '\n');
	}
	return 0;
}

void extlinux_menu_free(struct extlinux_menu *m)
{
	for (int f = F_TIMEOUT; f <= F_APPEND; f++)
		free(*field_of(m, (enum menu_field)f));
	memset(m, 0, sizeof(*m));
}
