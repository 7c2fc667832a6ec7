#!/usr/bin/env python3
"""Writes small seed inputs for the fuzz targets from the bundled captures (fuzz/seeds/*).

Each target has its own input format (see the doc comment of its fuzz_targets/*.rs); this
script turns the captures' TCP streams into that format. Run from the repository root.
"""
import os
import random
import struct
import zlib

CAPS = "captures"
OUT = "fuzz/seeds"
MAX_SEED = 16 << 10


def packets(path):
    data = open(path, "rb").read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return
    link = struct.unpack(e + "I", data[20:24])[0]
    at = 24
    while at + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(e + "IIII", data[at:at + 16])
        yield link, data[at + 16:at + 16 + caplen]
        at += 16 + caplen


def tcp(link, pkt):
    if link == 1:
        eth = 14
        while len(pkt) >= eth and pkt[eth - 2:eth] in (b"\x81\x00", b"\x88\xa8"):
            eth += 4
        pkt = pkt[eth:]
    elif link in (0, 108):
        pkt = pkt[4:]
    elif link != 101:
        return None
    if not pkt:
        return None
    ver = pkt[0] >> 4
    if ver == 4:
        ihl = (pkt[0] & 15) * 4
        if pkt[9] != 6:
            return None
        total = struct.unpack(">H", pkt[2:4])[0]
        src, dst, seg = pkt[12:16], pkt[16:20], pkt[ihl:total]
    elif ver == 6:
        if pkt[6] != 6:
            return None
        src, dst, seg = pkt[8:24], pkt[24:40], pkt[40:]
    else:
        return None
    if len(seg) < 20:
        return None
    sport, dport, seq = struct.unpack(">HHI", seg[:8])
    off = (seg[12] >> 4) * 4
    return (src, sport, dst, dport), seq, seg[13], seg[off:]


def streams(path):
    """Per connection: both directions' bytes (first speaker first), in sequence order."""
    conns = {}
    for link, pkt in packets(path):
        t = tcp(link, pkt)
        if not t:
            continue
        key, seq, flags, payload = t
        conn = tuple(sorted([key[:2], key[2:]]))
        conns.setdefault(conn, {}).setdefault(key, {})
        if payload:
            conns[conn][key].setdefault(seq, payload)
    out = []
    for conn, dirs in conns.items():
        pair = []
        for key, segs in dirs.items():
            seqs = sorted(segs)
            first = seqs[0] if seqs else 0
            buf = b"".join(segs[s] for s in seqs)
            pair.append((first, key, buf, segs))
        if len(pair) == 2:
            out.append(pair)
    return out


def split_head(buf):
    at = buf.find(b"\r\n\r\n")
    return (buf[:at + 4], buf[at + 4:]) if at >= 0 else (buf, b"")


def write(target, name, data):
    os.makedirs(f"{OUT}/{target}", exist_ok=True)
    with open(f"{OUT}/{target}/{name}", "wb") as f:
        f.write(data[:MAX_SEED])


def main():
    rnd = random.Random(7)
    caps = sorted(
        os.path.join(d, f)
        for d in (CAPS, f"{CAPS}/adversarial")
        for f in os.listdir(d)
        if f.endswith(".pcap") and os.path.getsize(os.path.join(d, f)) < 400_000
    )
    for path in caps:
        name = os.path.basename(path)[:-5]
        pairs = streams(path)
        if not pairs:
            continue
        pair = pairs[0]
        deflate = b"permessage-deflate" in pair[0][2] + pair[1][2]
        for i, (_, _, buf, _) in enumerate(pair):
            head, rest = split_head(buf)
            client = head.startswith(b"GET ")
            cfg = (0 if client else 1) | (2 if deflate else 0) | (7 << 3)
            if rest:
                write("ws_decoder", f"{name}_{i}", bytes([cfg, rnd.randrange(256)]) + rest)
        # http_phase: the two handshakes, interleaved in records [op, len, bytes].
        heads = sorted(pair, key=lambda p: not p[2].startswith(b"GET "))
        rec = b""
        for side, (_, _, buf, _) in enumerate(heads):
            head, rest = split_head(buf)
            body = head + rest[:64]
            for at in range(0, len(body), 200):
                piece = body[at:at + 200]
                rec += bytes([side, len(piece)]) + piece
        write("http_phase", name, rec)
        # reassembly: the first direction's segments, in capture order and shuffled.
        _, _, _, segs = pair[0]
        seqs = sorted(segs)[:40]
        if seqs:
            isn = seqs[0]
            ops = b""
            for s in seqs:
                off = (s - isn) & 0xFFFF
                ops += struct.pack("<HBBB", off, 8, min(len(segs[s]), 255), 0)
            hdr = bytes([0]) + struct.pack(">I", isn) + bytes([255, 63])
            write("reassembly", f"{name}_inorder", hdr + ops)
            opl = [ops[i:i + 5] for i in range(0, len(ops), 5)]
            rnd.shuffle(opl)
            wrap = bytes([0]) + struct.pack(">I", 0xFFFFFF00) + bytes([3, 5])
            write("reassembly", f"{name}_shuffled_wrap", wrap + b"".join(opl))
    # inflate: permessage-deflate payloads (RFC 7692 §7.2.1: sync flush, tail removed).
    texts = [b"Hello", b"Hello" * 40, bytes(range(256)) * 4, b'{"a":1,"b":[1,2,3]}' * 30, b""]
    for takeover in (True, False):
        msgs = []
        comp = zlib.compressobj(wbits=-15)
        for t in texts:
            if not takeover:
                comp = zlib.compressobj(wbits=-15)
            c = comp.compress(t) + comp.flush(zlib.Z_SYNC_FLUSH)
            msgs.append(c[:-4] if c.endswith(b"\x00\x00\xff\xff") else c)
        cfg = (0 if takeover else 1) | (7 << 1) | 0x20
        write("inflate", f"takeover_{takeover}", bytes([cfg]) + b"\xf0\x0d\xbe\xef".join(msgs))
    # A deflate bomb in miniature: one message inflating to far more than it is.
    comp = zlib.compressobj(wbits=-15)
    bomb = comp.compress(b"\0" * (4 << 20)) + comp.flush(zlib.Z_SYNC_FLUSH)
    write("inflate", "bomb", bytes([7 << 1]) + bomb[:-4])
    # disorder: a byte choosing one of the target's built-in captures, then 5-byte operations
    # (kind, two little-endian u16): moves, copies, splits, merges, a few drops.
    for pick in range(10):
        for k in range(3):
            ops = b"".join(
                bytes([rnd.randrange(15)]) + struct.pack("<HH", rnd.randrange(65536), rnd.randrange(65536))
                for _ in range(rnd.randrange(1, 40)))
            write("disorder", f"c{pick}_{k}", bytes([pick]) + ops)
    proto_seeds(write)
    http2_seeds()


def proto_seeds(write):
    """proto_*: each connection of captures/subproto as records (see proto_common.rs)."""
    import base64
    import json
    conf = {"mqtt311_mosquitto_paho": ("proto_mqtt", 0), "stomp_rabbitmq_stompjs": ("proto_stomp", 3),
            "socketio_node": ("proto_json", 1), "jsonrpc_node": ("proto_json", 3),
            "signalr_json_node": ("proto_json", 5)}
    for name, (target, cfg) in conf.items():
        conns = {}
        for line in open(os.path.join(CAPS, "subproto", name + ".expected.jsonl")):
            m = json.loads(line)
            if m["opcode"] not in ("text", "binary"):
                continue
            p = base64.b64decode(m["payload_b64"])[:0xFFFF]
            ctl = (1 if m["dir"] == "s2c" else 0) | (2 if m["opcode"] == "text" else 0)
            conns.setdefault(m["client"], b"")
            conns[m["client"]] += bytes([ctl]) + struct.pack(">H", len(p)) + p
        for i, recs in enumerate(conns.values()):
            data = bytes([cfg]) + recs
            if len(data) <= MAX_SEED * 8:
                write(target, f"{name}_{i}", data)
    # Auto-detection of the JSON protocols and of graphql (no capture of it).
    gql = [b'{"type":"connection_init"}', b'{"type":"connection_ack"}',
           b'{"id":"1","type":"subscribe","payload":{"query":"subscription S { a }"}}',
           b'{"id":"1","type":"next","payload":{"data":{"a":1}}}', b'{"id":"1","type":"complete"}']
    recs = b"".join(bytes([2 | (i % 2 if i != 2 else 0)]) + struct.pack(">H", len(g)) + g for i, g in enumerate(gql))
    write("proto_json", "graphql_auto", bytes([0]) + recs)
    write("proto_json", "graphql_forced", bytes([4]) + recs)


def http2_seeds():
    """http2: the h2c capture's two directions in capture order as records [op, len, bytes]
    (config byte first), with default and small limits and with a gap; HPACK stories as blocks."""
    path = f"{CAPS}/h2/h2c_python_multi.pcap"
    server = None
    recs = []
    for link, pkt in packets(path):
        t = tcp(link, pkt)
        if not t:
            continue
        key, _, flags, payload = t
        if server is None and flags & 0x12 == 0x02:
            server = key[2:]
        if not payload:
            continue
        side = 1 if key[:2] == server else 0
        for at in range(0, len(payload), 255):
            piece = payload[at:at + 255]
            recs.append(bytes([side, len(piece)]) + piece)
    for name, cfg in (("h2c_default", 0), ("h2c_small_limits", 2)):
        write("http2", name, bytes([cfg]) + b"".join(recs))
    gapped = recs[:20] + [bytes([0x80, 40]) + recs[20][2:42]] + recs[21:]
    write("http2", "h2c_gap", bytes([0]) + b"".join(gapped))
    import json
    for story in ("nghttp2/story_05", "python-hpack/story_03", "nghttp2-change-table-size/story_02",
                  "haskell-http2-linear-huffman/story_08"):
        cases = json.load(open(f"tests/data/hpack/{story}.json"))["cases"]
        rec = b""
        for c in cases:
            block = bytes.fromhex(c["wire"])
            if len(block) < 256:
                rec += bytes([0, len(block)]) + block
        write("http2", "hpack_" + story.replace("/", "_"), bytes([8]) + rec)


if __name__ == "__main__":
    main()
