#!/usr/bin/env python3
"""flash_data_ranges.py [--fill-byte N] IMAGE CARD

Simulates flashing IMAGE onto a used SD card with a tool that skips
holes (cp --sparse, bmaptool create + copy, "skip empty blocks"
flashers): CARD becomes a file of IMAGE's size full of the fill byte
(old card contents, 0xAA by default), then only IMAGE's data ranges
(SEEK_DATA/SEEK_HOLE) are copied onto it.  A correct image reads the same
to every consumer on such a card.  Prints the bytes of data copied.
"""
import os
import sys

CHUNK = 1 << 20


def fill(fd, size, byte):
    block = bytes([byte]) * CHUNK
    for off in range(0, size, CHUNK):
        os.pwrite(fd, block[:min(CHUNK, size - off)], off)


def data_ranges(fd, size):
    pos = 0
    while pos < size:
        try:
            start = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError:  # ENXIO: no data after pos
            return
        end = os.lseek(fd, start, os.SEEK_HOLE)
        yield start, end
        pos = end


def main(argv):
    byte = 0xAA
    if len(argv) == 4 and argv[0] == "--fill-byte":
        byte = int(argv[1], 0)
        argv = argv[2:]
    if len(argv) != 2:
        sys.exit(__doc__.strip())
    src = os.open(argv[0], os.O_RDONLY)
    size = os.fstat(src).st_size
    dst = os.open(argv[1], os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    fill(dst, size, byte)
    copied = 0
    for start, end in data_ranges(src, size):
        for off in range(start, end, CHUNK):
            n = min(CHUNK, end - off)
            os.pwrite(dst, os.pread(src, n, off), off)
            copied += n
    os.close(src)
    os.close(dst)
    print(f"copied {copied} bytes of data ranges out of {size}")


if __name__ == "__main__":
    main(sys.argv[1:])
