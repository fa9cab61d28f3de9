/*
 * guard.h - the fence around toplevel.c's file accesses in fuzz_toplevel.
 *
 * Owns: the check that every path handed to lstat, stat, readlink or
 * open while the guard is armed lies beneath the fuzz root and crosses
 * no symlink (but the last component of lstat/readlink, which do not
 * follow it).  guard.c defines __wrap_<call> for each, and meson links
 * the harness with -Wl,--wrap=<call>, so the library's own calls pass
 * through the guard; a violation aborts.  Does not own the tree.
 */
#ifndef MK_FUZZ_GUARD_H
#define MK_FUZZ_GUARD_H

/* `root` (host path, no trailing slash) and an O_PATH or O_DIRECTORY
 * descriptor of it; kept, not copied. */
void guard_init(const char *root, int rootfd);

/* 1: check every wrapped call; 0: pass them through. */
void guard_arm(int on);

/* Calls checked since guard_init (so a harness can tell the wrappers are
 * really linked in). */
unsigned long guard_checked(void);

/* 1 when `inside` (a path as seen inside the root, "/..." or relative)
 * has no "." or ".." component and, as far as it exists, no symlink
 * before its last component (nor as its last when `follow_last`). */
int guard_clean(const char *inside, int follow_last);

#endif
