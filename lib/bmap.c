#include "bmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"

/* Room for bmaptool's human_size() text and a percentage. */
#define HUMAN_MAX 32

/* bmaptool's _BMAP_START_TEMPLATE, then the lines BmapCreate writes
 * after it; "%s" in MAPPED_LINE and the blank after <MappedBlocksCount>
 * are spaces that bmaptool overwrites once it knows the counts. */
static const char head_fmt[] =
	"<?xml version=\"1.0\" ?>\n"
	"<!-- This file contains the block map for an image file, which is basically\n"
	"     a list of useful (mapped) block numbers in the image file. In other words,\n"
	"     it lists only those blocks which contain data (boot sector, partition\n"
	"     table, file-system metadata, files, directories, extents, etc). These\n"
	"     blocks have to be copied to the target device. The other blocks do not\n"
	"     contain any useful data and do not have to be copied to the target\n"
	"     device.\n"
	"\n"
	"     The block map an optimization which allows to copy or flash the image to\n"
	"     the image quicker than copying of flashing the entire image. This is\n"
	"     because with bmap less data is copied: <MappedBlocksCount> blocks instead\n"
	"     of <BlocksCount> blocks.\n"
	"\n"
	"     Besides the machine-readable data, this file contains useful commentaries\n"
	"     which contain human-readable information like image size, percentage of\n"
	"     mapped data, etc.\n"
	"\n"
	"     The 'version' attribute is the block map file format version in the\n"
	"     'major.minor' format. The version major number is increased whenever an\n"
	"     incompatible block map format change is made. The minor number changes\n"
	"     in case of minor backward-compatible changes. -->\n"
	"\n"
	"<bmap version=\"%s\">\n"
	"    <!-- Image size in bytes: %s -->\n"
	"    <ImageSize> %llu </ImageSize>\n"
	"\n"
	"    <!-- Size of a block in bytes -->\n"
	"    <BlockSize> %u </BlockSize>\n"
	"\n"
	"    <!-- Count of blocks in the image file -->\n"
	"    <BlocksCount> %llu </BlocksCount>\n"
	"\n"
	"    <!-- Count of mapped blocks: ";
static const char checksum_fmt[] =
	"    <!-- Type of checksum used in this file -->\n"
	"    <ChecksumType> %s </ChecksumType>\n"
	"\n"
	"    <!-- The checksum of this bmap file. When it is calculated, the value of\n"
	"         the checksum has be zero (all ASCII \"0\" symbols).  -->\n"
	"    <BmapFileChecksum> ";
static const char map_start[] =
	" </BmapFileChecksum>\n"
	"\n"
	"    <!-- The block map which consists of elements which may either be a\n"
	"         range of blocks or a single block. The 'chksum' attribute\n"
	"         (if present) is the checksum of this blocks range. -->\n"
	"    <BlockMap>\n";
static const char tail[] = "    </BlockMap>\n</bmap>\n";

struct bmap {
	uint64_t size, blocks, mapped;
	FILE *ranges;        /* the <Range> lines so far */
	char *ranges_text;
	size_t ranges_len;
	int open;            /* a range is being hashed */
	uint64_t first, end; /* its first block and end offset */
	struct sha256 hash;
};

/* bmaptool's BmapHelpers.human_size(): "1 byte", "N bytes" under 512,
 * else "%.1f" in the first of KiB, MiB, GiB, TiB under 1024 (EiB
 * after TiB, as bmaptool writes it). */
static void human_size(uint64_t bytes, char out[HUMAN_MAX])
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	size_t i;

	if (bytes == 1) {
		snprintf(out, HUMAN_MAX, "1 byte");
		return;
	}
	if (bytes < 512) {
		snprintf(out, HUMAN_MAX, "%llu bytes", (unsigned long long)bytes);
		return;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		v /= 1024.0;
		if (v < 1024) {
			snprintf(out, HUMAN_MAX, "%.1f %s", v, units[i]);
			return;
		}
	}
	snprintf(out, HUMAN_MAX, "%.1f EiB", v);
}

struct bmap *bmap_new(uint64_t size)
{
	struct bmap *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->size = size;
	b->blocks = (size + RANGES_BLOCK - 1) / RANGES_BLOCK;
	b->ranges = open_memstream(&b->ranges_text, &b->ranges_len);
	if (!b->ranges) {
		free(b);
		return NULL;
	}
	return b;
}

/* Ends the range being hashed with its <Range> line. */
static int close_range(struct bmap *b, struct mk_err *e)
{
	uint8_t d[SHA256_DIGEST_SIZE];
	char hex[SHA256_HEX_SIZE];
	uint64_t last = (b->end + RANGES_BLOCK - 1) / RANGES_BLOCK - 1;
	int n;

	if (!b->open)
		return 0;
	b->open = 0;
	sha256_final(&b->hash, d);
	sha256_hex(d, hex);
	b->mapped += last - b->first + 1;
	if (last != b->first)
		n = fprintf(b->ranges, "        <Range chksum=\"%s\"> %llu-%llu "
			    "</Range>\n", hex, (unsigned long long)b->first,
			    (unsigned long long)last);
	else
		n = fprintf(b->ranges, "        <Range chksum=\"%s\"> %llu "
			    "</Range>\n", hex, (unsigned long long)b->first);
	return n < 0 ? mk_fail(e, "out of memory") : 0;
}

static int on_data(void *ctx, uint64_t off, const void *buf, size_t len,
		   struct mk_err *e)
{
	struct bmap *b = ctx;

	if (b->open && off != b->end && close_range(b, e))
		return -1;
	if (!b->open) {
		b->open = 1;
		b->first = off / RANGES_BLOCK;
		b->end = off;
		sha256_init(&b->hash);
	}
	sha256_update(&b->hash, buf, len);
	b->end += len;
	return 0;
}

static int on_hole(void *ctx, uint64_t off, uint64_t len, struct mk_err *e)
{
	(void)off;
	(void)len;
	return close_range(ctx, e);
}

struct ranges_sink bmap_sink(struct bmap *b)
{
	struct ranges_sink s = { on_data, on_hole, b };

	return s;
}

/*
 * The whole file as bmaptool leaves it: it writes blanks where the
 * mapped counts go, the ranges and the end, then writes the counts over
 * the blanks from their first byte (a text longer than its blanks runs
 * over what follows them), and last the file's checksum over the zeros.
 */
static char *compose(struct bmap *b, size_t *len, size_t *chk)
{
	char image_h[HUMAN_MAX], mapped_h[HUMAN_MAX], over[2 * HUMAN_MAX];
	char count[24], *text = NULL;
	size_t size = 0, pos1, pos2, blanks;
	FILE *f = open_memstream(&text, &size);

	if (!f)
		return NULL;
	human_size(b->size, image_h);
	human_size(b->mapped * RANGES_BLOCK, mapped_h);
	fprintf(f, head_fmt, BMAP_VERSION, image_h, (unsigned long long)b->size,
		RANGES_BLOCK, (unsigned long long)b->blocks);
	pos1 = (size_t)ftell(f);
	fprintf(f, "%*s or %*s   -->\n    <MappedBlocksCount> ",
		(int)strlen(image_h), "", (int)strlen("100.0%"), "");
	pos2 = (size_t)ftell(f);
	blanks = (size_t)snprintf(count, sizeof(count), "%llu",
				  (unsigned long long)b->blocks);
	fprintf(f, "%*s </MappedBlocksCount>\n\n", (int)blanks, "");
	fprintf(f, checksum_fmt, BMAP_CHECKSUM_TYPE);
	*chk = (size_t)ftell(f);
	fprintf(f, "%0*d%s%.*s%s", 2 * SHA256_DIGEST_SIZE, 0, map_start,
		(int)b->ranges_len, b->ranges_text, tail);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	snprintf(over, sizeof(over), "%s or %.1f%%", mapped_h,
		 b->blocks ? (double)b->mapped * 100.0 / (double)b->blocks : 0.0);
	memcpy(text + pos1, over, strlen(over));
	snprintf(count, sizeof(count), "%llu", (unsigned long long)b->mapped);
	memcpy(text + pos2, count, strlen(count));
	*len = size;
	return text;
}

int bmap_text(struct bmap *b, char **text, size_t *len, struct mk_err *e)
{
	uint8_t d[SHA256_DIGEST_SIZE];
	char hex[SHA256_HEX_SIZE];
	struct sha256 s;
	size_t chk;

	*text = NULL;
	if (close_range(b, e))
		return -1;
	if (fclose(b->ranges) != 0) {
		b->ranges = NULL;
		return mk_fail(e, "out of memory");
	}
	b->ranges = NULL;
	if (!(*text = compose(b, len, &chk)))
		return mk_fail(e, "out of memory");
	sha256_init(&s);
	sha256_update(&s, *text, *len);
	sha256_final(&s, d);
	sha256_hex(d, hex);
	memcpy(*text + chk, hex, 2 * SHA256_DIGEST_SIZE);
	return 0;
}

uint64_t bmap_mapped_blocks(const struct bmap *b)
{
	return b->mapped;
}

void bmap_free(struct bmap *b)
{
	if (!b)
		return;
	if (b->ranges)
		fclose(b->ranges);
	free(b->ranges_text);
	free(b);
}
