//! The engine: captured packets in, events out. Sans-IO: the caller reads the capture and
//! writes the events; the engine only keeps per-connection state, bounded by [`Limits`].

use crate::event::{AnomalyKind, ConnId, EndHow, Event, Timestamp};
use crate::flow::{FlowKey, FlowTable};
use crate::limits::Limits;
use crate::packet::{Decoded, PacketDecoder, RawPacket, TcpSegment};
use std::sync::Arc;

use crate::message::{BufPool, POOL_MAX_TOTAL_BYTES};
use crate::proto::ProtoChoice;
use crate::session::{ConnKind, Ctx, ProbePool, Session, Tally};
use crate::tls::{KeyLog, KeyLogError};

/// The context a session is called with, from `Conns` (or a `&mut Conns` binding) `$c`: a
/// macro rather than a method so that the borrows stay per field and `$c.flows` can be walked
/// while the context is alive.
macro_rules! ctx {
    ($c:expr, $ts:expr, $packet:expr, $out:expr) => {
        Ctx {
            ts: $ts,
            packet: $packet,
            limits: &$c.limits,
            next_conn: &mut $c.next_conn,
            out: $out,
            pool: &$c.pool,
            probes: &$c.probes,
            keys: &$c.keys,
            proto: $c.proto,
            tally: &$c.tally,
        }
    };
}

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
    /// TLS secrets known so far (key log files, Decryption Secrets Blocks, a live key log).
    keys: KeyLog,
    proto: ProtoChoice,
    /// Sum of the tracked sessions' `charged` memory.
    charged: usize,
    /// After a relief that could not get under the budget (what is left cannot be shed),
    /// the next one waits until memory grows past this.
    relief_floor: usize,
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
                keys: KeyLog::new(),
                proto: ProtoChoice::Auto,
                charged: 0,
                relief_floor: 0,
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
    /// their next packet, or at once by [`Engine::release_held_records`]. Malformed lines are
    /// returned (and skipped).
    pub fn add_keys(&mut self, text: &[u8], first_line: usize) -> Vec<KeyLogError> {
        self.conns.keys.add_text(text, first_line)
    }

    /// After [`Engine::add_keys`] between packets (a live key log that grew): every TLS
    /// connection holding records the new lines open decrypts them now, stamped `now`, instead
    /// of at its next packet. Linear in the tracked connections: call it when keys were
    /// added, not per packet.
    pub fn release_held_records(&mut self, now: Timestamp, out: &mut Vec<Event>) {
        let conns = &mut self.conns;
        let mut ctx = ctx!(conns, now, None, out);
        let mut charged = conns.charged;
        for session in conns.flows.values_mut() {
            session.keys_added(&mut ctx);
            let memory = session.memory();
            charged = (charged + memory).saturating_sub(session.charged);
            session.charged = memory;
        }
        conns.charged = charged;
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
                    Some(index + 1),
                ));
                return PacketFate::Untracked;
            }
        };
        self.stats.tcp_packets += 1;
        let fate = self.conns.segment(index, pkt.ts, &seg, out);
        self.conns
            .within_memcap(self.packets.held_bytes(), Some(index + 1), out);
        fate
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
        let fate = self.conns.segment(index, ts, seg, out);
        self.conns.within_memcap(0, Some(index + 1), out);
        fate
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
        self.conns.charged = 0;
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
        let freed: usize = expired.iter().map(|(_, s)| s.charged).sum();
        self.conns.charged = self.conns.charged.saturating_sub(freed);
        self.conns
            .end(expired, EndHow::Idle, now, out, &mut |_, _| {});
        n
    }

    /// The live silence alarm: every WebSocket connection with no message either way for
    /// longer than `after` at `now` gets one `silence` event (`"ended":false`, stamped `now`,
    /// with how long it has been silent); when it next speaks, a `silence` event with
    /// `"ended":true` comes just before that message. Connections whose closing handshake
    /// has begun or with a TCP direction ended are expected to be quiet and get none. As for
    /// [`Engine::expire_idle`], `now` is the latest packet's capture time or the caller's
    /// clock, and the sweep is linear in the tracked connections: call it periodically.
    /// Returns how many alarms fired.
    pub fn silence_alarms(
        &mut self,
        now: Timestamp,
        after: std::time::Duration,
        out: &mut Vec<Event>,
    ) -> usize {
        let after_us = u64::try_from(after.as_micros()).unwrap_or(u64::MAX);
        let conns = &mut self.conns;
        let mut ctx = ctx!(conns, now, None, out);
        conns
            .flows
            .values_mut()
            .map(|session| session.silence_alarms(after_us, &mut ctx))
            .sum()
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
        out.push(Event::input_anomaly(self.last_ts, kind, detail, None));
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
        // No packet is being handled: what is found now has none (and so does not depend on
        // which packets this engine saw, when several share an input).
        let mut ctx = ctx!(self, ts, None, out);
        for (_, mut session) in sessions {
            session.finish(how, &mut ctx);
            done(session.first_packet, ctx.out.len());
        }
    }

    /// Past `Limits::memcap` (counting `extra` bytes held elsewhere, e.g. IP fragments), the
    /// connections holding the most shed what they can, largest first, until memory is back
    /// under seven eighths of the budget (so that relief is not needed again at once). What
    /// cannot be shed (connection state, inflater windows) stays; relief then waits until
    /// memory has grown by another sixteenth of the budget, so a budget too small for the
    /// traffic costs a scan now and then, not one per packet.
    fn within_memcap(&mut self, extra: usize, packet: Option<u64>, out: &mut Vec<Event>) {
        let cap = self.limits.memcap;
        // The reuse pool is weighed only when it could matter (it takes a lock).
        if self
            .charged
            .saturating_add(extra)
            .saturating_add(POOL_MAX_TOTAL_BYTES)
            <= cap
        {
            return;
        }
        let extra = extra.saturating_add(self.pool.held().1);
        let used = self.charged.saturating_add(extra);
        if used <= cap || used <= self.relief_floor {
            return;
        }
        let target = cap / 8 * 7;
        // Buffers kept for reuse go first: no connection loses anything by it.
        self.pool.clear();
        let extra = extra.saturating_sub(self.pool.held().1);
        // Largest first; equal ones in the order they were first seen (the same choice
        // whatever the table's layout).
        let mut holders: Vec<(usize, u64, FlowKey)> = self
            .flows
            .iter()
            .map(|(k, s)| (s.charged, s.first_packet, *k))
            .collect();
        holders.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut ctx = ctx!(self, Timestamp::default(), packet, out);
        for (_, _, key) in holders {
            if self.charged.saturating_add(extra) <= target {
                break;
            }
            let Some(session) = self.flows.peek_mut(&key) else {
                continue;
            };
            ctx.ts = session.last_seen();
            session.shed(&mut ctx);
            let memory = session.memory();
            self.charged = (self.charged + memory).saturating_sub(session.charged);
            session.charged = memory;
        }
        let used = self.charged.saturating_add(extra);
        self.relief_floor = if used > target {
            used.saturating_add(cap / 16)
        } else {
            0
        };
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
        // Packets are numbered from 1, as Wireshark numbers frames.
        let mut ctx = ctx!(self, ts, Some(index + 1), out);
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
                    self.charged = self.charged.saturating_sub(old.charged);
                    old.finish(EndHow::Evicted, &mut ctx);
                }
                match self.flows.get_mut(&key) {
                    Some(session) => session,
                    None => return PacketFate::Untracked,
                }
            }
        };
        session.segment(seg, &mut ctx);
        let memory = session.memory();
        self.charged = (self.charged + memory).saturating_sub(session.charged);
        session.charged = memory;
        let kind = session.kind();
        let ended = session.is_done();
        if ended && let Some(mut session) = self.flows.retire(&key) {
            self.charged = self.charged.saturating_sub(session.charged);
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
    fn held_tls_records_are_released_when_keys_are_added_between_packets() {
        use crate::tls::tests::rfc8448;
        let mut e = Engine::new(Limits::default());
        let mut out = Vec::new();
        feed(&mut e, 1, &tcp(true, 999, 0x02, b""), &mut out);
        feed(&mut e, 1, &tcp(false, 4999, 0x12, b""), &mut out);
        let mut seq = [1000u32, 5000u32];
        let mut protected = 0;
        for (side, bytes) in rfc8448::trace() {
            feed(
                &mut e,
                2,
                &tcp(side == 0, seq[side], 0x18, &bytes),
                &mut out,
            );
            seq[side] += bytes.len() as u32;
            // Everything but the two hellos is encrypted, and held without keys.
            if bytes != rfc8448::client_hello_record() {
                protected += bytes.len();
            }
        }
        protected -= rfc8448::server_hello_record().len();
        assert!(out.is_empty(), "{out:?}");
        let holding = e.memory();
        assert!(e.add_keys(rfc8448::keylog_text().as_bytes(), 1).is_empty());
        assert_eq!(e.memory(), holding, "adding keys alone decrypts nothing");
        e.release_held_records(Timestamp::new(3, 0), &mut out);
        assert!(
            e.memory() + protected <= holding,
            "{} held bytes released: {holding} -> {}",
            protected,
            e.memory()
        );
        // Released, not lost: no connection reports missing keys at its end.
        e.finish(&mut out);
        assert!(out.is_empty(), "{out:?}");
        // With no new keys it is a no-op.
        let after = e.memory();
        e.release_held_records(Timestamp::new(4, 0), &mut out);
        assert_eq!(e.memory(), after);
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

    /// A masked (client) or unmasked (server) frame with the FIN bit.
    fn frame(from_client: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        assert!(payload.len() < 126);
        let mut f = vec![0x80 | opcode, payload.len() as u8];
        if from_client {
            let key = [0x37, 0xfa, 0x21, 0x3d];
            f[1] |= 0x80;
            f.extend_from_slice(&key);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        } else {
            f.extend_from_slice(payload);
        }
        f
    }

    /// The next sequence numbers of client and server after [`open`].
    fn after_open() -> (u32, u32) {
        (1000 + REQUEST.len() as u32, 5000 + RESPONSE.len() as u32)
    }

    /// One frame from the client or the server at `ts`, in one packet; the events it gave.
    fn send_frame(
        e: &mut Engine,
        seqs: &mut (u32, u32),
        client: bool,
        ts: Timestamp,
        opcode: u8,
        payload: &[u8],
    ) -> Vec<Event> {
        let f = frame(client, opcode, payload);
        let seq = if client { &mut seqs.0 } else { &mut seqs.1 };
        let pkt = tcp(client, *seq, 0x18, &f);
        *seq += f.len() as u32;
        let mut out = Vec::new();
        e.packet(
            &RawPacket {
                ts,
                link: LinkType::Ipv4,
                data: &pkt,
                orig_len: pkt.len() as u32,
            },
            &mut out,
        );
        out
    }

    /// The health report of the one connection, at the end of input.
    fn health_at_end(mut e: Engine) -> crate::health::HealthReport {
        let mut out = Vec::new();
        e.finish(&mut out);
        match out.last().map(|ev| &ev.kind) {
            Some(EventKind::End {
                report: Some(r), ..
            }) => r.health.clone(),
            other => panic!("{other:?}"),
        }
    }

    /// `max_outstanding_pings` and `exact_rtt_samples` reach every connection's tracker.
    #[test]
    fn health_limits_come_from_the_engines_limits() {
        let at = |us: u32| Timestamp::new(103, us * 1000);
        let run = |limits: Limits| {
            let mut e = Engine::new(limits);
            open(&mut e, &mut Vec::new());
            let mut seqs = after_open();
            // Three pings out, then their pongs: 4 ms, 3 ms, 3.333 ms.
            send_frame(&mut e, &mut seqs, true, at(0), 0x9, b"a");
            send_frame(&mut e, &mut seqs, true, at(1_000), 0x9, b"b");
            send_frame(&mut e, &mut seqs, true, at(2_000), 0x9, b"c");
            send_frame(&mut e, &mut seqs, false, at(4_000), 0xa, b"a");
            send_frame(&mut e, &mut seqs, false, at(4_000), 0xa, b"b");
            send_frame(&mut e, &mut seqs, false, at(5_333), 0xa, b"c");
            health_at_end(e).rtt(crate::event::Dir::C2s)
        };
        let rtt = run(Limits::default()).expect("three samples");
        assert_eq!(
            (rtt.count, rtt.min, rtt.median, rtt.max),
            (3, 3_000, 3_333, 4_000)
        );
        // Two outstanding pings kept: "a" is forgotten when "c" goes out.
        let rtt = run(Limits {
            max_outstanding_pings: 2,
            ..Limits::default()
        })
        .expect("two samples");
        assert_eq!((rtt.count, rtt.min, rtt.max), (2, 3_000, 3_333));
        assert_eq!(
            run(Limits {
                max_outstanding_pings: 0,
                ..Limits::default()
            }),
            None
        );
        // No sample kept exactly: the median is a histogram bucket's, within 1.6 %; min, max
        // and count stay exact.
        let rtt = run(Limits {
            exact_rtt_samples: 0,
            ..Limits::default()
        })
        .expect("three samples");
        assert_eq!((rtt.count, rtt.min, rtt.max), (3, 3_000, 4_000));
        // 3,333 falls in the bucket [3,328, 3,392) of width 64 (2,048 / 32): its midpoint.
        assert_eq!(rtt.median, 3_360);
    }

    fn silences(out: &[Event]) -> Vec<(Timestamp, u64, bool)> {
        out.iter()
            .filter_map(|e| match e.kind {
                EventKind::Silence { silent_us, ended } => Some((e.ts, silent_us, ended)),
                _ => None,
            })
            .collect()
    }

    /// The live silence alarm by the caller's clock: exactly past the threshold, once, and
    /// its end with the message that broke the silence; none once the close has begun.
    #[test]
    fn silence_alarm_fires_once_and_ends_with_the_next_message() {
        let mut e = Engine::new(Limits::default());
        let mut out = Vec::new();
        open(&mut e, &mut out);
        let after = Duration::from_secs(10);
        let mut seqs = after_open();
        let mut send = |e: &mut Engine, client: bool, ts: Timestamp, opcode: u8, p: &[u8]| {
            send_frame(e, &mut seqs, client, ts, opcode, p)
        };
        let at = |s: i64, us: u32| Timestamp::new(s, us * 1000);
        // Open at 102 s; nothing said yet: silent since the open.
        out.clear();
        assert_eq!(e.silence_alarms(at(112, 0), after, &mut out), 0);
        let got = send(&mut e, true, at(103, 250), 0x1, b"hi");
        assert!(silences(&got).is_empty(), "{got:?}");
        // Exactly 10 s after the message: not longer than the threshold.
        assert_eq!(e.silence_alarms(at(113, 250), after, &mut out), 0);
        assert!(out.is_empty());
        assert_eq!(e.silence_alarms(at(113, 251), after, &mut out), 1);
        assert_eq!(silences(&out), vec![(at(113, 251), 10_000_001, false)]);
        assert_eq!(out[0].conn.map(|c| c.id), Some(1));
        // Once per silence.
        out.clear();
        assert_eq!(e.silence_alarms(at(120, 0), after, &mut out), 0);
        assert!(out.is_empty());
        // The server speaks: the silence ends just before its message, measured up to it.
        let got = send(&mut e, false, at(125, 750), 0x1, b"there");
        assert_eq!(silences(&got), vec![(at(125, 750), 22_000_500, true)]);
        assert!(matches!(got[0].kind, EventKind::Silence { .. }));
        assert!(matches!(got[1].kind, EventKind::Message { .. }));
        assert_eq!(got.len(), 2);
        // Re-armed: a new silence from that message on.
        assert_eq!(e.silence_alarms(at(135, 750), after, &mut out), 0);
        assert_eq!(e.silence_alarms(at(140, 0), after, &mut out), 1);
        assert_eq!(silences(&out), vec![(at(140, 0), 14_999_250, false)]);
        // A ping ends it too (any message either way).
        let got = send(&mut e, true, at(141, 0), 0x9, b"p");
        assert_eq!(silences(&got), vec![(at(141, 0), 15_999_250, true)]);
        // The close handshake begins: going quiet is expected from then on.
        send(&mut e, true, at(142, 0), 0x8, &[0x03, 0xe8]);
        out.clear();
        assert_eq!(e.silence_alarms(at(500, 0), after, &mut out), 0);
        assert!(out.is_empty());
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

    /// (packets, opcode, payload) of the messages and (kind, packet) of the anomalies among
    /// `events`, in order; the open's packet.
    type Seen = (
        Vec<(Option<[u64; 2]>, Vec<u8>)>,
        Vec<(&'static str, Option<u64>)>,
    );

    fn seen(events: &[Event]) -> Seen {
        let mut msgs = Vec::new();
        let mut anomalies = Vec::new();
        for ev in events {
            match &ev.kind {
                EventKind::Message { msg, .. } => {
                    msgs.push((msg.packets.map(|p| [p.first, p.last]), msg.payload.clone()))
                }
                EventKind::Anomaly { anomaly, .. } => {
                    anomalies.push((anomaly.kind.as_str(), anomaly.packet))
                }
                _ => {}
            }
        }
        (msgs, anomalies)
    }

    /// Every message names the packet of its first byte and the latest packet that carried
    /// its bytes; bytes held out of order keep their own packet; an anomaly names the packet
    /// it was found in, none when found at the end of input. Packets are numbered from 1,
    /// counting every packet given (the handshake is packets 1 to 4).
    #[test]
    fn messages_and_anomalies_name_their_packets() {
        let mut e = Engine::new(Limits::default());
        let mut out = Vec::new();
        open(&mut e, &mut out);
        match &out[..] {
            [
                Event {
                    kind: EventKind::Open(info),
                    ..
                },
            ] => assert_eq!(info.handshake.response_packet, Some(4)),
            other => panic!("{other:?}"),
        }
        out.clear();
        let s = 5000 + RESPONSE.len() as u32;
        let c = 1000 + REQUEST.len() as u32;
        // 5: "you" past a hole, held; 6: "hi" fills it.
        feed(
            &mut e,
            103,
            &tcp(false, s + 4, 0x18, b"\x81\x03you"),
            &mut out,
        );
        feed(&mut e, 103, &tcp(false, s, 0x18, b"\x81\x02hi"), &mut out);
        // 7: the end of a frame, held; 8: its start.
        let c_frame = b"\x82\x04\x01\x02\x03\x04";
        feed(
            &mut e,
            104,
            &tcp(false, s + 12, 0x18, &c_frame[3..]),
            &mut out,
        );
        feed(
            &mut e,
            104,
            &tcp(false, s + 9, 0x18, &c_frame[..3]),
            &mut out,
        );
        // 9 and 10: a frame in two packets, in order.
        feed(
            &mut e,
            105,
            &tcp(false, s + 15, 0x18, b"\x81\x05a"),
            &mut out,
        );
        feed(&mut e, 105, &tcp(false, s + 18, 0x18, b"bcde"), &mut out);
        // 11: a client frame without a mask.
        feed(&mut e, 106, &tcp(true, c, 0x18, b"\x81\x02ok"), &mut out);
        // 12: a frame header with nothing after it, still open at the end of input.
        feed(
            &mut e,
            107,
            &tcp(false, s + 22, 0x18, b"\x81\x0a"),
            &mut out,
        );
        e.finish(&mut out);
        let (msgs, anomalies) = seen(&out);
        assert_eq!(
            msgs,
            vec![
                (Some([6, 6]), b"hi".to_vec()),
                (Some([5, 5]), b"you".to_vec()),
                (Some([8, 8]), vec![1, 2, 3, 4]),
                (Some([9, 10]), b"abcde".to_vec()),
                (Some([11, 11]), b"ok".to_vec()),
            ]
        );
        assert_eq!(
            anomalies,
            vec![
                ("unmasked_client_frame", Some(11)),
                ("incomplete_message", None),
            ]
        );
    }

    /// A connection picked up mid-stream is decided, and its framing found, only after
    /// several packets: the messages in the bytes kept until then name the packets that
    /// carried them.
    #[test]
    fn messages_kept_while_probing_keep_their_packets() {
        let mut e = Engine::new(Limits::default());
        let mut out = Vec::new();
        // Four 13-byte frames (texts long enough for the first one to vouch for the boundary
        // it starts at, and a length that does not read as text: see
        // `utf8_tail::may_end_a_character`), cut into packets 1 to 4 at stream offsets 2, 15
        // and 30.
        let mut stream = Vec::new();
        for word in [
            b"first one..",
            b"second one.",
            b"third one..",
            b"last one...",
        ] {
            stream.extend_from_slice(&[0x81, 11]);
            stream.extend_from_slice(word);
        }
        let cuts = [0, 2, 15, 30, stream.len()];
        for (i, w) in cuts.windows(2).enumerate() {
            let seq = 7000 + w[0] as u32;
            let packet = tcp(false, seq, 0x18, &stream[w[0]..w[1]]);
            feed(&mut e, 10 + i as i64, &packet, &mut out);
        }
        e.finish(&mut out);
        let (msgs, _) = seen(&out);
        assert_eq!(
            msgs,
            vec![
                (Some([1, 2]), b"first one..".to_vec()),
                (Some([2, 3]), b"second one.".to_vec()),
                (Some([3, 4]), b"third one..".to_vec()),
                (Some([4, 4]), b"last one...".to_vec()),
            ]
        );
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
