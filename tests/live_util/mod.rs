//! Helpers for the live-capture tests: root check, running `wsnoop live` on `lo`, WebSocket
//! peers on 127.0.0.1 (tungstenite, and hand-written frames for permessage-deflate).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long a message may take to show up (the goal is under a second).
pub const PROMPT: Duration = Duration::from_secs(3);

/// `Some(reason)` when live capture on `lo` cannot be tested here.
pub fn skip_reason() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        == Some("0");
    if !root {
        return Some("not root: live capture needs root (or cap_net_raw)".into());
    }
    if !Path::new("/sys/class/net/lo").exists() {
        return Some("no loopback interface `lo`".into());
    }
    None
}

/// Skip the calling test with a printed reason when capture is impossible.
#[macro_export]
macro_rules! require_capture {
    () => {
        if let Some(why) = live_util::skip_reason() {
            eprintln!("SKIPPED: {why}");
            return;
        }
    };
}

/// A free TCP port on 127.0.0.1 (bound and released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Wsnoop {
    pub child: Child,
    /// Standard output lines as they arrive (when not written to a file).
    pub lines: Option<Receiver<(Instant, String)>>,
    pub stderr: Receiver<String>,
    /// Lines already taken from `lines`.
    pub seen: Vec<Value>,
}

/// Runs `wsnoop live -i lo <args>` and waits until it is capturing. `None` (with a printed
/// reason) when capture on `lo` turns out impossible.
pub fn start(args: &[&str]) -> Option<Wsnoop> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wsnoop"))
        .arg("live")
        .args(["-i", "lo"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (etx, stderr) = channel();
    let err = child.stderr.take().unwrap();
    thread::spawn(move || {
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            eprintln!("[wsnoop] {line}");
            if etx.send(line).is_err() {
                break;
            }
        }
    });
    let (ltx, lines) = channel();
    let out = child.stdout.take().unwrap();
    thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if ltx.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match stderr.recv_timeout(Duration::from_millis(100)) {
            Ok(line) if line.contains("listening on") => break,
            Ok(line) if line.contains("no permission") || line.contains("no such interface") => {
                eprintln!("SKIPPED: {line}");
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(_) => {}
            Err(_) => {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("wsnoop live exited early: {status}");
                }
                if Instant::now() >= deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("wsnoop live did not start");
                }
            }
        }
    }
    // The kernel socket is bound once `listening on` is printed; give libpcap's ring a
    // moment before traffic starts.
    thread::sleep(Duration::from_millis(200));
    Some(Wsnoop {
        child,
        lines: Some(lines),
        stderr,
        seen: Vec::new(),
    })
}

impl Wsnoop {
    /// Waits (at most [`PROMPT`]) for an output line matching `pred`; returns it.
    pub fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(v) = self.seen.iter().find(|v| pred(v)) {
            return v.clone();
        }
        let lines = self.lines.as_ref().expect("output goes to stdout");
        let deadline = Instant::now() + PROMPT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok((_, line)) => {
                    let v: Value = serde_json::from_str(&line)
                        .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                    self.seen.push(v.clone());
                    if pred(&v) {
                        return v;
                    }
                }
                Err(_) => panic!(
                    "no {what} within {PROMPT:?}; seen so far:\n{}",
                    self.seen
                        .iter()
                        .map(Value::to_string)
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
            }
        }
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig} failed");
    }

    /// SIGTERM, then the exit status and every remaining output line.
    pub fn terminate(mut self) -> (ExitStatus, Vec<Value>) {
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "wsnoop did not stop on SIGTERM");
            thread::sleep(Duration::from_millis(20));
        };
        let mut all = std::mem::take(&mut self.seen);
        if let Some(lines) = self.lines.take() {
            while let Ok((_, line)) = lines.recv_timeout(Duration::from_secs(2)) {
                all.push(serde_json::from_str(&line).unwrap());
            }
        }
        (status, all)
    }
}

/// JSON lines of a file.
pub fn read_json_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// A compact description of a message event: `dir opcode content [frames] [compressed]`.
pub fn describe(v: &Value) -> String {
    let mut s = format!(
        "{} {}",
        v["dir"].as_str().unwrap_or("?"),
        v["opcode"].as_str().unwrap_or("?")
    );
    if let Some(t) = v["text"].as_str() {
        s.push_str(&format!(" {t:?}"));
    }
    if let Some(d) = v["data_b64"].as_str() {
        s.push_str(&format!(" b64:{d}"));
    }
    if let Some(c) = v["close_code"].as_u64() {
        s.push_str(&format!(" code:{c}"));
    }
    if let Some(r) = v["close_reason"].as_str() {
        s.push_str(&format!(" reason:{r:?}"));
    }
    if v["frames"].as_u64().unwrap_or(1) > 1 {
        s.push_str(&format!(" frames:{}", v["frames"]));
    }
    if v["compressed"].as_bool() == Some(true) {
        s.push_str(" compressed");
    }
    s
}

pub fn is_event(v: &Value, event: &str) -> bool {
    v["event"].as_str() == Some(event)
}

/// A tungstenite echo server on `port`, one thread per connection, for `conns` connections;
/// the handle returns when they are all done.
pub fn echo_server(port: u16, conns: usize) -> thread::JoinHandle<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    thread::spawn(move || {
        let mut handlers = Vec::new();
        for _ in 0..conns {
            let Ok((stream, _)) = listener.accept() else {
                break;
            };
            // Finished handlers are detached, so a long run does not pile up thread stacks.
            handlers.retain(|h: &thread::JoinHandle<()>| !h.is_finished());
            handlers.push(thread::spawn(move || echo(stream)));
        }
        for h in handlers {
            let _ = h.join();
        }
    })
}

fn echo(stream: TcpStream) {
    let Ok(mut ws) = tungstenite::accept(stream) else {
        return;
    };
    loop {
        match ws.read() {
            Ok(m) if m.is_text() || m.is_binary() => {
                if ws.send(m).is_err() {
                    break;
                }
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
}

/// RFC 6455 §1.3's example key and its accept value.
pub const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
pub const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// A connection with permessage-deflate (RFC 7692) negotiated by hand, both ends in this
/// process: `(client, server)` streams after the handshake.
pub fn deflate_pair(port: u16) -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    let req = format!(
        "GET /deflate HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
    );
    client.write_all(req.as_bytes()).unwrap();
    read_head(&mut server);
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {ACCEPT}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
    );
    server.write_all(resp.as_bytes()).unwrap();
    read_head(&mut client);
    (client, server)
}

fn read_head(s: &mut TcpStream) {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            s.read(&mut b).unwrap(),
            1,
            "connection closed in the handshake"
        );
        head.push(b[0]);
    }
}

/// One direction's deflater with context takeover (RFC 7692 §7.2.1).
pub struct Deflater(flate2::Compress);

impl Default for Deflater {
    fn default() -> Self {
        Deflater(flate2::Compress::new(flate2::Compression::default(), false))
    }
}

impl Deflater {
    /// The compressed payload of one message: sync-flushed, the final 00 00 ff ff removed.
    pub fn message(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + 64);
        self.0
            .compress_vec(data, &mut out, flate2::FlushCompress::Sync)
            .unwrap();
        assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
        out.truncate(out.len() - 4);
        out
    }
}

/// One frame (payload < 126 bytes here): FIN, RSV1 as given, masked when `mask` is given.
pub fn frame(fin: bool, rsv1: bool, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mut f = vec![
        (u8::from(fin) << 7) | (u8::from(rsv1) << 6) | opcode,
        payload.len() as u8 | if mask.is_some() { 0x80 } else { 0 },
    ];
    match mask {
        Some(m) => {
            f.extend_from_slice(&m);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ m[i % 4]));
        }
        None => f.extend_from_slice(payload),
    }
    f
}
