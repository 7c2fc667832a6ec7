//! WebSockets over HTTP/2 over TLS, end to end, against independent peers: the `h2` crate's
//! client and server (RFC 8441 extended CONNECT) exchange WebSocket frames on several streams
//! at once; what each writes, in the order written, goes through a rustls client and server
//! (ALPN `h2`, TLS 1.3 and 1.2, the client's key log from rustls's own `KeyLog`); the TLS
//! bytes become a capture. `wsnoop read --keylog` must find TLS, then HTTP/2 by ALPN, then each
//! WebSocket by its stream, and list exactly the messages each side sent, per stream.

mod common;
mod h2util;
mod tlsutil;

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::process::Command;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use common::forge::{Cap, Link, Tcp};
use h2util::{Log, Tap};
use http::{Method, Request, Response, StatusCode};
use rustls::crypto::{CryptoProvider, ring as provider};
use rustls::pki_types::ServerName;
use rustls::{
    ClientConfig, ClientConnection, Connection, ServerConfig, ServerConnection,
    SupportedCipherSuite,
};
use serde_json::Value;
use tlsutil::{AnyCert, KeyLines};

const CLIENT: usize = 0;
const SERVER: usize = 1;

/// Per stream: the payloads the client sent and those the server sent, in order.
type Sent = Arc<Mutex<BTreeMap<u32, [Vec<Vec<u8>>; 2]>>>;

/// A masked client frame (RFC 6455 §5.2), FIN set; the key derived from the payload.
fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let key = [
        0x37 ^ payload.len() as u8,
        0xfa,
        0x21 ^ payload.first().copied().unwrap_or(0),
        0x3d,
    ];
    let mut f = vec![0x80 | opcode];
    header_len(&mut f, 0x80, payload.len());
    f.extend_from_slice(&key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

fn server_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x80 | opcode];
    header_len(&mut f, 0, payload.len());
    f.extend_from_slice(payload);
    f
}

fn header_len(f: &mut Vec<u8>, mask_bit: u8, len: usize) {
    if len < 126 {
        f.push(mask_bit | len as u8);
    } else {
        f.push(mask_bit | 126);
        f.extend_from_slice(&(len as u16).to_be_bytes());
    }
}

/// Whole client frames at the start of `buf`, unmasked: (opcode, payload) each; the bytes
/// used are drained.
fn take_client_frames(buf: &mut Vec<u8>) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    loop {
        if buf.len() < 2 {
            return out;
        }
        let (len, at) = match buf[1] & 0x7f {
            126 if buf.len() >= 4 => (usize::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
            126 => return out,
            n => (usize::from(n), 2),
        };
        if buf.len() < at + 4 + len {
            return out;
        }
        let key = [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]];
        let payload = buf[at + 4..at + 4 + len]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ key[i % 4])
            .collect();
        out.push((buf[0] & 0x0f, payload));
        buf.drain(..at + 4 + len);
    }
}

/// The server: every extended CONNECT is answered 200; each client message is answered with
/// a binary message holding its payload reversed.
async fn server(io: Tap, sent: Sent) {
    let mut builder = h2::server::Builder::new();
    builder.enable_connect_protocol();
    let mut conn = builder.handshake::<_, Bytes>(io).await.unwrap();
    let mut tasks = Vec::new();
    while let Some(next) = conn.accept().await {
        let (req, mut respond) = next.unwrap();
        let sent = sent.clone();
        tasks.push(tokio::spawn(async move {
            let id = u32::from(respond.stream_id());
            assert!(req.extensions().get::<h2::ext::Protocol>().is_some());
            let mut body = req.into_body();
            let resp = Response::builder().status(200).body(()).unwrap();
            let mut send = respond.send_response(resp, false).unwrap();
            let mut buf = Vec::new();
            while let Some(chunk) = body.data().await {
                let chunk = chunk.unwrap();
                body.flow_control().release_capacity(chunk.len()).unwrap();
                buf.extend_from_slice(&chunk);
                for (_, payload) in take_client_frames(&mut buf) {
                    let answer: Vec<u8> = payload.iter().rev().copied().collect();
                    sent.lock().unwrap().entry(id).or_default()[SERVER].push(answer.clone());
                    send.send_data(Bytes::from(server_frame(0x2, &answer)), false)
                        .unwrap();
                }
            }
            send.send_data(Bytes::new(), true).unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

async fn ws_stream(
    mut send_req: h2::client::SendRequest<Bytes>,
    n: usize,
    messages: Vec<Vec<u8>>,
    sent: Sent,
) {
    send_req = send_req.ready().await.unwrap();
    let mut req = Request::builder()
        .method(Method::CONNECT)
        .uri(format!("https://example.com/ws/{n}"))
        .header("sec-websocket-version", "13")
        .body(())
        .unwrap();
    req.extensions_mut()
        .insert(h2::ext::Protocol::from_static("websocket"));
    let (resp, mut send) = send_req.send_request(req, false).unwrap();
    let id = u32::from(send.stream_id());
    let resp = resp.await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.into_body();
    for m in messages {
        sent.lock().unwrap().entry(id).or_default()[CLIENT].push(m.clone());
        let want = server_frame(0x2, &m).len();
        send.send_data(Bytes::from(client_frame(0x1, &m)), false)
            .unwrap();
        let mut got = 0;
        while got < want {
            let chunk = body.data().await.unwrap().unwrap();
            body.flow_control().release_capacity(chunk.len()).unwrap();
            got += chunk.len();
        }
    }
    send.send_data(Bytes::new(), true).unwrap();
    while let Some(chunk) = body.data().await {
        chunk.unwrap();
    }
}

/// Three WebSocket streams at once; returns the plaintext each side wrote, in order, and
/// what was sent on each stream.
async fn conversation() -> (Vec<(usize, Vec<u8>)>, BTreeMap<u32, [Vec<Vec<u8>>; 2]>) {
    let log: Log = Arc::default();
    let (a, b) = tokio::io::duplex(1 << 20);
    let client = Tap {
        inner: a,
        side: CLIENT,
        log: log.clone(),
    };
    let server_io = Tap {
        inner: b,
        side: SERVER,
        log: log.clone(),
    };
    let sent: Sent = Arc::default();
    let srv = tokio::spawn(server(server_io, sent.clone()));
    let (mut send_req, conn) = h2::client::Builder::new()
        .handshake::<_, Bytes>(client)
        .await
        .unwrap();
    tokio::spawn(async move {
        conn.await.unwrap();
    });
    loop {
        send_req = send_req.ready().await.unwrap();
        if send_req.is_extended_connect_protocol_enabled() {
            break;
        }
        tokio::task::yield_now().await;
    }
    let mut tasks = Vec::new();
    for n in 0..3usize {
        // Text of every length class: short, 16-bit length, one over a TLS record's worth.
        let messages = (0..5)
            .map(|i| {
                let len = [5, 120, 300, 9_000, 20_000][(i + n) % 5];
                format!("stream {n} message {i} ")
                    .repeat(len / 20 + 1)
                    .into_bytes()
                    .into_iter()
                    .take(len)
                    .collect()
            })
            .collect();
        tasks.push(tokio::spawn(ws_stream(
            send_req.clone(),
            n,
            messages,
            sent.clone(),
        )));
    }
    for t in tasks {
        t.await.unwrap();
    }
    drop(send_req);
    srv.await.unwrap();
    let log = std::mem::take(&mut *log.lock().unwrap());
    let sent = std::mem::take(&mut *sent.lock().unwrap());
    (log, sent)
}

/// A rustls client and server for `suite`, both offering only `h2`.
fn tls_pair(suite: SupportedCipherSuite) -> ([Connection; 2], Arc<KeyLines>) {
    #[allow(deprecated)]
    let base = provider::default_provider();
    let provider = Arc::new(CryptoProvider {
        cipher_suites: vec![suite],
        ..base
    });
    let (crt, key) = tlsutil::cert("rsa");
    let mut server = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[suite.version()])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![crt], key)
        .unwrap();
    let keys = Arc::new(KeyLines::default());
    let mut client = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[suite.version()])
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCert(provider)))
        .with_no_client_auth();
    client.key_log = keys.clone();
    client.alpn_protocols = vec![b"h2".to_vec()];
    server.alpn_protocols = vec![b"h2".to_vec()];
    let name = ServerName::try_from("example.com").unwrap();
    let c = ClientConnection::new(Arc::new(client), name).unwrap();
    let s = ServerConnection::new(Arc::new(server)).unwrap();
    ([c.into(), s.into()], keys)
}

/// Moves what either side has to write to the other until both are quiet; returns the TLS
/// bytes in the order they were written.
fn pump(conns: &mut [Connection; 2], wire: &mut Vec<(usize, Vec<u8>)>) {
    loop {
        let mut moved = false;
        for side in 0..2 {
            let mut buf = Vec::new();
            while conns[side].wants_write() {
                conns[side].write_tls(&mut buf).unwrap();
            }
            if buf.is_empty() {
                continue;
            }
            moved = true;
            wire.push((side, buf.clone()));
            let other = &mut conns[1 - side];
            let mut rd = &buf[..];
            while !rd.is_empty() {
                other.read_tls(&mut rd).unwrap();
                other.process_new_packets().unwrap();
                let mut got = Vec::new();
                match other.reader().read_to_end(&mut got) {
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => panic!("{e}"),
                }
            }
        }
        if !moved {
            return;
        }
    }
}

/// The h2 peers' plaintext, written in its order through TLS: the capture and its key log.
fn capture(suite: SupportedCipherSuite, plain: &[(usize, Vec<u8>)]) -> (Vec<u8>, String) {
    let (mut conns, keys) = tls_pair(suite);
    let mut wire = Vec::new();
    pump(&mut conns, &mut wire);
    assert_eq!(
        conns[0].alpn_protocol(),
        Some(&b"h2"[..]),
        "ALPN settled on h2"
    );
    for (side, bytes) in plain {
        conns[*side].writer().write_all(bytes).unwrap();
        pump(&mut conns, &mut wire);
    }
    for c in &mut conns {
        c.send_close_notify();
    }
    pump(&mut conns, &mut wire);
    let mut t = Tcp::new("10.44.0.1:51000", "10.44.0.2:443", [7_000, 9_000]);
    let mut cap = Cap::new(Link::Ethernet);
    let s = t.syn();
    cap.put(&t, &s);
    for (side, bytes) in &wire {
        let s = t.segs(*side, bytes, 1448);
        cap.put(&t, &s);
    }
    let s = t.fin();
    cap.put(&t, &s);
    let keys = keys.0.lock().unwrap().clone();
    (cap.pcap(), keys)
}

fn payload(line: &Value) -> Vec<u8> {
    if let Some(t) = line["text"].as_str() {
        return t.as_bytes().to_vec();
    }
    line["data_b64"]
        .as_str()
        .map(|b| base64_simd::STANDARD.decode_to_vec(b).expect("base64"))
        .unwrap_or_default()
}

#[tokio::test(flavor = "current_thread")]
async fn websockets_over_h2_over_tls_decode_exactly_per_stream() {
    let (plain, sent) = conversation().await;
    assert_eq!(sent.len(), 3, "three WebSocket streams");
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("h2_tls_peer");
    std::fs::create_dir_all(&dir).unwrap();
    for suite in [
        provider::cipher_suite::TLS13_AES_128_GCM_SHA256,
        provider::cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ] {
        let name = format!("{:?}", suite.suite());
        let (pcap, keys) = capture(suite, &plain);
        let pcap_path = dir.join(format!("{name}.pcap"));
        let keys_path = dir.join(format!("{name}.keys"));
        std::fs::write(&pcap_path, pcap).unwrap();
        std::fs::write(&keys_path, keys).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_wsnoop"))
            .arg("read")
            .arg(&pcap_path)
            .arg("--keylog")
            .arg(&keys_path)
            .arg("--json")
            .env_remove("SSLKEYLOGFILE")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines = common::parse_lines(&out.stdout);
        let anomalies: Vec<&Value> = lines.iter().filter(|l| l["event"] == "anomaly").collect();
        assert!(anomalies.is_empty(), "{name}: {anomalies:?}");
        let opens: Vec<&Value> = lines.iter().filter(|l| l["event"] == "open").collect();
        assert_eq!(opens.len(), 3, "{name}: one open per stream");
        for o in &opens {
            assert_eq!(o["http"], "2", "{name}");
            assert_eq!(o["tls"]["alpn"], "h2", "{name}");
            assert_eq!(o["method"], "CONNECT", "{name}");
        }
        let mut got: BTreeMap<u32, [Vec<Vec<u8>>; 2]> = BTreeMap::new();
        for l in lines.iter().filter(|l| l["event"] == "message") {
            let stream = u32::try_from(l["stream"].as_u64().expect("stream")).unwrap();
            let dir = usize::from(l["dir"] == "s2c");
            got.entry(stream).or_default()[dir].push(payload(l));
        }
        assert_eq!(got, sent, "{name}: every stream's messages, each way");
    }
}
