/*
 * mkr2simg - command-line front end: parses options, calls
 * mkr2simg_build() from the public header, prints.  Nothing else.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mkr2simg.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2

enum long_only {
	OPT_TOPLEVEL = 256, OPT_REGISTRATION, OPT_STORE_ROOT, OPT_IDBLOADER,
	OPT_UBOOT_ITB, OPT_UBOOT_ROCKCHIP, OPT_DTB, OPT_TIMEOUT, OPT_BOOT_SIZE,
	OPT_ROOT_SIZE, OPT_ROOT_HEADROOM, OPT_SEED, OPT_NO_DEDUP, OPT_VERSION,
	OPT_NO_MEMORY_MAP_CHECK,
	OPT_BMAP, OPT_THREADS,
};

static const struct option long_options[] = {
	{ "toplevel", required_argument, NULL, OPT_TOPLEVEL },
	{ "registration", required_argument, NULL, OPT_REGISTRATION },
	{ "store-root", required_argument, NULL, OPT_STORE_ROOT },
	{ "idbloader", required_argument, NULL, OPT_IDBLOADER },
	{ "uboot-itb", required_argument, NULL, OPT_UBOOT_ITB },
	{ "uboot-rockchip", required_argument, NULL, OPT_UBOOT_ROCKCHIP },
	{ "dtb", required_argument, NULL, OPT_DTB },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "boot-size", required_argument, NULL, OPT_BOOT_SIZE },
	{ "root-size", required_argument, NULL, OPT_ROOT_SIZE },
	{ "root-headroom", required_argument, NULL, OPT_ROOT_HEADROOM },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "no-dedup", no_argument, NULL, OPT_NO_DEDUP },
	{ "no-memory-map-check", no_argument, NULL, OPT_NO_MEMORY_MAP_CHECK },
	{ "bmap", required_argument, NULL, OPT_BMAP },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static const char usage_text[] =
	"Usage: mkr2simg [OPTIONS] CLOSURE OUTPUT\n"
	"Write a bootable NanoPi R2S SD-card image from a Nix closure.\n"
	"\n"
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
	"  --bmap FILE             also write a bmaptool block map of the image\n"
	"                          (bmaptool copy --bmap FILE OUTPUT /dev/sdX)\n"
	"  --threads N             zstd threads (default: all cores; the\n"
	"                          output is the same for any N)\n"
	"  -q, --quiet             only warnings and errors\n"
	"  -v, --verbose           more detail\n"
	"  -h, --help              this text\n"
	"      --version           the version\n";

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

static void on_log(void *user, enum mkr2simg_log_level level, const char *msg)
{
	(void)user;
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

#define THREADS_MAX 200 /* libzstd's most */

static int parse_threads(const char *arg, unsigned *out)
{
	long long v;

	if (parse_count(arg, THREADS_MAX, &v) || v < 1)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_epoch(struct mkr2simg_options *o)
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
	o->source_date_epoch = v;
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
					   "threads from 1 to 200", optarg);
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
	case 'h': fputs(usage_text, stdout); return EXIT_SUCCESS;
	case OPT_VERSION: puts("mkr2simg " MKR2SIMG_VERSION); return EXIT_SUCCESS;
	default: fputs("Try 'mkr2simg --help'.\n", stderr); return EXIT_USAGE;
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

static void print_summary(const struct mkr2simg_options *o,
			  const struct mkr2simg_summary *s)
{
	char img[32], saved[32], fs[32], used[32];

	printf("mkr2simg: wrote %s (%s): %llu store paths, %llu files, %llu "
	       "directories, %llu symlinks; %llu identical files hardlinked, "
	       "saving %s; root filesystem %s, %s used\n", o->output,
	       human(s->image_bytes, img, sizeof(img)),
	       (unsigned long long)s->store_paths,
	       (unsigned long long)s->files,
	       (unsigned long long)s->directories,
	       (unsigned long long)s->symlinks,
	       (unsigned long long)s->dedup_links,
	       human(s->dedup_saved, saved, sizeof(saved)),
	       human(s->root_fs_bytes, fs, sizeof(fs)),
	       human(s->root_used_bytes, used, sizeof(used)));
}

int main(int argc, char **argv)
{
	struct mkr2simg_options o;
	struct mkr2simg_summary s;
	char err[1024];
	int c, quiet = 0;

	mkr2simg_options_init(&o);
	o.log = on_log;
	o.tempfile = on_tempfile;
	while ((c = getopt_long(argc, argv, "qvh", long_options, NULL)) != -1) {
		int rc = parse_option(c, &o);
		if (rc >= 0)
			return rc;
		quiet |= c == 'q';
	}
	if (quiet)
		o.log_level = MKR2SIMG_LOG_WARN;
	if (argc - optind != 2)
		return usage_error("%s", "expected CLOSURE and OUTPUT");
	o.closure = argv[optind];
	o.output = argv[optind + 1];
	if (parse_epoch(&o))
		return EXIT_USAGE;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	if (mkr2simg_build(&o, &s, err, sizeof(err)) != 0) {
		fprintf(stderr, "mkr2simg: %s\n", err);
		return EXIT_FAILED;
	}
	if (!quiet)
		print_summary(&o, &s);
	return EXIT_SUCCESS;
}
