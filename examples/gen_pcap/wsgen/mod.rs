//! Deterministic WebSocket benchmark traffic, a port of `shared/bench/gen_pcap.py`: the same
//! traffic model and options, its own PRNG (so not the same bytes), streamed to any writer.
//!
//! `--conns` connections, each with a TCP three-way handshake, an HTTP/1.1 Upgrade (with a
//! correct Sec-WebSocket-Accept and optionally permessage-deflate), then bursts of messages
//! (see `payload`) in both directions, interleaved a flight of 1..16 segments at a time,
//! until the capture reaches its target size; then a close handshake and FIN teardown.

mod conn;
pub mod frame;
pub mod payload;
mod pcap;
mod queue;
pub mod rng;
pub mod summary;
pub mod tls;

use std::collections::HashSet;
use std::io::{self, Write};

use conn::{Conn, Side};
use payload::{Mix, Pools, SizeClass};
use pcap::{ACK, FIN, PSH, PcapWriter, SYN, emit, syn_options};
use rng::Rng;
use summary::{Counts, per_opcode};

pub use summary::J;

/// The generator's options (the Python script's command line).
#[derive(Clone, Debug)]
pub struct Config {
    pub size_mb: f64,
    pub conns: u32,
    pub seed: u64,
    pub deflate: bool,
    pub deflate_level: u32,
    pub mix: String,
    pub frag_pct: f64,
    pub mid_frag_ping_pct: f64,
    pub mss: usize,
    /// Only recorded in the summary.
    pub out: String,
    /// Every connection inside TLS (the secrets go to the key log `run_with_keys` returns).
    pub tls: Option<tls::Mode>,
    /// Every connection negotiates the `mqtt` subprotocol and each data message is one MQTT
    /// 3.1.1 PUBLISH (QoS 0, topic `plant/N/temperature`) carrying the message it would have
    /// been: the application-protocol decoding cost.
    pub mqtt: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            size_mb: 64.0,
            conns: 16,
            seed: 1,
            deflate: false,
            deflate_level: 6,
            mix: "60,30,10".into(),
            frag_pct: 5.0,
            mid_frag_ping_pct: 20.0,
            mss: 1448,
            out: String::new(),
            tls: None,
            mqtt: false,
        }
    }
}

/// Everything but the connections, so a connection and the writer can be borrowed together.
struct State<W: Write> {
    cfg: Config,
    rng: Rng,
    /// Capture clock, microseconds since the epoch.
    now: u64,
    w: PcapWriter<W>,
    expected: Option<Box<dyn Write>>,
    counts: Counts,
    /// WebSocket bytes queued but not yet written as segments.
    queued: u64,
    /// Draws the TLS randoms and secrets, apart from `rng` so that the WebSocket traffic of
    /// a seed does not depend on whether it is wrapped in TLS.
    tls_rng: Rng,
    /// NSS key log lines of the connections opened so far.
    keylog: String,
    /// A frame being built before it is sealed into records.
    plain: Vec<u8>,
}

pub struct Generator<W: Write> {
    st: State<W>,
    conns: Vec<Conn>,
    pools: Pools,
    mix: Mix,
    msg: Vec<u8>,
    zbuf: Vec<u8>,
}

impl<W: Write> Generator<W> {
    /// `expected`: where to write one corpus-layout JSON line per message (small files only).
    pub fn new(cfg: Config, out: W, expected: Option<Box<dyn Write>>) -> io::Result<Self> {
        let mix = Mix::parse(&cfg.mix).map_err(io::Error::other)?;
        if !(1..=50_000).contains(&cfg.conns) {
            return Err(io::Error::other("--conns must be between 1 and 50000"));
        }
        if !(1..=65_000).contains(&cfg.mss) {
            return Err(io::Error::other("--mss must be between 1 and 65000"));
        }
        if cfg.deflate_level > 9 {
            return Err(io::Error::other("--deflate-level must be 0..=9"));
        }
        let mut rng = Rng::new(cfg.seed);
        let now = 1_700_000_000 * 1_000_000 + rng.below(1_000_000);
        Ok(Generator {
            pools: Pools::new(cfg.seed),
            mix,
            st: State {
                rng,
                now,
                w: PcapWriter::new(out)?,
                expected,
                counts: Counts::default(),
                queued: 0,
                tls_rng: Rng::new(cfg.seed ^ 0x7715_7715_7715_7715),
                keylog: String::new(),
                plain: Vec::new(),
                cfg,
            },
            conns: Vec::new(),
            msg: Vec::new(),
            zbuf: Vec::new(),
        })
    }

    /// Writes the whole capture; returns the writer (flushed) for in-memory use.
    #[allow(dead_code)] // the example calls run_with_keys; tests and benches this
    pub fn run(self) -> io::Result<(W, J)> {
        self.run_with_keys().map(|(w, j, _)| (w, j))
    }

    /// `run`, also returning the NSS key log of the TLS connections (empty without TLS).
    pub fn run_with_keys(mut self) -> io::Result<(W, J, String)> {
        let st = &mut self.st;
        let target = st.cfg.size_mb * f64::from(1u32 << 20);
        let reserve = f64::from(st.cfg.conns) * 2048.0;
        let mut used_ports = HashSet::new();
        for idx in 0..st.cfg.conns {
            let conn = st.open_conn(idx, &mut used_ports)?;
            self.conns.push(conn);
        }
        // 1.065: record, Ethernet, IP and TCP overhead plus pure ACKs, for full segments.
        while (st.w.bytes as f64) + (st.queued as f64) * 1.065 < target - reserve {
            let i = st.rng.index(self.conns.len());
            let conn = &mut self.conns[i];
            if conn.c.queue.is_empty() && conn.s.queue.is_empty() {
                st.burst(conn, &self.pools, &self.mix, &mut self.msg, &mut self.zbuf);
            }
            let from_client = if !conn.c.queue.is_empty() && !conn.s.queue.is_empty() {
                st.rng.unit() < 0.5
            } else {
                !conn.c.queue.is_empty()
            };
            let segs = st.rng.range(1, 16) as u32;
            st.send_flight(conn, from_client, segs)?;
            st.tick(5, 300);
        }
        for conn in &mut self.conns {
            st.flush_conn(conn)?;
        }
        for conn in &mut self.conns {
            st.close_conn(conn)?;
        }
        st.w.flush()?;
        if let Some(e) = st.expected.as_mut() {
            e.flush()?;
        }
        let summary = self.summary();
        let keylog = std::mem::take(&mut self.st.keylog);
        Ok((self.st.w.into_inner(), summary, keylog))
    }

    /// The summary in `gen_pcap.py`'s layout, without `gen_seconds` (the caller adds it).
    fn summary(&mut self) -> J {
        let st = &self.st;
        let c = &st.counts;
        let mut streams = Vec::new();
        for conn in &mut self.conns {
            for (side, dir) in [(&mut conn.c, "c2s"), (&mut conn.s, "s2c")] {
                if let Some(h) = std::mem::take(&mut side.hash).hex() {
                    streams.push((format!("{}|{}|{dir}", conn.client, conn.server), h));
                }
            }
        }
        let n_streams = streams.len() as u64;
        let cfg = &st.cfg;
        let mut args = vec![
            ("size_mb", J::Float(cfg.size_mb)),
            ("conns", J::Int(cfg.conns.into())),
            ("seed", J::Int(cfg.seed)),
            ("deflate", J::Bool(cfg.deflate)),
            ("deflate_level", J::Int(cfg.deflate_level.into())),
            ("mix", J::Str(cfg.mix.clone())),
            ("frag_pct", J::Float(cfg.frag_pct)),
            ("mid_frag_ping_pct", J::Float(cfg.mid_frag_ping_pct)),
            ("mss", J::Int(cfg.mss as u64)),
            ("out", J::Str(cfg.out.clone())),
        ];
        if let Some(mode) = cfg.tls {
            args.push(("tls", J::Str(mode.name().into())));
        }
        J::Obj(vec![
            ("generator", J::Str("gen_pcap.rs".into())),
            ("args", J::Obj(args)),
            ("file_bytes", J::Int(st.w.bytes)),
            ("packets", J::Int(st.w.packets)),
            ("tcp_payload_bytes", J::Int(st.w.tcp_payload)),
            ("connections", J::Int(cfg.conns.into())),
            ("messages_total", J::Int(c.msgs.iter().sum())),
            ("messages", per_opcode(&c.msgs)),
            (
                "messages_by_dir",
                J::Obj(vec![
                    ("c2s", per_opcode(&c.by_dir[0])),
                    ("s2c", per_opcode(&c.by_dir[1])),
                ]),
            ),
            (
                "data_messages_by_size_class",
                J::Obj(vec![
                    ("tiny", J::Int(c.size_class[0])),
                    ("medium", J::Int(c.size_class[1])),
                    ("large", J::Int(c.size_class[2])),
                ]),
            ),
            ("payload_bytes_total", J::Int(c.payload.iter().sum())),
            ("payload_bytes", per_opcode(&c.payload)),
            ("wire_payload_bytes", J::Int(c.wire_payload)),
            ("frames_total", J::Int(c.frames)),
            ("continuation_frames", J::Int(c.cont_frames)),
            ("fragmented_messages", J::Int(c.fragmented)),
            ("compressed_messages", J::Int(c.compressed)),
            ("streams", J::Int(n_streams)),
            ("digest", J::Str(summary::combine(streams))),
            (
                "digest_spec",
                J::Str(
                    "per stream key 'client|server|dir': sha256 over messages in order of \
                     opcode_name + ' ' + str(len(payload)) + '\\n' + payload; then sha256 over \
                     sorted lines 'key hexdigest\\n'"
                        .into(),
                ),
            ),
            (
                "payload_note",
                J::Str(
                    "payload = application payload after unmasking, defragmentation and \
                     permessage-deflate decompression; close payload = 2-byte code + reason"
                        .into(),
                ),
            ),
        ])
    }
}

impl<W: Write> State<W> {
    fn tick(&mut self, lo: u64, hi: u64) {
        self.now += self.rng.range(lo, hi);
    }

    fn open_conn(&mut self, idx: u32, used: &mut HashSet<(u16, u16)>) -> io::Result<Conn> {
        let rng = &mut self.rng;
        let mut cport = 32768 + ((u64::from(idx) * 7919 + rng.below(64)) % 28000) as u16;
        let sport = match (self.cfg.tls.is_some(), idx.is_multiple_of(2)) {
            (false, true) => 80,
            (false, false) => 8080,
            (true, true) => 443,
            (true, false) => 8443,
        };
        // Keep every 4-tuple unique.
        while used.contains(&(cport, sport)) {
            cport = 32768 + (cport - 32768 + 1) % 28000;
        }
        used.insert((cport, sport));
        let ip = [127, 0, 0, 1];
        let mut c = Side::new(ip, cport, rng);
        let mut s = Side::new(ip, sport, rng);

        let o = syn_options(c.tcp.tsval(self.now), 0);
        emit(
            &mut self.w,
            self.now,
            &mut c.tcp,
            &s.tcp,
            SYN,
            &[],
            Some(&o),
        )?;
        self.tick(5, 30);
        let o = syn_options(s.tcp.tsval(self.now), c.tcp.last_tsval);
        emit(
            &mut self.w,
            self.now,
            &mut s.tcp,
            &c.tcp,
            SYN | ACK,
            &[],
            Some(&o),
        )?;
        self.tick(5, 30);
        emit(&mut self.w, self.now, &mut c.tcp, &s.tcp, ACK, &[], None)?;
        self.tick(20, 200);

        let mut conn = Conn::new(idx, c, s);
        let (req, resp) = conn::handshake(
            &mut self.rng,
            idx,
            sport,
            self.cfg.deflate,
            self.cfg.tls.is_some(),
            self.cfg.mqtt,
        );
        if let Some(mode) = self.cfg.tls {
            let tls = tls::Session::new(mode, &mut self.tls_rng)?;
            self.keylog.push_str(&tls.keylog);
            self.push_wire(&mut conn.c, &tls.client_hello);
            self.send_flight(&mut conn, true, 4)?;
            self.tick(20, 200);
            self.push_wire(&mut conn.s, &tls.server_flight);
            self.send_flight(&mut conn, false, 4)?;
            self.tick(20, 200);
            self.push_wire(&mut conn.c, &tls.client_finish);
            self.push_wire(&mut conn.s, &tls.server_finish);
            conn.c.tls = Some(tls.client);
            conn.s.tls = Some(tls.server);
        }
        self.push_raw(&mut conn.c, &req)?;
        self.send_flight(&mut conn, true, 4)?;
        self.push_raw(&mut conn.s, &resp)?;
        self.send_flight(&mut conn, false, 4)?;
        if self.cfg.deflate {
            conn.c.comp = Some(frame::Deflater::new(self.cfg.deflate_level));
            conn.s.comp = Some(frame::Deflater::new(self.cfg.deflate_level));
        }
        if self.cfg.mqtt {
            // MQTT 3.1.1 §3.1 CONNECT (clean session, keep-alive 60 s, client id `wsgen`) and
            // §3.2 CONNACK (accepted): the version the PUBLISHes are read with.
            let mut z = Vec::new();
            let connect = b"\x10\x11\x00\x04MQTT\x04\x02\x00\x3c\x00\x05wsgen";
            self.data(&mut conn, true, 2, connect, &mut z);
            self.data(&mut conn, false, 2, b"\x20\x02\x00\x00", &mut z);
        }
        Ok(conn)
    }

    /// Bytes as they go on the wire (TLS records already made).
    fn push_wire(&mut self, side: &mut Side, data: &[u8]) {
        side.queue.back().extend_from_slice(data);
        self.queued += data.len() as u64;
    }

    /// One write of the layer above TLS: sealed into records when the connection has TLS.
    fn push_raw(&mut self, side: &mut Side, data: &[u8]) -> io::Result<()> {
        match side.tls.as_mut() {
            Some(sealer) => {
                let buf = side.queue.back();
                let before = buf.len();
                sealer.seal(tls::APPLICATION_DATA, data, buf)?;
                self.queued += (buf.len() - before) as u64;
            }
            None => self.push_wire(side, data),
        }
        Ok(())
    }

    fn push_frame(&mut self, side: &mut Side, fin: bool, rsv1: bool, op: u8, payload: &[u8]) {
        let mask = side.is_client;
        match side.tls.as_mut() {
            Some(sealer) => {
                let mut plain = std::mem::take(&mut self.plain);
                plain.clear();
                frame::write_frame(&mut plain, &mut self.rng, fin, rsv1, op, payload, mask);
                let buf = side.queue.back();
                let before = buf.len();
                // Sealing fails only on a key or a record length ring refuses, which the
                // fixed suites and MAX_PLAINTEXT rule out.
                if let Err(e) = sealer.seal(tls::APPLICATION_DATA, &plain, buf) {
                    panic!("sealing a TLS record: {e}");
                }
                self.queued += (buf.len() - before) as u64;
                self.plain = plain;
            }
            None => {
                let buf = side.queue.back();
                let before = buf.len();
                frame::write_frame(buf, &mut self.rng, fin, rsv1, op, payload, mask);
                self.queued += (buf.len() - before) as u64;
            }
        }
        self.counts.frames += 1;
        self.counts.cont_frames += u64::from(op == 0);
        self.counts.wire_payload += payload.len() as u64;
    }

    /// Counts, hashes and (optionally) lists one message as a decoder should report it.
    fn record(&mut self, conn: &mut Conn, from_client: bool, op: u8, payload: &[u8]) {
        self.counts.message(from_client, op, payload.len());
        let side = if from_client {
            &mut conn.c
        } else {
            &mut conn.s
        };
        side.hash.add(op, payload);
        if let Some(e) = self.expected.as_mut() {
            // A write error here surfaces at the final flush.
            let _ = conn::expected_line(e, conn, from_client, op, payload);
        }
    }

    fn control(&mut self, conn: &mut Conn, from_client: bool, op: u8, payload: &[u8]) {
        let side = if from_client {
            &mut conn.c
        } else {
            &mut conn.s
        };
        self.push_frame(side, true, false, op, payload);
        self.record(conn, from_client, op, payload);
    }

    fn data(&mut self, conn: &mut Conn, from_client: bool, op: u8, msg: &[u8], zbuf: &mut Vec<u8>) {
        let side = if from_client {
            &mut conn.c
        } else {
            &mut conn.s
        };
        let mut rsv1 = false;
        let mut wire = msg;
        if let Some(comp) = side.comp.as_mut() {
            // RFC 7692 §6: a message may go uncompressed; about 3% of tiny ones do.
            if !(msg.len() <= 200 && self.rng.unit() < 0.03) {
                comp.compress(msg, zbuf);
                wire = zbuf;
                rsv1 = true;
                self.counts.compressed += 1;
            }
        }
        if wire.len() >= 2 && self.rng.percent(self.cfg.frag_pct) {
            let nfrag = (self.rng.range(2, 5) as usize).min(wire.len());
            let mut bounds = vec![0, wire.len()];
            while bounds.len() < nfrag + 1 {
                let cut = self.rng.range(1, wire.len() as u64 - 1) as usize;
                if !bounds.contains(&cut) {
                    bounds.push(cut);
                }
            }
            bounds.sort_unstable();
            let ping_at = if self.rng.percent(self.cfg.mid_frag_ping_pct) {
                Some(self.rng.range(1, nfrag as u64 - 1) as usize)
            } else {
                None
            };
            self.counts.fragmented += 1;
            for i in 0..nfrag {
                if ping_at == Some(i) {
                    let pp = format!("mid-frag ping {}", self.rng.below(1 << 30));
                    // RFC 6455 §5.4: control frames may be injected between fragments.
                    self.control(conn, from_client, 9, pp.as_bytes());
                    self.control(conn, !from_client, 10, pp.as_bytes());
                }
                let side = if from_client {
                    &mut conn.c
                } else {
                    &mut conn.s
                };
                let op_i = if i == 0 { op } else { 0 };
                let part = &wire[bounds[i]..bounds[i + 1]];
                self.push_frame(side, i == nfrag - 1, rsv1 && i == 0, op_i, part);
            }
        } else {
            let side = if from_client {
                &mut conn.c
            } else {
                &mut conn.s
            };
            self.push_frame(side, true, rsv1, op, wire);
        }
        self.record(conn, from_client, op, msg);
    }

    fn burst(
        &mut self,
        conn: &mut Conn,
        pools: &Pools,
        mix: &Mix,
        msg: &mut Vec<u8>,
        zbuf: &mut Vec<u8>,
    ) {
        let from_client = self.rng.unit() < 0.4;
        let nmsg = if self.rng.unit() < 0.7 {
            1
        } else {
            self.rng.range(2, 8)
        };
        for _ in 0..nmsg {
            let (mut op, class) = mix.message(pools, &mut self.rng, msg);
            if self.cfg.mqtt {
                op = 2;
                conn::mqtt_publish(conn.idx, msg);
            }
            self.counts.size_class[match class {
                SizeClass::Tiny => 0,
                SizeClass::Medium => 1,
                SizeClass::Large => 2,
            }] += 1;
            self.data(conn, from_client, op, msg, zbuf);
        }
        if self.rng.unit() < 0.01 {
            let pinger = self.rng.unit() < 0.5;
            let pp = self.now.to_be_bytes();
            self.control(conn, pinger, 9, &pp);
            self.control(conn, !pinger, 10, &pp);
        }
    }

    /// Up to `max_segs` MSS-sized segments of one side's queue; the receiver ACKs every
    /// second segment and at the end of the flight.
    fn send_flight(&mut self, conn: &mut Conn, from_client: bool, max_segs: u32) -> io::Result<()> {
        let (src, dst) = conn.sides(from_client);
        let mut segs = 0;
        while !src.queue.is_empty() && segs < max_segs {
            let n = self.cfg.mss.min(src.queue.len());
            segs += 1;
            let last = n == src.queue.len() || segs == max_segs;
            let flags = ACK | if last { PSH } else { 0 };
            emit(
                &mut self.w,
                self.now,
                &mut src.tcp,
                &dst.tcp,
                flags,
                src.queue.front(n),
                None,
            )?;
            src.queue.consume(n);
            self.queued -= n as u64;
            self.tick(1, 12);
            dst.tcp.unacked_segs += 1;
            if dst.tcp.unacked_segs >= 2 {
                emit(
                    &mut self.w,
                    self.now,
                    &mut dst.tcp,
                    &src.tcp,
                    ACK,
                    &[],
                    None,
                )?;
                self.tick(1, 8);
            }
        }
        if dst.tcp.unacked_segs > 0 {
            emit(
                &mut self.w,
                self.now,
                &mut dst.tcp,
                &src.tcp,
                ACK,
                &[],
                None,
            )?;
            self.tick(2, 20);
        }
        Ok(())
    }

    fn flush_conn(&mut self, conn: &mut Conn) -> io::Result<()> {
        while !conn.c.queue.is_empty() || !conn.s.queue.is_empty() {
            if !conn.c.queue.is_empty() {
                self.send_flight(conn, true, 16)?;
            }
            if !conn.s.queue.is_empty() {
                self.send_flight(conn, false, 16)?;
            }
        }
        Ok(())
    }

    /// RFC 6455 §7: both sides send Close (who starts alternates per connection), then the
    /// server closes TCP first (§7.1.1).
    fn close_conn(&mut self, conn: &mut Conn) -> io::Result<()> {
        let first_client = !conn.close_by_server;
        self.control(conn, first_client, 8, b"\x03\xe8bye");
        self.flush_conn(conn)?;
        self.control(conn, !first_client, 8, b"\x03\xe8");
        self.flush_conn(conn)?;
        // RFC 8446 §6.1: each side says close_notify before closing TCP, the server first.
        for side in [&mut conn.s, &mut conn.c] {
            if let Some(sealer) = side.tls.as_mut() {
                let buf = side.queue.back();
                let before = buf.len();
                tls::close_notify(sealer, buf)?;
                self.queued += (buf.len() - before) as u64;
            }
        }
        self.flush_conn(conn)?;
        let (c, s) = (&mut conn.c.tcp, &mut conn.s.tcp);
        emit(&mut self.w, self.now, s, c, FIN | ACK, &[], None)?;
        self.tick(5, 30);
        emit(&mut self.w, self.now, c, s, FIN | ACK, &[], None)?;
        self.tick(5, 30);
        emit(&mut self.w, self.now, s, c, ACK, &[], None)?;
        self.tick(5, 50);
        Ok(())
    }
}
