//! Daemon habits of `wsnoop live` on `lo`: SIGHUP reopens the output file, `-w` saves the
//! packets of WebSocket connections only, stats records, idle timeout. Needs root: skipped
//! with a printed reason otherwise.
#![cfg(feature = "live")]

mod live_util;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use tungstenite::Message;

use live_util::{PROMPT, describe, is_event, read_json_lines};

/// Polls a JSON-lines file until a line matches (at most `within`).
fn wait_file(path: &Path, within: Duration, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = read_json_lines(path).into_iter().find(|v| pred(v)) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "no {what} in {} within {within:?}",
            path.display()
        );
        thread::sleep(Duration::from_millis(50));
    }
}

fn text_is(t: &'static str) -> impl Fn(&Value) -> bool {
    move |v| is_event(v, "message") && v["text"] == t && v["dir"] == "c2s"
}

#[test]
fn sighup_reopens_output_and_w_saves_only_websocket_packets() {
    require_capture!();
    let dir = std::env::temp_dir().join(format!("wsnoop-live-daemon-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("out.json");
    let pcap = dir.join("ws.pcap");
    let port = live_util::free_port();
    let other = live_util::free_port();
    let bpf = format!("tcp port {port} or tcp port {other}");
    let args = [
        "-f",
        &bpf,
        "--json",
        "-o",
        out.to_str().unwrap(),
        "-w",
        pcap.to_str().unwrap(),
        "--stats",
        "1",
        "--stats-event",
        "--idle-timeout",
        "2s",
    ];
    let Some(w) = live_util::start(&args) else {
        return;
    };
    let server = live_util::echo_server(port, 2);
    let connect = || {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        tungstenite::client(format!("ws://127.0.0.1:{port}/daemon"), s)
            .unwrap()
            .0
    };
    let mut ws = connect();
    ws.send(Message::Text("before hup".into())).unwrap();
    ws.read().unwrap();
    wait_file(&out, PROMPT, "first message", text_is("before hup"));

    // logrotate: move the file away, SIGHUP, and the next lines go to a new file.
    let moved = dir.join("out.json.1");
    std::fs::rename(&out, &moved).unwrap();
    w.signal("HUP");
    thread::sleep(Duration::from_millis(500));
    ws.send(Message::Text("after hup".into())).unwrap();
    ws.read().unwrap();
    wait_file(&out, PROMPT, "message after SIGHUP", text_is("after hup"));
    let old = read_json_lines(&moved);
    assert!(old.iter().any(text_is("before hup")));
    assert!(!old.iter().any(text_is("after hup")));
    assert!(!read_json_lines(&out).iter().any(text_is("before hup")));
    ws.close(None).unwrap();
    while ws.read().is_ok() {}
    drop(ws);

    // Not WebSocket: never saved by -w.
    let listener = TcpListener::bind(("127.0.0.1", other)).unwrap();
    let mut plain = TcpStream::connect(("127.0.0.1", other)).unwrap();
    let (mut accepted, _) = listener.accept().unwrap();
    plain
        .write_all(b"\x16\x03\x01NOT-WEBSOCKET-MARKER")
        .unwrap();
    accepted
        .write_all(b"\x16\x03\x03NOT-WEBSOCKET-MARKER")
        .unwrap();

    // An idle connection is ended after the idle timeout (2 s, swept every second).
    let mut idle = connect();
    idle.send(Message::Text("then silence".into())).unwrap();
    idle.read().unwrap();
    let said = wait_file(
        &out,
        PROMPT,
        "idle connection's message",
        text_is("then silence"),
    );
    let idle_conn = said["conn"].clone();
    let end = wait_file(&out, Duration::from_secs(6), "idle end", |v| {
        is_event(v, "end") && v["conn"] == idle_conn
    });
    assert_eq!(end["how"], "idle");
    assert_eq!(end["messages"], 2);

    let stats = wait_file(&out, PROMPT, "stats record", |v| is_event(v, "stats"));
    for field in [
        "packets",
        "bytes",
        "conns_open",
        "messages",
        "anomalies",
        "memory_bytes",
    ] {
        assert!(stats[field].is_u64(), "{field} in {stats}");
    }
    assert_eq!(stats["kernel_drops"], 0);

    let (status, _) = w.terminate();
    assert!(status.success(), "exit status {status}");
    drop((idle, plain, accepted));
    server.join().unwrap();

    let last = read_json_lines(&out);
    assert!(last.iter().any(|v| is_event(v, "stats")));
    let ends: Vec<&str> = last
        .iter()
        .filter(|v| is_event(v, "end"))
        .map(|v| v["how"].as_str().unwrap())
        .collect();
    assert_eq!(ends, ["fin", "idle"]);

    // -w: the saved packets decode to the same messages, and hold nothing else.
    let saved = std::fs::read(&pcap).unwrap();
    assert!(
        !saved
            .windows(b"NOT-WEBSOCKET-MARKER".len())
            .any(|w| w == b"NOT-WEBSOCKET-MARKER")
    );
    let read = Command::new(env!("CARGO_BIN_EXE_wsnoop"))
        .args(["read", "--json"])
        .arg(&pcap)
        .output()
        .unwrap();
    assert!(read.status.success());
    let events: Vec<Value> = String::from_utf8(read.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let messages: Vec<String> = events
        .iter()
        .filter(|v| is_event(v, "message"))
        .map(|v| format!("#{} {}", v["conn"], describe(v)))
        .collect();
    assert_eq!(
        messages,
        [
            "#1 c2s text \"before hup\"",
            "#1 s2c text \"before hup\"",
            "#1 c2s text \"after hup\"",
            "#1 s2c text \"after hup\"",
            "#1 c2s close",
            "#1 s2c close",
            "#2 c2s text \"then silence\"",
            "#2 s2c text \"then silence\"",
        ]
    );
    let opens = events.iter().filter(|v| is_event(v, "open")).count();
    assert_eq!(opens, 2);
}

#[test]
fn rotation_by_size_keeps_whole_lines() {
    require_capture!();
    let dir = std::env::temp_dir().join(format!("wsnoop-live-rotate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("r.json");
    let port = live_util::free_port();
    let bpf = format!("tcp port {port}");
    let args = [
        "-f",
        &bpf,
        "--json",
        "-o",
        out.to_str().unwrap(),
        "--rotate-size",
        "1K",
        "--rotate-keep",
        "3",
    ];
    let Some(w) = live_util::start(&args) else {
        return;
    };
    let server = live_util::echo_server(port, 1);
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (mut ws, _) = tungstenite::client(format!("ws://127.0.0.1:{port}/r"), s).unwrap();
    for i in 0..20 {
        ws.send(Message::Text(
            format!("message {i:02} {}", "x".repeat(40)).into(),
        ))
        .unwrap();
        ws.read().unwrap();
    }
    ws.close(None).unwrap();
    while ws.read().is_ok() {}
    drop(ws);
    server.join().unwrap();
    thread::sleep(Duration::from_millis(300));
    let (status, _) = w.terminate();
    assert!(status.success());
    // Every file parses as whole JSON lines; together (oldest first) they hold the newest
    // messages in order, and at most 3 old files are kept.
    let mut all = Vec::new();
    for name in ["r.json.3", "r.json.2", "r.json.1", "r.json"] {
        let path = dir.join(name);
        assert!(path.exists(), "{name} missing");
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(size < 1024 + 400, "{name} is {size} bytes");
        all.extend(read_json_lines(&path));
    }
    assert!(!dir.join("r.json.4").exists());
    let texts: Vec<String> = all
        .iter()
        .filter(|v| is_event(v, "message") && v["dir"] == "c2s" && v["opcode"] == "text")
        .map(|v| v["text"].as_str().unwrap()[..10].to_string())
        .collect();
    let last = texts.last().unwrap().clone();
    assert_eq!(last, "message 19");
    let first: usize = texts[0][8..10].parse().unwrap();
    let want: Vec<String> = (first..20).map(|i| format!("message {i:02}")).collect();
    assert_eq!(texts, want);
}

#[test]
fn without_permission_the_message_names_root_and_setcap() {
    require_capture!();
    if Command::new("setpriv").arg("--version").output().is_err() {
        eprintln!("SKIPPED: no setpriv to drop privileges");
        return;
    }
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_wsnoop"))
        .args(["live", "-i", "lo"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    if err.contains("Permission denied") && !err.contains("wsnoop:") {
        eprintln!("SKIPPED: user nobody cannot run the test binary here: {err}");
        return;
    }
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.starts_with("wsnoop: no permission to capture"), "{err}");
    assert!(err.contains("run as root"), "{err}");
    assert!(
        err.contains("setcap cap_net_raw,cap_net_admin=eip"),
        "{err}"
    );
}

#[test]
fn lists_interfaces_and_rejects_unknown_ones() {
    require_capture!();
    let out = Command::new(env!("CARGO_BIN_EXE_wsnoop"))
        .args(["live", "-D"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let list = String::from_utf8(out.stdout).unwrap();
    assert!(
        list.lines()
            .any(|l| l.contains(". lo ") && l.contains("loopback")),
        "{list}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_wsnoop"))
        .args(["live", "-i", "wsnoop-no-such0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "wsnoop: wsnoop-no-such0: no such interface (`wsnoop live -D` lists the interfaces)\n"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_wsnoop"))
        .args(["live", "-i", "lo", "-f", "tcp portt 1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with("wsnoop: bad capture filter: 'tcp portt 1'")
    );
}
