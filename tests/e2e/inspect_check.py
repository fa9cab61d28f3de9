#!/usr/bin/env python3
"""inspect_check.py JSON IMAGE

Checks `mkr2simg inspect --json` output (the file JSON) against what stock
tools read from IMAGE (a plain image): sgdisk -p/-i (disk and partition
GUIDs, types and their names, sectors, names, attributes), blkid -p
(filesystem type, label, UUID), dumpe2fs -h (features in order, block
size, block and inode counts), debugfs (extlinux.conf, parsed here as
U-Boot's pxe parser reads it).  Also what the JSON itself promises: the
regions, sorted, cover every sector exactly once, and the documented
fields are there.  Prints one line per problem; exit 0 when none.
"""
import json
import re
import subprocess
import sys

problems = []


def bad(msg):
    problems.append(msg)


def run(*cmd, check=True):
    return subprocess.run(cmd, capture_output=True, text=True,
                          errors="surrogateescape", check=check).stdout


def check_regions(d, sectors):
    nxt = 0
    for r in d["regions"]:
        for k in ("first_lba", "last_lba", "start", "size", "kind", "detail"):
            if k not in r:
                bad(f"region without {k}: {r}")
        if r["first_lba"] != nxt:
            bad(f"region {r} does not start at {nxt}")
        if r["start"] != r["first_lba"] * 512 or \
                r["size"] != (r["last_lba"] - r["first_lba"] + 1) * 512:
            bad(f"region {r}: start/size do not match its sectors")
        nxt = r["last_lba"] + 1
    if nxt != sectors:
        bad(f"regions end at {nxt}, the image has {sectors} sectors")


def sgdisk_info(image, n):
    out = run("sgdisk", "-i", str(n), image)
    info = {}
    for key, pat in (("type", r"Partition GUID code: (\S+) \((.*)\)\n"),
                     ("guid", r"Partition unique GUID: (\S+)"),
                     ("first", r"First sector: (\d+)"),
                     ("last", r"Last sector: (\d+)"),
                     ("attr", r"Attribute flags: ([0-9A-Fa-f]+)"),
                     ("name", r"Partition name: '(.*)'")):
        m = re.search(pat, out)
        if not m:
            bad(f"sgdisk -i {n}: no {key} in {out!r}")
            continue
        info[key] = m.groups() if key == "type" else m.group(1)
    return info


def check_partition(image, p):
    n = p["number"]
    s = sgdisk_info(image, n)
    if not s:
        return
    want = {
        "type_guid": s["type"][0], "type": s["type"][1], "guid": s["guid"],
        "first_lba": int(s["first"]), "last_lba": int(s["last"]),
        "attributes": int(s["attr"], 16), "name": s["name"],
    }
    for k, v in want.items():
        if p[k] != v:
            bad(f"partition {n}: {k} is {p[k]!r}, sgdisk says {v!r}")
    if p["start"] != p["first_lba"] * 512 or \
            p["size"] != (p["last_lba"] - p["first_lba"] + 1) * 512:
        bad(f"partition {n}: start/size do not match its sectors")
    if p["legacy_bios_bootable"] != bool(p["attributes"] & 4):
        bad(f"partition {n}: legacy_bios_bootable against attributes")
    check_fs(image, p)


def check_fs(image, p):
    off = p["first_lba"] * 512
    # blkid exits 2 when it finds nothing there; -o value prints a tag as
    # it is (-o export would escape blanks).
    tags = {t: run("blkid", "-p", "-O", str(off), "-s", t, "-o", "value",
                   image, check=False).rstrip("\n")
            for t in ("TYPE", "LABEL", "UUID")}
    fs = p["filesystem"]
    if not tags.get("TYPE", "").startswith("ext"):
        if fs is not None:
            bad(f"partition {p['number']}: filesystem {fs}, blkid finds none")
        return
    if fs is None or fs["error"] is not None:
        bad(f"partition {p['number']}: no filesystem read, blkid: {tags}")
        return
    for k, t in (("type", "TYPE"), ("label", "LABEL"), ("uuid", "UUID")):
        if fs[k] != tags.get(t, ""):
            bad(f"partition {p['number']}: {k} {fs[k]!r}, blkid {tags.get(t)!r}")
    dump = run("dumpe2fs", "-h", f"{image}?offset={off}")
    field = lambda name: re.search(rf"^{name}:\s*(.*)$", dump, re.M).group(1)
    want = {
        "features": field("Filesystem features").split(),
        "block_size": int(field("Block size")),
        "blocks": int(field("Block count")),
        "free_blocks": int(field("Free blocks")),
        "inodes": int(field("Inode count")),
        "free_inodes": int(field("Free inodes")),
        "label": field("Filesystem volume name").replace("<none>", ""),
        "uuid": field("Filesystem UUID"),
    }
    for k, v in want.items():
        if fs[k] != v:
            bad(f"partition {p['number']}: {k} {fs[k]!r}, dumpe2fs {v!r}")
    if fs["used_blocks"] != fs["blocks"] - fs["free_blocks"] or \
            fs["used_inodes"] != fs["inodes"] - fs["free_inodes"]:
        bad(f"partition {p['number']}: used counts do not add up")


def pxe_first_entry(text):
    """Global TIMEOUT/DEFAULT, the first LABEL's lines (U-Boot pxe_utils)."""
    keys = {"label": "label", "menu label": "menu_label", "linux": "linux",
            "kernel": "linux", "initrd": "initrd", "fdt": "fdt",
            "devicetree": "fdt", "fdtdir": "fdtdir",
            "devicetreedir": "fdtdir", "append": "append"}
    out = {k: None for k in ("timeout", "default", *set(keys.values()))}
    labels = 0
    for line in text.split("\n"):
        line = line.strip(" \t\r")
        low = line.lower()
        for kw in sorted(("timeout", "default", *keys), key=len, reverse=True):
            if low == kw or low.startswith(kw + " ") or low.startswith(kw + "\t"):
                value = line[len(kw):].strip(" \t")
                if kw == "label":
                    labels += 1
                if kw in ("timeout", "default"):
                    out[kw] = value
                elif labels == 1:
                    out[keys[kw]] = value
                break
    return out


def check_extlinux(image, d):
    x = d["extlinux"]
    part = next(p for p in d["partitions"] if p["number"] == x["partition"])
    off = part["first_lba"] * 512
    conf = run("debugfs", "-R", f"cat {x['path']}", f"{image}?offset={off}")
    want = pxe_first_entry(conf)
    for k, v in want.items():
        if x[k] != v:
            bad(f"extlinux {k}: {x[k]!r}, the file read by debugfs says {v!r}")


def check_gpt(image, d, sectors):
    g = d["gpt"]
    m = re.search(r"Disk identifier \(GUID\): (\S+)", run("sgdisk", "-p", image))
    if g["disk_guid"] != m.group(1):
        bad(f"disk GUID {g['disk_guid']}, sgdisk {m.group(1)}")
    for copy, lba in (("primary", 1), ("backup", sectors - 1)):
        c = g[copy]
        if c["lba"] != lba or not c["valid"] or not c["entries_crc_ok"] or \
                c["error"] is not None:
            bad(f"GPT {copy}: {c}")
    if not g["copies_agree"]:
        bad("GPT copies do not agree")


def main():
    d = json.load(open(sys.argv[1]))
    image = sys.argv[2]
    size = int(run("stat", "-c", "%s", image))
    for k in ("format", "image", "compression", "size", "sector_size", "mbr",
              "gpt", "partitions", "regions", "uboot_env", "extlinux"):
        if k not in d:
            bad(f"no top-level {k}")
    if d["format"] != 1 or d["sector_size"] != 512 or d["size"] != size:
        bad(f"format {d['format']}, size {d['size']} (file {size})")
    if not d["mbr"]["boot_signature"] or not d["mbr"]["protective"]:
        bad(f"mbr: {d['mbr']}")
    check_regions(d, size // 512)
    if d["gpt"] is not None:
        check_gpt(image, d, size // 512)
    sg = run("sgdisk", "-p", image)
    numbers = [int(l.split()[0]) for l in sg.splitlines()
               if re.match(r"^\s+\d+\s+\d+\s+\d+", l)]
    if [p["number"] for p in d["partitions"]] != numbers:
        bad(f"partitions {[p['number'] for p in d['partitions']]}, sgdisk {numbers}")
    for p in d["partitions"]:
        check_partition(image, p)
    if d["extlinux"] is not None:
        check_extlinux(image, d)
    for p in problems:
        print(f"FAIL: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
