/*
 * gpt.h - GUID Partition Table encoding and decoding (UEFI spec,
 * chapter 5).
 *
 * Owns: the bytes of the protective MBR, the primary and backup GPT
 * headers and partition entry arrays, both ways (encoding ours; decoding
 * and checking any GPT: signature, sizes, both CRCs, where each header
 * says it is), the names of well-known partition types, and conversion
 * of GUIDs between text, RFC 9562 byte order and the mixed-endian order
 * GPT stores.  Does not own: choosing where partitions go or which GUIDs
 * they get (layout.c), nor reading or writing sectors of a file
 * (image.c, inspect.c).
 *
 * Only 512-byte sectors are supported, and ours have the usual 128
 * entries of 128 bytes: that is what an SD card and the R2S boot ROM
 * expect.  The decoder takes any entry count and size the spec allows.
 */
#ifndef MK_GPT_H
#define MK_GPT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define GPT_SECTOR_SIZE 512
#define GPT_ENTRY_COUNT 128
#define GPT_ENTRY_SIZE 128
#define GPT_ENTRY_ARRAY_SECTORS 32 /* 128 * 128 / 512 */
#define GPT_PRIMARY_SECTORS 34     /* MBR + header + entries */
#define GPT_BACKUP_SECTORS 33      /* entries + header */
#define GPT_MAX_PARTS 4

/* Smallest disk with at least one usable sector between the tables. */
#define GPT_MIN_TOTAL_SECTORS (GPT_PRIMARY_SECTORS + GPT_BACKUP_SECTORS + 1)

/* UEFI spec 5.3.3: attribute bit 2, read by U-Boot's distro boot. */
#define GPT_ATTR_LEGACY_BIOS_BOOTABLE (1ULL << 2)

/* Partition type GUIDs (Discoverable Partitions Specification). */
#define GPT_TYPE_LINUX_FS "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
#define GPT_TYPE_ROOT_ARM64 "B921B045-1DF0-41C3-AF44-4C6F280D3FAE"

#define GPT_GUID_SIZE 16
#define GPT_GUID_TEXT_LEN 36 /* "XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX" */
#define GPT_NAME_MAX 36      /* UTF-16 code units in an entry's name */

struct gpt_part {
	uint8_t type_guid[GPT_GUID_SIZE];   /* RFC 9562 order, as text reads */
	uint8_t unique_guid[GPT_GUID_SIZE]; /* RFC 9562 byte order */
	uint64_t first_lba;
	uint64_t last_lba; /* inclusive */
	uint64_t attributes;
	char name[GPT_NAME_MAX + 1]; /* ASCII; stored as UTF-16LE */
};

struct gpt_disk {
	uint64_t total_sectors;             /* of 512 bytes, whole image */
	uint8_t disk_guid[GPT_GUID_SIZE];   /* RFC 9562 byte order */
	size_t nparts;
	struct gpt_part parts[GPT_MAX_PARTS];
};

/*
 * Parses "0FC63DAF-8483-4772-8E79-3D69D8477DE4" (any case, nothing
 * before or after) into RFC 9562 byte order.  Returns 0 or -1.
 */
int gpt_guid_parse(const char *text, uint8_t guid[GPT_GUID_SIZE]);

/* Formats an RFC-order GUID as 36 upper-case characters plus NUL. */
void gpt_guid_format(const uint8_t guid[GPT_GUID_SIZE],
		     char text[GPT_GUID_TEXT_LEN + 1]);

/*
 * RFC byte order -> the mixed-endian order GPT stores on disk (first
 * three fields little-endian), and back: the swap is its own inverse.
 * `out` may be `guid`.
 */
void gpt_guid_to_disk(const uint8_t guid[GPT_GUID_SIZE],
		      uint8_t out[GPT_GUID_SIZE]);

/*
 * Encodes LBA 0..33 (protective MBR, primary header at LBA 1, entries
 * at LBA 2..33) into primary[GPT_PRIMARY_SECTORS * GPT_SECTOR_SIZE],
 * and the last 33 sectors (backup entries at total-33..total-2, backup
 * header at total-1) into backup[GPT_BACKUP_SECTORS * GPT_SECTOR_SIZE].
 * Both buffers are zeroed first, so every byte is deterministic.
 * Returns 0, or -1 with a one-line message in `e` when the disk is too
 * small or a partition is out of range, overlaps another, has a zero
 * type GUID, or has a name longer than 36 characters or not ASCII.
 */
int gpt_encode(const struct gpt_disk *d, uint8_t *primary, uint8_t *backup,
	       struct mk_err *e);

/* LBA of the backup header and of the backup entry array. */
#define GPT_BACKUP_HEADER_LBA(total_sectors) ((total_sectors) - 1)
#define GPT_BACKUP_ENTRIES_LBA(total_sectors) \
	((total_sectors) - GPT_BACKUP_SECTORS)

/* ---- decoding any GPT --------------------------------------------- */

#define GPT_MBR_RECORDS 4
#define GPT_MBR_TYPE_PROTECTIVE 0xEE
#define GPT_ENTRIES_MAX_BYTES (1u << 20) /* more is not a GPT we read */
/* A name of 36 UTF-16 code units as UTF-8: at most 3 bytes per unit. */
#define GPT_NAME_UTF8_MAX (GPT_NAME_MAX * 3)

struct gpt_mbr_record {
	int boot;           /* boot indicator 0x80 */
	uint8_t type;       /* OS type; 0: unused */
	uint32_t first_lba; /* StartingLBA */
	uint32_t sectors;   /* SizeInLBA */
};

struct gpt_mbr {
	int signature;      /* 0xAA55 at byte 510 */
	int protective;     /* a record of type 0xEE */
	struct gpt_mbr_record records[GPT_MBR_RECORDS];
};

/* Decodes LBA 0 (an MBR, protective or not). */
void gpt_decode_mbr(const uint8_t sector[GPT_SECTOR_SIZE], struct gpt_mbr *m);

struct gpt_header_info {
	uint32_t header_size;      /* bytes its CRC covers (92..512) */
	uint32_t revision;         /* 0x00010000 for UEFI 2.x */
	uint32_t reserved;         /* zero in any header written right */
	uint64_t my_lba;           /* where the header says it is */
	uint64_t alternate_lba;    /* where the other header is */
	uint64_t first_usable_lba;
	uint64_t last_usable_lba;
	uint64_t entries_lba;      /* start of this copy's entry array */
	uint32_t entry_count;
	uint32_t entry_size;
	uint32_t entries_crc;      /* as stored */
	uint8_t disk_guid[GPT_GUID_SIZE]; /* RFC 9562 byte order */
};

/*
 * Decodes the header sector read at `lba`.  0, or -1 with why it is no
 * valid header: no "EFI PART", a header size outside 92..512, a header
 * CRC that does not match, a MyLBA other than `lba`, or an entry
 * geometry outside the spec (entries of 128 << n bytes, at most
 * GPT_ENTRIES_MAX_BYTES in all).  The one parser of header bytes.
 */
int gpt_decode_header(const uint8_t sector[GPT_SECTOR_SIZE], uint64_t lba,
		      struct gpt_header_info *h, struct mk_err *e);

/* Bytes of the header's entry array (whole sectors). */
size_t gpt_entries_bytes(const struct gpt_header_info *h);

/* The CRC32 of the entry array (entry_count * entry_size bytes at
 * `entries`), and 1 when it is the header's, else 0. */
uint32_t gpt_entries_crc(const struct gpt_header_info *h,
			 const uint8_t *entries);
int gpt_entries_crc_ok(const struct gpt_header_info *h,
		       const uint8_t *entries);

struct gpt_entry_info {
	uint8_t type_guid[GPT_GUID_SIZE];   /* RFC 9562 byte order */
	uint8_t unique_guid[GPT_GUID_SIZE]; /* RFC 9562 byte order */
	uint64_t first_lba, last_lba;       /* last inclusive */
	uint64_t attributes;
	char name[GPT_NAME_UTF8_MAX + 1];   /* UTF-8 (U+FFFD for an unpaired
					       surrogate) */
};

/* Decodes entry `i` of the array: 1 when used (non-zero type GUID), 0
 * when the slot is free. */
int gpt_decode_entry(const struct gpt_header_info *h, const uint8_t *entries,
		     uint32_t i, struct gpt_entry_info *out);

/* The name sgdisk gives a partition type GUID, or NULL when unknown. */
const char *gpt_type_name(const uint8_t type_guid[GPT_GUID_SIZE]);

/* ---- decoding what gpt_encode writes ----------------------------- */

/*
 * Decodes one GPT copy of a disk of `total_sectors` as gpt_encode would
 * have written it: `header` is its header sector, read at LBA `my_lba`
 * (1 for the primary, GPT_BACKUP_HEADER_LBA for the backup), and
 * `entries` the GPT_ENTRY_ARRAY_SECTORS sectors where gpt_encode puts
 * that copy's array (LBA 2, or GPT_BACKUP_ENTRIES_LBA).  The bytes are
 * read by gpt_decode_header and gpt_decode_entry; on top of their checks
 * every value in the header must be the one gpt_encode writes for such
 * a disk (header size, revision, reserved field, LBAs, entry geometry),
 * the array's CRC must match, and at most GPT_MAX_PARTS entries may be
 * used.  Fills `d` with them in slot order (each character of a name
 * outside ASCII read as '?').  0, or -1 with the first problem in `e`
 * (not naming the copy: the caller knows which it read).
 */
int gpt_decode(const uint8_t *header, const uint8_t *entries,
	       uint64_t my_lba, uint64_t total_sectors, struct gpt_disk *d,
	       struct mk_err *e);

/*
 * Reports, through `diffs`, each way `got` differs from `want`: the disk
 * GUID, the number of partitions, and per partition its type, GUID,
 * first and last LBA, attributes and name, each a line starting with
 * `what` ("GPT", "GPT backup", ...) and numbering partitions from 1.
 */
void gpt_compare(const struct gpt_disk *got, const struct gpt_disk *want,
		 const char *what, struct mk_diffs *diffs);

#endif
