//! Every wss:// capture of `captures/tls/` decodes through the engine exactly to its ground
//! truth, given the client's key log (or the secrets the pcapng carries in a Decryption
//! Secrets Block), with `tls_no_keys` where a connection's secrets are missing and no other
//! anomaly.

mod common;

use std::fs::File;
use std::io::BufReader;

use wsnoop::capture::CaptureReader;
use wsnoop::sink::{JsonSink, Sink};
use wsnoop::{Engine, Limits};

/// The capture's JSON lines, decoded by one engine given `keys` (key log text) up front and
/// the capture's own secrets as they come.
fn decode(rel: &str, keys: Option<&[u8]>) -> Vec<serde_json::Value> {
    let path = common::captures_dir().join(rel);
    let limits = Limits::default();
    let file = BufReader::new(File::open(&path).expect("capture"));
    let mut reader = CaptureReader::new(file, &limits).expect("capture header");
    let mut engine = Engine::new(limits);
    if let Some(keys) = keys {
        assert!(
            engine.add_keys(keys, 1).is_empty(),
            "{rel}: key log lines rejected"
        );
    }
    let mut sink = JsonSink::in_memory();
    let mut events = Vec::new();
    loop {
        let more = match reader.next_packet().expect("capture record") {
            Some(pkt) => {
                engine.packet(&pkt, &mut events);
                true
            }
            None => false,
        };
        for secrets in reader.take_secrets() {
            assert!(engine.add_keys(&secrets, 1).is_empty());
        }
        if !more {
            break;
        }
        for ev in events.drain(..) {
            sink.event(&ev).expect("write");
        }
    }
    engine.finish(&mut events);
    for ev in events.drain(..) {
        sink.event(&ev).expect("write");
    }
    common::parse_lines(&sink.into_inner())
}

fn assert_tls_capture(name: &str, ext: &str, with_keys: bool) {
    let dir = common::captures_dir().join("tls");
    let keys = with_keys.then(|| std::fs::read(dir.join(format!("{name}.keys"))).expect("keys"));
    let actual = decode(&format!("tls/{name}.{ext}"), keys.as_deref());
    let expected = common::parse_lines(
        &std::fs::read(dir.join(format!("{name}.expected.jsonl"))).expect("expected"),
    );
    let problems = common::check(&expected, &actual);
    assert!(
        problems.is_empty(),
        "{name}: {} problem(s):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

#[test]
fn chromium_tls13_with_preconnects_and_resumption() {
    assert_tls_capture("wss_chromium_tls13", "pcap", true);
}

#[test]
fn tls12_aes128gcm() {
    assert_tls_capture("wss_tls12_aes128gcm", "pcap", true);
}

#[test]
fn tls13_aes128gcm() {
    assert_tls_capture("wss_tls13_aes128gcm", "pcap", true);
}

#[test]
fn tls13_aes256gcm() {
    assert_tls_capture("wss_tls13_aes256gcm", "pcap", true);
}

#[test]
fn tls13_chacha20() {
    assert_tls_capture("wss_tls13_chacha20", "pcap", true);
}

#[test]
fn tls13_keys_in_pcapng() {
    assert_tls_capture("wss_tls13_keys_in_pcapng", "pcapng", false);
}

#[test]
fn tls13_resumption() {
    assert_tls_capture("wss_tls13_resumption", "pcap", true);
}

#[test]
fn tls_missing_keys() {
    assert_tls_capture("wss_tls_missing_keys", "pcap", true);
}
