//! One TCP connection: its two reassembled byte streams feed a stack of layers, chosen by what
//! the bytes turn out to carry (see [`layer::Layer`]): detection → HTTP/1.1 upgrade →
//! WebSocket, or frame probing for a connection picked up mid-stream. Both directions are the
//! same types used twice, indexed by side (0 = the endpoint that sent the first packet seen)
//! for TCP and by [`crate::event::Dir`] once the client is known.
//!
//! Every layer has the same push contract: `feed(side, bytes)`, `gap(side, len)`,
//! `end(side, how)` (FIN / RST), `finish(how)` (end of input, eviction, idle). A layer that
//! learns what it carries hands its bytes on to the next one (see `layer.rs`): adding a layer
//! touches the layer list there, never the engine.

mod detect;
mod http1;
mod http2;
mod layer;
mod probing;
mod tls;
mod ws;

use std::cell::Cell;
use std::net::SocketAddr;

use crate::event::{Anomaly, AnomalyKind, ConnId, EndHow, Event, Timestamp};
use crate::limits::Limits;
use crate::message::BufPool;
use crate::packet::TcpSegment;
use crate::reassembly::{Chunk, HalfStream};
use layer::Layer;
pub use probing::ProbePool;

/// Everything a session needs from the engine while handling one packet.
pub struct Ctx<'a> {
    /// Capture time of the packet being handled.
    pub ts: Timestamp,
    /// Capture record number (from 1, counting every record, as Wireshark numbers frames) of
    /// the packet whose bytes are being handled: the packet being handled, or for bytes TCP
    /// held out of order, the one that carried them. `None` when no packet is (end of input,
    /// idle expiry): what is found then has no packet.
    pub packet: Option<u64>,
    pub limits: &'a Limits,
    /// Hands out connection numbers as connections are recognised.
    pub next_conn: &'a mut ConnId,
    pub out: &'a mut Vec<Event>,
    /// Large message buffers for the decoders.
    pub pool: &'a BufPool,
    /// Bytes held by connections being probed for frames, all together.
    pub probes: &'a std::sync::Arc<ProbePool>,
    /// TLS secrets known so far.
    pub keys: &'a crate::tls::KeyLog,
    /// Which application protocol WebSockets carry: found per connection, forced or none.
    pub proto: crate::proto::ProtoChoice,
    /// What connections turned out to carry, counted as it is found.
    pub tally: &'a Tally,
}

/// What the tracked connections turned out to carry, for the line a run with no WebSocket
/// ends with. Cells: counted from layers that hold the context by shared reference.
#[derive(Debug, Default)]
pub struct Tally {
    /// Connections tracked (a new one per first packet of an untracked flow).
    pub tcp_conns: Cell<u64>,
    /// Connections (or TLS connections' plaintext) found to carry HTTP/1.x or HTTP/2.
    pub http_conns: Cell<u64>,
    /// Connections found to carry TLS.
    pub tls_conns: Cell<u64>,
    /// Of those, connections with records left undecrypted for want of keys (`tls_no_keys`).
    pub tls_no_keys: Cell<u64>,
}

impl Tally {
    pub fn count(counter: &Cell<u64>) {
        counter.set(counter.get() + 1);
    }
}

impl Ctx<'_> {
    /// The next connection number.
    pub fn number_conn(&mut self) -> ConnId {
        *self.next_conn += 1;
        *self.next_conn
    }
}

/// A tracked TCP connection.
pub struct Session {
    streams: [HalfStream; 2],
    /// The TCP endpoints, side 0 first.
    endpoints: [SocketAddr; 2],
    layer: Layer,
    /// Differences found in the current segment's retransmitted bytes.
    conflict: Option<Conflict>,
    /// Capture time of the last packet seen, for the idle timeout.
    last_ts: Timestamp,
    /// Index in the capture of the packet that started tracking this connection: connections
    /// still open at the end are finished in this order, whatever the flow table's layout (and
    /// however connections are spread over worker threads).
    pub first_packet: u64,
    /// What [`Session::memory`] said when last asked by the engine (its share of the memcap).
    pub charged: usize,
}

/// What a connection has turned out to be so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnKind {
    /// Still deciding: HTTP not yet upgraded, or frames not yet recognised.
    Pending,
    /// Recognised as WebSocket (it carries at least one).
    WebSocket,
    /// Not WebSocket; the rest of it is ignored.
    Ignored,
}

/// Retransmitted bytes that differed from the first copy, within one segment.
struct Conflict {
    side: usize,
    first: u64,
    last: u64,
    bytes: u64,
    runs: u64,
}

impl Session {
    /// A session for a connection whose first captured packet is `seg`.
    pub fn new(
        seg: &TcpSegment<'_>,
        limits: &Limits,
        probes: &std::sync::Arc<ProbePool>,
    ) -> Session {
        let new_stream = || HalfStream::new(limits.max_ooo_bytes, limits.max_ooo_segments);
        let endpoints = [seg.src, seg.dst];
        Session {
            streams: [new_stream(), new_stream()],
            endpoints,
            // Without the SYN the connection may be well under way: its first bytes need not
            // be a handshake, so they are looked at before being taken for HTTP.
            layer: Layer::first(endpoints, seg.flags.syn, probes),
            conflict: None,
            last_ts: Timestamp::default(),
            first_packet: 0,
            charged: 0,
        }
    }

    /// What the connection is so far.
    pub fn kind(&self) -> ConnKind {
        self.layer.kind()
    }

    /// Capture time of the last packet given to [`Session::segment`].
    pub fn last_seen(&self) -> Timestamp {
        self.last_ts
    }

    /// Approximate bytes held by this connection: the session itself, out-of-order TCP
    /// buffers and what its layers hold (handshake heads, TLS records, HTTP/2 state, messages
    /// being assembled, inflaters).
    pub fn memory(&self) -> usize {
        let streams: usize = self.streams.iter().map(HalfStream::buffered_bytes).sum();
        std::mem::size_of::<Session>() + streams + self.layer.memory()
    }

    /// Take one segment of this connection.
    pub fn segment(&mut self, seg: &TcpSegment<'_>, ctx: &mut Ctx<'_>) {
        self.last_ts = self.last_ts.max(ctx.ts);
        let side = usize::from(seg.src != self.endpoints[0]);
        let (layer, conflict) = (&mut self.layer, &mut self.conflict);
        let Some(stream) = self.streams.get_mut(side) else {
            debug_assert!(false, "side is 0 or 1");
            return;
        };
        let packet = ctx.packet.unwrap_or_default();
        stream.segment(
            seg.seq,
            seg.flags,
            seg.payload,
            seg.missing,
            packet,
            &mut |chunk| {
                on_chunk(layer, conflict, side, chunk, ctx);
            },
        );
        self.flush_conflict(ctx);
    }

    /// Memory pressure (`Limits::memcap`): out-of-order TCP data is delivered past its holes
    /// (declared lost) and the layers drop their messages being assembled; one `memcap`
    /// anomaly says what was held. Returns the bytes freed.
    pub fn shed(&mut self, ctx: &mut Ctx<'_>) -> usize {
        let before = self.memory();
        let mut ooo = 0;
        for side in 0..2 {
            let (layer, conflict) = (&mut self.layer, &mut self.conflict);
            if let Some(stream) = self.streams.get_mut(side) {
                ooo += stream.shed(&mut |chunk| on_chunk(layer, conflict, side, chunk, ctx));
            }
        }
        self.flush_conflict(ctx);
        self.layer.shed(ctx);
        let freed = before.saturating_sub(self.memory());
        let [a, b] = self.endpoints;
        let detail = format!(
            "memory passed the memcap; connection {a} <-> {b} held {before} bytes, the most: \
             {ooo} out-of-order TCP bytes delivered past their holes, messages being assembled \
             dropped; {freed} bytes freed"
        );
        let anomaly = Anomaly::new(AnomalyKind::Memcap, detail);
        if let Some(back) = self.layer.report(0, anomaly, ctx) {
            ctx.out.push(Event::input_anomaly(
                ctx.ts,
                back.kind,
                back.detail,
                ctx.packet,
            ));
        }
        freed
    }

    /// The live silence alarm of every WebSocket this connection carries (see
    /// `WsConn::silence_alarm`), at `ctx.ts`. Returns how many fired.
    pub fn silence_alarms(&mut self, after_us: u64, ctx: &mut Ctx<'_>) -> usize {
        let now = ctx.ts;
        let mut fired = 0;
        self.layer.websockets(&mut |ws| {
            fired += usize::from(ws.silence_alarm(now, after_us, ctx));
        });
        fired
    }

    /// Key log lines were added: a TLS connection decrypts what it held for them now (a quiet
    /// connection's open and messages would otherwise wait for its next packet).
    pub fn keys_added(&mut self, ctx: &mut Ctx<'_>) {
        if let Layer::Tls(tls) = &mut self.layer {
            tls.keys_added(ctx);
        }
    }

    /// Both directions are closed (or the connection was reset): nothing more will come.
    pub fn is_done(&self) -> bool {
        self.layer
            .is_done()
            .unwrap_or_else(|| self.streams.iter().all(HalfStream::is_closed))
    }

    /// The input ended, or the session is dropped: report what is still pending and, for
    /// each WebSocket it carries, its `end` event.
    pub fn finish(&mut self, how: EndHow, ctx: &mut Ctx<'_>) {
        for side in 0..2 {
            let (layer, conflict) = (&mut self.layer, &mut self.conflict);
            if let Some(stream) = self.streams.get_mut(side) {
                stream.finish(&mut |chunk| on_chunk(layer, conflict, side, chunk, ctx));
            }
        }
        self.flush_conflict(ctx);
        self.layer.finish(how, ctx);
    }

    fn flush_conflict(&mut self, ctx: &mut Ctx<'_>) {
        let Some(c) = self.conflict.take() else {
            return;
        };
        let detail = format!(
            "a retransmission differs from the first copy in {} ({}) between \
             stream offsets {} and {}; the first copy was used",
            crate::plural::count(c.bytes, "byte", "bytes"),
            crate::plural::count(c.runs, "run", "runs"),
            c.first,
            c.last
        );
        self.layer
            .report(c.side, Anomaly::new(AnomalyKind::TcpConflict, detail), ctx);
    }
}

fn on_chunk(
    layer: &mut Layer,
    conflict: &mut Option<Conflict>,
    side: usize,
    chunk: Chunk<'_>,
    ctx: &mut Ctx<'_>,
) {
    match chunk {
        Chunk::Data { bytes, packet } => {
            // The bytes are the packet's that carried them, also when TCP held them.
            let now = ctx.packet.replace(packet);
            layer.feed(side, bytes, ctx);
            ctx.packet = now;
        }
        Chunk::Gap { len, reason } => layer.gap(side, len, reason, ctx),
        Chunk::Conflict { offset, len } => {
            // One retransmission can differ in many separate runs: gather them into one
            // anomaly per segment (reported by `flush_conflict`).
            let c = conflict.get_or_insert(Conflict {
                side,
                first: offset,
                last: offset,
                bytes: 0,
                runs: 0,
            });
            c.last = offset.saturating_add(len);
            c.bytes = c.bytes.saturating_add(len);
            c.runs += 1;
        }
        Chunk::Fin => layer.end(side, EndHow::Fin, ctx),
        Chunk::Rst => {
            layer.end(side, EndHow::Rst, ctx);
            layer.end(1 - side, EndHow::Rst, ctx);
        }
    }
}
