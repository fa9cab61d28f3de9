/*
 * inspect.h - what an image (or a card read back) holds, behind
 * mkr2simg_inspect.
 *
 * Owns: the report of one image: the MBR, both GPT copies and whether
 * they are valid and agree, every sector accounted for as a region
 * (tables, partitions, and in the unpartitioned gaps: the Rockchip
 * idbloader at sector 64, a FIT at sector 16384, U-Boot's saved
 * environment, other data, zeros, 0xFF fill), each partition with its
 * filesystem, U-Boot's saved environment and the extlinux entry; and
 * the order in which they are read.  Does not own: any on-disk format
 * (gpt.c, ext4info.c, ubootenv.c, extlinux.c decode them), reading the
 * file (imgread.c), or printing (inspectfmt.c).
 */
#ifndef MK_INSPECT_H
#define MK_INSPECT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "ext4info.h"
#include "extlinux.h"
#include "gpt.h"
#include "imgread.h"
#include "layout.h"
#include "mkr2simg.h"
#include "ubootenv.h"

#define INSPECT_SECTOR LAYOUT_SECTOR
/* Where the RK3328 boot ROM and SPL look (layout.h's). */
#define INSPECT_IDBLOADER_LBA LAYOUT_IDBLOADER_SECTOR
#define INSPECT_FIT_LBA LAYOUT_UBOOT_ITB_SECTOR
/* Zeros or fill shorter than this between two data runs are part of
 * the data (alignment inside a bootloader), 1 MiB. */
#define INSPECT_MERGE_SECTORS 2048u
/* Of each gap between partitions, at most this much is read (a card's
 * unpartitioned tail may be gigabytes of old data), 64 MiB. */
#define INSPECT_SCAN_SECTORS (64u * 2048u)
#define INSPECT_DETAIL_MAX 80
#define INSPECT_MAX_ENVS 2
#define INSPECT_EXTLINUX_MAX (1u << 20)

enum inspect_kind {
	INSPECT_MBR,         /* LBA 0 */
	INSPECT_GPT_HEADER,  /* a GPT header */
	INSPECT_GPT_ENTRIES, /* a GPT entry array */
	INSPECT_PARTITION,   /* a partition */
	INSPECT_IDBLOADER,   /* Rockchip idbloader at sector 64 */
	INSPECT_FIT,         /* a FIT (u-boot.itb) at sector 16384 */
	INSPECT_ENV,         /* U-Boot's saved environment range */
	INSPECT_DATA,        /* other non-zero bytes: unknown */
	INSPECT_EMPTY,       /* zeros */
	INSPECT_FILL,        /* 0xFF bytes (binman's padding) */
	INSPECT_UNSCANNED,   /* past INSPECT_SCAN_SECTORS of a gap */
};

struct inspect_region {
	uint64_t first, last;   /* LBAs, inclusive */
	enum inspect_kind kind;
	int backup;             /* GPT kinds: the backup copy */
	size_t index;           /* PARTITION: into parts; ENV: into envs */
	char detail[INSPECT_DETAIL_MAX]; /* idbloader/FIT: what is known */
};

struct inspect_gpt {
	uint64_t lba;            /* where the header was looked for */
	int looked;              /* 0: nowhere to look (past the end) */
	int valid;               /* header decoded, CRC right */
	int entries_ok;          /* entry array CRC right */
	char error[MK_ERR_MAX];  /* why not, when not */
	struct gpt_header_info h;
	uint8_t *entries;        /* the array (gpt_entries_bytes), or NULL */
};

struct inspect_part {
	struct gpt_entry_info e;
	uint32_t number;         /* entry index + 1, as sgdisk numbers */
	const char *type_name;   /* gpt_type_name, or NULL */
	int has_fs;              /* an ext2/3/4 superblock is there */
	int fs_ok;               /* and libext2fs read it */
	struct ext4info fs;
	char fs_error[MK_ERR_MAX];
};

struct inspect_env {
	uint64_t offset;         /* bytes */
	int inside;              /* within the image */
	uint32_t partition;      /* number of a partition it overlaps, 0 */
	const char *content;     /* "zeros", "fill", "data" */
	int in_use;              /* the copy U-Boot would load */
	struct ubootenv_saved saved;
};

struct inspect_extlinux {
	int found;
	uint32_t partition;      /* number of the partition holding it */
	const char *path;        /* inside that filesystem */
	struct extlinux_menu menu;
};

struct inspect_report {
	const char *image;
	enum imgread_form form;
	uint64_t size;           /* bytes of the plain image */
	uint64_t sectors;        /* whole sectors of it */
	struct gpt_mbr mbr;
	struct inspect_gpt primary, backup;
	int gpt;                 /* a GPT was found (either copy valid) */
	int copies_agree;        /* both valid and describing one disk */
	struct inspect_part *parts;
	size_t nparts;
	struct inspect_region *regions; /* by first LBA */
	size_t nregions, cap;
	uint64_t env_size;       /* 0: not looked for */
	int env_redundant;
	struct inspect_env envs[INSPECT_MAX_ENVS];
	size_t nenvs;
	struct inspect_extlinux extlinux;
};

/* Reads `o->image` into `r`.  0, or -1 with one line naming the image
 * (unreadable, not a disk image, a damaged compressed stream). */
int inspect_image(const struct mkr2simg_inspect_options *o,
		  struct inspect_report *r, struct mk_err *e);

void inspect_free(struct inspect_report *r);

/* The report as text for people, or as JSON ("format": 1, README). */
int inspect_print_text(const struct inspect_report *r, FILE *out);
int inspect_print_json(const struct inspect_report *r, FILE *out);

#endif
