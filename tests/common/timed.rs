//! Real peers on a virtual clock: every byte a peer writes on a loopback socket is logged with
//! the clock's time, and a peer "waits" by advancing the clock (and sleeping as long for
//! real). The log then becomes TCP packets whose capture times are exactly those of the clock,
//! so timing figures computed from the capture can be asserted exactly.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::forge::{Cap, Link, Tcp};
use wsnoop::capture::CaptureReader;
use wsnoop::event::Event;
use wsnoop::{Engine, Limits};

/// The clock in microseconds after the TCP handshake, and what was written: (time, side,
/// bytes), side 0 = client.
#[derive(Default)]
pub struct Wire {
    pub clock: u64,
    pub log: Vec<(u64, usize, Vec<u8>)>,
}

pub type Shared = Arc<Mutex<Wire>>;

/// Starts the clock at `at` µs.
pub fn wire(at: u64) -> Shared {
    Arc::new(Mutex::new(Wire {
        clock: at,
        log: Vec::new(),
    }))
}

/// Waits `us` microseconds: on the clock and for real.
pub fn advance(w: &Shared, us: u64) {
    std::thread::sleep(Duration::from_micros(us));
    w.lock().expect("wire lock").clock += us;
}

/// A socket that logs what it writes at the clock's time.
pub struct Recorder {
    pub inner: TcpStream,
    pub side: usize,
    pub wire: Shared,
}

impl Read for Recorder {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl Write for Recorder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Written under the lock, so the log's order is the wire's.
        let mut w = self.wire.lock().expect("wire lock");
        let n = self.inner.write(buf)?;
        let at = w.clock;
        w.log.push((at, self.side, buf[..n].to_vec()));
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// How the TCP connection ends in the capture (the recorder sees bytes, not FIN or RST: the
/// test says when and how).
#[derive(Clone, Copy, Debug)]
pub enum Teardown {
    /// `first` sends FIN at `at`, the other side at `second_at`.
    Fin {
        first: usize,
        at: u64,
        second_at: u64,
    },
    /// `side` resets the connection at `at`.
    Rst { side: usize, at: u64 },
    /// The capture stops with the connection open.
    None,
}

/// The capture of `log`: SYN at time 0, each logged write as packets of at most 1400 bytes at
/// its time, then the teardown. Times are µs after 1_700_000_000 s.
pub fn capture(
    log: &[(u64, usize, Vec<u8>)],
    client: &str,
    server: &str,
    end: Teardown,
) -> Vec<u8> {
    let mut tcp = Tcp::new(client, server, [0x1000_0000, 0x7fff_f000]);
    let mut cap = Cap::new(Link::Ethernet);
    let put = |cap: &mut Cap, tcp: &Tcp, at: u64, seg| {
        let ip = tcp.ip_packet(&seg);
        cap.packets.push((at, cap.link.wrap(&ip)));
    };
    for s in tcp.syn() {
        put(&mut cap, &tcp, 0, s);
    }
    for (at, side, bytes) in log {
        for chunk in bytes.chunks(1400) {
            let s = tcp.seg(*side, "PA", chunk);
            put(&mut cap, &tcp, *at, s);
        }
    }
    match end {
        Teardown::Fin {
            first,
            at,
            second_at,
        } => {
            let s = tcp.seg(first, "FA", &[]);
            put(&mut cap, &tcp, at, s);
            let s = tcp.seg(1 - first, "FA", &[]);
            put(&mut cap, &tcp, second_at, s);
            let s = tcp.seg(first, "A", &[]);
            put(&mut cap, &tcp, second_at, s);
        }
        Teardown::Rst { side, at } => {
            let s = tcp.seg(side, "RA", &[]);
            put(&mut cap, &tcp, at, s);
        }
        Teardown::None => {}
    }
    cap.pcap()
}

/// The engine's events for a capture, read by the real file reader.
pub fn decode(pcap: &[u8]) -> Vec<Event> {
    let mut reader = CaptureReader::new(pcap, &Limits::default()).expect("pcap");
    let mut engine = Engine::new(Limits::default());
    let mut events = Vec::new();
    while let Some(pkt) = reader.next_packet().expect("packet") {
        engine.packet(&pkt, &mut events);
    }
    engine.finish(&mut events);
    events
}
