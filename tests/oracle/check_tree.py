#!/usr/bin/env python3
"""check_tree.py [--keep] [--no-dedup] [--epoch T] [--damage KIND] [--build-timeout S] MKR2SIMG TREEDIR

Owns the verdict of the random-tree oracle (issue 8) on one tree made by
gen_tree.py (TREEDIR/store-root, TREEDIR/closure.txt):

 1. mkr2simg runs twice, from two folders into two folders, with
    --store-root TREEDIR/store-root; both images must have the same sha256;
 2. the image: partitions found from its GPT (sfdisk --json, not from
    mkr2simg), `sgdisk -v` says "No problems found", `e2fsck -fn` is clean on
    both partitions (any line beyond the pass/summary lines is a failure);
 3. the used-card flash: only the image's data ranges are copied onto a card
    file of 0xAA bytes (tests/e2e/flash_data_ranges.py); the card must pass
    the same sgdisk -v and e2fsck -fn (its partitions found from its own GPT);
 4. the card's root partition is read back with debugfs (`ls -p`, `stat`,
    `cat` by inode number, so names may hold any byte and a 5 GiB file is
    hashed as a stream, never written to disk) and /nix/store must equal the
    source: the same names (bytes), types, file bytes (sha256), symlink
    targets, canonical metadata (files 0444, or 0555 when the source had any
    execute bit; directories 0555; symlinks 0777; owner 0:0; ctime, atime,
    mtime 1; /nix/store 1775 root:30000), link counts (files: names sharing
    the inode; directories: 2 + subdirectories, or 1 above 65,000), and dedup
    (non-empty files with equal bytes and exec bit share inodes, at most
    65,000 names per inode, as few inodes as that allows; nothing else shares;
    with --no-dedup nothing shares, source hard links included).

Prints "FAIL <check>: <detail>" lines (at most --max-lines per check) and a
last line "OK" or "FAILED: <checks>"; exit 0 when all passed, 1 on a
failure, 2 on bad usage.  Work files go to a new directory under $TMPDIR
(default /var/tmp), removed at the end unless --keep.

Env ORACLE_TIMING=1: print the time of each step on stderr.

--damage KIND is for the oracle's own self-test (it must be able to fail):
  store-byte    flip one byte of a store file's data on the card
  gpt-entries   zero the card's primary GPT entry array sector (LBA 2)
  repro         flip one byte of the second image before hashing
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FLASH = os.path.join(HERE, "..", "e2e", "flash_data_ranges.py")
BUF = 1 << 20
ZEROS = bytes(BUF)
LINK_MAX = 65000
E2FSCK_OK = [re.compile(p) for p in (
    rb"^e2fsck [0-9]", rb"^Pass [1-5]: ",
    rb"^[^ ]*: [0-9]*/[0-9]* files \([0-9.]*% non-contiguous\), [0-9]*/[0-9]* blocks$",
    rb"^\s*$")]
DEBUGFS_ENV = dict(os.environ, DEBUGFS_PAGER="__none__", PAGER="__none__")


def show(p):
    """A path as printable ASCII (bytes escaped as in Python literals)."""
    return repr(bytes(p))[2:-1]


class Checker:
    def __init__(self, args):
        self.a = args
        self.fails = {}          # check -> [details]
        self.order = []

    def fail(self, check, detail):
        if check not in self.fails:
            self.fails[check] = []
            self.order.append(check)
        self.fails[check].append(detail)

    def report(self):
        for c in self.order:
            lines = self.fails[c]
            for d in lines[: self.a.max_lines]:
                print(f"FAIL {c}: {d}"[:600])
            if len(lines) > self.a.max_lines:
                print(f"FAIL {c}: ... and {len(lines) - self.a.max_lines} more")
        if self.order:
            print("FAILED: " + ", ".join(self.order))
            return 1
        print("OK")
        return 0

    # ---- steps ---------------------------------------------------------
    def build(self, where, out_name):
        os.makedirs(where)
        tree = self.a.tree
        try:
            r = subprocess.run([self.a.mkr2simg, "-q"] + (["--no-dedup"] if self.a.no_dedup else [])
                               + ["--store-root", os.path.join(tree, "store-root"),
                                  os.path.join(tree, "closure.txt"), out_name],
                               cwd=where, capture_output=True, timeout=self.a.build_timeout,
                               env=dict(os.environ, **({"SOURCE_DATE_EPOCH": self.a.epoch}
                                                       if self.a.epoch else {})))
        except subprocess.TimeoutExpired:
            self.fail("mkr2simg", f"no image after {self.a.build_timeout} s (killed)")
            return None
        if r.returncode != 0:
            self.fail("mkr2simg", f"exit {r.returncode} in {where}: "
                      + r.stderr.decode(errors="replace").strip()[:2000])
            return None
        return os.path.join(where, out_name)

    def partitions(self, label, img):
        """[(start_sector, sectors)] of the GPT's partitions, by sfdisk."""
        r = subprocess.run(["sfdisk", "--json", img], capture_output=True)
        if r.returncode != 0:
            self.fail(f"{label} gpt", "sfdisk --json: " + r.stderr.decode(errors="replace").strip()[:500])
            return None
        try:
            table = json.loads(r.stdout)["partitiontable"]
            if table.get("label") != "gpt":
                self.fail(f"{label} gpt", f"sfdisk reads a '{table.get('label')}' table, not a GPT")
                return None
            parts = table["partitions"]
            out = [(int(p["start"]), int(p["size"])) for p in parts]
        except (ValueError, KeyError) as e:
            self.fail(f"{label} gpt", f"sfdisk --json output unusable: {e}")
            return None
        if len(out) != 2:
            self.fail(f"{label} gpt", f"{len(out)} partitions, expected 2")
            return None
        return out

    def sgdisk_v(self, label, img):
        r = subprocess.run(["sgdisk", "-v", img], capture_output=True)
        out = r.stdout + r.stderr
        if r.returncode != 0 or b"No problems found" not in out:
            lines = [l for l in out.decode(errors="replace").splitlines() if l.strip()]
            self.fail(f"{label} sgdisk -v", f"exit {r.returncode}; " + " | ".join(lines[:12]))

    def e2fsck(self, label, dev):
        r = subprocess.run(["e2fsck", "-fn", dev], capture_output=True)
        out = r.stdout + r.stderr
        bad = [l for l in out.splitlines() if not any(p.search(l) for p in E2FSCK_OK)]
        if r.returncode != 0 or bad:
            self.fail(f"{label} e2fsck", f"exit {r.returncode}; "
                      + " | ".join(l.decode(errors="replace") for l in bad[:12])
                      + (f" | ... {len(bad) - 12} more lines" if len(bad) > 12 else ""))

    def check_disk(self, label, img, fallback=None):
        self.sgdisk_v(label, img)
        parts = self.partitions(label, img) or fallback
        if parts:
            for (start, _), name in zip(parts, ("NIXOS_BOOT", "NIXOS_SD")):
                self.e2fsck(f"{label} {name}", f"{img}?offset={start * 512}")
        return parts


def sha256_file(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        return sha256_sparse(fd, os.fstat(fd).st_size)
    finally:
        os.close(fd)


def sha256_files(paths):
    """sha256 of several files at once (hashlib releases the GIL)."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(len(paths)) as ex:
        return list(ex.map(sha256_file, paths))


def sha256_sparse(fd, size):
    """sha256 of a file, skipping the reads of its holes (5 GiB sparse files)."""
    h = hashlib.sha256()
    pos = 0
    while pos < size:
        try:
            data = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError:
            data = size
        data = min(data, size)
        while pos < data:                      # a hole: zeros
            n = min(BUF, data - pos)
            h.update(ZEROS[:n] if n < BUF else ZEROS)
            pos += n
        if pos >= size:
            break
        hole = min(os.lseek(fd, pos, os.SEEK_HOLE), size)
        while pos < hole:
            b = os.pread(fd, min(BUF, hole - pos), pos)
            if not b:
                raise OSError(f"short read at {pos}")
            h.update(b)
            pos += len(b)
    return h.hexdigest()


# ---- the source ----------------------------------------------------------
def source_tree(root, closure):
    """path (bytes, /nix/store/...) -> dict(type, exec, size, sha, target, nsub)"""
    exp = {}
    hashes = {}
    for sp in closure:
        stack = [sp]
        while stack:
            p = stack.pop()
            st = os.lstat(root + p)
            if os.path.stat.S_ISDIR(st.st_mode):
                names = os.listdir(root + p)
                nsub = 0
                for n in names:
                    c = p + b"/" + n
                    if os.path.stat.S_ISDIR(os.lstat(root + c).st_mode):
                        nsub += 1
                    stack.append(c)
                exp[p] = dict(type="dir", nsub=nsub, names=len(names))
            elif os.path.stat.S_ISLNK(st.st_mode):
                exp[p] = dict(type="symlink", target=os.readlink(root + p))
            elif os.path.stat.S_ISREG(st.st_mode):
                key = (st.st_dev, st.st_ino)
                if key not in hashes:
                    fd = os.open(root + p, os.O_RDONLY)
                    try:
                        hashes[key] = sha256_sparse(fd, st.st_size)
                    finally:
                        os.close(fd)
                exp[p] = dict(type="file", exec=bool(st.st_mode & 0o111), size=st.st_size,
                              sha=hashes[key])
            else:
                exp[p] = dict(type="other")
    return exp


# ---- the image, through debugfs -------------------------------------------
LS_HDR = re.compile(rb"debugfs: ls -p <(\d+)>\n")
LS_ENT = re.compile(rb"/(\d+)/([0-7]+)/(\d+)/(\d+)/([^/]*)/(\d*)/\n")


def debugfs_batch(dev, cmds, work):
    path = os.path.join(work, "debugfs.cmds")
    with open(path, "w") as f:
        f.write("".join(c + "\n" for c in cmds))
    r = subprocess.run(["debugfs", "-f", path, dev], capture_output=True, env=DEBUGFS_ENV)
    return r.stdout, r.stderr


class ImageTree:
    """/nix/store of one ext4 filesystem, read with debugfs by inode number."""

    def __init__(self, ck, dev, work):
        self.ck, self.dev, self.work = ck, dev, work
        self.ent = {}     # path -> dict(ino, mode, uid, gid, size)
        self.ino = {}     # ino -> dict from stat

    def ls(self, inos):
        out, _ = debugfs_batch(self.dev, [f"ls -p <{i}>" for i in inos], self.work)
        listing = {}
        pos, cur = 0, None
        while pos < len(out):
            m = LS_HDR.match(out, pos)
            if m:
                cur = int(m.group(1))
                listing[cur] = []
                pos = m.end()
                continue
            m = LS_ENT.match(out, pos)
            if m and cur is not None:
                listing[cur].append((m.group(5), dict(ino=int(m.group(1)), mode=int(m.group(2), 8),
                                                      uid=int(m.group(3)), gid=int(m.group(4)),
                                                      size=int(m.group(6)) if m.group(6) else None)))
                pos = m.end()
                continue
            if out[pos:pos + 1] == b"\n":
                pos += 1
                continue
            self.ck.fail("readback", f"cannot parse debugfs ls -p output at byte {pos}: {out[pos:pos + 80]!r}")
            break
        return listing

    def walk(self):
        top = self.ls([2]).get(2, [])
        nix = dict(top).get(b"nix")
        if not nix:
            self.ck.fail("readback", "no /nix in the root filesystem")
            return False
        store = dict(self.ls([nix["ino"]]).get(nix["ino"], [])).get(b"store")
        if not store:
            self.ck.fail("readback", "no /nix/store in the root filesystem")
            return False
        self.store = store
        todo = {store["ino"]: b"/nix/store"}
        self.children = {}
        while todo:
            listing = self.ls(sorted(todo))
            nxt = {}
            for ino, parent in todo.items():
                if ino not in listing:
                    self.ck.fail("readback", f"{show(parent)}: debugfs could not list it")
                    continue
                names = []
                for name, e in listing[ino]:
                    if name in (b".", b".."):
                        continue
                    # An htree's dx_node blocks start with an empty entry
                    # (inode 0, no name) spanning the block, which debugfs
                    # lists; it is no directory entry.
                    if e["ino"] == 0 and name == b"":
                        continue
                    names.append(name)
                    p = parent + b"/" + name
                    if p in self.ent:
                        self.ck.fail("names", f"{show(p)}: two directory entries with this name")
                    self.ent[p] = e
                    if e["mode"] & 0o170000 == 0o040000:
                        nxt[e["ino"]] = p
                self.children[parent] = names
            todo = nxt
        return True

    def stat(self):
        inos = sorted({e["ino"] for e in self.ent.values()} | {self.store["ino"]})
        out, _ = debugfs_batch(self.dev, [f"stat <{i}>" for i in inos], self.work)
        pos = 0
        for i in inos:
            hdr = b"debugfs: stat <%d>\n" % i
            if not out.startswith(hdr, pos):
                self.ck.fail("readback", f"debugfs stat output out of step at inode {i}")
                return
            pos += len(hdr)
            rec = {}
            while pos < len(out) and not out.startswith(b"debugfs: ", pos):
                if out.startswith(b'Fast link dest: "', pos):
                    pos += len(b'Fast link dest: "')
                    n = rec.get("size", 0)
                    rec["target"] = out[pos:pos + n]
                    pos += n
                    end = out.find(b"\n", pos)
                    pos = len(out) if end < 0 else end + 1
                    continue
                end = out.find(b"\n", pos)
                end = len(out) if end < 0 else end
                line = out[pos:end]
                pos = end + 1
                m = re.match(rb"Inode: \d+ +Type: (\S+) +Mode: +([0-7]+)", line)
                if m:
                    rec["type"], rec["perm"] = m.group(1).decode(), int(m.group(2), 8)
                m = re.match(rb"User: +(\d+) +Group: +(\d+).* Size: (\d+)", line)
                if m:
                    rec["uid"], rec["gid"], rec["size"] = map(int, m.groups())
                m = re.match(rb"Links: (\d+)", line)
                if m:
                    rec["links"] = int(m.group(1))
                m = re.match(rb" *([acm]time): (0x[0-9a-f]+:[0-9a-f]+)", line)
                if m:
                    rec[m.group(1).decode()] = m.group(2).decode()
            self.ino[i] = rec

    def contents(self, inos):
        """ino -> sha256 hex (regular files) or bytes (slow symlinks), streamed."""
        res = {}
        if not inos:
            return res
        path = os.path.join(self.work, "debugfs.cat")
        with open(path, "w") as f:
            f.write("".join(f"cat <{i}>\n" for i in inos))
        p = subprocess.Popen(["debugfs", "-f", path, self.dev], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, env=DEBUGFS_ENV)
        out = p.stdout
        try:
            for i in inos:
                hdr = b"debugfs: cat <%d>\n" % i
                got = out.read(len(hdr))
                if got != hdr:
                    self.ck.fail("readback", f"debugfs cat output out of step at inode {i} "
                                 f"(got {got[:60]!r}): a file shorter than its size?")
                    return res
                size = self.ino[i]["size"]
                if self.ino[i].get("type") == "symlink":
                    res[i] = out.read(size)
                    continue
                h = hashlib.sha256()
                left = size
                while left:
                    b = out.read(min(BUF, left))
                    if not b:
                        break
                    h.update(b)
                    left -= len(b)
                res[i] = h.hexdigest() if left == 0 else None
            rest = out.read(200)
            if rest:
                self.ck.fail("readback", f"debugfs cat wrote more than the sizes: {rest[:60]!r}")
        finally:
            out.close()
            p.wait()
        return res


def compare(ck, exp, img, closure, no_dedup=False):
    ent, inos = img.ent, img.ino
    # /nix/store itself
    st = inos.get(img.store["ino"], {})
    if (st.get("perm"), st.get("uid"), st.get("gid")) != (0o1775, 0, 30000):
        ck.fail("metadata", f"/nix/store: mode {st.get('perm', 0):o} owner {st.get('uid')}:{st.get('gid')}, "
                "expected 1775 0:30000")
    missing = sorted(set(exp) - set(ent))
    extra = sorted(set(ent) - set(exp))
    for p in missing:
        ck.fail("missing", show(p))
    for p in extra:
        ck.fail("extra", show(p))
    names_per_ino = {}
    for p, e in ent.items():
        names_per_ino.setdefault(e["ino"], []).append(p)
    want_type = {"dir": 0o040000, "file": 0o100000, "symlink": 0o120000}
    groups = {}     # (sha, exec) -> [paths]
    seen_ino = set()
    for p in sorted(set(exp) & set(ent)):
        x, e = exp[p], ent[p]
        i = e["ino"]
        s = inos.get(i, {})
        t = e["mode"] & 0o170000
        if x["type"] not in want_type:
            ck.fail("source", f"{show(p)}: a file type Nix does not allow")
            continue
        if t != want_type[x["type"]]:
            ck.fail("type", f"{show(p)}: mode {e['mode']:06o} in the image, a {x['type']} in the source")
            continue
        perm = {"dir": 0o555, "symlink": 0o777}.get(x["type"]) or (0o555 if x.get("exec") else 0o444)
        if e["mode"] & 0o7777 != perm:
            ck.fail("metadata", f"{show(p)}: mode {e['mode'] & 0o7777:04o}, expected {perm:04o}")
        if (e["uid"], e["gid"]) != (0, 0):
            ck.fail("metadata", f"{show(p)}: owner {e['uid']}:{e['gid']}, expected 0:0")
        for k in ("ctime", "atime", "mtime"):
            if s.get(k) != "0x00000001:00000000":
                ck.fail("metadata", f"{show(p)}: {k} {s.get(k)}, expected 0x00000001:00000000")
        if x["type"] == "dir":
            want = 2 + x["nsub"]
            want = 1 if want > LINK_MAX else want
            if s.get("links") != want:
                ck.fail("links", f"{show(p)}: directory link count {s.get('links')}, expected {want} "
                        f"({x['nsub']} subdirectories)")
        elif x["type"] == "symlink":
            got = s.get("target", s.get("content"))
            if got != x["target"]:
                ck.fail("content", f"{show(p)}: symlink target {show(got or b'')[:80]} "
                        f"({len(got or b'')} bytes), expected {show(x['target'])[:80]} ({len(x['target'])} bytes)")
        else:
            if s.get("size") != x["size"]:
                ck.fail("content", f"{show(p)}: size {s.get('size')}, expected {x['size']}")
            elif s.get("content") != x["sha"]:
                ck.fail("content", f"{show(p)}: bytes differ (sha256 {s.get('content')}, expected {x['sha']})")
            n = len(names_per_ino[i])
            if i not in seen_ino:          # once per inode, not per name
                seen_ino.add(i)
                if s.get("links") != n:
                    ck.fail("links", f"{show(p)}: link count {s.get('links')}, {n} names in /nix/store")
                if n > LINK_MAX:
                    ck.fail("dedup", f"{show(p)}: inode {i} has {n} names, more than {LINK_MAX}")
            key = ("single", p) if x["size"] == 0 or no_dedup else (x["sha"], x["exec"])
            groups.setdefault(key, []).append(p)
    # dedup: a group's names share as few inodes as the link limit allows,
    # and no inode serves two groups
    owner = {}
    for key, paths in groups.items():
        used = {ent[p]["ino"] for p in paths}
        want = -(-len(paths) // LINK_MAX)
        if len(used) != want:
            ck.fail("dedup", f"{len(paths)} files with equal bytes and exec bit (e.g. {show(paths[0])}) "
                    f"use {len(used)} inodes, expected {want}")
        for i in used:
            if i in owner and owner[i] != key:
                ck.fail("dedup", f"inode {i} is shared by files that must be separate: {show(paths[0])} "
                        f"and {show(groups[owner[i]][0])}")
            owner[i] = key


def main():
    ap = argparse.ArgumentParser(description="random-tree oracle: check one generated tree")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--damage", choices=["store-byte", "gpt-entries", "repro"])
    ap.add_argument("--max-lines", type=int, default=20)
    ap.add_argument("--epoch", help="SOURCE_DATE_EPOCH for mkr2simg (store times stay 1)")
    ap.add_argument("--no-dedup", action="store_true",
                    help="run mkr2simg --no-dedup: then every file name has its own inode")
    ap.add_argument("--build-timeout", type=int, default=600,
                    help="seconds one mkr2simg run may take (default 600)")
    ap.add_argument("mkr2simg")
    ap.add_argument("tree")
    a = ap.parse_args()
    a.mkr2simg = os.path.abspath(a.mkr2simg)
    a.tree = os.path.abspath(a.tree)
    for t in ("sfdisk", "sgdisk", "e2fsck", "debugfs"):
        if not shutil.which(t):
            print(f"check_tree: needs {t}", file=sys.stderr)
            return 2
    if not os.path.isfile(os.path.join(a.tree, "closure.txt")):
        print(f"check_tree: no {a.tree}/closure.txt", file=sys.stderr)
        return 2
    closure = sorted({l.strip() for l in open(os.path.join(a.tree, "closure.txt"), "rb") if l.strip()})
    root = os.path.join(a.tree, "store-root").encode()
    ck = Checker(a)
    work = tempfile.mkdtemp(prefix="check_tree.", dir=os.environ.get("TMPDIR", "/var/tmp"))
    try:
        run(ck, a, work, root, closure)
    finally:
        if a.keep:
            print(f"check_tree: work files kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return ck.report()


def run(ck, a, work, root, closure):
    import time
    t0 = time.time()

    def lap(what):
        if os.environ.get("ORACLE_TIMING"):
            print(f"check_tree: {time.time() - t0:6.2f} s {what}", file=sys.stderr)
    img = ck.build(os.path.join(work, "a"), "image.img")
    if not img:
        return
    img2 = ck.build(os.path.join(work, "b", "deeper"), "other-name.img")
    if not img2:
        return
    if a.damage == "repro":
        with open(img2, "r+b") as f:
            f.seek(4096 * 300)
            b = f.read(1)
            f.seek(4096 * 300)
            f.write(bytes([b[0] ^ 1]))
    lap('built')
    h1, h2 = sha256_files([img, img2])
    if h1 != h2:
        ck.fail("reproducible", f"two runs differ: sha256 {h1} and {h2}")
    os.unlink(img2)

    lap('hashed')
    parts = ck.check_disk("image", img)
    lap('image checked')
    card = os.path.join(work, "card.img")
    r = subprocess.run([sys.executable, FLASH, img, card], capture_output=True)
    if r.returncode != 0:
        ck.fail("flash", r.stderr.decode(errors="replace").strip())
        return
    lap('flashed')
    os.unlink(img)
    if a.damage == "gpt-entries":
        with open(card, "r+b") as f:
            f.seek(2 * 512)
            f.write(bytes(512))
    cparts = ck.check_disk("card", card, fallback=parts)
    if not cparts:
        return
    if parts and cparts != parts:
        ck.fail("card gpt", f"the card's partitions {cparts} are not the image's {parts}")
    dev = f"{card}?offset={cparts[1][0] * 512}"

    lap('card checked')
    exp = source_tree(root, closure)
    lap('source read')
    tree = ImageTree(ck, dev, work)
    if not tree.walk():
        return
    lap('walked')
    tree.stat()
    want = sorted(i for i, s in tree.ino.items()
                  if s.get("type") == "regular" or (s.get("type") == "symlink" and "target" not in s))
    if a.damage == "store-byte":
        damage_store_byte(ck, tree, exp, card, cparts[1][0] * 512, work)
    lap('stat')
    for i, c in tree.contents(want).items():
        tree.ino[i]["content"] = c
    lap('contents')
    compare(ck, exp, tree, closure, a.no_dedup)
    lap('compared')


def damage_store_byte(ck, tree, exp, card, part_off, work):
    """Flip the first byte of one single-name, non-empty store file's data."""
    names = {}
    for p, e in tree.ent.items():
        names.setdefault(e["ino"], []).append(p)
    # prefer a name with bytes that need escaping: the report must still name it
    for p in sorted(tree.ent, key=lambda q: (q.isascii() and b"\n" not in q, q)):
        x, e = exp.get(p), tree.ent[p]
        if x and x["type"] == "file" and x["size"] > 0 and len(names[e["ino"]]) == 1:
            out, _ = debugfs_batch(tree.dev, [f"bmap <{e['ino']}> 0"], work)
            m = re.search(rb"\n(\d+)\n", out)
            if m and int(m.group(1)) > 0:
                off = part_off + int(m.group(1)) * 4096
                with open(card, "r+b") as f:
                    f.seek(off)
                    b = f.read(1)
                    f.seek(off)
                    f.write(bytes([b[0] ^ 0xFF]))
                print(f"check_tree: damaged one byte of {show(p)}", file=sys.stderr)
                return
    ck.fail("self-test", "no store file to damage")


if __name__ == "__main__":
    sys.exit(main())
