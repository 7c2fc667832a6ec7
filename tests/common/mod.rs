//! Shared test helpers: run the real binary and compare its JSON lines with a capture's
//! ground truth, with the semantics of the corpus's `check.py`.
#![allow(dead_code)]

pub mod disorder;
pub mod disorder_saved;
pub mod flood;
pub mod forge;
pub mod peers;
pub mod protorun;
pub mod scenarios;
pub mod synth;
pub mod timed;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub fn captures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("captures")
}

/// Runs `wsnoop read FILE --json` plus `extra` arguments.
pub fn wsnoop_read(file: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wsnoop"))
        .arg("read")
        .arg(file)
        .arg("--json")
        .args(extra)
        .output()
        .expect("run wsnoop")
}

pub fn parse_lines(bytes: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(bytes).expect("output is UTF-8");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {e}: {l}")))
        .collect()
}

/// Client, server, HTTP/2 stream (or "null"), direction.
type Key = (String, String, String, String);
type Msg = (String, Vec<u8>);

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

/// The payload of an output message line, as check.py reads it.
pub fn payload_of(m: &Value) -> Vec<u8> {
    if let Some(b) = m.get("data_b64").and_then(Value::as_str) {
        return base64_simd::STANDARD
            .decode_to_vec(b)
            .expect("data_b64 is base64");
    }
    if let Some(t) = m.get("text").and_then(Value::as_str) {
        return t.as_bytes().to_vec();
    }
    if let (Some("close"), Some(code)) = (
        m.get("opcode").and_then(Value::as_str),
        m.get("close_code").and_then(Value::as_u64),
    ) {
        let mut p = u16::try_from(code)
            .expect("u16 code")
            .to_be_bytes()
            .to_vec();
        if let Some(r) = m.get("close_reason").and_then(Value::as_str) {
            p.extend_from_slice(r.as_bytes());
        }
        return p;
    }
    Vec::new()
}

/// Compares actual JSON lines with an expected.jsonl; returns the list of problems (empty =
/// PASS), as check.py would judge it.
pub fn check(expected: &[Value], actual: &[Value]) -> Vec<String> {
    let mut want: BTreeMap<Key, Vec<Msg>> = BTreeMap::new();
    let mut want_errors = Vec::new();
    let mut allowed = Vec::new();
    for e in expected {
        if e.get("expect_error").is_some() {
            want_errors.push(e.clone());
            continue;
        }
        if e.get("allow_error").is_some() {
            allowed.push(e.clone());
            continue;
        }
        let key = (
            s(&e["client"]),
            s(&e["server"]),
            s(&e["stream"]),
            s(&e["dir"]),
        );
        let payload = base64_simd::STANDARD
            .decode_to_vec(e["payload_b64"].as_str().expect("payload_b64"))
            .expect("base64");
        want.entry(key)
            .or_default()
            .push((s(&e["opcode"]), payload));
    }
    let mut got: BTreeMap<Key, Vec<Msg>> = BTreeMap::new();
    let mut anomalies = Vec::new();
    for a in actual {
        match a.get("event").and_then(Value::as_str) {
            Some("message") => {
                let key = (
                    s(&a["client"]),
                    s(&a["server"]),
                    s(&a["stream"]),
                    s(&a["dir"]),
                );
                got.entry(key)
                    .or_default()
                    .push((s(&a["opcode"]), payload_of(a)));
            }
            Some("anomaly") => anomalies.push(a.clone()),
            _ => {}
        }
    }
    let mut problems = Vec::new();
    let keys: std::collections::BTreeSet<&Key> = want.keys().chain(got.keys()).collect();
    for key in keys {
        let w = want.get(key).map(Vec::as_slice).unwrap_or_default();
        let g = got.get(key).map(Vec::as_slice).unwrap_or_default();
        if w != g {
            let first = w.iter().zip(g).position(|(a, b)| a != b);
            problems.push(format!(
                "{} -> {} stream {} {}: expected {} messages, got {}; first difference at #{:?}{}",
                key.0,
                key.1,
                key.2,
                key.3,
                w.len(),
                g.len(),
                first,
                first
                    .and_then(|i| Some((w.get(i)?, g.get(i)?)))
                    .map(|(a, b)| format!(
                        " (expected {} {} bytes, got {} {} bytes)",
                        a.0,
                        a.1.len(),
                        b.0,
                        b.1.len()
                    ))
                    .unwrap_or_default()
            ));
        }
    }
    for e in &want_errors {
        let matches = |a: &Value| {
            a["kind"] == e["expect_error"]
                && (e["client"].is_null() || a["client"] == e["client"])
                && (e["server"].is_null() || a["server"] == e["server"])
                && (e["dir"].is_null() || a["dir"].is_null() || a["dir"] == e["dir"])
        };
        if !anomalies.iter().any(matches) {
            problems.push(format!("missing anomaly {e}"));
        }
    }
    // An "allow_error" line names an anomaly that may be reported for a connection, or not.
    let permitted = |a: &Value| {
        allowed.iter().any(|e| {
            a["kind"] == e["allow_error"]
                && (e["client"].is_null() || a["client"] == e["client"])
                && (e["server"].is_null() || a["server"] == e["server"])
        })
    };
    if want_errors.is_empty() {
        for a in anomalies.iter().filter(|a| !permitted(a)) {
            problems.push(format!("anomaly on a clean capture: {a}"));
        }
    }
    problems
}

/// Decodes `captures/REL` with the binary and checks it against its expected.jsonl.
pub fn assert_capture(rel: &str) {
    let path = captures_dir().join(rel);
    let stem = rel.rsplit_once('.').map_or(rel, |(s, _)| s);
    let expected_path = captures_dir().join(format!("{stem}.expected.jsonl"));
    let expected = parse_lines(&std::fs::read(&expected_path).expect("expected.jsonl"));
    // One engine, and connections spread over three.
    for threads in ["1", "3"] {
        let out = wsnoop_read(&path, &["--threads", threads]);
        let actual = parse_lines(&out.stdout);
        let problems = check(&expected, &actual);
        assert!(
            problems.is_empty(),
            "{rel} (--threads {threads}): {} problem(s):\n  {}\nstderr: {}",
            problems.len(),
            problems.join("\n  "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The capture's JSON lines, decoded by one engine given `keys` (key log text) up front and
/// the capture's own secrets as they come.
pub fn decode_in_process(rel: &str, keys: Option<&[u8]>) -> Vec<serde_json::Value> {
    let path = captures_dir().join(rel);
    let limits = wsnoop::Limits::default();
    let file = std::io::BufReader::new(std::fs::File::open(&path).expect("capture"));
    let mut reader = wsnoop::capture::CaptureReader::new(file, &limits).expect("capture header");
    let mut engine = wsnoop::Engine::new(limits);
    if let Some(keys) = keys {
        assert!(
            engine.add_keys(keys, 1).is_empty(),
            "{rel}: key log lines rejected"
        );
    }
    let mut sink = wsnoop::sink::JsonSink::in_memory();
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
            wsnoop::sink::Sink::event(&mut sink, &ev).expect("write");
        }
    }
    engine.finish(&mut events);
    for ev in events.drain(..) {
        wsnoop::sink::Sink::event(&mut sink, &ev).expect("write");
    }
    parse_lines(&sink.into_inner())
}

/// Decodes `captures/REL` in this process (with the key log beside it, if any: `NAME.keys`)
/// and checks it against its expected.jsonl.
pub fn assert_decodes_in_process(rel: &str) {
    let stem = rel.rsplit_once('.').map_or(rel, |(s, _)| s);
    let keys = std::fs::read(captures_dir().join(format!("{stem}.keys"))).ok();
    let actual = decode_in_process(rel, keys.as_deref());
    let expected = parse_lines(
        &std::fs::read(captures_dir().join(format!("{stem}.expected.jsonl"))).expect("expected"),
    );
    let problems = check(&expected, &actual);
    assert!(
        problems.is_empty(),
        "{rel}: {} problem(s):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}
