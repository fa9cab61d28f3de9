#!/usr/bin/env python3
"""flash_data_ranges.py [--fill-byte N | --keep] IMAGE CARD

Simulates flashing a sparse IMAGE onto a used SD card the way `cp --sparse`,
`bmaptool copy` or `dd conv=sparse` do: only the data ranges of IMAGE (as
lseek SEEK_DATA / SEEK_HOLE report them) are written, so whatever the holes
cover keeps the card's old bytes.

CARD is created (or truncated) with IMAGE's size, filled with --fill-byte
(default 0xAA: not zero, not 0xFF, so a reader that trusts a hole to be zero
sees garbage), then IMAGE's data ranges are copied onto it.  With --keep,
CARD is a card file prepared beforehand (at least IMAGE's size) and keeps
its bytes wherever IMAGE has holes.  Prints one
line: "copied BYTES bytes of data ranges out of IMAGE_SIZE (RANGES ranges)".

A test that passes on IMAGE but fails on CARD shows that a hole in IMAGE
carried meaning (a structure that had to read as zeros).  Standalone,
Python standard library only.  Exit 0 on success, 1 on error, 2 on bad usage.
"""
import argparse
import errno
import os
import sys

BUF = 1 << 20  # 1 MiB


def data_ranges(fd, size):
    """Yield (start, end) of every data range of fd, in order."""
    pos = 0
    while pos < size:
        try:
            start = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:  # no data after pos
                return
            raise
        end = os.lseek(fd, start, os.SEEK_HOLE)
        end = min(end, size)
        if end > start:
            yield start, end
        pos = end


def fill(fd, size, byte):
    """Write size bytes of value byte to fd from offset 0."""
    block = bytes([byte]) * BUF
    pos = 0
    while pos < size:
        n = min(BUF, size - pos)
        pos += os.pwrite(fd, block[:n] if n < BUF else block, pos)


def copy_range(src, dst, start, end):
    pos = start
    while pos < end:
        n = min(BUF, end - pos)
        try:
            # in-kernel copy; never punches holes, so the fill survives only
            # where IMAGE has holes
            done = os.copy_file_range(src, dst, n, pos, pos)
        except OSError:
            done = 0
        if done <= 0:
            buf = os.pread(src, n, pos)
            if not buf:
                raise OSError(f"short read at offset {pos}")
            done = os.pwrite(dst, buf, pos)
        pos += done


def main():
    ap = argparse.ArgumentParser(
        description="Copy only the data ranges of IMAGE onto CARD, a file "
        "of the same size pre-filled with --fill-byte (a used SD card).")
    ap.add_argument("--fill-byte", default="0xAA",
                    help="byte value the card holds before flashing (default 0xAA)")
    ap.add_argument("--keep", action="store_true",
                    help="CARD exists with its old bytes: neither truncate nor fill it")
    ap.add_argument("image")
    ap.add_argument("card")
    a = ap.parse_args()
    try:
        fill_byte = int(a.fill_byte, 0)
        if not 0 <= fill_byte <= 255:
            raise ValueError
    except ValueError:
        ap.error("--fill-byte must be 0..255 (e.g. 0xAA or 170)")
    try:
        src = os.open(a.image, os.O_RDONLY)
        size = os.fstat(src).st_size
        if a.keep:
            dst = os.open(a.card, os.O_RDWR)
            if os.fstat(dst).st_size < size:
                raise OSError(f"{a.card}: smaller than {a.image}")
        else:
            dst = os.open(a.card, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
            os.ftruncate(dst, size)
            fill(dst, size, fill_byte)
        copied = ranges = 0
        for start, end in data_ranges(src, size):
            copy_range(src, dst, start, end)
            copied += end - start
            ranges += 1
        os.close(dst)
        os.close(src)
    except OSError as e:
        print(f"flash_data_ranges: {e}", file=sys.stderr)
        return 1
    print(f"copied {copied} bytes of data ranges out of {size} ({ranges} ranges)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
