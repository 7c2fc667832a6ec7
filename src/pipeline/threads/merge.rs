//! The merger: numbers connections in capture order over all workers (as one engine would
//! have), then puts the items of the reader and the workers back in capture order and hands
//! them to the sink: formatted bytes to a line-shaped sink, events to any other.
//!
//! Per round, in step with the workers: the keys of every worker's `open` events come first
//! and are answered with final numbers; the round's items come one round later (while they
//! are settled, the workers decode the next round), or at once when the round is to be
//! flushed.

use std::io;
use std::sync::mpsc::{Receiver, Sender};

use super::items::Items;
use crate::event::ConnId;
use crate::pipeline::stage::Counts;
use crate::sink::{Sink, Summary};

/// Reader to merger.
pub enum FromReader {
    /// The reader's own items of one round (events about the input); the workers' of the same
    /// round are on their channels. `flush`: the input paused, write out now.
    Round { own: Items, flush: bool },
    /// The input ended. `own` comes after every packet's items and before the connections
    /// finished at the end (a read error).
    End { own: Items },
}

/// A worker to the merger, in this order per round: `Opens`, then the previous round's
/// `Items` (and this round's too when it is flushed); at the end `Done`.
pub enum FromWorker {
    /// The keys of the round's `open` events, in the worker's order.
    Opens(Vec<u64>),
    Items(Items),
    /// The worker's totals (its connections by their final numbers).
    Done {
        summary: Option<Summary>,
        counts: Counts,
    },
}

/// What the workers gathered besides their items.
#[derive(Default)]
pub struct Gathered {
    pub summary: Option<Summary>,
    pub counts: Counts,
}

/// A worker as the merger sees it.
pub struct Link {
    pub from: Receiver<FromWorker>,
    pub numbers: Sender<Vec<ConnId>>,
    pub reuse: Sender<Items>,
}

pub struct Merger<'a> {
    sink: &'a mut (dyn Sink + Send),
    /// The last connection number handed out (numbering goes on over several inputs).
    pub last_id: ConnId,
    workers: Vec<Link>,
}

/// A worker stopped early: it can only have failed (its panic is reported when it is
/// joined), or the merger is stopping itself.
struct Gone;

impl<'a> Merger<'a> {
    pub fn new(sink: &'a mut (dyn Sink + Send), last_id: ConnId, workers: Vec<Link>) -> Self {
        Merger {
            sink,
            last_id,
            workers,
        }
    }

    /// Writes everything the reader and the workers send, until the end of the input (or
    /// until a sender is gone); returns what the workers gathered.
    pub fn run(&mut self, reader: &Receiver<FromReader>) -> io::Result<Gathered> {
        let mut pending: Option<Items> = None;
        while let Ok(msg) = reader.recv() {
            let step = match msg {
                FromReader::Round { own, flush } => self.round(own, flush, &mut pending),
                FromReader::End { own } => return self.end(own, pending.take()),
            };
            match step {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e),
                Err(Gone) => break,
            }
        }
        Ok(Gathered::default())
    }

    fn round(
        &mut self,
        own: Items,
        flush: bool,
        pending: &mut Option<Items>,
    ) -> Result<io::Result<()>, Gone> {
        self.number()?;
        if let Some(prev) = pending.take() {
            let written = self.write(prev)?;
            if written.is_err() {
                return Ok(written);
            }
        }
        if !flush {
            *pending = Some(own);
            return Ok(Ok(()));
        }
        let written = self.write(own)?;
        Ok(written.and_then(|()| self.sink.flush()))
    }

    fn end(&mut self, own: Items, pending: Option<Items>) -> io::Result<Gathered> {
        let Ok(written) = self.end_rounds(own, pending) else {
            return Ok(Gathered::default());
        };
        written?;
        let mut gathered = Gathered::default();
        for w in &self.workers {
            match w.from.recv() {
                Ok(FromWorker::Done { summary, counts }) => {
                    gathered.counts.messages += counts.messages;
                    gathered.counts.anomalies += counts.anomalies;
                    match (&mut gathered.summary, summary) {
                        (Some(all), Some(part)) => all.absorb(part),
                        (all, part) => *all = all.take().or(part),
                    }
                }
                _ => return Ok(Gathered::default()),
            }
        }
        Ok(gathered)
    }

    /// The last round, the reader's own end (a read error), then the connections finished at
    /// the end.
    fn end_rounds(&mut self, own: Items, pending: Option<Items>) -> Result<io::Result<()>, Gone> {
        if let Some(prev) = pending {
            let written = self.write(prev)?;
            if written.is_err() {
                return Ok(written);
            }
        }
        let written = self.write_own(&own);
        if written.is_err() {
            return Ok(written);
        }
        self.number()?;
        self.write(Items::default())
    }

    /// Takes every worker's opens of a round and answers with final numbers, in the order of
    /// their keys over all workers.
    fn number(&mut self) -> Result<(), Gone> {
        let mut opens = Vec::with_capacity(self.workers.len());
        for w in &self.workers {
            match w.from.recv() {
                Ok(FromWorker::Opens(keys)) => opens.push(keys),
                _ => return Err(Gone),
            }
        }
        let mut numbers: Vec<Vec<ConnId>> =
            opens.iter().map(|o| Vec::with_capacity(o.len())).collect();
        loop {
            // Few workers, few opens per round: a scan is enough.
            let next = opens
                .iter()
                .zip(&numbers)
                .enumerate()
                .filter_map(|(w, (keys, given))| keys.get(given.len()).map(|&k| (k, w)))
                .min();
            let Some((key, w)) = next else { break };
            debug_assert!(
                opens
                    .iter()
                    .zip(&numbers)
                    .enumerate()
                    .all(|(o, (keys, given))| o == w || keys.get(given.len()) != Some(&key)),
                "two workers opened connections at packet {key}"
            );
            self.last_id += 1;
            if let Some(given) = numbers.get_mut(w) {
                given.push(self.last_id);
            }
        }
        for (w, given) in self.workers.iter().zip(numbers) {
            if w.numbers.send(given).is_err() {
                return Err(Gone);
            }
        }
        Ok(())
    }

    /// Takes every worker's items of a round and writes them with the reader's `own`, all in
    /// key order; the workers' rounds go back to them for reuse.
    fn write(&mut self, own: Items) -> Result<io::Result<()>, Gone> {
        let mut sources = Vec::with_capacity(self.workers.len() + 1);
        sources.push(own);
        for w in &self.workers {
            match w.from.recv() {
                Ok(FromWorker::Items(items)) => sources.push(items),
                _ => return Err(Gone),
            }
        }
        let written = merge(&sources, &mut *self.sink);
        let mut sources = sources.into_iter();
        sources.next();
        for (w, items) in self.workers.iter().zip(sources) {
            let _ = w.reuse.send(items);
        }
        Ok(written)
    }

    fn write_own(&mut self, own: &Items) -> io::Result<()> {
        merge(std::slice::from_ref(own), &mut *self.sink)
    }
}

/// Writes the items of several sources, each in key order, in key order overall.
fn merge(sources: &[Items], sink: &mut dyn Sink) -> io::Result<()> {
    let mut next: Vec<usize> = vec![0; sources.len()];
    loop {
        // Fewer sources than cores: a scan beats a heap.
        let mut best: Option<(usize, u64)> = None;
        let mut second = u64::MAX;
        for (i, src) in sources.iter().enumerate() {
            let Some(&key) = next.get(i).and_then(|&n| src.keys.get(n)) else {
                continue;
            };
            match best {
                Some((_, k)) if k <= key => second = second.min(key),
                Some((_, k)) => {
                    second = second.min(k);
                    best = Some((i, key));
                }
                None => best = Some((i, key)),
            }
        }
        let Some((i, _)) = best else {
            return Ok(());
        };
        let (Some(src), Some(n)) = (sources.get(i), next.get_mut(i)) else {
            return Ok(());
        };
        // The run of items this source has before any other's next one.
        let from = *n;
        let to = from
            + src
                .keys
                .get(from..)
                .map_or(0, |keys| keys.partition_point(|&k| k <= second));
        *n = to;
        write_run(src, from, to, sink)?;
    }
}

fn write_run(src: &Items, from: usize, to: usize, sink: &mut dyn Sink) -> io::Result<()> {
    if src.events.is_empty() {
        if let Some(lines) = sink.lines() {
            return lines.write_formatted(src.text_of(from, to));
        }
        debug_assert!(from == to, "formatted items for a sink that takes events");
        return Ok(());
    }
    for ev in src.events.get(from..to).unwrap_or_default() {
        sink.event(ev)?;
    }
    Ok(())
}
