/*
 * inspectfmt.c - inspect.h's report as text for people and as JSON.
 *
 * Owns: both renderings of a struct inspect_report, and escaping the
 * bytes an image may hold (labels, names, variables, extlinux lines):
 * valid UTF-8 is kept, control characters and invalid bytes are shown
 * escaped, so the text stays one line per item and the JSON is always
 * valid.  The JSON fields and their meaning are README's ("format": 1):
 * a field is only ever added, never renamed or given another meaning,
 * without raising "format".  Does not own: what the report says
 * (inspect.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "inspect.h"

#define JSON_FORMAT 1
#define UTF8_REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD, for an invalid byte */
#define ASCII_DEL 0x7F
#define HUMAN_MAX 32

/* ---- bytes as shown ------------------------------------------------ */

/* Length of the valid UTF-8 sequence (RFC 3629) at `s` of at most `n`
 * bytes, or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned char lo = 0x80, hi = 0xBF;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4;
	else
		return 0;
	/* Second bytes that would be overlong or a surrogate or > U+10FFFF. */
	if (s[0] == 0xE0)
		lo = 0xA0;
	else if (s[0] == 0xED)
		hi = 0x9F;
	else if (s[0] == 0xF0)
		lo = 0x90;
	else if (s[0] == 0xF4)
		hi = 0x8F;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return len;
}

/* `n` bytes at `s` as a JSON string literal. */
static void json_strn(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (n > 0) {
		size_t len = utf8_len(p, n);

		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == ASCII_DEL)
			fprintf(f, "\\u%04x", *p);
		else if (len == 0)
			fputs("\\ufffd", f);
		else
			fwrite(p, 1, len, f);
		len = len ? len : 1;
		p += len;
		n -= len;
	}
	fputc('"', f);
}

/* `s` in JSON: a string literal, or null. */
static void json_str(FILE *f, const char *s)
{
	if (s)
		json_strn(f, s, strlen(s));
	else
		fputs("null", f);
}

/* `s` for a line of text: control characters and invalid bytes as
 * \n, \t, \xNN, as error messages show them. */
static void text_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	while (n > 0) {
		size_t len = utf8_len(p, n);

		if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (len == 0 || *p < 0x20 || *p == ASCII_DEL)
			fprintf(f, "\\x%02x", *p);
		else
			fwrite(p, 1, len, f);
		len = len ? len : 1;
		p += len;
		n -= len;
	}
}

static const char *human(uint64_t bytes, char buf[HUMAN_MAX])
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(*units)) {
		v /= 1024.0;
		u++;
	}
	snprintf(buf, HUMAN_MAX, u ? "%.1f %s" : "%.0f %s", v, units[u]);
	return buf;
}

static void guid_text(const uint8_t *g, char out[GPT_GUID_TEXT_LEN + 1])
{
	gpt_guid_format(g, out);
}

/* blkid's form of a filesystem UUID: lower case. */
static void uuid_text(const uint8_t *u, char out[GPT_GUID_TEXT_LEN + 1])
{
	gpt_guid_format(u, out);
	for (char *p = out; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
}

static const char *kind_name(enum inspect_kind k)
{
	static const char *const names[] = {
		[INSPECT_MBR] = "mbr",
		[INSPECT_GPT_HEADER] = "gpt-header",
		[INSPECT_GPT_ENTRIES] = "gpt-entries",
		[INSPECT_PARTITION] = "partition",
		[INSPECT_IDBLOADER] = "idbloader",
		[INSPECT_FIT] = "fit",
		[INSPECT_ENV] = "uboot-env",
		[INSPECT_DATA] = "data",
		[INSPECT_EMPTY] = "empty",
		[INSPECT_FILL] = "fill",
		[INSPECT_UNSCANNED] = "unscanned",
	};
	return names[k];
}

static const char *form_name(enum imgread_form form)
{
	return form == IMGREAD_PLAIN ? "none" : imgread_form_name(form);
}

/* ---- JSON ---------------------------------------------------------- */

static void json_u64(FILE *f, const char *key, uint64_t v, int comma)
{
	fprintf(f, "\"%s\": %" PRIu64 "%s", key, v, comma ? ", " : "");
}

static void json_bool(FILE *f, const char *key, int v, int comma)
{
	fprintf(f, "\"%s\": %s%s", key, v ? "true" : "false",
		comma ? ", " : "");
}

static void json_key_str(FILE *f, const char *key, const char *v, int comma)
{
	fprintf(f, "\"%s\": ", key);
	json_str(f, v);
	if (comma)
		fputs(", ", f);
}

static void json_mbr(FILE *f, const struct gpt_mbr *m)
{
	int first = 1;

	fputs("  \"mbr\": {", f);
	json_bool(f, "boot_signature", m->signature, 1);
	json_bool(f, "protective", m->signature && m->protective, 1);
	fputs("\"records\": [", f);
	for (size_t i = 0; m->signature && i < GPT_MBR_RECORDS; i++) {
		const struct gpt_mbr_record *r = &m->records[i];

		if (r->type == 0)
			continue;
		fprintf(f, "%s{", first ? "" : ", ");
		json_u64(f, "number", i + 1, 1);
		json_bool(f, "bootable", r->boot, 1);
		json_u64(f, "type", r->type, 1);
		json_u64(f, "first_lba", r->first_lba, 1);
		json_u64(f, "sectors", r->sectors, 0);
		fputs("}", f);
		first = 0;
	}
	fputs("]},\n", f);
}

static void json_gpt_copy(FILE *f, const char *key, const struct inspect_gpt *g,
			  int comma)
{
	char guid[GPT_GUID_TEXT_LEN + 1];

	fprintf(f, "    \"%s\": {", key);
	json_u64(f, "lba", g->lba, 1);
	json_bool(f, "valid", g->valid, 1);
	json_bool(f, "entries_crc_ok", g->entries_ok, 1);
	json_key_str(f, "error", g->error[0] ? g->error : NULL, 1);
	if (g->valid) {
		guid_text(g->h.disk_guid, guid);
		json_key_str(f, "disk_guid", guid, 1);
		json_u64(f, "alternate_lba", g->h.alternate_lba, 1);
		json_u64(f, "first_usable_lba", g->h.first_usable_lba, 1);
		json_u64(f, "last_usable_lba", g->h.last_usable_lba, 1);
		json_u64(f, "entries_lba", g->h.entries_lba, 1);
		json_u64(f, "entry_count", g->h.entry_count, 1);
		json_u64(f, "entry_size", g->h.entry_size, 0);
	} else {
		fputs("\"disk_guid\": null, \"alternate_lba\": null, "
		      "\"first_usable_lba\": null, \"last_usable_lba\": null, "
		      "\"entries_lba\": null, \"entry_count\": null, "
		      "\"entry_size\": null", f);
	}
	fprintf(f, "}%s\n", comma ? "," : "");
}

static void json_gpt(FILE *f, const struct inspect_report *r)
{
	const struct inspect_gpt *g = r->primary.valid ? &r->primary
						       : &r->backup;
	char guid[GPT_GUID_TEXT_LEN + 1];

	if (!r->gpt) {
		fputs("  \"gpt\": null,\n", f);
		return;
	}
	guid_text(g->h.disk_guid, guid);
	fputs("  \"gpt\": {\n    ", f);
	json_key_str(f, "disk_guid", guid, 1);
	json_bool(f, "copies_agree", r->copies_agree, 1);
	fputs("\n", f);
	json_gpt_copy(f, "primary", &r->primary, 1);
	json_gpt_copy(f, "backup", &r->backup, 0);
	fputs("  },\n", f);
}

static void json_fs(FILE *f, const struct inspect_part *p)
{
	char uuid[GPT_GUID_TEXT_LEN + 1];
	const struct ext4info *fs = &p->fs;

	if (!p->has_fs) {
		fputs("null", f);
		return;
	}
	if (!p->fs_ok) {
		fputs("{\"type\": null, \"error\": ", f);
		json_str(f, p->fs_error);
		fputs("}", f);
		return;
	}
	uuid_text(fs->uuid, uuid);
	fputs("{", f);
	json_key_str(f, "type", fs->type, 1);
	json_key_str(f, "label", fs->label, 1);
	json_key_str(f, "uuid", uuid, 1);
	fputs("\"features\": [", f);
	for (size_t i = 0; i < fs->nfeatures; i++) {
		fputs(i ? ", " : "", f);
		json_str(f, fs->features[i]);
	}
	fputs("], ", f);
	json_u64(f, "block_size", fs->block_size, 1);
	json_u64(f, "blocks", fs->blocks, 1);
	json_u64(f, "free_blocks", fs->free_blocks, 1);
	json_u64(f, "used_blocks", fs->blocks - fs->free_blocks, 1);
	json_u64(f, "inodes", fs->inodes, 1);
	json_u64(f, "free_inodes", fs->free_inodes, 1);
	json_u64(f, "used_inodes", fs->inodes - fs->free_inodes, 1);
	fputs("\"error\": null}", f);
}

static void json_partitions(FILE *f, const struct inspect_report *r)
{
	char guid[GPT_GUID_TEXT_LEN + 1];

	fputs("  \"partitions\": [", f);
	for (size_t i = 0; i < r->nparts; i++) {
		const struct inspect_part *p = &r->parts[i];

		fprintf(f, "%s\n    {", i ? "," : "");
		json_u64(f, "number", p->number, 1);
		json_u64(f, "first_lba", p->e.first_lba, 1);
		json_u64(f, "last_lba", p->e.last_lba, 1);
		json_u64(f, "start", p->e.first_lba * INSPECT_SECTOR, 1);
		json_u64(f, "size", p->e.last_lba >= p->e.first_lba
			 ? (p->e.last_lba - p->e.first_lba + 1) * INSPECT_SECTOR
			 : 0, 1);
		guid_text(p->e.type_guid, guid);
		json_key_str(f, "type_guid", guid, 1);
		json_key_str(f, "type", p->type_name, 1);
		json_key_str(f, "name", p->e.name, 1);
		guid_text(p->e.unique_guid, guid);
		json_key_str(f, "guid", guid, 1);
		json_u64(f, "attributes", p->e.attributes, 1);
		json_bool(f, "legacy_bios_bootable",
			  (p->e.attributes & GPT_ATTR_LEGACY_BIOS_BOOTABLE) != 0,
			  1);
		fputs("\"filesystem\": ", f);
		json_fs(f, p);
		fputs("}", f);
	}
	fputs(r->nparts ? "\n  ],\n" : "],\n", f);
}

static void json_regions(FILE *f, const struct inspect_report *r)
{
	fputs("  \"regions\": [", f);
	for (size_t i = 0; i < r->nregions; i++) {
		const struct inspect_region *g = &r->regions[i];
		int gpt = g->kind == INSPECT_GPT_HEADER ||
			  g->kind == INSPECT_GPT_ENTRIES;

		fprintf(f, "%s\n    {", i ? "," : "");
		json_u64(f, "first_lba", g->first, 1);
		json_u64(f, "last_lba", g->last, 1);
		json_u64(f, "start", g->first * INSPECT_SECTOR, 1);
		json_u64(f, "size", (g->last - g->first + 1) * INSPECT_SECTOR, 1);
		json_key_str(f, "kind", kind_name(g->kind), 1);
		if (g->kind == INSPECT_PARTITION)
			json_u64(f, "partition", r->parts[g->index].number, 1);
		if (gpt)
			json_key_str(f, "copy", g->backup ? "backup" : "primary",
				     1);
		json_key_str(f, "detail", g->detail[0] ? g->detail : NULL, 0);
		fputs("}", f);
	}
	fputs("\n  ],\n", f);
}

static void json_vars(FILE *f, const struct ubootenv *env)
{
	int first = 1;

	fputs("\"variables\": [", f);
	for (const char *p = env->text; p && *p; p += strlen(p) + 1) {
		const char *eq = strchr(p, '=');

		fputs(first ? "{\"name\": " : ", {\"name\": ", f);
		json_strn(f, p, eq ? (size_t)(eq - p) : strlen(p));
		fputs(", ", f);
		json_key_str(f, "value", eq ? eq + 1 : NULL, 0);
		fputs("}", f);
		first = 0;
	}
	fputs("]", f);
}

static void json_env(FILE *f, const struct inspect_report *r)
{
	int in_use = 0;

	if (r->nenvs == 0) {
		fputs("  \"uboot_env\": null,\n", f);
		return;
	}
	for (size_t i = 0; i < r->nenvs; i++)
		in_use |= r->envs[i].in_use;
	fputs("  \"uboot_env\": {", f);
	json_u64(f, "size", r->env_size, 1);
	json_bool(f, "redundant", r->env_redundant, 1);
	json_bool(f, "valid", in_use, 1);
	fputs("\"copies\": [", f);
	for (size_t i = 0; i < r->nenvs; i++) {
		const struct inspect_env *v = &r->envs[i];

		fprintf(f, "%s\n    {", i ? "," : "");
		json_u64(f, "offset", v->offset, 1);
		json_bool(f, "inside", v->inside, 1);
		if (v->partition)
			json_u64(f, "partition", v->partition, 1);
		else
			fputs("\"partition\": null, ", f);
		json_key_str(f, "content", v->content, 1);
		json_bool(f, "valid", v->saved.valid, 1);
		json_bool(f, "in_use", v->in_use, 1);
		if (v->inside) {
			json_u64(f, "crc_stored", v->saved.crc_stored, 1);
			json_u64(f, "crc_computed", v->saved.crc_computed, 1);
		} else {
			fputs("\"crc_stored\": null, \"crc_computed\": null, ", f);
		}
		if (v->saved.flags >= 0)
			json_u64(f, "flags", (uint64_t)v->saved.flags, 1);
		else
			fputs("\"flags\": null, ", f);
		json_vars(f, &v->saved.env);
		fputs("}", f);
	}
	fputs("\n  ]},\n", f);
}

static void json_extlinux(FILE *f, const struct inspect_extlinux *x)
{
	const struct extlinux_menu *m = &x->menu;

	if (!x->found) {
		fputs("  \"extlinux\": null\n", f);
		return;
	}
	fputs("  \"extlinux\": {", f);
	json_u64(f, "partition", x->partition, 1);
	json_key_str(f, "path", x->path, 1);
	json_key_str(f, "timeout", m->timeout, 1);
	json_key_str(f, "default", m->default_name, 1);
	json_key_str(f, "label", m->label, 1);
	json_key_str(f, "menu_label", m->menu_label, 1);
	json_key_str(f, "linux", m->kernel, 1);
	json_key_str(f, "initrd", m->initrd, 1);
	json_key_str(f, "fdt", m->fdt, 1);
	json_key_str(f, "fdtdir", m->fdtdir, 1);
	json_key_str(f, "append", m->append, 0);
	fputs("}\n", f);
}

int inspect_print_json(const struct inspect_report *r, FILE *f)
{
	fprintf(f, "{\n  \"format\": %d,\n  ", JSON_FORMAT);
	json_key_str(f, "image", r->image, 1);
	json_key_str(f, "compression", form_name(r->form), 1);
	json_u64(f, "size", r->size, 1);
	json_u64(f, "sector_size", INSPECT_SECTOR, 0);
	fputs(",\n", f);
	json_mbr(f, &r->mbr);
	json_gpt(f, r);
	json_partitions(f, r);
	json_regions(f, r);
	json_env(f, r);
	json_extlinux(f, &r->extlinux);
	fputs("}\n", f);
	return ferror(f) ? -1 : 0;
}

/* ---- text ---------------------------------------------------------- */

static void text_tables(FILE *f, const struct inspect_report *r)
{
	const struct inspect_gpt *copies[] = { &r->primary, &r->backup };
	const char *names[] = { "primary", "backup" };
	char guid[GPT_GUID_TEXT_LEN + 1];

	if (r->mbr.signature)
		fprintf(f, "MBR: %s", r->mbr.protective
			? "protective (a GPT disk)" : "a DOS partition table");
	else
		fputs("MBR: none (no boot signature)", f);
	for (size_t i = 0; r->mbr.signature && i < GPT_MBR_RECORDS; i++) {
		const struct gpt_mbr_record *m = &r->mbr.records[i];

		if (m->type)
			fprintf(f, "; record %zu: type 0x%02X, LBA %u, %u sectors%s",
				i + 1, m->type, m->first_lba, m->sectors,
				m->boot ? ", bootable" : "");
	}
	fputs("\n", f);
	if (!r->gpt) {
		fputs("GPT: none\n", f);
		return;
	}
	guid_text((r->primary.valid ? &r->primary : &r->backup)->h.disk_guid,
		  guid);
	fprintf(f, "GPT: disk GUID %s; %s\n", guid,
		r->copies_agree ? "both copies valid and alike"
				: "the copies DIFFER or one is damaged");
	for (size_t i = 0; i < 2; i++) {
		const struct inspect_gpt *g = copies[i];

		fprintf(f, "  %s header at LBA %" PRIu64 ": ", names[i], g->lba);
		if (g->valid && g->entries_ok)
			fprintf(f, "valid, %u entries of %u bytes at LBA %"
				PRIu64 ", CRCs right\n", g->h.entry_count,
				g->h.entry_size, g->h.entries_lba);
		else
			fprintf(f, "NOT valid: %s\n", g->error);
	}
}

static void text_region(FILE *f, const struct inspect_report *r,
			const struct inspect_region *g)
{
	static const char *const what[] = {
		[INSPECT_MBR] = "MBR",
		[INSPECT_GPT_HEADER] = "GPT header",
		[INSPECT_GPT_ENTRIES] = "GPT entries",
		[INSPECT_PARTITION] = "partition",
		[INSPECT_IDBLOADER] = "Rockchip idbloader",
		[INSPECT_FIT] = "FIT image (u-boot.itb)",
		[INSPECT_ENV] = "U-Boot saved environment",
		[INSPECT_DATA] = "unknown data",
		[INSPECT_EMPTY] = "empty (zeros)",
		[INSPECT_FILL] = "padding (0xFF)",
		[INSPECT_UNSCANNED] = "not read (past 64 MiB of this gap)",
	};
	char range[48], size[HUMAN_MAX];

	if (g->first == g->last)
		snprintf(range, sizeof(range), "%" PRIu64, g->first);
	else
		snprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64,
			 g->first, g->last);
	fprintf(f, "  %-22s %10s  %s", range,
		human((g->last - g->first + 1) * INSPECT_SECTOR, size),
		what[g->kind]);
	if (g->kind == INSPECT_GPT_HEADER || g->kind == INSPECT_GPT_ENTRIES)
		fprintf(f, " (%s)", g->backup ? "backup" : "primary");
	if (g->kind == INSPECT_PARTITION) {
		fprintf(f, " %u \"", r->parts[g->index].number);
		text_str(f, r->parts[g->index].e.name);
		fputs("\"", f);
	}
	if (g->kind == INSPECT_ENV) {
		const struct inspect_env *v = &r->envs[g->index];

		fputs(v->saved.valid ? ": VALID" : ": none", f);
		if (r->env_redundant)
			fprintf(f, " (copy %zu)", g->index + 1);
	}
	if (g->detail[0])
		fprintf(f, ": %s", g->detail);
	fputs("\n", f);
}

static void text_fs(FILE *f, const struct inspect_part *p)
{
	const struct ext4info *fs = &p->fs;
	char uuid[GPT_GUID_TEXT_LEN + 1];

	if (!p->has_fs)
		return;
	if (!p->fs_ok) {
		fputs("  ext2/3/4 superblock, but unreadable: ", f);
		text_str(f, p->fs_error);
		fputs("\n", f);
		return;
	}
	uuid_text(fs->uuid, uuid);
	fprintf(f, "  %s, label \"", fs->type);
	text_str(f, fs->label);
	fprintf(f, "\", UUID %s, %u-byte blocks\n", uuid, fs->block_size);
	fprintf(f, "  blocks %" PRIu64 ": %" PRIu64 " used, %" PRIu64
		" free; inodes %" PRIu64 ": %" PRIu64 " used, %" PRIu64
		" free\n", fs->blocks, fs->blocks - fs->free_blocks,
		fs->free_blocks, fs->inodes, fs->inodes - fs->free_inodes,
		fs->free_inodes);
	fputs("  features:", f);
	for (size_t i = 0; i < fs->nfeatures; i++)
		fprintf(f, " %s", fs->features[i]);
	fputs("\n", f);
}

static void text_partition(FILE *f, const struct inspect_part *p)
{
	char guid[GPT_GUID_TEXT_LEN + 1], size[HUMAN_MAX];
	uint64_t sectors = p->e.last_lba >= p->e.first_lba
				   ? p->e.last_lba - p->e.first_lba + 1 : 0;

	fprintf(f, "\nPartition %u \"", p->number);
	text_str(f, p->e.name);
	fprintf(f, "\": LBA %" PRIu64 "-%" PRIu64 " (%s)\n", p->e.first_lba,
		p->e.last_lba, human(sectors * INSPECT_SECTOR, size));
	guid_text(p->e.type_guid, guid);
	fprintf(f, "  type %s (%s)\n", guid,
		p->type_name ? p->type_name : "unknown");
	guid_text(p->e.unique_guid, guid);
	fprintf(f, "  GUID %s, attributes 0x%" PRIx64 "%s\n", guid,
		p->e.attributes,
		p->e.attributes & GPT_ATTR_LEGACY_BIOS_BOOTABLE
			? " (legacy BIOS bootable)" : "");
	text_fs(f, p);
}

static void text_vars(FILE *f, const struct ubootenv *env)
{
	for (const char *p = env->text; p && *p; p += strlen(p) + 1) {
		fputs("    ", f);
		text_str(f, p);
		fputs("\n", f);
	}
}

static void text_env(FILE *f, const struct inspect_report *r)
{
	char size[HUMAN_MAX];
	int in_use = 0;

	if (r->nenvs == 0)
		return;
	for (size_t i = 0; i < r->nenvs; i++)
		in_use |= r->envs[i].in_use;
	fprintf(f, "\nU-Boot saved environment (%s%s): %s\n",
		human(r->env_size, size),
		r->env_redundant ? ", redundant" : "",
		in_use ? "VALID: U-Boot loads it instead of its built-in default"
		       : "none valid: U-Boot uses its built-in default");
	for (size_t i = 0; i < r->nenvs; i++) {
		const struct inspect_env *v = &r->envs[i];

		fprintf(f, "  at 0x%" PRIX64 ": ", v->offset);
		if (!v->inside) {
			fputs("past the end of the image\n", f);
			continue;
		}
		fprintf(f, "%s, CRC32 stored 0x%08X, computed 0x%08X",
			v->content, v->saved.crc_stored, v->saved.crc_computed);
		if (v->saved.flags >= 0)
			fprintf(f, ", flags %d", v->saved.flags);
		if (v->partition)
			fprintf(f, ", inside partition %u", v->partition);
		fprintf(f, "%s\n", v->saved.valid
			? (v->in_use ? "; valid, in use:" : "; valid, not used:")
			: "; not valid");
		text_vars(f, &v->saved.env);
	}
}

static void text_line(FILE *f, const char *key, const char *value)
{
	if (!value)
		return;
	fprintf(f, "  %-8s ", key);
	text_str(f, value);
	fputs("\n", f);
}

static void text_extlinux(FILE *f, const struct inspect_extlinux *x)
{
	const struct extlinux_menu *m = &x->menu;

	if (!x->found) {
		fputs("\nextlinux.conf: none found\n", f);
		return;
	}
	fprintf(f, "\nextlinux.conf (partition %u, %s), first entry:\n",
		x->partition, x->path);
	text_line(f, "TIMEOUT", m->timeout);
	text_line(f, "DEFAULT", m->default_name);
	text_line(f, "LABEL", m->label);
	text_line(f, "MENU", m->menu_label);
	text_line(f, "LINUX", m->kernel);
	text_line(f, "INITRD", m->initrd);
	text_line(f, "FDT", m->fdt);
	text_line(f, "FDTDIR", m->fdtdir);
	text_line(f, "APPEND", m->append);
}

int inspect_print_text(const struct inspect_report *r, FILE *f)
{
	char size[HUMAN_MAX];

	text_str(f, r->image);
	fprintf(f, ": %s%s, %s (%" PRIu64 " bytes, %" PRIu64
		" sectors of %u bytes)\n",
		r->form == IMGREAD_PLAIN ? "" : imgread_form_name(r->form),
		r->form == IMGREAD_PLAIN ? "plain image" : "-compressed image",
		human(r->size, size), r->size, r->sectors, INSPECT_SECTOR);
	text_tables(f, r);
	fprintf(f, "\n  %-22s %10s  %s\n", "LBA", "size", "what");
	for (size_t i = 0; i < r->nregions; i++)
		text_region(f, r, &r->regions[i]);
	for (size_t i = 0; i < r->nparts; i++)
		text_partition(f, &r->parts[i]);
	text_env(f, r);
	text_extlinux(f, &r->extlinux);
	return ferror(f) ? -1 : 0;
}
