#!/usr/bin/env python3
"""Records and transforms the captures in captures/disorder/ (run as root from the repository
root: python3 captures/disorder/make.py).

Real peers (Python `websockets`, asyncio API and sans-I/O protocol objects) talk over
127.0.0.1 while tcpdump records lo; each peer logs what its API sent and received, which is
the ground truth. The recorded capture is then put out of order the way the issue describes
(a request seen after its 101, two taps merged with mergecap, tiny shuffled segments with
duplicates, a hole in a compressed direction, responses before their requests) and written
with NAME.expected.jsonl (captures/FORMAT.md) and NAME.meta.json. wsnoop plays no part here.
"""

import asyncio
import base64
import json
import os
import random
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

import websockets
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.server import ServerProtocol
from websockets.uri import parse_uri

HERE = os.path.dirname(os.path.abspath(__file__))
WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima mike "
         "november oscar papa quebec romeo sierra tango uniform victor whiskey xray").split()

# ---------------------------------------------------------------- pcap (Ethernet/IPv4/TCP)


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack("<I", data[:4])
    assert magic == 0xA1B2C3D4, "classic little-endian microsecond pcap"
    linktype, = struct.unpack("<I", data[20:24])
    assert linktype == 1, "Ethernet"
    pkts, off = [], 24
    while off + 16 <= len(data):
        sec, usec, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        pkts.append(parse(sec * 1_000_000 + usec, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return pkts


def parse(ts, frame):
    eth, ip = frame[:14], frame[14:]
    ihl = (ip[0] & 15) * 4
    total, = struct.unpack(">H", ip[2:4])
    tcp = ip[ihl:total]
    doff = (tcp[12] >> 4) * 4
    return {
        "ts": ts, "eth": eth, "ip": bytearray(ip[:ihl]), "tcp": bytearray(tcp[:doff]),
        "payload": bytes(tcp[doff:]),
        "src": (socket.inet_ntoa(ip[12:16]), struct.unpack(">H", tcp[0:2])[0]),
        "dst": (socket.inet_ntoa(ip[16:20]), struct.unpack(">H", tcp[2:4])[0]),
        "seq": struct.unpack(">I", tcp[4:8])[0], "flags": tcp[13],
    }


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(">%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def build(p):
    """The packet's bytes with lengths, sequence number and checksums recomputed."""
    ip, tcp = bytearray(p["ip"]), bytearray(p["tcp"])
    struct.pack_into(">I", tcp, 4, p["seq"] & 0xFFFFFFFF)
    tcp[13] = p["flags"]
    struct.pack_into(">H", tcp, 16, 0)
    seg = bytes(tcp) + p["payload"]
    pseudo = ip[12:20] + struct.pack(">BBH", 0, 6, len(seg))
    struct.pack_into(">H", tcp, 16, checksum(bytes(pseudo) + seg))
    struct.pack_into(">H", ip, 2, len(ip) + len(tcp) + len(p["payload"]))
    struct.pack_into(">H", ip, 10, 0)
    struct.pack_into(">H", ip, 10, checksum(bytes(ip)))
    return p["eth"] + bytes(ip) + bytes(tcp) + p["payload"]


def write_pcap(path, pkts):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for p in pkts:
            b = build(p)
            f.write(struct.pack("<IIII", p["ts"] // 1_000_000, p["ts"] % 1_000_000, len(b), len(b)))
            f.write(b)


SYN, FIN, RST = 0x02, 0x01, 0x04


def piece(p, start, end, first, last):
    """Bytes [start, end) of `p`'s payload as a segment of their own."""
    q = dict(p)
    q["payload"] = p["payload"][start:end]
    q["seq"] = (p["seq"] + start + (1 if p["flags"] & SYN else 0)) & 0xFFFFFFFF
    flags = p["flags"]
    if not first:
        flags &= ~SYN
    if not last:
        flags &= ~(FIN | RST)
    q["flags"] = flags
    return q


def stream(pkts, src):
    """The bytes `src` sent, in sequence order (a lossless capture)."""
    got, base = {}, None
    for p in pkts:
        if p["src"] != src:
            continue
        if p["flags"] & SYN:
            base = (p["seq"] + 1) & 0xFFFFFFFF
        if p["payload"]:
            got[p["seq"]] = p["payload"]
    out = b""
    while True:
        at = (base + len(out)) & 0xFFFFFFFF
        if at not in got:
            return out
        out += got.pop(at)


def frames(data):
    """Unmasked or masked RFC 6455 frames in `data`: (offset, b0, payload)."""
    out, off = [], 0
    while off + 2 <= len(data):
        b0, b1 = data[off], data[off + 1]
        n, h = b1 & 0x7F, 2
        if n == 126:
            n, h = struct.unpack(">H", data[off + 2:off + 4])[0], 4
        elif n == 127:
            n, h = struct.unpack(">Q", data[off + 2:off + 10])[0], 10
        mask = None
        if b1 & 0x80:
            mask, h = data[off + h:off + h + 4], h + 4
        body = data[off + h:off + h + n]
        if mask:
            body = bytes(b ^ mask[i % 4] for i, b in enumerate(body))
        out.append((off, b0, body))
        off += h + n
    return out

# ---------------------------------------------------------------- recording


def complete(path):
    """Every byte of both directions, SYN to FIN, is in the capture (tcpdump on a busy
    machine sometimes drops packets)."""
    pkts = read_pcap(path)
    for src in {p["src"] for p in pkts}:
        mine = [p for p in pkts if p["src"] == src]
        syn = next((p for p in mine if p["flags"] & SYN), None)
        fin = next((p for p in mine if p["flags"] & FIN), None)
        if syn is None or fin is None:
            return False
        want = (fin["seq"] + len(fin["payload"]) - syn["seq"] - 1) & 0xFFFFFFFF
        if len(stream(pkts, src)) != want:
            return False
    return True


def record(port, run, tries=5):
    """Runs `run()` (a coroutine factory) while tcpdump records port `port` on lo; again when
    the capture lost packets."""
    for _ in range(tries):
        path, truth = record_once(port, run)
        if complete(path):
            return path, truth
        print(f"port {port}: tcpdump dropped packets, recording again", file=sys.stderr)
    raise SystemExit("tcpdump keeps dropping packets")


def record_once(port, run):
    fd, path = tempfile.mkstemp(suffix=".pcap")
    os.close(fd)
    dump = subprocess.Popen(
        ["tcpdump", "-i", "lo", "-s", "0", "--immediate-mode", "-U", "-n", "-w", path,
         f"tcp port {port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        truth = asyncio.run(run())
        time.sleep(0.5)
    finally:
        dump.terminate()
        dump.wait()
    return path, truth


def entry(client, server, direction, opcode, payload):
    return {"client": client, "server": server, "dir": direction, "opcode": opcode,
            "payload_b64": base64.b64encode(payload).decode()}


def as_bytes(msg):
    return ("text", msg.encode()) if isinstance(msg, str) else ("binary", bytes(msg))


def close_payload(close):
    return struct.pack(">H", close.code) + close.reason.encode()


def text(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


async def request_response(port, path, compression, requests, pushes=()):
    """A client sending `requests` one by one, each answered by the server before the next;
    the server first pushes `pushes`. Strings are text, bytes binary, ("ping", b) a ping,
    lists a fragmented message. Returns (client, server, truth lines)."""
    log = {"c2s": [], "s2c": []}
    done = asyncio.Event()

    async def handler(ws):
        for m in pushes:
            await ws.send(m)
        async for m in ws:
            log["c2s"].append(as_bytes(m))
            op, data = as_bytes(m)
            reply = (b"re:" + data) if op == "binary" else ("re: " + m)
            await ws.send(reply)
        log["c2s"].append(("close", close_payload(ws.protocol.close_rcvd)))
        done.set()

    async with serve(handler, "127.0.0.1", port, compression=compression,
                     ping_interval=None, max_size=None):
        async with connect(f"ws://127.0.0.1:{port}{path}", compression=compression,
                           ping_interval=None, max_size=None) as ws:
            client = "%s:%d" % ws.local_address[:2]
            for _ in pushes:
                log["s2c"].append(as_bytes(await ws.recv()))
            for m in requests:
                if isinstance(m, tuple):
                    waiter = await ws.ping(m[1])
                    await waiter
                    log["s2c"].append(("pong", m[1]))
                    continue
                await ws.send(m)
                log["s2c"].append(as_bytes(await ws.recv()))
                await asyncio.sleep(0.01)
            await ws.close()
            log["s2c"].append(("close", close_payload(ws.protocol.close_rcvd)))
        await done.wait()
    server = f"127.0.0.1:{port}"
    # A ping is a c2s message too: where it was sent among the client's messages.
    c2s, pings = [], [m for m in requests if isinstance(m, tuple)]
    it = iter(log["c2s"])
    for m in requests:
        c2s.append(("ping", m[1]) if isinstance(m, tuple) else next(it))
    c2s.extend(it)
    lines = [entry(client, server, "c2s", o, p) for o, p in c2s]
    lines += [entry(client, server, "s2c", o, p) for o, p in log["s2c"]]
    return client, server, lines


def conversation(rng, n):
    out = []
    for i in range(n):
        k = i % 5
        if k == 0:
            out.append(f"message {i}: " + text(rng, 12))
        elif k == 1:
            out.append(bytes(rng.randrange(256) for _ in range(rng.randrange(10, 300))))
        elif k == 2:
            out.append([f"fragment {i}a ", text(rng, 5) + " ", f"and {i}c"])
        elif k == 3:
            out.append(("ping", f"ping {i}".encode()))
        else:
            out.append("é ü 🚀 " + text(rng, 30))
    return out

# ---------------------------------------------------------------- the captures


def write(name, pkts, lines, meta):
    write_pcap(os.path.join(HERE, name + ".pcap"), pkts)
    with open(os.path.join(HERE, name + ".expected.jsonl"), "w") as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    meta = {"name": name + ".pcap", **meta, "peers": {
        "client": f"Python websockets {websockets.__version__}",
        "server": f"Python websockets {websockets.__version__}"},
        "capture": "tcpdump -i lo -s 0 --immediate-mode -U (link type EN10MB)",
        "ground_truth": "what each peer's API sent and received (websockets), not a dissector",
        "generator": "captures/disorder/make.py"}
    with open(os.path.join(HERE, name + ".meta.json"), "w") as f:
        json.dump(meta, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(name, len(pkts), "packets,", sum("payload_b64" in x for x in lines), "messages")


def first_data(pkts, src):
    return next(i for i, p in enumerate(pkts) if p["src"] == src and p["payload"])


def late_request():
    rng = random.Random(1)
    path, (client, server, lines) = record(17101, lambda: request_response(
        17101, "/late?x=1", "deflate", conversation(rng, 10)))
    pkts = read_pcap(path)
    c, s = parse_addr(client), parse_addr(server)
    req = first_data(pkts, c)
    resp = first_data(pkts, s)
    # The request's first copy was not captured; its retransmission arrives after the 101,
    # after two of the server's answers and after the client's next frames.
    later = [i for i, p in enumerate(pkts) if p["src"] == s and p["payload"]][2]
    request = pkts.pop(req)
    pkts.insert(later, request)
    pkts.insert(later + 1, dict(pkts[resp - 1]))  # a duplicate of the 101 too
    write("late_request", pkts, lines, {
        "scenario": "the HTTP request's first copy was lost to the capture and its "
                    "retransmission seen late: the 101, server answers and client frames "
                    "come before the request in capture order",
        "transforms": [
            "the client's upgrade request moved after the server's third data segment",
            "a duplicate of the server's 101 segment right after it"],
        "expected_behaviour": "the same open and messages as in wire order, no anomaly"})


def parse_addr(a):
    host, port = a.rsplit(":", 1)
    return host, int(port)


def two_taps():
    rng = random.Random(2)
    pushes = ["server push 0: " + text(rng, 8), bytes(range(40)), "server push 2 " + text(rng, 4)]
    path, (client, server, lines) = record(17102, lambda: request_response(
        17102, "/taps", "deflate", conversation(rng, 8), pushes))
    c = parse_addr(client)
    with tempfile.TemporaryDirectory() as d:
        a, b, b2 = (os.path.join(d, x) for x in ("c2s.pcap", "s2c.pcap", "s2c-early.pcap"))
        subprocess.run(["tshark", "-r", path, "-Y", f"tcp.srcport == {c[1]}", "-w", a,
                        "-F", "pcap"], check=True, stderr=subprocess.DEVNULL)
        subprocess.run(["tshark", "-r", path, "-Y", "tcp.srcport == 17102", "-w", b,
                        "-F", "pcap"], check=True, stderr=subprocess.DEVNULL)
        subprocess.run(["editcap", "-t", "-0.05", b, b2], check=True)
        out = os.path.join(d, "merged.pcap")
        subprocess.run(["mergecap", "-F", "pcap", "-w", out, a, b2], check=True)
        pkts = read_pcap(out)
    write("two_taps", pkts, lines, {
        "scenario": "two taps, one per direction, merged with mergecap; the tap on the "
                    "server's side runs 50 ms early, so its SYN-ACK, 101 and first pushes "
                    "come before the client's SYN and request",
        "transforms": ["tshark split by direction", "editcap -t -0.05 on the s2c tap",
                       "mergecap -F pcap"],
        "expected_behaviour": "the same open and messages as in wire order, no anomaly"})


def tiny_shuffled():
    rng = random.Random(3)
    path, (client, server, lines) = record(17103, lambda: request_response(
        17103, "/tiny", None, conversation(rng, 12)))
    pkts = read_pcap(path)
    cut = []
    for p in pkts:
        if len(p["payload"]) <= 1:
            cut.append(p)
            continue
        at = 0
        while at < len(p["payload"]):
            n = rng.randrange(1, 8)
            cut.append(piece(p, at, min(at + n, len(p["payload"])), at == 0,
                             at + n >= len(p["payload"])))
            at += n
    # Shuffle within windows of 12 across both directions, keeping each direction's SYN
    # ahead of its data (the stream's start), and copy 10% a little later.
    keyed = [(i + rng.uniform(0, 12), p) for i, p in enumerate(cut)]
    keyed += [(i + rng.uniform(1, 12), dict(p)) for i, p in enumerate(cut) if rng.random() < 0.1]
    out = [p for _, p in sorted(keyed, key=lambda k: k[0])]
    for side in {p["src"] for p in out}:
        syn = next((i for i, p in enumerate(out) if p["src"] == side and p["flags"] & SYN), None)
        first = next(i for i, p in enumerate(out) if p["src"] == side)
        if syn is not None and syn > first:
            out.insert(first, out.pop(syn))
    # The request's first tiny segment is retransmitted late: after the 101's first pieces.
    c = parse_addr(client)
    syn = next(p for p in out if p["src"] == c and p["flags"] & SYN)["seq"]
    first = next(i for i, p in enumerate(out)
                 if p["src"] == c and p["payload"] and p["seq"] == (syn + 1) & 0xFFFFFFFF)
    third = [i for i, p in enumerate(out) if p["src"] != c and p["payload"]][2]
    out.insert(third, out.pop(first))
    write("tiny_shuffled", out, lines, {
        "scenario": "every segment cut into 1-7 byte segments (sequence numbers follow), "
                    "shuffled within windows of 12 packets across both directions, 10% "
                    "duplicated a little later; each direction's SYN kept ahead of its data; "
                    "the request's first piece retransmitted after the 101's third piece",
        "transforms": ["re-segmented", "shuffled", "duplicated",
                       "client's first data segment moved after the server's third"],
        "expected_behaviour": "the same open and messages as in wire order, no anomaly"})


def deflate_hole():
    rng = random.Random(4)
    shared = text(rng, 60)
    # After the hole: messages that copy lost text, and messages in an alphabet the lost text
    # does not use (upper case, digits), which cannot copy from it.
    fresh = [" ".join(w.upper() for w in text(random.Random(40 + i), 80).split())
             for i in range(2)]
    big = " ".join(f"{i:05d}-{random.Random(i).getrandbits(64):016X}" for i in range(400))
    pushes = [
        "history one: " + shared,
        "history two: " + shared[::-1],
        "the message that loses bytes: " + shared + " " + shared[::-1],
        "copies the lost one: " + shared + " " + shared[::-1],
        (shared[::-1] + " " + shared).encode(),
        "FRESH-1 " + fresh[0],
        "FRESH-2 " + fresh[0],
        b"FRESH BINARY " + fresh[1].encode(),
        "BIG " + big,
        "AFTER " + big[-2000:],
        "copies the lost one again, now beyond the window: " + shared,
        bytes(range(256)) * 3,
    ]
    path, (client, server, lines) = record(17104, lambda: request_response(
        17104, "/hole", "deflate", ["go"], pushes))
    pkts = read_pcap(path)
    s = parse_addr(server)
    data = stream(pkts, s)
    head_end = data.index(b"\r\n\r\n") + 4
    fs = frames(data[head_end:])
    # Message 2 (third push) loses bytes from the middle of its payload.
    off, b0, body = fs[2]
    assert b0 & 0x40, "the pushes are compressed"
    hole_from = head_end + off + 4 + len(body) // 3
    hole_to = head_end + off + 4 + 2 * len(body) // 3
    base = next(p for p in pkts if p["src"] == s and p["flags"] & SYN)["seq"] + 1
    out = []
    for p in pkts:
        start = (p["seq"] - base) & 0xFFFFFFFF
        end = start + len(p["payload"])
        if p["src"] != s or end <= hole_from or start >= hole_to:
            out.append(p)
            continue
        if start < hole_from:
            out.append(piece(p, 0, hole_from - start, True, False))
        if end > hole_to:
            out.append(piece(p, hole_to - start, len(p["payload"]), False, True))
    # Which pushes after the hole a correct dissector lists: those whose inflated bytes do not
    # depend on the lost history, found with zlib itself: two inflaters whose unknown history
    # is all 0x00 and all 0xFF agree exactly on the bytes that depend only on what was seen.
    a = zlib.decompressobj(-15, zdict=b"\0" * 32768)
    b = zlib.decompressobj(-15, zdict=b"\xff" * 32768)
    listed = []
    msgs = [m for m in fs if m[1] & 0x0F in (1, 2)]
    s2c = [ln for ln in lines if ln["dir"] == "s2c"]
    for i, (_, b0, body) in enumerate(msgs):
        if i < 3:
            listed.append(i != 2)
            continue
        x = a.decompress(body + b"\0\0\xff\xff")
        y = b.decompress(body + b"\0\0\xff\xff")
        listed.append(x == y)
        if x == y:
            want = base64.b64decode(s2c[i]["payload_b64"])
            assert x == want, f"message {i} inflates to what the client received"
    kept = [ln for ln in lines if ln["dir"] == "c2s"]
    for i, ln in enumerate(s2c):
        if i >= len(listed) or listed[i]:
            kept.append(ln)
    lost = [i for i, ok in enumerate(listed) if not ok]
    assert lost == [2, 3, 4], listed
    kept += [{"expect_error": k, "client": client, "server": server, "dir": "s2c"}
             for k in ("tcp_gap", "incomplete_message", "deflate_context_lost")]
    write("deflate_hole", out, kept, {
        "scenario": "permessage-deflate with context takeover (server_max_window_bits=12); "
                    "a hole in the middle of the server's third compressed message; later "
                    "server messages copy from the lost history or not",
        "transforms": [f"s2c stream bytes [{hole_from}, {hole_to}) removed (the segment cut "
                       "in three, the middle one dropped)"],
        "listed_after_the_hole": {str(i): ok for i, ok in enumerate(listed)},
        "expected_behaviour": "every message before the hole; the damaged message and every "
                              "later one whose bytes copy lost history reported "
                              "(incomplete_message, deflate_context_lost) and not listed; the "
                              "others listed exactly: never a message with wrong bytes"})


def keepalive_first():
    """Plain HTTP exchanges, then an upgrade, on one connection (sans-I/O websockets); the
    capture shows every server segment before the client segment it answers."""
    rng = random.Random(5)
    port = 17105
    bodies = [b"\x81\x05hello" * 8, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"]
    sends = [f"keep-alive {i}: " + text(rng, 6) for i in range(4)] + [bytes(range(64))]
    log = {"c2s": [], "s2c": []}

    def server_side(sock):
        conn, _ = sock.accept()
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                buf += conn.recv(65536)
            head, _, buf = buf.partition(b"\r\n\r\n")
            if b"upgrade: websocket" in head.lower():
                proto = ServerProtocol(extensions=[ServerPerMessageDeflateFactory()])
                proto.receive_data(head + b"\r\n\r\n" + buf)
                req = proto.events_received()[0]
                proto.send_response(proto.accept(req))
                conn.sendall(b"".join(proto.data_to_send()))
                pending = proto.events_received()
                while True:
                    for ev in pending:
                        if ev.opcode in (Opcode.TEXT, Opcode.BINARY):
                            op = "text" if ev.opcode == Opcode.TEXT else "binary"
                            log["c2s"].append((op, bytes(ev.data)))
                            if op == "text":
                                proto.send_text(b"re: " + bytes(ev.data))
                            else:
                                proto.send_binary(b"re:" + bytes(ev.data))
                        elif ev.opcode == Opcode.CLOSE:
                            log["c2s"].append(("close", bytes(ev.data)))
                    conn.sendall(b"".join(proto.data_to_send()))
                    if proto.close_expected() or proto.state.name == "CLOSED":
                        conn.close()
                        return
                    data = conn.recv(65536)
                    if not data:
                        return
                    proto.receive_data(data)
                    pending = proto.events_received()
            path = head.split(b" ")[1]
            body = bodies[len(path) % 2]
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1)

    async def run():
        t = threading.Thread(target=server_side, args=(listener,))
        t.start()
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client = "%s:%d" % sock.getsockname()
        buf = b""
        for path in (b"/a", b"/bb"):
            sock.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            while b"\r\n\r\n" not in buf:
                buf += sock.recv(65536)
            head, _, buf = buf.partition(b"\r\n\r\n")
            n = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            while len(buf) < n:
                buf += sock.recv(65536)
            buf = buf[n:]
        proto = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}/after-keep-alive"),
                               extensions=[ClientPerMessageDeflateFactory()])
        proto.send_request(proto.connect())
        sock.sendall(b"".join(proto.data_to_send()))
        events, answered = [], []

        def take():
            for ev in proto.events_received():
                (answered if isinstance(ev, Response) else events).append(ev)

        def pump():
            while not events:
                proto.receive_data(sock.recv(65536))
                take()
            return events.pop(0)

        if buf:
            proto.receive_data(buf)
        take()
        while not answered:
            proto.receive_data(sock.recv(65536))
            take()
        for m in sends:
            if isinstance(m, str):
                proto.send_text(m.encode())
            else:
                proto.send_binary(m)
            sock.sendall(b"".join(proto.data_to_send()))
            ev = pump()
            op = "text" if ev.opcode == Opcode.TEXT else "binary"
            log["s2c"].append((op, bytes(ev.data)))
            await asyncio.sleep(0.01)
        proto.send_close(1000, "done")
        sock.sendall(b"".join(proto.data_to_send()))
        ev = pump()
        log["s2c"].append(("close", bytes(ev.data)))
        sock.sendall(b"".join(proto.data_to_send()))
        time.sleep(0.1)
        sock.close()
        t.join()
        return client

    path, client = record(port, run)
    listener.close()
    server = f"127.0.0.1:{port}"
    lines = [entry(client, server, d, o, p) for d in ("c2s", "s2c") for o, p in log[d]]
    pkts = read_pcap(path)
    c = parse_addr(client)
    # Each server data segment goes before the client data segment that preceded it.
    out = list(pkts)
    for i in range(len(out)):
        if out[i]["src"] != c and out[i]["payload"]:
            j = max((k for k in range(i) if out[k]["src"] == c and out[k]["payload"]),
                    default=None)
            if j is not None:
                out.insert(j, out.pop(i))
    write("keepalive_first", out, lines, {
        "scenario": "two plain GETs answered 200 (bodies holding frame-like bytes and a 101 "
                    "head) on a keep-alive connection, then a WebSocket upgrade on the same "
                    "connection (permessage-deflate, sans-I/O websockets on raw sockets)",
        "transforms": ["every server data segment moved before the client data segment "
                       "preceding it: each response, the 101 included, is seen before its "
                       "request"],
        "expected_behaviour": "the same open and messages as in wire order, no anomaly"})


if __name__ == "__main__":
    which = sys.argv[1:] or ["late_request", "two_taps", "tiny_shuffled", "deflate_hole",
                             "keepalive_first"]
    for name in which:
        globals()[name]()
