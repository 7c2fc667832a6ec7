//! `wsnoop read --threads N`: connections spread over N engines on N threads.
//!
//! The reader (the calling thread) reads the capture, decodes link/IP/TCP (reassembling IP
//! fragments, which may cross connections' packets) and sends each TCP segment to the worker
//! its connection hashes to (both directions hash alike). Workers run an engine each and
//! format their events into lines. The merger puts the lines back in capture order, numbering
//! connections as one engine would, and writes them. Work moves in rounds: the reader cuts the
//! input into rounds of about [`ROUND_BYTES`], every worker answers every round, and the
//! merger writes round by round, so that output is the same for every N and memory stays
//! bounded by the rounds in flight.
//!
//! Payloads are not copied on the way: a worker gets ranges of the buffers the capture was
//! read into (see [`crate::capture::Chunk`]).
//!
//! What limits scaling: the reader (reading the file, capture parsing, header decoding) and
//! the merger (one copy of each output line) are one thread each; a single connection is
//! never split, so one busy connection is one worker's work.

mod lines;
mod merge;
mod worker;

use std::cell::Cell;
use std::hash::BuildHasher;
use std::io::Read;

use crossbeam_channel::{Receiver, Sender, bounded, unbounded};
use indicatif::ProgressBar;

use super::output::LineOutput;
use super::read::PROGRESS_EVERY;
use crate::capture::CaptureReader;
use crate::event::{AnomalyKind, ConnId, Event, Timestamp};
use crate::filter::Filter;
use crate::flow::FlowKey;
use crate::limits::Limits;
use crate::packet::{Decoded, PacketDecoder};
use crate::sink::{LineStyle, Summary};
use lines::{LineWriter, Lines};
use merge::{FromReader, Merger};
use worker::{Batch, FromWorker, ToWorker, WorkerSetup};

/// Payload bytes per round (all workers together): large enough that channel hand-offs are
/// rare, small enough that rounds in flight stay a few megabytes.
const ROUND_BYTES: usize = 1 << 20;
/// Packets per round, for captures of tiny packets.
const ROUND_PACKETS: usize = 8192;
/// Rounds queued per channel before the sender waits.
const ROUNDS_IN_FLIGHT: usize = 2;
/// Bookkeeping bytes a segment costs in a round, besides its payload.
const SEG_COST: usize = 64;

/// How inputs are read (one or several threads alike).
pub struct Setup<'a> {
    pub limits: &'a Limits,
    /// 1: one engine on the calling thread; more: this many workers.
    pub threads: usize,
    pub style: LineStyle,
    pub filter: Option<&'a Filter>,
    /// Per-connection totals are gathered.
    pub summary: bool,
}

/// How reading one input went.
pub struct Finished {
    /// The last connection number handed out.
    pub last_id: ConnId,
    pub summary: Option<Summary>,
    /// The input could not be read to its end (what was decoded before is written).
    pub read_error: Option<String>,
}

/// Flow-hash buckets: connections hash to a bucket (both directions alike), and a bucket is
/// given to a worker when it is first used. Many more buckets than workers, so that a few
/// busy connections are spread evenly rather than as a hash happens to fall; a fixed number,
/// so that the table is bounded however many connections come.
const BUCKETS: usize = 4096;

/// Which worker each connection goes to.
struct Shards {
    bucket_worker: Vec<Option<u16>>,
    /// Round cost sent to each worker so far: a new bucket goes to the least loaded one.
    load: Vec<u64>,
    hasher: foldhash::fast::FixedState,
}

impl Shards {
    fn new(workers: usize) -> Self {
        Shards {
            bucket_worker: vec![None; BUCKETS],
            load: vec![0; workers.clamp(1, usize::from(u16::MAX))],
            // A fixed seed: the same capture is spread the same way on every run.
            hasher: foldhash::fast::FixedState::with_seed(0x5753_4e4f_4f50),
        }
    }

    fn worker(&mut self, key: &FlowKey, cost: usize) -> usize {
        let bucket = (self.hasher.hash_one(key) % BUCKETS as u64) as usize;
        let w = match self.bucket_worker.get(bucket).copied().flatten() {
            Some(w) => usize::from(w),
            None => {
                let (w, _) = self
                    .load
                    .iter()
                    .enumerate()
                    .min_by_key(|&(_, load)| *load)
                    .unwrap_or((0, &0));
                if let Some(slot) = self.bucket_worker.get_mut(bucket) {
                    *slot = u16::try_from(w).ok();
                }
                w
            }
        };
        if let Some(load) = self.load.get_mut(w) {
            *load += cost as u64;
        }
        w
    }
}

/// Limits that are totals over all connections are shared out among the workers.
fn worker_limits(limits: &Limits, workers: usize) -> Limits {
    Limits {
        max_connections: (limits.max_connections / workers).max(1),
        max_probe_total_bytes: limits.max_probe_total_bytes / workers,
        ..limits.clone()
    }
}

/// Reads `reader` to its end through `setup.threads` workers, writing to `out`. Connections
/// are numbered from `last_id + 1`. An output error ends everything and is returned.
pub fn read<R: Read>(
    reader: &mut CaptureReader<R>,
    name: &str,
    setup: &Setup<'_>,
    out: &mut LineOutput,
    last_id: ConnId,
    paused: &Cell<bool>,
    progress: &ProgressBar,
) -> std::io::Result<Finished> {
    let n = setup.threads.max(1);
    let limits = worker_limits(setup.limits, n);
    // `conn:` terms are applied by the merger, which knows the final numbers.
    let merge_filter = setup.filter.filter(|f| f.has_conn_terms());
    std::thread::scope(|scope| {
        let (to_merger, from_reader) = bounded(ROUNDS_IN_FLIGHT);
        let (recycle_tx, recycle_rx) = unbounded::<Batch>();
        let mut to_workers = Vec::with_capacity(n);
        let mut from_workers = Vec::with_capacity(n);
        let mut workers = Vec::with_capacity(n);
        let mut reuse_txs = Vec::with_capacity(n);
        for w in 0..n {
            let (tx, rx) = bounded::<ToWorker>(ROUNDS_IN_FLIGHT);
            let (otx, orx) = bounded::<FromWorker>(ROUNDS_IN_FLIGHT);
            let (reuse_tx, reuse_rx) = unbounded::<Lines>();
            reuse_txs.push(reuse_tx);
            let ws = WorkerSetup {
                limits: limits.clone(),
                style: setup.style,
                filter: setup.filter,
                summary: setup.summary,
            };
            let recycle = recycle_tx.clone();
            let worker = std::thread::Builder::new()
                .name(format!("wsnoop-worker{w}"))
                .spawn_scoped(scope, move || {
                    worker::run(ws, &rx, &otx, &recycle, &reuse_rx);
                })?;
            workers.push(worker);
            to_workers.push(tx);
            from_workers.push(orx);
        }
        drop(recycle_tx);
        let style = setup.style;
        let summary = setup.summary;
        let merger = std::thread::Builder::new()
            .name("wsnoop-merger".into())
            .spawn_scoped(scope, move || {
                let mut m = Merger::new(out, style, merge_filter, last_id, reuse_txs, summary);
                let result = m.run(&from_reader, &from_workers);
                result.map(|s| (s, m.last_id))
            })?;

        let mut r = Reader {
            decoder: PacketDecoder::new(setup.limits),
            shards: Shards::new(n),
            batches: (0..n).map(|_| Batch::default()).collect(),
            own: LineWriter::new(setup.style, setup.filter, setup.summary),
            to_workers,
            to_merger,
            recycle: recycle_rx,
            round_cost: 0,
            round_packets: 0,
        };
        let read_error = r.run(reader, name, paused, progress);
        drop(r);
        let merged = match merger.join() {
            Ok(merged) => merged,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        for w in workers {
            if let Err(panic) = w.join() {
                std::panic::resume_unwind(panic);
            }
        }
        let (summary, last_id) = merged?;
        Ok(Finished {
            last_id,
            summary,
            read_error,
        })
    })
}

struct Reader {
    decoder: PacketDecoder,
    shards: Shards,
    batches: Vec<Batch>,
    /// Lines of events about the input itself.
    own: LineWriter,
    to_workers: Vec<Sender<ToWorker>>,
    to_merger: Sender<FromReader>,
    recycle: Receiver<Batch>,
    round_cost: usize,
    round_packets: usize,
}

impl Reader {
    /// Reads and hands out every packet, then ends the round trip. Returns the read error, if
    /// any. Stops early when the merger is gone (the output failed: it reports that).
    fn run<R: Read>(
        &mut self,
        reader: &mut CaptureReader<R>,
        name: &str,
        paused: &Cell<bool>,
        progress: &ProgressBar,
    ) -> Option<String> {
        let mut index: u64 = 0;
        let mut last_ts = Timestamp::default();
        let mut events: Vec<Event> = Vec::new();
        let mut read_error = None;
        loop {
            let (pkt, chunk) = match reader.next_packet_lent() {
                Ok(Some(lent)) => lent,
                Ok(None) => break,
                Err(e) => {
                    read_error = Some(format!("{name}: {e}"));
                    break;
                }
            };
            last_ts = last_ts.max(pkt.ts);
            match self.decoder.decode(&pkt) {
                Decoded::Tcp(seg) => {
                    let cost = seg.payload.len() + SEG_COST;
                    let w = self.shards.worker(&FlowKey::new(seg.src, seg.dst), cost);
                    if let Some(batch) = self.batches.get_mut(w) {
                        batch.push(index, pkt.ts, &seg, chunk);
                    }
                    self.round_cost += cost;
                }
                Decoded::FragmentDropped(detail) => {
                    events.push(Event::input_anomaly(
                        pkt.ts,
                        AnomalyKind::IpFragmentLimit,
                        detail,
                    ));
                    self.own.events(index, &mut events, &mut drop);
                }
                Decoded::NotTcp | Decoded::Fragment | Decoded::Malformed(_) => {}
            }
            index += 1;
            self.round_packets += 1;
            if index.is_multiple_of(PROGRESS_EVERY) {
                progress.set_position(reader.offset());
            }
            let flush = paused.replace(false);
            if (flush || self.round_cost >= ROUND_BYTES || self.round_packets >= ROUND_PACKETS)
                && !self.dispatch(flush)
            {
                return read_error;
            }
        }
        if !self.dispatch(false) {
            return read_error;
        }
        for tx in &self.to_workers {
            let _ = tx.send(ToWorker::Finish(last_ts));
        }
        if let Some(detail) = &read_error {
            events.push(Event::input_anomaly(
                last_ts,
                AnomalyKind::CorruptCapture,
                detail.clone(),
            ));
            self.own.events(index, &mut events, &mut drop);
        }
        let _ = self.to_merger.send(FromReader::End {
            lines: self.own.take(None),
            summary: self.own.take_summary(),
        });
        read_error
    }

    /// Sends the round; false when a receiver is gone.
    fn dispatch(&mut self, flush: bool) -> bool {
        for (batch, tx) in self.batches.iter_mut().zip(&self.to_workers) {
            let fresh = self.recycle.try_recv().unwrap_or_default();
            let full = std::mem::replace(batch, fresh);
            if tx.send(ToWorker::Round(full)).is_err() {
                return false;
            }
        }
        self.round_cost = 0;
        self.round_packets = 0;
        let lines = self.own.take(None);
        self.to_merger
            .send(FromReader::Round { lines, flush })
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;

    fn key(i: u16) -> (SocketAddr, SocketAddr) {
        (
            SocketAddr::from(([10, 0, (i >> 8) as u8, i as u8], 40000 + i)),
            SocketAddr::from(([10, 9, 9, 9], 8080)),
        )
    }

    #[test]
    fn both_directions_go_to_the_same_worker_every_time() {
        let mut a = Shards::new(3);
        let mut b = Shards::new(3);
        for i in 0..500 {
            let (c, s) = key(i);
            let w = a.worker(&FlowKey::new(c, s), 100);
            assert_eq!(a.worker(&FlowKey::new(s, c), 100), w);
            // Another run over the same input spreads it the same way.
            assert_eq!(b.worker(&FlowKey::new(c, s), 100), w);
            assert_eq!(b.worker(&FlowKey::new(s, c), 100), w);
        }
    }

    /// New connections go to the least loaded worker, so equal connections split evenly
    /// (a plain hash modulo the workers splits 32 of them as it happens to fall).
    #[test]
    fn new_connections_go_to_the_least_loaded_worker() {
        let mut shards = Shards::new(2);
        let mut count = [0usize; 2];
        for i in 0..32 {
            let (c, s) = key(i);
            count[shards.worker(&FlowKey::new(c, s), 1000)] += 1;
        }
        assert_eq!(count, [16, 16]);
        // A worker that got a heavy connection gets the next new ones.
        let mut shards = Shards::new(2);
        let (c, s) = key(1);
        let heavy = shards.worker(&FlowKey::new(c, s), 1 << 20);
        for i in 2..10 {
            let (c, s) = key(i);
            assert_ne!(shards.worker(&FlowKey::new(c, s), 100), heavy);
        }
    }

    #[test]
    fn totals_are_shared_out() {
        let l = worker_limits(&Limits::default(), 4);
        assert_eq!(l.max_connections, Limits::default().max_connections / 4);
        assert_eq!(
            l.max_probe_total_bytes,
            Limits::default().max_probe_total_bytes / 4
        );
        assert_eq!(l.max_message_bytes, Limits::default().max_message_bytes);
        assert_eq!(
            worker_limits(
                &Limits {
                    max_connections: 1,
                    ..Limits::default()
                },
                4
            )
            .max_connections,
            1
        );
    }
}
