/*
 * gpt.c - protective MBR and GPT headers/entries, byte for byte.
 *
 * The on-disk structures below follow the UEFI specification, chapter 5
 * ("GUID Partition Table (GPT) Disk Layout").  Multi-byte integers on
 * disk are little-endian; every store goes through htole16/32/64 so the
 * encoder gives the same bytes on any host.
 */
#include "gpt.h"
#include "util.h"

#include <endian.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

/* UEFI 5.2.2: BootIndicator of a bootable record (ours: 0). */
#define MBR_BOOT_INDICATOR 0x80
/* UEFI 5.2.1: the boot signature ending every MBR sector. */
#define MBR_SIGNATURE 0xAA55
/* UEFI 5.2.3: CHS of LBA 1 (cylinder 0, head 0, sector 2). */
#define MBR_PROTECTIVE_START_CHS 0x000200
/* UEFI 5.2.3: "not representable", which an SD card always is. */
#define MBR_PROTECTIVE_END_CHS 0xFFFFFF
/* UEFI 5.2.3: SizeInLBA saturates here for disks over 2 TiB. */
#define MBR_MAX_SIZE_IN_LBA 0xFFFFFFFFULL
#define MBR_BOOT_CODE_SIZE 440
#define MBR_CHS_SIZE 3

#define GPT_HEADER_SIGNATURE "EFI PART"
#define GPT_HEADER_SIGNATURE_SIZE 8
#define GPT_HEADER_REVISION_V1_00 0x00010000
/* UEFI 5.3.2: bytes covered by HeaderCRC32; the sector rest is zero. */
#define GPT_HEADER_SIZE 92

#define GPT_PMBR_LBA 0
#define GPT_PRIMARY_HEADER_LBA 1
#define GPT_PRIMARY_ENTRIES_LBA 2
#define GPT_FIRST_USABLE_LBA GPT_PRIMARY_SECTORS
#define GPT_ENTRY_ARRAY_BYTES (GPT_ENTRY_COUNT * GPT_ENTRY_SIZE)

/* Names are ASCII so that each char is one UTF-16 code unit. */
#define ASCII_MAX 0x7F
/* UTF-8: bytes from here on start a character; 0x80..0xBF continue one. */
#define UTF8_LEAD_MIN 0xC0

/* UEFI 5.2.2, Legacy MBR Partition Record. */
struct mbr_partition_record {
	uint8_t boot_indicator;             /* MBR_BOOT_INDICATOR or 0 */
	uint8_t starting_chs[MBR_CHS_SIZE]; /* head, sector|cyl hi, cyl lo */
	uint8_t os_type;                    /* GPT_MBR_TYPE_PROTECTIVE */
	uint8_t ending_chs[MBR_CHS_SIZE];   /* as starting_chs */
	uint32_t starting_lba;              /* first sector of the record */
	uint32_t size_in_lba;               /* sectors covered */
} __attribute__((packed));

/* UEFI 5.2.3, Protective MBR. */
struct legacy_mbr {
	uint8_t boot_code[MBR_BOOT_CODE_SIZE]; /* unused by UEFI; zero */
	uint32_t unique_mbr_signature;         /* unused; zero */
	uint16_t unknown;                      /* unused; zero */
	struct mbr_partition_record
		partition_record[GPT_MBR_RECORDS]; /* one used */
	uint16_t signature;                              /* MBR_SIGNATURE */
} __attribute__((packed));

/* UEFI 5.3.2, GPT Header. */
struct gpt_header {
	char signature[GPT_HEADER_SIGNATURE_SIZE]; /* "EFI PART", no NUL */
	uint32_t revision;                    /* GPT_HEADER_REVISION_V1_00 */
	uint32_t header_size;                 /* GPT_HEADER_SIZE */
	uint32_t header_crc32;                /* of header_size bytes, self 0 */
	uint32_t reserved;                    /* must be zero */
	uint64_t my_lba;                      /* LBA of this header */
	uint64_t alternate_lba;               /* LBA of the other header */
	uint64_t first_usable_lba;            /* first sector for partitions */
	uint64_t last_usable_lba;             /* last sector for partitions */
	uint8_t disk_guid[GPT_GUID_SIZE];     /* mixed-endian on disk */
	uint64_t partition_entry_lba;         /* start of this copy's array */
	uint32_t number_of_partition_entries; /* GPT_ENTRY_COUNT */
	uint32_t size_of_partition_entry;     /* GPT_ENTRY_SIZE */
	uint32_t partition_entry_array_crc32; /* of count * size bytes */
} __attribute__((packed));

/* UEFI 5.3.3, GPT Partition Entry. */
struct gpt_entry {
	uint8_t partition_type_guid[GPT_GUID_SIZE];   /* zero = entry unused */
	uint8_t unique_partition_guid[GPT_GUID_SIZE]; /* mixed-endian */
	uint64_t starting_lba;                        /* first sector */
	uint64_t ending_lba;                          /* last sector, inclusive */
	uint64_t attributes;                          /* GPT_ATTR_* bits */
	uint16_t partition_name[GPT_NAME_MAX];        /* UTF-16LE, 0-padded */
} __attribute__((packed));

_Static_assert(sizeof(struct mbr_partition_record) == 16, "MBR record");
_Static_assert(sizeof(struct legacy_mbr) == GPT_SECTOR_SIZE, "MBR size");
_Static_assert(sizeof(struct gpt_header) == GPT_HEADER_SIZE, "header");
_Static_assert(sizeof(struct gpt_entry) == GPT_ENTRY_SIZE, "entry size");
_Static_assert(offsetof(struct legacy_mbr, partition_record) == 446,
	       "UEFI 5.2.1 offset");
_Static_assert(offsetof(struct gpt_header, disk_guid) == 56,
	       "UEFI 5.3.2 offset");
_Static_assert(offsetof(struct gpt_entry, partition_name) == 56,
	       "UEFI 5.3.3 offset");
_Static_assert(GPT_ENTRY_ARRAY_BYTES ==
		       GPT_ENTRY_ARRAY_SECTORS * GPT_SECTOR_SIZE,
	       "entry array sectors");
_Static_assert(GPT_PRIMARY_SECTORS ==
		       GPT_PRIMARY_ENTRIES_LBA + GPT_ENTRY_ARRAY_SECTORS,
	       "primary = MBR + header + entries");
_Static_assert(GPT_BACKUP_SECTORS == GPT_ENTRY_ARRAY_SECTORS + 1,
	       "backup = entries + header");

/*
 * Bytes per field of a GUID, in text and RFC 9562 order: time_low,
 * time_mid, time_hi_and_version, clock_seq, node.  The text form puts
 * a hyphen between fields; GPT stores the first GUID_LE_FIELDS of them
 * little-endian (UEFI Appendix A, EFI_GUID).
 */
static const unsigned guid_fields[] = { 4, 2, 2, 2, 6 };
#define GUID_FIELDS (sizeof(guid_fields) / sizeof(*guid_fields))
#define GUID_LE_FIELDS 3
#define GUID_SEPARATOR '-'
#define HEX_DIGIT_BITS 4
#define HEX_DIGIT_MASK 0x0F


/* Two hex digits -> 0..255, or -1; never reads past a NUL. */
static int hex_byte(const char *s)
{
	int hi = mk_hex_value(s[0]);
	int lo = hi < 0 ? -1 : mk_hex_value(s[1]);

	return lo < 0 ? -1 : (hi << HEX_DIGIT_BITS) | lo;
}

int gpt_guid_parse(const char *text, uint8_t guid[GPT_GUID_SIZE])
{
	uint8_t out[GPT_GUID_SIZE];
	const char *s = text;
	unsigned byte = 0;

	for (unsigned f = 0; f < GUID_FIELDS; f++) {
		if (f > 0 && *s++ != GUID_SEPARATOR)
			return -1;
		for (unsigned i = 0; i < guid_fields[f]; i++, s += 2) {
			int v = hex_byte(s);

			if (v < 0)
				return -1;
			out[byte++] = (uint8_t)v;
		}
	}
	if (*s != '\0')
		return -1;
	/* Only now, so that a failed parse leaves `guid` alone. */
	memcpy(guid, out, GPT_GUID_SIZE);
	return 0;
}

void gpt_guid_format(const uint8_t guid[GPT_GUID_SIZE],
		     char text[GPT_GUID_TEXT_LEN + 1])
{
	static const char digits[] = "0123456789ABCDEF";
	char *t = text;
	unsigned byte = 0;

	for (unsigned f = 0; f < GUID_FIELDS; f++) {
		if (f > 0)
			*t++ = GUID_SEPARATOR;
		for (unsigned i = 0; i < guid_fields[f]; i++, byte++) {
			*t++ = digits[guid[byte] >> HEX_DIGIT_BITS];
			*t++ = digits[guid[byte] & HEX_DIGIT_MASK];
		}
	}
	*t = '\0';
}

void gpt_guid_to_disk(const uint8_t guid[GPT_GUID_SIZE],
		      uint8_t out[GPT_GUID_SIZE])
{
	uint8_t tmp[GPT_GUID_SIZE];
	unsigned off = 0;

	/* Via tmp so that in-place conversion works. */
	memcpy(tmp, guid, GPT_GUID_SIZE);
	for (unsigned f = 0; f < GUID_LE_FIELDS; f++) {
		unsigned n = guid_fields[f];

		for (unsigned i = 0; i < n; i++)
			tmp[off + i] = guid[off + n - 1 - i];
		off += n;
	}
	memcpy(out, tmp, GPT_GUID_SIZE);
}

static uint64_t last_usable_lba(uint64_t total_sectors)
{
	return total_sectors - GPT_BACKUP_SECTORS - 1;
}

static int check_name(const struct gpt_part *p, size_t num, struct mk_err *e)
{
	size_t len = strnlen(p->name, sizeof(p->name));

	if (len > GPT_NAME_MAX)
		return mk_fail(e, "GPT partition %zu: name longer than %d "
				  "characters", num, GPT_NAME_MAX);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p->name[i] > ASCII_MAX)
			return mk_fail(e, "GPT partition %zu: name \"%s\" is "
					  "not ASCII", num, p->name);
	return 0;
}

/* Messages number partitions from 1, as sgdisk and the kernel do. */
static int check_part(const struct gpt_disk *d, size_t i, struct mk_err *e)
{
	const struct gpt_part *p = &d->parts[i];
	uint64_t last_usable = last_usable_lba(d->total_sectors);
	size_t num = i + 1;

	if (p->first_lba > p->last_lba)
		return mk_fail(e, "GPT partition %zu: first LBA %llu is after "
				  "last LBA %llu", num,
			       (unsigned long long)p->first_lba,
			       (unsigned long long)p->last_lba);
	if (p->first_lba < GPT_FIRST_USABLE_LBA || p->last_lba > last_usable)
		return mk_fail(e, "GPT partition %zu: LBA %llu-%llu outside "
				  "usable range %d-%llu", num,
			       (unsigned long long)p->first_lba,
			       (unsigned long long)p->last_lba,
			       GPT_FIRST_USABLE_LBA,
			       (unsigned long long)last_usable);
	if (mk_is_zero(p->type_guid, GPT_GUID_SIZE))
		return mk_fail(e, "GPT partition %zu: zero type GUID would "
				  "mark the entry unused", num);
	return check_name(p, num, e);
}

static int check_overlap(const struct gpt_disk *d, size_t earlier,
			 size_t later, struct mk_err *e)
{
	const struct gpt_part *a = &d->parts[earlier];
	const struct gpt_part *b = &d->parts[later];

	if (a->first_lba > b->last_lba || b->first_lba > a->last_lba)
		return 0;
	return mk_fail(e, "GPT partition %zu (LBA %llu-%llu) overlaps "
			  "partition %zu (LBA %llu-%llu)", later + 1,
		       (unsigned long long)b->first_lba,
		       (unsigned long long)b->last_lba, earlier + 1,
		       (unsigned long long)a->first_lba,
		       (unsigned long long)a->last_lba);
}

static int check_disk(const struct gpt_disk *d, struct mk_err *e)
{
	if (d->nparts > GPT_MAX_PARTS)
		return mk_fail(e, "GPT: %zu partitions, at most %d supported",
			       d->nparts, GPT_MAX_PARTS);
	if (d->total_sectors < GPT_MIN_TOTAL_SECTORS)
		return mk_fail(e, "GPT: disk of %llu sectors is too small, "
				  "need at least %d",
			       (unsigned long long)d->total_sectors,
			       GPT_MIN_TOTAL_SECTORS);
	for (size_t i = 0; i < d->nparts; i++) {
		if (check_part(d, i, e) < 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (check_overlap(d, j, i, e) < 0)
				return -1;
	}
	return 0;
}

static void put_chs(uint8_t chs[MBR_CHS_SIZE], uint32_t value)
{
	/* Little-endian 24 bits, the order the MBR's CHS bytes use. */
	for (unsigned i = 0; i < MBR_CHS_SIZE; i++)
		chs[i] = (uint8_t)(value >> (8 * i));
}

static void encode_pmbr(uint64_t total_sectors, uint8_t *sector)
{
	struct legacy_mbr mbr;
	struct mbr_partition_record *r = &mbr.partition_record[0];
	uint64_t size = total_sectors - GPT_PRIMARY_HEADER_LBA;

	memset(&mbr, 0, sizeof(mbr));
	r->boot_indicator = 0;
	put_chs(r->starting_chs, MBR_PROTECTIVE_START_CHS);
	r->os_type = GPT_MBR_TYPE_PROTECTIVE;
	put_chs(r->ending_chs, MBR_PROTECTIVE_END_CHS);
	r->starting_lba = htole32(GPT_PRIMARY_HEADER_LBA);
	if (size > MBR_MAX_SIZE_IN_LBA)
		size = MBR_MAX_SIZE_IN_LBA;
	r->size_in_lba = htole32((uint32_t)size);
	mbr.signature = htole16(MBR_SIGNATURE);
	memcpy(sector, &mbr, sizeof(mbr));
}

static void encode_entry(const struct gpt_part *p, uint8_t *slot)
{
	struct gpt_entry ent;

	memset(&ent, 0, sizeof(ent));
	gpt_guid_to_disk(p->type_guid, ent.partition_type_guid);
	gpt_guid_to_disk(p->unique_guid, ent.unique_partition_guid);
	ent.starting_lba = htole64(p->first_lba);
	ent.ending_lba = htole64(p->last_lba);
	ent.attributes = htole64(p->attributes);
	/* ASCII is checked, so each char is its own UTF-16 code unit. */
	for (size_t i = 0; i < GPT_NAME_MAX && p->name[i] != '\0'; i++)
		ent.partition_name[i] = htole16((uint16_t)p->name[i]);
	memcpy(slot, &ent, sizeof(ent));
}

struct header_place {
	uint64_t my_lba;
	uint64_t alternate_lba;
	uint64_t entries_lba;
};

static void encode_header(const struct gpt_disk *d,
			  const struct header_place *at, uint32_t entries_crc,
			  uint8_t *sector)
{
	struct gpt_header h;

	memset(&h, 0, sizeof(h));
	memcpy(h.signature, GPT_HEADER_SIGNATURE, GPT_HEADER_SIGNATURE_SIZE);
	h.revision = htole32(GPT_HEADER_REVISION_V1_00);
	h.header_size = htole32(GPT_HEADER_SIZE);
	h.my_lba = htole64(at->my_lba);
	h.alternate_lba = htole64(at->alternate_lba);
	h.first_usable_lba = htole64(GPT_FIRST_USABLE_LBA);
	h.last_usable_lba = htole64(last_usable_lba(d->total_sectors));
	gpt_guid_to_disk(d->disk_guid, h.disk_guid);
	h.partition_entry_lba = htole64(at->entries_lba);
	h.number_of_partition_entries = htole32(GPT_ENTRY_COUNT);
	h.size_of_partition_entry = htole32(GPT_ENTRY_SIZE);
	h.partition_entry_array_crc32 = htole32(entries_crc);
	/* The CRC covers the header with its own field still zero. */
	h.header_crc32 = htole32(
		(uint32_t)crc32(0L, (const Bytef *)&h, GPT_HEADER_SIZE));
	memcpy(sector, &h, sizeof(h));
}

int gpt_encode(const struct gpt_disk *d, uint8_t *primary, uint8_t *backup,
	       struct mk_err *e)
{
	uint8_t *entries = primary + GPT_PRIMARY_ENTRIES_LBA * GPT_SECTOR_SIZE;
	struct header_place at_start, at_end;
	uint32_t entries_crc;

	memset(primary, 0, GPT_PRIMARY_SECTORS * GPT_SECTOR_SIZE);
	memset(backup, 0, GPT_BACKUP_SECTORS * GPT_SECTOR_SIZE);
	if (check_disk(d, e) < 0)
		return -1;

	encode_pmbr(d->total_sectors, primary + GPT_PMBR_LBA * GPT_SECTOR_SIZE);
	for (size_t i = 0; i < d->nparts; i++)
		encode_entry(&d->parts[i], entries + i * GPT_ENTRY_SIZE);
	entries_crc = (uint32_t)crc32(0L, entries, GPT_ENTRY_ARRAY_BYTES);
	/* The backup array is a copy; only the headers differ. */
	memcpy(backup, entries, GPT_ENTRY_ARRAY_BYTES);

	at_start = (struct header_place){
		.my_lba = GPT_PRIMARY_HEADER_LBA,
		.alternate_lba = GPT_BACKUP_HEADER_LBA(d->total_sectors),
		.entries_lba = GPT_PRIMARY_ENTRIES_LBA,
	};
	at_end = (struct header_place){
		.my_lba = GPT_BACKUP_HEADER_LBA(d->total_sectors),
		.alternate_lba = GPT_PRIMARY_HEADER_LBA,
		.entries_lba = GPT_BACKUP_ENTRIES_LBA(d->total_sectors),
	};
	encode_header(d, &at_start, entries_crc,
		      primary + GPT_PRIMARY_HEADER_LBA * GPT_SECTOR_SIZE);
	encode_header(d, &at_end, entries_crc,
		      backup + GPT_ENTRY_ARRAY_SECTORS * GPT_SECTOR_SIZE);
	return 0;
}

/* ---- decoding any GPT ---------------------------------------------- */

#define UTF16_SURROGATE_HI 0xD800 /* first of a pair: D800..DBFF */
#define UTF16_SURROGATE_LO 0xDC00 /* second of a pair: DC00..DFFF */
#define UTF16_SURROGATE_END 0xE000
#define UTF16_PAIR_BASE 0x10000
#define UNICODE_REPLACEMENT 0xFFFD

void gpt_decode_mbr(const uint8_t sector[GPT_SECTOR_SIZE], struct gpt_mbr *m)
{
	struct legacy_mbr mbr;

	memcpy(&mbr, sector, sizeof(mbr));
	memset(m, 0, sizeof(*m));
	m->signature = le16toh(mbr.signature) == MBR_SIGNATURE;
	for (size_t i = 0; i < GPT_MBR_RECORDS; i++) {
		const struct mbr_partition_record *r = &mbr.partition_record[i];

		m->records[i].boot = r->boot_indicator == MBR_BOOT_INDICATOR;
		m->records[i].type = r->os_type;
		m->records[i].first_lba = le32toh(r->starting_lba);
		m->records[i].sectors = le32toh(r->size_in_lba);
		m->protective |= r->os_type == GPT_MBR_TYPE_PROTECTIVE;
	}
}

/* UEFI 5.3.3: SizeOfPartitionEntry is 128 * 2^n. */
static int entry_size_ok(uint32_t size)
{
	return size >= GPT_ENTRY_SIZE && size % GPT_ENTRY_SIZE == 0 &&
	       ((size / GPT_ENTRY_SIZE) & (size / GPT_ENTRY_SIZE - 1)) == 0;
}

int gpt_decode_header(const uint8_t sector[GPT_SECTOR_SIZE], uint64_t lba,
		      struct gpt_header_info *h, struct mk_err *e)
{
	uint8_t copy[GPT_SECTOR_SIZE];
	struct gpt_header g;
	uint32_t size, crc;

	memcpy(&g, sector, sizeof(g));
	memset(h, 0, sizeof(*h));
	if (memcmp(g.signature, GPT_HEADER_SIGNATURE,
		   GPT_HEADER_SIGNATURE_SIZE) != 0)
		return mk_fail(e, "no GPT header (signature is not \"%s\")",
			       GPT_HEADER_SIGNATURE);
	size = le32toh(g.header_size);
	if (size < GPT_HEADER_SIZE || size > GPT_SECTOR_SIZE)
		return mk_fail(e, "header size %u is not %u-%u", size,
			       GPT_HEADER_SIZE, GPT_SECTOR_SIZE);
	memcpy(copy, sector, GPT_SECTOR_SIZE);
	memset(copy + offsetof(struct gpt_header, header_crc32), 0,
	       sizeof(g.header_crc32));
	crc = (uint32_t)crc32(0L, copy, size);
	if (crc != le32toh(g.header_crc32))
		return mk_fail(e, "header CRC32 0x%08x, but its bytes give "
			       "0x%08x", le32toh(g.header_crc32), crc);
	h->header_size = size;
	h->revision = le32toh(g.revision);
	h->reserved = le32toh(g.reserved);
	h->my_lba = le64toh(g.my_lba);
	h->alternate_lba = le64toh(g.alternate_lba);
	h->first_usable_lba = le64toh(g.first_usable_lba);
	h->last_usable_lba = le64toh(g.last_usable_lba);
	h->entries_lba = le64toh(g.partition_entry_lba);
	h->entry_count = le32toh(g.number_of_partition_entries);
	h->entry_size = le32toh(g.size_of_partition_entry);
	h->entries_crc = le32toh(g.partition_entry_array_crc32);
	gpt_guid_to_disk(g.disk_guid, h->disk_guid);
	if (h->my_lba != lba)
		return mk_fail(e, "its own LBA %llu, expected %llu (where it "
			       "was read)", (unsigned long long)h->my_lba,
			       (unsigned long long)lba);
	if (!entry_size_ok(h->entry_size) || h->entry_count == 0 ||
	    h->entry_count > GPT_ENTRIES_MAX_BYTES / h->entry_size)
		return mk_fail(e, "%u entries of %u bytes are not an entry "
			       "array mkr2simg reads", h->entry_count,
			       h->entry_size);
	return 0;
}

size_t gpt_entries_bytes(const struct gpt_header_info *h)
{
	return (size_t)mk_align_up((uint64_t)h->entry_count * h->entry_size,
				   GPT_SECTOR_SIZE);
}

uint32_t gpt_entries_crc(const struct gpt_header_info *h,
			 const uint8_t *entries)
{
	return (uint32_t)crc32(0L, entries, h->entry_count * h->entry_size);
}

int gpt_entries_crc_ok(const struct gpt_header_info *h,
		       const uint8_t *entries)
{
	return gpt_entries_crc(h, entries) == h->entries_crc;
}

static size_t put_utf8(uint32_t c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xC0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xE0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3F));
		out[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | c >> 18);
	out[1] = (char)(0x80 | (c >> 12 & 0x3F));
	out[2] = (char)(0x80 | (c >> 6 & 0x3F));
	out[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

/* UTF-16LE, NUL-padded, to UTF-8: a pair (2 units) takes 4 bytes, any
 * other unit at most 3, so GPT_NAME_UTF8_MAX bytes always suffice. */
static void name_to_utf8(const uint16_t *units, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < GPT_NAME_MAX; i++) {
		uint32_t c = le16toh(units[i]), lo;

		if (c == 0)
			break;
		if (c >= UTF16_SURROGATE_HI && c < UTF16_SURROGATE_LO &&
		    i + 1 < GPT_NAME_MAX &&
		    (lo = le16toh(units[i + 1])) >= UTF16_SURROGATE_LO &&
		    lo < UTF16_SURROGATE_END) {
			c = UTF16_PAIR_BASE + ((c - UTF16_SURROGATE_HI) << 10) +
			    (lo - UTF16_SURROGATE_LO);
			i++;
		} else if (c >= UTF16_SURROGATE_HI && c < UTF16_SURROGATE_END) {
			c = UNICODE_REPLACEMENT;
		}
		o += put_utf8(c, out + o);
	}
	out[o] = '\0';
}

int gpt_decode_entry(const struct gpt_header_info *h, const uint8_t *entries,
		     uint32_t i, struct gpt_entry_info *out)
{
	uint16_t units[GPT_NAME_MAX];
	struct gpt_entry ent;

	memcpy(&ent, entries + (size_t)i * h->entry_size, sizeof(ent));
	memset(out, 0, sizeof(*out));
	if (mk_is_zero(ent.partition_type_guid, GPT_GUID_SIZE))
		return 0;
	gpt_guid_to_disk(ent.partition_type_guid, out->type_guid);
	gpt_guid_to_disk(ent.unique_partition_guid, out->unique_guid);
	out->first_lba = le64toh(ent.starting_lba);
	out->last_lba = le64toh(ent.ending_lba);
	out->attributes = le64toh(ent.attributes);
	memcpy(units, ent.partition_name, sizeof(units));
	name_to_utf8(units, out->name);
	return 1;
}

/* ---- decoding what gpt_encode writes ------------------------------- */

/* One decoded header field against what gpt_encode writes there. */
static int check_field(const char *field, uint64_t got, uint64_t want,
		       struct mk_err *e)
{
	if (got == want)
		return 0;
	return mk_fail(e, "%s %llu, expected %llu", field,
		       (unsigned long long)got, (unsigned long long)want);
}

/* The header gpt_decode_header accepted, against encode_header's. */
static int check_encoded_header(const struct gpt_header_info *h,
				const struct header_place *at,
				uint64_t total_sectors, struct mk_err *e)
{
	return check_field("header size", h->header_size, GPT_HEADER_SIZE,
			   e) ||
	       check_field("revision", h->revision, GPT_HEADER_REVISION_V1_00,
			   e) ||
	       check_field("reserved field", h->reserved, 0, e) ||
	       check_field("other header's LBA", h->alternate_lba,
			   at->alternate_lba, e) ||
	       check_field("first usable LBA", h->first_usable_lba,
			   GPT_FIRST_USABLE_LBA, e) ||
	       check_field("last usable LBA", h->last_usable_lba,
			   last_usable_lba(total_sectors), e) ||
	       check_field("entries' LBA", h->entries_lba, at->entries_lba,
			   e) ||
	       check_field("number of entries", h->entry_count,
			   GPT_ENTRY_COUNT, e) ||
	       check_field("entry size", h->entry_size, GPT_ENTRY_SIZE, e)
		       ? -1
		       : 0;
}

/* A decoded name as encode_entry's ASCII: each other character '?'. */
static void ascii_name(const char *utf8, char *out)
{
	size_t o = 0;

	for (const unsigned char *c = (const unsigned char *)utf8; *c; c++)
		if (*c <= ASCII_MAX)
			out[o++] = (char)*c;
		else if (*c >= UTF8_LEAD_MIN) /* not a continuation byte */
			out[o++] = '?';
	out[o] = '\0';
}

static int decode_parts(const struct gpt_header_info *h,
			const uint8_t *entries, struct gpt_disk *d,
			struct mk_err *e)
{
	for (uint32_t i = 0; i < h->entry_count; i++) {
		struct gpt_entry_info ent;
		struct gpt_part *p;

		if (!gpt_decode_entry(h, entries, i, &ent))
			continue;
		if (d->nparts == GPT_MAX_PARTS)
			return mk_fail(e, "more than %d partitions (entry %u "
				       "is used)", GPT_MAX_PARTS, i + 1);
		p = &d->parts[d->nparts++];
		memcpy(p->type_guid, ent.type_guid, GPT_GUID_SIZE);
		memcpy(p->unique_guid, ent.unique_guid, GPT_GUID_SIZE);
		p->first_lba = ent.first_lba;
		p->last_lba = ent.last_lba;
		p->attributes = ent.attributes;
		ascii_name(ent.name, p->name);
	}
	return 0;
}

int gpt_decode(const uint8_t *header, const uint8_t *entries,
	       uint64_t my_lba, uint64_t total_sectors, struct gpt_disk *d,
	       struct mk_err *e)
{
	int primary = my_lba == GPT_PRIMARY_HEADER_LBA;
	struct header_place at = {
		.my_lba = my_lba,
		.alternate_lba = primary ? GPT_BACKUP_HEADER_LBA(total_sectors)
					 : GPT_PRIMARY_HEADER_LBA,
		.entries_lba = primary ? GPT_PRIMARY_ENTRIES_LBA
				       : GPT_BACKUP_ENTRIES_LBA(total_sectors),
	};
	struct gpt_header_info h;
	uint32_t crc;

	memset(d, 0, sizeof(*d));
	if (total_sectors < GPT_MIN_TOTAL_SECTORS)
		return mk_fail(e, "disk of %llu sectors is too small for a GPT",
			       (unsigned long long)total_sectors);
	if (gpt_decode_header(header, my_lba, &h, e) ||
	    check_encoded_header(&h, &at, total_sectors, e))
		return -1;
	/* Only now is the array known to be GPT_ENTRY_ARRAY_BYTES. */
	crc = gpt_entries_crc(&h, entries);
	if (crc != h.entries_crc)
		return mk_fail(e, "entries CRC32 0x%08x, but the entries at LBA "
			       "%llu give 0x%08x", h.entries_crc,
			       (unsigned long long)h.entries_lba, crc);
	d->total_sectors = total_sectors;
	memcpy(d->disk_guid, h.disk_guid, GPT_GUID_SIZE);
	return decode_parts(&h, entries, d, e);
}

/* ---- comparing ----------------------------------------------------- */

static void compare_guid(const uint8_t *got, const uint8_t *want,
			 const char *what, const char *field,
			 struct mk_diffs *diffs)
{
	char g[GPT_GUID_TEXT_LEN + 1], w[GPT_GUID_TEXT_LEN + 1];

	if (memcmp(got, want, GPT_GUID_SIZE) == 0)
		return;
	gpt_guid_format(got, g);
	gpt_guid_format(want, w);
	mk_diff(diffs, "%s: %s %s, expected %s", what, field, g, w);
}

static void compare_part(const struct gpt_part *got,
			 const struct gpt_part *want, const char *what,
			 size_t num, struct mk_diffs *diffs)
{
	char field[64];

	snprintf(field, sizeof(field), "partition %zu type", num);
	compare_guid(got->type_guid, want->type_guid, what, field, diffs);
	snprintf(field, sizeof(field), "partition %zu GUID", num);
	compare_guid(got->unique_guid, want->unique_guid, what, field, diffs);
	if (got->first_lba != want->first_lba)
		mk_diff(diffs, "%s: partition %zu starts at sector %llu, "
			"expected %llu", what, num,
			(unsigned long long)got->first_lba,
			(unsigned long long)want->first_lba);
	if (got->last_lba != want->last_lba)
		mk_diff(diffs, "%s: partition %zu ends at sector %llu, "
			"expected %llu", what, num,
			(unsigned long long)got->last_lba,
			(unsigned long long)want->last_lba);
	if (got->attributes != want->attributes)
		mk_diff(diffs, "%s: partition %zu attributes 0x%llx, "
			"expected 0x%llx", what, num,
			(unsigned long long)got->attributes,
			(unsigned long long)want->attributes);
	if (strcmp(got->name, want->name) != 0)
		mk_diff(diffs, "%s: partition %zu name '%s', expected '%s'",
			what, num, got->name, want->name);
}

void gpt_compare(const struct gpt_disk *got, const struct gpt_disk *want,
		 const char *what, struct mk_diffs *diffs)
{
	size_t n = got->nparts < want->nparts ? got->nparts : want->nparts;

	compare_guid(got->disk_guid, want->disk_guid, what, "disk GUID", diffs);
	if (got->nparts != want->nparts)
		mk_diff(diffs, "%s: %zu partitions, expected %zu", what,
			got->nparts, want->nparts);
	for (size_t i = 0; i < n; i++)
		compare_part(&got->parts[i], &want->parts[i], what, i + 1,
			     diffs);
}

/* Well-known types, named as sgdisk (GPT fdisk 1.0.9) names them. */
static const struct {
	const char *guid, *name;
} known_types[] = {
	{ GPT_TYPE_LINUX_FS, "Linux filesystem" },
	{ GPT_TYPE_ROOT_ARM64, "Linux ARM64 root (/)" },
	{ "69DAD710-2CE4-4E3C-B16C-21A1D49ABED3", "Linux ARM32 root (/)" },
	{ "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", "Linux x86-64 root (/)" },
	{ "44479540-F297-41B2-9AF7-D131D5F0458A", "Linux x86 root (/)" },
	{ "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", "Linux swap" },
	{ "933AC7E1-2EB4-4F13-B844-0E14E2AEF915", "Linux /home" },
	{ "4D21B016-B534-45C2-A9FB-5C16E091FD2D", "Linux /var" },
	{ "E6D6D379-F507-44C2-A23C-238F2A3DF928", "Linux LVM" },
	{ "A19D880F-05FC-4D3B-A006-743F0F84911E", "Linux RAID" },
	{ "CA7D7CCB-63ED-4C53-861C-1742536059CC", "Linux LUKS" },
	{ "BC13C2FF-59E6-4262-A352-B275FD6F7172", "XBOOTLDR partition" },
	{ "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "EFI system partition" },
	{ "21686148-6449-6E6F-744E-656564454649", "BIOS boot partition" },
	{ "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", "Microsoft basic data" },
	{ "3DE21764-95BD-54BD-A5C3-4ABE786F38A8", "U-Boot boot loader" },
};

const char *gpt_type_name(const uint8_t type_guid[GPT_GUID_SIZE])
{
	uint8_t g[GPT_GUID_SIZE];

	for (size_t i = 0; i < sizeof(known_types) / sizeof(*known_types);
	     i++)
		if (gpt_guid_parse(known_types[i].guid, g) == 0 &&
		    memcmp(g, type_guid, GPT_GUID_SIZE) == 0)
			return known_types[i].name;
	return NULL;
}
