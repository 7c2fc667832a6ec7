#!/usr/bin/env python3
"""Writes seeds for the `tls` fuzz target (fuzz/seeds/tls/) from the wss:// captures and
their key logs: the first connection of each, in order, cut into operations (see the doc
comment of fuzz_targets/tls.rs); variants with a hole and with late keys. Run from the
repository root."""
import os
import struct

from make_seeds import streams

CAPS = "captures/tls"
OUT = "fuzz/seeds/tls"
MAX_SEED = 24 << 10
SEP = b"\xf0\x0d\xbe\xef"


def ops(pieces, hole_at=None):
    out = b""
    for i, (side, data) in enumerate(pieces):
        if hole_at == i and len(data) > 40:
            out += bytes([side]) + struct.pack("<H", 20) + data[:20]
            out += bytes([side | 2]) + struct.pack("<H", 20)
            data = data[40:]
        while data:
            chunk, data = data[:1400], data[1400:]
            out += bytes([side]) + struct.pack("<H", len(chunk)) + chunk
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in sorted(os.listdir(CAPS)):
        if not name.endswith(".pcap"):
            continue
        stem = name[:-5]
        keys = open(os.path.join(CAPS, stem + ".keys"), "rb").read()
        conns = streams(os.path.join(CAPS, name))
        if not conns:
            continue
        a, b = conns[0][0][2], conns[0][1][2]
        # Interleave: the client's first flight, then alternate in 1400-byte steps.
        pieces = []
        ia = ib = 0
        while ia < len(a) or ib < len(b):
            if ia < len(a):
                pieces.append((0, a[ia:ia + 1400]))
                ia += 1400
            if ib < len(b):
                pieces.append((1, b[ib:ib + 1400]))
                ib += 1400
        for variant, config, hole in (("inorder", 0, None), ("late_keys", 1, None), ("hole", 0, 6)):
            seed = bytes([config]) + keys + SEP + ops(pieces, hole)
            with open(os.path.join(OUT, f"{stem}_{variant}"), "wb") as f:
                f.write(seed[:MAX_SEED])


if __name__ == "__main__":
    main()
