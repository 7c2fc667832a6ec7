//! Regression captures of issue 16 (`captures/disorder/`): real `websockets` peers over
//! loopback, recorded with tcpdump and put out of order the way taps, SPAN ports and lost
//! first copies do (`captures/disorder/make.py`). Each is checked twice: with the binary, the
//! way `check.py` judges it (one engine and three threads), and through the library, down to
//! every message per direction and the exact anomalies.

mod common;

use std::collections::BTreeMap;

use base64_simd::STANDARD;
use serde_json::Value;
use wsnoop::event::{Dir, EventKind};
use wsnoop::{Engine, Limits};

use common::disorder;

/// (direction, opcode, payload).
type Msg = (String, String, Vec<u8>);

/// The messages in order, as the expected file lists them, and the anomalies it expects.
fn expected(name: &str) -> (Vec<Msg>, Vec<String>) {
    let path = common::captures_dir().join(format!("disorder/{name}.expected.jsonl"));
    let lines = common::parse_lines(&std::fs::read(path).expect("expected.jsonl"));
    let mut msgs = Vec::new();
    let mut errors = Vec::new();
    for l in &lines {
        match l.get("expect_error").and_then(Value::as_str) {
            Some(kind) => errors.push(kind.to_owned()),
            None => msgs.push((
                l["dir"].as_str().expect("dir").to_owned(),
                l["opcode"].as_str().expect("opcode").to_owned(),
                STANDARD
                    .decode_to_vec(l["payload_b64"].as_str().expect("payload"))
                    .expect("base64"),
            )),
        }
    }
    (msgs, errors)
}

/// Decodes `captures/disorder/NAME.pcap` through the engine (default limits): every message
/// and every anomaly, in order, with its direction.
fn decode(name: &str) -> (Vec<Msg>, Vec<(String, String)>) {
    let bytes = std::fs::read(common::captures_dir().join(format!("disorder/{name}.pcap")))
        .expect("capture");
    let mut engine = Engine::new(Limits::default());
    let mut events = Vec::new();
    for (i, s) in disorder::segments(&bytes).iter().enumerate() {
        let seg = wsnoop::packet::TcpSegment {
            src: s.src,
            dst: s.dst,
            seq: s.seq,
            flags: s.flags,
            payload: &s.payload,
            missing: s.missing,
        };
        engine.segment(i as u64, s.ts, &seg, &mut events);
    }
    engine.finish(&mut events);
    let dir = |d: Dir| if d == Dir::C2s { "c2s" } else { "s2c" }.to_owned();
    let mut msgs = Vec::new();
    let mut anomalies = Vec::new();
    let mut opens = 0;
    for ev in events {
        match ev.kind {
            EventKind::Open(_) => opens += 1,
            EventKind::Message { dir: d, msg } => {
                msgs.push((dir(d), msg.opcode.as_str().to_owned(), msg.payload))
            }
            EventKind::Anomaly { dir: d, anomaly } => anomalies.push((
                d.map_or("conn".to_owned(), dir),
                anomaly.kind.as_str().to_owned(),
            )),
            EventKind::End { .. }
            | EventKind::Proto(_)
            | EventKind::Silence { .. }
            | EventKind::Refused(_) => {}
        }
    }
    assert_eq!(opens, 1, "{name}: one WebSocket connection");
    (msgs, anomalies)
}

/// Per direction, in order.
fn by_dir(msgs: &[Msg]) -> BTreeMap<String, Vec<(String, Vec<u8>)>> {
    let mut out: BTreeMap<String, Vec<(String, Vec<u8>)>> = BTreeMap::new();
    for (d, op, p) in msgs {
        out.entry(d.clone())
            .or_default()
            .push((op.clone(), p.clone()));
    }
    out
}

/// The capture decodes to exactly its expected messages and exactly `anomalies`.
fn exact(name: &str, anomalies: &[(&str, &str)]) {
    common::assert_capture(&format!("disorder/{name}.pcap"));
    let (want, errors) = expected(name);
    let (got, got_anomalies) = decode(name);
    assert_eq!(by_dir(&got), by_dir(&want), "{name}: messages");
    let anomalies: Vec<(String, String)> = anomalies
        .iter()
        .map(|(d, k)| ((*d).to_owned(), (*k).to_owned()))
        .collect();
    assert_eq!(got_anomalies, anomalies, "{name}: anomalies");
    for e in errors {
        assert!(
            anomalies.iter().any(|(_, k)| *k == e),
            "{name}: {e} expected"
        );
    }
}

/// The request's first copy was not captured; its retransmission comes after the 101, after
/// server answers and after client frames. Before: no WebSocket recognised, nothing printed.
#[test]
fn request_retransmitted_after_its_101() {
    exact("late_request", &[]);
}

/// Two taps merged with mergecap, the server's 50 ms early: its SYN-ACK, 101 and first pushes
/// come before the client's SYN and request. Before: nothing printed.
#[test]
fn two_taps_merged_server_tap_early() {
    exact("two_taps", &[]);
}

/// 1-7 byte segments shuffled across both directions with duplicates, the request's first
/// piece retransmitted after the 101's third. Before: nothing printed.
#[test]
fn tiny_shuffled_segments_with_duplicates() {
    exact("tiny_shuffled", &[]);
}

/// Plain GETs answered on a keep-alive connection, then an upgrade, every response seen
/// before its request. Before: nothing printed.
#[test]
fn keep_alive_responses_before_their_requests() {
    exact("keepalive_first", &[]);
}

/// permessage-deflate with context takeover, a hole in a compressed server message: the
/// messages that copy lost history are reported one by one and never printed; those that do
/// not (fresh text, fresh binary, a large message that rebuilds the window, what follows it)
/// are printed exactly.
#[test]
fn compressed_hole_never_prints_bytes_from_lost_history() {
    exact(
        "deflate_hole",
        &[
            ("s2c", "tcp_gap"),
            ("s2c", "incomplete_message"),
            ("s2c", "deflate_context_lost"),
            ("s2c", "deflate_context_lost"),
        ],
    );
}
