//! `wsnoop live --keylog FILE` on `lo` against a real wss exchange: a rustls server and a
//! rustls client over 127.0.0.1 with tungstenite on top, the client's own `KeyLog` writing
//! NSS key log lines to the file wsnoop follows. Every message comes out exactly (payload,
//! opcode, direction), the open line carries the TLS facts rustls itself negotiated, and keys
//! that reach the file only after the connection has carried messages still decrypt them all.
//! Needs root: skipped with a printed reason otherwise.
#![cfg(feature = "live")]

mod live_util;
mod tlsutil;

use std::fs::OpenOptions;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rustls::crypto::ring as provider;
use rustls::pki_types::ServerName;
use rustls::{
    ClientConfig, ClientConnection, ServerConfig, ServerConnection, StreamOwned,
    SupportedProtocolVersion,
};
use serde_json::Value;
use tlsutil::AnyCert;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Message, WebSocket};

use live_util::{Wsnoop, describe, is_event};

/// Longest a peer waits on its socket: a stuck exchange fails the test instead of hanging it.
const PEER_TIMEOUT: Duration = Duration::from_secs(10);

/// The client's key log, in the NSS format wsnoop reads. While `held` is `Some`, lines are
/// kept in memory (a client that has not written its key log yet); after
/// [`FileKeyLog::release`] they, and every later one, are appended to the file.
#[derive(Debug)]
struct FileKeyLog {
    path: PathBuf,
    held: Mutex<Option<String>>,
    /// Every line logged, for checking which secrets the test gave wsnoop.
    all: Mutex<Vec<String>>,
}

impl FileKeyLog {
    fn new(path: &Path, hold: bool) -> Arc<FileKeyLog> {
        Arc::new(FileKeyLog {
            path: path.to_path_buf(),
            held: Mutex::new(hold.then(String::new)),
            all: Mutex::new(Vec::new()),
        })
    }

    fn append(&self, text: &str) {
        // One write per batch of whole lines: wsnoop takes only lines with their newline.
        let mut f = OpenOptions::new()
            .append(true)
            .create(true)
            .open(&self.path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f.flush().unwrap();
    }

    /// Writes the held lines to the file; from now on lines go straight there.
    fn release(&self) {
        let mut held = self.held.lock().unwrap();
        if let Some(text) = held.take() {
            self.append(&text);
        }
    }

    fn labels(&self) -> Vec<String> {
        self.all
            .lock()
            .unwrap()
            .iter()
            .map(|l| l.split(' ').next().unwrap().to_string())
            .collect()
    }
}

impl rustls::KeyLog for FileKeyLog {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let line = tlsutil::nss_line(label, client_random, secret);
        self.all.lock().unwrap().push(line.clone());
        let mut held = self.held.lock().unwrap();
        match held.as_mut() {
            Some(text) => text.push_str(&line),
            None => self.append(&line),
        }
    }
}

fn configs(
    version: &'static SupportedProtocolVersion,
    log: Arc<FileKeyLog>,
) -> (Arc<ClientConfig>, Arc<ServerConfig>) {
    let (crt, key) = tlsutil::cert("rsa");
    // Deprecated for lacking post-quantum key exchange, which records do not care about;
    // it is the provider that needs no cmake (aws-lc).
    #[allow(deprecated)]
    let provider = Arc::new(provider::default_provider());
    let mut server = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[version])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![crt], key)
        .unwrap();
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    let mut client = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[version])
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCert(provider)))
        .with_no_client_auth();
    client.alpn_protocols = vec![b"http/1.1".to_vec()];
    client.key_log = log;
    (Arc::new(client), Arc::new(server))
}

type Wss = WebSocket<StreamOwned<ClientConnection, TcpStream>>;

/// A wss echo server for one connection on `listener`: text and binary come back as they
/// came (tungstenite answers pings and closes itself).
fn wss_echo(listener: TcpListener, config: Arc<ServerConfig>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(PEER_TIMEOUT)).unwrap();
        tcp.set_write_timeout(Some(PEER_TIMEOUT)).unwrap();
        tcp.set_nodelay(true).unwrap();
        let tls = StreamOwned::new(ServerConnection::new(config).unwrap(), tcp);
        let mut ws = tungstenite::accept(tls).unwrap();
        loop {
            match ws.read() {
                Ok(m) if m.is_text() || m.is_binary() => ws.send(m).unwrap(),
                Ok(_) => {}
                Err(tungstenite::Error::ConnectionClosed) => break,
                Err(e) => panic!("server: {e}"),
            }
        }
        // A TLS end as a browser's server would end it: close_notify, then TCP FIN.
        let tls = ws.get_mut();
        tls.conn.send_close_notify();
        tls.flush().unwrap();
    })
}

/// The client's side of a wss connection to 127.0.0.1:`port`, handshakes done.
fn wss_client(port: u16, config: Arc<ClientConfig>) -> Wss {
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(PEER_TIMEOUT)).unwrap();
    tcp.set_write_timeout(Some(PEER_TIMEOUT)).unwrap();
    tcp.set_nodelay(true).unwrap();
    let conn = ClientConnection::new(config, ServerName::try_from("localhost").unwrap()).unwrap();
    let tls = StreamOwned::new(conn, tcp);
    let (ws, resp) = tungstenite::client(format!("wss://127.0.0.1:{port}/live-tls"), tls).unwrap();
    assert_eq!(resp.status(), 101);
    ws
}

/// Deterministic bytes (xorshift64*), so a failure reproduces.
fn noise(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

/// Sends `m` and reads back its echo; returns the expected description of both directions.
fn echo(ws: &mut Wss, m: Message) -> [String; 2] {
    ws.send(m.clone()).unwrap();
    let back = ws.read().unwrap();
    assert_eq!(back, m, "echo");
    let d = match &m {
        Message::Text(t) => format!("text {:?}", t.as_str()),
        Message::Binary(b) => format!("binary b64:{}", b64(b)),
        other => panic!("not echoed: {other:?}"),
    };
    [format!("c2s {d}"), format!("s2c {d}")]
}

/// A ping from the client, answered by the server's tungstenite with the same payload.
fn ping(ws: &mut Wss, payload: &[u8]) -> [String; 2] {
    ws.send(Message::Ping(payload.to_vec().into())).unwrap();
    assert_eq!(ws.read().unwrap(), Message::Pong(payload.to_vec().into()));
    let d = format!("b64:{}", b64(payload));
    [format!("c2s ping {d}"), format!("s2c pong {d}")]
}

/// The client closes (1000, "bye"); the server's tungstenite echoes the close.
fn close(ws: &mut Wss) -> [String; 2] {
    ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "bye".into(),
    }))
    .unwrap();
    loop {
        match ws.read() {
            Ok(Message::Close(Some(f))) => {
                assert_eq!((f.code, f.reason.as_str()), (CloseCode::Normal, "bye"));
            }
            Ok(other) => panic!("after close: {other:?}"),
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => panic!("client close: {e}"),
        }
    }
    let tls = ws.get_mut();
    tls.conn.send_close_notify();
    tls.flush().unwrap();
    [
        "c2s close code:1000 reason:\"bye\"".to_string(),
        "s2c close code:1000 reason:\"bye\"".to_string(),
    ]
}

/// Messages of both directions: texts (ASCII, empty, multi-byte), binaries (small, empty, and
/// one of many TLS records), a ping; `tag` makes each run's payloads its own.
fn exchange(ws: &mut Wss, tag: &str, seed: u64) -> Vec<String> {
    let mut want = Vec::new();
    want.extend(echo(
        ws,
        Message::Text(format!("hello over wss {tag}").into()),
    ));
    want.extend(echo(
        ws,
        Message::Binary(vec![0u8, 1, 2, 0xfe, 0xff].into()),
    ));
    want.extend(ping(ws, format!("ping {tag}").as_bytes()));
    want.extend(echo(ws, Message::Text("".into())));
    want.extend(echo(
        ws,
        Message::Text(format!("Ελληνικά ✓ 🚀 {tag}").into()),
    ));
    want.extend(echo(ws, Message::Binary(Vec::new().into())));
    // 100 kB: seven TLS records (16 kB of plaintext each) and several TCP segments.
    want.extend(echo(ws, Message::Binary(noise(seed, 100_000).into())));
    want
}

fn b64(data: &[u8]) -> String {
    base64_simd::STANDARD.encode_to_string(data)
}

/// `wsnoop live` killed if the test fails before stopping it: no capture outlives the test.
struct Running(Option<Wsnoop>);

impl Running {
    fn get(&mut self) -> &mut Wsnoop {
        self.0.as_mut().unwrap()
    }
    fn terminate(mut self) -> (std::process::ExitStatus, Vec<Value>) {
        self.0.take().unwrap().terminate()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(w) = self.0.as_mut()
            && let Ok(None) = w.child.try_wait()
        {
            let _ = w.child.kill();
            let _ = w.child.wait();
        }
    }
}

/// Output lines arriving within `for_` (kept in `seen`).
fn collect_for(w: &mut Wsnoop, for_: Duration) -> Vec<Value> {
    let lines = w.lines.as_ref().unwrap();
    let until = Instant::now() + for_;
    let mut got = Vec::new();
    while let Ok((_, line)) = lines.recv_timeout(until.saturating_duration_since(Instant::now())) {
        let v: Value = serde_json::from_str(&line).unwrap();
        w.seen.push(v.clone());
        got.push(v);
    }
    got
}

/// Every message line of connection `conn`, described, in output order.
fn messages_of(all: &[Value], conn: u64) -> Vec<String> {
    all.iter()
        .filter(|v| is_event(v, "message") && v["conn"] == conn)
        .map(describe)
        .collect()
}

/// The open line of the connection from client port `client_port`.
fn open_of(all: &[Value], client_port: u16) -> Value {
    let client = format!("127.0.0.1:{client_port}");
    let opens: Vec<&Value> = all
        .iter()
        .filter(|v| is_event(v, "open") && v["client"] == client.as_str())
        .collect();
    assert_eq!(opens.len(), 1, "open of {client}: {all:#?}");
    opens[0].clone()
}

/// The `tls` object rustls's own view of the client connection says the open must carry.
fn tls_facts(ws: &Wss) -> Value {
    let conn = &ws.get_ref().conn;
    let version = match conn.protocol_version().unwrap() {
        rustls::ProtocolVersion::TLSv1_3 => "1.3",
        rustls::ProtocolVersion::TLSv1_2 => "1.2",
        other => panic!("{other:?}"),
    };
    let cipher = conn
        .negotiated_cipher_suite()
        .unwrap()
        .suite()
        .as_str()
        .unwrap()
        .replacen("TLS13_", "TLS_", 1);
    serde_json::json!({
        "version": version,
        "cipher": cipher,
        "sni": "localhost",
        "alpn": String::from_utf8(conn.alpn_protocol().unwrap().to_vec()).unwrap(),
        "resumed": false,
    })
}

fn assert_clean(all: &[Value]) {
    let anomalies: Vec<&Value> = all.iter().filter(|v| is_event(v, "anomaly")).collect();
    assert!(anomalies.is_empty(), "anomalies: {anomalies:#?}");
}

/// One wss connection of a given TLS version while wsnoop runs, keys written as rustls logs
/// them: (client port, expected messages, expected tls object).
fn run_connection(
    port: u16,
    version: &'static SupportedProtocolVersion,
    log: Arc<FileKeyLog>,
    tag: &str,
    seed: u64,
) -> (u16, Vec<String>, Value) {
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let (client_cfg, server_cfg) = configs(version, log);
    let server = wss_echo(listener, server_cfg);
    let mut ws = wss_client(port, client_cfg);
    let client_port = ws.get_ref().sock.local_addr().unwrap().port();
    let facts = tls_facts(&ws);
    let mut want = exchange(&mut ws, tag, seed);
    want.extend(close(&mut ws));
    drop(ws);
    server.join().unwrap();
    (client_port, want, facts)
}

#[test]
fn wss_with_keys_logged_as_the_handshake_happens_decodes_exactly() {
    require_capture!();
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys.log");
    std::fs::write(&keys, "").unwrap();
    let port = live_util::free_port();
    let bpf = format!("tcp port {port}");
    let Some(w) = live_util::start(&["-f", &bpf, "--json", "--keylog", keys.to_str().unwrap()])
    else {
        return;
    };
    let mut w = Running(Some(w));

    let log13 = FileKeyLog::new(&keys, false);
    let (port13, want13, tls13) =
        run_connection(port, &rustls::version::TLS13, log13.clone(), "1.3", 13);
    let mut labels = log13.labels();
    labels.sort();
    assert_eq!(
        labels,
        [
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            "CLIENT_TRAFFIC_SECRET_0",
            "EXPORTER_SECRET",
            "SERVER_HANDSHAKE_TRAFFIC_SECRET",
            "SERVER_TRAFFIC_SECRET_0"
        ]
    );
    let open13 = w.get().wait_for("TLS 1.3 open", |v| {
        is_event(v, "open") && v["client"] == format!("127.0.0.1:{port13}").as_str()
    });
    let conn13 = open13["conn"].as_u64().unwrap();
    w.get()
        .wait_for("TLS 1.3 end", |v| is_event(v, "end") && v["conn"] == conn13);

    let log12 = FileKeyLog::new(&keys, false);
    let (port12, want12, tls12) =
        run_connection(port, &rustls::version::TLS12, log12.clone(), "1.2", 12);
    assert_eq!(log12.labels(), ["CLIENT_RANDOM"]);
    let open12 = w.get().wait_for("TLS 1.2 open", |v| {
        is_event(v, "open") && v["client"] == format!("127.0.0.1:{port12}").as_str()
    });
    let conn12 = open12["conn"].as_u64().unwrap();
    w.get()
        .wait_for("TLS 1.2 end", |v| is_event(v, "end") && v["conn"] == conn12);

    let (status, all) = w.terminate();
    assert!(status.success(), "exit status {status}");
    for (client_port, want, tls) in [(port13, &want13, &tls13), (port12, &want12, &tls12)] {
        let open = open_of(&all, client_port);
        assert_eq!(open["tls"], *tls, "{open}");
        assert_eq!(open["uri"], "/live-tls");
        assert_eq!(open["server"], format!("127.0.0.1:{port}"));
        let conn = open["conn"].as_u64().unwrap();
        assert_eq!(messages_of(&all, conn), *want);
        let end: Vec<&Value> = all
            .iter()
            .filter(|v| is_event(v, "end") && v["conn"] == conn)
            .collect();
        assert_eq!(end.len(), 1);
    }
    assert_eq!(tls13["version"], "1.3");
    assert_eq!(tls12["version"], "1.2");
    assert_clean(&all);
    eprintln!("keys as the handshake happens: {:?}", started.elapsed());
}

#[test]
fn wss_with_keys_appended_after_messages_decodes_every_message() {
    require_capture!();
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys.log");
    std::fs::write(&keys, "").unwrap();
    let port = live_util::free_port();
    let bpf = format!("tcp port {port}");
    // About 205 kB of records are held before the keys come: within the limit, said here
    // because the test depends on it.
    let Some(w) = live_util::start(&[
        "-f",
        &bpf,
        "--json",
        "--keylog",
        keys.to_str().unwrap(),
        "--max-tls-pending-bytes",
        "1M",
    ]) else {
        return;
    };
    let mut w = Running(Some(w));

    let log = FileKeyLog::new(&keys, true);
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let (client_cfg, server_cfg) = configs(&rustls::version::TLS13, log.clone());
    let server = wss_echo(listener, server_cfg);
    let mut ws = wss_client(port, client_cfg);
    let client_port = ws.get_ref().sock.local_addr().unwrap().port();
    let tls = tls_facts(&ws);
    let mut want = exchange(&mut ws, "before the keys", 21);

    // Without keys wsnoop holds the records: nothing of this connection is out yet.
    let early = collect_for(w.get(), Duration::from_millis(500));
    assert!(early.is_empty(), "output before the keys: {early:#?}");
    assert_eq!(std::fs::read(&keys).unwrap(), b"");

    log.release();
    assert_eq!(log.labels().len(), 5);
    let open = w
        .get()
        .wait_for("open after the keys", |v| is_event(v, "open"));
    let conn = open["conn"].as_u64().unwrap();
    let first = want[0].clone();
    w.get().wait_for("the first message", |v| {
        is_event(v, "message") && v["conn"] == conn && describe(v) == first
    });

    want.extend(exchange(&mut ws, "after the keys", 22));
    want.extend(close(&mut ws));
    drop(ws);
    server.join().unwrap();
    w.get()
        .wait_for("end", |v| is_event(v, "end") && v["conn"] == conn);

    let (status, all) = w.terminate();
    assert!(status.success(), "exit status {status}");
    let open = open_of(&all, client_port);
    assert_eq!(open["tls"], tls, "{open}");
    assert_eq!(open["uri"], "/live-tls");
    assert_eq!(messages_of(&all, conn), want);
    assert_clean(&all);
    eprintln!("keys after messages: {:?}", started.elapsed());
}
