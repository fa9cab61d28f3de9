#include "zstream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "zframe.h"

#define STAGE_FLUSH (64u << 10) /* staged zero frames written at a time */
#define MOVE_BYTES (1u << 20)   /* moved at a time when moving in place */

struct zstream {
	int fd;
	const char *shown;
	uint64_t size;       /* of the image */
	size_t n, next;      /* chunks; the next to append */
	uint64_t *off;       /* off[c]: where chunk c's frame starts;
				off[n]: the stream's end */
	uint8_t *zero;       /* zero[c]: appended as an all-zero chunk */
	int in_run;          /* the last chunk appended was zero, its run
				not yet padded */
	uint8_t *stage;      /* zero frames not yet written, from base */
	size_t staged;
	uint64_t base;       /* where stage[0] goes (aligned) */
	uint8_t *zf[2];      /* the frame of an all-zero chunk, full size
				and the last chunk's */
	size_t zf_len[2];
	int direct, shift;   /* O_DIRECT on; try the filesystem's moves */
	int moved;           /* moved in place at the end */
	uint8_t *move;       /* MOVE_BYTES, for moves in place */
};

struct span {
	size_t a, b;         /* chunks [a, b), on unit boundaries before
				and after */
	int64_t after;       /* moving in place: how far the bytes up to
				the next span move */
};

/* One unit to write: chunks [x, y), all zero, or x's frame. */
struct unit {
	size_t x, y;
	void *frame;
	uint64_t len;        /* with the padding */
};

static void *aligned(size_t len)
{
	void *p = NULL;

	return posix_memalign(&p, ZFRAME_ALIGN, len) ? NULL : p;
}

size_t zstream_chunks(const struct zstream *zs)
{
	return zs->n;
}

size_t zstream_next(const struct zstream *zs)
{
	return zs->next;
}

static int last_short(const struct zstream *zs, size_t c)
{
	return c == zs->n - 1 && zs->size % ZFRAME_CHUNK;
}

static const uint8_t *zero_frame(const struct zstream *zs, size_t c,
				 size_t *len)
{
	*len = zs->zf_len[last_short(zs, c)];
	return zs->zf[last_short(zs, c)];
}

/* ---- writing ------------------------------------------------------ */

static int put(struct zstream *zs, const void *buf, size_t len, uint64_t at,
	       struct mk_err *e)
{
	int err = mk_pwrite_all(zs->fd, buf, len, at);

	/* O_DIRECT refused after all (another alignment): without it. */
	if (err == EINVAL && zs->direct) {
		zs->direct = 0;
		if (fcntl(zs->fd, F_SETFL,
			  fcntl(zs->fd, F_GETFL) & ~O_DIRECT) == 0)
			err = mk_pwrite_all(zs->fd, buf, len, at);
	}
	return err ? mk_fail_errno(e, err, "%s: cannot write", zs->shown) : 0;
}

static int get(struct zstream *zs, void *buf, size_t len, uint64_t at,
	       struct mk_err *e)
{
	char *p = buf;

	while (len) {
		ssize_t n = pread(zs->fd, p, len, (off_t)at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return mk_fail_errno(e, n ? errno : EIO,
					     "%s: cannot read back", zs->shown);
		p += n;
		len -= (size_t)n;
		at += (uint64_t)n;
	}
	return 0;
}

/* Writes the staged bytes' whole blocks (all of them with `all`, which
 * the caller has aligned). */
static int stage_flush(struct zstream *zs, int all, struct mk_err *e)
{
	size_t whole = zs->staged / ZFRAME_ALIGN * ZFRAME_ALIGN;

	if (all)
		whole = zs->staged;
	if (!whole)
		return 0;
	if (put(zs, zs->stage, whole, zs->base, e))
		return -1;
	memmove(zs->stage, zs->stage + whole, zs->staged - whole);
	zs->staged -= whole;
	zs->base += whole;
	return 0;
}

static int stage_add(struct zstream *zs, const void *p, size_t len,
		     struct mk_err *e)
{
	memcpy(zs->stage + zs->staged, p, len);
	zs->staged += len;
	return zs->staged >= STAGE_FLUSH ? stage_flush(zs, 0, e) : 0;
}

/* Pads the staged unit and writes it all. */
static int stage_end_unit(struct zstream *zs, struct mk_err *e)
{
	size_t pad = zframe_pad_len(zs->base + zs->staged);

	zframe_pad(zs->stage + zs->staged, pad);
	zs->staged += pad;
	return stage_flush(zs, 1, e);
}

/* ---- appending ---------------------------------------------------- */

static int close_run(struct zstream *zs, struct mk_err *e)
{
	if (!zs->in_run)
		return 0;
	zs->in_run = 0;
	return stage_end_unit(zs, e);
}

int zstream_append(struct zstream *zs, void *frame, size_t flen,
		   struct mk_err *e)
{
	size_t c = zs->next, pad, zlen;
	const uint8_t *zf;

	if (c >= zs->n)
		return mk_fail(e, "%s: zstd: more chunks than the image has",
			       zs->shown);
	if (!frame) {
		zs->in_run = 1;
		zs->off[c] = zs->base + zs->staged;
		zs->zero[c] = 1;
		zf = zero_frame(zs, c, &zlen);
		if (stage_add(zs, zf, zlen, e))
			return -1;
	} else {
		if (close_run(zs, e))
			return -1;
		zs->off[c] = zs->base;
		zs->zero[c] = 0;
		pad = zframe_pad_len(flen);
		zframe_pad((uint8_t *)frame + flen, pad);
		if (put(zs, frame, flen + pad, zs->base, e))
			return -1;
		zs->base += flen + pad;
	}
	zs->next++;
	if (zs->next == zs->n) {
		if (close_run(zs, e))
			return -1;
		zs->off[zs->n] = zs->base;
	}
	return 0;
}

/* ---- which units changed ------------------------------------------ */

/* Whether a unit boundary lies before chunk x (0 < x < n) when the
 * chunks' kinds are `zero`. */
static int boundary(const uint8_t *zero, size_t x)
{
	return !zero[x - 1] || !zero[x];
}

static int both(const struct zstream *zs, const uint8_t *now, size_t x)
{
	return x == 0 || x == zs->n ||
	       (boundary(zs->zero, x) && boundary(now, x));
}

/*
 * The spans to replace: each changed chunk, widened to boundaries the
 * units had when appended and have now (a chunk that became zero joins
 * the zero runs beside it; one that stopped being zero splits its run).
 * A chunk that did not change and holds data is a unit on both sides,
 * so spans only ever hold changed chunks and all-zero ones.
 */
static int find_spans(struct zstream *zs, const uint8_t *changed,
		      const uint8_t *now, struct span **spans, size_t *count,
		      struct mk_err *e)
{
	size_t c, a, b, cap = 0;

	*spans = NULL;
	*count = 0;
	for (c = 0; c < zs->n; c++) {
		if (!changed[c])
			continue;
		for (a = c; !both(zs, now, a); a--)
			;
		for (b = c + 1; !both(zs, now, b); b++)
			;
		if (mk_grow(spans, &cap, *count, sizeof(**spans)))
			return mk_fail(e, "out of memory");
		(*spans)[(*count)++] = (struct span){ a, b, 0 };
		c = b - 1;
	}
	return 0;
}

/* ---- units of the final stream ------------------------------------- */

/* The unit starting at chunk x (before `b`) as the chunks are now: its
 * extent, its length, and for data its frame (padded). */
static int unit_get(struct zstream *zs, const uint8_t *now, size_t x,
		    size_t b, const struct zstream_source *src,
		    struct unit *u, struct mk_err *e)
{
	size_t flen, zlen, pad;

	u->x = x;
	u->frame = NULL;
	if (!now[x]) {
		if (src->frame(src->ctx, x, &u->frame, &flen, e))
			return -1;
		pad = zframe_pad_len(flen);
		zframe_pad((uint8_t *)u->frame + flen, pad);
		u->y = x + 1;
		u->len = flen + pad;
		return 0;
	}
	u->len = 0;
	for (u->y = x; u->y < b && now[u->y]; u->y++) {
		zero_frame(zs, u->y, &zlen);
		u->len += zlen;
	}
	u->len += zframe_pad_len(u->len);
	return 0;
}

static int unit_put(struct zstream *zs, const struct unit *u, uint64_t at,
		    struct mk_err *e)
{
	size_t c, zlen;
	const uint8_t *zf;

	if (u->frame)
		return put(zs, u->frame, (size_t)u->len, at, e);
	zs->base = at;
	for (c = u->x; c < u->y; c++) {
		zf = zero_frame(zs, c, &zlen);
		if (stage_add(zs, zf, zlen, e))
			return -1;
	}
	return stage_end_unit(zs, e);
}

/* ---- replacing spans: the filesystem moves the rest ----------------- */

/* fallocate's shifts; *unsupported set when this filesystem has none. */
static int shift(struct zstream *zs, int mode, uint64_t at, uint64_t len,
		 int *unsupported, struct mk_err *e)
{
	if (fallocate(zs->fd, mode, (off_t)at, (off_t)len) == 0)
		return 0;
	if (errno == EOPNOTSUPP || errno == EINVAL)
		*unsupported = 1;
	return mk_fail_errno(e, errno, "%s: cannot move the stream's end",
			     zs->shown);
}

/* Makes the file `len` bytes long. */
static int cut(struct zstream *zs, uint64_t len, struct mk_err *e)
{
	if (ftruncate(zs->fd, (off_t)len) != 0)
		return mk_fail_errno(e, errno, "%s: cannot write", zs->shown);
	return 0;
}

/* Gives the old bytes [p, q) `len` bytes of room at p (the end of the
 * file moving by the difference); *eof follows. */
static int make_room(struct zstream *zs, uint64_t p, uint64_t q,
		     uint64_t len, uint64_t *eof, int *unsupported,
		     struct mk_err *e)
{
	int rc = 0;

	if (q >= *eof)
		rc = len < q - p ? cut(zs, p + len, e) : 0; /* the end */
	else if (len > q - p)
		rc = shift(zs, FALLOC_FL_INSERT_RANGE, q, len - (q - p),
			   unsupported, e);
	else if (len < q - p)
		rc = shift(zs, FALLOC_FL_COLLAPSE_RANGE, p + len,
			   (q - p) - len, unsupported, e);
	if (rc == 0)
		*eof = *eof + len - (q - p);
	return rc;
}

/*
 * Replaces span `s`, now at [p, q) (*d past where it was appended),
 * the filesystem moving what follows.  -1 with *unsupported set when it
 * cannot, and nothing of the span was changed yet.
 */
static int replace_shifting(struct zstream *zs, const uint8_t *now,
			    const struct span *s,
			    const struct zstream_source *src, int64_t *d,
			    uint64_t *eof, int *unsupported, struct mk_err *e)
{
	uint64_t p = zs->off[s->a] + (uint64_t)*d;
	uint64_t q = zs->off[s->b] + (uint64_t)*d, at = p;
	struct unit u;
	size_t x;
	int no = 0; /* half done: no way back */

	if (unit_get(zs, now, s->a, s->b, src, &u, e))
		return -1;
	if (u.y == s->b) { /* one unit: the rest moves by the difference */
		if (make_room(zs, p, q, u.len, eof, unsupported, e) ||
		    unit_put(zs, &u, p, e))
			return -1;
		*d += (int64_t)u.len - (int64_t)(q - p);
		return 0;
	}
	/* Several: the old bytes out, then room for each new unit. */
	if (make_room(zs, p, q, 0, eof, unsupported, e))
		return -1;
	for (x = s->a; x < s->b; x = u.y, at += u.len) {
		if ((x != s->a && unit_get(zs, now, x, s->b, src, &u, e)) ||
		    make_room(zs, at, at, u.len, eof, &no, e) ||
		    unit_put(zs, &u, at, e))
			return -1;
	}
	*d += (int64_t)(at - p) - (int64_t)(q - p);
	return 0;
}

/* ---- replacing spans: moving the rest in place --------------------- */

/* Moves `len` bytes at `from` to `to` (either way, overlapping). */
static int move(struct zstream *zs, uint64_t from, uint64_t to, uint64_t len,
		struct mk_err *e)
{
	uint64_t done = 0, n, at;

	if (from == to || !len)
		return 0;
	if (!zs->move && !(zs->move = aligned(MOVE_BYTES)))
		return mk_fail(e, "out of memory");
	while (done < len) {
		n = len - done < MOVE_BYTES ? len - done : MOVE_BYTES;
		/* Forwards from the end when moving up, else from the start. */
		at = to > from ? len - done - n : done;
		if (get(zs, zs->move, (size_t)n, from + at, e) ||
		    put(zs, zs->move, (size_t)n, to + at, e))
			return -1;
		done += n;
	}
	return 0;
}

/* How far the bytes after each span [i, count) move: the spans' new
 * lengths (their frames made once to learn them), summed. */
static int plan_moves(struct zstream *zs, const uint8_t *now, struct span *s,
		      size_t count, size_t i, const struct zstream_source *src,
		      struct mk_err *e)
{
	int64_t moved = 0;
	struct unit u;
	size_t j, x;

	for (j = i; j < count; j++) {
		moved -= (int64_t)(zs->off[s[j].b] - zs->off[s[j].a]);
		for (x = s[j].a; x < s[j].b; x = u.y) {
			if (unit_get(zs, now, x, s[j].b, src, &u, e))
				return -1;
			moved += (int64_t)u.len;
		}
		s[j].after = moved;
	}
	return 0;
}

/* The bytes between span j and the next (or the end), moved by
 * s[j].after if it goes `up` (else if it goes down). */
static int move_piece(struct zstream *zs, const struct span *s, size_t j,
		      size_t count, int64_t d, uint64_t eof, int up,
		      struct mk_err *e)
{
	uint64_t from = zs->off[s[j].b] + (uint64_t)d;
	uint64_t end = j + 1 < count ? zs->off[s[j + 1].a] + (uint64_t)d : eof;

	if (up ? s[j].after <= 0 : s[j].after >= 0)
		return 0;
	return move(zs, from, (uint64_t)((int64_t)from + s[j].after),
		    end - from, e);
}

/*
 * Replaces spans [i, count) by moving what lies between them in place:
 * the pieces that move up (from the last), those that move down (from
 * the first), then the spans' new bytes.  Pieces keep their order, so a
 * piece moving up only ever covers pieces after it, which moved before.
 */
static int replace_moving(struct zstream *zs, const uint8_t *now,
			  struct span *s, size_t count, size_t i,
			  const struct zstream_source *src, int64_t d,
			  uint64_t *eof, struct mk_err *e)
{
	struct unit u;
	uint64_t at;
	size_t j, x;

	if (plan_moves(zs, now, s, count, i, src, e))
		return -1;
	for (j = count; j-- > i;)
		if (move_piece(zs, s, j, count, d, *eof, 1, e))
			return -1;
	for (j = i; j < count; j++)
		if (move_piece(zs, s, j, count, d, *eof, 0, e))
			return -1;
	for (j = i; j < count; j++) {
		at = zs->off[s[j].a] + (uint64_t)(d + (j > i ? s[j - 1].after : 0));
		for (x = s[j].a; x < s[j].b; x = u.y, at += u.len)
			if (unit_get(zs, now, x, s[j].b, src, &u, e) ||
			    unit_put(zs, &u, at, e))
				return -1;
	}
	*eof = (uint64_t)((int64_t)*eof + s[count - 1].after);
	return cut(zs, *eof, e);
}

/* ---- the end ------------------------------------------------------ */

/* The chunks' kinds now: as appended, changed ones asked again. */
static uint8_t *kinds_now(struct zstream *zs, const uint8_t *changed,
			  const struct zstream_source *src, struct mk_err *e)
{
	uint8_t *now = malloc(zs->n);
	size_t c;
	int zero;

	if (!now) {
		mk_fail(e, "out of memory");
		return NULL;
	}
	memcpy(now, zs->zero, zs->n);
	for (c = 0; c < zs->n; c++) {
		if (!changed[c])
			continue;
		if (src->is_zero(src->ctx, c, &zero, e)) {
			free(now);
			return NULL;
		}
		now[c] = (uint8_t)!!zero;
	}
	return now;
}

int zstream_finish(struct zstream *zs, const uint8_t *changed,
		   const struct zstream_source *src, uint64_t *bytes,
		   struct mk_err *e)
{
	struct span *s = NULL;
	uint8_t *now = NULL;
	uint64_t eof;
	int64_t d = 0;
	size_t count = 0, i = 0;
	int rc = -1, unsupported = 0;

	if (zs->next != zs->n)
		return mk_fail(e, "%s: zstd: the image's end was not written",
			       zs->shown);
	eof = zs->off[zs->n];
	if (!(now = kinds_now(zs, changed, src, e)) ||
	    find_spans(zs, changed, now, &s, &count, e))
		goto out;
	for (; zs->shift && i < count; i++)
		if (replace_shifting(zs, now, &s[i], src, &d, &eof,
				     &unsupported, e)) {
			if (!unsupported)
				goto out;
			break; /* moved in place from span i on */
		}
	if (i < count) {
		zs->moved = 1;
		if (replace_moving(zs, now, s, count, i, src, d, &eof, e))
			goto out;
	}
	*bytes = eof;
	rc = 0;
out:
	free(now);
	free(s);
	return rc;
}

/* ---- setting up --------------------------------------------------- */

static int make_zero_frames(struct zstream *zs, struct mk_err *e)
{
	ZSTD_CCtx *c = zframe_context();
	uint8_t *zeros = calloc(1, ZFRAME_CHUNK), *buf = malloc(zframe_unit_max());
	size_t i, len[2] = { ZFRAME_CHUNK, zs->size % ZFRAME_CHUNK };
	int rc = 0;

	if (!c || !zeros || !buf)
		rc = mk_fail(e, "out of memory");
	for (i = 0; rc == 0 && i < 2; i++) {
		if (i == 1 && !len[1])
			break;
		rc = zframe_compress(c, zeros, len[i], buf, &zs->zf_len[i],
				     zs->shown, e);
		if (rc == 0 && !(zs->zf[i] = malloc(zs->zf_len[i])))
			rc = mk_fail(e, "out of memory");
		if (rc == 0)
			memcpy(zs->zf[i], buf, zs->zf_len[i]);
	}
	ZSTD_freeCCtx(c);
	free(zeros);
	free(buf);
	return rc;
}

int zstream_open(struct zstream **out, int fd, const char *shown,
		 uint64_t size, int flags, struct mk_err *e)
{
	struct zstream *zs = calloc(1, sizeof(*zs));
	size_t most;

	*out = NULL;
	if (!zs)
		return mk_fail(e, "out of memory");
	zs->fd = fd;
	zs->shown = shown;
	zs->size = size;
	zs->n = (size_t)mk_div_ceil(size, ZFRAME_CHUNK);
	zs->shift = !(flags & ZSTREAM_NO_SHIFT);
	if (!zs->n) {
		zstream_free(zs);
		return mk_fail(e, "%s: zstd: an empty image", shown);
	}
	if (make_zero_frames(zs, e)) {
		zstream_free(zs);
		return -1;
	}
	most = zs->zf_len[0] > zs->zf_len[1] ? zs->zf_len[0] : zs->zf_len[1];
	if (most < ZFRAME_ALIGN + ZFRAME_SKIP_HEADER)
		most = ZFRAME_ALIGN + ZFRAME_SKIP_HEADER;
	zs->off = calloc(zs->n + 1, sizeof(*zs->off));
	zs->zero = calloc(zs->n, 1);
	zs->stage = aligned(STAGE_FLUSH + most);
	if (!zs->off || !zs->zero || !zs->stage) {
		zstream_free(zs);
		return mk_fail(e, "out of memory");
	}
	/* Units are aligned: straight to the disk where that is allowed. */
	if (!(flags & ZSTREAM_NO_DIRECT))
		zs->direct = fcntl(fd, F_SETFL,
				   fcntl(fd, F_GETFL) | O_DIRECT) == 0;
	*out = zs;
	return 0;
}

int zstream_moved(const struct zstream *zs)
{
	return zs->moved;
}

void zstream_free(struct zstream *zs)
{
	if (!zs)
		return;
	free(zs->off);
	free(zs->zero);
	free(zs->stage);
	free(zs->zf[0]);
	free(zs->zf[1]);
	free(zs->move);
	free(zs);
}
