/*
 * mkr2simg.h - the one public header of libmkr2simg.
 *
 * Owns: the options a caller sets, the summary it gets back, and the
 * entry point that writes a whole NanoPi R2S SD-card image from a Nix
 * closure.  Does not own: option parsing for any particular front end
 * (cmd/ does that) or signal handling (the caller's business; see
 * `tempfile` below for what it needs to clean up).
 */
#ifndef MKR2SIMG_H
#define MKR2SIMG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MKR2SIMG_VERSION "0.1.0"

#define MKR2SIMG_TIMEOUT_NONE (-1) /* timeout_seconds: no timeout */
#define MKR2SIMG_THREADS_MAX 200    /* threads: the most used (libzstd's) */

/*
 * The library is built with hidden visibility (meson.build); only what
 * carries MKR2SIMG_API is exported.  MKR2SIMG_BUILDING is defined only
 * while compiling libmkr2simg itself, so callers see a plain declaration.
 */
#if defined(MKR2SIMG_BUILDING) && defined(__GNUC__)
#define MKR2SIMG_API __attribute__((visibility("default")))
#else
#define MKR2SIMG_API
#endif

enum mkr2simg_log_level {
	MKR2SIMG_LOG_WARN = 0, /* something the user should know */
	MKR2SIMG_LOG_INFO = 1, /* one line per major step */
	MKR2SIMG_LOG_DEBUG = 2 /* per-file detail */
};

/* The steps of a build, in order, as the progress callback names them. */
enum mkr2simg_phase {
	MKR2SIMG_PHASE_READING = 0, /* walking the closure: counts only */
	MKR2SIMG_PHASE_DEDUP = 1,   /* finding identical files */
	MKR2SIMG_PHASE_BOOT = 2,    /* writing /boot */
	MKR2SIMG_PHASE_ROOT = 3,    /* writing the store */
	MKR2SIMG_PHASE_FINISH = 4   /* compressing, syncing, naming */
};

/* Where a build is; a total of 0 means not known (yet). */
struct mkr2simg_progress {
	enum mkr2simg_phase phase;
	const char *phase_name;  /* "reading", "writing /nix/store", ... */
	uint64_t files_done, files_total;
	uint64_t bytes_done, bytes_total;
};

struct mkr2simg_options {
	const char *closure;        /* store-paths file, "-" for stdin */
	const char *output;         /* image file to write */
	const char *toplevel;       /* NULL: the one *-nixos-system-* path */
	const char *registration;   /* NULL: no /nix-path-registration */
	const char *store_root;     /* NULL or "/": the host's store */
	const char *idbloader;      /* written at sector 64, or NULL */
	const char *uboot_itb;      /* written at sector 16384, or NULL */
	const char *uboot_rockchip; /* combined image at sector 64, or NULL */
	const char *dtb;            /* NULL: default; "none": FDTDIR */
	int timeout_seconds;        /* extlinux menu timeout, or
				       MKR2SIMG_TIMEOUT_NONE: wait for a
				       choice (boot.loader.timeout = null) */
	uint64_t boot_size;         /* bytes of partition 1 */
	uint64_t root_size;         /* bytes of partition 2, 0 = auto */
	uint64_t root_headroom;     /* free bytes added with auto */
	const char *seed;           /* NULL: identifiers from the inputs */
	int no_dedup;               /* 1: every file its own inode */
	int no_memory_map_check;    /* 1: do not check the kernel, initrd
				       and device tree against the U-Boot
				       default environment's addresses */
	int64_t source_date_epoch;  /* -1: unset; filesystem times */

	/*
	 * Where U-Boot keeps its saved environment (`saveenv`) on the card,
	 * in bytes: CONFIG_ENV_OFFSET, CONFIG_ENV_SIZE and
	 * CONFIG_ENV_OFFSET_REDUND of the U-Boot build (defaults: the R2S's,
	 * 0x3F8000, 32 KiB, no redundant copy).  The range lies between the
	 * primary GPT and partition 1 and is written as zeros, so a card's
	 * old environment never survives flashing; a bootloader file with
	 * anything but padding there is refused.  An offset of 0: none.
	 */
	uint64_t env_offset;
	uint64_t env_size;
	uint64_t env_redundant_offset;
	/*
	 * OUTPUT ending in ".zst" is written as zstd frames of 2 MiB of
	 * the image each, compressed while the image is written, in ".gz"
	 * as one gzip stream, of the plain image (which is written to an
	 * unnamed scratch file in OUTPUT's folder); the bytes depend on the
	 * image only.  `threads`: zstd's threads, 0 = every online CPU, at
	 * most MKR2SIMG_THREADS_MAX, of which 4 are used (the stream is the
	 * same for any).
	 */
	unsigned threads;
	const char *bmap;           /* NULL, or a bmaptool block map (format
				       2.0, SHA-256) of the plain image to
				       write: published with OUTPUT, both or
				       neither */

	/* Called for every message below `log_level`; may be NULL. */
	void (*log)(void *user, enum mkr2simg_log_level level, const char *msg);
	enum mkr2simg_log_level log_level;
	/*
	 * The image is written to an unnamed file (O_TMPFILE) that leaves
	 * nothing behind however the process ends.  Only where OUTPUT's
	 * filesystem lacks O_TMPFILE is a named temporary used: this is
	 * called with its path once it exists and with NULL once it is
	 * renamed or removed, so that a caller's signal handler can unlink
	 * it (a temporary left by `kill -9` is removed by the next run in
	 * the same folder).  With `bmap`, the bmap's temporary is reported
	 * while it is written at the end, then OUTPUT's again.  May be NULL.
	 */
	void (*tempfile)(void *user, const char *path);
	/*
	 * Called when a phase starts and as files and bytes are done
	 * (often: after every file and every MiB; the caller throttles
	 * what it shows).  May be NULL.
	 */
	void (*progress)(void *user, const struct mkr2simg_progress *p);
	void *user;
};

struct mkr2simg_summary {
	uint64_t image_bytes;     /* size of the image file */
	uint64_t store_paths;     /* distinct closure paths written */
	uint64_t files;           /* regular files (directory entries) */
	uint64_t directories;     /* directories below /nix/store */
	uint64_t symlinks;        /* symlinks below /nix/store */
	uint64_t content_bytes;   /* bytes of all regular files */
	uint64_t dedup_links;     /* files that became extra hardlinks */
	uint64_t dedup_saved;     /* bytes those links did not store */
	uint64_t boot_fs_bytes;   /* size of the /boot filesystem */
	uint64_t root_fs_bytes;   /* size of the root filesystem */
	uint64_t root_used_bytes; /* of which in use after writing */
};

/* Fills `o` with the documented defaults. */
MKR2SIMG_API void mkr2simg_options_init(struct mkr2simg_options *o);

/*
 * Writes the image.  Returns 0, or -1 with a one-line message in `err`
 * naming the file or path at fault; on failure no output file is left.
 */
MKR2SIMG_API int mkr2simg_build(const struct mkr2simg_options *o,
				struct mkr2simg_summary *summary,
				char *err, size_t errlen);

/*
 * Parses "512M", "2G", "1048576", "64K" (powers of 1024).  Returns 0,
 * or -1 when the text is not a size.
 */
MKR2SIMG_API int mkr2simg_parse_size(const char *text, uint64_t *bytes);

/*
 * Parses an offset as U-Boot's configuration writes one ("0x3F8000",
 * hexadecimal after "0x") or anything mkr2simg_parse_size reads.
 * Returns 0, or -1 when the text is neither.
 */
MKR2SIMG_API int mkr2simg_parse_offset(const char *text, uint64_t *bytes);

/* ---- inspect: what an image (or a card read back) holds ------------ */

struct mkr2simg_inspect_options {
	const char *image;             /* plain, .zst or .gz (by content) */
	int json;                      /* 1: JSON (README, "format": 1) */
	uint64_t env_offset;           /* U-Boot saved environment, as in */
	uint64_t env_size;             /* mkr2simg_options; offset 0: do */
	uint64_t env_redundant_offset; /* not look */
};

/* Fills `o` with the defaults (text, the R2S's environment range). */
MKR2SIMG_API void
mkr2simg_inspect_options_init(struct mkr2simg_inspect_options *o);

/*
 * Reads the image and describes it: partition tables, raw regions, the
 * U-Boot saved environment, partitions and their filesystems, the
 * extlinux entry.  Returns 0 with the whole report in *report (malloc'd,
 * NUL-terminated; the caller frees it with free()), or -1 with a
 * one-line message in `err` naming the file (unreadable, not a disk
 * image, a broken compressed stream).
 */
MKR2SIMG_API int mkr2simg_inspect(const struct mkr2simg_inspect_options *o,
				  char **report, char *err, size_t errlen);

/* ---- verify: an image read back against its inputs ---------------- */

/* The build's options that shape what an image holds, and the image. */
struct mkr2simg_verify_options {
	const char *image;          /* read only, never written */
	const char *closure;        /* store-paths file, "-" for stdin */
	const char *toplevel;       /* NULL: the one *-nixos-system-* path */
	const char *registration;   /* NULL: the image must have none */
	const char *store_root;     /* NULL or "/": the host's store */
	const char *idbloader;      /* bootloaders the raw area must hold; */
	const char *uboot_itb;      /* NULL: none there (zeros)           */
	const char *uboot_rockchip;
	const char *dtb;            /* NULL: default; "none": FDTDIR */
	int timeout_seconds;        /* as in mkr2simg_options */
	int64_t source_date_epoch;  /* -1: unset */
	uint64_t env_offset;        /* U-Boot's saved environment, as in */
	uint64_t env_size;          /* mkr2simg_options: checked the same */
	uint64_t env_redundant_offset; /* way; a valid one there is a
					  difference */
};

/* Fills `o` with the build's defaults. */
MKR2SIMG_API void mkr2simg_verify_options_init(struct mkr2simg_verify_options *o);

/*
 * Reads the image back and compares it with what mkr2simg_build writes
 * for these inputs (with any --seed, sizes, --no-dedup): both GPT
 * copies, the bootloader area, /boot and every store path, byte for
 * byte.  Calls `difference` (may be NULL) with one line per difference,
 * naming the path or region.  Returns 0 when there is none, 1 when there
 * were differences, -1 with a one-line message in `err` when the
 * comparison cannot be made (an input cannot be read, out of memory).
 */
MKR2SIMG_API int mkr2simg_verify(const struct mkr2simg_verify_options *o,
				 void (*difference)(void *user,
						    const char *line),
				 void *user, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
