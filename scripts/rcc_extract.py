#!/usr/bin/env python3
"""Extract images from Qt binary resource files (.rcc), as shipped by gcompris-qt-data.

Format: magic 'qres', big-endian u32 version, tree offset, data offset, names offset.
Tree nodes are 22 bytes (version >= 2): u32 name offset, u16 flags (1 zlib, 2 directory,
4 zstd), then u32 child count + u32 first child, or u16 country + u16 language + u32 data
offset; then u64 mtime. Names: u16 length, u32 hash, UTF-16BE. Data: u32 size + bytes; a
zlib blob is Qt's qCompress (4-byte big-endian raw length, then a zlib stream).

usage: rcc_extract.py OUTDIR FILE.rcc...
"""
import os
import struct
import sys
import zlib

EXTS = ('.webp', '.jpg', '.jpeg', '.png')


def extract(path, outdir):
    b = open(path, 'rb').read()
    if b[:4] != b'qres':
        raise SystemExit(f'{path}: not a Qt resource file')
    ver, tree, data, names = struct.unpack('>IIII', b[4:20])
    node_size = 14 if ver < 2 else 22

    def name(off):
        n = struct.unpack('>H', b[names + off:names + off + 2])[0]
        return b[names + off + 6:names + off + 6 + 2 * n].decode('utf-16-be')

    def walk(i, prefix):
        p = tree + i * node_size
        noff, flags = struct.unpack('>IH', b[p:p + 6])
        nm = name(noff) if i else ''
        if flags & 2:
            count, first = struct.unpack('>II', b[p + 6:p + 14])
            for child in range(first, first + count):
                walk(child, prefix + nm + '/' if nm else prefix)
            return
        rel = prefix + nm
        if not rel.lower().endswith(EXTS):
            return
        if flags & 4:
            print(f'skipping zstd entry {rel}', file=sys.stderr)
            return
        q = data + struct.unpack('>I', b[p + 10:p + 14])[0]
        raw = b[q + 4:q + 4 + struct.unpack('>I', b[q:q + 4])[0]]
        if flags & 1:
            raw = zlib.decompress(raw[4:])
        dst = os.path.join(outdir, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, 'wb') as f:
            f.write(raw)

    walk(0, '')


if __name__ == '__main__':
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    for rcc in sys.argv[2:]:
        extract(rcc, sys.argv[1])
