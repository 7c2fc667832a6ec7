//! Resource ceilings at scale (issue 7): floods generated here into the target's temp dir.
//! In each: the child's peak RSS stays under `CEILING` at the default limits, time grows
//! linearly with the input (checked against a run a quarter of the size), the affected
//! connection gets its anomaly, and a normal connection in the same capture decodes exactly.
//! The full-size runs are `#[ignore]`d (minutes in a debug build): run them with
//! `cargo test --release --test scale -- --ignored --nocapture`.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::flood::*;
use common::forge::*;

/// Documented ceiling (README "Limits") for the default limits.
const CEILING: u64 = 256 << 20;

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("scale");
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir.join(name)
}

/// A normal WebSocket connection: its packets (Ethernet) and ground truth. `k` messages
/// each way.
fn normal(k: usize) -> (Vec<Vec<u8>>, Expect) {
    let mut e = Expect::default();
    let mut t = Tcp::new("10.9.0.1:50000", "10.9.0.2:8080", [100, 200]);
    let (req, resp) = upgrade(None);
    let mut segs = t.syn();
    segs.push(t.seg(0, "PA", &req));
    segs.push(t.seg(1, "PA", &resp));
    for i in 0..k {
        let c = format!("normal client {i}");
        segs.push(t.seg(0, "PA", &text(0, &c)));
        e.text(&t, 0, &c);
        let s = format!("normal server {i} {}", "z".repeat(i % 300));
        segs.push(t.seg(1, "PA", &text(1, &s)));
        e.text(&t, 1, &s);
    }
    segs.extend(t.fin());
    let packets = segs
        .iter()
        .map(|s| Link::Ethernet.wrap(&t.ip_packet(s)))
        .collect();
    (packets, e)
}

/// Writes `records` (already pcap records) with the normal connection's packets spread
/// evenly among `n_flood` flood records; `flood(i, out)` appends flood record `i`.
fn interleave(n_flood: usize, mut flood: impl FnMut(usize, &mut Vec<u8>)) -> (Vec<u8>, Expect) {
    let (normal, e) = normal(40);
    let mut out = jumbo_pcap_header();
    let every = (n_flood / normal.len()).max(1);
    let mut next = normal.iter();
    for i in 0..n_flood {
        if i.is_multiple_of(every)
            && let Some(p) = next.next()
        {
            pcap_record(&mut out, i as u64, p);
        }
        flood(i, &mut out);
    }
    for p in next {
        pcap_record(&mut out, n_flood as u64, p);
    }
    (out, e)
}

struct Outcome {
    m: Measured,
    input: usize,
}

fn run(name: &str, bytes: &[u8], e: &Expect, flags: &[&str], anomaly: &str) -> Outcome {
    let path = tmp(&format!("{name}.pcap"));
    std::fs::write(&path, bytes).expect("write capture");
    let m = measure(&path, flags);
    let problems = common::check(&e.0, &m.lines);
    assert!(problems.is_empty(), "{name}: {}", problems.join("\n  "));
    // Kept for a look when the check fails.
    let _ = std::fs::remove_file(&path);
    let n = m.lines.iter().filter(|l| l["kind"] == anomaly).count();
    assert!(n > 0, "{name}: no {anomaly}");
    println!(
        "{name}: input {:.1} MB, peak RSS {:.1} MB, {:.2} s, {} lines, {n} x {anomaly}",
        bytes.len() as f64 / 1e6,
        m.max_rss as f64 / 1e6,
        m.elapsed.as_secs_f64(),
        m.lines.len()
    );
    assert!(
        m.max_rss < CEILING,
        "{name}: peak RSS {} over the ceiling",
        m.max_rss
    );
    assert_eq!(m.exit, 0, "{name}: exit status");
    Outcome {
        m,
        input: bytes.len(),
    }
}

/// Time at most proportional to input (with generous slack for noise and start-up).
fn linear(small: &Outcome, big: &Outcome) {
    let ratio = big.input as f64 / small.input as f64;
    let bound = small.m.elapsed.mul_f64(ratio * 3.0) + Duration::from_secs(2);
    assert!(
        big.m.elapsed <= bound,
        "not linear: {:?} for {} bytes vs {:?} for {} bytes",
        big.m.elapsed,
        big.input,
        small.m.elapsed,
        small.input
    );
}

// ---------------------------------------------------------------------------------------
// permessage-deflate bomb

/// 1 MiB of zeros compressed from scratch, `copies` times over. Each copy is
/// self-contained (it starts with a literal and ends with its sync-flush empty stored block),
/// so the concatenation is one valid DEFLATE stream inflating to `copies` MiB; the last
/// copy's 00 00 ff ff is removed as RFC 7692 §7.2.1 says.
fn bomb_payload(copies: usize) -> Vec<u8> {
    let mut one = Deflater::default().message(&vec![0u8; 1 << 20]);
    one.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let mut all = one.repeat(copies);
    all.truncate(all.len() - 4);
    all
}

fn bomb(copies: usize) -> (Vec<u8>, Expect) {
    let ext = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
    let mut t = Tcp::new("10.8.0.1:40000", "10.8.0.2:8443", [1, 1]);
    let (req, resp) = upgrade(Some(ext));
    let mut segs = t.syn();
    segs.push(t.seg(0, "PA", &req));
    segs.push(t.seg(1, "PA", &resp));
    let f = frame(1, 0xc2, &bomb_payload(copies));
    segs.extend(t.segs(1, &f, 1400));
    let mut e = Expect::default();
    e.error(Some(&t), Some(1), "decompression_limit");
    let next = "after the bomb";
    segs.push(t.seg(
        1,
        "PA",
        &frame(1, 0xc1, &Deflater::default().message(next.as_bytes())),
    ));
    e.text(&t, 1, next);
    let flood: Vec<Vec<u8>> = segs
        .iter()
        .map(|s| Link::Ethernet.wrap(&t.ip_packet(s)))
        .collect();
    let (bytes, mut e2) = interleave(flood.len(), |i, out| {
        pcap_record(out, i as u64, &flood[i]);
    });
    e2.0.extend(e.0);
    (bytes, e2)
}

#[test]
fn deflate_bomb_small() {
    let (b, e) = bomb(64);
    let small = run("bomb_64m", &b, &e, &[], "decompression_limit");
    let (b, e) = bomb(256);
    let big = run("bomb_256m", &b, &e, &[], "decompression_limit");
    linear(&small, &big);
}

#[test]
#[ignore = "1 GiB bomb: run with --release"]
fn deflate_bomb_1gib() {
    let (b, e) = bomb(1024);
    run("bomb_1g", &b, &e, &[], "decompression_limit");
}

// ---------------------------------------------------------------------------------------
// a frame declaring 2^62 bytes

fn huge_frame(follow: usize) -> (Vec<u8>, Expect) {
    let mut t = Tcp::new("10.8.1.1:40001", "10.8.1.2:8443", [1, 1]);
    let (req, resp) = upgrade(None);
    let mut segs = t.syn();
    segs.push(t.seg(0, "PA", &req));
    segs.push(t.seg(1, "PA", &resp));
    let mut f = header(0x82, Some(MASK), 1 << 62, LenForm::Ext64);
    f.extend(std::iter::repeat_n(0xa5, follow));
    segs.extend(t.segs(0, &f, 1400));
    let mut e = Expect::default();
    e.error(Some(&t), Some(0), "message_too_large");
    let flood: Vec<Vec<u8>> = segs
        .iter()
        .map(|s| Link::Ethernet.wrap(&t.ip_packet(s)))
        .collect();
    let (bytes, mut e2) = interleave(flood.len(), |i, out| {
        pcap_record(out, i as u64, &flood[i]);
    });
    e2.0.extend(e.0);
    (bytes, e2)
}

#[test]
fn frame_declaring_2_pow_62_bytes() {
    let (b, e) = huge_frame(5 << 20);
    let small = run("huge_5m", &b, &e, &[], "message_too_large");
    let (b, e) = huge_frame(20 << 20);
    let big = run("huge_20m", &b, &e, &[], "message_too_large");
    linear(&small, &big);
}

// ---------------------------------------------------------------------------------------
// out-of-order segments that never fill their hole

/// A WebSocket connection whose client then sends `n` 16-byte segments, each one segment
/// past a hole (every other segment is lost).
fn ooo_flood(n: usize) -> (Vec<u8>, Expect) {
    let mut t = Tcp::new("10.8.2.1:40002", "10.8.2.2:8443", [1000, 1]);
    let (req, resp) = upgrade(None);
    let mut segs = t.syn();
    segs.push(t.seg(0, "PA", &req));
    segs.push(t.seg(1, "PA", &resp));
    let head: Vec<Vec<u8>> = segs
        .iter()
        .map(|s| Link::Ethernet.wrap(&t.ip_packet(s)))
        .collect();
    let base = t.next[0];
    let mut e = Expect::default();
    e.error(Some(&t), Some(0), "tcp_gap");
    let payload = [0x5au8; 16];
    let (c, s) = (([10, 8, 2, 1], 40002), ([10, 8, 2, 2], 8443));
    let (bytes, mut e2) = interleave(head.len() + n, |i, out| {
        if let Some(p) = head.get(i) {
            pcap_record(out, i as u64, p);
        } else {
            let k = (i - head.len()) as u32;
            let seq = base.wrapping_add(16 * (2 * k + 1));
            tcp4_record(out, i as u64, c, s, seq, 2, PSH_ACK, &payload);
        }
    });
    e2.0.extend(e.0);
    (bytes, e2)
}

#[test]
fn out_of_order_flood_small() {
    let (b, e) = ooo_flood(50_000);
    let small = run("ooo_50k", &b, &e, &[], "tcp_gap");
    let (b, e) = ooo_flood(200_000);
    let big = run("ooo_200k", &b, &e, &[], "tcp_gap");
    linear(&small, &big);
}

#[test]
#[ignore = "a million segments: run with --release"]
fn out_of_order_flood_1m() {
    let (b, e) = ooo_flood(1_000_000);
    run("ooo_1m", &b, &e, &[], "tcp_gap");
}

// ---------------------------------------------------------------------------------------
// SYN-only connections

fn syn_flood(n: usize) -> (Vec<u8>, Expect) {
    interleave(n, |i, out| {
        let i = i as u32;
        let src = [172, 16 + (i >> 24) as u8, (i >> 16) as u8, (i >> 8) as u8];
        tcp4_record(
            out,
            u64::from(i),
            (src, 1024 + (i & 0xff) as u16),
            ([10, 9, 0, 2], 8080),
            i.wrapping_mul(2_654_435_761),
            0,
            SYN,
            &[],
        );
    })
}

#[test]
fn syn_flood_small() {
    let (b, e) = syn_flood(50_000);
    let small = run_plain(
        "syn_50k",
        &b,
        &e,
        &["--max-connections", "10000", "--threads", "1"],
    );
    let (b, e) = syn_flood(200_000);
    let big = run_plain(
        "syn_200k",
        &b,
        &e,
        &["--max-connections", "10000", "--threads", "1"],
    );
    linear(&small, &big);
}

#[test]
#[ignore = "a million SYNs at the default connection limit: run with --release"]
fn syn_flood_1m() {
    let (b, e) = syn_flood(1_000_000);
    run_plain("syn_1m", &b, &e, &[]);
}

/// SYN-only connections never become WebSocket, so they have no anomaly of their own:
/// evicted silently. Checks messages, memory and exit status.
fn run_plain(name: &str, bytes: &[u8], e: &Expect, flags: &[&str]) -> Outcome {
    let path = tmp(&format!("{name}.pcap"));
    std::fs::write(&path, bytes).expect("write capture");
    let m = measure(&path, flags);
    let problems = common::check(&e.0, &m.lines);
    assert!(problems.is_empty(), "{name}: {}", problems.join("\n  "));
    // Kept for a look when the check fails.
    let _ = std::fs::remove_file(&path);
    println!(
        "{name}: input {:.1} MB, peak RSS {:.1} MB, {:.2} s, {} lines",
        bytes.len() as f64 / 1e6,
        m.max_rss as f64 / 1e6,
        m.elapsed.as_secs_f64(),
        m.lines.len()
    );
    assert!(m.max_rss < CEILING, "{name}: peak RSS {}", m.max_rss);
    assert_eq!(m.exit, 0);
    Outcome {
        m,
        input: bytes.len(),
    }
}

// ---------------------------------------------------------------------------------------
// tiny IP fragments

/// `n` 8-byte first fragments of distinct datagrams that never complete.
fn frag_flood(n: usize) -> (Vec<u8>, Expect) {
    let (bytes, mut e) = interleave(n, |i, out| {
        let i = i as u32;
        let src = [172, 20, (i >> 8) as u8, i as u8];
        fragment_record(
            out,
            u64::from(i),
            src,
            [10, 9, 0, 2],
            (i >> 16) as u16,
            0,
            true,
            &[0x11; 8],
        );
    });
    e.error(None, None, "ip_fragment_limit");
    (bytes, e)
}

#[test]
fn tiny_fragment_flood_small() {
    let (b, e) = frag_flood(20_000);
    let small = run("frag_20k", &b, &e, &[], "ip_fragment_limit");
    let (b, e) = frag_flood(80_000);
    let big = run("frag_80k", &b, &e, &[], "ip_fragment_limit");
    linear(&small, &big);
}

#[test]
#[ignore = "a million fragments: run with --release"]
fn tiny_fragment_flood_1m() {
    let (b, e) = frag_flood(1_000_000);
    run("frag_1m", &b, &e, &[], "ip_fragment_limit");
}

// ---------------------------------------------------------------------------------------
// many frames in one segment

/// `n` 1-byte server binary frames in one jumbo TCP segment (IPv4 total length 0, as
/// offload leaves it), all expected exactly.
fn frames_in_one_segment(n: usize) -> (Vec<u8>, Expect) {
    let mut t = Tcp::new("10.8.3.1:40003", "10.8.3.2:8443", [1000, 5000]);
    let (req, resp) = upgrade(None);
    let mut segs = t.syn();
    segs.push(t.seg(0, "PA", &req));
    segs.push(t.seg(1, "PA", &resp));
    let mut e = Expect::default();
    let mut big = Vec::with_capacity(3 * n);
    for i in 0..n {
        let b = [(i % 251) as u8];
        big.extend_from_slice(&[0x82, 0x01, b[0]]);
        e.msg(&t, 1, "binary", &b);
    }
    let seq = t.next[1];
    let ack = t.next[0];
    let head: Vec<Vec<u8>> = segs
        .iter()
        .map(|s| Link::Ethernet.wrap(&t.ip_packet(s)))
        .collect();
    let mut out = jumbo_pcap_header();
    for (i, p) in head.iter().enumerate() {
        pcap_record(&mut out, i as u64, p);
    }
    tcp4_record(
        &mut out,
        100,
        ([10, 8, 3, 2], 8443),
        ([10, 8, 3, 1], 40003),
        seq,
        ack,
        PSH_ACK,
        &big,
    );
    let (normal, ne) = normal(40);
    for p in &normal {
        pcap_record(&mut out, 200, p);
    }
    e.0.extend(ne.0);
    (out, e)
}

#[test]
fn frames_in_one_segment_100k() {
    let (b, e) = frames_in_one_segment(25_000);
    let small = run_plain("frames_25k", &b, &e, &[]);
    let (b, e) = frames_in_one_segment(100_000);
    let big = run_plain("frames_100k", &b, &e, &[]);
    linear(&small, &big);
}
