/*
 * fuzz_registration.c - libFuzzer harness for the registration reader.
 *
 * mkr2simg does not parse --registration: image.c reads it whole with
 * mk_read_max (limit IMAGE_REGISTRATION_MAX), copies the bytes to
 * /nix-path-registration and hashes them into the seed.  So this owns
 * fuzzing that reader (util.c) as the registration takes it, plus the
 * other ways a caller reaches it: standard input as a pipe ("-") and a
 * fifo given by name (which must be refused, never waited on).
 *
 * Input: byte 0 = mode (bits 7-6: 0 regular file, 1 stdin pipe, 2 or 3
 * fifo by name; bits 5-0: the file holds the body that many + 1 times, to
 * cross the reader's 64 KiB chunks), bytes 1-2 = limit in 16-byte units
 * little endian (0xffff: IMAGE_REGISTRATION_MAX), then the body.
 * Oracle: success iff the bytes fit the limit (always failure for a
 * fifo), then exactly those bytes, NUL-terminated; failures name the
 * input.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "image.h"
#include "util.h"

#define HEADER 3
#define PIPE_BODY_MAX 60000 /* below a pipe's 64 KiB buffer: no writer */

enum mode { AS_FILE = 0, AS_STDIN = 1, AS_FIFO = 2 };

static struct fuzz_file input;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_file_open(&input, "registration");
	return 0;
}

/* A pipe holding `len` bytes, its write end closed; returns the read end. */
static int filled_pipe(const uint8_t *body, size_t len)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) != 0)
		fuzz_fail("pipe2 failed");
	if (len > 0 && write(p[1], body, len) != (ssize_t)len)
		fuzz_fail("write to the pipe failed");
	close(p[1]);
	return p[0];
}

/* mk_read_max("-") with standard input temporarily the pipe. */
static int read_stdin(int rd, uint64_t max, struct mk_buf *b,
		      struct mk_err *e)
{
	int saved = dup(STDIN_FILENO), rc;

	if (saved < 0 || dup2(rd, STDIN_FILENO) < 0)
		fuzz_fail("cannot redirect standard input");
	rc = mk_read_max("-", max, b, e);
	if (dup2(saved, STDIN_FILENO) < 0)
		fuzz_fail("cannot restore standard input");
	close(saved);
	return rc;
}

static void check_read(const struct mk_buf *b, const uint8_t *body,
		       size_t len, size_t copies)
{
	size_t i;

	if (b->len != len * copies)
		fuzz_fail("read %zu bytes of %zu", b->len, len * copies);
	for (i = 0; i < copies; i++)
		if (memcmp(b->data + i * len, body, len) != 0)
			fuzz_fail("bytes differ in copy %zu", i);
	if (b->data[b->len] != '\0')
		fuzz_fail("data not NUL-terminated");
}

/* A fifo given by name is refused, and never waited on. */
static void fuzz_fifo(const uint8_t *body, size_t len, uint64_t max)
{
	int fd = filled_pipe(body, len);
	struct mk_buf b = { NULL, 0 };
	char path[64];
	struct mk_err e;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (mk_read_max(path, max, &b, &e) == 0)
		fuzz_fail("a fifo was read as a registration");
	fuzz_check_err(&e, path);
	close(fd);
}

/* A regular file (`copies` times the body) or standard input (a pipe
 * holding the body once): read iff it fits the limit. */
static void fuzz_read(enum mode mode, const uint8_t *body, size_t len,
		      size_t copies, uint64_t max)
{
	const char *name = mode == AS_STDIN ? "<stdin>" : input.path;
	struct mk_buf b = { NULL, 0 };
	struct mk_err e;
	int rc, fd;

	if (mode == AS_STDIN) {
		fd = filled_pipe(body, len);
		rc = read_stdin(fd, max, &b, &e);
		close(fd);
	} else {
		fuzz_file_set(&input, body, len, copies);
		rc = mk_read_max(input.path, max, &b, &e);
	}
	if ((rc == 0) != (len * copies <= max))
		fuzz_fail("%zu bytes, limit %llu: reader says %d",
			  len * copies, (unsigned long long)max, rc);
	if (rc == 0)
		check_read(&b, body, len, copies);
	else
		fuzz_check_err(&e, name);
	free(b.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned mode = size ? data[0] >> 6 : AS_FILE;
	size_t copies = size ? (size_t)(data[0] & 0x3f) + 1 : 1;
	unsigned units = size >= HEADER ? data[1] | (unsigned)data[2] << 8
					: 0xffff;
	uint64_t max = units == 0xffff ? IMAGE_REGISTRATION_MAX
				       : (uint64_t)units * 16;
	const uint8_t *body = data + (size < HEADER ? size : HEADER);
	size_t len = size < HEADER ? 0 : size - HEADER;

	if (mode == AS_FILE) {
		fuzz_read(AS_FILE, body, len, copies, max);
		return 0;
	}
	len = len < PIPE_BODY_MAX ? len : PIPE_BODY_MAX;
	if (mode == AS_STDIN)
		fuzz_read(AS_STDIN, body, len, 1, max);
	else
		fuzz_fifo(body, len, max); /* modes 2 and 3 */
	return 0;
}
