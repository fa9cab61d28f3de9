#!/usr/bin/env python3
"""gen_closure.py --scale S --seed N OUT

Writes a deterministic synthetic Nix closure shaped like an aarch64 NixOS
system for the NanoPi R2S, for benchmarking image writers:

  OUT/store/nix/store/<hash>-<name>   the store paths (canonical metadata:
                                      root-owned, 0444/0555, mtime 1)
  OUT/closure.txt                     the store paths, one a line, sorted
  OUT/registration                    nix-store --load-db input (see below)
  OUT/meta.json                       what was generated (counts, sizes)
  OUT/.complete                       written last; OUT is a valid cache

At --scale 1 the shape follows a measured closure: 1,406 store paths,
67,851 regular files, ~1.93 GB, 25k symlinks of which 21k have targets
longer than 60 bytes (absolute /nix/store/... targets of buildEnv-style
paths), 20k directories, one directory of 17,777 entries, a few files of
100-128 MB, a lognormal small-file size distribution, ~7% of files whose
bytes are identical to a file in another store path (some of them source
hardlinks, as in an optimised store), deep trees (kernel modules,
site-packages) and a toplevel `*-nixos-system-*` with kernel (~30 MB),
initrd (~10 MB), dtbs/rockchip/rk3328-nanopi-r2s.dtb, init and
kernel-params.  Other scales multiply every count and byte total (the
kernel, initrd and dtbs stay fixed at scales >= 0.25).

File contents are pseudo-random (binaries) or text-like (docs, scripts)
bytes from SHAKE-256, never all zeros; about 1% of larger binaries carry a
zero-filled run (ELF padding), as real ones do.  Every file starts with a
unique tag, so files are identical only where the generator means them to
be.

Registration: real NAR hashes and NAR sizes, computed by this script's own
NAR serialiser (the same bytes `nix-store --dump` writes; --check-nar
compares a few paths with nix-store when it exists).  References are the
generator's own dependency edges (store paths named inside file contents
and symlink targets), not found by scanning; the deriver line is empty.

Python 3 standard library only.
"""
import argparse
import hashlib
import json
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import time

# ---------------------------------------------------------------- shape
SHAPE = dict(
    paths=1406, files=67851, bytes=1.93e9, symlinks=25000, long_symlinks=21000,
    dirs=20000, big_dir=17777, big_files_total=340e6, big_files=3,
)
KERNEL_SIZE = 30 * 2**20
INITRD_SIZE = 10 * 2**20
N_DTBS = 300
DTB_SIZE = 40 * 1024

NIX_B32 = "0123456789abcdfghijklmnpqrsvwxyz"
STORE = "/nix/store"
MTIME_NS = 1_000_000_000  # mtime 1, as in the Nix store


def nix_base32(b: bytes) -> str:
    n = (len(b) * 8 - 1) // 5 + 1
    out = []
    for i in range(n - 1, -1, -1):
        bit = i * 5
        j, k = divmod(bit, 8)
        c = b[j] >> k
        if j + 1 < len(b):
            c |= b[j + 1] << (8 - k)
        out.append(NIX_B32[c & 0x1F])
    return "".join(out)


# ------------------------------------------------------------ content
POOL_SIZE = 64 * 2**20
CHUNK = 2**20


class Content:
    """Deterministic bytes: a binary pool and a text-like pool."""

    def __init__(self, seed):
        raw = hashlib.shake_256(f"mkr2simg-bench-pool:{seed}".encode()).digest(POOL_SIZE)
        self.bin = memoryview(raw)
        alphabet = b"etaoinshrdlucmfwypvbgkjqxz" * 6 + b"  \n_./=()0123456789" * 2
        table = bytes(alphabet[i % len(alphabet)] for i in range(256))
        self.text = memoryview(raw.translate(table))

    def write(self, fd, key: str, size: int, text: bool, zero_run: bool, header: bytes = b""):
        """Writes `size` bytes for `key` (same key, same bytes) to fd."""
        pool = self.text if text else self.bin
        h = hashlib.blake2b(key.encode(), digest_size=16).digest()
        off = int.from_bytes(h[:8], "little")
        tag = (b"#" + h.hex().encode() + b"\n") if text else (b"\x7fSYN" + h)
        first = header + tag
        written = 0
        chunk_no = 0
        zero_at = -1
        if zero_run and size >= 64 * 1024:
            zero_at = (off >> 20) % min(size // 2, CHUNK // 2) // 4096 * 4096 + 4096
        while written < size:
            n = min(CHUNK, size - written)
            start = (off + chunk_no * 7919 * 4099) % (POOL_SIZE - CHUNK)
            if chunk_no == 0:
                lead = first[:n]
                os.write(fd, lead)
                rest = n - len(lead)
                if rest:
                    buf = pool[start:start + rest]
                    if 0 <= zero_at < n:
                        z = min(16384, n - zero_at)
                        a = zero_at - len(lead)
                        if a > 0:
                            _write_all(fd, buf[:a])
                            os.write(fd, bytes(z))
                            _write_all(fd, buf[a + z:])
                        else:
                            _write_all(fd, buf)
                    else:
                        _write_all(fd, buf)
            else:
                # a unique tag per MiB so that large files do not repeat
                t = struct.pack("<16sQ", h, chunk_no)
                os.write(fd, t[:n])
                if n > len(t):
                    _write_all(fd, pool[start:start + n - len(t)])
            written += n
            chunk_no += 1


def _write_all(fd, mv):
    while len(mv):
        k = os.write(fd, mv)
        mv = mv[k:]


# --------------------------------------------------------------- names
SYL = ["ba", "co", "di", "fu", "ga", "he", "ki", "lo", "mu", "ne", "po", "ra",
       "si", "tu", "ve", "xo", "ya", "ze", "qua", "str", "ion", "ent", "lib",
       "gen", "net", "sys", "con", "dev", "pro", "tab", "mat", "col"]
PKGS = ("glibc gcc-lib bash coreutils util-linux systemd openssl openssh curl "
        "python3 perl gnugrep gnused gawk findutils diffutils less ncurses "
        "readline zlib xz bzip2 zstd lz4 libffi expat sqlite libxml2 dbus "
        "kmod iproute2 iptables nftables procps shadow pam linux-pam acl attr "
        "libcap audit e2fsprogs dosfstools btrfs-progs lvm2 cryptsetup kbd "
        "nix boost nlohmann_json libarchive brotli libsodium editline "
        "libseccomp gnutls nettle gmp mpfr libidn2 libunistring p11-kit "
        "krb5 keyutils libssh2 nghttp2 c-ares libuv icu libedit tzdata "
        "iana-etc mailcap cacert shared-mime-info hwdata pciutils usbutils "
        "wpa_supplicant iw wireless-regdb dnsmasq avahi nss-mdns ppp hostapd "
        "man-db groff texinfo bash-completion nano vim git tmux htop strace "
        "gdbm db libxcrypt libgcrypt libgpg-error pcre2 pcre libyaml "
        "python3.11-setuptools python3.11-pip python3.11-six python3.11-yaml "
        "python3.11-requests python3.11-urllib3 python3.11-idna "
        "fuse fuse3 sudo polkit mozjs glib gobject-introspection libmnl "
        "libnftnl libnetfilter_conntrack ethtool bridge-utils tcpdump "
        "libpcap nmap socat netcat inetutils dhcpcd chrony ntp "
        "mdadm smartmontools hdparm parted gptfdisk fdisk "
        "jq oniguruma yq ripgrep fd bat fzf unbound knot-resolver "
        "openresolv resolvconf libnl elfutils libbpf bpftools "
        "linux-headers stdenv-linux bootstrap-tools patchelf").split()
VERS = ["1.0", "2.1.3", "3.4.1", "0.9.12", "5.2-p26", "2.39-52", "13.2.0",
        "9.5", "255.9", "3.0.13", "9.7p1", "8.7.1", "3.11.9", "5.38.2"]
SUFFIXES = ["", "", "", "-lib", "-bin", "-man", "-dev", "-doc", "-info", "-out"]
EXTS_BIN = ["", "", ".so", ".so.1", ".a", ".o", ".bin"]
EXTS_TEXT = [".py", ".h", ".txt", ".conf", ".json", ".xml", ".pl", ".pm",
             ".sh", ".html", ".md", ".c", ".service", ".rules", ""]


class Names:
    def __init__(self, rng):
        self.rng = rng

    def word(self, lo=1, hi=4):
        r = self.rng
        return "".join(r.choice(SYL) for _ in range(r.randint(lo, hi)))


# ----------------------------------------------------------- the model
class Node:
    __slots__ = ("kind", "children", "size", "key", "text", "exe", "target",
                 "zero", "link_of", "header", "depth")

    def __init__(self, kind, depth=0):
        self.kind = kind          # 'd', 'f', 'l'
        self.children = {} if kind == "d" else None
        self.depth = depth
        self.size = 0
        self.key = None
        self.text = False
        self.exe = False
        self.target = None
        self.zero = False
        self.link_of = None       # (path, rel) of the file this is a hardlink of
        self.header = b""


class StorePath:
    def __init__(self, hash_, name):
        self.hash = hash_
        self.name = name
        self.path = f"{STORE}/{hash_}-{name}"
        self.root = Node("d")
        self.refs = set()
        self.dirs = [("", self.root)]   # (rel, node)
        self.files = []                 # (rel, node)
        self.deep = False
        self.header = b""


def add_dir(sp, parent_rel, parent, name):
    if name in parent.children:
        n = parent.children[name]
        if n.kind != "d":
            return None, None
        return (f"{parent_rel}/{name}" if parent_rel else name), n
    n = Node("d", parent.depth + 1)
    parent.children[name] = n
    rel = f"{parent_rel}/{name}" if parent_rel else name
    sp.dirs.append((rel, n))
    return rel, n


def ensure_dirs(sp, rel):
    cur_rel, cur = "", sp.root
    if not rel:
        return cur
    for part in rel.split("/"):
        cur_rel, cur = add_dir(sp, cur_rel, cur, part)
        if cur is None:
            return None
    return cur


def unique_name(parent, base):
    name, i = base, 1
    while name in parent.children:
        i += 1
        name = f"{base}-{i}"
    return name


def generate(scale, seed, out, check_nar):
    t0 = time.time()
    rng = random.Random(f"mkr2simg-bench:{seed}:{scale}")
    names = Names(rng)
    S = scale
    n_paths = max(16, round(SHAPE["paths"] * S))
    n_files = max(200, round(SHAPE["files"] * S))
    n_long = round(SHAPE["long_symlinks"] * S)
    n_short = round((SHAPE["symlinks"] - SHAPE["long_symlinks"]) * S)
    n_dirs = max(50, round(SHAPE["dirs"] * S))
    n_bigdir = max(20, round(SHAPE["big_dir"] * S))
    total_bytes = round(SHAPE["bytes"] * S)
    fixed = min(1.0, S * 4)          # kernel, initrd, dtbs shrink only below 0.25
    kernel_size = int(KERNEL_SIZE * fixed)
    initrd_size = int(INITRD_SIZE * fixed)
    n_dtbs = max(4, int(N_DTBS * fixed))
    n_big = max(1, round(SHAPE["big_files"] * S))
    big_total = SHAPE["big_files_total"] * S

    # --- store path names and hashes
    used = set()

    def new_path(name):
        i = len(used)
        h = nix_base32(hashlib.sha256(f"{seed}:{scale}:{i}:{name}".encode()).digest()[:20])
        used.add(h)
        return StorePath(h, name)

    kver = "6.6.32"
    top = new_path("nixos-system-nanopi-r2s-24.05.20240601.ab12cd3")
    linux = new_path(f"linux-{kver}")
    modules = new_path(f"linux-{kver}-modules")
    initrd = new_path(f"initrd-linux-{kver}")
    syspath = new_path("system-path")
    etc = new_path("etc")
    manpaths = new_path("man-paths")
    units = new_path("system-units")
    uunits = new_path("user-units")
    bigdir_p = new_path("openssl-3.0.13-man")
    firmware = new_path("linux-firmware-20240610-zstd")
    pythonenv = new_path("python3-3.11.9-env-site-packages")
    big_names = [("llvm-17.0.6-lib", "lib/libLLVM-17.so"),
                 ("glibc-locales-2.39-52", "lib/locale/locale-archive"),
                 ("linux-firmware-blobs-20240610", "lib/firmware/qcom/a740_zap.mbn"),
                 ("ghc-9.4.8-lib", "lib/libHSghc-9.4.8.so"),
                 ("qtwebengine-5.15.16", "lib/libQt5WebEngineCore.so.5"),
                 ("libreoffice-7.6.7-lib", "lib/libmergedlo.so")]
    big_weights = [128, 112, 100, 120, 104, 96]
    big_paths = []
    for i in range(n_big):
        pname, rel = big_names[i % len(big_names)]
        if i >= len(big_names):
            pname += f"-{i}"
        big_paths.append((new_path(pname), rel, big_weights[i % len(big_weights)]))
    specials = [top, linux, modules, initrd, syspath, etc, manpaths, units, uunits,
                bigdir_p, firmware, pythonenv] + [b[0] for b in big_paths]

    n_rest = n_paths - len(specials)
    n_single = int(n_rest * 0.18)       # unit-*.service dirs, *.sh files, ...
    n_generic = n_rest - n_single
    generic = []
    for i in range(n_generic):
        base = PKGS[i % len(PKGS)]
        name = f"{base}-{VERS[(i // len(PKGS)) % len(VERS)]}"
        name += SUFFIXES[(i * 7 + i // len(PKGS)) % len(SUFFIXES)]
        if i >= len(PKGS) * len(VERS):
            name += f"-{i}"
        generic.append(new_path(name))
    singles = []
    for i in range(n_single):
        kind = i % 4
        if kind == 0:
            sp = new_path(f"unit-{names.word(2, 3)}-{i}.service")
        elif kind == 1:
            sp = new_path(f"{names.word(2, 3)}-{i}.sh")
        elif kind == 2:
            sp = new_path(f"{names.word(2, 3)}-{i}.conf")
        else:
            sp = new_path(f"X-{names.word(2, 3)}-{i}")
        sp.single = kind
        singles.append(sp)
    allp = specials + generic + singles
    core_deps = generic[:8]   # glibc, gcc-lib, bash, coreutils, ... everyone uses them

    files_left = n_files
    dirs_left = n_dirs

    def add_file(sp, dir_rel, dnode, name, size, text=False, exe=False, key=None,
                 zero=False):
        name = unique_name(dnode, name)
        n = Node("f", dnode.depth + 1)
        n.size, n.text, n.exe, n.zero = size, text, exe, zero
        rel = f"{dir_rel}/{name}" if dir_rel else name
        n.key = key or f"{sp.hash}/{rel}"
        dnode.children[name] = n
        sp.files.append((rel, n))
        return rel, n

    def add_link(sp, dir_rel, dnode, name, target):
        name = unique_name(dnode, name)
        n = Node("l", dnode.depth + 1)
        n.target = target
        dnode.children[name] = n
        return n

    # --- sizes for small files: lognormal (median ~2.5 KB), ~1.5% empty
    def small_size():
        if rng.random() < 0.015:
            return 0
        return min(int(rng.lognormvariate(math.log(2500), 2.1)), 48 * 2**20)

    # --- toplevel
    d = top.root
    add_file(top, "", d, "init", 5200, text=True, exe=True)
    add_file(top, "", d, "activate", 31000, text=True, exe=True)
    add_file(top, "", d, "dry-activate", 31000, text=True, exe=True)
    add_file(top, "", d, "kernel-params", 0, text=True)
    add_file(top, "", d, "nixos-version", 0, text=True)
    add_file(top, "", d, "system", 0, text=True)
    add_file(top, "", d, "init-interface-version", 0, text=True)
    bin_rel, bin_n = add_dir(top, "", d, "bin")
    add_file(top, bin_rel, bin_n, "switch-to-configuration", 21000, text=True, exe=True)
    add_link(top, "", d, "kernel", f"{linux.path}/Image")
    add_link(top, "", d, "initrd", f"{initrd.path}/initrd")
    add_link(top, "", d, "dtbs", f"{linux.path}/dtbs")
    add_link(top, "", d, "kernel-modules", f"{modules.path}")
    add_link(top, "", d, "firmware", f"{firmware.path}/lib/firmware")
    add_link(top, "", d, "sw", syspath.path)
    add_link(top, "", d, "etc", f"{etc.path}/etc")
    add_link(top, "", d, "systemd", f"{generic[5].path}")
    top.refs |= {linux.path, initrd.path, modules.path, firmware.path, syspath.path,
                 etc.path, generic[5].path}
    # small texts with fixed contents, written specially
    top.fixed = {
        "kernel-params": b"console=ttyS2,1500000 earlycon=uart8250,mmio32,0xff130000 "
                         b"loglevel=4 init_on_alloc=1",
        "nixos-version": b"24.05.20240601.ab12cd3",
        "system": b"aarch64-linux",
        "init-interface-version": b"systemd-stage-1",
    }
    files_left -= 9
    dirs_left -= 2

    # --- linux: Image, dtbs
    add_file(linux, "", linux.root, "Image", kernel_size)
    add_file(linux, "", linux.root, "System.map", int(6_000_000 * fixed), text=True)
    add_file(linux, "", linux.root, "config", int(250_000 * fixed), text=True)
    vendors = ["rockchip", "allwinner", "amlogic", "broadcom", "freescale", "marvell",
               "mediatek", "nvidia", "qcom", "renesas", "xilinx", "ti"]
    drel, dn = add_dir(linux, "", linux.root, "dtbs")
    dirs_left -= 2
    vdirs = []
    for v in vendors[:max(2, min(len(vendors), n_dtbs // 20))]:
        vdirs.append(add_dir(linux, drel, dn, v))
        dirs_left -= 1
    rk_rel, rk_n = vdirs[0]
    add_file(linux, rk_rel, rk_n, "rk3328-nanopi-r2s.dtb", 52_311)
    add_file(linux, rk_rel, rk_n, "rk3328-rock64.dtb", 49_870)
    for i in range(n_dtbs - 2):
        vr, vn = vdirs[i % len(vdirs)]
        add_file(linux, vr, vn, f"{vr.split('/')[-1][:2]}{names.word(2, 3)}-{i}.dtb",
                 int(rng.uniform(0.4, 1.6) * DTB_SIZE))
    files_left -= n_dtbs + 3
    # --- initrd
    add_file(initrd, "", initrd.root, "initrd", initrd_size)
    files_left -= 1

    # --- the one very large directory: man3 pages, ~85% files, 15% short symlinks
    man_rel = "share/man/man3"
    man_n = ensure_dirs(bigdir_p, man_rel)
    dirs_left -= 4
    bd_links = int(n_bigdir * 0.15)
    bd_files = n_bigdir - bd_links
    bd_names = []
    for i in range(bd_files):
        nm = f"{names.word(2, 4).upper()}_{names.word(1, 3)}_{i}.3ssl.gz"
        rel, _ = add_file(bigdir_p, man_rel, man_n, nm, int(rng.uniform(600, 9000)))
        bd_names.append(nm)
    for i in range(bd_links):
        add_link(bigdir_p, man_rel, man_n, f"{names.word(2, 4).upper()}_{i}.3ssl.gz",
                 bd_names[i % len(bd_names)])
    files_left -= bd_files
    n_short -= bd_links

    # --- big files
    wsum = sum(w for _, _, w in big_paths)
    for sp, rel, w in big_paths:
        dirn, base = rel.rsplit("/", 1)
        dn = ensure_dirs(sp, dirn)
        dirs_left -= len(dirn.split("/")) + 1
        add_file(sp, dirn, dn, base, int(big_total * w / wsum), exe=base.find(".so") > 0,
                 zero=True)
        sp.refs |= set(p.path for p in core_deps[:2])
        files_left -= 1

    # --- single-entry store paths
    for sp in singles:
        if sp.single == 0:
            add_file(sp, "", sp.root, sp.name[len("unit-"):],
                     int(rng.uniform(300, 2500)), text=True)
            files_left -= 1
            dirs_left -= 1
        elif sp.single in (1, 2):
            sp.root = Node("f")
            sp.root.size = int(rng.uniform(200, 8000))
            sp.root.text = True
            sp.root.exe = sp.single == 1
            sp.root.key = sp.hash
            sp.files.append(("", sp.root))
            files_left -= 1
        else:
            sp.root = Node("l")
            sp.root.target = None   # set after generic trees exist
    # --- generic + deep paths: distribute files and dirs (Pareto weights)
    deep_paths = [modules, pythonenv, firmware]
    for sp in deep_paths:
        sp.deep = True
    gen_all = deep_paths + generic
    weights = [rng.paretovariate(1.05) for _ in gen_all]
    weights[0] = max(weights) * 0.6      # kernel modules: thousands of files
    weights[1] = max(weights) * 0.5
    weights[2] = max(weights) * 0.3
    # env paths (symlink farms) take about 20% of the directories
    env_dir_share = 0.2
    gen_dirs = max(len(gen_all), int(dirs_left * (1 - env_dir_share)))
    gen_files = max(len(gen_all), files_left)
    wt = sum(weights)
    # largest remainder, at least one file per path
    alloc_f = [max(1, int(gen_files * w / wt)) for w in weights]
    alloc_d = [max(1, int(gen_dirs * w / wt * rng.uniform(0.6, 1.4))) for w in weights]
    # fix totals
    diff = gen_files - sum(alloc_f)
    order = sorted(range(len(gen_all)), key=lambda i: -weights[i])
    i = 0
    while diff != 0:
        j = order[i % len(order)]
        if diff > 0:
            alloc_f[j] += 1
            diff -= 1
        elif alloc_f[j] > 1:
            alloc_f[j] -= 1
            diff += 1
        i += 1

    TOPS = ["bin", "lib", "share", "include", "libexec", "etc", "sbin"]
    for idx, sp in enumerate(gen_all):
        nf, nd = alloc_f[idx], min(alloc_d[idx], max(1, alloc_f[idx]))
        deps = rng.sample(core_deps, k=min(len(core_deps), rng.randint(1, 4)))
        extra = rng.sample(generic, k=min(len(generic), rng.randint(0, 6)))
        sp.refs |= set(p.path for p in deps + extra if p is not sp)
        sp.header = (" ".join(p.path for p in deps[:2]) + "\n").encode()
        ntop = rng.randint(1, min(4, nd))
        tops = rng.sample(TOPS, ntop)
        for t in tops:
            add_dir(sp, "", sp.root, t)
        while len(sp.dirs) - 1 < nd:
            if sp.deep and rng.random() < 0.7:
                prel, pn = sp.dirs[-1] if sp.dirs[-1][1].depth < 14 else rng.choice(sp.dirs[1:])
            else:
                prel, pn = rng.choice(sp.dirs[1:] if len(sp.dirs) > 1 else sp.dirs)
            add_dir(sp, prel, pn, unique_name(pn, names.word(1, 3)))
        cand = sp.dirs[1:] if len(sp.dirs) > 1 else sp.dirs
        for _ in range(nf):
            drel, dn = rng.choice(cand)
            top_dir = drel.split("/", 1)[0]
            binary = top_dir in ("bin", "sbin", "libexec", "lib") and rng.random() < 0.7
            exe = top_dir in ("bin", "sbin", "libexec") or (binary and rng.random() < 0.3)
            if binary:
                nm = names.word(1, 3) + rng.choice(EXTS_BIN)
            else:
                nm = names.word(1, 3) + rng.choice(EXTS_TEXT)
            sz = small_size()
            add_file(sp, drel, dn, nm, sz, text=not binary, exe=exe,
                     zero=binary and sz > 65536 and rng.random() < 0.05)
        dirs_left -= len(sp.dirs)
    files_left = 0

    # --- identical files across store paths (~7% of files), some as hardlinks
    pool_files = [(sp, rel, n) for sp in gen_all for rel, n in sp.files if n.size > 0]
    n_dup = int(n_files * 0.07)
    n_groups = max(1, n_dup // 3)
    sources = rng.sample(pool_files, k=min(len(pool_files), n_groups))
    source_ids = set(id(n) for _, _, n in sources)
    dup_count = hard_count = 0
    tries = 0
    while dup_count < n_dup and tries < n_dup * 20:
        tries += 1
        ssp, srel, snode = rng.choice(sources)
        tsp, trel, tnode = rng.choice(pool_files)
        if id(tnode) in source_ids or tsp is ssp or tnode.link_of or tnode.key != f"{tsp.hash}/{trel}":
            continue
        tnode.key, tnode.size, tnode.text = snode.key, snode.size, snode.text
        tnode.zero = snode.zero
        if rng.random() < 0.3 and tnode.exe == snode.exe:
            tnode.link_of = (ssp, srel)
            hard_count += 1
        dup_count += 1

    # --- short (relative) symlinks in generic paths: lib aliases, bin aliases
    for _ in range(max(0, n_short)):
        sp = gen_all[rng.randrange(len(gen_all))]
        if not sp.files:
            continue
        rel, n = rng.choice(sp.files)
        dirn, base = rel.rsplit("/", 1) if "/" in rel else ("", rel)
        dn = ensure_dirs(sp, dirn)
        if dn is None:
            continue
        add_link(sp, dirn, dn, (base.split(".")[0] or "x")[:12] + rng.choice([".so", ".so.1", "", "-link"]),
                 base)

    # --- long symlinks: buildEnv-style farms, targets /nix/store/<hash>-name/rel
    linkables = [(sp, rel) for sp in gen_all for rel, _ in sp.files]
    farms = [(syspath, 0.55), (manpaths, 0.22), (etc, 0.10), (units, 0.09), (uunits, 0.04)]
    long_made = 0
    for farm, share in farms:
        want = int(n_long * share)
        made = 0
        tries = 0
        while made < want and tries < want * 3:
            tries += 1
            sp, rel = rng.choice(linkables)
            if farm is etc:
                lrel = "etc/" + "/".join(rel.split("/")[-2:])
            elif farm in (units, uunits):
                lrel = rel.rsplit("/", 1)[-1]
                if "." not in lrel:
                    lrel += ".service"
            elif farm is manpaths:
                lrel = "share/man/man" + str(rng.randint(1, 8)) + "/" + rel.rsplit("/", 1)[-1]
            else:
                # buildEnv merges trees; keep the top two levels and the name
                parts = rel.split("/")
                lrel = "/".join(parts[:2] + parts[-1:]) if len(parts) > 2 else rel
            dirn, base = lrel.rsplit("/", 1) if "/" in lrel else ("", lrel)
            dn = ensure_dirs(farm, dirn)
            if dn is None or base in dn.children:
                continue
            target = f"{sp.path}/{rel}"
            add_link(farm, dirn, dn, base, target)
            farm.refs.add(sp.path)
            made += 1
        long_made += made
    # symlink-only store paths point into generic paths
    for sp in singles:
        if sp.single == 3:
            tsp, trel = rng.choice(linkables)
            sp.root.target = f"{tsp.path}/{trel}"
            sp.refs.add(tsp.path)

    # --- scale the byte budget: everything except fixed-size entries
    fixed_nodes = set()
    for sp, rel, _ in big_paths:
        fixed_nodes.add(id(sp.files[-1][1]))
    for rel, n in linux.files:
        fixed_nodes.add(id(n))
    for rel, n in initrd.files + top.files:
        fixed_nodes.add(id(n))
    keysize = {}
    fixed_total = 0
    var_total = 0
    for sp in allp:
        for rel, n in sp.files:
            if id(n) in fixed_nodes:
                fixed_total += n.size
            else:
                var_total += n.size
    factor = max(0.05, (total_bytes - fixed_total) / max(1, var_total))
    for sp in allp:
        for rel, n in sp.files:
            if id(n) in fixed_nodes:
                continue
            if n.key in keysize:
                n.size = keysize[n.key]
            else:
                n.size = int(n.size * factor)
                keysize[n.key] = n.size

    # ------------------------------------------------------------ write
    if os.path.exists(out):
        shutil.rmtree(out)
    store = os.path.join(out, "store", "nix", "store")
    os.makedirs(store)
    os.umask(0)
    content = Content(seed)
    stats = dict(paths=len(allp), files=0, file_bytes=0, unique_inodes=0,
                 unique_bytes=0, symlinks=0, long_symlinks=0, dirs=0,
                 largest_dir=0, max_depth=0, dup_files=dup_count,
                 source_hardlinks=hard_count, zero_runs=0, empty_files=0)
    fixed_text = getattr(top, "fixed", {})
    top_rel_to_fixed = fixed_text

    def write_tree(sp, node, path, rel, depth):
        if node.kind == "d":
            os.mkdir(path, 0o755)
            stats["dirs"] += 1
            stats["largest_dir"] = max(stats["largest_dir"], len(node.children))
            stats["max_depth"] = max(stats["max_depth"], depth)
            for name in sorted(node.children):
                write_tree(sp, node.children[name], f"{path}/{name}",
                           f"{rel}/{name}" if rel else name, depth + 1)
        elif node.kind == "l":
            os.symlink(node.target, path)
            stats["symlinks"] += 1
            if len(node.target) > 60:
                stats["long_symlinks"] += 1
        else:
            stats["files"] += 1
            mode = 0o555 if node.exe else 0o444
            if node.link_of:
                lsp, lrel = node.link_of
                deferred.append((f"{store}/{lsp.hash}-{lsp.name}/{lrel}", path))
                stats["file_bytes"] += node.size
                return
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            try:
                if sp is top and rel in top_rel_to_fixed:
                    data = top_rel_to_fixed[rel]
                    os.write(fd, data)
                    node.size = len(data)
                elif sp is top and rel == "init":
                    os.write(fd, f"#! /nix/store/{core_deps[2].hash}-{core_deps[2].name}/bin/sh\n"
                                 f"exec {syspath.path}/lib/systemd/systemd\n".encode())
                    content.write(fd, node.key, node.size, True, False)
                else:
                    content.write(fd, node.key, node.size, node.text, node.zero,
                                  sp.header if node.key.startswith(sp.hash) else b"")
            finally:
                os.close(fd)
            if node.size == 0:
                stats["empty_files"] += 1
            if node.zero and node.size >= 65536:
                stats["zero_runs"] += 1
            stats["file_bytes"] += node.size
            stats["unique_inodes"] += 1
            stats["unique_bytes"] += node.size

    # hardlinks are made once every source exists
    deferred = []
    for sp in allp:
        write_tree(sp, sp.root, f"{store}/{sp.hash}-{sp.name}", "", 0)
    for src, dst in deferred:
        os.link(src, dst)

    # canonical metadata: mtime 1 everywhere, directories 0555
    for sp in allp:
        canonicalise(f"{store}/{sp.hash}-{sp.name}")
    t_write = time.time() - t0

    # ------------------------------------------------------ registration
    paths_sorted = sorted(sp.path for sp in allp)
    by_path = {sp.path: sp for sp in allp}
    reg = []
    for p in paths_sorted:
        sp = by_path[p]
        h, size = nar_hash(f"{store}/{sp.hash}-{sp.name}")
        refs = sorted(r for r in sp.refs if r in by_path)
        reg.append(f"{p}\nsha256:{nix_base32(h)}\n{size}\n\n{len(refs)}\n")
        reg.extend(r + "\n" for r in refs)
    with open(os.path.join(out, "registration"), "w") as f:
        f.write("".join(reg))
    with open(os.path.join(out, "closure.txt"), "w") as f:
        f.write("".join(p + "\n" for p in paths_sorted))
    t_reg = time.time() - t0 - t_write

    if check_nar:
        check_nar_hashes(store, allp[:3] + singles[:2])

    stats.update(scale=scale, seed=seed, toplevel=top.path,
                 big_files=[int(sp.files[-1][1].size) for sp, _, _ in big_paths],
                 kernel_bytes=kernel_size, initrd_bytes=initrd_size,
                 gen_seconds=round(t_write, 1), registration_seconds=round(t_reg, 1),
                 registration="real NAR hashes and sizes (own NAR serialiser); "
                              "references from the generator's dependency edges")
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(stats, f, indent=1)
        f.write("\n")
    return stats


def canonicalise(top):
    st = os.lstat(top)
    if not os.path.isdir(top) or os.path.islink(top):
        os.utime(top, ns=(MTIME_NS, MTIME_NS), follow_symlinks=False)
        return
    for dirpath, dirnames, filenames in os.walk(top, topdown=False):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            os.utime(os.path.join(dirpath, name), ns=(MTIME_NS, MTIME_NS), follow_symlinks=False)
        for name in dirnames:
            p = os.path.join(dirpath, name)
            if not os.path.islink(p):
                os.chmod(p, 0o555)
                os.utime(p, ns=(MTIME_NS, MTIME_NS))
    os.chmod(top, 0o555)
    os.utime(top, ns=(MTIME_NS, MTIME_NS))


# ------------------------------------------------------------------ NAR
class _Nar:
    def __init__(self):
        self.h = hashlib.sha256()
        self.n = 0

    def s(self, b):
        if isinstance(b, str):
            b = b.encode()
        self.h.update(struct.pack("<Q", len(b)))
        self.h.update(b)
        pad = (-len(b)) % 8
        if pad:
            self.h.update(b"\0" * pad)
        self.n += 8 + len(b) + pad

    def node(self, path):
        st = os.lstat(path)
        self.s("(")
        if os.path.islink(path):
            self.s("type"); self.s("symlink")
            self.s("target"); self.s(os.fsencode(os.readlink(path)))
        elif os.path.isdir(path):
            self.s("type"); self.s("directory")
            for name in sorted(os.listdir(os.fsencode(path))):
                self.s("entry"); self.s("(")
                self.s("name"); self.s(name)
                self.s("node"); self.node(os.path.join(os.fsencode(path), name))
                self.s(")")
        else:
            self.s("type"); self.s("regular")
            if st.st_mode & 0o100:
                self.s("executable"); self.s("")
            self.s("contents")
            size = st.st_size
            self.h.update(struct.pack("<Q", size))
            with open(path, "rb", buffering=0) as f:
                while True:
                    b = f.read(4 << 20)
                    if not b:
                        break
                    self.h.update(b)
            pad = (-size) % 8
            if pad:
                self.h.update(b"\0" * pad)
            self.n += 8 + size + pad
        self.s(")")


def nar_hash(path):
    nar = _Nar()
    nar.s("nix-archive-1")
    nar.node(path)
    return nar.h.digest(), nar.n


def check_nar_hashes(store, paths):
    if not shutil.which("nix-store"):
        print("gen_closure: nix-store not found; NAR serialiser not cross-checked", file=sys.stderr)
        return
    for sp in paths:
        p = f"{store}/{sp.hash}-{sp.name}"
        h, n = nar_hash(p)
        dump = subprocess.run(["nix-store", "--dump", p], stdout=subprocess.PIPE, check=True).stdout
        if hashlib.sha256(dump).digest() != h or len(dump) != n:
            sys.exit(f"gen_closure: NAR mismatch with nix-store --dump for {p}")
    print(f"gen_closure: NAR hashes of {len(paths)} paths match nix-store --dump", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--check-nar", action="store_true",
                    help="compare a few NAR hashes with nix-store --dump")
    ap.add_argument("--force", action="store_true", help="regenerate even if cached")
    ap.add_argument("out")
    a = ap.parse_args()
    if a.scale <= 0:
        ap.error("--scale must be > 0")
    done = os.path.join(a.out, ".complete")
    with open(__file__, "rb") as f:
        version = hashlib.sha256(f.read()).hexdigest()[:12]
    if not a.force and os.path.exists(done):
        with open(done) as f:
            if f.read().split() == [str(a.scale), str(a.seed), version]:
                print(f"gen_closure: {a.out} is cached (scale {a.scale}, seed {a.seed})",
                      file=sys.stderr)
                return
    st = generate(a.scale, a.seed, a.out, a.check_nar)
    with open(done, "w") as f:
        f.write(f"{a.scale} {a.seed} {version}\n")
    print(f"gen_closure: {a.out}: {st['paths']} paths, {st['files']} files "
          f"({st['file_bytes'] / 1e9:.2f} GB), {st['symlinks']} symlinks "
          f"({st['long_symlinks']} > 60 bytes), {st['dirs']} dirs, largest dir "
          f"{st['largest_dir']} entries, {st['dup_files']} duplicate files "
          f"({st['source_hardlinks']} hardlinked), written in {st['gen_seconds']} s, "
          f"registration in {st['registration_seconds']} s", file=sys.stderr)


if __name__ == "__main__":
    main()
