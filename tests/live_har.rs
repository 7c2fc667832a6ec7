//! `wsnoop live --format har` on `lo`: entries are written as connections end, the document is
//! closed on SIGTERM and is valid HAR with the exchanged messages and a refused upgrade; the
//! file is not reopened on SIGHUP; `--rotate-size` is refused. Needs root: skipped with a
//! printed reason otherwise.
#![cfg(feature = "live")]

mod live_util;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use tungstenite::Message;

/// Waits until `path` holds at least `n` HAR entries (the document is not closed yet, so the
/// entries are counted by their `_resourceType`).
fn wait_entries(path: &Path, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.matches("\"_resourceType\":\"websocket\"").count() >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{n} entries not written in time: {text}"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn live_har_document() {
    require_capture!();
    let dir = std::env::temp_dir().join(format!("wsnoop-live-har-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("out.har");
    let port = live_util::free_port();
    let refusing = live_util::free_port();
    let bpf = format!("tcp port {port} or tcp port {refusing}");
    let Some(w) = live_util::start(&["-f", &bpf, "--format", "har", "-o", out.to_str().unwrap()])
    else {
        return;
    };
    let server = live_util::echo_server(port, 1);
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut ws = tungstenite::client(format!("ws://127.0.0.1:{port}/live?har=1"), s)
        .unwrap()
        .0;
    ws.send(Message::Text("hello har".into())).unwrap();
    ws.read().unwrap();
    ws.send(Message::Binary(vec![0u8, 1, 255].into())).unwrap();
    ws.read().unwrap();
    ws.close(None).unwrap();
    while ws.read().is_ok() {}
    drop(ws);
    server.join().unwrap();
    wait_entries(&out, 1);

    // SIGHUP does not reopen a HAR document: the moved file keeps growing.
    let moved = dir.join("moved.har");
    std::fs::rename(&out, &moved).unwrap();
    w.signal("HUP");
    thread::sleep(Duration::from_millis(300));

    // A refused upgrade: answered 403.
    let listener = TcpListener::bind(("127.0.0.1", refusing)).unwrap();
    let mut client = TcpStream::connect(("127.0.0.1", refusing)).unwrap();
    let (mut accepted, _) = listener.accept().unwrap();
    client
        .write_all(
            format!(
                "GET /nope HTTP/1.1\r\nHost: 127.0.0.1:{refusing}\r\nUpgrade: websocket\r\n\
                 Connection: Upgrade\r\nSec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\n\r\n",
                live_util::KEY
            )
            .as_bytes(),
        )
        .unwrap();
    let mut req = [0u8; 512];
    let _ = accepted.read(&mut req).unwrap();
    accepted
        .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nX-Test: live\r\n\r\n")
        .unwrap();
    let mut resp = [0u8; 512];
    let _ = client.read(&mut resp).unwrap();
    wait_entries(&moved, 2);
    drop((client, accepted));

    let (status, _) = w.terminate();
    assert!(status.success(), "exit status {status}");
    assert!(!out.exists(), "SIGHUP reopened the HAR document");
    let har: Value = serde_json::from_slice(&std::fs::read(&moved).unwrap()).expect("HAR JSON");
    assert_eq!(har["log"]["version"], "1.2");
    let entries = har["log"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{har}");
    let e = &entries[0];
    assert_eq!(
        e["request"]["url"],
        format!("ws://127.0.0.1:{port}/live?har=1")
    );
    assert_eq!(e["response"]["status"], 101);
    let msgs: Vec<(String, u64, String)> = e["_webSocketMessages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["type"].as_str().unwrap().to_owned(),
                m["opcode"].as_u64().unwrap(),
                m["data"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let m = |t: &str, op: u64, d: &str| (t.to_owned(), op, d.to_owned());
    assert_eq!(
        msgs[..4],
        [
            m("send", 1, "hello har"),
            m("receive", 1, "hello har"),
            m("send", 2, "AAH/"),
            m("receive", 2, "AAH/"),
        ]
    );
    // Then the close handshake.
    assert!(msgs[4..].iter().all(|(_, op, _)| *op == 8), "{msgs:?}");
    let r = &entries[1];
    assert_eq!(
        r["request"]["url"],
        format!("ws://127.0.0.1:{refusing}/nope")
    );
    assert_eq!(r["response"]["status"], 403);
    assert_eq!(r["response"]["statusText"], "Forbidden");
    assert_eq!(
        r["response"]["headers"][1],
        serde_json::json!({"name": "X-Test", "value": "live"})
    );
    assert_eq!(r["_webSocketMessages"], serde_json::json!([]));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn har_cannot_be_rotated() {
    let out = Command::new(env!("CARGO_BIN_EXE_wsnoop"))
        .args([
            "live",
            "-i",
            "lo",
            "--format",
            "har",
            "-o",
            "x.har",
            "--rotate-size",
            "1M",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "wsnoop: --rotate-size cuts the output into pieces: a HAR document (--format har) is one file\n"
    );
}
