#!/usr/bin/env python3
"""uboot_env.py plant|check [--offset N] [--size N] CARD [NAME=VALUE ...]

A U-Boot saved environment as U-Boot's env_export writes it and its
env_import checks it (include/env_internal.h: a little-endian CRC32 of the
data, then the data: NUL-separated name=value strings, an empty string,
zeros to CONFIG_ENV_SIZE), written apart from mkr2simg's C code with
Python's zlib.crc32.  Defaults are the R2S's: offset 0x3F8000, 32 KiB.

  plant CARD NAME=VALUE...  writes a valid environment into CARD (which
                            must already be at least offset + size long)
  check CARD                prints "valid: VARS" and exits 0, or prints
                            "not valid: stored CRC X, computed Y" and
                            exits 1 (2 on bad usage or a short CARD)
"""
import argparse
import os
import struct
import sys
import zlib

CRC = 4


def read_area(path, offset, size):
    with open(path, "rb") as f:
        f.seek(offset)
        area = f.read(size)
    if len(area) != size:
        sys.exit(f"uboot_env.py: {path}: ends before {offset + size}")
    return area


def plant(path, offset, size, pairs):
    data = b"".join(p.encode() + b"\0" for p in pairs) + b"\0"
    if CRC + len(data) > size:
        sys.exit("uboot_env.py: variables do not fit")
    data += b"\0" * (size - CRC - len(data))
    area = struct.pack("<I", zlib.crc32(data)) + data
    fd = os.open(path, os.O_WRONLY)
    try:
        if os.fstat(fd).st_size < offset + size:
            sys.exit(f"uboot_env.py: {path}: shorter than {offset + size}")
        os.pwrite(fd, area, offset)
    finally:
        os.close(fd)


def check(path, offset, size):
    area = read_area(path, offset, size)
    stored = struct.unpack("<I", area[:CRC])[0]
    computed = zlib.crc32(area[CRC:])
    if stored != computed:
        print(f"not valid: stored CRC {stored:#010x}, computed {computed:#010x}")
        return 1
    strings = area[CRC:].split(b"\0")
    vars_ = strings[:strings.index(b"")] if b"" in strings else strings
    print("valid: " + " ".join(v.decode("latin-1") for v in vars_))
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["plant", "check"])
    ap.add_argument("--offset", type=lambda s: int(s, 0), default=0x3F8000)
    ap.add_argument("--size", type=lambda s: int(s, 0), default=0x8000)
    ap.add_argument("card")
    ap.add_argument("pairs", nargs="*")
    a = ap.parse_args()
    if a.what == "plant":
        if not a.pairs:
            ap.error("plant needs NAME=VALUE pairs")
        plant(a.card, a.offset, a.size, a.pairs)
        return 0
    return check(a.card, a.offset, a.size)


if __name__ == "__main__":
    sys.exit(main())
