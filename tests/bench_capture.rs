//! The benchmark generator (`examples/gen_pcap`) and the engine agree: every message of a
//! generated capture comes out of the engine with the exact payload, in order, per stream
//! (the digest `check_jsonl.py` checks). Also runs the generator's own unit tests.

use std::collections::HashMap;

#[allow(dead_code, unused_imports)]
#[path = "../examples/gen_pcap/wsgen/mod.rs"]
mod wsgen;

use wsgen::summary::{StreamHash, combine};
use wsgen::{Config, Generator};
use wsnoop::capture::CaptureReader;
use wsnoop::{Engine, EventKind, Limits};

/// Decodes `capture` and returns (messages, digest) as `check_jsonl.py` computes them.
fn decode_digest(capture: &[u8]) -> (u64, String) {
    let limits = Limits::default();
    let mut reader = CaptureReader::new(capture, &limits).unwrap();
    let mut engine = Engine::new(limits.clone());
    let mut events = Vec::new();
    while let Some(pkt) = reader.next_packet().unwrap() {
        engine.packet(&pkt, &mut events);
    }
    engine.finish(&mut events);
    let mut streams: HashMap<String, StreamHash> = HashMap::new();
    let mut n = 0;
    for ev in &events {
        match &ev.kind {
            EventKind::Message { dir, msg } => {
                let c = ev.conn.unwrap();
                let key = format!("{}|{}|{}", c.client, c.server, dir.as_str());
                streams
                    .entry(key)
                    .or_default()
                    .add(msg.opcode.as_u8(), &msg.payload);
                n += 1;
            }
            EventKind::Anomaly { anomaly, .. } => panic!("unexpected anomaly {anomaly:?}"),
            _ => {}
        }
    }
    let lines = streams
        .into_iter()
        .filter_map(|(k, h)| Some((k, h.hex()?)))
        .collect();
    (n, combine(lines))
}

fn roundtrip(cfg: Config) {
    let what = format!("{cfg:?}");
    let (capture, summary) = Generator::new(cfg, Vec::new(), None)
        .unwrap()
        .run()
        .unwrap();
    assert_eq!(summary.int("file_bytes"), capture.len() as u64);
    let (n, digest) = decode_digest(&capture);
    assert_eq!(n, summary.int("messages_total"), "{what}");
    assert_eq!(digest, summary.str("digest"), "{what}");
}

#[test]
fn mixed_sizes_decode_exactly() {
    roundtrip(Config {
        size_mb: 3.0,
        conns: 4,
        frag_pct: 30.0,
        ..Config::default()
    });
}

#[test]
fn permessage_deflate_decodes_exactly() {
    roundtrip(Config {
        size_mb: 1.0,
        conns: 3,
        deflate: true,
        frag_pct: 30.0,
        mix: "80,20,0".into(),
        ..Config::default()
    });
}

#[test]
fn tiny_messages_decode_exactly() {
    roundtrip(Config {
        size_mb: 0.5,
        conns: 5,
        seed: 7,
        mix: "100,0,0".into(),
        ..Config::default()
    });
}

#[test]
fn same_seed_same_bytes() {
    let cfg = Config {
        size_mb: 0.25,
        conns: 2,
        deflate: true,
        ..Config::default()
    };
    let a = Generator::new(cfg.clone(), Vec::new(), None)
        .unwrap()
        .run()
        .unwrap()
        .0;
    let b = Generator::new(cfg.clone(), Vec::new(), None)
        .unwrap()
        .run()
        .unwrap()
        .0;
    assert_eq!(a, b);
    let c = Generator::new(Config { seed: 2, ..cfg }, Vec::new(), None)
        .unwrap()
        .run()
        .unwrap()
        .0;
    assert_ne!(a, c);
}
