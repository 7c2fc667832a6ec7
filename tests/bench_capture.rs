//! The benchmark generator (`examples/gen_pcap`) and the engine agree: every message of a
//! generated capture comes out of the engine with the exact payload, in order, per stream
//! (the digest `check_jsonl.py` checks), also inside TLS 1.3 and TLS 1.2 with the key log the
//! generator writes. Also runs the generator's own unit tests.

use std::collections::HashMap;

#[allow(dead_code, unused_imports)]
#[path = "../examples/gen_pcap/wsgen/mod.rs"]
mod wsgen;

use wsgen::summary::{StreamHash, combine};
use wsgen::tls::Mode;
use wsgen::{Config, Generator};
use wsnoop::capture::CaptureReader;
use wsnoop::{Engine, EventKind, Limits};

/// Decodes `capture` (with the key log `keys`) and returns (messages, digest) as
/// `check_jsonl.py` computes them, and the TLS facts of the opens.
fn decode_digest_tls(capture: &[u8], keys: &str) -> (u64, String, Vec<(String, String)>) {
    let limits = Limits::default();
    let mut reader = CaptureReader::new(capture, &limits).unwrap();
    let mut engine = Engine::new(limits.clone());
    assert!(engine.add_keys(keys.as_bytes(), 1).is_empty());
    let mut events = Vec::new();
    let mut tls = Vec::new();
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
            EventKind::Open(open) => {
                if let Some(t) = &open.tls {
                    let alpn = t.alpn.as_deref().unwrap_or("-");
                    let sni = t.sni.as_deref().unwrap_or("-");
                    tls.push((format!("{} {sni} {alpn}", t.version), t.cipher.clone()));
                }
            }
            _ => {}
        }
    }
    let lines = streams
        .into_iter()
        .filter_map(|(k, h)| Some((k, h.hex()?)))
        .collect();
    (n, combine(lines), tls)
}

fn decode_digest(capture: &[u8]) -> (u64, String) {
    let (n, digest, tls) = decode_digest_tls(capture, "");
    assert!(tls.is_empty());
    (n, digest)
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

/// A TLS capture decodes to the summary's messages with the key log, and to none without.
fn roundtrip_tls(mode: Mode, version: &str, cipher: &str) {
    let cfg = Config {
        size_mb: 2.0,
        conns: 3,
        frag_pct: 30.0,
        tls: Some(mode),
        ..Config::default()
    };
    let (capture, summary, keys) = Generator::new(cfg.clone(), Vec::new(), None)
        .unwrap()
        .run_with_keys()
        .unwrap();
    assert_eq!(keys.lines().count(), if version == "1.3" { 12 } else { 3 });
    let (n, digest, tls) = decode_digest_tls(&capture, &keys);
    assert_eq!(n, summary.int("messages_total"));
    assert_eq!(digest, summary.str("digest"));
    let facts = format!("{version} ws.bench.example http/1.1");
    assert_eq!(tls, vec![(facts, cipher.to_string()); 3]);

    // Without keys: no message, only tls_no_keys anomalies.
    let limits = Limits::default();
    let mut reader = CaptureReader::new(&capture[..], &limits).unwrap();
    let mut engine = Engine::new(limits.clone());
    let mut events = Vec::new();
    while let Some(pkt) = reader.next_packet().unwrap() {
        engine.packet(&pkt, &mut events);
    }
    engine.finish(&mut events);
    let mut no_keys = 0;
    for e in &events {
        match &e.kind {
            EventKind::Message { .. } => panic!("a message decoded without keys"),
            EventKind::Anomaly { anomaly, .. } => {
                assert_eq!(anomaly.kind.as_str(), "tls_no_keys", "{anomaly:?}");
                no_keys += 1;
            }
            _ => {}
        }
    }
    // Each direction of each connection carried data it could not decrypt.
    assert_eq!(no_keys, 2 * 3);
}

#[test]
fn tls13_capture_decodes_exactly() {
    roundtrip_tls(Mode::Tls13Aes128Gcm, "1.3", "TLS_AES_128_GCM_SHA256");
}

#[test]
fn tls12_chacha_capture_decodes_exactly() {
    roundtrip_tls(
        Mode::Tls12Chacha20,
        "1.2",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    );
}
