//! N engines on N threads, for capture files: connections spread over workers, output the
//! same as one engine's, byte for byte.
//!
//! The reader (the calling thread) reads the capture, decodes link/IP/TCP (reassembling IP
//! fragments, which may cross connections' packets) and sends each TCP segment to the worker
//! its connection hashes to (both directions hash alike). Workers run an engine each. Work
//! moves in rounds: the reader cuts the input into rounds of about [`ROUND_BYTES`], every
//! worker answers every round, and the merger writes round by round, so that memory stays
//! bounded by the rounds in flight.
//!
//! Connection numbers are settled before anything is formatted. A worker settles each event
//! (final number in, filter and totals applied) and, for a line-shaped sink, formats it as
//! soon as its connection's number is known: at once for a connection numbered in an earlier
//! round. An `open` waits for its number, and so does what follows it in the round (items
//! stay in output order): the worker sends the merger the keys (packet indices) of the
//! round's opens, the merger numbers all workers' opens in capture order, as one engine
//! would, and answers, and the worker settles the rest, decoding on meanwhile. A round in
//! which nothing waited is one message per worker, as when lines were patched afterwards.
//! Any other sink gets the settled events themselves, from the merger's thread, in the same
//! order.
//!
//! Payloads are not copied on the way: a worker gets ranges of the buffers the capture was
//! read into (see [`crate::capture::Chunk`]).
//!
//! What limits scaling: the reader (reading the file, capture parsing, header decoding) and
//! the merger (one copy of each output line) are one thread each; a single connection is
//! never split, so one busy connection is one worker's work.

mod items;
mod merge;
mod worker;

use std::hash::BuildHasher;
use std::io;
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
use std::time::Instant;

use super::input::{Pull, Source};
use super::single::PROGRESS_EVERY;
use super::stage::Stage;
use super::{Failure, Progress, Run, Watch};
use crate::event::{AnomalyKind, Event, Timestamp};
use crate::flow::FlowKey;
use crate::limits::Limits;
use crate::packet::{Decoded, PacketDecoder};
use crate::sink::Sink;
use items::{Items, Making};
use merge::{FromReader, FromWorker, Link, Merger};
use worker::{Batch, Links, ToWorker};

/// Payload bytes per round (all workers together): large enough that channel hand-offs are
/// rare, small enough that rounds in flight stay a few megabytes.
const ROUND_BYTES: usize = 1 << 20;
/// Packets per round, for captures of tiny packets.
const ROUND_PACKETS: usize = 8192;
/// Rounds queued per channel before the sender waits.
const ROUNDS_IN_FLIGHT: usize = 2;
/// Bookkeeping bytes a segment costs in a round, besides its payload.
const SEG_COST: usize = 64;
/// Packets between looks at the clock when output is to be flushed at intervals.
const CLOCK_EVERY: u64 = 256;

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
        // The endpoints, hashed as `SocketAddr`s: the buckets connections fall in stay as
        // they were measured (the flow table hashes its keys its own way).
        let bucket = (self.hasher.hash_one(key.endpoints()) % BUCKETS as u64) as usize;
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
        memcap: limits.memcap / workers,
        ..limits.clone()
    }
}

/// Reads `source` to its end through `n` workers into `sink`. Connections are numbered from
/// `run.last_id + 1`. An output error ends everything and is returned.
pub(super) fn run(
    run: &mut Run<'_>,
    source: &mut Source,
    n: usize,
    sink: &mut (dyn Sink + Send),
    watch: &mut dyn Watch,
) -> io::Result<()> {
    let opts = run.options;
    let limits = worker_limits(&opts.limits, n);
    let mut formatter = || match sink.lines() {
        Some(lines) => Making::Lines(lines.formatter()),
        None => Making::Events,
    };
    let own_making = formatter();
    let mut makings: Vec<Making> = (0..n).map(|_| formatter()).collect();
    let summary = run.summary.is_some();
    let filter = opts.filter.as_ref();
    let last_id = run.last_id;
    let (gathered, reader) = std::thread::scope(|scope| {
        // The merger writes a round once every worker has settled it, which may be a round
        // after it was numbered: one more round of slack than the workers have.
        let (to_merger, from_reader) = sync_channel(ROUNDS_IN_FLIGHT + 1);
        let (recycle_tx, recycle_rx) = channel::<Batch>();
        let mut to_workers = Vec::with_capacity(n);
        let mut links = Vec::with_capacity(n);
        let mut workers = Vec::with_capacity(n);
        for w in 0..n {
            let (tx, input) = sync_channel::<ToWorker>(ROUNDS_IN_FLIGHT);
            // Per round one message, or two (opens, then items); the merger takes them as
            // they come, so this only bounds how far a worker runs ahead.
            let (output, from) = sync_channel::<FromWorker>(2 * ROUNDS_IN_FLIGHT + 2);
            let (numbers_tx, numbers) = channel();
            let (reuse_tx, reuse) = channel::<Items>();
            links.push(Link::new(from, numbers_tx, reuse_tx));
            let worker_links = Links {
                input,
                output,
                numbers,
                recycle: recycle_tx.clone(),
                reuse,
            };
            let engine = run.engine(limits.clone());
            let stage = Stage::new(filter, summary, opts.proto_only);
            let making = makings.pop().unwrap_or(Making::Events);
            let worker = std::thread::Builder::new()
                .name(format!("wsnoop-worker{w}"))
                .spawn_scoped(scope, move || {
                    worker::run(engine, stage, making, worker_links)
                })?;
            workers.push(worker);
            to_workers.push(tx);
        }
        drop(recycle_tx);
        let merger = std::thread::Builder::new()
            .name("wsnoop-merger".into())
            .spawn_scoped(scope, move || {
                let mut m = Merger::new(sink, last_id, links);
                m.run(&from_reader).map(|g| (g, m.last_id))
            })?;

        let mut r = Reader {
            decoder: PacketDecoder::new(&opts.limits),
            shards: Shards::new(n),
            batches: (0..n).map(|_| Batch::default()).collect(),
            stage: Stage::new(filter, summary, opts.proto_only),
            making: own_making,
            own: Items::default(),
            to_workers,
            to_merger,
            recycle: recycle_rx,
            round_cost: 0,
            round_packets: 0,
            flush_every: opts.flush_every,
            packets: 0,
            bytes: 0,
            last_ts: None,
            failed: false,
            announce_start: !run.started,
        };
        r.run(source, watch);
        let Reader {
            stage,
            last_ts,
            failed,
            packets,
            bytes,
            ..
        } = r;
        let merged = match merger.join() {
            Ok(merged) => merged,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        for w in workers {
            if let Err(panic) = w.join() {
                std::panic::resume_unwind(panic);
            }
        }
        io::Result::Ok((merged, (stage, last_ts, failed, packets, bytes)))
    })?;
    let (stage, last_ts, failed, packets, bytes) = reader;
    let (gathered, last) = gathered?;
    watch.progress(&Progress {
        offset: source.offset().unwrap_or(bytes),
        size: source.size(),
        packets,
        bytes,
        done: true,
    });
    if let Some(ts) = last_ts {
        run.saw(ts);
    }
    run.input_failed |= failed;
    run.started |= packets > 0;
    run.last_id = last;
    for counts in [stage.counts, gathered.counts] {
        run.counts.absorb(&counts);
    }
    // Workers are given segments, never packets: the reader counted those.
    run.counts.packets += packets;
    if let Some(all) = &mut run.summary {
        for part in [stage.summary, gathered.summary].into_iter().flatten() {
            all.absorb(part);
        }
    }
    Ok(())
}

struct Reader {
    decoder: PacketDecoder,
    shards: Shards,
    batches: Vec<Batch>,
    /// Events about the input itself.
    stage: Stage,
    making: Making,
    own: Items,
    to_workers: Vec<SyncSender<ToWorker>>,
    to_merger: SyncSender<FromReader>,
    recycle: Receiver<Batch>,
    round_cost: usize,
    round_packets: usize,
    flush_every: Option<std::time::Duration>,
    packets: u64,
    bytes: u64,
    last_ts: Option<Timestamp>,
    failed: bool,
    /// No earlier input had a packet: the first one read is the run's start.
    announce_start: bool,
}

impl Reader {
    /// Reads and hands out every packet, then ends the round trip. Stops early when the
    /// merger is gone (the output failed: it reports that) or the watch asks.
    fn run(&mut self, source: &mut Source, watch: &mut dyn Watch) {
        let mut read_error = None;
        let mut last_flush = Instant::now();
        loop {
            if watch.stop() {
                break;
            }
            let (pkt, chunk) = match source.pull(std::time::Duration::ZERO) {
                Pull::Packet(pkt, chunk) => (pkt, chunk),
                Pull::End => break,
                Pull::Idle => continue,
                Pull::Corrupt(detail) | Pull::Stopped(detail) => {
                    read_error = Some(detail);
                    break;
                }
            };
            if std::mem::take(&mut self.announce_start)
                && self.to_merger.send(FromReader::Start(pkt.ts)).is_err()
            {
                return;
            }
            let index = self.packets;
            self.packets += 1;
            self.bytes += pkt.data.len() as u64;
            self.last_ts = Some(self.last_ts.map_or(pkt.ts, |t| t.max(pkt.ts)));
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
                    let ev = Event::input_anomaly(
                        pkt.ts,
                        AnomalyKind::IpFragmentLimit,
                        detail,
                        Some(index + 1),
                    );
                    self.own_event(index, ev);
                }
                Decoded::NotTcp | Decoded::Fragment | Decoded::Malformed(_) => {}
            }
            for secrets in source.take_secrets() {
                for batch in &mut self.batches {
                    batch.keys.push((batch.segs.len(), secrets.clone()));
                }
            }
            self.round_packets += 1;
            if self.packets.is_multiple_of(PROGRESS_EVERY) {
                watch.progress(&Progress {
                    offset: source.offset().unwrap_or(self.bytes),
                    size: source.size(),
                    packets: self.packets,
                    bytes: self.bytes,
                    done: false,
                });
            }
            let mut flush = source.take_paused();
            if let Some(every) = self.flush_every
                && self.packets.is_multiple_of(CLOCK_EVERY)
                && last_flush.elapsed() >= every
            {
                flush = true;
            }
            if flush {
                last_flush = Instant::now();
            }
            if (flush || self.round_cost >= ROUND_BYTES || self.round_packets >= ROUND_PACKETS)
                && !self.dispatch(flush)
            {
                return;
            }
        }
        if !self.dispatch(false) {
            return;
        }
        let last_ts = self.last_ts.unwrap_or_default();
        for tx in &self.to_workers {
            let _ = tx.send(ToWorker::Finish(last_ts));
        }
        if let Some(detail) = read_error {
            let name = source.name().to_string();
            // Also in the output: what follows the fault is lost.
            let ev = Event::input_anomaly(
                last_ts,
                AnomalyKind::CorruptCapture,
                format!("{name}: {detail}"),
                None,
            );
            self.own_event(self.packets, ev);
            watch.failure(&Failure::Input {
                input: name,
                detail,
            });
            self.failed = true;
        }
        let own = std::mem::take(&mut self.own);
        let _ = self.to_merger.send(FromReader::End { own });
    }

    fn own_event(&mut self, key: u64, ev: Event) {
        let mut passed = Vec::new();
        self.stage.push(ev, &mut passed, &mut drop);
        for ev in passed {
            self.making.push(&mut self.own, key, ev, &mut drop);
        }
    }

    /// Sends the round; false when a receiver is gone.
    fn dispatch(&mut self, flush: bool) -> bool {
        for (batch, tx) in self.batches.iter_mut().zip(&self.to_workers) {
            let fresh = self.recycle.try_recv().unwrap_or_default();
            let full = std::mem::replace(batch, fresh);
            if tx.send(ToWorker::Round { batch: full, flush }).is_err() {
                return false;
            }
        }
        self.round_cost = 0;
        self.round_packets = 0;
        let own = std::mem::take(&mut self.own);
        self.to_merger
            .send(FromReader::Round { own, flush })
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
        assert_eq!(l.memcap, Limits::default().memcap / 4);
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
