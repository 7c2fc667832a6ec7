//! One memory budget for all connections (`--memcap`, issue 16): hundreds of connections each
//! hold a partial message just under the per-message limit, plain and compressed. Without the
//! budget they would hold far more than it; with it the child's peak RSS stays under the
//! budget plus the fixed overhead stated in the README, the connections that were cut say so
//! (`memcap`), every connection keeps decoding after it, and a normal connection in the same
//! capture decodes exactly.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::flood::measure;
use common::forge::*;
use serde_json::Value;

const CONNS: usize = 160;
/// Each connection's partial message: just under `MAX_MESSAGE`.
const HELD: usize = 500 << 10;
const MAX_MESSAGE: &str = "512K";
const MEMCAP: u64 = 24 << 20;
const MEMCAP_FLAG: &str = "24M";
/// Fixed overhead stated in the README ("Limits"): the binary, the allocator, read and
/// output buffers, and per connection state that cannot be shed (an inflater's window).
const OVERHEAD: u64 = 40 << 20;

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("memcap");
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir.join(name)
}

fn flood_conn(i: usize) -> Tcp {
    let client = format!("10.5.{}.{}:{}", i / 200, i % 200 + 1, 40000 + i);
    Tcp::new(&client, "10.5.255.1:8080", [1000, 2000])
}

/// Every flood connection starts a server text message of `HELD` bytes (inflated) that it
/// finishes only after all the others have started theirs, then sends one short message;
/// a normal connection talks in between.
fn capture(compressed: bool) -> (Vec<u8>, Expect, Vec<u8>) {
    let mut cap = Cap::new(Link::Ethernet);
    let ext = compressed.then_some("permessage-deflate; server_no_context_takeover");
    let mut normal = Tcp::new("10.6.0.1:50000", "10.6.0.2:8080", [7, 9]);
    open(&mut cap, &mut normal, None);
    let mut e = Expect::default();
    let mut conns: Vec<Tcp> = (0..CONNS).map(flood_conn).collect();
    for t in &mut conns {
        open(&mut cap, t, ext);
    }
    let body: Vec<u8> = b"memcap filler line 0123456789\n"
        .iter()
        .copied()
        .cycle()
        .take(HELD)
        .collect();
    let tail = b"end of the long one".to_vec();
    let (first, last) = if compressed {
        // One DEFLATE stream over both fragments (RFC 7692 §6.1: the message is compressed,
        // then fragmented).
        let mut whole = body.clone();
        whole.extend_from_slice(&tail);
        let z = Deflater::default().message(&whole);
        let cut = z.len() - 8;
        (frame(1, 0x41, &z[..cut]), frame(1, 0x80, &z[cut..]))
    } else {
        (frame(1, 0x01, &body), frame(1, 0x80, &tail))
    };
    for (i, t) in conns.iter_mut().enumerate() {
        send(&mut cap, t, 1, &first);
        if i % 16 == 0 {
            let s = format!("normal {i}");
            send(&mut cap, &mut normal, 1, &text(1, &s));
            e.text(&normal, 1, &s);
        }
    }
    for (i, t) in conns.iter_mut().enumerate() {
        send(&mut cap, t, 1, &last);
        send(&mut cap, t, 1, &text(1, &format!("after {i}")));
        let f = t.fin();
        cap.put(t, &f);
    }
    let f = normal.fin();
    cap.put(&normal, &f);
    let mut whole = body;
    whole.extend_from_slice(&tail);
    (cap.pcap(), e, whole)
}

fn payload(line: &Value) -> Vec<u8> {
    line["text"]
        .as_str()
        .unwrap_or_default()
        .as_bytes()
        .to_vec()
}

/// Runs one capture; returns the peak RSS and how many connections were cut.
fn run(name: &str, compressed: bool, flags: &[&str]) -> (u64, usize) {
    let (bytes, expect, whole) = capture(compressed);
    let path = tmp(&format!("{name}.pcap"));
    std::fs::write(&path, &bytes).expect("write capture");
    let mut all = vec!["--max-message-bytes", MAX_MESSAGE];
    all.extend_from_slice(flags);
    let m = measure(&path, &all);
    assert_eq!(m.exit, 0, "{name}: exit status");
    let normal = Tcp::new("10.6.0.1:50000", "10.6.0.2:8080", [7, 9]);
    let normal_client = normal.client.to_string();
    // The normal connection: exactly its messages.
    let normal_lines: Vec<Value> = m
        .lines
        .iter()
        .filter(|l| l["client"] == normal_client.as_str() && l["event"] == "message")
        .cloned()
        .collect();
    let problems = common::check(&expect.0, &normal_lines);
    assert!(problems.is_empty(), "{name}: {}", problems.join("\n  "));
    // Each flood connection: its long message whole, or a `memcap` anomaly instead; then
    // its short message, whatever happened before.
    let mut per_conn: BTreeMap<String, (Vec<Vec<u8>>, usize)> = BTreeMap::new();
    for l in &m.lines {
        let Some(client) = l["client"].as_str().filter(|c| c.starts_with("10.5.")) else {
            continue;
        };
        let entry = per_conn.entry(client.to_owned()).or_default();
        match l["event"].as_str() {
            Some("message") => entry.0.push(payload(l)),
            Some("anomaly") if l["kind"] == "memcap" => entry.1 += 1,
            _ => {}
        }
    }
    assert_eq!(per_conn.len(), CONNS, "{name}: flood connections seen");
    let mut cut = 0;
    for (i, t) in (0..CONNS).map(|i| (i, flood_conn(i))) {
        let (msgs, memcaps) = &per_conn[&t.client.to_string()];
        let after = format!("after {i}").into_bytes();
        if *memcaps > 0 {
            cut += 1;
            assert_eq!(msgs, &vec![after], "{name}: conn {i} after its cut");
        } else {
            assert_eq!(msgs, &vec![whole.clone(), after], "{name}: conn {i} uncut");
        }
    }
    println!(
        "{name}: input {:.1} MB, peak RSS {:.1} MB, {} of {CONNS} connections cut",
        bytes.len() as f64 / 1e6,
        m.max_rss as f64 / 1e6,
        cut
    );
    let _ = std::fs::remove_file(&path);
    (m.max_rss, cut)
}

#[test]
fn partial_messages_stay_within_the_memcap() {
    let flag = ["--memcap", MEMCAP_FLAG];
    let (plain, cut) = run("plain", false, &flag);
    assert!(cut > CONNS / 2, "plain: only {cut} connections cut");
    assert!(plain < MEMCAP + OVERHEAD, "plain: peak RSS {plain}");
    let (deflate, cut) = run("deflate", true, &flag);
    assert!(cut > CONNS / 2, "deflate: only {cut} connections cut");
    assert!(deflate < MEMCAP + OVERHEAD, "deflate: peak RSS {deflate}");
    // The same capture under the default budget holds every message whole: what the budget
    // saved is real.
    let (uncapped, cut) = run("uncapped", false, &[]);
    assert_eq!(cut, 0);
    assert!(
        uncapped > (CONNS * HELD) as u64,
        "uncapped: peak RSS {uncapped}"
    );
}
