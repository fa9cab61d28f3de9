#include "zframe.h"

#include <string.h>

size_t zframe_unit_max(void)
{
	size_t n = ZSTD_compressBound(ZFRAME_CHUNK) + ZFRAME_ALIGN +
		   ZFRAME_SKIP_HEADER;

	return (size_t)(n + ZFRAME_ALIGN - 1) / ZFRAME_ALIGN * ZFRAME_ALIGN;
}

ZSTD_CCtx *zframe_context(void)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	size_t r;

	if (!c)
		return NULL;
	r = ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, ZFRAME_LEVEL);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 1);
	if (ZSTD_isError(r)) { /* only a libzstd without these */
		ZSTD_freeCCtx(c);
		return NULL;
	}
	return c;
}

int zframe_compress(ZSTD_CCtx *c, const void *src, size_t len, void *dst,
		    size_t *flen, const char *shown, struct mk_err *e)
{
	/* A frame of its own: nothing of an earlier one carries over. */
	size_t r = ZSTD_CCtx_reset(c, ZSTD_reset_session_only);

	if (len > ZFRAME_CHUNK) /* dst holds one chunk's frame */
		return mk_fail(e, "%s: zstd: a chunk of %zu bytes", shown, len);
	if (!ZSTD_isError(r))
		r = ZSTD_compress2(c, dst, zframe_unit_max(), src, len);
	if (ZSTD_isError(r))
		return mk_fail(e, "%s: zstd: %s", shown, ZSTD_getErrorName(r));
	*flen = r;
	return 0;
}

size_t zframe_pad_len(uint64_t len)
{
	size_t pad = (size_t)((ZFRAME_ALIGN - len % ZFRAME_ALIGN) %
			      ZFRAME_ALIGN);

	return pad && pad < ZFRAME_SKIP_HEADER ? pad + ZFRAME_ALIGN : pad;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

void zframe_pad(void *dst, size_t pad)
{
	uint8_t *p = dst;

	if (!pad)
		return;
	put_le32(p, ZFRAME_SKIP_MAGIC);
	put_le32(p + 4, (uint32_t)(pad - ZFRAME_SKIP_HEADER));
	memset(p + ZFRAME_SKIP_HEADER, 0, pad - ZFRAME_SKIP_HEADER);
}
