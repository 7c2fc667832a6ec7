//! HAR exports of every bundled capture: valid HAR 1.2 (schema check by the npm
//! `har-validator` when `tests/har/node_modules` is installed), `_webSocketMessages` as
//! Chrome's importer reads them, and carrying exactly the capture's messages (compared with its
//! `expected.jsonl`, with the semantics of the corpus's check.py).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64_simd::STANDARD;
use serde_json::Value;
use wsnoop::capture::CaptureReader;
use wsnoop::event::{
    ConnRef, Dir, EndHow, Event, EventKind, Handshake, HttpVersion, Message, Opcode, OpenInfo,
    Timestamp, TlsInfo,
};
use wsnoop::har::{HarLimits, HarWriter};
use wsnoop::{Engine, Limits};

use common::{captures_dir, parse_lines};

/// Every capture under `captures/` that has an `expected.jsonl`.
fn bundled() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![captures_dir()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("captures dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                dirs.push(p);
            } else if matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("pcap" | "pcapng")
            ) && expected_of(&p).exists()
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn expected_of(capture: &Path) -> PathBuf {
    capture.with_extension("expected.jsonl")
}

/// The capture's HAR export, as `wsnoop read --format har` will write it: the engine's events
/// in order into the writer. A small memory limit makes the bigger captures go through the
/// spill file too.
fn export(capture: &Path) -> Vec<u8> {
    let bytes = std::fs::read(capture).expect("read capture");
    let mut reader = CaptureReader::new(bytes.as_slice(), &Limits::default()).expect("reader");
    let mut engine = Engine::new(Limits::default());
    // A wss:// capture's key log sits beside it.
    if let Ok(keys) = std::fs::read(capture.with_extension("keys")) {
        assert!(engine.add_keys(&keys, 1).is_empty());
    }
    let limits = HarLimits {
        max_buffered_bytes: 64 << 10,
        spill_dir: None,
    };
    let mut har = HarWriter::with_limits(Vec::new(), env!("CARGO_PKG_VERSION"), limits);
    har.begin().expect("begin");
    let mut events = Vec::new();
    // A corrupt record ends the input, as in `wsnoop read`.
    while let Ok(Some(pkt)) = reader.next_packet() {
        engine.packet(&pkt, &mut events);
        for secrets in reader.take_secrets() {
            engine.add_keys(&secrets, 1);
        }
        for ev in events.drain(..) {
            har.event(&ev).expect("har event");
        }
    }
    engine.finish(&mut events);
    for ev in events.drain(..) {
        har.event(&ev).expect("har event");
    }
    har.finish().expect("finish");
    har.into_inner()
}

/// Client, server, HTTP/2 stream ("null" for HTTP/1.1), direction.
type Key = (String, String, String, String);
type Msgs = BTreeMap<Key, Vec<(String, Vec<u8>)>>;

fn opcode_name(op: u64) -> &'static str {
    Opcode::from_u8(op as u8).as_str()
}

/// Checks the `_webSocketMessages` rules of Chrome's importer (`HAREntry`,
/// `Importer.fillRequestFromHAREntry`: an item without `time`, `opcode` or `data`, or with a
/// `type` other than send/receive/error, is dropped) and returns the messages per connection
/// and direction.
fn messages_of(har: &Value, name: &str) -> Msgs {
    let log = &har["log"];
    assert_eq!(log["version"], "1.2", "{name}");
    let mut out = Msgs::new();
    for e in log["entries"].as_array().expect("entries") {
        assert_eq!(e["_resourceType"], "websocket", "{name}");
        let url = e["request"]["url"].as_str().expect("url");
        assert!(
            url.starts_with("ws://") || url.starts_with("wss://"),
            "{name}: {url}"
        );
        let (client, server) = (
            e["_wsnoop"]["client"].as_str().expect("client").to_owned(),
            e["_wsnoop"]["server"].as_str().expect("server").to_owned(),
        );
        let stream = e["_wsnoop"]["stream"].to_string();
        for m in e["_webSocketMessages"].as_array().expect("messages") {
            let obj = m.as_object().expect("message object");
            for k in obj.keys() {
                assert!(
                    ["type", "time", "opcode", "data"].contains(&k.as_str()) || k.starts_with('_'),
                    "{name}: unexpected key {k}"
                );
            }
            let dir = match m["type"].as_str() {
                Some("send") => "c2s",
                Some("receive") => "s2c",
                other => panic!("{name}: type {other:?}"),
            };
            let time = m["time"].as_f64().expect("time is a number");
            assert!(time > 1.0e9, "{name}: time {time} is epoch seconds");
            let op = m["opcode"].as_u64().expect("opcode is a number");
            let data = m["data"].as_str().expect("data is a string");
            let payload = if op == 1 && m.get("_dataBase64").is_none() {
                data.as_bytes().to_vec()
            } else if op == 1 {
                STANDARD
                    .decode_to_vec(m["_dataBase64"].as_str().expect("_dataBase64"))
                    .expect("base64")
            } else {
                STANDARD
                    .decode_to_vec(data)
                    .expect("data is base64 when opcode != 1")
            };
            out.entry((
                client.clone(),
                server.clone(),
                stream.clone(),
                dir.to_owned(),
            ))
            .or_default()
            .push((opcode_name(op).to_owned(), payload));
        }
    }
    out
}

fn expected_messages(capture: &Path) -> Msgs {
    let lines = parse_lines(&std::fs::read(expected_of(capture)).expect("expected"));
    let mut out = Msgs::new();
    for e in lines
        .iter()
        .filter(|e| e.get("expect_error").is_none() && e.get("allow_error").is_none())
    {
        let s = |k: &str| e[k].as_str().expect(k).to_owned();
        let payload = STANDARD
            .decode_to_vec(e["payload_b64"].as_str().expect("payload_b64"))
            .expect("base64");
        out.entry((s("client"), s("server"), e["stream"].to_string(), s("dir")))
            .or_default()
            .push((s("opcode"), payload));
    }
    out
}

fn out_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("har");
    std::fs::create_dir_all(&d).expect("out dir");
    d
}

#[test]
fn every_bundled_capture_exports_exactly_its_messages() {
    let captures = bundled();
    assert!(captures.len() >= 50, "found {} captures", captures.len());
    let mut files = Vec::new();
    for cap in &captures {
        let rel = cap.strip_prefix(captures_dir()).expect("rel");
        let name = rel.display().to_string();
        let har = export(cap);
        let v: Value = serde_json::from_slice(&har)
            .unwrap_or_else(|e| panic!("{name}: export is not JSON: {e}"));
        let got = messages_of(&v, &name);
        let want = expected_messages(cap);
        for key in want.keys().chain(got.keys()) {
            let (w, g) = (want.get(key), got.get(key));
            assert!(
                w.map(Vec::as_slice).unwrap_or_default()
                    == g.map(Vec::as_slice).unwrap_or_default(),
                "{name} {key:?}: expected {} messages, HAR has {}",
                w.map_or(0, Vec::len),
                g.map_or(0, Vec::len)
            );
        }
        let file = out_dir()
            .join(name.replace('/', "__"))
            .with_extension("har");
        std::fs::write(&file, &har).expect("write har");
        files.push(file);
    }
    files.push(synthetic_export("synthetic.har"));
    schema_check(&files);
}

/// A HAR of hand-made events with every handshake field filled (what the HTTP layers will
/// give): HTTP/1.1 over TLS with cookies and a query, HTTP/2, a mid-stream pick-up, every
/// opcode, a text that is not UTF-8.
fn synthetic_export(file_name: &str) -> PathBuf {
    let ts = |us: u64| {
        Timestamp::new(
            1_700_000_000 + (us / 1_000_000) as i64,
            (us % 1_000_000) as u32 * 1000,
        )
    };
    let h = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    };
    let conn = |id: u64, stream: Option<u32>| ConnRef {
        id,
        client: format!("192.0.2.1:{}", 50000 + id).parse().expect("addr"),
        server: "[2001:db8::80]:443".parse().expect("addr"),
        stream,
    };
    let h1 = OpenInfo {
        handshake: Handshake {
            http: HttpVersion::Http11,
            method: "GET".into(),
            target: "/socket?token=a%20b&v=2".into(),
            status: 101,
            reason: "Switching Protocols".into(),
            request_headers: h(&[
                ("Host", "chat.example"),
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ("Sec-WebSocket-Version", "13"),
                ("Cookie", "sid=1; lang=fr"),
            ]),
            response_headers: h(&[
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
                ("Set-Cookie", "seen=1; Path=/; HttpOnly"),
            ]),
            request_ts: Some(ts(100)),
            response_ts: Some(ts(2_600)),
        },
        tls: Some(TlsInfo::default()),
        ..OpenInfo::default()
    };
    let h2 = OpenInfo {
        handshake: Handshake {
            http: HttpVersion::Http2,
            method: "CONNECT".into(),
            target: "/h2".into(),
            status: 200,
            reason: String::new(),
            request_headers: h(&[
                (":method", "CONNECT"),
                (":protocol", "websocket"),
                (":scheme", "https"),
                (":path", "/h2"),
                (":authority", "h2.example"),
            ]),
            response_headers: h(&[(":status", "200")]),
            request_ts: Some(ts(3_000)),
            response_ts: Some(ts(3_400)),
        },
        tls: Some(TlsInfo::default()),
        ..OpenInfo::default()
    };
    let mid = OpenInfo {
        mid_stream: true,
        ..OpenInfo::default()
    };
    let msg = |id, stream, at, dir, opcode, payload: &[u8]| Event {
        ts: ts(at),
        conn: Some(conn(id, stream)),
        kind: EventKind::Message {
            dir,
            msg: Message {
                opcode,
                payload: payload.to_vec(),
                frames: 1,
                compressed: false,
                wire_len: payload.len() as u64,
                utf8_valid: std::str::from_utf8(payload).is_ok(),
                frame_detail: Vec::new(),
                truncated: false,
            },
        },
    };
    let ev = |id, stream, at, kind| Event {
        ts: ts(at),
        conn: Some(conn(id, stream)),
        kind,
    };
    let end = EventKind::End {
        how: EndHow::Fin,
        messages: 0,
        bytes: 0,
        report: None,
    };
    let events = vec![
        ev(1, None, 2_600, EventKind::Open(Box::new(h1))),
        ev(2, Some(1), 3_400, EventKind::Open(Box::new(h2))),
        ev(3, None, 3_500, EventKind::Open(Box::new(mid))),
        msg(
            1,
            None,
            4_000,
            Dir::C2s,
            Opcode::Text,
            "héllo 🚀".as_bytes(),
        ),
        msg(2, Some(1), 4_100, Dir::S2c, Opcode::Binary, &[0, 255, 7]),
        msg(1, None, 4_200, Dir::S2c, Opcode::Ping, b"are you there"),
        msg(1, None, 4_300, Dir::C2s, Opcode::Pong, b"are you there"),
        msg(3, None, 4_400, Dir::S2c, Opcode::Text, b"bad \xff utf-8"),
        msg(1, None, 4_500, Dir::C2s, Opcode::Close, b"\x03\xe8bye"),
        msg(1, None, 4_600, Dir::S2c, Opcode::Close, b"\x03\xe8"),
        ev(1, None, 4_700, end.clone()),
        ev(3, None, 4_800, end.clone()),
        ev(2, Some(1), 4_900, end),
    ];
    let mut har = HarWriter::new(Vec::new(), env!("CARGO_PKG_VERSION"));
    for e in &events {
        har.event(e).expect("event");
    }
    har.finish().expect("finish");
    let bytes = har.into_inner();
    let v: Value = serde_json::from_slice(&bytes).expect("JSON");
    let got = messages_of(&v, "synthetic");
    let key = |c: &str, d: &str| {
        (
            format!("192.0.2.1:{c}"),
            "[2001:db8::80]:443".to_owned(),
            if c == "50002" { "1" } else { "null" }.to_owned(),
            d.to_owned(),
        )
    };
    assert_eq!(
        got[&key("50001", "c2s")],
        vec![
            ("text".to_owned(), "héllo 🚀".as_bytes().to_vec()),
            ("pong".to_owned(), b"are you there".to_vec()),
            ("close".to_owned(), b"\x03\xe8bye".to_vec()),
        ]
    );
    assert_eq!(
        got[&key("50003", "s2c")],
        vec![("text".to_owned(), b"bad \xff utf-8".to_vec())]
    );
    let file = out_dir().join(file_name);
    std::fs::write(&file, bytes).expect("write");
    file
}

/// Runs `tests/har/validate.mjs` (har-validator) on `files`; skipped, saying why, when node
/// or the package is not installed (`cd tests/har && npm ci`).
fn schema_check(files: &[PathBuf]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/har");
    if !dir.join("node_modules/har-validator").is_dir() {
        println!(
            "SKIPPED the HAR 1.2 schema check: {} has no node_modules (run `npm ci` there)",
            dir.display()
        );
        return;
    }
    let out = match Command::new("node")
        .arg(dir.join("validate.mjs"))
        .args(files)
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            println!("SKIPPED the HAR 1.2 schema check: cannot run node: {e}");
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    assert!(
        out.status.success(),
        "har-validator rejected exports:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("ok ")).count(),
        files.len()
    );
}

/// Chromium DevTools' own importer (`tests/har/devtools_import.mjs`: the frontend bundled in
/// the installed Chromium, driven over CDP) loads exports and yields exactly their messages as
/// the frames its Messages pane lists. Skipped, saying why, without node or Chromium
/// (`CHROMIUM` names the binary; default `chromium` on PATH).
#[test]
fn devtools_importer_yields_the_messages() {
    let browser = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let found = Command::new(&browser)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        println!("SKIPPED the DevTools import check: no Chromium ({browser} --version failed)");
        return;
    }
    let cap = captures_dir().join("py_control_frames.pcap");
    let file = out_dir().join("devtools_py_control_frames.har");
    std::fs::write(&file, export(&cap)).expect("write");
    let files = [file, synthetic_export("devtools_synthetic.har")];
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/har/devtools_import.mjs");
    let out = match Command::new("node")
        .arg(script)
        .args(&files)
        .env("CHROMIUM", &browser)
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            println!("SKIPPED the DevTools import check: cannot run node: {e}");
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    assert!(
        out.status.success(),
        "DevTools import: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 37 messages in py_control_frames (its expected.jsonl), 7 in the synthetic export.
    assert!(
        stdout.contains("5 websocket requests, 37 frames"),
        "{stdout}"
    );
    assert!(
        stdout.contains("3 websocket requests, 7 frames"),
        "{stdout}"
    );
}
