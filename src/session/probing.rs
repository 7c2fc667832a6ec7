//! Connections seen without their SYN: HTTP still to come, or WebSocket picked up mid-stream?
//! The first bytes of each side are kept (bounded) until frame headers or an HTTP start line
//! decide it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use std::net::SocketAddr;

use super::http1::Http1;
use super::layer::Layer;
use super::ws::WsConn;
use super::{Ctx, Tally};
use crate::bytes::within;
use crate::event::{Anomaly, AnomalyKind, Dir, Event, OpenInfo};
use crate::frame::{self, Probe};
use crate::handshake::looks_like_http_start;
use crate::message::{DirConfig, Sender, WsDecoder};
use crate::reassembly::GapReason;

/// Bytes held by every probing connection together, bounded by
/// `Limits::max_probe_total_bytes`: without it, tens of thousands of connections picked up
/// mid-stream could each hold `max_probe_bytes` per side.
#[derive(Debug)]
pub struct ProbePool {
    held: AtomicUsize,
    max: usize,
    /// `probe_limit` was reported (once: every later connection would say the same).
    reported: AtomicBool,
}

impl ProbePool {
    pub fn new(max: usize) -> Arc<ProbePool> {
        Arc::new(ProbePool {
            held: AtomicUsize::new(0),
            max,
            reported: AtomicBool::new(false),
        })
    }

    /// Bytes held right now.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }
}

/// The first bytes one side sent, as captured.
#[derive(Default)]
pub(super) struct ProbeBuf {
    /// Where `data` is accounted (none for the empty placeholder left by `mem::take`).
    pool: Option<Arc<ProbePool>>,
    data: Vec<u8>,
    /// Offsets in `data` where a TCP segment began.
    segment_starts: Vec<usize>,
    /// The packet of each of those segments (the messages decoded from them name it).
    segment_packets: Vec<Option<u64>>,
    /// Bytes after `data` dropped because the buffer was full.
    dropped: u64,
    /// Bytes before `data` were lost (a gap): `data` does not start the side's stream.
    lost: bool,
}

impl Drop for ProbeBuf {
    fn drop(&mut self) {
        if let Some(pool) = &self.pool {
            pool.held.fetch_sub(self.data.len(), Ordering::Relaxed);
        }
    }
}

impl ProbeBuf {
    pub fn new(pool: &Arc<ProbePool>) -> ProbeBuf {
        ProbeBuf {
            pool: Some(Arc::clone(pool)),
            data: Vec::new(),
            segment_starts: Vec::new(),
            segment_packets: Vec::new(),
            dropped: 0,
            lost: false,
        }
    }

    /// Keeps what fits of `bytes`, carried by `packet`. Returns true the first time ever (for
    /// the whole pool) that bytes had to be dropped because the pool, not this buffer, was
    /// full.
    pub fn push(&mut self, bytes: &[u8], packet: Option<u64>, cap: usize) -> bool {
        if self.dropped > 0 {
            // Already full: later bytes would not follow what is kept.
            self.dropped = self.dropped.saturating_add(bytes.len() as u64);
            return false;
        }
        let budget = self
            .pool
            .as_ref()
            .map_or(0, |p| p.max.saturating_sub(p.held()));
        let wanted = cap.saturating_sub(self.data.len()).min(bytes.len());
        let take = wanted.min(budget);
        if take > 0 {
            if let Some(pool) = &self.pool {
                pool.held.fetch_add(take, Ordering::Relaxed);
            }
            self.segment_starts.push(self.data.len());
            self.segment_packets.push(packet);
            self.data.extend_from_slice(within(bytes, ..take));
        }
        self.dropped = (bytes.len() - take) as u64;
        take < wanted
            && self
                .pool
                .as_ref()
                .is_some_and(|p| !p.reported.swap(true, Ordering::Relaxed))
    }

    /// Heap bytes held (capacity, as that is what the allocator gave).
    pub fn held(&self) -> usize {
        self.data.capacity()
            + self.segment_starts.capacity() * std::mem::size_of::<usize>()
            + self.segment_packets.capacity() * std::mem::size_of::<Option<u64>>()
    }

    /// Bytes were lost: what was kept no longer leads up to what comes next.
    pub fn lose(&mut self) {
        if let Some(pool) = &self.pool {
            pool.held.fetch_sub(self.data.len(), Ordering::Relaxed);
        }
        self.data = Vec::new();
        self.segment_starts = Vec::new();
        self.segment_packets = Vec::new();
        self.dropped = 0;
        self.lost = true;
    }

    fn full(&self) -> bool {
        self.dropped > 0
    }

    /// Where frames seem to start: the very first byte (one candidate, so a short chain of
    /// headers is enough) or another segment start (stricter).
    fn probe(&self) -> Option<Probe> {
        if self.data.is_empty() {
            return None;
        }
        frame::probe_first(&self.data).or_else(|| frame::probe(&self.data, &self.segment_starts))
    }

    /// The kept bytes, one slice per TCP segment (so the decoder still knows where segments
    /// began), with the packet that carried it.
    fn segments(&self) -> impl Iterator<Item = (&[u8], Option<u64>)> {
        let ends = self
            .segment_starts
            .iter()
            .skip(1)
            .copied()
            .chain(std::iter::once(self.data.len()));
        self.segment_starts
            .iter()
            .zip(ends)
            .zip(&self.segment_packets)
            .filter_map(|((&a, b), &packet)| Some((self.data.get(a..b)?, packet)))
    }
}

/// A connection seen without its SYN, until its first bytes tell what it is.
pub(super) struct Probing {
    endpoints: [SocketAddr; 2],
    bufs: [ProbeBuf; 2],
}

impl Probing {
    pub fn new(endpoints: [SocketAddr; 2], pool: &Arc<ProbePool>) -> Probing {
        Probing {
            endpoints,
            bufs: [ProbeBuf::new(pool), ProbeBuf::new(pool)],
        }
    }

    pub fn memory(&self) -> usize {
        std::mem::size_of::<Probing>() + self.bufs.iter().map(ProbeBuf::held).sum::<usize>()
    }

    pub fn feed(&mut self, side: usize, bytes: &[u8], ctx: &mut Ctx<'_>) -> Option<Layer> {
        let starved = self
            .bufs
            .get_mut(side)
            .is_some_and(|buf| buf.push(bytes, ctx.packet, ctx.limits.max_probe_bytes));
        if starved {
            let detail = format!(
                "the probe buffers of connections seen without their handshake hold {} bytes in \
                 all (max_probe_total_bytes): from connection {} <-> {} on, such connections may \
                 not be recognised (reported once)",
                ctx.limits.max_probe_total_bytes, self.endpoints[0], self.endpoints[1]
            );
            ctx.out.push(Event::input_anomaly(
                ctx.ts,
                AnomalyKind::ProbeLimit,
                detail,
                ctx.packet,
            ));
        }
        self.decide(false, ctx)
    }

    pub fn gap(&mut self, side: usize) {
        if let Some(buf) = self.bufs.get_mut(side) {
            buf.lose();
        }
    }

    /// What the connection is, if its bytes so far tell. `last_chance`: no more bytes will
    /// come.
    pub fn decide(&mut self, last_chance: bool, ctx: &mut Ctx<'_>) -> Option<Layer> {
        // A connection whose first captured bytes are an HTTP message goes the normal way.
        let verdicts = self
            .bufs
            .iter()
            .filter(|b| !b.lost && !b.data.is_empty())
            .map(|b| looks_like_http_start(&b.data));
        let mut http = Some(false);
        for verdict in verdicts {
            http = match (http, verdict) {
                (_, Some(true)) => Some(true),
                (Some(true), _) => Some(true),
                (_, None) | (None, _) => None,
                (Some(false), Some(false)) => Some(false),
            };
        }
        match http {
            Some(true) => return Some(self.hand_to_http(ctx)),
            None if !last_chance => return None,
            _ => {}
        }
        let found = self.bufs.each_ref().map(|b| b.probe());
        // Clients mask their frames (RFC 6455 §5.1): a masked chain names the client, an
        // unmasked one the server.
        let client_side = match found {
            [Some(p), _] if p.masked => Some(0),
            [_, Some(p)] if p.masked => Some(1),
            [Some(_), _] => Some(1),
            [_, Some(_)] => Some(0),
            [None, None] => None,
        };
        let Some(client_side) = client_side else {
            return (last_chance || self.bufs.iter().all(ProbeBuf::full)).then_some(Layer::Ignored);
        };
        let bufs = std::mem::take(&mut self.bufs);
        let decoder = |sender: Sender| {
            let mut config = DirConfig::new(sender, None, ctx.limits);
            config.mid_stream = true;
            config.pool = Some(ctx.pool.clone());
            WsDecoder::new(config)
        };
        let decoders = [decoder(Sender::Client), decoder(Sender::Server)];
        let info = OpenInfo {
            mid_stream: true,
            ..OpenInfo::default()
        };
        let mut ws = WsConn::start(self.endpoints, client_side, None, decoders, info, ctx);
        let detail = "connection picked up without its opening handshake: client and server told \
                      apart by frame masking; extensions and subprotocol unknown";
        ws.anomaly(None, Anomaly::new(AnomalyKind::NoHandshake, detail), ctx);
        for dir in Dir::BOTH {
            let side = ws.side_of(dir);
            let (Some(buf), Some(probe)) = (bufs.get(side), found.get(side)) else {
                continue;
            };
            let starts_at_frame = probe.is_some_and(|p| p.offset == 0);
            let ctx_packet = ctx.packet;
            ws.decode(dir, ctx, |d, out| {
                if starts_at_frame {
                    d.resume_at_boundary();
                }
                let now = ctx_packet;
                for (seg, packet) in buf.segments() {
                    d.set_packet(packet);
                    d.feed(seg, out);
                }
                d.set_packet(now);
                if buf.dropped > 0 {
                    d.gap(buf.dropped, out);
                }
            });
        }
        Some(Layer::WebSocket(ws))
    }

    /// The kept bytes go to the HTTP layer, as they came.
    fn hand_to_http(&mut self, ctx: &mut Ctx<'_>) -> Layer {
        let bufs = std::mem::take(&mut self.bufs);
        Tally::count(&ctx.tally.http_conns);
        let mut next = Layer::Http1(Box::new(Http1::new(self.endpoints, None, ctx.limits)));
        for (side, buf) in bufs.iter().enumerate() {
            if buf.lost {
                next.gap(side, 0, GapReason::NeverFilled, ctx);
            }
            for (seg, packet) in buf.segments() {
                let now = std::mem::replace(&mut ctx.packet, packet);
                next.feed(side, seg, ctx);
                ctx.packet = now;
            }
        }
        next
    }
}
