//! Connections seen without their SYN: HTTP still to come, or WebSocket picked up mid-stream?
//! The first bytes of each side are kept (bounded) until frame headers or an HTTP start line
//! decide it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::ws::WsConn;
use super::{ConnState, Ctx, Phase};
use crate::event::{Anomaly, AnomalyKind, Dir, OpenInfo};
use crate::frame::{self, Probe};
use crate::handshake::HttpPhase;
use crate::message::{DirConfig, Sender, WsDecoder};

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
            dropped: 0,
            lost: false,
        }
    }

    /// Keeps what fits of `bytes`. Returns true the first time ever (for the whole pool)
    /// that bytes had to be dropped because the pool, not this buffer, was full.
    pub fn push(&mut self, bytes: &[u8], cap: usize) -> bool {
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
            self.data
                .extend_from_slice(bytes.get(..take).unwrap_or_default());
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
        self.data.capacity() + self.segment_starts.capacity() * std::mem::size_of::<usize>()
    }

    /// Bytes were lost: what was kept no longer leads up to what comes next.
    pub fn lose(&mut self) {
        if let Some(pool) = &self.pool {
            pool.held.fetch_sub(self.data.len(), Ordering::Relaxed);
        }
        self.data = Vec::new();
        self.segment_starts = Vec::new();
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
    /// began).
    fn segments(&self) -> impl Iterator<Item = &[u8]> {
        let ends = self
            .segment_starts
            .iter()
            .skip(1)
            .copied()
            .chain(std::iter::once(self.data.len()));
        self.segment_starts
            .iter()
            .zip(ends)
            .filter_map(|(&a, b)| self.data.get(a..b))
    }
}

impl ConnState {
    /// Decide what a connection seen without its SYN is, if its bytes so far allow it.
    /// `last_chance`: no more bytes will come.
    pub(super) fn try_probe(&mut self, last_chance: bool, ctx: &mut Ctx<'_>) {
        let Phase::Probing(bufs) = &mut self.phase else {
            return;
        };
        // A connection whose first captured bytes are an HTTP message goes the normal way.
        if bufs
            .iter()
            .any(|b| !b.lost && looks_like_http_start(&b.data))
        {
            let bufs = std::mem::take(bufs);
            self.phase = Phase::Http(HttpPhase::new(ctx.limits.max_handshake_bytes));
            for (side, buf) in bufs.iter().enumerate() {
                if buf.lost {
                    self.on_gap(side, 0, crate::reassembly::GapReason::NeverFilled, ctx);
                }
                for seg in buf.segments() {
                    self.on_data(side, seg, ctx);
                }
            }
            return;
        }
        let found = bufs.each_ref().map(|b| b.probe());
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
            if last_chance || bufs.iter().all(ProbeBuf::full) {
                self.phase = Phase::Ignored;
            }
            return;
        };
        let bufs = std::mem::take(bufs);
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
        let mut ws = WsConn::start(self.endpoints, client_side, decoders, info, ctx);
        let detail = "connection picked up without its opening handshake: client and server told \
                      apart by frame masking; extensions and subprotocol unknown";
        ws.anomaly(None, Anomaly::new(AnomalyKind::NoHandshake, detail), ctx);
        for dir in Dir::BOTH {
            let side = ws.side_of(dir);
            let (Some(buf), Some(probe)) = (bufs.get(side), found.get(side)) else {
                continue;
            };
            let starts_at_frame = probe.is_some_and(|p| p.offset == 0);
            ws.decode(dir, &mut self.scratch, ctx, |d, out| {
                if starts_at_frame {
                    d.resume_at_boundary();
                }
                for seg in buf.segments() {
                    d.feed(seg, out);
                }
                if buf.dropped > 0 {
                    d.gap(buf.dropped, out);
                }
            });
        }
        self.phase = Phase::WebSocket(ws);
    }
}

/// The first bytes of an HTTP/1.x request or response (enough of them to tell).
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
    data.len() >= 4
        && STARTS.iter().any(|s| {
            let n = s.len().min(data.len());
            data.get(..n) == s.get(..n)
        })
}
