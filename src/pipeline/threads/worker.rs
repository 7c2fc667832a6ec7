//! A worker: one engine for the connections the reader sends it. A round is decoded into
//! events; the keys of its `open` events go to the merger, which numbers connections in
//! capture order over all workers; with the numbers back the worker settles the events
//! (final numbers in, the stage applied) and makes them into items, formatted when the sink
//! is line-shaped (formatting is most of the output work, so it is spread too). While the
//! numbers of one round are on their way, the next round is decoded.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, SyncSender};

use super::items::{Items, Making};
use super::merge::FromWorker;
use crate::capture::Chunk;
use crate::engine::Engine;
use crate::event::{ConnId, Event, EventKind, Timestamp};
use crate::packet::{TcpFlags, TcpSegment};
use crate::pipeline::stage::Stage;

/// Payload capacity a reused batch keeps (one jumbo segment may have grown it).
const KEEP_DATA: usize = 4 << 20;

/// One TCP segment; its payload is a range of one of the batch's buffers.
#[derive(Clone, Copy, Debug)]
pub struct Seg {
    pub index: u64,
    pub ts: Timestamp,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub flags: TcpFlags,
    pub missing: u32,
    /// Which of the batch's capture buffers, or [`OWN`]: the batch's own `data`.
    pub chunk: u32,
    pub start: usize,
    pub end: usize,
}

/// [`Seg::chunk`] of a payload copied into the batch (reassembled from IP fragments, it is in
/// no capture buffer).
const OWN: u32 = u32::MAX;

/// The segments of one round for one worker. Payloads stay where the capture reader read
/// them: the batch holds those buffers (no copy of the bulk of the bytes on the reader's
/// thread, which every packet goes through).
#[derive(Debug, Default)]
pub struct Batch {
    pub segs: Vec<Seg>,
    pub chunks: Vec<Chunk>,
    pub data: Vec<u8>,
}

impl Batch {
    /// Adds a segment whose packet was read into `chunk` (when it was read into a buffer that
    /// can be lent out).
    pub fn push(&mut self, index: u64, ts: Timestamp, seg: &TcpSegment<'_>, chunk: Option<&Chunk>) {
        let lent = chunk.and_then(|chunk| {
            let range = range_in(chunk, seg.payload)?;
            if !self.chunks.last().is_some_and(|c| Arc::ptr_eq(c, chunk)) {
                self.chunks.push(Arc::clone(chunk));
            }
            let which = u32::try_from(self.chunks.len() - 1)
                .ok()
                .filter(|&w| w != OWN)?;
            Some((which, range.start, range.end))
        });
        // Outside the capture buffer (or past what a round could ever number): a copy.
        let (which, start, end) = lent.unwrap_or_else(|| {
            let start = self.data.len();
            self.data.extend_from_slice(seg.payload);
            (OWN, start, self.data.len())
        });
        self.segs.push(Seg {
            index,
            ts,
            src: seg.src,
            dst: seg.dst,
            seq: seg.seq,
            flags: seg.flags,
            missing: seg.missing,
            chunk: which,
            start,
            end,
        });
    }

    pub fn payload(&self, s: &Seg) -> &[u8] {
        let from = match s.chunk {
            OWN => Some(self.data.as_slice()),
            i => self.chunks.get(i as usize).map(|c| c.as_slice()),
        };
        from.and_then(|b| b.get(s.start..s.end)).unwrap_or_default()
    }

    /// Empties the batch for the next round, letting go of the capture buffers.
    fn clear(&mut self) {
        self.segs.clear();
        self.chunks.clear();
        self.data.clear();
        self.data.shrink_to(KEEP_DATA);
    }
}

/// Where `part` lies in `whole`, if it does.
fn range_in(whole: &[u8], part: &[u8]) -> Option<Range<usize>> {
    let at = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    let end = at.checked_add(part.len())?;
    (end <= whole.len() && !part.is_empty()).then_some(at..end)
}

pub enum ToWorker {
    /// A round's segments; `flush`: the input paused, its events are to be written now.
    Round { batch: Batch, flush: bool },
    /// The input ended: finish every connection, stamped with the input's last time.
    Finish(Timestamp),
}

/// A worker's channels.
pub struct Links {
    pub input: Receiver<ToWorker>,
    pub output: SyncSender<FromWorker>,
    /// Final connection numbers for the opens of a round, in the order they were sent.
    pub numbers: Receiver<Vec<ConnId>>,
    /// Batches back to the reader, to be filled again.
    pub recycle: Sender<Batch>,
    /// Written rounds back from the merger, to be filled again.
    pub reuse: Receiver<Items>,
}

/// A round decoded, waiting for its connection numbers.
#[derive(Default)]
struct Decoded {
    keys: Vec<u64>,
    events: Vec<Event>,
}

impl Decoded {
    fn opens(&self) -> Vec<u64> {
        self.keys
            .iter()
            .zip(&self.events)
            .filter(|(_, ev)| matches!(ev.kind, EventKind::Open(_)))
            .map(|(&k, _)| k)
            .collect()
    }
}

struct Worker<'a> {
    engine: Engine,
    stage: Stage<'a>,
    making: Making,
    /// The engine's numbers of open connections → final numbers.
    ids: HashMap<ConnId, ConnId, foldhash::fast::RandomState>,
    links: Links,
}

/// Runs until the reader says the input ended (or hangs up, or the merger does).
pub fn run(engine: Engine, stage: Stage<'_>, making: Making, links: Links) {
    let mut w = Worker {
        engine,
        stage,
        making,
        ids: HashMap::default(),
        links,
    };
    let _ = w.run();
}

/// The merger is gone (it failed, and reports why).
struct Gone;

impl Worker<'_> {
    fn run(&mut self) -> Result<(), Gone> {
        let mut pending: Option<Decoded> = None;
        let mut scratch: Vec<Event> = Vec::new();
        while let Ok(msg) = self.links.input.recv() {
            match msg {
                ToWorker::Round { batch, flush } => {
                    let mut cur = Decoded::default();
                    for s in &batch.segs {
                        let seg = TcpSegment {
                            src: s.src,
                            dst: s.dst,
                            seq: s.seq,
                            flags: s.flags,
                            payload: batch.payload(s),
                            missing: s.missing,
                        };
                        self.engine.segment(s.index, s.ts, &seg, &mut scratch);
                        for ev in scratch.drain(..) {
                            cur.keys.push(s.index);
                            cur.events.push(ev);
                        }
                    }
                    // The reader refills it: its buffers keep their size from round to round.
                    let mut batch = batch;
                    batch.clear();
                    let _ = self.links.recycle.send(batch);
                    self.send(FromWorker::Opens(cur.opens()))?;
                    if let Some(prev) = pending.take() {
                        self.settle(prev)?;
                    }
                    if flush {
                        self.settle(cur)?;
                    } else {
                        pending = Some(cur);
                    }
                }
                ToWorker::Finish(ts) => {
                    if let Some(prev) = pending.take() {
                        self.settle(prev)?;
                    }
                    // Each connection's last events, keyed by its first packet.
                    let mut spans = Vec::new();
                    self.engine
                        .finish_at(ts, &mut scratch, |first, upto| spans.push((first, upto)));
                    let mut cur = Decoded::default();
                    let mut done = 0;
                    for (first, upto) in spans {
                        cur.keys
                            .extend(std::iter::repeat_n(first, upto.saturating_sub(done)));
                        done = upto;
                    }
                    debug_assert_eq!(cur.keys.len(), scratch.len());
                    cur.events.append(&mut scratch);
                    self.send(FromWorker::Opens(cur.opens()))?;
                    self.settle(cur)?;
                    let summary = self.stage.summary.take();
                    return self.send(FromWorker::Done {
                        summary,
                        counts: self.stage.counts,
                    });
                }
            }
        }
        Ok(())
    }

    fn send(&self, msg: FromWorker) -> Result<(), Gone> {
        self.links.output.send(msg).map_err(|_| Gone)
    }

    /// Final numbers in, the stage applied, the items made and sent.
    fn settle(&mut self, round: Decoded) -> Result<(), Gone> {
        let numbers = self.links.numbers.recv().map_err(|_| Gone)?;
        let mut numbers = numbers.into_iter();
        let engine = &self.engine;
        let mut done = |payload| engine.recycle(payload);
        let mut items = self.links.reuse.try_recv().unwrap_or_default();
        items.clear(&mut done);
        for (key, mut ev) in round.keys.into_iter().zip(round.events) {
            if let Some(c) = &mut ev.conn {
                let local = c.id;
                if matches!(ev.kind, EventKind::Open(_)) {
                    let id = numbers.next();
                    debug_assert!(id.is_some(), "the merger numbered fewer opens than sent");
                    self.ids.insert(local, id.unwrap_or(local));
                }
                let id = self.ids.get(&local).copied();
                // A connection's events all come after its `open`.
                debug_assert!(id.is_some(), "event of connection {local} before its open");
                c.id = id.unwrap_or(local);
                if matches!(ev.kind, EventKind::End { .. }) {
                    self.ids.remove(&local);
                }
            }
            if self.stage.pass(&ev) {
                self.making.push(&mut items, key, ev, &mut done);
            } else if let EventKind::Message { msg, .. } = ev.kind {
                done(msg.payload);
            }
        }
        debug_assert!(numbers.next().is_none(), "more numbers than opens");
        self.send(FromWorker::Items(items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(payload: &[u8]) -> TcpSegment<'_> {
        TcpSegment {
            src: SocketAddr::from(([10, 0, 0, 1], 40000)),
            dst: SocketAddr::from(([10, 0, 0, 2], 80)),
            seq: 7,
            flags: TcpFlags::default(),
            payload,
            missing: 0,
        }
    }

    /// Payloads read into a capture buffer are held as ranges of it (one reference per
    /// buffer), others (put together from fragments) are copied; each comes back exact.
    #[test]
    fn payloads_stay_in_their_buffers() {
        let a: Chunk = Arc::new((0..=255u8).collect());
        let b: Chunk = Arc::new(vec![9; 64]);
        let reassembled = vec![1, 2, 3];
        let mut batch = Batch::default();
        let ts = Timestamp::default();
        batch.push(0, ts, &seg(&a[10..20]), Some(&a));
        batch.push(1, ts, &seg(&a[200..256]), Some(&a));
        batch.push(2, ts, &seg(&reassembled), Some(&a));
        batch.push(3, ts, &seg(&b[..5]), Some(&b));
        batch.push(4, ts, &seg(&[]), Some(&b));
        assert_eq!(batch.chunks.len(), 2);
        assert_eq!(batch.data, reassembled);
        let payloads: Vec<&[u8]> = batch.segs.iter().map(|s| batch.payload(s)).collect();
        assert_eq!(
            payloads,
            [&a[10..20], &a[200..256], &reassembled[..], &b[..5], &[][..]]
        );
        assert_eq!(Arc::strong_count(&a), 2);
        batch.clear();
        assert_eq!(Arc::strong_count(&a), 1);
        assert!(batch.segs.is_empty() && batch.data.is_empty());
    }
}
