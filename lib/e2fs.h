/*
 * e2fs.h - what every part of the library that uses libext2fs does
 * alike.
 *
 * Owns: the text of libext2fs's error codes -- its com_err table
 * registered with com_err before any message is made (com_err keeps the
 * list for the process; registering again finds the table there and
 * adds nothing), so that no path prints "Unknown code ext2 N" -- and
 * opening the filesystem at a byte offset of an image file read-only.
 * Does not own: writing filesystems (ext4fs.c), what is read from them
 * (ext4info.c, treecmp.c), or which image file (imgread.c).
 *
 * libext2fs is used from one thread at a time (the build's writer, or
 * the reader of inspect and verify), as com_err's list expects.
 */
#ifndef MK_E2FS_H
#define MK_E2FS_H

#include <stdint.h>

#include <ext2fs/ext2fs.h>

/* libext2fs's text for `err`: one of its own codes, or an errno. */
const char *e2fs_message(errcode_t err);

/*
 * Opens the filesystem at byte `offset` of the image file `path` (any
 * name, e.g. imgread.h's "/proc/self/fd/N") read-only: without
 * EXT2_FLAG_RW libext2fs never writes.  `flags` are added to
 * EXT2_FLAG_64BITS.  0, or libext2fs's code (for e2fs_message).
 */
errcode_t e2fs_open_ro(const char *path, uint64_t offset, int flags,
		       ext2_filsys *fs);

#endif
