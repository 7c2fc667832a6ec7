//! One TCP connection: HTTP phase (or, without a handshake, frame probing) → WebSocket →
//! closed. Both directions are the same types used twice, indexed by side (0 = the endpoint
//! that sent the first packet seen) for TCP and by [`Dir`] once the client is known.

use std::net::SocketAddr;

use crate::event::{
    Anomaly, AnomalyKind, ConnId, ConnRef, Dir, DirEvent, EndHow, Event, EventKind, OpenInfo,
    Timestamp,
};
use crate::frame;
use crate::handshake::{HttpPhase, HttpStatus, Upgrade};
use crate::limits::Limits;
use crate::message::{DirConfig, DirDeflate, Sender, WsDecoder};
use crate::packet::TcpSegment;
use crate::reassembly::{Chunk, GapReason, HalfStream};

/// Everything a session needs from the engine while handling one packet.
pub struct Ctx<'a> {
    pub ts: Timestamp,
    pub limits: &'a Limits,
    /// Hands out connection numbers as connections are recognised.
    pub next_conn: &'a mut ConnId,
    pub out: &'a mut Vec<Event>,
}

/// A tracked TCP connection.
pub struct Session {
    streams: [HalfStream; 2],
    conn: ConnState,
}

struct ConnState {
    endpoints: [SocketAddr; 2],
    phase: Phase,
    /// Reusable buffer for one decoder call's events.
    scratch: Vec<DirEvent>,
    /// Differences found in the current segment's retransmitted bytes.
    conflict: Option<Conflict>,
    /// Bytes per side that the snap length cut before the connection was recognised.
    cut_before_open: [u64; 2],
}

/// Retransmitted bytes that differed from the first copy, within one segment.
struct Conflict {
    side: usize,
    first: u64,
    last: u64,
    bytes: u64,
    runs: u64,
}

enum Phase {
    Http(HttpPhase),
    /// Seen without its SYN and not (yet) as HTTP: first bytes of each side, kept to look for
    /// WebSocket frames.
    Probing(Box<[ProbeBuf; 2]>),
    WebSocket(Box<WsConn>),
    /// Not WebSocket: the rest of the connection is ignored.
    Ignored,
}

#[derive(Default)]
struct ProbeBuf {
    data: Vec<u8>,
    segment_starts: Vec<usize>,
    /// Bytes lost before `data` (a gap while probing): probing starts afresh after it.
    lost: bool,
}

struct WsConn {
    conn: ConnRef,
    /// Which side (0 or 1) is the client.
    client_side: usize,
    decoders: [WsDecoder; 2],
    ended: [bool; 2],
    truncation_reported: [bool; 2],
    messages: u64,
    bytes: u64,
}

impl Session {
    /// A session for a connection whose first captured packet is `seg`.
    pub fn new(seg: &TcpSegment<'_>, limits: &Limits) -> Session {
        let syn_seen = seg.flags.syn;
        let new_stream = || HalfStream::new(limits.max_ooo_bytes, limits.max_ooo_segments);
        let phase = if syn_seen {
            Phase::Http(HttpPhase::new(limits.max_handshake_bytes))
        } else {
            Phase::Probing(Box::default())
        };
        Session {
            streams: [new_stream(), new_stream()],
            conn: ConnState {
                endpoints: [seg.src, seg.dst],
                phase,
                scratch: Vec::new(),
                conflict: None,
                cut_before_open: [0; 2],
            },
        }
    }

    /// Take one segment of this connection.
    pub fn segment(&mut self, seg: &TcpSegment<'_>, ctx: &mut Ctx<'_>) {
        let side = usize::from(seg.src != self.conn.endpoints[0]);
        let conn = &mut self.conn;
        let Some(stream) = self.streams.get_mut(side) else {
            return;
        };
        stream.segment(seg.seq, seg.flags, seg.payload, seg.missing, &mut |chunk| {
            conn.on_chunk(side, chunk, ctx)
        });
        conn.flush_conflict(ctx);
    }

    /// Both directions are closed (or the connection was reset): nothing more will come.
    pub fn is_done(&self) -> bool {
        match &self.conn.phase {
            Phase::WebSocket(ws) => ws.ended[0] && ws.ended[1],
            _ => self.streams.iter().all(HalfStream::is_closed),
        }
    }

    /// The input ended, or the session is dropped: report what is still pending and, for a
    /// WebSocket connection, its `end` event.
    pub fn finish(&mut self, how: EndHow, ctx: &mut Ctx<'_>) {
        for side in 0..2 {
            let conn = &mut self.conn;
            if let Some(stream) = self.streams.get_mut(side) {
                stream.finish(&mut |chunk| conn.on_chunk(side, chunk, ctx));
            }
        }
        // Whatever a probing session collected is all there will be: decide with it.
        self.conn.try_probe(true, ctx);
        if let Phase::WebSocket(ws) = &self.conn.phase {
            // Client side first, so that c2s leftovers come before s2c ones.
            let order = [ws.side_of(Dir::C2s), ws.side_of(Dir::S2c)];
            for side in order {
                self.conn.end_direction(side, how, ctx);
            }
        }
    }

    /// The WebSocket connection, once recognised.
    pub fn conn_ref(&self) -> Option<ConnRef> {
        match &self.conn.phase {
            Phase::WebSocket(ws) => Some(ws.conn),
            _ => None,
        }
    }
}

impl WsConn {
    fn dir_of(&self, side: usize) -> Dir {
        if side == self.client_side {
            Dir::C2s
        } else {
            Dir::S2c
        }
    }

    fn side_of(&self, dir: Dir) -> usize {
        match dir {
            Dir::C2s => self.client_side,
            Dir::S2c => 1 - self.client_side,
        }
    }

    /// Stamp a decoder's events with the connection, direction and time.
    fn emit(&mut self, dir: Dir, events: &mut Vec<DirEvent>, ctx: &mut Ctx<'_>) {
        for ev in events.drain(..) {
            let kind = match ev {
                DirEvent::Message(msg) => {
                    self.messages += 1;
                    self.bytes += msg.payload.len() as u64;
                    EventKind::Message { dir, msg }
                }
                DirEvent::Anomaly(anomaly) => EventKind::Anomaly {
                    dir: Some(dir),
                    anomaly,
                },
            };
            ctx.out.push(Event {
                ts: ctx.ts,
                conn: Some(self.conn),
                kind,
            });
        }
    }

    fn anomaly(&self, dir: Option<Dir>, anomaly: Anomaly, ctx: &mut Ctx<'_>) {
        ctx.out.push(Event {
            ts: ctx.ts,
            conn: Some(self.conn),
            kind: EventKind::Anomaly { dir, anomaly },
        });
    }
}

impl ConnState {
    fn flush_conflict(&mut self, ctx: &mut Ctx<'_>) {
        let Some(c) = self.conflict.take() else {
            return;
        };
        if let Phase::WebSocket(ws) = &self.phase {
            let detail = format!(
                "a retransmission differs from the first copy in {} bytes ({} runs) between \
                 stream offsets {} and {}; the first copy was used",
                c.bytes, c.runs, c.first, c.last
            );
            let dir = ws.dir_of(c.side);
            ws.anomaly(
                Some(dir),
                Anomaly::new(AnomalyKind::TcpConflict, detail),
                ctx,
            );
        }
    }

    fn on_chunk(&mut self, side: usize, chunk: Chunk<'_>, ctx: &mut Ctx<'_>) {
        match chunk {
            Chunk::Data(bytes) => self.on_data(side, bytes, ctx),
            Chunk::Gap { len, reason } => self.on_gap(side, len, reason, ctx),
            Chunk::Conflict { offset, len } => {
                // One retransmission can differ in many separate runs: gather them into one
                // anomaly per segment (reported by `flush_conflict`).
                let c = self.conflict.get_or_insert(Conflict {
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
            Chunk::Fin => self.end_direction(side, EndHow::Fin, ctx),
            Chunk::Rst => {
                self.end_direction(side, EndHow::Rst, ctx);
                self.end_direction(1 - side, EndHow::Rst, ctx);
            }
        }
    }

    fn on_data(&mut self, side: usize, bytes: &[u8], ctx: &mut Ctx<'_>) {
        match &mut self.phase {
            Phase::Http(http) => {
                let status = http.feed(side, bytes);
                self.on_http_status(status, ctx);
            }
            Phase::Probing(bufs) => {
                if let Some(buf) = bufs.get_mut(side) {
                    let room = ctx.limits.max_probe_bytes.saturating_sub(buf.data.len());
                    let take = bytes.get(..room.min(bytes.len())).unwrap_or_default();
                    buf.segment_starts.push(buf.data.len());
                    buf.data.extend_from_slice(take);
                }
                self.try_probe(false, ctx);
            }
            Phase::WebSocket(ws) => {
                let dir = ws.dir_of(side);
                let mut events = std::mem::take(&mut self.scratch);
                if let Some(decoder) = ws.decoders.get_mut(dir.index()) {
                    decoder.feed(bytes, &mut events);
                }
                ws.emit(dir, &mut events, ctx);
                self.scratch = events;
            }
            Phase::Ignored => {}
        }
    }

    fn on_gap(&mut self, side: usize, len: u64, reason: GapReason, ctx: &mut Ctx<'_>) {
        match &mut self.phase {
            Phase::Http(http) => {
                if reason == GapReason::Truncated {
                    if let Some(cut) = self.cut_before_open.get_mut(side) {
                        *cut = cut.saturating_add(len);
                    }
                }
                let status = http.gap(side);
                self.on_http_status(status, ctx);
            }
            Phase::Probing(bufs) => {
                if let Some(buf) = bufs.get_mut(side) {
                    buf.data.clear();
                    buf.segment_starts.clear();
                    buf.lost = true;
                }
            }
            Phase::WebSocket(ws) => {
                let dir = ws.dir_of(side);
                if reason == GapReason::Truncated {
                    if !ws.truncation_reported[side] {
                        ws.truncation_reported[side] = true;
                        let detail = format!(
                            "packets cut short by the capture's snap length: {len} bytes lost \
                             (further cuts in this direction are not reported again)"
                        );
                        ws.anomaly(
                            Some(dir),
                            Anomaly::new(AnomalyKind::TruncatedCapture, detail),
                            ctx,
                        );
                    }
                } else {
                    let why = match reason {
                        GapReason::BufferLimit => "out-of-order buffer limit reached",
                        _ => "segment never captured",
                    };
                    let detail = format!("{len} bytes missing from the TCP stream ({why})");
                    ws.anomaly(Some(dir), Anomaly::new(AnomalyKind::TcpGap, detail), ctx);
                }
                let mut events = std::mem::take(&mut self.scratch);
                if let Some(decoder) = ws.decoders.get_mut(dir.index()) {
                    decoder.gap(len, &mut events);
                }
                ws.emit(dir, &mut events, ctx);
                self.scratch = events;
            }
            Phase::Ignored => {}
        }
    }

    fn on_http_status(&mut self, status: HttpStatus, ctx: &mut Ctx<'_>) {
        match status {
            HttpStatus::Pending => {}
            HttpStatus::NotWebSocket { .. } => self.phase = Phase::Ignored,
            HttpStatus::Upgraded(upgrade) => self.open(*upgrade, ctx),
        }
    }

    fn open(&mut self, upgrade: Upgrade, ctx: &mut Ctx<'_>) {
        let client_side = upgrade.client_side.min(1);
        let deflate = upgrade.deflate;
        let decoder = |sender: Sender| {
            let dir_deflate = deflate.map(|p| DirDeflate::for_sender(&p, sender));
            WsDecoder::new(DirConfig::new(sender, dir_deflate, ctx.limits))
        };
        let decoders = [decoder(Sender::Client), decoder(Sender::Server)];
        let mut ws = self.start_ws(client_side, decoders, upgrade.info, ctx);
        for (dir, anomaly) in upgrade.anomalies {
            ws.anomaly(Some(dir), anomaly, ctx);
        }
        for side in 0..2 {
            let cut = self.cut_before_open[side];
            if cut > 0 {
                ws.truncation_reported[side] = true;
                let detail = format!(
                    "packets cut short by the capture's snap length: {cut} bytes of the \
                     handshake lost (further cuts in this direction are not reported again)"
                );
                let dir = ws.dir_of(side);
                ws.anomaly(
                    Some(dir),
                    Anomaly::new(AnomalyKind::TruncatedCapture, detail),
                    ctx,
                );
            }
        }
        let [rest0, rest1] = upgrade.rest;
        let rests = [rest0, rest1];
        for dir in Dir::BOTH {
            let side = ws.side_of(dir);
            let Some(rest) = rests.get(side) else {
                continue;
            };
            let resync = upgrade.resync.get(side).copied().unwrap_or(false);
            if rest.is_empty() && !resync {
                continue;
            }
            if let Some(decoder) = ws.decoders.get_mut(dir.index()) {
                if resync {
                    // Bytes right after the handshake were lost: find a frame boundary.
                    decoder.gap(0, &mut self.scratch);
                }
                decoder.feed(rest, &mut self.scratch);
            }
            let mut events = std::mem::take(&mut self.scratch);
            ws.emit(dir, &mut events, ctx);
            self.scratch = events;
        }
        self.phase = Phase::WebSocket(ws);
    }

    /// Number the connection and report it open.
    fn start_ws(
        &mut self,
        client_side: usize,
        decoders: [WsDecoder; 2],
        info: OpenInfo,
        ctx: &mut Ctx<'_>,
    ) -> Box<WsConn> {
        *ctx.next_conn += 1;
        let conn = ConnRef {
            id: *ctx.next_conn,
            client: self.endpoints[client_side],
            server: self.endpoints[1 - client_side],
        };
        ctx.out.push(Event {
            ts: ctx.ts,
            conn: Some(conn),
            kind: EventKind::Open(Box::new(info)),
        });
        Box::new(WsConn {
            conn,
            client_side,
            decoders,
            ended: [false; 2],
            truncation_reported: [false; 2],
            messages: 0,
            bytes: 0,
        })
    }

    /// A connection seen without its SYN: is it HTTP (handshake still to come), WebSocket
    /// picked up mid-stream, or something else? `last_chance`: no more bytes will come.
    fn try_probe(&mut self, last_chance: bool, ctx: &mut Ctx<'_>) {
        let Phase::Probing(bufs) = &mut self.phase else {
            return;
        };
        // A connection whose first captured bytes are an HTTP message goes the normal way.
        let http_like = bufs
            .iter()
            .any(|b| !b.lost && !b.data.is_empty() && looks_like_http_start(&b.data));
        if http_like {
            let bufs = std::mem::take(bufs);
            let mut http = HttpPhase::new(ctx.limits.max_handshake_bytes);
            let mut status = HttpStatus::Pending;
            for (side, buf) in bufs.iter().enumerate() {
                if !buf.data.is_empty() {
                    status = http.feed(side, &buf.data);
                    if !matches!(status, HttpStatus::Pending) {
                        break;
                    }
                }
            }
            self.phase = Phase::Http(http);
            self.on_http_status(status, ctx);
            return;
        }
        let probes = [
            frame::probe(&bufs[0].data, &bufs[0].segment_starts),
            frame::probe(&bufs[1].data, &bufs[1].segment_starts),
        ];
        let confident = |p: &Option<frame::Probe>| p.is_some_and(|p| p.chain >= MIN_CHAIN);
        let client_side = match probes {
            [Some(a), _] if a.masked && confident(&probes[0]) => Some(0),
            [_, Some(b)] if b.masked && confident(&probes[1]) => Some(1),
            [Some(a), _] if !a.masked && confident(&probes[0]) => Some(1),
            [_, Some(b)] if !b.masked && confident(&probes[1]) => Some(0),
            _ => None,
        };
        let full = bufs
            .iter()
            .all(|b| b.data.len() >= ctx.limits.max_probe_bytes);
        let Some(client_side) = client_side else {
            if full || last_chance {
                self.phase = Phase::Ignored;
            }
            return;
        };
        let bufs = std::mem::take(bufs);
        let decoder = |sender: Sender| {
            let mut config = DirConfig::new(sender, None, ctx.limits);
            config.mid_stream = true;
            WsDecoder::new(config)
        };
        let decoders = [decoder(Sender::Client), decoder(Sender::Server)];
        let info = OpenInfo {
            mid_stream: true,
            ..OpenInfo::default()
        };
        let mut ws = self.start_ws(client_side, decoders, info, ctx);
        let detail = "connection picked up without its opening handshake: client and server \
                      told apart by frame masking; extensions and subprotocol unknown";
        ws.anomaly(None, Anomaly::new(AnomalyKind::NoHandshake, detail), ctx);
        for dir in Dir::BOTH {
            let side = ws.side_of(dir);
            let Some(buf) = bufs.get(side) else {
                continue;
            };
            let mut events = std::mem::take(&mut self.scratch);
            if let Some(decoder) = ws.decoders.get_mut(dir.index()) {
                decoder.feed(&buf.data, &mut events);
            }
            ws.emit(dir, &mut events, ctx);
            self.scratch = events;
        }
        self.phase = Phase::WebSocket(ws);
    }

    /// One direction ended; when both have, the connection's `end` event.
    fn end_direction(&mut self, side: usize, how: EndHow, ctx: &mut Ctx<'_>) {
        let Phase::WebSocket(ws) = &mut self.phase else {
            return;
        };
        if ws.ended.get(side).copied().unwrap_or(true) {
            return;
        }
        ws.ended[side] = true;
        let dir = ws.dir_of(side);
        let mut events = std::mem::take(&mut self.scratch);
        if let Some(decoder) = ws.decoders.get_mut(dir.index()) {
            decoder.finish(&mut events);
        }
        ws.emit(dir, &mut events, ctx);
        self.scratch = events;
        if ws.ended[1 - side] {
            ctx.out.push(Event {
                ts: ctx.ts,
                conn: Some(ws.conn),
                kind: EventKind::End {
                    how,
                    messages: ws.messages,
                    bytes: ws.bytes,
                },
            });
        }
    }
}

/// Consecutive consistent frame headers needed to call a connection WebSocket without its
/// handshake.
const MIN_CHAIN: usize = 3;

/// The first bytes of an HTTP/1.x request or response.
fn looks_like_http_start(data: &[u8]) -> bool {
    const STARTS: [&[u8]; 9] = [
        b"GET ",
        b"POST ",
        b"PUT ",
        b"HEAD ",
        b"DELETE ",
        b"OPTIONS ",
        b"PATCH ",
        b"CONNECT ",
        b"HTTP/1.",
    ];
    STARTS.iter().any(|s| {
        let n = s.len().min(data.len());
        data.get(..n) == s.get(..n)
    })
}
