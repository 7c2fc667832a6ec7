//! A worker: one engine for the connections the reader sends it. Each event is settled (its
//! connection's final number in, the stage applied) and made into an item, formatted when the
//! sink is line-shaped (formatting is most of the output work, so it is spread too), as soon
//! as its connection's final number is known: at once for a connection numbered in an earlier
//! round, while the event is still in cache. An `open` (and whatever follows it in the round)
//! waits: the keys of a round's opens go to the merger, which numbers connections in capture
//! order over all workers, and with the numbers back the rest of the round is settled. While
//! the numbers of a round are on their way, the next rounds are decoded (up to
//! [`MAX_PENDING`]).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, SyncSender, TryRecvError};

use super::items::{Items, Making};
use super::merge::{FromWorker, Numbers};
use crate::capture::Chunk;
use crate::engine::Engine;
use crate::event::{ConnId, Event, EventKind, Timestamp};
use crate::packet::{TcpFlags, TcpSegment};
use crate::pipeline::stage::Stage;

/// Rounds a worker may have decoded and not yet settled: it decodes on while the merger
/// numbers, but never gets further ahead of the others than this.
const MAX_PENDING: usize = 2;
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
    /// TLS secrets the capture carried (Decryption Secrets Blocks), each given to the engine
    /// before the segment at its position (every worker gets them all, where one engine would
    /// have: the output is the same for every number of workers).
    pub keys: Vec<(usize, Vec<u8>)>,
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
        self.keys.clear();
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
    pub numbers: Receiver<Numbers>,
    /// Batches back to the reader, to be filled again.
    pub recycle: Sender<Batch>,
    /// Written rounds back from the merger, to be filled again.
    pub reuse: Receiver<Items>,
}

/// Events of a round waiting for connection numbers: from the first event whose
/// connection has none yet to the end of the round (so that items stay in output order).
#[derive(Default)]
struct Waiting {
    keys: Vec<u64>,
    events: Vec<Event>,
}

impl Waiting {
    fn opens(&self) -> Vec<u64> {
        self.keys
            .iter()
            .zip(&self.events)
            .filter(|(_, ev)| matches!(ev.kind, EventKind::Open(_)))
            .map(|(&k, _)| k)
            .collect()
    }
}

/// A round decoded: its items so far and what waits for numbers.
struct Round {
    items: Items,
    waiting: Waiting,
}

/// A round whose items are not all settled yet.
struct Pending {
    number: u64,
    round: Round,
    /// It has opens: the merger's numbers for them come first.
    numbered_by_merger: bool,
}

/// Settling events: numbers, stage, items.
struct Settle {
    /// The engine's numbers of connections → final numbers, for every open connection whose
    /// number is known.
    ids: HashMap<ConnId, ConnId, foldhash::fast::RandomState>,
    stage: Stage,
    making: Making,
    /// What the stage lets through, one event at a time.
    passed: Vec<Event>,
}

impl Settle {
    /// The event's connection has its final number (or it has no connection).
    fn ready(&self, ev: &Event) -> bool {
        match ev.conn {
            None => true,
            Some(c) => !matches!(ev.kind, EventKind::Open(_)) && self.ids.contains_key(&c.id),
        }
    }

    /// Final number in (an `open` takes the next of `numbers`), the stage applied, the item
    /// made; payloads not kept go to `done`.
    fn event(
        &mut self,
        items: &mut Items,
        key: u64,
        mut ev: Event,
        numbers: &mut dyn Iterator<Item = ConnId>,
        done: &mut dyn FnMut(Vec<u8>),
    ) {
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
        self.stage.push(ev, &mut self.passed, done);
        for ev in self.passed.drain(..) {
            self.making.push(items, key, ev, done);
        }
    }
}

struct Worker {
    engine: Engine,
    settle: Settle,
    links: Links,
    /// A settled round's waiting buffers, for the next round.
    spare: Waiting,
}

/// Runs until the reader says the input ended (or hangs up, or the merger does).
pub fn run(engine: Engine, stage: Stage, making: Making, links: Links) {
    let mut w = Worker {
        engine,
        settle: Settle {
            ids: HashMap::default(),
            stage,
            making,
            passed: Vec::new(),
        },
        links,
        spare: Waiting::default(),
    };
    let _ = w.run();
}

/// The merger is gone (it failed, and reports why).
struct Gone;

impl Worker {
    fn run(&mut self) -> Result<(), Gone> {
        // Rounds with items still to settle, oldest first.
        let mut pending: VecDeque<Pending> = VecDeque::new();
        let mut scratch: Vec<Event> = Vec::new();
        let mut next: u64 = 0;
        loop {
            // Decoding comes first; with no batch waiting, the oldest round is settled (its
            // numbers are on their way), and only then is the next batch waited for.
            let msg = match self.links.input.try_recv() {
                Ok(msg) => msg,
                Err(TryRecvError::Disconnected) => return Ok(()),
                Err(TryRecvError::Empty) => {
                    if !pending.is_empty() {
                        self.settle_pending(&mut pending, true, 1)?;
                        continue;
                    }
                    match self.links.input.recv() {
                        Ok(msg) => msg,
                        Err(_) => return Ok(()),
                    }
                }
            };
            match msg {
                ToWorker::Round { batch, flush } => {
                    let mut round = self.round();
                    let mut keys = batch.keys.iter().peekable();
                    for (i, s) in batch.segs.iter().enumerate() {
                        while let Some((_, text)) = keys.next_if(|(at, _)| *at <= i) {
                            self.engine.add_keys(text, 1);
                        }
                        let seg = TcpSegment {
                            src: s.src,
                            dst: s.dst,
                            seq: s.seq,
                            flags: s.flags,
                            payload: batch.payload(s),
                            missing: s.missing,
                        };
                        self.engine.segment(s.index, s.ts, &seg, &mut scratch);
                        self.take(&mut round, s.index, &mut scratch);
                    }
                    for (_, text) in keys {
                        self.engine.add_keys(text, 1);
                    }
                    // The reader refills it: its buffers keep their size from round to round.
                    let mut batch = batch;
                    batch.clear();
                    let _ = self.links.recycle.send(batch);
                    self.conclude(next, round, &mut pending)?;
                    next += 1;
                    // Rounds whose numbers are back are settled without waiting; a flushed
                    // round, and a worker too far ahead, wait for them.
                    let must = if flush {
                        pending.len()
                    } else {
                        pending.len().saturating_sub(MAX_PENDING)
                    };
                    self.settle_pending(&mut pending, false, must)?;
                }
                ToWorker::Finish(ts) => {
                    self.settle_pending(&mut pending, true, usize::MAX)?;
                    // Each connection's last events, keyed by its first packet.
                    let mut spans = Vec::new();
                    self.engine
                        .finish_at(ts, &mut scratch, |first, upto| spans.push((first, upto)));
                    let mut round = self.round();
                    let mut events = scratch.drain(..);
                    let mut done = 0;
                    for (first, upto) in spans {
                        let mut one: Vec<Event> =
                            events.by_ref().take(upto.saturating_sub(done)).collect();
                        done = upto;
                        self.take(&mut round, first, &mut one);
                    }
                    debug_assert!(events.next().is_none(), "events of no connection");
                    drop(events);
                    self.conclude(next, round, &mut pending)?;
                    self.settle_pending(&mut pending, true, usize::MAX)?;
                    let summary = self.settle.stage.summary.take();
                    let mut counts = self.settle.stage.counts;
                    counts.add_engine(&self.engine.stats());
                    return self.send(FromWorker::Done { summary, counts });
                }
            }
        }
    }

    /// A round decoded: its items go at once when nothing in it waits; else the merger hears
    /// its opens (maybe none) and it waits.
    fn conclude(
        &mut self,
        number: u64,
        round: Round,
        pending: &mut VecDeque<Pending>,
    ) -> Result<(), Gone> {
        if round.waiting.keys.is_empty() {
            self.spare = round.waiting;
            return self.send(FromWorker::Items {
                round: number,
                items: round.items,
            });
        }
        let keys = round.waiting.opens();
        let numbered_by_merger = !keys.is_empty();
        self.send(FromWorker::Opens {
            round: number,
            keys,
        })?;
        pending.push_back(Pending {
            number,
            round,
            numbered_by_merger,
        });
        Ok(())
    }

    /// Settles pending rounds, oldest first: at least `must` of them (waiting for their
    /// numbers), then, unless `only_must`, those whose numbers are already back.
    fn settle_pending(
        &mut self,
        pending: &mut VecDeque<Pending>,
        only_must: bool,
        must: usize,
    ) -> Result<(), Gone> {
        let mut settled = 0;
        while let Some(front) = pending.front() {
            let wait = settled < must;
            if !wait && only_must {
                break;
            }
            let ids = if front.numbered_by_merger {
                let numbers = if wait {
                    self.links.numbers.recv().map_err(|_| Gone)?
                } else {
                    match self.links.numbers.try_recv() {
                        Ok(numbers) => numbers,
                        Err(_) => break,
                    }
                };
                debug_assert_eq!(numbers.round, front.number, "numbers for another round");
                numbers.ids
            } else {
                // Its numbers are all from earlier rounds, settled before it.
                Vec::new()
            };
            let Some(p) = pending.pop_front() else { break };
            self.settle_round(p.number, p.round, ids)?;
            settled += 1;
        }
        Ok(())
    }

    fn round(&mut self) -> Round {
        let mut items = self.links.reuse.try_recv().unwrap_or_default();
        let engine = &self.engine;
        items.clear(&mut |payload| engine.recycle(payload));
        Round {
            items,
            waiting: std::mem::take(&mut self.spare),
        }
    }

    /// Settles `events` (of the packet at `key`) at once where their numbers are known; the
    /// rest waits.
    fn take(&mut self, round: &mut Round, key: u64, events: &mut Vec<Event>) {
        let engine = &self.engine;
        for ev in events.drain(..) {
            if round.waiting.keys.is_empty() && self.settle.ready(&ev) {
                self.settle.event(
                    &mut round.items,
                    key,
                    ev,
                    &mut std::iter::empty(),
                    &mut |payload| engine.recycle(payload),
                );
            } else {
                round.waiting.keys.push(key);
                round.waiting.events.push(ev);
            }
        }
    }

    fn send(&self, msg: FromWorker) -> Result<(), Gone> {
        self.links.output.send(msg).map_err(|_| Gone)
    }

    /// With the round's numbers, settles what waited for them and sends the items.
    fn settle_round(
        &mut self,
        number: u64,
        mut round: Round,
        ids: Vec<ConnId>,
    ) -> Result<(), Gone> {
        let mut numbers = ids.into_iter();
        let engine = &self.engine;
        let waiting = &mut round.waiting;
        for (key, ev) in waiting.keys.drain(..).zip(waiting.events.drain(..)) {
            self.settle
                .event(&mut round.items, key, ev, &mut numbers, &mut |payload| {
                    engine.recycle(payload)
                });
        }
        debug_assert!(numbers.next().is_none(), "more numbers than opens");
        self.spare = round.waiting;
        self.send(FromWorker::Items {
            round: number,
            items: round.items,
        })
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
