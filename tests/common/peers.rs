//! Generated WebSocket sessions with their ground truth, as TCP segments for the disorder
//! tests: tungstenite peers talking over a real loopback socket (every byte each one writes is
//! recorded), and forged permessage-deflate sessions (with and without context takeover,
//! fragmented compressed messages, control frames between fragments) in segments of any size.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use tungstenite::protocol::frame::Frame;
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::{Bytes, Message};
use wsnoop::event::{Opcode, Timestamp};
use wsnoop::packet::TcpFlags;

use super::disorder::{Rng, Seg};
use super::forge::{self, Deflater, LenForm};

/// (opcode, payload) per direction, c2s then s2c, as the peers sent them.
pub type Truth = [Vec<(Opcode, Vec<u8>)>; 2];

/// A generated session: its segments in wire order and what each side sent.
pub struct Session {
    pub name: String,
    pub segs: Vec<Seg>,
    pub truth: Truth,
}

/// Turns each side's writes (in wire order) into TCP segments of at most `mss` bytes, with a
/// handshake and closing FINs.
pub struct Wire {
    client: SocketAddr,
    server: SocketAddr,
    next: [u32; 2],
    clock: u64,
    pub segs: Vec<Seg>,
}

impl Wire {
    pub fn new(client: SocketAddr, server: SocketAddr, isn: [u32; 2]) -> Wire {
        let mut w = Wire {
            client,
            server,
            next: isn,
            clock: 0,
            segs: Vec::new(),
        };
        w.seg(0, "S", &[]);
        w.seg(1, "SA", &[]);
        w.seg(0, "A", &[]);
        w
    }

    fn seg(&mut self, side: usize, flags: &str, payload: &[u8]) {
        let (src, dst) = if side == 0 {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        let flags = TcpFlags {
            syn: flags.contains('S'),
            ack: flags.contains('A'),
            fin: flags.contains('F'),
            rst: flags.contains('R'),
        };
        self.clock += 10;
        let seq = self.next[side];
        self.next[side] = seq
            .wrapping_add(payload.len() as u32)
            .wrapping_add(u32::from(flags.syn) + u32::from(flags.fin));
        let id = self.segs.len();
        self.segs.push(Seg {
            src,
            dst,
            seq,
            flags,
            payload: payload.to_vec(),
            missing: 0,
            ts: Timestamp::new(
                1_700_000_000 + (self.clock / 1_000_000) as i64,
                (self.clock % 1_000_000) as u32 * 1000,
            ),
            id,
        });
    }

    pub fn send(&mut self, side: usize, data: &[u8], mss: usize) {
        for c in data.chunks(mss.max(1)) {
            self.seg(side, "PA", c);
        }
    }

    pub fn close(mut self) -> Vec<Seg> {
        self.seg(0, "FA", &[]);
        self.seg(1, "FA", &[]);
        self.seg(0, "A", &[]);
        self.segs
    }
}

fn addrs(n: u16) -> (SocketAddr, SocketAddr) {
    (
        format!("10.1.{}.{}:{}", n / 250, 1 + n % 250, 40000 + n)
            .parse()
            .expect("client"),
        format!("10.2.0.1:{}", 8000 + n % 100)
            .parse()
            .expect("server"),
    )
}

/// The vocabulary of a session's text messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Words {
    /// Mostly ASCII, with a few 2-byte characters whose second bytes are no frame header.
    Latin,
    /// Russian: `р`, `с`, `т`, `ш`, `щ`, `ъ`, `Ё` are encoded `D1 80`..`D1 8A` / `D0 81`, so
    /// their second byte followed by a space reads as an unmasked server frame header
    /// (`81 20`: a final text frame of 32 bytes). What a search for a frame boundary inside
    /// such text can find.
    Cyrillic,
}

impl Words {
    fn list(self) -> &'static [&'static str] {
        match self {
            Words::Latin => &[
                "alpha", "bravo", "charlie", "delta", "écho", "foxtrot", "golf", "hôtel", "india",
                "juliett", "kilo", "λίμα",
            ],
            Words::Cyrillic => &[
                "вопрос",
                "ответ",
                "текст",
                "привет",
                "сеть",
                "связь",
                "шифр",
                "щит",
                "объект",
                "Ёлка",
                "мир",
                "данные",
                "с",
                "т,",
                "р.",
            ],
        }
    }
}

/// Random text with a small vocabulary (so DEFLATE finds back-references, also into earlier
/// messages) or random bytes.
fn payload(rng: &mut Rng, max: usize, words: Words) -> (Opcode, Vec<u8>) {
    let words = words.list();
    let len = rng.below(max + 1);
    if rng.chance(0.6) {
        let mut s = String::new();
        while s.len() < len {
            s.push_str(words[rng.below(words.len())]);
            s.push(' ');
        }
        (Opcode::Text, s.into_bytes())
    } else {
        (Opcode::Binary, (0..len).map(|_| rng.next() as u8).collect())
    }
}

/// Everything written on the connection, in the order it was written: (side, bytes).
type WireLog = Arc<Mutex<Vec<(usize, Vec<u8>)>>>;

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
        let mut log = self.log.lock().expect("log lock");
        let n = self.inner.write(buf)?;
        log.push((self.side, buf[..n].to_vec()));
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

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

/// tungstenite client and server over 127.0.0.1: the client sends random text, binary and
/// pings (some messages fragmented), the server echoes data messages; the client closes. Truth
/// is what each peer's API received.
pub fn tungstenite_session(rng: &mut Rng, n: u16) -> Session {
    tungstenite_session_in(rng, n, Words::Latin)
}

/// [`tungstenite_session`] with text of `words`.
pub fn tungstenite_session_in(rng: &mut Rng, n: u16, words: Words) -> Session {
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
        let mut got = Vec::new();
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
    let (mut ws, _) =
        tungstenite::client::client(format!("ws://{addr}/feed?n={n}"), rec).expect("handshake");
    for _ in 0..rng.below(16) {
        let max = if rng.chance(0.1) { 70_000 } else { 400 };
        let (op, data) = payload(rng, max, words);
        if rng.chance(0.1) {
            ws.send(Message::Ping(Bytes::from(
                data[..data.len().min(125)].to_vec(),
            )))
            .expect("ping");
            continue;
        }
        let text = op == Opcode::Text;
        if rng.chance(0.3) && data.len() > 3 {
            // Fragmented: cut between whole UTF-8 characters is not needed (the receiver
            // checks the whole message), but keep text valid as a whole.
            let cut = data.len() / 2;
            let first = if text { Data::Text } else { Data::Binary };
            ws.send(Message::Frame(Frame::message(
                data[..cut].to_vec(),
                OpCode::Data(first),
                false,
            )))
            .expect("first fragment");
            ws.send(Message::Frame(Frame::message(
                data[cut..].to_vec(),
                OpCode::Data(Data::Continue),
                true,
            )))
            .expect("last fragment");
        } else if text {
            let s = String::from_utf8(data).expect("text");
            ws.send(Message::text(s)).expect("text");
        } else {
            ws.send(Message::binary(Bytes::from(data))).expect("binary");
        }
    }
    ws.close(None).expect("close");
    let mut got = Vec::new();
    loop {
        match ws.read() {
            Ok(msg) => got.extend(seen(&msg)),
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => panic!("client read: {e}"),
        }
    }
    let server_got = server.join().expect("server thread");
    let (client, server) = addrs(n);
    let mut wire = Wire::new(client, server, [rng.next() as u32, rng.next() as u32]);
    let mss = if rng.chance(0.3) {
        1 + rng.below(40)
    } else {
        1 + rng.below(1500)
    };
    for (side, bytes) in log.lock().expect("log").iter() {
        wire.send(*side, bytes, mss);
    }
    Session {
        name: format!("tungstenite #{n} (mss {mss})"),
        segs: wire.close(),
        truth: [server_got, got],
    }
}

/// A forged permessage-deflate session: both sides send random messages, compressed (with or
/// without context takeover per direction, as negotiated) or not, some fragmented with pings
/// between fragments, in a random wire interleaving and segment size.
pub fn deflate_session(rng: &mut Rng, n: u16) -> Session {
    deflate_session_in(rng, n, Words::Latin)
}

/// [`deflate_session`] with text of `words`.
pub fn deflate_session_in(rng: &mut Rng, n: u16, words: Words) -> Session {
    let takeover = [rng.chance(0.6), rng.chance(0.6)];
    let mut ext = String::from("permessage-deflate");
    if !takeover[0] {
        ext.push_str("; client_no_context_takeover");
    }
    if !takeover[1] {
        ext.push_str("; server_no_context_takeover");
    }
    let (req, resp) = forge::upgrade(Some(&ext));
    let mut deflaters = [Deflater::default(), Deflater::default()];
    let mut truth: Truth = Default::default();
    // Each side's frames as separate writes.
    let mut writes: [Vec<Vec<u8>>; 2] = [vec![req], vec![resp]];
    for side in 0..2 {
        for _ in 0..rng.below(14) {
            let max = if rng.chance(0.1) { 60_000 } else { 600 };
            let (op, data) = payload(rng, max, words);
            let compress = rng.chance(0.8);
            let wire = if compress {
                if !takeover[side] {
                    deflaters[side] = Deflater::default();
                }
                deflaters[side].message(&data)
            } else {
                data.clone()
            };
            let mask = (side == 0).then(|| (rng.next() as u32).to_be_bytes());
            let frags = 1 + rng.below(3);
            let step = wire.len().div_ceil(frags).max(1);
            let pieces: Vec<&[u8]> = if wire.is_empty() {
                vec![&[]]
            } else {
                wire.chunks(step).collect()
            };
            for (i, piece) in pieces.iter().enumerate() {
                let fin = if i + 1 == pieces.len() { 0x80 } else { 0 };
                let b0 = if i == 0 {
                    let rsv1 = if compress { 0x40 } else { 0 };
                    fin | rsv1 | if op == Opcode::Text { 1 } else { 2 }
                } else {
                    fin
                };
                writes[side].push(forge::frame_with(b0, mask, piece, LenForm::Minimal));
                if i + 1 < pieces.len() && rng.chance(0.3) {
                    let ping = b"between fragments".to_vec();
                    writes[side].push(forge::frame_with(0x89, mask, &ping, LenForm::Minimal));
                    truth[side].push((Opcode::Ping, ping));
                }
            }
            truth[side].push((op, data));
        }
        let mask = (side == 0).then(|| (rng.next() as u32).to_be_bytes());
        writes[side].push(forge::frame_with(
            0x88,
            mask,
            &[0x03, 0xe8],
            LenForm::Minimal,
        ));
        truth[side].push((Opcode::Close, vec![0x03, 0xe8]));
    }
    let (client, server) = addrs(n);
    let mut wire = Wire::new(client, server, [rng.next() as u32, rng.next() as u32]);
    let mss = if rng.chance(0.3) {
        1 + rng.below(40)
    } else {
        1 + rng.below(1500)
    };
    // The request first, then the 101, then both sides' frames in a random interleaving.
    let mut queues = writes.map(|w| w.into_iter());
    if let Some(req) = queues[0].next() {
        wire.send(0, &req, mss);
    }
    if let Some(resp) = queues[1].next() {
        wire.send(1, &resp, mss);
    }
    let (mut a, mut b): (Vec<_>, Vec<_>) =
        (queues[0].by_ref().collect(), queues[1].by_ref().collect());
    a.reverse();
    b.reverse();
    while !a.is_empty() || !b.is_empty() {
        let side = if a.is_empty() {
            1
        } else if b.is_empty() {
            0
        } else {
            rng.below(2)
        };
        let w = if side == 0 { a.pop() } else { b.pop() };
        if let Some(w) = w {
            wire.send(side, &w, mss);
        }
    }
    Session {
        name: format!(
            "deflate #{n} (takeover c2s {} s2c {}, mss {mss})",
            takeover[0], takeover[1]
        ),
        segs: wire.close(),
        truth,
    }
}
