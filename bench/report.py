#!/usr/bin/env python3
"""report.py: turns run.sh's raw results into the printed tables and the
markdown file (the same text: the tables are markdown)."""
import argparse
import csv
import json
import os
import statistics
import sys

LABEL = {
    "mkr2simg": "mkr2simg",
    "mkr2simg-nodedup": "mkr2simg --no-dedup",
    "mkr2simg-zst": "mkr2simg `OUT.img.zst` (one pass)",
    "mkr2simg-then-zstd": "mkr2simg `OUT.img` && `zstd -T0 OUT.img`",
    "pipeline": "nixpkgs-style pipeline",
    "mke2fs": "`mke2fs -d` alone (root fs only)",
    "genimage": "genimage",
    "floor": "floor: read+write every byte once, fsync",
    "floor-nosync": "floor without fsync",
}
WHAT = {
    "mkr2simg": "GPT image, both filesystems, dedup",
    "mkr2simg-nodedup": "same, no hardlinks between identical files",
    "mkr2simg-zst": "the same image as zstd frames of 2 MiB (level 3, all cores), compressed "
                    "while the image is written to a scratch file, holes never read",
    "mkr2simg-then-zstd": "the plain image (fsynced), then a second pass of `zstd -T0` (level 3) "
                          "over it",
    "pipeline": "`cp -a` staging, `mkfs.ext4 -d`, `fsck -n -f`, `resize2fs -M` (+16 MiB), "
                "boot fs by `mkfs.ext4 -d`, `sgdisk` + `dd`",
    "mke2fs": "`mke2fs -t ext4 -d STORE` on a fixed-size file",
    "genimage": "hardlink-farm rootpath; genimage copies it (`cp -a`), `mke2fs -d` ×2, "
                "`e2fsck -pvfD` ×2, GPT",
    "floor": "`find -type f | xargs cat > one file; sync FILE`",
    "floor-nosync": "the same without `sync FILE`",
}


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def mib(b):
    return b / 2**20


def fmt_s(x):
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def main():
    ap = argparse.ArgumentParser()
    for a in ("results-dir", "workdir", "seed", "main", "scales", "runs", "methods", "command",
              "nproc", "mem", "cpu", "fs", "kernel", "e2fsprogs", "genimage", "mkr2simg",
              "load", "minutes", "out"):
        ap.add_argument("--" + a, required=True)
    ap.add_argument("--caches", default="warm")
    a = ap.parse_args()
    rows = list(csv.DictReader(open(os.path.join(a.results_dir, "raw.tsv")), delimiter="\t"))
    steps = list(csv.DictReader(open(os.path.join(a.results_dir, "steps.tsv")), delimiter="\t"))
    notes = open(os.path.join(a.results_dir, "notes.txt")).read().strip()
    failures = [l.rstrip("\n").split("\t", 3)
                for l in open(os.path.join(a.results_dir, "failures.tsv")) if l.strip()]
    for r in rows:
        for k in ("wall", "user", "sys"):
            r[k] = float(r[k])
        for k in ("maxrss_kb", "apparent", "allocated", "fs_used", "zst"):
            r[k] = int(r.get(k) or 0)

    def meta(scale):
        p = os.path.join(a.workdir, "closures", f"s{scale}-seed{a.seed}", "meta.json")
        return json.load(open(p))

    def stats(scale, method):
        rs = [r for r in rows if r["scale"] == scale and r["method"] == method]
        if not rs:
            return None
        return dict(
            n=len(rs),
            wall=med([r["wall"] for r in rs]), wmin=min(r["wall"] for r in rs),
            wmax=max(r["wall"] for r in rs),
            user=med([r["user"] for r in rs]), sys=med([r["sys"] for r in rs]),
            rss=med([r["maxrss_kb"] for r in rs]) / 1024,
            app=rs[-1]["apparent"], alloc=rs[-1]["allocated"], used=rs[-1]["fs_used"],
            zst=rs[-1]["zst"],
        )

    def label(m):  # "floor@cold" -> LABEL["floor"] + ", cold cache"
        b, _, cache = m.partition("@")
        return LABEL[b] + (", **cold cache**" if cache else "")

    out = []
    p = out.append
    M = a.main
    mm = meta(M)
    caches = a.caches.split()
    methods = [m + ("@cold" if c == "cold" else "") for m in a.methods.split() for c in caches]
    base = stats(M, "mkr2simg")
    base_cold = stats(M, "mkr2simg@cold")
    p(f"### Synthetic closure at scale {M} (seed {a.seed})")
    p("")
    p(f"{mm['paths']:,} store paths, {mm['files']:,} files ({mm['file_bytes'] / 1e9:.2f} GB; "
      f"{mm['unique_inodes']:,} distinct inodes), {mm['symlinks']:,} symlinks "
      f"({mm['long_symlinks']:,} longer than 60 bytes), {mm['dirs']:,} directories "
      f"(deepest {mm['max_depth']} levels), largest directory {mm['largest_dir']:,} entries, "
      f"big files {', '.join(f'{b / 2**20:.0f} MiB' for b in mm['big_files'])}, "
      f"kernel {mm['kernel_bytes'] / 2**20:.0f} MiB, initrd {mm['initrd_bytes'] / 2**20:.0f} MiB, "
      f"{mm['dup_files']:,} files identical to one in another store path "
      f"({mm['source_hardlinks']:,} of them source hardlinks), {mm['empty_files']:,} empty files. "
      f"Registration: {mm['registration']}.")
    p("")
    cache_text = ("**Warm page cache**: the store was read once, untimed, before the runs"
                  if caches == ["warm"] else
                  "**Cold** rows: `sync` and `echo 3 > /proc/sys/vm/drop_caches` just before "
                  "each timed run (store and everything else read from the disk); warm rows: "
                  "the store read once, untimed, before the runs, each run right after a cold "
                  "one of the same method" if "warm" in caches else
                  "**Cold page cache**: `sync` and `echo 3 > /proc/sys/vm/drop_caches` just "
                  "before each timed run")
    p(f"Median of {a.runs} runs per method, methods alternating (A B C … A B C …) in one "
      f"invocation. {cache_text}, and `sync` ran, untimed, "
      f"after every run. mkr2simg fsyncs its output; so does mke2fs (and genimage's mke2fs); "
      f"`dd` in the pipeline does not. Peak RSS is the largest single process of the method "
      f"(GNU time, children included).")
    p("")
    p("| method | wall s (median) | wall min–max | user s | sys s | peak RSS MiB | "
      "wall ÷ mkr2simg | CPU ÷ mkr2simg | image MiB (apparent) | allocated MiB | root fs used MiB |")
    p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for m in methods:
        s = stats(M, m)
        if not s:
            continue
        ratio = cpu_ratio = "–"
        b = base_cold if m.endswith("@cold") else base
        if b:
            ratio = f"{s['wall'] / b['wall']:.2f}×"
            bc = b["user"] + b["sys"]
            cpu_ratio = f"{(s['user'] + s['sys']) / bc:.2f}×" if bc > 0 else "–"
        used = f"{mib(s['used']):,.0f}" if s["used"] else "–"
        p(f"| {label(m)} | {fmt_s(s['wall'])} | {fmt_s(s['wmin'])}–{fmt_s(s['wmax'])} | "
          f"{fmt_s(s['user'])} | {fmt_s(s['sys'])} | {s['rss']:.1f} | {ratio} | {cpu_ratio} | "
          f"{mib(s['app']):,.0f} | {mib(s['alloc']):,.0f} | {used} |")
    p("")
    p("What each method does:")
    p("")
    for m in a.methods.split():
        p(f"- {LABEL[m]}: {WHAT[m]}")
    p("")

    # the compressed image: one pass against two
    z1, z2 = stats(M, "mkr2simg-zst"), stats(M, "mkr2simg-then-zstd")
    if z1 and z2:
        p(f"Compressed image: `mkr2simg OUT.img.zst` {fmt_s(z1['wall'])} s "
          f"({mib(z1['zst']):,.0f} MiB .zst), `mkr2simg OUT.img && zstd -T0 OUT.img` "
          f"{fmt_s(z2['wall'])} s ({mib(z2['zst']):,.0f} MiB .zst): the one pass is "
          f"{z2['wall'] / z1['wall']:.2f}× faster"
          + (f" and takes {z1['wall'] / base['wall']:.2f}× the plain mkr2simg run" if base else "")
          + ".")
        p("")

    # steps of the multi-step methods
    for m in ("pipeline", "genimage", "mkr2simg-then-zstd"):
        st = [x for x in steps if x["scale"] == M and x["method"] == m]
        if not st:
            continue
        names = list(dict.fromkeys(x["step"] for x in st))
        tot = stats(M, m)["wall"]
        p(f"Where the {LABEL[m]} spends its time (median per step, s):")
        p("")
        p("| " + " | ".join(names) + " |")
        p("|" + "---:|" * len(names))
        p("| " + " | ".join(
            f"{med([float(x['seconds']) for x in st if x['step'] == n]):.1f} "
            f"({100 * med([float(x['seconds']) for x in st if x['step'] == n]) / tot:.0f}%)"
            for n in names) + " |")
        p("")

    # targets
    if base:
        p("Targets (from the issue) on this run:")
        p("")

        def check(ok):
            return "**met**" if ok else "**not met**"
        s = stats(M, "mke2fs")
        if s:
            r = s["wall"] / base["wall"]
            p(f"- ≥ 3× faster than `mke2fs -d` alone: {r:.2f}× — {check(r >= 3)}")
        s = stats(M, "pipeline")
        if s:
            r = s["wall"] / base["wall"]
            p(f"- ≥ 6× faster than the nixpkgs-style pipeline: {r:.2f}× — {check(r >= 6)}")
        s = stats(M, "floor")
        if s:
            r = base["wall"] / s["wall"]
            p(f"- warm: ≤ 1.15× the floor (with fsync): mkr2simg takes {r:.2f}× the floor — "
              f"{check(r <= 1.15)}")
        s = stats(M, "floor@cold")
        if s and base_cold:
            r = base_cold["wall"] / s["wall"]
            p(f"- cold: ≤ 1.25× the cold floor: mkr2simg takes {r:.2f}× the floor — "
              f"{check(r <= 1.25)}")
        if z1 and z2:
            r1, r2 = z1["wall"] / base["wall"], z2["wall"] / z1["wall"]
            p(f"- `.zst` ≤ 1.5× the plain run: {r1:.2f}× — {check(r1 <= 1.5)}; "
              f"≥ 1.5× faster than plain + `zstd -T0`: {r2:.2f}× — {check(r2 >= 1.5)}")
        p(f"- peak RSS ≤ 64 MiB: {base['rss']:.1f} MiB — {check(base['rss'] <= 64)}")
        s = stats(M, "pipeline")
        nd = stats(M, "mkr2simg-nodedup")
        if s:
            p(f"- image smaller than the pipeline's: {mib(base['app']):,.0f} MiB vs "
              f"{mib(s['app']):,.0f} MiB apparent ({mib(base['alloc']):,.0f} vs "
              f"{mib(s['alloc']):,.0f} MiB allocated) — {check(base['app'] < s['app'])}")
            if nd:
                p(f"- `--no-dedup` image no larger than the pipeline's: {mib(nd['app']):,.0f} MiB "
                  f"vs {mib(s['app']):,.0f} MiB — {check(nd['app'] <= s['app'])}")
        p("")

    # scaling
    scales = a.scales.split()
    sc_rows = []
    failed_scales = []
    for sc in sorted(set(scales) | {M}, key=float):
        s = stats(sc, "mkr2simg")
        if s:
            sc_rows.append((sc, s, meta(sc)))
        elif any(f[0] == sc and f[1] == "mkr2simg" for f in failures):
            failed_scales.append(sc)
    if len(sc_rows) > 1 or failed_scales:
        p(f"Scaling (mkr2simg, median of {a.runs} runs per scale; everything in the closure "
          f"scales, the kernel, initrd and dtbs stay fixed):")
        p("")
        p("| scale | store paths | files | symlinks | dirs | largest dir | GB | wall s | "
          "user s | sys s | peak RSS MiB | s per GB | image MiB |")
        p("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for sc, s, m in sc_rows:
            gb = m["file_bytes"] / 1e9
            p(f"| {sc}× | {m['paths']:,} | {m['files']:,} | {m['symlinks']:,} | {m['dirs']:,} | "
              f"{m['largest_dir']:,} | {gb:.2f} | {fmt_s(s['wall'])} | {fmt_s(s['user'])} | "
              f"{fmt_s(s['sys'])} | {s['rss']:.1f} | {s['wall'] / gb:.2f} | {mib(s['app']):,.0f} |")
        for sc in failed_scales:
            m = meta(sc)
            p(f"| {sc}× | {m['paths']:,} | {m['files']:,} | {m['symlinks']:,} | {m['dirs']:,} | "
              f"{m['largest_dir']:,} | {m['file_bytes'] / 1e9:.2f} | failed | | | | | |")
        by = {sc: (s, m) for sc, s, m in sc_rows}
        pairs = [(x, y) for x in by for y in by if float(y) == 2 * float(x)]
        if pairs:
            p("")
            p("| ratio | bytes | files | largest dir | wall | user+sys | peak RSS |")
            p("|---|---:|---:|---:|---:|---:|---:|")
            for x, y in sorted(pairs, key=lambda t: float(t[0])):
                (s1, m1), (s2, m2) = by[x], by[y]
                p(f"| {y}× ÷ {x}× | {m2['file_bytes'] / m1['file_bytes']:.2f} | "
                  f"{m2['files'] / m1['files']:.2f} | {m2['largest_dir'] / m1['largest_dir']:.2f} | "
                  f"{s2['wall'] / s1['wall']:.2f} | "
                  f"{(s2['user'] + s2['sys']) / max(1e-9, s1['user'] + s1['sys']):.2f} | "
                  f"{s2['rss'] / s1['rss']:.2f} |")
            if "1" in by and "2" in by:
                r = by["2"][0]["wall"] / by["1"][0]["wall"]
                p("")
                p(f"Target 2× closure ≤ 2.2× time: {r:.2f}× — "
                  f"{'**met**' if r <= 2.2 else '**not met**'}")
        # other methods at other scales, if asked
        others = sorted({r["method"] for r in rows if r["scale"] != M} - {"mkr2simg"})
        for om in others:
            p("")
            p(f"Scaling of {label(om)}:")
            p("")
            p("| scale | wall s | user s | sys s | peak RSS MiB | wall ÷ mkr2simg |")
            p("|---:|---:|---:|---:|---:|---:|")
            for sc in sorted(set(scales) | {M}, key=float):
                s = stats(sc, om)
                b = stats(sc, "mkr2simg")
                if s:
                    rr = f"{s['wall'] / b['wall']:.2f}×" if b else "–"
                    p(f"| {sc}× | {fmt_s(s['wall'])} | {fmt_s(s['user'])} | {fmt_s(s['sys'])} | "
                      f"{s['rss']:.1f} | {rr} |")
        p("")

    p("Machine and run:")
    p("")
    p(f"- {a.nproc} cores ({a.cpu}), {a.mem} RAM, Linux {a.kernel}; work dir on {a.fs}")
    p(f"- {a.e2fsprogs}; genimage {a.genimage}; mkr2simg {a.mkr2simg}")
    p(f"- load average at start → end: {a.load} (the machine was shared with other work; "
      f"the ratios come from one invocation with alternating runs); the whole run took "
      f"{a.minutes} min")
    p(f"- command: `{a.command}`")
    if notes:
        p(f"- note: {notes}")
    if failures:
        p("")
        p("**Failed runs** (not timed, not in the medians):")
        p("")
        for sc, m, r, why in failures:
            p(f"- scale {sc}, {LABEL.get(m, m)}, round {r}: {why}")
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    with open(a.out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
