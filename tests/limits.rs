//! Every bound in `Limits`, proven through the binary's command-line flag: the affected
//! traffic gets its anomaly at the limit, and the messages that must survive decode exactly.

mod common;

use std::path::PathBuf;

use common::forge::*;
use serde_json::Value;

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("limits");
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir.join(name)
}

/// Writes `bytes` as NAME.pcap, runs `wsnoop read --json` with `flags`, returns the lines.
fn run_bytes(name: &str, bytes: &[u8], flags: &[&str]) -> (Vec<Value>, std::process::Output) {
    let path = tmp(&format!("{name}.pcap"));
    std::fs::write(&path, bytes).expect("write capture");
    let out = common::wsnoop_read(&path, flags);
    (common::parse_lines(&out.stdout), out)
}

/// Runs the capture and asserts the check.py verdict: exact messages, expected anomalies.
fn run(name: &str, cap: &Cap, e: &Expect, flags: &[&str]) -> Vec<Value> {
    let (lines, out) = run_bytes(name, &cap.pcap(), flags);
    let problems = common::check(&e.0, &lines);
    assert!(
        problems.is_empty(),
        "{name}: {}\nstderr: {}",
        problems.join("\n  "),
        String::from_utf8_lossy(&out.stderr)
    );
    lines
}

fn kinds<'a>(lines: &'a [Value], kind: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["kind"] == kind).collect()
}

/// Index of the first line matching `pred`.
fn pos(lines: &[Value], pred: impl Fn(&Value) -> bool) -> usize {
    lines.iter().position(pred).expect("line present")
}

fn conn(n: u16) -> Tcp {
    Tcp::new(
        &format!("10.2.0.1:{}", 41000 + n),
        &format!("10.2.0.2:{}", 9100 + n),
        [7000, 90_000],
    )
}

/// A hole that never fills, followed by `n` held 1000-byte frames: with the limit at
/// `flag`, the hole is given up as soon as the buffer passes it, and every held frame decodes.
fn hole_then_frames(flag: &[&str], n: usize, mss: usize, name: &str) -> Vec<Value> {
    let mut cap = Cap::new(Link::Ethernet);
    let mut e = Expect::default();
    let mut t = conn(1);
    open(&mut cap, &mut t, None);
    send(&mut cap, &mut t, 0, &text(0, "before"));
    e.text(&t, 0, "before");
    let _lost = t.seg(0, "PA", &text(0, "never captured"));
    let mut held = Vec::new();
    for i in 0..n {
        let body = format!("{i:04}").repeat(250);
        e.text(&t, 0, &body);
        held.extend(t.segs(0, &text(0, &body), mss));
    }
    e.error(Some(&t), Some(0), "tcp_gap");
    cap.put(&t, &held);
    // Server traffic after the flood: the limit shows before the end of the capture.
    send(&mut cap, &mut t, 1, &text(1, "server after"));
    e.text(&t, 1, "server after");
    let lines = run(name, &cap, &e, flag);
    let gap = pos(&lines, |l| l["kind"] == "tcp_gap");
    let server = pos(&lines, |l| l["text"] == "server after");
    assert!(
        gap < server,
        "tcp_gap reported at the limit, not at the end"
    );
    assert!(
        lines[gap]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("limit")),
        "detail names the limit: {}",
        lines[gap]
    );
    assert_eq!(kinds(&lines, "tcp_gap").len(), 1);
    lines
}

#[test]
fn max_ooo_bytes_gives_up_the_hole_and_decodes_what_follows() {
    hole_then_frames(&["--max-ooo-bytes", "4K"], 20, 1400, "ooo_bytes");
}

#[test]
fn max_ooo_segments_gives_up_the_hole_and_decodes_what_follows() {
    // 20 frames in 100-byte segments: 200+ segments, far under the 4M byte limit.
    hole_then_frames(&["--max-ooo-segments", "16"], 20, 100, "ooo_segments");
}

#[test]
fn max_message_bytes_skips_frames_and_fragmented_messages_over_it() {
    let mut cap = Cap::new(Link::Ethernet);
    let mut e = Expect::default();
    let mut t = conn(2);
    open(&mut cap, &mut t, None);
    send(&mut cap, &mut t, 0, &text(0, "small one"));
    e.text(&t, 0, "small one");
    // One frame declaring 5000 bytes: over the limit by its header alone.
    let big: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
    send(&mut cap, &mut t, 0, &frame(0, 0x82, &big));
    e.error(Some(&t), Some(0), "message_too_large");
    send(&mut cap, &mut t, 0, &text(0, "small two"));
    e.text(&t, 0, "small two");
    // A fragmented message whose fragments add up past it.
    let part = [b'x'; 600];
    send(&mut cap, &mut t, 1, &frame(1, 0x02, &part));
    send(&mut cap, &mut t, 1, &frame(1, 0x00, &part));
    send(&mut cap, &mut t, 1, &frame(1, 0x80, &part));
    e.error(Some(&t), Some(1), "message_too_large");
    send(&mut cap, &mut t, 1, &text(1, "server small"));
    e.text(&t, 1, "server small");
    // Exactly at the limit is kept.
    let at = [b'a'; 1000];
    send(&mut cap, &mut t, 1, &frame(1, 0x82, &at));
    e.msg(&t, 1, "binary", &at);
    let lines = run("message_bytes", &cap, &e, &["--max-message-bytes", "1000"]);
    assert_eq!(kinds(&lines, "message_too_large").len(), 2);
}

/// 1 MiB of zeros, compressed, then a small message, with or without context takeover.
fn inflate_limit(takeover: bool) {
    let mut cap = Cap::new(Link::Ethernet);
    let mut e = Expect::default();
    let mut t = conn(if takeover { 3 } else { 4 });
    let ext = if takeover {
        "permessage-deflate"
    } else {
        "permessage-deflate; server_no_context_takeover"
    };
    open(&mut cap, &mut t, Some(ext));
    let mut d = Deflater::default();
    let first = "small and first".repeat(4);
    send(
        &mut cap,
        &mut t,
        1,
        &frame(1, 0xc1, &d.message(first.as_bytes())),
    );
    e.text(&t, 1, &first);
    if !takeover {
        d = Deflater::default();
    }
    let zeros = vec![0u8; 1 << 20];
    send(&mut cap, &mut t, 1, &frame(1, 0xc2, &d.message(&zeros)));
    e.error(Some(&t), Some(1), "decompression_limit");
    if !takeover {
        d = Deflater::default();
    }
    let next = "the next message decodes";
    send(
        &mut cap,
        &mut t,
        1,
        &frame(1, 0xc1, &d.message(next.as_bytes())),
    );
    e.text(&t, 1, next);
    let lines = run(
        if takeover {
            "inflate_takeover"
        } else {
            "inflate_fresh"
        },
        &cap,
        &e,
        &["--max-inflated-bytes", "64K"],
    );
    assert_eq!(kinds(&lines, "decompression_limit").len(), 1);
}

#[test]
fn max_inflated_bytes_stops_the_bomb_next_message_decodes_without_takeover() {
    inflate_limit(false);
}

#[test]
fn max_inflated_bytes_stops_the_bomb_next_message_decodes_with_takeover() {
    inflate_limit(true);
}

#[test]
fn max_connections_evicts_the_least_recently_active() {
    let mut cap = Cap::new(Link::Ethernet);
    let mut e = Expect::default();
    let mut a = conn(10);
    let mut b = conn(11);
    let mut c = conn(12);
    open(&mut cap, &mut a, None);
    send(&mut cap, &mut a, 0, &text(0, "a1"));
    e.text(&a, 0, "a1");
    open(&mut cap, &mut b, None);
    send(&mut cap, &mut b, 0, &text(0, "b1"));
    e.text(&b, 0, "b1");
    // `a` is now the least recently active: the third connection evicts it.
    open(&mut cap, &mut c, None);
    send(&mut cap, &mut c, 0, &text(0, "c1"));
    e.text(&c, 0, "c1");
    send(&mut cap, &mut b, 1, &text(1, "b2"));
    e.text(&b, 1, "b2");
    send(&mut cap, &mut c, 1, &text(1, "c2"));
    e.text(&c, 1, "c2");
    // A total over all connections: with threads it is shared out among the engines, so the
    // exact eviction order is asserted on one.
    let lines = run(
        "connections",
        &cap,
        &e,
        &["--max-connections", "2", "--threads", "1"],
    );
    let ends: Vec<(String, String)> = lines
        .iter()
        .filter(|l| l["event"] == "end")
        .map(|l| {
            (
                l["client"].as_str().unwrap_or("").to_string(),
                l["how"].to_string(),
            )
        })
        .collect();
    assert_eq!(
        ends,
        vec![
            (a.client.to_string(), "\"evicted\"".to_string()),
            (b.client.to_string(), "\"eof\"".to_string()),
            (c.client.to_string(), "\"eof\"".to_string()),
        ],
        "{lines:#?}"
    );
    let evicted = pos(&lines, |l| l["how"] == "evicted");
    let c_open = pos(&lines, |l| {
        l["event"] == "open" && l["client"] == c.client.to_string()
    });
    assert!(
        evicted < c_open,
        "evicted when the third connection arrived"
    );
}

#[test]
fn ip_fragment_pool_drops_the_oldest_incomplete_datagram() {
    let mut cap = Cap::new(Link::Ethernet);
    let mut e = Expect::default();
    let mut t = conn(20);
    open(&mut cap, &mut t, None);
    // Three datagrams of which only the first fragment ever arrives (stray UDP-less junk
    // between other hosts): a pool of two holds two, the third pushes one out.
    let mut junk = conn(21);
    for id in 0..3u16 {
        let s = junk.seg(0, "PA", &[0x55; 400]);
        let frags = ipv4_fragments(&junk.ip_packet(&s), 128, 100 + id);
        cap.ip(&frags[0]);
    }
    // A WebSocket frame in fragments still reassembles.
    let payload: Vec<u8> = (0..900u32).map(|i| (i % 199) as u8).collect();
    let s = t.seg(1, "PA", &frame(1, 0x82, &payload));
    for f in ipv4_fragments(&t.ip_packet(&s), 256, 7) {
        cap.ip(&f);
    }
    e.msg(&t, 1, "binary", &payload);
    e.error(None, None, "ip_fragment_limit");
    let lines = run("ipfrag", &cap, &e, &["--max-ip-frag-datagrams", "2"]);
    assert!(!kinds(&lines, "ip_fragment_limit").is_empty());

    // The same by bytes: 1100 bytes hold the WebSocket datagram (~930) but not the junk too.
    let lines = run("ipfrag_bytes", &cap, &e, &["--max-ip-frag-bytes", "1100"]);
    assert!(!kinds(&lines, "ip_fragment_limit").is_empty());
}

#[test]
fn max_handshake_bytes_gives_up_an_oversized_request() {
    let mut cap = Cap::new(Link::Ethernet);
    let mut e = Expect::default();
    let mut big = conn(30);
    let (req, resp) = upgrade(None);
    let padded = String::from_utf8(req).expect("ascii").replace(
        "\r\n\r\n",
        &format!("\r\nX-Pad: {}\r\n\r\n", "p".repeat(3000)),
    );
    let mut s = big.syn();
    // In several segments: the request has to be buffered until its blank line.
    s.extend(big.segs(0, padded.as_bytes(), 500));
    s.push(big.seg(1, "PA", &resp));
    cap.put(&big, &s);
    send(&mut cap, &mut big, 0, &text(0, "not decoded"));
    // Not yet a numbered connection: reported at file level, its endpoints in the detail.
    e.error(None, None, "handshake_too_large");
    let mut ok = conn(31);
    open(&mut cap, &mut ok, None);
    send(&mut cap, &mut ok, 0, &text(0, "normal handshake"));
    e.text(&ok, 0, "normal handshake");
    let lines = run("handshake", &cap, &e, &["--max-handshake-bytes", "1K"]);
    let too_large = kinds(&lines, "handshake_too_large");
    assert_eq!(too_large.len(), 1, "{lines:#?}");
    let detail = too_large[0]["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(&big.client.to_string()), "{detail}");
    // With room for it the same capture decodes both.
    e.text(&big, 0, "not decoded");
    let (lines, _) = run_bytes(
        "handshake_roomy",
        &cap.pcap(),
        &["--max-handshake-bytes", "8K"],
    );
    assert!(kinds(&lines, "handshake_too_large").is_empty());
    assert_eq!(
        lines.iter().filter(|l| l["event"] == "message").count(),
        2,
        "{lines:#?}"
    );
}

#[test]
fn max_record_bytes_is_a_corrupt_file_not_an_allocation() {
    let mut cap = Cap::new(Link::Ethernet);
    let mut e = Expect::default();
    let mut t = conn(40);
    open(&mut cap, &mut t, None);
    send(&mut cap, &mut t, 0, &text(0, "small record"));
    e.text(&t, 0, "small record");
    // A 1400-byte segment: a record over 1K.
    let big = "B".repeat(1300);
    send(&mut cap, &mut t, 1, &text(1, &big));
    send(&mut cap, &mut t, 0, &text(0, "never read"));
    e.error(None, None, "corrupt_capture");
    let (lines, out) = run_bytes("record", &cap.pcap(), &["--max-record-bytes", "1K"]);
    let problems = common::check(&e.0, &lines);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("record.pcap"), "names the file: {stderr}");
    // The default takes it.
    let (lines, out) = run_bytes("record_default", &cap.pcap(), &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(lines.iter().filter(|l| l["event"] == "message").count(), 3);
}

/// A connection picked up mid-stream inside a 3000-byte frame: the probe needs the bytes up
/// to the next frame boundary, so with a 1K probe buffer the connection is never recognised,
/// with the default it is, and its later messages decode.
#[test]
fn max_probe_bytes_bounds_mid_stream_recognition() {
    let mut e = Expect::default();
    let mut t = conn(50);
    let big = vec![b'm'; 3000];
    let mut segs = t.segs(0, &frame(0, 0x82, &big), 1400);
    let mut tail = Vec::new();
    for i in 0..4 {
        let s = format!("after pickup {i}");
        tail.extend(t.segs(0, &text(0, &s), 1400));
        e.text(&t, 0, &s);
        // Eight bytes or more: the first message after a frame boundary found by searching is
        // listed only when its text vouches for the boundary.
        let r = format!("server reply {i}");
        tail.extend(t.segs(1, &text(1, &r), 1400));
        e.text(&t, 1, &r);
    }
    // Drop the SYN and the frame's first segment: the capture starts mid-frame.
    segs.remove(0);
    let mut cap = Cap::new(Link::Ethernet);
    cap.put(&t, &segs);
    cap.put(&t, &tail);
    e.error(Some(&t), None, "no_handshake");
    let lines = run("probe_default", &cap, &e, &[]);
    assert_eq!(lines[0]["mid_stream"], true, "{}", lines[0]);
    // With 1K per side the connection is still recognised (the server's first reply starts
    // its stream), but the client's bytes past 1K were dropped while probing: its first
    // message after the pickup is lost, everything later decodes exactly.
    // Per direction, in order (messages decoded from a found boundary wait for it to be
    // confirmed, so the two directions' lines may interleave differently).
    let (lines, _) = run_bytes("probe_small", &cap.pcap(), &["--max-probe-bytes", "1K"]);
    let messages = |dir: &str| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l["event"] == "message" && l["dir"] == dir)
            .map(|l| l["text"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(
        messages("c2s"),
        ["after pickup 1", "after pickup 2", "after pickup 3"],
        "{lines:#?}"
    );
    assert_eq!(
        messages("s2c"),
        [
            "server reply 0",
            "server reply 1",
            "server reply 2",
            "server reply 3"
        ],
        "{lines:#?}"
    );
}

/// The same pickup under a 1K pool for all probing connections together: the pool, not the
/// per-connection buffer, is what stops it.
#[test]
fn max_probe_total_bytes_bounds_all_probing_connections() {
    let mut t = conn(51);
    let big = vec![b'm'; 3000];
    let mut segs = t.segs(0, &frame(0, 0x82, &big), 1400);
    for i in 0..4 {
        segs.extend(t.segs(0, &text(0, &format!("after pickup {i}")), 1400));
        segs.extend(t.segs(1, &text(1, &format!("server reply {i}")), 1400));
    }
    segs.remove(0);
    let mut cap = Cap::new(Link::Ethernet);
    cap.put(&t, &segs);
    let (lines, out) = run_bytes("probe_pool_default", &cap.pcap(), &[]);
    assert_eq!(out.status.code(), Some(0));
    let messages =
        |lines: &[serde_json::Value]| lines.iter().filter(|l| l["event"] == "message").count();
    assert_eq!(messages(&lines), 8, "{lines:#?}");
    let (lines, out) = run_bytes(
        "probe_pool_small",
        &cap.pcap(),
        // A total over all connections, asserted on one engine (see max_connections).
        &["--max-probe-total-bytes", "1K", "--threads", "1"],
    );
    assert_eq!(out.status.code(), Some(0));
    // The client's first bytes take the whole pool, so neither side can be probed: the
    // connection is given up, and the pool running dry is reported (once, for the input).
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_eq!(lines[0]["kind"], "probe_limit");
    assert_eq!(lines[0]["conn"], serde_json::Value::Null);
    // On two threads each engine has half the pool: the connection's engine runs dry too.
    let (two, out) = run_bytes(
        "probe_pool_small_threads",
        &cap.pcap(),
        &["--max-probe-total-bytes", "1K", "--threads", "2"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(two.len(), 1, "{two:#?}");
    assert_eq!(two[0]["kind"], "probe_limit");
    let detail = two[0]["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("hold 512 bytes in all"), "{detail}");
}

#[test]
fn capture_ending_inside_a_message_is_incomplete() {
    let mut cap = Cap::new(Link::Ethernet);
    let mut e = Expect::default();
    let mut t = conn(60);
    open(&mut cap, &mut t, None);
    send(&mut cap, &mut t, 0, &text(0, "complete"));
    e.text(&t, 0, "complete");
    send(&mut cap, &mut t, 1, &text(1, "complete too"));
    e.text(&t, 1, "complete too");
    // c2s: a frame cut short by the end of the capture; s2c: a fragmented message never
    // finished.
    let f = frame(0, 0x82, &[1u8; 5000]);
    send(&mut cap, &mut t, 0, &f[..2500]);
    send(&mut cap, &mut t, 1, &frame(1, 0x01, b"first fragment"));
    e.error(Some(&t), Some(0), "incomplete_message");
    e.error(Some(&t), Some(1), "incomplete_message");
    let lines = run("incomplete_eof", &cap, &e, &[]);
    assert_eq!(kinds(&lines, "incomplete_message").len(), 2);

    // The same ended by FIN from both sides.
    let f = t.fin();
    cap.put(&t, &f);
    let lines = run("incomplete_fin", &cap, &e, &[]);
    assert_eq!(kinds(&lines, "incomplete_message").len(), 2);
    let end = lines.iter().find(|l| l["event"] == "end").expect("end");
    assert_eq!(end["how"], "fin", "{end}");
}
