//! One TCP connection: HTTP phase (or, without a handshake, frame probing) → WebSocket →
//! closed. Both directions are the same types used twice, indexed by side (0 = the endpoint
//! that sent the first packet seen) for TCP and by [`Dir`] once the client is known.

mod probing;
mod ws;

use std::net::SocketAddr;

use crate::event::{Anomaly, AnomalyKind, ConnId, DirEvent, EndHow, Event, Timestamp};
use crate::handshake::{HttpPhase, HttpStatus, Upgrade};
use crate::limits::Limits;
use crate::message::{BufPool, DirConfig, DirDeflate, Sender, WsDecoder};
use crate::packet::TcpSegment;
use crate::reassembly::{Chunk, GapReason, HalfStream};
use probing::ProbeBuf;
pub use probing::ProbePool;
use ws::WsConn;

/// Everything a session needs from the engine while handling one packet.
pub struct Ctx<'a> {
    pub ts: Timestamp,
    pub limits: &'a Limits,
    /// Hands out connection numbers as connections are recognised.
    pub next_conn: &'a mut ConnId,
    pub out: &'a mut Vec<Event>,
    /// Large message buffers for the decoders.
    pub pool: &'a BufPool,
}

/// A tracked TCP connection.
pub struct Session {
    streams: [HalfStream; 2],
    conn: ConnState,
    /// Capture time of the last packet seen, for the idle timeout.
    last_ts: Timestamp,
    /// Index in the capture of the packet that started tracking this connection: connections
    /// still open at the end are finished in this order, whatever the flow table's layout (and
    /// however connections are spread over worker threads).
    pub first_packet: u64,
}

/// What a connection has turned out to be so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnKind {
    /// Still deciding: HTTP not yet upgraded, or frames not yet recognised.
    Pending,
    /// Recognised as WebSocket.
    WebSocket,
    /// Not WebSocket; the rest of it is ignored.
    Ignored,
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

enum Phase {
    Http(HttpPhase),
    /// Seen without its SYN and not (yet) as HTTP: first bytes of each side, kept to look for
    /// WebSocket frames.
    Probing(Box<[ProbeBuf; 2]>),
    WebSocket(Box<WsConn>),
    /// Not WebSocket: the rest of the connection is ignored.
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
        // Without the SYN the connection may be well under way: its first bytes need not be
        // a handshake, so they are looked at before being taken for HTTP.
        let phase = if seg.flags.syn {
            Phase::Http(HttpPhase::new(limits.max_handshake_bytes))
        } else {
            Phase::Probing(Box::new([ProbeBuf::new(probes), ProbeBuf::new(probes)]))
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
            last_ts: Timestamp::default(),
            first_packet: 0,
        }
    }

    /// What the connection is so far.
    pub fn kind(&self) -> ConnKind {
        match self.conn.phase {
            Phase::Http(_) | Phase::Probing(_) => ConnKind::Pending,
            Phase::WebSocket(_) => ConnKind::WebSocket,
            Phase::Ignored => ConnKind::Ignored,
        }
    }

    /// Capture time of the last packet given to [`Session::segment`].
    pub fn last_seen(&self) -> Timestamp {
        self.last_ts
    }

    /// Approximate bytes held by this connection: the session itself, out-of-order TCP
    /// buffers and the probe buffers. Not counted: the HTTP head being parsed (at most
    /// `max_handshake_bytes` per side) and a WebSocket message being assembled (at most
    /// `max_message_bytes` per direction), whose owners expose no size.
    pub fn memory(&self) -> usize {
        let streams: usize = self.streams.iter().map(HalfStream::buffered_bytes).sum();
        let phase = match &self.conn.phase {
            Phase::Probing(bufs) => {
                std::mem::size_of::<[ProbeBuf; 2]>()
                    + bufs.iter().map(ProbeBuf::held).sum::<usize>()
            }
            Phase::WebSocket(_) => std::mem::size_of::<WsConn>(),
            Phase::Http(_) | Phase::Ignored => 0,
        };
        std::mem::size_of::<Session>()
            + streams
            + phase
            + self.conn.scratch.capacity() * std::mem::size_of::<DirEvent>()
    }

    /// Take one segment of this connection.
    pub fn segment(&mut self, seg: &TcpSegment<'_>, ctx: &mut Ctx<'_>) {
        self.last_ts = self.last_ts.max(ctx.ts);
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
            Phase::WebSocket(ws) => ws.all_ended(),
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
        if let Phase::WebSocket(ws) = &mut self.conn.phase {
            ws.end_all(how, &mut self.conn.scratch, ctx);
        }
    }
}

impl ConnState {
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
            Chunk::Fin => {
                if let Phase::WebSocket(ws) = &mut self.phase {
                    ws.end_side(side, EndHow::Fin, &mut self.scratch, ctx);
                }
            }
            Chunk::Rst => {
                if let Phase::WebSocket(ws) = &mut self.phase {
                    ws.end_side(side, EndHow::Rst, &mut self.scratch, ctx);
                    ws.end_side(1 - side, EndHow::Rst, &mut self.scratch, ctx);
                }
            }
        }
    }

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

    fn on_data(&mut self, side: usize, bytes: &[u8], ctx: &mut Ctx<'_>) {
        match &mut self.phase {
            Phase::Http(http) => {
                let status = http.feed(side, bytes);
                self.on_http_status(status, ctx);
            }
            Phase::Probing(bufs) => {
                let starved = bufs
                    .get_mut(side)
                    .is_some_and(|buf| buf.push(bytes, ctx.limits.max_probe_bytes));
                if starved {
                    let detail = format!(
                        "the probe buffers of connections seen without their handshake hold \
                         {} bytes in all (max_probe_total_bytes): from connection {} <-> {} on, \
                         such connections may not be recognised (reported once)",
                        ctx.limits.max_probe_total_bytes, self.endpoints[0], self.endpoints[1]
                    );
                    ctx.out.push(Event::input_anomaly(
                        ctx.ts,
                        AnomalyKind::ProbeLimit,
                        detail,
                    ));
                }
                self.try_probe(false, ctx);
            }
            Phase::WebSocket(ws) => {
                let dir = ws.dir_of(side);
                ws.decode(dir, &mut self.scratch, ctx, |d, out| d.feed(bytes, out));
            }
            Phase::Ignored => {}
        }
    }

    fn on_gap(&mut self, side: usize, len: u64, reason: GapReason, ctx: &mut Ctx<'_>) {
        match &mut self.phase {
            Phase::Http(http) => {
                if let (GapReason::Truncated, Some(cut)) =
                    (reason, self.cut_before_open.get_mut(side))
                {
                    *cut = cut.saturating_add(len);
                }
                let status = http.gap(side);
                self.on_http_status(status, ctx);
            }
            Phase::Probing(bufs) => {
                if let Some(buf) = bufs.get_mut(side) {
                    buf.lose();
                }
            }
            Phase::WebSocket(ws) => {
                let dir = ws.dir_of(side);
                ws.report_gap(side, len, reason, ctx);
                ws.decode(dir, &mut self.scratch, ctx, |d, out| d.gap(len, out));
            }
            Phase::Ignored => {}
        }
    }

    fn on_http_status(&mut self, status: HttpStatus, ctx: &mut Ctx<'_>) {
        match status {
            HttpStatus::Pending => {}
            HttpStatus::NotWebSocket {
                reason, over_limit, ..
            } => {
                // Given up for the limit, not for what the bytes said: account for it (the
                // connection has no number yet, so the anomaly names its endpoints).
                if over_limit {
                    let [a, b] = self.endpoints;
                    ctx.out.push(Event::input_anomaly(
                        ctx.ts,
                        AnomalyKind::HandshakeTooLarge,
                        format!("connection {a} <-> {b}: {reason}: not followed"),
                    ));
                }
                self.phase = Phase::Ignored;
            }
            HttpStatus::Upgraded(upgrade) => self.open(*upgrade, ctx),
        }
    }

    /// The upgrade completed: number the connection, report it, decode what followed it.
    fn open(&mut self, upgrade: Upgrade, ctx: &mut Ctx<'_>) {
        let client_side = upgrade.client_side.min(1);
        let deflate = upgrade.deflate;
        let decoder = |sender: Sender| {
            let dir_deflate = deflate.map(|p| DirDeflate::for_sender(&p, sender));
            let mut config = DirConfig::new(sender, dir_deflate, ctx.limits);
            config.pool = Some(ctx.pool.clone());
            WsDecoder::new(config)
        };
        let decoders = [decoder(Sender::Client), decoder(Sender::Server)];
        let mut ws = WsConn::start(self.endpoints, client_side, decoders, upgrade.info, ctx);
        for (dir, anomaly) in upgrade.anomalies {
            ws.anomaly(Some(dir), anomaly, ctx);
        }
        for (side, &cut) in self.cut_before_open.iter().enumerate() {
            if cut > 0 {
                ws.report_gap(side, cut, GapReason::Truncated, ctx);
            }
        }
        for (side, rest) in upgrade.rest.iter().enumerate() {
            let resync = upgrade.resync.get(side).copied().unwrap_or(false);
            if rest.is_empty() && !resync {
                continue;
            }
            let dir = ws.dir_of(side);
            ws.decode(dir, &mut self.scratch, ctx, |d, out| {
                if resync {
                    // Bytes right after the handshake were lost: find a frame boundary.
                    d.gap(0, out);
                }
                d.feed(rest, out);
            });
        }
        self.phase = Phase::WebSocket(ws);
    }
}
