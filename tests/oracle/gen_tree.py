#!/usr/bin/env python3
"""gen_tree.py --seed N --out DIR [--scale fast|long]

Owns the random store trees of the oracle (issue 8): given a seed, writes

  DIR/store-root/nix/store/...   the fixture store (fixtures/store: the
                                 NixOS-like toplevel with kernel, initrd,
                                 dtbs, init, kernel-params and its
                                 dependencies) plus random store paths
  DIR/closure.txt                every store path, toplevel included
  DIR/stats.txt                  one line "files=F dirs=D symlinks=S bytes=B
                                 special=NAME" (bytes: apparent sizes)

The same seed and scale give the same tree (names, bytes, holes, modes,
mtimes, hard links) on any machine, with this version of the generator (a
change here may give a seed another tree; the fixed seeds below keep their
big case).  Random store paths hold: names of 1-255 bytes of any byte but
'/' and NUL (newlines, quotes, invalid UTF-8, 255-byte names), deep paths, empty directories, large directories, files of
0 B up to 64 MiB (fast) or 5 GiB (long) made of random 4 KiB blocks,
written zero blocks and host holes, symlinks of 1-4,095 bytes, identical
files across store paths (dedup), files with equal size and equal first and
last 4 KiB but different middles, source hard links, and random source
modes and mtimes (the image must canonicalise them); store names of up
to 211 characters, and in some trees hundreds of small store paths.

Some seeds are fixed big cases (also at the fast scale), see SPECIAL:
  70000  one directory of 70,000 entries
  65536  66,000 identical files (one dedup group above 65,535), in the
         source hard links of as few inodes as the host allows (ext4: 65,000
         links per inode)
  64998  a directory with exactly 64,998 subdirectories (link count 65,000)
  64999  a directory with exactly 64,999 subdirectories (link count 1)
  5368   (long scale: every seed divisible by 5 too) a 5 GiB sparse file
  4096   6,000 files of one size whose first and last 4 KiB are equal and
         whose middles differ (dedup must not compare them pairwise)
  1360   files of 680-20,000 extents (data, hole, zero-block patterns):
         extent trees of depth 1 and 2

Paths stay below MAX_REL bytes below the store root so that every tool
(and debugfs rdump) can name them with PATH_MAX-limited paths.
"""
import argparse
import errno
import os
import random
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(HERE, "..", "..", "fixtures"))

NIX_BASE32 = "0123456789abcdfghijklmnpqrsvwxyz"
STORE_NAME_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+._?=-"
ALNUM = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
ANY_BYTE = bytes(b for b in range(1, 256) if b != ord("/"))
BLOCK = 4096
MAX_REL = 3000          # bytes of a path below the store root
HOST_LINK_MAX = 65000   # ext4's limit; os.link falls back on EMLINK anyway

SPECIAL = {
    70000: "dir70k",
    65536: "dedup66000",
    64998: "subdirs64998",
    64999: "subdirs64999",
    5368: "sparse5g",
    4096: "twins6000",
    1360: "extents",
}

SCALES = {
    # entries per tree, random bytes per tree, largest sparse file, how many
    # big sparse files at most, largest
    # ordinary directory, deepest chain
    "fast": dict(entries=(40, 1500), data=4 << 20, sparse=64 << 20, nsparse=2, bigdir=3000, depth=60),
    "long": dict(entries=(500, 20000), data=64 << 20, sparse=5 << 30, nsparse=3, bigdir=20000, depth=120),
}

TRICKY = [b"\n", b"a\nb", b" ", b" lead", b"trail ", b"-", b"--", b"...", b".a", b"..a",
          b"\\", b'"', b"'", b"*", b"?", b"[x]", b"\t", b"\xff", b"\xc3", b"\x01",
          b"lost+found", b"debugfs: ls", b"~", b"$HOME", b"a;b", b"<2>", b"\r\n",
          b"%s%n", b"\x7f", b"\xe2\x80\xae", b"a" * 255, b"\xff" * 255]

FILE_MODES = [0o444, 0o644, 0o600, 0o640, 0o755, 0o700, 0o100, 0o010, 0o001,
              0o000, 0o4755, 0o2711, 0o1644, 0o666, 0o777, 0o555]
DIR_MODES = [0o755, 0o700, 0o555, 0o750, 0o000, 0o1777, 0o2755, 0o711]


class Gen:
    def __init__(self, seed, scale, out):
        self.rng = random.Random(seed)
        self.seed = seed
        self.sc = SCALES[scale]
        self.scale = scale
        self.root = os.path.join(out, "store-root").encode()
        self.store = self.root + b"/nix/store"
        self.files = self.dirs = self.symlinks = self.bytes = 0
        self.data_left = self.sc["data"]
        self.entries_left = self.rng.randint(*self.sc["entries"])
        self.dirs_to_fix = []      # (path, mode, mtime), fixed bottom-up at the end
        self.pool = []             # shared contents (dedup across paths)
        self.made_files = []       # for source hard links
        self.nsparse = 0           # big sparse files made
        self.store_names = set()

    # ---- names ---------------------------------------------------------
    def name(self, maxlen):
        r = self.rng
        maxlen = min(255, maxlen)
        x = r.random()
        if x < 0.45:
            n = bytes(r.choice(ALNUM) for _ in range(r.randint(1, 16)))
        elif x < 0.60:
            n = bytes(r.choice(ANY_BYTE) for _ in range(r.randint(1, 40)))
        elif x < 0.68:
            n = bytes(r.choice(ANY_BYTE) for _ in range(r.randint(200, 255)))
        elif x < 0.72:
            n = bytes(r.choice(ALNUM) for _ in range(255))
        elif x < 0.85:
            n = r.choice(TRICKY)
        else:
            s = "".join(chr(r.choice([r.randint(0xa0, 0x2ff), r.randint(0x400, 0x4ff),
                                      r.randint(0x4e00, 0x9fff), r.randint(0x1f300, 0x1f5ff)]))
                        for _ in range(r.randint(1, 60)))
            n = s.encode()
            while len(n) > 255:
                s = s[:-1]
                n = s.encode()
        n = n[:maxlen]
        if n in (b"", b".", b".."):
            n = b"x" + n
        return n

    def unique_names(self, count, maxlen):
        maxlen = min(255, maxlen)
        seen = set()
        out = []
        while len(out) < count:
            n = self.name(maxlen)
            if n in seen:
                n = (n[: max(1, maxlen - 8)] + b"~%d" % len(out))[:maxlen]
                if n in seen or n in (b".", b".."):
                    continue
            seen.add(n)
            out.append(n)
        return out

    # ---- entries -------------------------------------------------------
    def mtime(self, path, follow=True):
        t = self.rng.randint(0, 2 ** 31 - 1)
        os.utime(path, (t, t), follow_symlinks=follow)

    def content_blocks(self, size):
        """Write plan for a file: list of (offset, bytes) writes; the rest are holes."""
        r = self.rng
        plan = []
        nblocks = (size + BLOCK - 1) // BLOCK
        for b in range(nblocks):
            n = min(BLOCK, size - b * BLOCK)
            k = r.random()
            if k < 0.45 and self.data_left > 0:
                plan.append((b * BLOCK, r.randbytes(n)))
                self.data_left -= n
            elif k < 0.75:
                plan.append((b * BLOCK, bytes(n)))       # written zeros
            # else: a hole on the host
        return plan

    def write_file(self, path, size, plan, mode):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            for off, data in plan:
                os.pwrite(fd, data, off)
            os.ftruncate(fd, size)
        finally:
            os.close(fd)
        os.chmod(path, mode)
        self.mtime(path)
        self.files += 1
        self.bytes += size
        self.made_files.append(path)

    def make_file(self, path):
        r = self.rng
        mode = r.choice(FILE_MODES)
        k = r.random()
        if k < 0.08:
            self.write_file(path, 0, [], mode)
        elif k < 0.45:
            n = r.choice([1, 2, 59, 60, 61, 4095, 4096, 4097, 8191, 8192, r.randint(1, 12000)])
            n = min(n, max(1, self.data_left))
            self.data_left -= n
            self.write_file(path, n, [(0, r.randbytes(n))], mode)
        elif k < 0.62:
            self.pool_file(path, mode)
        elif k < 0.85:
            size = r.randint(1, 64) * BLOCK - r.choice([0, 0, 1, r.randint(1, BLOCK - 1)])
            self.write_file(path, size, self.content_blocks(size), mode)
        elif k < 0.90:
            # all zero: written zeros or one hole
            size = r.randint(1, 40000)
            plan = [(0, bytes(size))] if r.random() < 0.5 else []
            self.write_file(path, size, plan, mode)
        elif k < 0.95 and self.data_left > 0 and self.nsparse < self.sc["nsparse"]:
            self.nsparse += 1
            size = r.randint(BLOCK, self.sc["sparse"])
            if self.scale == "long" and r.random() < 0.3:   # 32-bit size boundaries
                size = r.choice([2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 32 + BLOCK])
            self.sparse_file(path, size, mode)
        else:
            self.write_file(path, 3, [(0, b"abc")], mode)

    def sparse_file(self, path, size, mode):
        r = self.rng
        plan = []
        for _ in range(r.randint(0, 12)):
            off = r.randrange(0, size) // BLOCK * BLOCK
            n = min(size - off, r.choice([1, BLOCK, 3 * BLOCK, r.randint(1, 100000)]))
            plan.append((off, r.randbytes(n) if r.random() < 0.7 else bytes(n)))
            self.data_left -= n
        # data right at the end half of the time
        if r.random() < 0.5:
            plan.append((size - 1, b"\x01"))
        self.write_file(path, size, plan, mode)

    def pool_file(self, path, mode):
        """Contents shared across the tree (and store paths): dedup groups,
        and near twins (same size, same first and last 4 KiB)."""
        r = self.rng
        if not self.pool or r.random() < 0.25:
            size = r.choice([1, 100, 4096, 3 * BLOCK, 5 * BLOCK + 17, r.randint(1, 30000)])
            data = bytearray(r.randbytes(size))
            self.data_left -= size
            self.pool.append(bytes(data))
            if size > 2 * BLOCK:     # a near twin: differs in one middle byte
                data[size // 2] ^= 0x5A
                self.pool.append(bytes(data))
        data = r.choice(self.pool)
        self.write_file(path, len(data), [(0, data)], mode)

    def make_symlink(self, path, rel_len):
        r = self.rng
        k = r.random()
        if k < 0.3:
            n = r.choice([1, 59, 60, 61, 4095, r.randint(1, 200)])
            t = bytes(r.choice(ANY_BYTE + b"/") for _ in range(n))
        elif k < 0.5:
            t = b"/nix/store/" + bytes(r.choice(ALNUM) for _ in range(r.randint(1, 80)))
        elif k < 0.7:
            t = b"../" * r.randint(0, 5) + self.name(100)
        else:
            t = b"x" * r.randint(1, 4095)
        os.symlink(t, path)
        self.mtime(path, follow=False)
        self.symlinks += 1

    def make_dir(self, path):
        os.mkdir(path, 0o755)
        self.dirs += 1
        self.dirs_to_fix.append((path, self.rng.choice(DIR_MODES), self.rng.randint(0, 2 ** 31 - 1)))

    def fill_dir(self, path, rel_len, depth):
        r = self.rng
        if self.entries_left <= 0:
            return
        x = r.random()
        if x < 0.15:
            count = 0                       # empty directory
        elif x < 0.20 and depth > 0:
            count = r.randint(200, self.sc["bigdir"])
        else:
            count = r.randint(1, 25)
        count = min(count, self.entries_left)
        self.entries_left -= count
        maxlen = MAX_REL - rel_len - 1
        if maxlen < 1:
            return
        for n in self.unique_names(count, maxlen):
            p = path + b"/" + n
            k = r.random()
            room = MAX_REL - rel_len - len(n) - 1
            if k < 0.14 and depth < self.sc["depth"] and room > 20:
                self.make_dir(p)
                self.fill_dir(p, rel_len + 1 + len(n), depth + 1)
            elif k < 0.16 and depth < self.sc["depth"] and room > 100:
                self.deep_chain(p, rel_len + 1 + len(n), depth)
            elif k < 0.34:
                self.make_symlink(p, rel_len)
            elif k < 0.38 and self.made_files:
                self.source_link(p)
            else:
                self.make_file(p)

    def deep_chain(self, path, rel_len, depth):
        """A chain of nested directories with short names, a file at the bottom."""
        r = self.rng
        self.make_dir(path)
        while depth < self.sc["depth"] and rel_len < MAX_REL - 40 and r.random() < 0.97:
            n = bytes(r.choice(ALNUM) for _ in range(r.randint(1, 12)))
            path += b"/" + n
            rel_len += 1 + len(n)
            depth += 1
            self.make_dir(path)
        self.make_file(path + b"/bottom")

    def source_link(self, path):
        src = self.rng.choice(self.made_files)
        if os.lstat(src).st_size > 1 << 20:     # big sparse files stay few
            src = self.made_files[0]
        try:
            os.link(src, path)
        except OSError as e:
            if e.errno != errno.EMLINK:
                raise
            shutil.copy2(src, path)
        self.files += 1
        self.bytes += os.lstat(path).st_size

    # ---- store paths ---------------------------------------------------
    def store_path(self, label=None):
        r = self.rng
        while True:
            h = "".join(r.choice(NIX_BASE32) for _ in range(32))
            if label is None:
                # Nix allows 211 characters after the hash
                n = r.randint(0, 60) if r.random() < 0.85 else r.choice([210, r.randint(61, 210)])
                name = r.choice(STORE_NAME_CHARS.replace(".", "").replace("-", ""))
                name += "".join(r.choice(STORE_NAME_CHARS) for _ in range(n))
            else:
                name = label
            if "nixos-system" in name or name in self.store_names:
                continue
            self.store_names.add(name)
            return (h + "-" + name).encode()

    def random_store_path(self):
        r = self.rng
        base = self.store_path()
        p = self.store + b"/" + base
        rel = len(b"/nix/store/") + len(base)
        k = r.random()
        if k < 0.08:
            self.make_file(p)
        elif k < 0.14:
            self.make_symlink(p, rel)
        else:
            self.make_dir(p)
            self.fill_dir(p, rel, 0)
        return base

    def tiny_store_path(self):
        r = self.rng
        base = self.store_path()
        p = self.store + b"/" + base
        k = r.random()
        if k < 0.4:
            self.make_file(p)
        elif k < 0.6:
            self.make_symlink(p, 0)
        else:
            self.make_dir(p)
            for n in self.unique_names(r.randint(0, 4), 255):
                if r.random() < 0.7:
                    self.make_file(p + b"/" + n)
                else:
                    self.make_symlink(p + b"/" + n, 0)
        return base

    # ---- the fixed big cases ---------------------------------------------
    def special(self, kind):
        base = self.store_path(kind)
        p = self.store + b"/" + base
        self.make_dir(p)
        if kind == "dir70k":
            d = p + b"/d"
            self.make_dir(d)
            names = self.unique_names(70000, 255)
            for i, n in enumerate(names):
                q = d + b"/" + n
                if i % 10 == 0:
                    self.make_symlink(q, 0)
                elif i % 50 == 1:
                    self.make_dir(q)
                else:
                    data = b"%d\n" % (i % 7000)       # 10 names per content: dedup too
                    self.write_file(q, len(data), [(0, data)], self.rng.choice(FILE_MODES))
        elif kind == "dedup66000":
            data = b"one content, 66,000 names\n"
            per_dir = 16500
            first = None
            for j in range(4):
                d = p + b"/part%d" % j
                self.make_dir(d)
                for i in range(per_dir):
                    q = d + b"/f%05d" % i
                    if first is not None:
                        try:
                            os.link(first, q)
                            self.files += 1
                            self.bytes += len(data)
                            continue
                        except OSError as e:
                            if e.errno != errno.EMLINK:
                                raise
                    self.write_file(q, len(data), [(0, data)], 0o444)
                    first = q
            # the same bytes executable: a group of its own
            self.write_file(p + b"/exec-twin", len(data), [(0, data)], 0o755)
        elif kind in ("subdirs64998", "subdirs64999"):
            d = p + b"/d"
            self.make_dir(d)
            n = int(kind[len("subdirs"):])
            for i in range(n):
                os.mkdir(d + b"/%05d" % i)
                self.dirs += 1
            # files do not count in a directory's link count
            self.write_file(d + b"/a-file", 2, [(0, b"x\n")], 0o644)
        elif kind == "twins6000":
            head, tail = self.rng.randbytes(BLOCK), self.rng.randbytes(BLOCK)
            for j in range(3):
                d = p + b"/t%d" % j
                self.make_dir(d)
                for i in range(2000):
                    data = head + self.rng.randbytes(BLOCK) + tail + b"!"
                    self.write_file(d + b"/%04d" % i, len(data), [(0, data)], 0o444)
            # and one true twin of the first, so there is one group to find
            self.write_file(p + b"/twin", len(data), [(0, data)], 0o444)
        elif kind == "extents":
            # every other block non-zero (one byte), the rest host holes or
            # written zeros: one extent per data block
            for n, gap in ((3001, "hole"), (3001, "zero"), (40001, "hole"), (1361, "mixed")):
                plan = []
                for b in range(0, n, 2):
                    plan.append((b * BLOCK + self.rng.randrange(BLOCK), b"\x01"))
                    if gap == "zero" or (gap == "mixed" and b % 4 == 0):
                        plan.append(((b + 1) * BLOCK, bytes(BLOCK)))
                self.write_file(p + b"/%d-%s" % (n, gap.encode()), n * BLOCK - 7, plan, 0o444)
        elif kind == "sparse5g":
            self.sparse_file(p + b"/five-gib", 5 << 30, 0o644)
        return base

    def fix_dirs(self):
        for path, mode, t in reversed(self.dirs_to_fix):
            os.chmod(path, mode)
            os.utime(path, (t, t))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--scale", choices=sorted(SCALES), default="fast")
    a = ap.parse_args()
    if os.path.exists(a.out) and os.listdir(a.out):
        ap.error(f"{a.out} exists and is not empty")
    os.makedirs(a.out, exist_ok=True)
    os.umask(0o022)
    g = Gen(a.seed, a.scale, a.out)

    shutil.copytree(os.path.join(FIXTURES, "store"), g.root.decode(), symlinks=True)
    closure = [line.strip().encode() for line in open(os.path.join(FIXTURES, "closure.txt"))
               if line.strip()]

    specials = []
    if a.seed in SPECIAL:
        specials.append(SPECIAL[a.seed])
    if a.scale == "long" and a.seed % 5 == 0 and "sparse5g" not in specials:
        specials.append("sparse5g")
    for kind in specials:
        closure.append(b"/nix/store/" + g.special(kind))
    for _ in range(g.rng.randint(2, 6)):
        closure.append(b"/nix/store/" + g.random_store_path())
    if g.rng.random() < 0.15:
        # a closure of many small store paths (a big /nix/store directory)
        for _ in range(g.rng.randint(30, 400)):
            closure.append(b"/nix/store/" + g.tiny_store_path())
    g.fix_dirs()

    with open(os.path.join(a.out, "closure.txt"), "wb") as f:
        f.write(b"".join(c + b"\n" for c in sorted(closure)))
    stats = (f"files={g.files} dirs={g.dirs} symlinks={g.symlinks} bytes={g.bytes} "
             f"special={','.join(specials) or '-'}")
    with open(os.path.join(a.out, "stats.txt"), "w") as f:
        f.write(stats + "\n")
    print(stats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
