#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mkr2simg.h"

#define READ_CHUNK 65536

static int read_fd(int fd, const char *name, uint64_t max,
		   struct mk_buf *out, struct mk_err *e)
{
	size_t cap = READ_CHUNK;
	char *data = malloc(cap + 1);
	size_t len = 0;

	if (!data)
		return mk_fail(e, "out of memory reading %s", name);
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nd = realloc(data, cap * 2 + 1);
			if (!nd) {
				free(data);
				return mk_fail(e, "out of memory reading %s", name);
			}
			data = nd;
			cap *= 2;
		}
		n = read(fd, data + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;
			free(data);
			return mk_fail_errno(e, err, "%s: cannot read", name);
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			free(data);
			return mk_fail(e, "%s: more than the %llu bytes mkr2simg "
				       "reads from it", name,
				       (unsigned long long)max);
		}
	}
	data[len] = '\0';
	out->data = data;
	out->len = len;
	return 0;
}

int mk_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int mk_parse_hex(const char *digits, uint64_t *out)
{
	uint64_t n = 0;
	const char *p = digits;
	int d;

	if (*p == '\0')
		return -1;
	for (; *p; p++) {
		if ((d = mk_hex_value(*p)) < 0 || n > (UINT64_MAX >> 4))
			return -1;
		n = n << 4 | (uint64_t)d;
	}
	*out = n;
	return 0;
}

const char *mk_file_kind(mode_t mode)
{
	if (S_ISREG(mode))
		return "regular file";
	if (S_ISDIR(mode))
		return "directory";
	if (S_ISLNK(mode))
		return "symlink";
	if (S_ISFIFO(mode))
		return "fifo";
	if (S_ISSOCK(mode))
		return "socket";
	if (S_ISCHR(mode))
		return "character device";
	return "block device";
}

/* Standard input may be a pipe; anything else must be a regular file,
 * so that reading it ends (no fifo, device or terminal). */
static int check_input(int fd, const char *name, int is_stdin, uint64_t max,
		       struct mk_err *e)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return mk_fail_errno(e, errno, "%s: cannot read", name);
	if (!S_ISREG(st.st_mode) && !(is_stdin && S_ISFIFO(st.st_mode)))
		return mk_fail(e, "%s: is a %s, not a regular file%s", name,
			       mk_file_kind(st.st_mode),
			       is_stdin ? " or a pipe" : "");
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max)
		return mk_fail(e, "%s: %llu bytes, more than the %llu bytes "
			       "mkr2simg reads from it", name,
			       (unsigned long long)st.st_size,
			       (unsigned long long)max);
	return 0;
}

int mk_read_max(const char *path, uint64_t max, struct mk_buf *out,
		struct mk_err *e)
{
	int is_stdin = strcmp(path, "-") == 0, fd, rc;
	const char *name = is_stdin ? "<stdin>" : path;

	/* O_NONBLOCK: opening a fifo must not wait for a writer. */
	fd = is_stdin ? STDIN_FILENO
		      : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return mk_fail_errno(e, errno, "%s: cannot open", path);
	rc = check_input(fd, name, is_stdin, max, e);
	if (rc == 0)
		rc = read_fd(fd, name, max, out, e);
	if (!is_stdin)
		close(fd);
	return rc;
}

int mk_open_regular(int at, const char *name, const char *shown,
		    struct mk_err *e)
{
	int fd = openat(at, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
					  O_NONBLOCK | O_NOCTTY);
	struct stat st;

	if (fd < 0)
		return mk_fail_errno(e, errno, "%s: cannot open", shown);
	if (fstat(fd, &st) != 0) {
		int err = errno;
		close(fd);
		return mk_fail_errno(e, err, "%s: cannot read", shown);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return mk_fail(e, "%s: is now a %s, not the regular file it "
			       "was (it changed while being read)", shown,
			       mk_file_kind(st.st_mode));
	}
	return fd;
}

int mk_read_all(const char *path, struct mk_buf *out, struct mk_err *e)
{
	return mk_read_max(path, MK_READ_MAX, out, e);
}

char *mk_strndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int mk_grow(void *array_ptr, size_t *cap, size_t count, size_t size)
{
	void **array = array_ptr;
	size_t ncap = *cap ? *cap * 2 : 64;
	void *grown;

	if (count < *cap)
		return 0;
	if (ncap < *cap || (size && ncap > SIZE_MAX / size))
		return -1;
	grown = realloc(*array, ncap * size);
	if (!grown)
		return -1;
	*array = grown;
	*cap = ncap;
	return 0;
}

char *mk_path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb;
	char *p;

	while (la > 0 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	lb = strlen(b);
	p = malloc(la + 1 + lb + 1);
	if (!p)
		return NULL;
	memcpy(p, a, la);
	p[la] = '/';
	memcpy(p + la + 1, b, lb + 1);
	return p;
}

int mk_is_zero(const void *p, size_t len)
{
	const unsigned char *b = p;

	/* Compare the buffer with itself shifted by one byte: all equal and
	 * the first byte zero means all zero, at memcmp speed. */
	return len == 0 || (b[0] == 0 && memcmp(b, b + 1, len - 1) == 0);
}

int mk_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return ENOSPC;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

long mk_read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (long)got;
}

const char *mk_size_text(uint64_t bytes, char buf[MK_SIZE_TEXT_MAX])
{
	static const char units[] = "TGMK";
	unsigned shift;

	for (shift = 40; bytes && shift >= 10; shift -= 10)
		if (bytes % (1ull << shift) == 0) {
			snprintf(buf, MK_SIZE_TEXT_MAX, "%llu%c",
				 (unsigned long long)(bytes >> shift),
				 units[(40 - shift) / 10]);
			return buf;
		}
	snprintf(buf, MK_SIZE_TEXT_MAX, "%llu", (unsigned long long)bytes);
	return buf;
}

int mkr2simg_parse_size(const char *text, uint64_t *bytes)
{
	static const struct { char suffix; unsigned shift; } units[] = {
		{ 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 },
	};
	uint64_t value = 0;
	const char *p = text;
	unsigned shift = 0;
	size_t i;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		uint64_t digit = (uint64_t)(*p - '0');

		if (value > (UINT64_MAX - digit) / 10)
			return -1;
		value = value * 10 + digit;
	}
	if (*p != '\0') {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if ((*p & ~0x20) == units[i].suffix)
				shift = units[i].shift;
		if (shift == 0)
			return -1;
		p++;
		if (*p == 'i' && p[1] == 'B')
			p += 2;
		else if (*p == 'B')
			p++;
		if (*p != '\0' || value > (UINT64_MAX >> shift))
			return -1;
	}
	*bytes = value << shift;
	return 0;
}

int mkr2simg_parse_offset(const char *text, uint64_t *bytes)
{
	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
		return mk_parse_hex(text + 2, bytes);
	return mkr2simg_parse_size(text, bytes);
}
