//! HAR exports of every bundled capture: valid HAR 1.2 (the required fields and their types
//! checked here, [`har_1_2`]; the full schema by the npm `har-validator` when
//! `tests/har/node_modules` is installed), `_webSocketMessages` as
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
        har_1_2(&v, &name);
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
            response_packet: None,
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
            response_packet: None,
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
                packets: None,
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
    har_1_2(&v, "synthetic");
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
    // A refused upgrade: an entry with its status and headers, and no frames.
    let refused = out_dir().join("devtools_py_rejected_upgrade.har");
    std::fs::write(
        &refused,
        export(&captures_dir().join("py_rejected_upgrade.pcap")),
    )
    .expect("write");
    let files = [file, synthetic_export("devtools_synthetic.har"), refused];
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
    assert!(
        stdout.contains("2 websocket requests, 0 frames"),
        "{stdout}"
    );
    assert!(
        stdout.contains("GET ws://127.0.0.1:9008/forbidden 403 http/1.1"),
        "{stdout}"
    );
}

/// HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/): every field the spec requires,
/// with its type, on the log and on each entry. Optional fields, where present, have their
/// types too (`timings`' blocked/dns/connect/ssl: -1 or more; send/wait/receive: 0 or more).
fn har_1_2(har: &Value, name: &str) {
    let is_str = |v: &Value, what: &str| {
        assert!(v.is_string(), "{name}: {what} is not a string: {v}");
    };
    let is_int = |v: &Value, what: &str| {
        assert!(v.is_i64(), "{name}: {what} is not an integer: {v}");
    };
    let name_values = |v: &Value, what: &str| {
        let list = v
            .as_array()
            .unwrap_or_else(|| panic!("{name}: {what} is not an array"));
        for nv in list {
            is_str(&nv["name"], &format!("{what}[].name"));
            is_str(&nv["value"], &format!("{what}[].value"));
        }
    };
    let date_time = |v: &Value, what: &str| {
        let s = v.as_str().unwrap_or_else(|| panic!("{name}: {what}: {v}"));
        let b = s.as_bytes();
        // ISO 8601 as RFC 3339 with a fraction and Z: 2023-11-14T22:13:20.000010Z.
        let shape = b.len() == 27
            && b.iter().enumerate().all(|(i, c)| match i {
                4 | 7 => *c == b'-',
                10 => *c == b'T',
                13 | 16 => *c == b':',
                19 => *c == b'.',
                26 => *c == b'Z',
                _ => c.is_ascii_digit(),
            });
        assert!(shape, "{name}: {what} {s:?} is not an ISO 8601 date");
    };
    let log = &har["log"];
    assert_eq!(log["version"], "1.2", "{name}");
    is_str(&log["creator"]["name"], "log.creator.name");
    is_str(&log["creator"]["version"], "log.creator.version");
    assert!(log["pages"].is_array(), "{name}: log.pages");
    for e in log["entries"].as_array().expect("log.entries") {
        date_time(&e["startedDateTime"], "startedDateTime");
        assert!(
            e["time"].as_f64().is_some_and(|t| t >= 0.0),
            "{name}: time {}",
            e["time"]
        );
        let req = &e["request"];
        for k in ["method", "url", "httpVersion"] {
            is_str(&req[k], &format!("request.{k}"));
        }
        for k in ["cookies", "headers", "queryString"] {
            name_values(&req[k], &format!("request.{k}"));
        }
        is_int(&req["headersSize"], "request.headersSize");
        is_int(&req["bodySize"], "request.bodySize");
        let resp = &e["response"];
        is_int(&resp["status"], "response.status");
        for k in ["statusText", "httpVersion", "redirectURL"] {
            is_str(&resp[k], &format!("response.{k}"));
        }
        name_values(&resp["cookies"], "response.cookies");
        name_values(&resp["headers"], "response.headers");
        is_int(&resp["content"]["size"], "response.content.size");
        is_str(&resp["content"]["mimeType"], "response.content.mimeType");
        is_int(&resp["headersSize"], "response.headersSize");
        is_int(&resp["bodySize"], "response.bodySize");
        assert!(e["cache"].is_object(), "{name}: cache");
        let t = &e["timings"];
        for k in ["send", "wait", "receive"] {
            assert!(
                t[k].as_f64().is_some_and(|v| v >= 0.0),
                "{name}: timings.{k} {}",
                t[k]
            );
        }
        for k in ["blocked", "dns", "connect", "ssl"] {
            assert!(
                t.get(k).is_none() || t[k].as_f64().is_some_and(|v| v >= -1.0),
                "{name}: timings.{k} {}",
                t[k]
            );
        }
        for k in ["serverIPAddress", "connection", "comment"] {
            if let Some(v) = e.get(k) {
                is_str(v, k);
            }
        }
    }
}

/// The schema check itself fails on what it is meant to catch.
#[test]
fn the_schema_check_rejects_incomplete_entries() {
    let cap = captures_dir().join("py_basic_echo.pcap");
    let good: Value = serde_json::from_slice(&export(&cap)).expect("JSON");
    har_1_2(&good, "good");
    type Breakage = (&'static str, fn(&mut Value));
    let breakages: [Breakage; 5] = [
        ("no version", |v| v["log"]["version"] = "1.1".into()),
        ("no cookies", |v| {
            v["log"]["entries"][0]["request"]
                .as_object_mut()
                .map(|o| o.remove("cookies"));
        }),
        ("status text", |v| {
            v["log"]["entries"][0]["response"]["status"] = "101".into()
        }),
        ("timings", |v| {
            v["log"]["entries"][0]["timings"]["wait"] = (-1).into()
        }),
        ("date", |v| {
            v["log"]["entries"][0]["startedDateTime"] = "yesterday".into()
        }),
    ];
    for (what, breakage) in breakages {
        let mut bad = good.clone();
        breakage(&mut bad);
        let caught = std::panic::catch_unwind(|| har_1_2(&bad, what)).is_err();
        assert!(caught, "{what} not caught");
    }
}

/// `wsnoop read --format har`, one thread and several, gives exactly the library's export.
#[test]
fn the_command_line_writes_the_library_export() {
    for cap in bundled() {
        let rel = cap
            .strip_prefix(captures_dir())
            .expect("rel")
            .display()
            .to_string();
        let want = export(&cap);
        for threads in ["1", "3"] {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_wsnoop"));
            cmd.arg("read")
                .arg(&cap)
                .args(["--format", "har", "--no-progress", "--threads", threads])
                .env_remove("SSLKEYLOGFILE");
            let keys = cap.with_extension("keys");
            if keys.exists() {
                cmd.arg("--keylog").arg(&keys);
            }
            let out = cmd.output().expect("run wsnoop");
            assert!(
                out.status.code() == Some(0) || out.status.code() == Some(1),
                "{rel}: {:?} {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                out.stdout == want,
                "{rel} --threads {threads}: the command's HAR differs from the library's"
            );
        }
    }
}

fn har_of(capture: &str, extra: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_wsnoop"))
        .arg("read")
        .arg(captures_dir().join(capture))
        .args(["--format", "har", "--no-progress"])
        .args(extra)
        .env_remove("SSLKEYLOGFILE")
        .output()
        .expect("run wsnoop");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("HAR is JSON")
}

fn nv(pairs: &[(&str, &str)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(n, v)| serde_json::json!({"name": n, "value": v}))
            .collect(),
    )
}

/// The HTTP/1.1 handshake as sent: every header in order on the JSON `open` line and in the
/// HAR entry, with the capture times of the request's and the 101's packets.
#[test]
fn http11_handshake_exact_on_a_real_capture() {
    let cap = captures_dir().join("py_basic_echo.pcap");
    let out = common::wsnoop_read(&cap, &[]);
    let lines = parse_lines(&out.stdout);
    let open = &lines[0];
    let request = [
        ("Host", "127.0.0.1:8765"),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", "ChYte3Ouu7D/4A1lA54aPg=="),
        ("Sec-WebSocket-Version", "13"),
        ("User-Agent", "Python/3.11 websockets/17.4"),
    ];
    let response = [
        ("Date", "Sun, 22 Nov 2026 19:10:21 GMT"),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", "ugpPZevICN9VoSh/DN5g7Xu4G4M="),
        ("Server", "Python/3.11 websockets/17.4"),
    ];
    let pairs = |l: &[(&str, &str)]| {
        Value::Array(l.iter().map(|(n, v)| serde_json::json!([n, v])).collect())
    };
    assert_eq!(open["event"], "open");
    assert_eq!(open["ts"], "2026-11-22T19:10:21.560666Z");
    assert_eq!(open["http"], "1.1");
    assert_eq!(open["method"], "GET");
    assert_eq!(open["target"], "/echo");
    assert_eq!(open["status"], 101);
    assert_eq!(open["reason"], "Switching Protocols");
    assert_eq!(open["request_headers"], pairs(&request));
    assert_eq!(open["response_headers"], pairs(&response));

    let har = har_of("py_basic_echo.pcap", &[]);
    let e = &har["log"]["entries"][0];
    // The request's packet at .560158, the 101's at .560666.
    assert_eq!(e["startedDateTime"], "2026-11-22T19:10:21.560158Z");
    assert_eq!(e["time"], 0.508);
    assert_eq!(e["timings"]["wait"], 0.508);
    assert_eq!(e["request"]["method"], "GET");
    assert_eq!(e["request"]["url"], "ws://127.0.0.1:8765/echo");
    assert_eq!(e["request"]["headers"], nv(&request));
    assert_eq!(e["response"]["status"], 101);
    assert_eq!(e["response"]["statusText"], "Switching Protocols");
    assert_eq!(e["response"]["headers"], nv(&response));
    assert_eq!(e["_resourceType"], "websocket");
}

/// py_rejected_upgrade: two upgrades refused (403, 400) become two `refused` events with the
/// endpoints, URI, status, reason and both header lists; and two HAR entries without messages.
#[test]
fn rejected_upgrades_are_refused_events_and_entries() {
    let cap = captures_dir().join("py_rejected_upgrade.pcap");
    let out = common::wsnoop_read(&cap, &[]);
    assert_eq!(out.status.code(), Some(0));
    let lines = parse_lines(&out.stdout);
    let ua = "Python/3.11 websockets/17.4";
    let date = "Sun, 22 Nov 2026 19:10:48 GMT";
    assert_eq!(
        lines,
        vec![
            serde_json::json!({"event":"refused","ts":"2026-11-22T19:10:48.659477Z","conn":null,
                "client":"127.0.0.1:48128","server":"127.0.0.1:9008","uri":"/forbidden",
                "tls":null,"http":"1.1","method":"GET","target":"/forbidden","status":403,
                "reason":"Forbidden",
                "request_headers":[["Host","127.0.0.1:9008"],["Upgrade","websocket"],
                    ["Connection","Upgrade"],["Sec-WebSocket-Key","H+8M8/vRwN59D5JXlCbAEg=="],
                    ["Sec-WebSocket-Version","13"],["User-Agent",ua]],
                "response_headers":[["Date",date],["Connection","close"],
                    ["Content-Type","application/octet-stream"],["Content-Length","93"],
                    ["Server",ua]]}),
            serde_json::json!({"event":"refused","ts":"2026-11-22T19:10:48.661410Z","conn":null,
                "client":"127.0.0.1:48134","server":"127.0.0.1:9008","uri":"/echo",
                "tls":null,"http":"1.1","method":"GET","target":"/echo","status":400,
                "reason":"Bad Request",
                "request_headers":[["Host","127.0.0.1:9008"],["Upgrade","websocket"],
                    ["Connection","Upgrade"],["Sec-WebSocket-Key","xPfQwpZ1ghU461UkmyXb4g=="],
                    ["Sec-WebSocket-Version","13"],["Sec-WebSocket-Protocol","unknown.v9"],
                    ["User-Agent",ua]],
                "response_headers":[["Date",date],["Connection","close"],
                    ["Content-Length","85"],["Content-Type","text/plain; charset=utf-8"],
                    ["Server",ua]]}),
        ]
    );

    let text = Command::new(env!("CARGO_BIN_EXE_wsnoop"))
        .arg("read")
        .arg(&cap)
        .output()
        .expect("run wsnoop");
    assert_eq!(
        String::from_utf8_lossy(&text.stdout),
        "2026-11-22T19:10:48.659477Z  #-   127.0.0.1:48128 → 127.0.0.1:9008  refused GET \
         ws://127.0.0.1:9008/forbidden: 403 Forbidden\n\
         2026-11-22T19:10:48.661410Z  #-   127.0.0.1:48134 → 127.0.0.1:9008  refused GET \
         ws://127.0.0.1:9008/echo: 400 Bad Request\n"
    );

    let har = har_of("py_rejected_upgrade.pcap", &[]);
    har_1_2(&har, "py_rejected_upgrade");
    let entries = har["log"]["entries"].as_array().expect("entries");
    let summary: Vec<_> = entries
        .iter()
        .map(|e| {
            (
                e["request"]["url"].as_str().unwrap_or_default(),
                e["response"]["status"].as_i64().unwrap_or_default(),
                e["response"]["statusText"].as_str().unwrap_or_default(),
                e["_wsnoop"]["refused"].as_bool(),
                e["_webSocketMessages"].as_array().map(Vec::len),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "ws://127.0.0.1:9008/forbidden",
                403,
                "Forbidden",
                Some(true),
                Some(0)
            ),
            (
                "ws://127.0.0.1:9008/echo",
                400,
                "Bad Request",
                Some(true),
                Some(0)
            ),
        ]
    );
    assert_eq!(
        entries[1]["response"]["headers"][3],
        nv(&[("Content-Type", "text/plain; charset=utf-8")])[0]
    );
}

/// A filter selects what goes into the HAR: a connection with nothing selected has no entry,
/// a selected one has the selected messages; a refused upgrade is selected by its endpoints
/// and URI only (it has no payload, direction or number).
#[test]
fn filters_apply_to_har() {
    let har = har_of("py_concurrent_clients.pcap", &["--filter", "conn:2"]);
    let entries = har["log"]["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["_wsnoop"]["conn"], 2);
    assert_eq!(
        entries[0]["request"]["url"],
        "ws://127.0.0.1:9010/echo?client=1"
    );
    assert_eq!(
        entries[0]["_webSocketMessages"].as_array().map(Vec::len),
        Some(30)
    );

    let har = har_of(
        "py_concurrent_clients.pcap",
        &["--filter", "conn:2 and dir:c2s"],
    );
    let msgs = har["log"]["entries"][0]["_webSocketMessages"]
        .as_array()
        .expect("messages");
    assert_eq!(msgs.len(), 15);
    assert!(msgs.iter().all(|m| m["type"] == "send"));

    let urls = |filter: &str| -> Vec<String> {
        let har = har_of("py_rejected_upgrade.pcap", &["--filter", filter]);
        har["log"]["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| e["request"]["url"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let both = vec![
        "ws://127.0.0.1:9008/forbidden".to_owned(),
        "ws://127.0.0.1:9008/echo".to_owned(),
    ];
    assert_eq!(urls("port:9008"), both);
    assert_eq!(
        urls("uri:/echo"),
        vec!["ws://127.0.0.1:9008/echo".to_owned()]
    );
    assert_eq!(urls("port:9008 and !uri:forbidden"), both[1..].to_vec());
    for nothing in ["port:9009", "hello", "dir:c2s", "conn:1", "anomaly"] {
        assert_eq!(urls(nothing), Vec::<String>::new(), "{nothing}");
    }
}

/// `-o PATH` writes the document there; `-o -` is standard output; the buffer option takes a
/// size; `--summary` has no place in HAR (usage error).
#[test]
fn har_output_options() {
    let cap = captures_dir().join("py_control_frames.pcap");
    let want = export(&cap);
    let path = out_dir().join("cli_output.har");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_wsnoop"))
            .arg("read")
            .arg(&cap)
            .args(["--format", "har", "--no-progress"])
            .args(args)
            .output()
            .expect("run wsnoop")
    };
    let out = run(&[
        "-o",
        path.to_str().expect("path"),
        "--max-har-buffer-bytes",
        "1K",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert!(std::fs::read(&path).expect("written") == want);
    let out = run(&["-o", "-"]);
    assert!(out.stdout == want);
    // The buffer bound reaches the writer: at 1K the entries must spill, and a temporary
    // directory that does not exist makes that fail (at the default they fit in memory).
    let spill = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_wsnoop"))
            .arg("read")
            .arg(&cap)
            .args(["--format", "har", "--no-progress"])
            .args(args)
            .env("TMPDIR", "/nonexistent/wsnoop-spill")
            .output()
            .expect("run wsnoop")
    };
    let out = spill(&[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout == want);
    let out = spill(&["--max-har-buffer-bytes", "1K"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "wsnoop: cannot write standard output: cannot create the HAR spill file in \
         /nonexistent/wsnoop-spill: No such file or directory (os error 2)\n"
    );
    let out = run(&["--summary"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "wsnoop: --summary writes lines: it does not go into a HAR document (--format har)\n"
    );
}

/// The URL's scheme follows the transport: wss:// for decrypted TLS (HTTP/1.1 and HTTP/2),
/// ws:// for cleartext h2c; HTTP/2 entries are CONNECT answered 200 in HTTP/2.0.
#[test]
fn schemes_methods_and_versions() {
    let summary = |capture: &str| -> Vec<(String, String, String, i64)> {
        let keys = captures_dir().join(capture).with_extension("keys");
        let mut args = vec!["--threads", "1"];
        if keys.exists() {
            args.extend(["--keylog", keys.to_str().expect("path")]);
        }
        let har = har_of(capture, &args);
        har["log"]["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| {
                let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
                let url = s(&e["request"]["url"]);
                let head = url.split('?').next().unwrap_or_default().to_owned();
                (
                    s(&e["request"]["method"]),
                    head,
                    s(&e["request"]["httpVersion"]),
                    e["response"]["status"].as_i64().unwrap_or_default(),
                )
            })
            .collect()
    };
    let row = |m: &str, u: &str, v: &str, s: i64| (m.to_owned(), u.to_owned(), v.to_owned(), s);
    assert_eq!(
        summary("tls/wss_tls13_aes128gcm.pcap"),
        vec![
            row("GET", "wss://127.0.0.1:8441/echo", "HTTP/1.1", 101),
            row("GET", "wss://127.0.0.1:8441/stream", "HTTP/1.1", 101),
        ]
    );
    assert_eq!(
        summary("h2/h2_chromium_tls13.pcap"),
        vec![
            row("CONNECT", "wss://127.0.0.1:8450/echo", "HTTP/2.0", 200),
            row("CONNECT", "wss://127.0.0.1:8450/echo", "HTTP/2.0", 200),
        ]
    );
    let h2c = summary("h2/h2c_python_multi.pcap");
    assert_eq!(h2c.len(), 3);
    assert!(
        h2c.iter()
            .all(|r| *r == row("CONNECT", "ws://127.0.0.1:8451/echo", "HTTP/2.0", 200)),
        "{h2c:?}"
    );
}
