//! A worker: one engine for the connections the reader sends it, formatting their events
//! into lines as it goes (formatting is most of the output work, so it is spread too).

use std::net::SocketAddr;

use crossbeam_channel::{Receiver, Sender};

use super::lines::{LineWriter, Lines};
use crate::engine::Engine;
use crate::event::{Event, Timestamp};
use crate::filter::Filter;
use crate::limits::Limits;
use crate::packet::{TcpFlags, TcpSegment};
use crate::sink::{LineStyle, Summary};

/// Payload capacity a reused batch keeps (one jumbo segment may have grown it).
const KEEP_DATA: usize = 4 << 20;

/// One TCP segment, its payload in the batch's `data`.
#[derive(Clone, Copy, Debug)]
pub struct Seg {
    pub index: u64,
    pub ts: Timestamp,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub flags: TcpFlags,
    pub missing: u32,
    /// End of the payload in `data` (it starts where the previous segment's ended).
    pub end: usize,
}

/// The segments of one round for one worker.
#[derive(Debug, Default)]
pub struct Batch {
    pub segs: Vec<Seg>,
    pub data: Vec<u8>,
}

impl Batch {
    pub fn push(&mut self, index: u64, ts: Timestamp, seg: &TcpSegment<'_>) {
        self.data.extend_from_slice(seg.payload);
        self.segs.push(Seg {
            index,
            ts,
            src: seg.src,
            dst: seg.dst,
            seq: seg.seq,
            flags: seg.flags,
            missing: seg.missing,
            end: self.data.len(),
        });
    }
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
                let mut start = 0;
                for s in &batch.segs {
                    let payload = batch.data.get(start..s.end).unwrap_or_default();
                    start = s.end;
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
                batch.segs.clear();
                batch.data.clear();
                batch.data.shrink_to(KEEP_DATA);
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
