//! Packet numbers, as tshark and Wireshark number frames: every `message` line names the
//! capture records that carried it (`"packets":[first,last]`). The expected numbers were
//! obtained with tshark 4.0.17 by `scripts/packet_numbers.py` (run from the repository root:
//! `scripts/packet_numbers.py CAPTURE [KEYLOG]`, `--h2` for WebSockets over HTTP/2), which
//! prints, per message in the order they complete, `client_port dir [stream] opcode first last`:
//!
//! - `last` is the frame tshark shows the message's last WebSocket frame in
//!   (`tshark -r CAPTURE -Y websocket -T fields -e frame.number -e websocket.opcode
//!   -e websocket.fin -e tcp.segment -e tls.segment`, with `-o tls.keylog_file:KEYLOG` for
//!   TLS): the packet that completed it.
//! - `first` is the frame of the message's first WebSocket frame or, when tshark reassembled
//!   that frame across packets, the earliest packet it lists in `tcp.segment` (cleartext) or
//!   `tls.segment` (inside TLS: the packets that completed the TLS records holding it).
//! - tshark 4.0 does not dissect WebSocket over HTTP/2 (RFC 8441): there the script takes
//!   tshark's HTTP/2 DATA frames of the extended-CONNECT streams (`http2.type`,
//!   `http2.streamid`, `http2.data.data`, each in the frame that completed it) and splits their
//!   payloads into WebSocket frames itself (headers only).
//!
//! No case here needs a correction: wsnoop's numbers are tshark's in every capture. (Over a
//! capture out of order, wsnoop numbers bytes by the packet that carried them, not by the one
//! that filled the hole before them; tshark shows a reassembled PDU where it was completed.)
//! tshark is not needed to run these tests.

mod common;

use common::{captures_dir, parse_lines, wsnoop_read};

/// The `message` lines of `wsnoop read CAPTURE --json`, as the script prints them.
fn packets(rel: &str, keylog: Option<&str>, threads: usize) -> Vec<String> {
    let keys = keylog.map(|k| captures_dir().join(k).display().to_string());
    let threads = threads.to_string();
    let mut args = vec!["--threads", threads.as_str()];
    if let Some(k) = &keys {
        args.extend(["--keylog", k.as_str()]);
    }
    let out = wsnoop_read(&captures_dir().join(rel), &args);
    assert!(out.status.success(), "{rel}: {out:?}");
    parse_lines(&out.stdout)
        .iter()
        .filter(|v| v["event"] == "message")
        .map(|v| {
            let port = v["client"]
                .as_str()
                .and_then(|c| c.rsplit_once(':'))
                .map(|(_, p)| p);
            let stream = v.get("stream").map(|s| format!(" {s}")).unwrap_or_default();
            let p = &v["packets"];
            format!(
                "{} {}{stream} {} {} {}",
                port.unwrap_or("?"),
                v["dir"].as_str().unwrap_or("?"),
                v["opcode"].as_str().unwrap_or("?"),
                p[0],
                p[1]
            )
        })
        .collect()
}

fn assert_packets(rel: &str, keylog: Option<&str>, expected: &str) {
    let want: Vec<&str> = expected
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    for threads in [1, 3] {
        let got = packets(rel, keylog, threads);
        assert_eq!(got.len(), want.len(), "{rel} ({threads} threads): {got:#?}");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "{rel} ({threads} threads): message {i}");
        }
    }
}

/// One message per packet: both numbers are the frame tshark shows it in.
const BASIC_ECHO: &str = "
51564 c2s text 8 8
51564 s2c text 9 9
51564 c2s text 10 10
51564 s2c text 11 11
51564 c2s text 12 12
51564 s2c text 13 13
51564 c2s text 14 14
51564 s2c text 15 15
51564 c2s text 16 16
51564 s2c text 17 17
51564 c2s text 18 18
51564 s2c text 19 19
51564 c2s text 20 20
51564 s2c text 21 21
51564 c2s text 22 22
51564 s2c text 23 23
51564 c2s text 24 24
51564 s2c text 25 25
51564 c2s binary 26 26
51564 s2c binary 27 27
51564 c2s binary 28 28
51564 s2c binary 29 29
51564 c2s binary 30 30
51564 s2c binary 31 31
51564 c2s text 32 32
51564 s2c text 33 33
51564 c2s binary 34 34
51564 s2c binary 35 35
51564 c2s close 36 36
51564 s2c close 37 37
51572 c2s text 48 48
51572 s2c text 49 49
51572 c2s binary 50 50
51572 s2c binary 51 51
51572 c2s close 52 52
51572 s2c close 53 53
";

/// Fragmented messages: `first` is the packet of the first fragment, `last` the packet that
/// completed the FIN fragment. Fragments spanning packets (the 71010-byte message from packet
/// 48, the 70 KB echo in packets 55-58): tshark lists them under `tcp.segment`.
const FRAGMENTED: &str = "
45530 c2s text 8 14
45530 s2c text 16 16
45530 c2s binary 17 22
45530 s2c binary 24 24
45530 c2s text 25 33
45530 s2c text 34 34
45530 c2s ping 36 36
45530 s2c pong 38 38
45530 c2s ping 42 42
45530 s2c pong 43 43
45530 c2s text 35 45
45530 s2c text 47 47
45530 c2s text 48 54
45530 s2c text 55 58
45530 c2s close 59 59
45530 s2c close 60 60
45544 s2c ping 73 73
45544 c2s ping 75 75
45544 s2c pong 77 77
45544 c2s pong 78 78
45544 c2s text 71 82
45544 s2c text 72 84
45544 s2c ping 88 88
45544 c2s binary 86 90
45544 c2s pong 92 92
45544 s2c binary 87 95
45544 c2s close 97 97
45544 s2c close 98 98
";

/// Many messages coalesced in one packet (26, 29, 80, 83), and messages cut across packets.
const COALESCED: &str = "
44012 c2s text 8 8
44012 s2c text 9 9
44012 c2s binary 10 10
44012 s2c binary 11 11
44012 c2s binary 12 12
44012 s2c binary 13 13
44012 c2s text 14 14
44012 s2c text 15 15
44012 c2s text 16 16
44012 s2c text 17 17
44012 c2s text 18 18
44012 s2c text 19 19
44012 c2s text 20 20
44012 s2c text 21 21
44012 c2s text 22 22
44012 s2c text 23 23
44012 c2s binary 24 24
44012 s2c binary 25 25
44012 c2s binary 26 26
44012 c2s text 26 26
44012 c2s text 26 26
44012 c2s text 26 26
44012 c2s text 26 26
44012 c2s binary 26 26
44012 c2s text 26 26
44012 c2s binary 26 26
44012 c2s text 26 26
44012 c2s binary 26 26
44012 c2s text 26 26
44012 c2s binary 26 26
44012 c2s ping 26 26
44012 c2s text 26 26
44012 c2s text 26 26
44012 c2s binary 26 26
44012 c2s binary 26 26
44012 c2s text 26 26
44012 c2s text 26 26
44012 c2s text 26 26
44012 c2s text 26 26
44012 c2s text 26 26
44012 c2s text 26 26
44012 c2s binary 26 26
44012 c2s binary 26 26
44012 c2s text 26 26
44012 c2s text 26 26
44012 c2s text 26 26
44012 c2s text 26 26
44012 c2s binary 26 26
44012 c2s binary 26 26
44012 c2s binary 26 26
44012 s2c pong 27 27
44012 s2c binary 29 29
44012 s2c text 29 29
44012 s2c text 29 29
44012 s2c text 29 29
44012 s2c text 29 29
44012 s2c binary 29 29
44012 s2c text 29 29
44012 s2c binary 29 29
44012 s2c text 29 29
44012 s2c binary 29 29
44012 s2c text 29 29
44012 s2c binary 29 29
44012 s2c text 29 29
44012 s2c text 29 29
44012 s2c binary 29 29
44012 s2c binary 29 29
44012 s2c text 29 29
44012 s2c text 29 29
44012 s2c text 29 29
44012 s2c text 29 29
44012 s2c text 29 29
44012 s2c text 29 29
44012 s2c binary 29 29
44012 s2c binary 29 29
44012 s2c text 29 29
44012 s2c text 29 29
44012 s2c text 29 29
44012 s2c text 29 29
44012 s2c binary 29 29
44012 s2c binary 29 29
44012 s2c binary 29 29
44012 c2s close 31 31
44012 s2c close 32 32
44016 c2s binary 44 44
44016 s2c binary 45 45
44016 c2s text 46 46
44016 s2c text 47 47
44016 c2s binary 48 48
44016 s2c binary 49 49
44016 c2s binary 50 50
44016 s2c binary 51 51
44016 c2s binary 52 52
44016 s2c binary 53 53
44016 c2s text 54 54
44016 s2c text 55 55
44016 c2s text 56 56
44016 s2c text 57 57
44016 c2s binary 58 58
44016 s2c binary 59 59
44016 c2s text 60 60
44016 s2c text 61 61
44016 c2s binary 62 62
44016 s2c binary 63 63
44016 c2s binary 64 64
44016 s2c binary 65 65
44016 c2s text 66 66
44016 s2c text 67 67
44016 c2s text 68 68
44016 s2c text 69 69
44016 c2s text 70 70
44016 s2c text 71 71
44016 c2s text 72 72
44016 s2c text 73 73
44016 c2s text 74 74
44016 s2c text 75 75
44016 c2s text 76 76
44016 s2c text 77 77
44016 c2s text 78 78
44016 s2c text 79 79
44016 c2s text 80 80
44016 c2s text 80 80
44016 c2s binary 80 80
44016 c2s ping 80 80
44016 c2s text 80 80
44016 c2s text 80 80
44016 c2s binary 80 80
44016 c2s text 80 80
44016 c2s text 80 80
44016 c2s text 80 80
44016 c2s binary 80 80
44016 c2s text 80 80
44016 c2s text 80 80
44016 c2s text 80 80
44016 c2s text 80 80
44016 c2s binary 80 80
44016 c2s text 80 80
44016 c2s binary 80 80
44016 c2s binary 80 80
44016 c2s text 80 80
44016 c2s text 80 80
44016 c2s text 80 80
44016 c2s text 80 80
44016 s2c pong 81 81
44016 s2c text 83 83
44016 s2c text 83 83
44016 s2c binary 83 83
44016 s2c text 83 83
44016 s2c text 83 83
44016 s2c binary 83 83
44016 s2c text 83 83
44016 s2c text 83 83
44016 s2c text 83 83
44016 s2c binary 83 83
44016 s2c text 83 83
44016 s2c text 83 83
44016 s2c text 83 83
44016 s2c text 83 83
44016 s2c binary 83 83
44016 s2c text 83 83
44016 s2c binary 83 83
44016 s2c binary 83 83
44016 s2c text 83 83
44016 s2c text 83 83
44016 s2c text 83 83
44016 s2c text 83 83
44016 c2s close 85 85
44016 s2c close 86 86
";

/// TLS 1.3 (Chromium): a message's packets are those that completed the TLS records holding
/// its first and last bytes; e.g. the binary message in records completed by packets
/// 75, 76, 78, 79 and 81 (tshark's `tls.segment`).
const WSS_CHROMIUM: &str = "
35854 c2s text 51 51
35854 s2c text 52 52
35854 c2s text 53 53
35854 s2c text 54 54
35854 c2s text 55 55
35854 s2c text 56 56
35854 s2c ping 57 57
35854 c2s pong 59 59
35854 c2s binary 60 60
35854 s2c binary 62 62
35854 c2s binary 71 71
35854 s2c binary 72 72
35854 c2s text 73 73
35854 s2c text 74 74
35854 c2s binary 75 81
35854 s2c binary 82 85
35854 c2s text 86 86
35854 s2c text 87 87
35854 c2s text 88 88
35854 s2c text 89 89
35854 c2s text 90 90
35854 s2c text 91 91
35854 c2s close 92 92
35854 s2c close 93 93
35860 c2s text 112 112
35860 s2c text 113 113
35860 c2s binary 114 114
35860 s2c binary 115 115
35860 s2c close 116 116
35860 c2s close 118 118
";

/// TLS 1.2: records cut across TCP segments (a record is decrypted, and its bytes numbered,
/// by the packet that completed it).
const WSS_TLS12: &str = "
48334 c2s text 12 12
48334 s2c text 13 13
48334 c2s text 14 14
48334 s2c text 15 15
48334 c2s text 16 16
48334 s2c text 17 17
48334 s2c ping 18 18
48334 c2s text 19 19
48334 c2s pong 20 20
48334 s2c text 22 22
48334 c2s text 23 23
48334 s2c text 24 24
48334 c2s binary 25 25
48334 s2c binary 26 26
48334 c2s binary 27 27
48334 s2c binary 28 28
48334 c2s text 29 29
48334 s2c text 30 30
48334 c2s text 31 31
48334 s2c text 32 32
48334 c2s text 33 33
48334 s2c text 34 34
48334 c2s text 35 35
48334 s2c text 36 36
48334 c2s ping 37 37
48334 s2c pong 38 38
48334 c2s text 39 39
48334 s2c text 41 41
48334 c2s binary 42 43
48334 s2c binary 45 46
48334 c2s text 48 51
48334 s2c text 53 53
48334 c2s binary 54 58
48334 s2c binary 60 60
48334 c2s ping 62 62
48334 s2c pong 64 64
48334 c2s text 61 66
48334 s2c text 68 68
48334 c2s text 69 69
48334 s2c text 70 70
48334 c2s close 71 71
48334 s2c close 72 72
48340 c2s text 90 93
48340 s2c text 94 100
48340 c2s binary 101 104
48340 s2c binary 105 109
48340 c2s text 111 111
48340 s2c text 112 113
48340 c2s close 115 115
48340 s2c close 116 116
";

/// WebSockets over cleartext HTTP/2 (RFC 8441), DATA of two streams interleaved: the packets of
/// the DATA frames holding a message's first and last bytes.
const H2C: &str = "
41794 c2s 1 text 15 15
41794 s2c 1 text 16 16
41794 c2s 3 text 17 17
41794 s2c 3 text 18 18
41794 c2s 1 text 19 19
41794 s2c 1 text 20 20
41794 c2s 3 binary 21 21
41794 s2c 3 binary 22 22
41794 c2s 1 text 23 23
41794 s2c 1 text 24 24
41794 c2s 1 ping 30 30
41794 s2c 1 pong 31 31
41794 c2s 3 text 32 32
41794 s2c 3 text 33 33
41794 c2s 3 text 35 35
41794 c2s 1 text 34 37
41794 s2c 3 text 39 39
41794 s2c 1 text 38 41
41794 c2s 1 text 42 42
41794 s2c 1 text 43 43
41794 c2s 1 text 44 44
41794 s2c 1 text 45 45
41794 c2s 3 binary 46 52
41794 s2c 3 binary 55 62
41794 s2c 3 close 62 62
41794 c2s 3 close 66 66
41794 c2s 1 text 68 68
41794 s2c 1 text 69 69
41794 c2s 1 binary 70 70
41794 s2c 1 binary 71 71
41794 c2s 1 text 72 72
41794 s2c 1 text 73 73
41794 c2s 1 close 74 74
41794 s2c 1 close 75 75
41794 c2s 7 text 78 78
41794 s2c 7 text 80 80
41794 c2s 7 text 81 81
41794 s2c 7 text 82 82
41794 c2s 7 text 83 83
41794 s2c 7 text 84 84
41794 c2s 7 text 85 85
41794 s2c 7 text 86 86
41794 c2s 7 text 87 87
41794 s2c 7 text 88 88
41794 c2s 7 text 89 89
41794 s2c 7 text 90 90
41794 c2s 7 binary 91 91
41794 s2c 7 binary 92 92
41794 c2s 7 ping 93 93
41794 s2c 7 pong 94 94
41794 c2s 7 close 95 95
41794 s2c 7 close 96 96
";

/// WebSockets over HTTP/2 over TLS 1.3 (Chromium): a 70 KB message in five DATA frames
/// (packets 40 to 47), its echo in packets 49 to 54.
const H2_TLS: &str = "
51336 c2s 3 text 23 23
51336 s2c 3 text 24 24
51336 c2s 3 text 30 30
51336 s2c 3 text 31 31
51336 c2s 3 text 32 32
51336 s2c 3 text 33 33
51336 c2s 3 binary 34 34
51336 s2c 3 binary 35 35
51336 c2s 3 binary 36 36
51336 s2c 3 binary 37 37
51336 c2s 3 text 38 38
51336 s2c 3 text 39 39
51336 c2s 3 binary 40 47
51336 s2c 3 binary 49 54
51336 c2s 3 text 56 56
51336 s2c 3 text 57 57
51336 c2s 3 text 58 58
51336 s2c 3 text 59 59
51336 c2s 3 text 60 60
51336 s2c 3 text 61 61
51336 c2s 3 close 62 62
51336 s2c 3 close 63 63
51336 c2s 7 text 70 70
51336 s2c 7 text 71 71
51336 c2s 7 binary 72 72
51336 s2c 7 binary 73 73
51336 s2c 7 close 73 73
";

#[test]
fn py_basic_echo() {
    assert_packets("py_basic_echo.pcap", None, BASIC_ECHO);
}

#[test]
fn py_fragmented() {
    assert_packets("py_fragmented.pcap", None, FRAGMENTED);
}

#[test]
fn py_coalesced_frames() {
    assert_packets("py_coalesced_frames.pcap", None, COALESCED);
}

#[test]
fn wss_chromium_tls13() {
    assert_packets(
        "tls/wss_chromium_tls13.pcap",
        Some("tls/wss_chromium_tls13.keys"),
        WSS_CHROMIUM,
    );
}

#[test]
fn wss_tls12_aes128gcm() {
    assert_packets(
        "tls/wss_tls12_aes128gcm.pcap",
        Some("tls/wss_tls12_aes128gcm.keys"),
        WSS_TLS12,
    );
}

#[test]
fn h2c_python_multi() {
    assert_packets("h2/h2c_python_multi.pcap", None, H2C);
}

#[test]
fn h2_chromium_tls13() {
    assert_packets(
        "h2/h2_chromium_tls13.pcap",
        Some("h2/h2_chromium_tls13.keys"),
        H2_TLS,
    );
}
