/*
 * mkr2simg - command-line front end: picks the verb, parses its options,
 * calls the library through the public header, prints.  Nothing else.
 *
 * Verbs: each is one function `int cmd_VERB(int argc, char **argv)` (its
 * argv[0] is the program's name, argv[1] the first word after the verb)
 * and one line in `verbs` below; no verb means build.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mkr2simg.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define PROGRESS_INTERVAL 0.1 /* seconds between progress lines */
#define PROGRESS_WIDTH 79     /* a progress line is cut to this */

enum long_only {
	OPT_TOPLEVEL = 256, OPT_REGISTRATION, OPT_STORE_ROOT, OPT_IDBLOADER,
	OPT_UBOOT_ITB, OPT_UBOOT_ROCKCHIP, OPT_DTB, OPT_TIMEOUT, OPT_BOOT_SIZE,
	OPT_ROOT_SIZE, OPT_ROOT_HEADROOM, OPT_SEED, OPT_NO_DEDUP, OPT_VERSION,
	OPT_NO_MEMORY_MAP_CHECK,
	OPT_ENV_OFFSET, OPT_ENV_SIZE, OPT_ENV_REDUNDANT_OFFSET, OPT_JSON,
	OPT_BMAP, OPT_THREADS,
};

/* What shapes an image's contents: the same options for build and
 * verify. */
#define INPUT_OPTIONS \
	{ "toplevel", required_argument, NULL, OPT_TOPLEVEL }, \
	{ "registration", required_argument, NULL, OPT_REGISTRATION }, \
	{ "store-root", required_argument, NULL, OPT_STORE_ROOT }, \
	{ "idbloader", required_argument, NULL, OPT_IDBLOADER }, \
	{ "uboot-itb", required_argument, NULL, OPT_UBOOT_ITB }, \
	{ "uboot-rockchip", required_argument, NULL, OPT_UBOOT_ROCKCHIP }, \
	{ "dtb", required_argument, NULL, OPT_DTB }, \
	{ "timeout", required_argument, NULL, OPT_TIMEOUT }

/* U-Boot's saved environment: the same options for build, inspect and
 * verify. */
#define ENV_OPTIONS \
	{ "env-offset", required_argument, NULL, OPT_ENV_OFFSET }, \
	{ "env-size", required_argument, NULL, OPT_ENV_SIZE }, \
	{ "env-redundant-offset", required_argument, NULL, \
	  OPT_ENV_REDUNDANT_OFFSET }
#define ENV_USAGE \
	"  --env-offset OFFSET|none  U-Boot's saved environment on the card\n" \
	"                          (CONFIG_ENV_OFFSET; default 0x3F8000)\n" \
	"  --env-size SIZE         its size (CONFIG_ENV_SIZE; default 32K)\n" \
	"  --env-redundant-offset OFFSET  its second copy\n" \
	"                          (CONFIG_ENV_OFFSET_REDUND; default none)\n"

static const struct option long_options[] = {
	INPUT_OPTIONS,
	{ "boot-size", required_argument, NULL, OPT_BOOT_SIZE },
	{ "root-size", required_argument, NULL, OPT_ROOT_SIZE },
	{ "root-headroom", required_argument, NULL, OPT_ROOT_HEADROOM },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "no-dedup", no_argument, NULL, OPT_NO_DEDUP },
	{ "no-memory-map-check", no_argument, NULL, OPT_NO_MEMORY_MAP_CHECK },
	ENV_OPTIONS,
	{ "bmap", required_argument, NULL, OPT_BMAP },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* The verbs (see `verbs`) come between these two. */
static const char usage_head[] =
	"Usage: mkr2simg [build] [OPTIONS] CLOSURE OUTPUT\n"
	"       mkr2simg VERB [OPTIONS] ...   (mkr2simg VERB --help)\n"
	"Write a bootable NanoPi R2S SD-card image from a Nix closure.\n"
	"\n"
	"Verbs:\n";

static const char usage_text[] =
	"\n"
	"Options of build:\n"
	"  CLOSURE                 store paths, one per line ('-': stdin)\n"
	"  OUTPUT                  the image file to write; ending in .zst or\n"
	"                          .gz: compressed (zstd, gzip)\n"
	"  --toplevel PATH         NixOS system to boot (default: the one\n"
	"                          *-nixos-system-* path in CLOSURE)\n"
	"  --registration FILE     closureInfo's registration for first boot\n"
	"  --store-root DIR        read /nix/store/x from DIR/nix/store/x\n"
	"  --idbloader FILE        written at sector 64\n"
	"  --uboot-itb FILE        written at sector 16384\n"
	"  --uboot-rockchip FILE   combined bootloader at sector 64\n"
	"  --dtb NAME|none         device tree under dtbs/\n"
	"                          (default rockchip/rk3328-nanopi-r2s.dtb)\n"
	"  --timeout SECONDS|none  boot menu timeout (default 1; none: wait\n"
	"                          for a choice)\n"
	"  --boot-size SIZE        /boot partition (default 512M)\n"
	"  --root-size SIZE|auto   root partition (default auto)\n"
	"  --root-headroom SIZE    free space with auto (default 64M)\n"
	"  --seed STRING           source of every identifier\n"
	"  --no-dedup              no hardlinks between identical files\n"
	"  --no-memory-map-check   do not check that U-Boot's default\n"
	"                          environment leaves room for the kernel,\n"
	"                          initrd and device tree\n"
	ENV_USAGE
	"  --bmap FILE             also write a bmaptool block map of the image\n"
	"                          (bmaptool copy --bmap FILE OUTPUT /dev/sdX)\n"
	"  --threads N             zstd threads (default: all cores, at most\n"
	"                          4 used; the output is the same for any N)\n"
	"  -q, --quiet             only warnings and errors\n"
	"  -v, --verbose           more detail\n"
	"  -h, --help              this text\n"
	"      --version           the version\n";

static void print_usage(void);

/* The temporary output, for the signal handler to remove. */
static char temp_path[PATH_MAX];
static volatile sig_atomic_t have_temp;

static void on_tempfile(void *user, const char *path)
{
	(void)user;
	have_temp = 0;
	if (path && strlen(path) < sizeof(temp_path)) {
		strcpy(temp_path, path);
		have_temp = 1;
	}
}

static void on_signal(int sig)
{
	if (have_temp)
		unlink(temp_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* What the front end keeps between callbacks (the library's `user`). */
struct cli {
	int progress;          /* stderr is a terminal and not -q */
	size_t shown;          /* width of the progress line on screen */
	double start;          /* when the run started */
	double phase_start;    /* when the current phase started */
	double last;           /* when the progress line was last drawn */
	int phase;             /* the phase last drawn, or -1 */
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Removes the progress line so that other output starts clean. */
static void clear_progress(struct cli *c)
{
	if (c->shown)
		fprintf(stderr, "\r%*s\r", (int)c->shown, "");
	c->shown = 0;
}

static void on_log(void *user, enum mkr2simg_log_level level, const char *msg)
{
	clear_progress(user);
	fprintf(stderr, "mkr2simg: %s%s\n",
		level == MKR2SIMG_LOG_WARN ? "warning: " : "", msg);
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "mkr2simg: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see mkr2simg --help)\n");
	return EXIT_USAGE;
}

static int parse_size_arg(const char *opt, const char *arg, uint64_t *out)
{
	if (mkr2simg_parse_size(arg, out) != 0) {
		fprintf(stderr, "mkr2simg: %s %s: not a size (use e.g. 512M, "
			"2G)\n", opt, arg);
		return -1;
	}
	return 0;
}

/* --env-offset, --env-size, --env-redundant-offset (every verb):
 * 0 when `c` is one of them and its value reads, 1 when `c` is another
 * option, -1 after a message. */
static int parse_env_option(int c, const char *arg, uint64_t *offset,
			    uint64_t *size, uint64_t *redundant)
{
	static const char *const names[] = { "--env-offset", "--env-size",
					     "--env-redundant-offset" };
	uint64_t *slot = c == OPT_ENV_OFFSET ? offset
			 : c == OPT_ENV_SIZE ? size
			 : c == OPT_ENV_REDUNDANT_OFFSET ? redundant : NULL;
	const char *name;

	if (!slot)
		return 1;
	name = names[c - OPT_ENV_OFFSET];
	if (c != OPT_ENV_SIZE && strcmp(arg, "none") == 0) {
		*slot = 0; /* the library reads offset 0 as none */
		return 0;
	}
	if (mkr2simg_parse_offset(arg, slot) == 0 && (*slot || c == OPT_ENV_SIZE))
		return 0;
	fprintf(stderr, "mkr2simg: %s %s: not %s (use e.g. 0x3F8000, 32K%s)\n",
		name, arg, c == OPT_ENV_SIZE ? "a size" : "an offset",
		c == OPT_ENV_SIZE ? "" : ", or none");
	return -1;
}

/* Digits only: strtoll alone would take " 5", "+5" and overflow. */
static int parse_count(const char *text, long long max, long long *out)
{
	char *end;
	long long v;

	if (*text < '0' || *text > '9')
		return -1;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (*end != '\0' || errno == ERANGE || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_timeout(const char *arg, int *out)
{
	long long v;

	if (strcmp(arg, "none") == 0) {
		*out = MKR2SIMG_TIMEOUT_NONE;
		return 0;
	}
	if (parse_count(arg, INT_MAX / 10, &v))
		return -1;
	*out = (int)v;
	return 0;
}

#define STR_(x) #x
#define STR(x) STR_(x)

static int parse_threads(const char *arg, unsigned *out)
{
	long long v;

	if (parse_count(arg, MKR2SIMG_THREADS_MAX, &v) || v < 1)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_epoch(int64_t *out)
{
	const char *env = getenv("SOURCE_DATE_EPOCH");
	long long v;

	if (!env || !*env)
		return 0;
	if (parse_count(env, LLONG_MAX, &v)) {
		fprintf(stderr, "mkr2simg: SOURCE_DATE_EPOCH=%s: not a number "
			"of seconds\n", env);
		return -1;
	}
	*out = v;
	return 0;
}

/* Returns -1 to go on, or the exit code when done. */
static int parse_option(int c, struct mkr2simg_options *o)
{
	switch (c) {
	case OPT_TOPLEVEL: o->toplevel = optarg; break;
	case OPT_REGISTRATION: o->registration = optarg; break;
	case OPT_STORE_ROOT: o->store_root = optarg; break;
	case OPT_IDBLOADER: o->idbloader = optarg; break;
	case OPT_UBOOT_ITB: o->uboot_itb = optarg; break;
	case OPT_UBOOT_ROCKCHIP: o->uboot_rockchip = optarg; break;
	case OPT_DTB: o->dtb = optarg; break;
	case OPT_SEED: o->seed = optarg; break;
	case OPT_NO_DEDUP: o->no_dedup = 1; break;
	case OPT_NO_MEMORY_MAP_CHECK: o->no_memory_map_check = 1; break;
	case OPT_BMAP: o->bmap = optarg; break;
	case OPT_THREADS:
		if (parse_threads(optarg, &o->threads))
			return usage_error("--threads %s: not a number of "
					   "threads from 1 to "
					   STR(MKR2SIMG_THREADS_MAX), optarg);
		break;
	case 'q': o->log_level = MKR2SIMG_LOG_WARN; break;
	case 'v': o->log_level = MKR2SIMG_LOG_DEBUG; break;
	case OPT_TIMEOUT:
		if (parse_timeout(optarg, &o->timeout_seconds))
			return usage_error("--timeout %s: not a whole number "
					   "of seconds or none", optarg);
		break;
	case OPT_BOOT_SIZE:
		return parse_size_arg("--boot-size", optarg, &o->boot_size)
			       ? EXIT_USAGE : -1;
	case OPT_ROOT_SIZE:
		if (strcmp(optarg, "auto") == 0) {
			o->root_size = 0;
			break;
		}
		if (parse_size_arg("--root-size", optarg, &o->root_size))
			return EXIT_USAGE;
		if (o->root_size == 0) /* the library reads 0 as auto */
			return usage_error("--root-size %s: a size of nothing; "
					   "use auto for the smallest that fits",
					   optarg);
		return -1;
	case OPT_ROOT_HEADROOM:
		return parse_size_arg("--root-headroom", optarg,
				      &o->root_headroom) ? EXIT_USAGE : -1;
	case 'h': print_usage(); return EXIT_SUCCESS;
	case OPT_VERSION: puts("mkr2simg " MKR2SIMG_VERSION); return EXIT_SUCCESS;
	default:
		switch (parse_env_option(c, optarg, &o->env_offset, &o->env_size,
					 &o->env_redundant_offset)) {
		case 0: return -1;
		case 1: fputs("Try 'mkr2simg --help'.\n", stderr); break;
		}
		return EXIT_USAGE;
	}
	return -1;
}

/* "12.3 MiB", "512 B": bytes in the largest unit that keeps >= 1. */
static const char *human(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
	return buf;
}

static void append(char *buf, size_t size, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len = *len + (size_t)n < size ? *len + (size_t)n : size - 1;
}

/* "writing /nix/store: 1200/67850 files, 1.2 GiB of 1.9 GiB, 210.0
 * MiB/s, 0:03 left", redrawn in place at most every PROGRESS_INTERVAL. */
static void on_progress(void *user, const struct mkr2simg_progress *p)
{
	struct cli *c = user;
	char line[256], a[32], b[32];
	double t = now(), secs, rate;
	size_t len = 0;

	if (!c->progress)
		return;
	if ((int)p->phase != c->phase) {
		c->phase = (int)p->phase;
		c->phase_start = t;
	} else if (t - c->last < PROGRESS_INTERVAL) {
		return;
	}
	c->last = t;
	secs = t - c->phase_start;
	rate = secs > 0 ? (double)p->bytes_done / secs : 0;
	append(line, sizeof(line), &len, "%s", p->phase_name);
	if (p->files_total)
		append(line, sizeof(line), &len, ": %llu/%llu files",
		       (unsigned long long)p->files_done,
		       (unsigned long long)p->files_total);
	else if (p->files_done)
		append(line, sizeof(line), &len, ": %llu files",
		       (unsigned long long)p->files_done);
	if (p->bytes_total)
		append(line, sizeof(line), &len, ", %s/%s",
		       human(p->bytes_done, a, sizeof(a)),
		       human(p->bytes_total, b, sizeof(b)));
	else if (p->bytes_done)
		append(line, sizeof(line), &len, ", %s",
		       human(p->bytes_done, a, sizeof(a)));
	if (rate >= 1 && secs >= PROGRESS_INTERVAL)
		append(line, sizeof(line), &len, ", %s/s",
		       human((uint64_t)rate, a, sizeof(a)));
	if (rate >= 1 && p->bytes_total > p->bytes_done) {
		uint64_t left = (uint64_t)((double)(p->bytes_total -
						    p->bytes_done) / rate);

		append(line, sizeof(line), &len, ", ETA %llu:%02llu",
		       (unsigned long long)(left / 60),
		       (unsigned long long)(left % 60));
	}
	if (len > PROGRESS_WIDTH)
		len = PROGRESS_WIDTH;
	fprintf(stderr, "\r%.*s%*s", (int)len, line,
		c->shown > len ? (int)(c->shown - len) : 0, "");
	c->shown = len;
}

static void print_summary(const struct mkr2simg_options *o,
			  const struct mkr2simg_summary *s, double secs)
{
	char img[32], saved[32], fs[32], used[32];

	printf("mkr2simg: wrote %s (%s) in %.1f s: %llu store paths, %llu "
	       "files, %llu directories, %llu symlinks; %llu identical files "
	       "hardlinked, saving %s; root filesystem %s, %s used\n",
	       o->output,
	       human(s->image_bytes, img, sizeof(img)), secs,
	       (unsigned long long)s->store_paths,
	       (unsigned long long)s->files,
	       (unsigned long long)s->directories,
	       (unsigned long long)s->symlinks,
	       (unsigned long long)s->dedup_links,
	       human(s->dedup_saved, saved, sizeof(saved)),
	       human(s->root_fs_bytes, fs, sizeof(fs)),
	       human(s->root_used_bytes, used, sizeof(used)));
}

/* ---- mkr2simg verify ------------------------------------------------ */

#define VERIFY_SHOWN_MAX 100 /* difference lines printed; then a count */

static const struct option verify_options[] = {
	INPUT_OPTIONS,
	ENV_OPTIONS,
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char verify_usage_text[] =
	"Usage: mkr2simg verify [OPTIONS] IMAGE CLOSURE\n"
	"Check that IMAGE holds exactly what mkr2simg writes for CLOSURE:\n"
	"both GPT copies, the bootloader area, /boot and every store path\n"
	"(bytes, modes, owners, times, symlinks, hardlinks), nothing more.\n"
	"The image is only read.  Give the options that shaped it:\n"
	"\n"
	"  --store-root DIR        read /nix/store/x from DIR/nix/store/x\n"
	"  --registration FILE     expected /nix-path-registration (without:\n"
	"                          the image must have none)\n"
	"  --toplevel PATH         NixOS system the image boots\n"
	"  --idbloader FILE        expected at sector 64\n"
	"  --uboot-itb FILE        expected at sector 16384\n"
	"  --uboot-rockchip FILE   expected at sector 64 instead\n"
	"                          (none given: the area must be zeros)\n"
	"  --dtb NAME|none         device tree of extlinux.conf\n"
	"  --timeout SECONDS|none  boot menu timeout (default 1)\n"
	ENV_USAGE
	"                          (a valid saved environment there is a\n"
	"                          difference: U-Boot would boot with it)\n"
	"  -q, --quiet             no line when all agree\n"
	"  -h, --help              this text\n"
	"SOURCE_DATE_EPOCH as for the build.  Exit status: 0 all agree, 1\n"
	"differences (one line each on stdout), 2 trouble (bad usage, an\n"
	"input that cannot be read).\n";

struct shown_lines {
	unsigned long long count;
};

static void on_difference(void *user, const char *line)
{
	struct shown_lines *sl = user;

	if (sl->count++ < VERIFY_SHOWN_MAX)
		printf("%s\n", line);
}

/* Returns -1 to go on, or the exit code when done. */
static int parse_verify_option(int c, struct mkr2simg_verify_options *o,
			       int *quiet)
{
	switch (c) {
	case OPT_TOPLEVEL: o->toplevel = optarg; break;
	case OPT_REGISTRATION: o->registration = optarg; break;
	case OPT_STORE_ROOT: o->store_root = optarg; break;
	case OPT_IDBLOADER: o->idbloader = optarg; break;
	case OPT_UBOOT_ITB: o->uboot_itb = optarg; break;
	case OPT_UBOOT_ROCKCHIP: o->uboot_rockchip = optarg; break;
	case OPT_DTB: o->dtb = optarg; break;
	case 'q': *quiet = 1; break;
	case OPT_TIMEOUT:
		if (parse_timeout(optarg, &o->timeout_seconds))
			return usage_error("--timeout %s: not a whole number "
					   "of seconds or none", optarg);
		break;
	case 'h': fputs(verify_usage_text, stdout); return EXIT_SUCCESS;
	default:
		switch (parse_env_option(c, optarg, &o->env_offset,
					 &o->env_size,
					 &o->env_redundant_offset)) {
		case 0: return -1;
		case 1: fputs("Try 'mkr2simg verify --help'.\n", stderr);
		}
		return EXIT_USAGE;
	}
	return -1;
}

/* Exit codes as diff(1) and cmp(1). */
static int cmd_verify(int argc, char **argv)
{
	struct mkr2simg_verify_options o;
	struct shown_lines sl = { 0 };
	char err[1024];
	int c, quiet = 0, rc;

	mkr2simg_verify_options_init(&o);
	while ((c = getopt_long(argc, argv, "qh", verify_options, NULL)) != -1) {
		rc = parse_verify_option(c, &o, &quiet);
		if (rc >= 0)
			return rc;
	}
	if (argc - optind != 2)
		return usage_error("%s", "verify: expected IMAGE and CLOSURE");
	o.image = argv[optind];
	o.closure = argv[optind + 1];
	if (parse_epoch(&o.source_date_epoch))
		return EXIT_USAGE;
	rc = mkr2simg_verify(&o, on_difference, &sl, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "mkr2simg: verify: %s\n", err);
		return EXIT_USAGE;
	}
	if (sl.count > VERIFY_SHOWN_MAX)
		printf("and %llu more\n", sl.count - VERIFY_SHOWN_MAX);
	if (rc > 0) {
		fprintf(stderr, "mkr2simg: verify: %s: %llu difference%s from "
			"what mkr2simg writes for %s\n", o.image, sl.count,
			sl.count == 1 ? "" : "s", o.closure);
		return EXIT_FAILED;
	}
	if (!quiet)
		printf("mkr2simg: verify: %s holds exactly what mkr2simg writes "
		       "for %s\n", o.image, o.closure);
	return EXIT_SUCCESS;
}

static int cmd_build(int argc, char **argv)
{
	struct cli cli = { .start = now(), .phase = -1 };
	struct mkr2simg_options o;
	struct mkr2simg_summary s;
	char err[1024];
	int c, quiet = 0, rc;

	mkr2simg_options_init(&o);
	o.log = on_log;
	o.tempfile = on_tempfile;
	o.progress = on_progress;
	o.user = &cli;
	while ((c = getopt_long(argc, argv, "qvh", long_options, NULL)) != -1) {
		rc = parse_option(c, &o);
		if (rc >= 0)
			return rc;
		quiet |= c == 'q';
	}
	if (quiet)
		o.log_level = MKR2SIMG_LOG_WARN;
	cli.progress = !quiet && isatty(STDERR_FILENO);
	if (argc - optind != 2)
		return usage_error("%s", "expected CLOSURE and OUTPUT");
	o.closure = argv[optind];
	o.output = argv[optind + 1];
	if (parse_epoch(&o.source_date_epoch))
		return EXIT_USAGE;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	rc = mkr2simg_build(&o, &s, err, sizeof(err));
	clear_progress(&cli);
	if (rc != 0) {
		fprintf(stderr, "mkr2simg: %s\n", err);
		return EXIT_FAILED;
	}
	if (!quiet)
		print_summary(&o, &s, now() - cli.start);
	return EXIT_SUCCESS;
}

/* ---- inspect ------------------------------------------------------- */

static const struct option inspect_options[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	ENV_OPTIONS,
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char inspect_usage[] =
	"Usage: mkr2simg inspect [--json] [OPTIONS] IMAGE\n"
	"Show what an SD-card image (plain, .zst or .gz; ours or any GPT\n"
	"image) or a card's block device holds: partition tables, raw\n"
	"regions, U-Boot's saved environment, partitions and filesystems,\n"
	"the extlinux entry.\n"
	"\n"
	"  --json                  JSON (fields in README, \"format\": 1)\n"
	ENV_USAGE
	"                          where to look for a saved environment\n"
	"  -h, --help              this text\n";

static int cmd_inspect(int argc, char **argv)
{
	struct mkr2simg_inspect_options o;
	char err[1024], *report;
	int c;

	mkr2simg_inspect_options_init(&o);
	while ((c = getopt_long(argc, argv, "h", inspect_options, NULL)) != -1) {
		if (c == OPT_JSON) {
			o.json = 1;
		} else if (c == 'h') {
			fputs(inspect_usage, stdout);
			return EXIT_SUCCESS;
		} else if (parse_env_option(c, optarg, &o.env_offset,
					    &o.env_size,
					    &o.env_redundant_offset) != 0) {
			if (c == '?')
				fputs("Try 'mkr2simg inspect --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fputs("mkr2simg: inspect: expected one IMAGE (see mkr2simg "
		      "inspect --help)\n", stderr);
		return EXIT_USAGE;
	}
	o.image = argv[optind];
	if (mkr2simg_inspect(&o, &report, err, sizeof(err)) != 0) {
		fprintf(stderr, "mkr2simg: %s\n", err);
		return EXIT_FAILED;
	}
	fputs(report, stdout);
	free(report);
	return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILED;
}

/* ---- verbs ----------------------------------------------------------- */

static const struct verb {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} verbs[] = {
	{ "build", cmd_build, "write an image (the default)" },
	{ "inspect", cmd_inspect, "show what an image or a card holds" },
	{ "verify", cmd_verify, "check an image against its closure" },
};

static void print_usage(void)
{
	fputs(usage_head, stdout);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(*verbs); i++)
		printf("  %-23s %s\n", verbs[i].name, verbs[i].summary);
	fputs(usage_text, stdout);
}

int main(int argc, char **argv)
{
	for (size_t i = 0; argc > 1 && i < sizeof(verbs) / sizeof(*verbs); i++)
		if (strcmp(argv[1], verbs[i].name) == 0) {
			/* The verb's own argv[0] is still the program. */
			argv[1] = argv[0];
			return verbs[i].run(argc - 1, argv + 1);
		}
	return cmd_build(argc, argv);
}
