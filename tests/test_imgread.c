/*
 * test_imgread.c - imgread.c: a plain, zstd or gzip image opened for
 * reading.
 *
 * The streams are made here with libzstd and zlib themselves (several
 * frames or members, checksums on), the image content has zero blocks
 * between data blocks, and what imgread gives back is compared byte for
 * byte; the decompressed temporary must be sparse (its zero blocks
 * allocate nothing) and unnamed (TMPDIR stays empty).  Every broken
 * stream gives one line naming the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tmptree.h"

#include <dirent.h>
#include <zlib.h>
#include <zstd.h>

#include "imgread.h"
#include "util.h"

#define BLOCK IMGREAD_BLOCK
#define BLOCKS 2600u /* a little over 10 MiB: several output chunks */
#define IMAGE_BYTES ((size_t)BLOCKS * BLOCK)

struct fx {
	struct tmptree *t;
	uint8_t *image; /* the plain content */
	char tmpdir[PATH_MAX];
	char *old_tmpdir;
};

/* Data blocks every 7th block and in a run near the end; the rest (and
 * the last block) zero, so the sparse copy must still get the size. */
static uint8_t *make_content(void)
{
	uint8_t *c = calloc(1, IMAGE_BYTES);

	assert_non_null(c);
	for (size_t b = 0; b < BLOCKS - 1; b++)
		if (b % 7 == 0 || (b > 2000 && b < 2100))
			for (size_t i = 0; i < BLOCK; i++)
				c[b * BLOCK + i] = (uint8_t)(b * 31 + i * 7 + 1);
	c[IMAGE_BYTES - BLOCK - 1] = 0x42; /* a partial data block */
	return c;
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	void *t = NULL;
	const char *old = getenv("TMPDIR");

	if (!f || tmptree_setup(&t))
		return -1;
	f->t = t;
	f->image = make_content();
	snprintf(f->tmpdir, sizeof(f->tmpdir), "%s/tmp", f->t->root);
	if (mkdir(f->tmpdir, 0700))
		return -1;
	f->old_tmpdir = old ? strdup(old) : NULL;
	setenv("TMPDIR", f->tmpdir, 1);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	void *t = f->t;

	if (f->old_tmpdir)
		setenv("TMPDIR", f->old_tmpdir, 1);
	else
		unsetenv("TMPDIR");
	free(f->old_tmpdir);
	free(f->image);
	free(f);
	return tmptree_teardown(&t);
}

static const char *put(struct fx *f, const char *name, const void *data,
		       size_t len)
{
	tmptree_file_n(f->t, name, data, len, 0644);
	return tmptree_path(f->t, name);
}

/* zstd frames of `parts` equal slices, with content checksums. */
static uint8_t *zstd_of(const uint8_t *src, size_t len, size_t parts,
			size_t *out_len)
{
	size_t cap = ZSTD_compressBound(len) + parts * 64, done = 0;
	uint8_t *out = malloc(cap);
	ZSTD_CCtx *z = ZSTD_createCCtx();

	assert_non_null(out);
	assert_non_null(z);
	assert_false(ZSTD_isError(
		ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, 1)));
	for (size_t p = 0; p < parts; p++) {
		size_t from = len / parts * p;
		size_t to = p + 1 == parts ? len : len / parts * (p + 1);
		size_t n = ZSTD_compress2(z, out + done, cap - done, src + from,
					  to - from);

		assert_false(ZSTD_isError(n));
		done += n;
	}
	ZSTD_freeCCtx(z);
	*out_len = done;
	return out;
}

/* gzip members (RFC 1952, zlib's windowBits 16 + 15) of equal slices. */
static uint8_t *gzip_of(const uint8_t *src, size_t len, size_t parts,
			size_t *out_len)
{
	size_t cap = len + parts * 1024 + 65536, done = 0;
	uint8_t *out = malloc(cap);

	assert_non_null(out);
	for (size_t p = 0; p < parts; p++) {
		size_t from = len / parts * p;
		size_t to = p + 1 == parts ? len : len / parts * (p + 1);
		z_stream z;

		memset(&z, 0, sizeof(z));
		assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS,
					      8, Z_DEFAULT_STRATEGY), Z_OK);
		z.next_in = (Bytef *)(uintptr_t)(src + from);
		z.avail_in = (uInt)(to - from);
		z.next_out = out + done;
		z.avail_out = (uInt)(cap - done);
		assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
		done = cap - z.avail_out;
		deflateEnd(&z);
	}
	*out_len = done;
	return out;
}

static void open_ok(const char *path, struct mk_imgread *r)
{
	struct mk_err e = { "" };

	if (imgread_open(r, path, &e) != 0)
		fail_msg("imgread_open: %s", e.msg);
}

static void open_fails(const char *path, const char *needle)
{
	struct mk_imgread r;
	struct mk_err e = { "" };
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	assert_int_equal(imgread_open(&r, path, &e), -1);
	if (!strstr(e.msg, needle) || !strstr(e.msg, base))
		fail_msg("\"%s\" does not say \"%s\" and name %s", e.msg,
			 needle, base);
	assert_null(strchr(e.msg, '\n'));
	assert_int_equal(r.fd, -1);
}

static void expect_tmpdir_empty(const struct fx *f)
{
	DIR *d = opendir(f->tmpdir);
	struct dirent *de;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			fail_msg("left in TMPDIR: %s", de->d_name);
	closedir(d);
}

/* The whole plain image reads back; nothing is left in TMPDIR. */
static void expect_content(struct fx *f, struct mk_imgread *r,
			   enum imgread_form form)
{
	uint8_t *got = malloc(IMAGE_BYTES);
	struct mk_err e = { "" };

	assert_non_null(got);
	assert_int_equal(r->form, form);
	assert_int_equal(r->size, IMAGE_BYTES);
	assert_int_equal(imgread_pread(r, got, IMAGE_BYTES, 0, &e), 0);
	assert_memory_equal(got, f->image, IMAGE_BYTES);
	assert_int_equal(imgread_pread(r, got, 10, IMAGE_BYTES - 10, &e), 0);
	assert_memory_equal(got, f->image + IMAGE_BYTES - 10, 10);
	assert_int_equal(imgread_pread(r, got, 11, IMAGE_BYTES - 10, &e), -1);
	assert_non_null(strstr(e.msg, "the image ends at byte"));
	free(got);
	/* The name libext2fs opens is the same file. */
	assert_int_equal(strncmp(r->fd_path, "/proc/self/fd/", 14), 0);
	assert_int_equal(atoi(r->fd_path + 14), r->fd);
	expect_tmpdir_empty(f);
}

/* The decompressed copy allocates its data blocks, not its zeros. */
static void expect_sparse(const struct fx *f, const struct mk_imgread *r)
{
	struct stat st;
	size_t data = 0;

	for (size_t b = 0; b < BLOCKS; b++)
		data += !mk_is_zero(f->image + b * BLOCK, BLOCK);
	assert_int_equal(fstat(r->fd, &st), 0);
	if ((uint64_t)st.st_blocks * 512 > (data + 16) * BLOCK)
		fail_msg("%llu bytes allocated for %zu data blocks",
			 (unsigned long long)st.st_blocks * 512, data);
}

static void test_plain(void **state)
{
	struct fx *f = *state;
	struct mk_imgread r;

	open_ok(put(f, "card.img", f->image, IMAGE_BYTES), &r);
	expect_content(f, &r, IMGREAD_PLAIN);
	assert_string_equal(imgread_form_name(r.form), "plain");
	imgread_close(&r);
	assert_int_equal(r.fd, -1);
}

static void test_zstd(void **state)
{
	struct fx *f = *state;
	struct mk_imgread r;
	size_t n;
	uint8_t *z = zstd_of(f->image, IMAGE_BYTES, 1, &n);

	/* Named .gz on purpose: the content decides. */
	open_ok(put(f, "image.gz", z, n), &r);
	expect_content(f, &r, IMGREAD_ZSTD);
	expect_sparse(f, &r);
	assert_string_equal(imgread_form_name(r.form), "zstd");
	imgread_close(&r);
	free(z);
	z = zstd_of(f->image, IMAGE_BYTES, 3, &n);
	open_ok(put(f, "frames.img", z, n), &r);
	expect_content(f, &r, IMGREAD_ZSTD);
	imgread_close(&r);
	free(z);
}

static void test_gzip(void **state)
{
	struct fx *f = *state;
	struct mk_imgread r;
	size_t n;
	uint8_t *z = gzip_of(f->image, IMAGE_BYTES, 1, &n);

	open_ok(put(f, "image.zst", z, n), &r);
	expect_content(f, &r, IMGREAD_GZIP);
	expect_sparse(f, &r);
	assert_string_equal(imgread_form_name(r.form), "gzip");
	imgread_close(&r);
	free(z);
	z = gzip_of(f->image, IMAGE_BYTES, 4, &n);
	open_ok(put(f, "members.img", z, n), &r);
	expect_content(f, &r, IMGREAD_GZIP);
	imgread_close(&r);
	free(z);
}

/* Cut anywhere, a stream is refused (and TMPDIR stays empty). */
static void expect_cuts_refused(struct fx *f, const uint8_t *z, size_t n,
				const char *kind)
{
	const size_t cuts[] = { 4, 20, n / 3, n / 2, n - 9, n - 1 };

	for (size_t i = 0; i < sizeof(cuts) / sizeof(*cuts); i++) {
		char name[32];
		struct mk_imgread r;
		struct mk_err e = { "" };
		const char *path;

		snprintf(name, sizeof(name), "cut%zu.%s", i, kind);
		path = put(f, name, z, cuts[i]);
		if (imgread_open(&r, path, &e) == 0)
			fail_msg("%s cut at %zu of %zu bytes was accepted", kind,
				 cuts[i], n);
		if (!strstr(e.msg, name) ||
		    (!strstr(e.msg, "ends early") && !strstr(e.msg, "damaged")))
			fail_msg("cut at %zu: %s", cuts[i], e.msg);
	}
	expect_tmpdir_empty(f);
}

static void test_truncated(void **state)
{
	struct fx *f = *state;
	size_t n;
	uint8_t *z = zstd_of(f->image, IMAGE_BYTES, 2, &n);

	expect_cuts_refused(f, z, n, "zst");
	free(z);
	z = gzip_of(f->image, IMAGE_BYTES, 2, &n);
	expect_cuts_refused(f, z, n, "gz");
	free(z);
}

static void test_damaged(void **state)
{
	struct fx *f = *state;
	size_t n;
	uint8_t *z = zstd_of(f->image, IMAGE_BYTES, 1, &n);

	z[n / 2] ^= 0x55;
	open_fails(put(f, "bad.zst", z, n), "damaged zstd stream");
	free(z);
	z = gzip_of(f->image, IMAGE_BYTES, 1, &n);
	z[n / 2] ^= 0x55;
	open_fails(put(f, "bad.gz", z, n), "damaged gzip stream");
	/* Bytes after a member that are no gzip member. */
	z = realloc(z, n + 8);
	assert_non_null(z);
	z[n / 2] ^= 0x55;
	memcpy(z + n, "trailing", 8);
	open_fails(put(f, "trail.gz", z, n + 8), "gzip stream");
	free(z);
}

static void test_refused(void **state)
{
	static const uint8_t xz[] = { 0xFD, '7', 'z', 'X', 'Z', 0, 1, 2 };
	static const uint8_t bz[] = { 'B', 'Z', 'h', '9', 1, 2 };
	struct fx *f = *state;
	char fifo[PATH_MAX];

	open_fails(put(f, "x.img.xz", xz, sizeof(xz)), "compressed with xz");
	open_fails(put(f, "x.img.bz2", bz, sizeof(bz)), "compressed with bzip2");
	open_fails(put(f, "empty.img", "", 0), "is empty");
	open_fails(tmptree_path(f->t, "missing.img"), "No such file");
	open_fails(f->tmpdir, "is a directory");
	snprintf(fifo, sizeof(fifo), "%s", tmptree_path(f->t, "fifo"));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	open_fails(fifo, "is a fifo");
}

/* TMPDIR that cannot take the copy: one line naming both. */
static void test_bad_tmpdir(void **state)
{
	struct fx *f = *state;
	size_t n;
	uint8_t *z = zstd_of(f->image, IMAGE_BYTES, 1, &n);
	const char *path = put(f, "ok.zst", z, n);
	char copy[PATH_MAX];

	snprintf(copy, sizeof(copy), "%s", path);
	setenv("TMPDIR", tmptree_path(f->t, "no-such-dir"), 1);
	open_fails(copy, "cannot make a file in");
	free(z);
}

#define FX(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX(test_plain),
		FX(test_zstd),
		FX(test_gzip),
		FX(test_truncated),
		FX(test_damaged),
		FX(test_refused),
		FX(test_bad_tmpdir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
