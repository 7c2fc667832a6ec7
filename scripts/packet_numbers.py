#!/usr/bin/env python3
"""Which capture records carried each WebSocket message, as tshark sees them.

Used to write the expected values of tests/packet_numbers.rs (tshark is not needed to run the
tests). For every WebSocket frame tshark dissects, the frame that completed it is the record
tshark shows it in (`frame.number`); when it was reassembled, its first byte came in the
earliest record listed in `tls.segment` (inside TLS: the records that completed the TLS
records holding it) or, in cleartext, in `tcp.segment`. Only the first WebSocket frame of a
record can be such a reassembled one. A message is a data frame and its continuations up to
FIN, or one control frame: its packets are the first byte's record of its first frame and the
record that completed its last frame.

    scripts/packet_numbers.py [--h2] CAPTURE [KEYLOG]

prints one line per message, in the order the messages complete (as wsnoop lists them):
`client_port dir opcode first last` (with --h2, for WebSockets over HTTP/2:
`client_port dir stream opcode first last`).
"""

import subprocess
import sys

OPCODES = {0: "continuation", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}


def frames(capture, keylog):
    cmd = ["tshark", "-r", capture, "-Y", "websocket", "-T", "fields", "-E", "occurrence=a"]
    if keylog:
        cmd += ["-o", f"tls.keylog_file:{keylog}"]
    for f in ["frame.number", "tcp.srcport", "tcp.dstport", "websocket.opcode",
              "websocket.fin", "tcp.segment", "tls.segment"]:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        number, sport, dport, ops, fins, tcp_segs, tls_segs = line.split("\t")
        number = int(number)
        segs = tls_segs if keylog else tcp_segs
        first_start = min(int(s) for s in segs.split(",")) if segs else number
        for k, (op, fin) in enumerate(zip(ops.split(","), fins.split(","))):
            start = first_start if k == 0 else number
            yield int(sport), int(dport), int(op), fin == "1", start, number


def messages(capture, keylog, server_port):
    open_msgs = {}
    done = []
    for sport, dport, op, fin, start, end in frames(capture, keylog):
        c2s = dport == server_port
        client = sport if c2s else dport
        key = (client, "c2s" if c2s else "s2c")
        if op >= 8:
            done.append((end, len(done), key, OPCODES[op], start, end))
            continue
        if op != 0:
            open_msgs[key] = (OPCODES[op], start)
        if fin and key in open_msgs:
            opcode, first = open_msgs.pop(key)
            done.append((end, len(done), key, opcode, first, end))
    done.sort()
    return [(key[0], key[1], opcode, first, last) for _, _, key, opcode, first, last in done]


def h2_messages(capture, keylog, server_port):
    """WebSockets over HTTP/2 (RFC 8441), which tshark 4.0 does not dissect as WebSocket:
    tshark's HTTP/2 DATA frames (the record each completed in), and their payloads per stream
    and direction split into WebSocket frames here (headers only: RFC 6455 §5.2)."""
    cmd = ["tshark", "-r", capture, "-Y", "http2", "-T", "fields", "-E", "occurrence=a"]
    # Inside TLS, ALPN tells tshark; in cleartext, the port does.
    cmd += ["-o", f"tls.keylog_file:{keylog}"] if keylog else [
        "-d", f"tcp.port=={server_port},http2"]
    # The WebSocket streams: extended CONNECTs (RFC 8441 §4), i.e. a `:protocol` header.
    heads = subprocess.run(cmd + ["-e", "http2.streamid", "-e", "http2.header.name"],
                           capture_output=True, text=True, check=True).stdout
    websockets = set()
    for line in heads.splitlines():
        ids, names = line.split("\t")
        if ":protocol" in names.split(","):
            # One HEADERS frame per packet in these captures: its stream is the last id.
            websockets.add(int(ids.split(",")[-1]))
    for f in ["frame.number", "tcp.dstport", "tcp.srcport", "http2.type", "http2.streamid",
              "http2.length", "http2.data.data"]:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    # Per (client port, stream, dir): the DATA bytes, and per byte its record.
    streams = {}
    for line in out.splitlines():
        number, dport, sport, types, ids, lengths, datas = line.split("\t")
        datas = iter(datas.split(",")) if datas else iter(())
        for t, sid, n in zip(types.split(","), ids.split(","), lengths.split(",")):
            if t != "0" or n == "0":
                continue
            data = bytes.fromhex(next(datas).replace(":", ""))
            if int(sid) not in websockets:
                continue
            c2s = int(dport) == server_port
            key = (int(sport) if c2s else int(dport), int(sid), "c2s" if c2s else "s2c")
            buf, tags = streams.setdefault(key, (bytearray(), []))
            buf += data
            tags += [int(number)] * len(data)
    done = []
    for key, (buf, tags) in streams.items():
        at, data_msg = 0, None
        while at + 2 <= len(buf):
            op, fin = buf[at] & 0x0F, buf[at] & 0x80 != 0
            ln, masked, hl = buf[at + 1] & 0x7F, buf[at + 1] & 0x80 != 0, 2
            if ln == 126:
                ln, hl = int.from_bytes(buf[at + 2:at + 4], "big"), 4
            elif ln == 127:
                ln, hl = int.from_bytes(buf[at + 2:at + 10], "big"), 10
            end = at + hl + (4 if masked else 0) + ln
            if end > len(buf):
                break
            first, last = tags[at], max(tags[at:end])
            if op >= 8:
                done.append((last, end, key, OPCODES[op], first, last))
            else:
                if op != 0:
                    data_msg = (OPCODES[op], first, last)
                elif data_msg:
                    data_msg = (data_msg[0], data_msg[1], max(data_msg[2], last))
                if fin and data_msg:
                    done.append((data_msg[2], end, key, data_msg[0], data_msg[1], data_msg[2]))
                    data_msg = None
            at = end
    done.sort()
    return [(key[0], key[2], key[1], opcode, first, last)
            for _, _, key, opcode, first, last in done]


if __name__ == "__main__":
    args = sys.argv[1:]
    h2 = "--h2" in args
    args = [a for a in args if a != "--h2"]
    capture = args[0]
    keylog = args[1] if len(args) > 1 else None
    # The server is the port the first SYN went to.
    syn = subprocess.run(
        ["tshark", "-r", capture, "-Y", "tcp.flags.syn==1 && tcp.flags.ack==0", "-c", "1",
         "-T", "fields", "-e", "tcp.dstport"], capture_output=True, text=True, check=True)
    server_port = int(syn.stdout.split()[0])
    found = h2_messages if h2 else messages
    for m in found(capture, keylog, server_port):
        print(*m)
