//! An independent WebSocket implementation (tungstenite) talks to itself over a real loopback
//! socket; every byte each peer writes is recorded, turned into TCP packets, and decoded by the
//! engine. The messages the engine reports must be exactly those the peers' own APIs sent and
//! received.

mod common;

use std::io::{self, Read, Write};
use std::net::{SocketAddrV4, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Bytes, Message};
use wsnoop::capture::CaptureReader;
use wsnoop::event::{Dir, EventKind, Opcode};
use wsnoop::{Engine, Limits};

use common::synth::Conv;

/// Everything written on the connection, in the order it was written: (side, bytes),
/// side 0 = client.
type WireLog = Arc<Mutex<Vec<(usize, Vec<u8>)>>>;

/// A stream that logs what it writes.
struct Recorder {
    inner: TcpStream,
    side: usize,
    log: WireLog,
}

impl Read for Recorder {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl Write for Recorder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Log under the lock and write while holding it, so the log's order is the wire's.
        let mut log = self.log.lock().expect("log lock");
        let n = self.inner.write(buf)?;
        log.push((self.side, buf[..n].to_vec()));
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// (opcode, payload) as a peer's API saw it.
type Seen = Vec<(Opcode, Vec<u8>)>;

fn seen(msg: &Message) -> Option<(Opcode, Vec<u8>)> {
    Some(match msg {
        Message::Text(t) => (Opcode::Text, t.as_bytes().to_vec()),
        Message::Binary(b) => (Opcode::Binary, b.to_vec()),
        Message::Ping(p) => (Opcode::Ping, p.to_vec()),
        Message::Pong(p) => (Opcode::Pong, p.to_vec()),
        Message::Close(Some(c)) => {
            let mut p = u16::from(c.code).to_be_bytes().to_vec();
            p.extend_from_slice(c.reason.as_bytes());
            (Opcode::Close, p)
        }
        Message::Close(None) => (Opcode::Close, Vec::new()),
        Message::Frame(_) => return None,
    })
}

fn to_send() -> Vec<Message> {
    let utf8 = "héllo wörld — 你好 🚀 ".repeat(400);
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    vec![
        Message::text("hello"),
        Message::binary(Bytes::from_static(&[0, 1, 2, 0xff])),
        Message::Ping(Bytes::from_static(b"are you there")),
        Message::text(utf8),
        Message::text(""),
        Message::binary(Bytes::from(vec![0x81u8; 126])),
        Message::binary(Bytes::from(vec![0x42u8; 65_536])),
        Message::binary(Bytes::from(big)),
        Message::Close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "bye".into(),
        })),
    ]
}

/// Runs the exchange; returns the wire log and what each side's API received.
fn exchange() -> (WireLog, Seen, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    let log: WireLog = Arc::default();
    let server_log = Arc::clone(&log);
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        let rec = Recorder {
            inner: stream,
            side: 1,
            log: server_log,
        };
        let mut ws = tungstenite::accept(rec).expect("server handshake");
        let mut got = Seen::new();
        loop {
            match ws.read() {
                Ok(msg) => {
                    got.extend(seen(&msg));
                    if msg.is_text() || msg.is_binary() {
                        ws.send(msg).expect("echo");
                    }
                }
                Err(tungstenite::Error::ConnectionClosed) => break,
                Err(e) => panic!("server read: {e}"),
            }
        }
        got
    });
    let stream = TcpStream::connect(addr).expect("connect");
    let rec = Recorder {
        inner: stream,
        side: 0,
        log: Arc::clone(&log),
    };
    let url = format!("ws://{addr}/chat?room=1");
    let (mut ws, _) = tungstenite::client::client(url, rec).expect("client handshake");
    for msg in to_send() {
        ws.send(msg).expect("send");
    }
    let mut got = Seen::new();
    loop {
        match ws.read() {
            Ok(msg) => got.extend(seen(&msg)),
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => panic!("client read: {e}"),
        }
    }
    let server_got = server.join().expect("server thread");
    (log, server_got, got)
}

#[test]
fn tungstenite_exchange_decodes_exactly() {
    let (log, c2s_truth, s2c_truth) = exchange();
    // The peers' own view must be what the test meant to send (a sanity check on the test).
    assert_eq!(c2s_truth.len(), to_send().len());

    let client: SocketAddrV4 = "127.0.0.1:40001".parse().expect("addr");
    let server: SocketAddrV4 = "127.0.0.1:9001".parse().expect("addr");
    let mut conv = Conv::new(client, server, [0x1000_0000, 0xffff_f000]);
    conv.handshake();
    for (side, bytes) in log.lock().expect("log").iter() {
        conv.send(*side, bytes);
    }
    conv.close();

    // Through the real file reader, as `wsnoop read` does.
    let pcap = conv.pcap();
    let mut reader = CaptureReader::new(pcap.as_slice(), &Limits::default()).expect("pcap");
    let mut engine = Engine::new(Limits::default());
    let mut events = Vec::new();
    while let Some(pkt) = reader.next_packet().expect("packet") {
        engine.packet(&pkt, &mut events);
    }
    engine.finish(&mut events);

    let mut got: [Seen; 2] = Default::default();
    let mut opens = 0;
    for ev in &events {
        match &ev.kind {
            EventKind::Open(info) => {
                opens += 1;
                assert_eq!(info.uri.as_deref(), Some("/chat?room=1"));
            }
            EventKind::Message { dir, msg } => {
                got[dir.index()].push((msg.opcode, msg.payload.clone()));
            }
            EventKind::Anomaly { anomaly, .. } => panic!("unexpected anomaly {anomaly:?}"),
            EventKind::Proto(unit) => panic!("unexpected protocol unit {unit:?}"),
            EventKind::Refused(r) => panic!("unexpected refusal {r:?}"),
            EventKind::End { how, .. } => assert_eq!(how.as_str(), "fin"),
            EventKind::Silence { .. } => panic!("no silence alarm was asked for"),
        }
    }
    assert_eq!(opens, 1);
    assert_eq!(got[Dir::C2s.index()], c2s_truth);
    assert_eq!(got[Dir::S2c.index()], s2c_truth);
}
