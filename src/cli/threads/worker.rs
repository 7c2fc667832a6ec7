//! A worker: one engine for the connections the reader sends it, formatting their events
//! into lines as it goes (formatting is most of the output work, so it is spread too).

use std::net::SocketAddr;
use std::ops::Range;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};

use super::lines::{LineWriter, Lines};
use crate::capture::Chunk;
use crate::engine::Engine;
use crate::event::{Event, Timestamp};
use crate::filter::Filter;
use crate::limits::Limits;
use crate::packet::{TcpFlags, TcpSegment};
use crate::sink::{LineStyle, Summary};

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
    /// Adds a segment whose packet was read into `chunk`.
    pub fn push(&mut self, index: u64, ts: Timestamp, seg: &TcpSegment<'_>, chunk: &Chunk) {
        let lent = range_in(chunk, seg.payload).and_then(|range| {
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
    Round(Batch),
    /// The input ended: finish every connection, stamped with the input's last time.
    Finish(Timestamp),
}

pub enum FromWorker {
    Round(Lines),
    /// The connections finished at the end (keyed by their first packet), and the totals.
    Finished(Lines, Option<Summary>),
}

pub struct WorkerSetup<'a> {
    pub limits: Limits,
    pub style: LineStyle,
    pub filter: Option<&'a Filter>,
    pub summary: bool,
}

/// Runs until the reader says the input ended (or hangs up, or the merger does).
pub fn run(
    setup: WorkerSetup<'_>,
    input: &Receiver<ToWorker>,
    output: &Sender<FromWorker>,
    recycle: &Sender<Batch>,
    reuse: &Receiver<Lines>,
) {
    let mut engine = Engine::new(setup.limits);
    let mut lines = LineWriter::new(setup.style, setup.filter, setup.summary);
    let mut events: Vec<Event> = Vec::new();
    while let Ok(msg) = input.recv() {
        match msg {
            ToWorker::Round(batch) => {
                for s in &batch.segs {
                    let payload = batch.payload(s);
                    let seg = TcpSegment {
                        src: s.src,
                        dst: s.dst,
                        seq: s.seq,
                        flags: s.flags,
                        payload,
                        missing: s.missing,
                    };
                    engine.segment(s.index, s.ts, &seg, &mut events);
                    if !events.is_empty() {
                        lines.events(s.index, &mut events, &mut |p| engine.recycle(p));
                    }
                }
                if output
                    .send(FromWorker::Round(lines.take(reuse.try_recv().ok())))
                    .is_err()
                {
                    return;
                }
                // The reader refills it: its buffers keep their size from round to round.
                let mut batch = batch;
                batch.clear();
                let _ = recycle.send(batch);
            }
            ToWorker::Finish(ts) => {
                let mut spans = Vec::new();
                engine.finish_at(ts, &mut events, |first, upto| spans.push((first, upto)));
                // Each connection's events, keyed by its first packet.
                let mut rest = events.drain(..);
                let mut done = 0;
                let mut one = Vec::new();
                for (first, upto) in spans {
                    one.extend(rest.by_ref().take(upto.saturating_sub(done)));
                    done = upto;
                    lines.events(first, &mut one, &mut drop);
                }
                drop(rest);
                let finished = FromWorker::Finished(lines.take(None), lines.take_summary());
                let _ = output.send(finished);
                return;
            }
        }
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
        batch.push(0, ts, &seg(&a[10..20]), &a);
        batch.push(1, ts, &seg(&a[200..256]), &a);
        batch.push(2, ts, &seg(&reassembled), &a);
        batch.push(3, ts, &seg(&b[..5]), &b);
        batch.push(4, ts, &seg(&[]), &b);
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
