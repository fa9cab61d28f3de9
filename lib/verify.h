/*
 * verify.h - an image read back against its inputs (behind
 * mkr2simg_verify).
 *
 * Owns: the order of the checks and what each covers: the inputs loaded
 * as the build loads them (trees.c, closure.c, toplevel.c, layout.c);
 * both GPT copies decoded (gpt.c), equal, placed as layout.c places them
 * and, re-encoded by gpt_encode, equal to the image's sectors byte for
 * byte; the raw area between the primary GPT and partition 1 holding
 * the given bootloaders at their sectors and zeros elsewhere, and in
 * U-Boot's saved environment's range (layout.c places it as for the
 * build) no environment U-Boot would load (ubootenv.c reads it); each
 * filesystem against the tree the build writes (trees.c) through
 * treecmp.c.  Does not own any format, what an image holds, or opening
 * it (imgread.c: plain, zstd or gzip, read-only).
 */
#ifndef MK_VERIFY_H
#define MK_VERIFY_H

#include "mkr2simg.h"

#define VERIFY_CHUNK (1u << 20) /* raw-area bytes read at a time */

#endif
