//! The engine: captured packets in, events out. Sans-IO: the caller reads the capture and
//! writes the events; the engine only keeps per-connection state, bounded by [`Limits`].

use crate::event::{AnomalyKind, ConnId, EndHow, Event, Timestamp};
use crate::flow::{FlowKey, FlowTable};
use crate::limits::Limits;
use crate::packet::{Decoded, PacketDecoder, RawPacket, TcpSegment};
use std::sync::Arc;

use crate::message::BufPool;
use crate::proto::ProtoChoice;
use crate::session::{ConnKind, Ctx, ProbePool, Session, Tally};
use crate::tls::{KeyLog, KeyLogError};

/// Counters over everything the engine was given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub packets: u64,
    /// Captured bytes of all packets.
    pub bytes: u64,
    pub tcp_packets: u64,
    /// Packets too damaged to read (not counting non-TCP traffic).
    pub malformed: u64,
    /// WebSocket connections this engine has recognised (numbered) so far.
    pub websocket_conns: u64,
    /// TCP connections tracked (from their first packet with something in it, or a SYN).
    pub tcp_conns: u64,
    /// Connections (TLS ones by their plaintext) found to carry HTTP/1.x or HTTP/2.
    pub http_conns: u64,
    /// Connections found to carry TLS.
    pub tls_conns: u64,
    /// TLS connections with records left undecrypted for want of keys.
    pub tls_no_keys: u64,
}

/// What became of one packet, for callers that act per connection (e.g. saving the packets of
/// WebSocket connections).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketFate {
    /// Not TCP, damaged, an IP fragment held for later, or a packet of no tracked connection
    /// (e.g. the last ACK after both FINs).
    Untracked,
    /// Part of a tracked connection: what the connection is after this packet, and whether
    /// this packet ended it (it is no longer tracked).
    Conn {
        flow: FlowKey,
        kind: ConnKind,
        ended: bool,
    },
}

/// The sans-IO dissection engine.
pub struct Engine {
    packets: PacketDecoder,
    conns: Conns,
    last_ts: Timestamp,
    stats: Stats,
    /// Numbers before this one belong to earlier inputs.
    conn_base: ConnId,
}

/// The tracked connections (apart from the packet decoder, which lends out the segments
/// they are fed).
struct Conns {
    limits: Limits,
    flows: FlowTable<Session>,
    next_conn: ConnId,
    /// Bytes held by connections being probed for frames (no handshake seen), all together.
    probes: Arc<ProbePool>,
    /// Large message buffers given back by the caller ([`Engine::recycle`]).
    pool: BufPool,
    /// Index of the last packet given (events at the end of input are stamped with it).
    last_packet: u64,
    /// TLS secrets known so far (key log files, Decryption Secrets Blocks, a live key log).
    keys: KeyLog,
    proto: ProtoChoice,
    tally: Tally,
}

impl Engine {
    pub fn new(limits: Limits) -> Engine {
        Engine {
            packets: PacketDecoder::new(&limits),
            conns: Conns {
                flows: FlowTable::new(limits.max_connections),
                next_conn: 0,
                probes: ProbePool::new(limits.max_probe_total_bytes),
                pool: BufPool::default(),
                last_packet: 0,
                keys: KeyLog::new(),
                proto: ProtoChoice::Auto,
                tally: Tally::default(),
                limits,
            },
            last_ts: Timestamp::default(),
            stats: Stats::default(),
            conn_base: 0,
        }
    }

    /// Number connections from `base + 1` on (to keep numbers unique over several inputs).
    pub fn set_conn_base(&mut self, base: ConnId) {
        self.conns.next_conn = base;
        self.conn_base = base;
    }

    /// TLS secrets in the NSS key log format (RFC 9850): whole lines of a key log file,
    /// `first_line` being the number of the first in its file, or the text of a pcapng
    /// Decryption Secrets Block. Connections whose records wait for them are decrypted at
    /// their next packet. Malformed lines are returned (and skipped).
    pub fn add_keys(&mut self, text: &[u8], first_line: usize) -> Vec<KeyLogError> {
        self.conns.keys.add_text(text, first_line)
    }

    /// Which application protocol the WebSockets opened from now on are decoded as: found
    /// from the handshake and first messages (the default), one forced for all, or none.
    pub fn set_proto(&mut self, choice: ProtoChoice) {
        self.conns.proto = choice;
    }

    /// The last connection number handed out (the base when none was).
    pub fn last_conn_id(&self) -> ConnId {
        self.conns.next_conn
    }

    pub fn limits(&self) -> &Limits {
        &self.conns.limits
    }

    pub fn stats(&self) -> Stats {
        let t = &self.conns.tally;
        Stats {
            websocket_conns: self.conns.next_conn - self.conn_base,
            tcp_conns: t.tcp_conns.get(),
            http_conns: t.http_conns.get(),
            tls_conns: t.tls_conns.get(),
            tls_no_keys: t.tls_no_keys.get(),
            ..self.stats
        }
    }

    /// Connections tracked right now (WebSocket or not yet decided).
    pub fn tracked_connections(&self) -> usize {
        self.conns.flows.len()
    }

    /// Take one captured packet; events it completes are appended to `out`. The result says
    /// which connection it belonged to (callers that only want events ignore it).
    pub fn packet(&mut self, pkt: &RawPacket<'_>, out: &mut Vec<Event>) -> PacketFate {
        let index = self.stats.packets;
        self.stats.packets += 1;
        self.stats.bytes += pkt.data.len() as u64;
        self.last_ts = pkt.ts.max(self.last_ts);
        let seg = match self.packets.decode(pkt) {
            Decoded::Tcp(seg) => seg,
            Decoded::NotTcp | Decoded::Fragment => return PacketFate::Untracked,
            Decoded::Malformed(_) => {
                self.stats.malformed += 1;
                return PacketFate::Untracked;
            }
            Decoded::FragmentDropped(detail) => {
                out.push(Event::input_anomaly(
                    pkt.ts,
                    AnomalyKind::IpFragmentLimit,
                    detail,
                ));
                return PacketFate::Untracked;
            }
        };
        self.stats.tcp_packets += 1;
        self.conns.segment(index, pkt.ts, &seg, out)
    }

    /// Take one TCP segment already decoded from packet number `index` (0-based, counting
    /// every packet of the input) captured at `ts`: the entry for callers that decode packets
    /// themselves, e.g. to spread connections over threads. [`Engine::packet`] is decoding
    /// plus this.
    pub fn segment(
        &mut self,
        index: u64,
        ts: Timestamp,
        seg: &TcpSegment<'_>,
        out: &mut Vec<Event>,
    ) -> PacketFate {
        self.stats.tcp_packets += 1;
        self.conns.segment(index, ts, seg, out)
    }

    /// The input ended: every connection still open is finished (`end` with `"how":"eof"`).
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        self.finish_at(self.last_ts, out, |_, _| {});
    }

    /// [`Engine::finish`] stamped `ts` (the last capture time of the whole input, when this
    /// engine saw only part of it). Connections are finished in the order they were first
    /// seen; after each one, `done(first_packet, events_so_far)` is called with the index of
    /// its first packet and `out.len()`, so that a caller merging several engines' output can
    /// tell whose events are whose.
    pub fn finish_at(
        &mut self,
        ts: Timestamp,
        out: &mut Vec<Event>,
        mut done: impl FnMut(u64, usize),
    ) {
        let mut sessions = self.conns.flows.drain();
        sessions.sort_unstable_by_key(|(_, s)| s.first_packet);
        self.conns.end(sessions, EndHow::Eof, ts, out, &mut done);
    }

    /// End every connection that has had no packet for longer than `idle` before `now`
    /// (`end` with `"how":"idle"`, stamped `now`), freeing its buffers. `now` is the capture
    /// time of the latest packet or, when none come, the caller's clock: the engine reads no
    /// clock itself. Returns how many connections were ended. Linear in the tracked
    /// connections: call it periodically (e.g. once a second), not per packet.
    pub fn expire_idle(
        &mut self,
        now: Timestamp,
        idle: std::time::Duration,
        out: &mut Vec<Event>,
    ) -> usize {
        let Some(cutoff) = ts_minus(now, idle) else {
            return 0;
        };
        let expired = self.conns.flows.remove_where(|s| s.last_seen() < cutoff);
        let n = expired.len();
        self.conns
            .end(expired, EndHow::Idle, now, out, &mut |_, _| {});
        n
    }

    /// Approximate bytes held by buffers and per-connection state: every tracked connection
    /// ([`Session::memory`]: the session, out-of-order TCP data, probe buffers), the flow
    /// table's bookkeeping, the IP fragment pool and idle message buffers kept for reuse
    /// ([`Engine::recycle`]). Messages being assembled and HTTP heads
    /// being parsed are not counted (each is bounded by [`Limits`]).
    pub fn memory(&self) -> usize {
        let per_flow = std::mem::size_of::<FlowKey>() * 2 + 4 * std::mem::size_of::<u64>();
        let sessions: usize = self.conns.flows.values().map(Session::memory).sum();
        sessions
            + self.conns.flows.len() * per_flow
            + self.packets.held_bytes()
            + self.conns.pool.held().1
    }

    /// A message's payload the caller is done with: a large one is kept (a few at most) for
    /// the next large message to be assembled in, which saves faulting in fresh memory.
    pub fn recycle(&self, payload: Vec<u8>) {
        self.conns.pool.give(payload);
    }

    /// Report that the input itself could not be read further (e.g. a corrupt record).
    pub fn input_error(&mut self, kind: AnomalyKind, detail: String, out: &mut Vec<Event>) {
        out.push(Event::input_anomaly(self.last_ts, kind, detail));
    }
}

impl Conns {
    /// Finishes `sessions`, already out of the table, as `how` at `ts`; after each,
    /// `done(first_packet, out.len())`.
    fn end(
        &mut self,
        sessions: Vec<(FlowKey, Session)>,
        how: EndHow,
        ts: Timestamp,
        out: &mut Vec<Event>,
        done: &mut dyn FnMut(u64, usize),
    ) {
        let mut ctx = Ctx {
            ts,
            packet: self.last_packet,
            limits: &self.limits,
            next_conn: &mut self.next_conn,
            out,
            pool: &self.pool,
            probes: &self.probes,
            keys: &self.keys,
            proto: self.proto,
            tally: &self.tally,
        };
        for (_, mut session) in sessions {
            session.finish(how, &mut ctx);
            done(session.first_packet, ctx.out.len());
        }
    }

    /// The segment to its connection, tracking a new one when it can start one.
    fn segment(
        &mut self,
        index: u64,
        ts: Timestamp,
        seg: &TcpSegment<'_>,
        out: &mut Vec<Event>,
    ) -> PacketFate {
        let key = FlowKey::new(seg.src, seg.dst);
        self.last_packet = index;
        let mut ctx = Ctx {
            ts,
            packet: index,
            limits: &self.limits,
            next_conn: &mut self.next_conn,
            out,
            pool: &self.pool,
            probes: &self.probes,
            keys: &self.keys,
            proto: self.proto,
            tally: &self.tally,
        };
        let session = match self.flows.get_mut(&key) {
            Some(session) => session,
            None => {
                // A packet with nothing in it cannot start anything worth tracking (it is
                // typically the last ACK of a connection already ended).
                if seg.payload.is_empty() && seg.missing == 0 && !seg.flags.syn {
                    return PacketFate::Untracked;
                }
                // Late copies of an ended connection's segments are not a new connection.
                if self.flows.is_retired(&key) {
                    if !seg.flags.syn {
                        return PacketFate::Untracked;
                    }
                    self.flows.unretire(&key);
                }
                Tally::count(&self.tally.tcp_conns);
                let mut session = Session::new(seg, ctx.limits, ctx.probes);
                session.first_packet = index;
                if let Some((_, mut old)) = self.flows.insert(key, session) {
                    old.finish(EndHow::Evicted, &mut ctx);
                }
                match self.flows.get_mut(&key) {
                    Some(session) => session,
                    None => return PacketFate::Untracked,
                }
            }
        };
        session.segment(seg, &mut ctx);
        let kind = session.kind();
        let ended = session.is_done();
        if ended && let Some(mut session) = self.flows.retire(&key) {
            // Both directions are over: what a layer still holds is decided now (a TLS
            // connection whose keys never came is reported, a probe decides with what it has).
            session.finish(EndHow::Fin, &mut ctx);
        }
        PacketFate::Conn {
            flow: key,
            kind,
            ended,
        }
    }
}

/// `ts - d`, or `None` when that is before the epoch's range (nothing can be older).
fn ts_minus(ts: Timestamp, d: std::time::Duration) -> Option<Timestamp> {
    let total = i128::from(ts.secs) * 1_000_000_000 + i128::from(ts.nanos);
    let cut = total.checked_sub(i128::try_from(d.as_nanos()).ok()?)?;
    let secs = i64::try_from(cut.div_euclid(1_000_000_000)).ok()?;
    let nanos = u32::try_from(cut.rem_euclid(1_000_000_000)).ok()?;
    Some(Timestamp::new(secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventKind;
    use crate::packet::LinkType;
    use std::time::Duration;

    const CLIENT: [u8; 4] = [10, 0, 0, 1];
    const SERVER: [u8; 4] = [10, 0, 0, 2];

    /// A raw IPv4 + TCP packet (LINKTYPE_IPV4). Flags: 0x02 SYN, 0x10 ACK, 0x18 PSH|ACK.
    fn tcp(from_client: bool, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let (src, dst, sport, dport) = if from_client {
            (CLIENT, SERVER, 40000u16, 80u16)
        } else {
            (SERVER, CLIENT, 80, 40000)
        };
        let total = (20 + 20 + payload.len()) as u16;
        let mut p = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0];
        p[2..4].copy_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&src);
        p.extend_from_slice(&dst);
        p.extend_from_slice(&sport.to_be_bytes());
        p.extend_from_slice(&dport.to_be_bytes());
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&0u32.to_be_bytes());
        p.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        p.extend_from_slice(payload);
        p
    }

    fn feed(e: &mut Engine, secs: i64, data: &[u8], out: &mut Vec<Event>) -> PacketFate {
        let pkt = RawPacket {
            ts: Timestamp::new(secs, 0),
            link: LinkType::Ipv4,
            data,
            orig_len: data.len() as u32,
        };
        e.packet(&pkt, out)
    }

    const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    const RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

    /// SYN, SYN-ACK, request, response (RFC 6455 §1.3's example key): returns the fates.
    fn open(e: &mut Engine, out: &mut Vec<Event>) -> Vec<PacketFate> {
        vec![
            feed(e, 100, &tcp(true, 999, 0x02, b""), out),
            feed(e, 100, &tcp(false, 4999, 0x12, b""), out),
            feed(e, 101, &tcp(true, 1000, 0x18, REQUEST), out),
            feed(e, 102, &tcp(false, 5000, 0x18, RESPONSE), out),
        ]
    }

    #[test]
    fn fate_follows_the_upgrade() {
        let mut e = Engine::new(Limits::default());
        let mut out = Vec::new();
        let fates = open(&mut e, &mut out);
        let flow = FlowKey::new(
            std::net::SocketAddr::from((CLIENT, 40000)),
            std::net::SocketAddr::from((SERVER, 80)),
        );
        let conn = |kind| PacketFate::Conn {
            flow,
            kind,
            ended: false,
        };
        assert_eq!(
            fates,
            vec![
                conn(ConnKind::Pending),
                conn(ConnKind::Pending),
                conn(ConnKind::Pending),
                conn(ConnKind::WebSocket),
            ]
        );
        assert!(matches!(
            out.as_slice(),
            [Event {
                kind: EventKind::Open(_),
                ..
            }]
        ));
        // A bare ACK of no tracked connection is not kept.
        let mut other = tcp(true, 1, 0x10, b"");
        other[20] = 0x12; // another source port
        assert_eq!(feed(&mut e, 103, &other, &mut out), PacketFate::Untracked);
        // Not TCP at all.
        assert_eq!(
            feed(&mut e, 103, &[0x45, 0], &mut out),
            PacketFate::Untracked
        );
    }

    #[test]
    fn a_connection_that_is_neither_http_nor_tls_is_ignored() {
        let mut e = Engine::new(Limits::default());
        let mut out = Vec::new();
        feed(&mut e, 1, &tcp(true, 999, 0x02, b""), &mut out);
        let fate = feed(
            &mut e,
            1,
            &tcp(true, 1000, 0x18, b"SSH-2.0-OpenSSH_9.6\r\n"),
            &mut out,
        );
        assert!(
            matches!(
                fate,
                PacketFate::Conn {
                    kind: ConnKind::Ignored,
                    ended: false,
                    ..
                }
            ),
            "{fate:?}"
        );
        assert!(out.is_empty());
    }

    #[test]
    fn a_tls_connection_waits_for_its_handshake() {
        let mut e = Engine::new(Limits::default());
        let mut out = Vec::new();
        feed(&mut e, 1, &tcp(true, 999, 0x02, b""), &mut out);
        // The start of a ClientHello record: TLS, undecided until its plaintext says more.
        let hello = [
            0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
        ];
        let fate = feed(&mut e, 1, &tcp(true, 1000, 0x18, &hello), &mut out);
        assert!(
            matches!(
                fate,
                PacketFate::Conn {
                    kind: ConnKind::Pending,
                    ended: false,
                    ..
                }
            ),
            "{fate:?}"
        );
        assert!(out.is_empty());
    }

    #[test]
    fn idle_connections_end_and_free_their_memory() {
        let mut e = Engine::new(Limits::default());
        let mut out = Vec::new();
        assert_eq!(e.memory(), 0);
        open(&mut e, &mut out);
        out.clear();
        assert!(e.memory() >= std::mem::size_of::<Session>());
        let idle = Duration::from_secs(60);
        // Last packet at 102 s: not idle at 162 s, idle just after.
        assert_eq!(e.expire_idle(Timestamp::new(162, 0), idle, &mut out), 0);
        assert!(out.is_empty());
        assert_eq!(e.expire_idle(Timestamp::new(162, 1), idle, &mut out), 1);
        assert_eq!(e.tracked_connections(), 0);
        assert_eq!(e.memory(), 0);
        match out.as_slice() {
            [
                Event {
                    ts,
                    conn: Some(c),
                    kind:
                        EventKind::End {
                            how,
                            messages,
                            bytes,
                            ..
                        },
                },
            ] => {
                assert_eq!(*ts, Timestamp::new(162, 1));
                assert_eq!(c.id, 1);
                assert_eq!(*how, EndHow::Idle);
                assert_eq!((*messages, *bytes), (0, 0));
            }
            other => panic!("unexpected events {other:?}"),
        }
    }

    #[test]
    fn out_of_order_bytes_are_counted() {
        let mut e = Engine::new(Limits::default());
        let mut out = Vec::new();
        open(&mut e, &mut out);
        let before = e.memory();
        // 100 bytes from the server past a hole: held until the hole fills.
        feed(
            &mut e,
            103,
            &tcp(false, 5000 + RESPONSE.len() as u32 + 10, 0x18, &[0x82; 100]),
            &mut out,
        );
        assert!(e.memory() >= before + 100, "{} vs {before}", e.memory());
    }

    #[test]
    fn subtracting_durations_from_timestamps() {
        let d = |s, n| Duration::new(s, n);
        assert_eq!(
            ts_minus(Timestamp::new(10, 5), d(3, 6)),
            Some(Timestamp::new(6, 999_999_999))
        );
        assert_eq!(
            ts_minus(Timestamp::new(10, 0), d(10, 0)),
            Some(Timestamp::new(0, 0))
        );
        assert_eq!(
            ts_minus(Timestamp::new(0, 0), d(1, 0)),
            Some(Timestamp::new(-1, 0))
        );
        assert_eq!(ts_minus(Timestamp::new(i64::MIN, 0), d(1, 0)), None);
    }

    /// Connections picked up without a handshake buffer their first bytes to look for frames:
    /// all of them together stay within `max_probe_total_bytes`, and everything is released
    /// when they are decided or finished.
    #[test]
    fn probing_connections_share_a_bounded_pool() {
        let limits = Limits {
            max_probe_bytes: 4096,
            max_probe_total_bytes: 10_000,
            ..Limits::default()
        };
        let mut e = Engine::new(limits);
        let mut out = Vec::new();
        // TLS-like application data: neither HTTP nor a frame (opcode 7 is reserved).
        let junk = [0x17u8; 1000];
        for conn in 0..50u16 {
            for i in 0..3u32 {
                let mut p = tcp(true, 1000 + i * 1000, 0x18, &junk);
                p[20..22].copy_from_slice(&(41000 + conn).to_be_bytes());
                feed(&mut e, 100, &p, &mut out);
                assert!(e.conns.probes.held() <= 10_000);
            }
        }
        assert_eq!(e.conns.probes.held(), 10_000);
        e.finish(&mut out);
        assert_eq!(e.conns.probes.held(), 0);
        // Three connections fill 9,000 bytes, the fourth the last 1,000 and finds the pool dry
        // with its second segment: reported once, at the input level.
        assert_eq!(out.len(), 1, "{out:?}");
        match &out[0].kind {
            EventKind::Anomaly { dir: None, anomaly } => {
                assert_eq!(anomaly.kind, AnomalyKind::ProbeLimit);
                assert!(
                    anomaly.detail.contains("10.0.0.1:41003"),
                    "{}",
                    anomaly.detail
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(out[0].conn.is_none());
    }
}
