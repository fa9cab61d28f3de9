/*
 * gpt.h - GUID Partition Table encoding (UEFI spec, chapter 5).
 *
 * Owns: the bytes of the protective MBR, the primary and backup GPT
 * headers and partition entry arrays (encoding them, and decoding and
 * validating what an image holds), and conversion of GUIDs between
 * text, RFC 9562 byte order and the mixed-endian order GPT stores.
 * Does not own: choosing where partitions go or which GUIDs they get
 * (layout.c), nor writing the encoded sectors to a file (image.c).
 *
 * Only 512-byte sectors and the usual 128 entries of 128 bytes are
 * supported: that is what an SD card and the R2S boot ROM expect.
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

/*
 * Decodes one GPT copy of a disk of `total_sectors`: `header` is its
 * header sector, read at LBA `my_lba` (1 for the primary,
 * GPT_BACKUP_HEADER_LBA for the backup), and `entries` the
 * GPT_ENTRY_ARRAY_SECTORS sectors where gpt_encode puts that copy's
 * array (LBA 2, or GPT_BACKUP_ENTRIES_LBA).  Checks the signature,
 * revision, header size, both CRCs, the reserved field, and that every
 * LBA and size in the header is the one gpt_encode writes for such a
 * disk; then fills `d` with the used entries in slot order (names
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
