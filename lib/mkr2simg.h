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
	 * OUTPUT ending in ".zst" is written as one zstd stream, in ".gz"
	 * as one gzip stream, of the plain image (which is first written to
	 * an unnamed scratch file in OUTPUT's folder); the bytes depend on
	 * the image only.  `threads`: zstd's workers, 0 = every online CPU
	 * (the stream is the same for any number).
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
	 * the same folder).  May be NULL.
	 */
	void (*tempfile)(void *user, const char *path);
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

#ifdef __cplusplus
}
#endif
#endif
