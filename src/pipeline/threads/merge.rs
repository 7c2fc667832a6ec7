//! The merger: numbers connections in capture order over all workers (as one engine would
//! have), then puts the items of the reader and the workers back in capture order and hands
//! them to the sink: formatted bytes to a line-shaped sink, events to any other.
//!
//! Rounds are numbered alike by the reader, the workers and the merger (in the order the
//! reader sends them; the connections finished at the end of the input make one more). A
//! worker says of every round either its items (all settled: it opened nothing and waited
//! for nothing) or the keys of its `open` events (maybe none), its items following once they
//! are settled. The merger numbers a round's opens, in key order over all workers, when it
//! knows every worker's word on the round, answers the workers that had opens, and writes
//! rounds in order as their items come in (at once, waiting for them, when the round is to
//! be flushed). In the steady state (no new connection) a round is one message per worker.

use std::collections::BTreeMap;
use std::io;
use std::sync::mpsc::{Receiver, Sender};

use super::items::Items;
use crate::event::{ConnId, Timestamp};
use crate::pipeline::stage::Counts;
use crate::sink::{Sink, Summary};

/// Reader to merger.
pub enum FromReader {
    /// The run's first packet was captured at this time (before its round).
    Start(Timestamp),
    /// The reader's own items of one round (events about the input); the workers' of the same
    /// round are on their channels. `flush`: the input paused, write out now.
    Round { own: Items, flush: bool },
    /// The input ended. `own` comes after every packet's items and before the connections
    /// finished at the end (a read error).
    End { own: Items },
}

/// A worker to the merger.
pub enum FromWorker {
    /// The keys of the round's `open` events (in the worker's order), its items to follow.
    Opens { round: u64, keys: Vec<u64> },
    /// The round's items (without an `Opens` before: it opened nothing).
    Items { round: u64, items: Items },
    /// The worker's totals (its connections by their final numbers), after its last round.
    Done {
        summary: Option<Summary>,
        counts: Counts,
    },
}

/// Final connection numbers for the opens of a round, in the order they were sent.
pub struct Numbers {
    pub round: u64,
    pub ids: Vec<ConnId>,
}

/// What the workers gathered besides their items.
#[derive(Default)]
pub struct Gathered {
    pub summary: Option<Summary>,
    pub counts: Counts,
}

/// A worker as the merger sees it.
pub struct Link {
    from: Receiver<FromWorker>,
    numbers: Sender<Numbers>,
    reuse: Sender<Items>,
    /// What it said of rounds not yet numbered or written.
    opens: BTreeMap<u64, Vec<u64>>,
    items: BTreeMap<u64, Items>,
    done: Option<Gathered>,
}

impl Link {
    pub fn new(from: Receiver<FromWorker>, numbers: Sender<Numbers>, reuse: Sender<Items>) -> Self {
        Link {
            from,
            numbers,
            reuse,
            opens: BTreeMap::new(),
            items: BTreeMap::new(),
            done: None,
        }
    }

    /// Waits for the worker's next message.
    fn recv(&mut self) -> Result<(), Gone> {
        let msg = self.from.recv().map_err(|_| Gone)?;
        self.file(msg);
        Ok(())
    }

    /// Files what the worker said.
    fn file(&mut self, msg: FromWorker) {
        match msg {
            FromWorker::Opens { round, keys } => {
                self.opens.insert(round, keys);
            }
            FromWorker::Items { round, items } => {
                self.items.insert(round, items);
            }
            FromWorker::Done { summary, counts } => self.done = Some(Gathered { summary, counts }),
        }
    }

    /// Waits until the worker has said something of `round`.
    fn heard(&mut self, round: u64) -> Result<(), Gone> {
        while !self.opens.contains_key(&round) && !self.items.contains_key(&round) {
            self.ended_early()?;
            self.recv()?;
        }
        Ok(())
    }

    /// Waits for the items of `round`.
    fn items_of(&mut self, round: u64) -> Result<Items, Gone> {
        loop {
            if let Some(items) = self.items.remove(&round) {
                return Ok(items);
            }
            self.ended_early()?;
            self.recv()?;
        }
    }

    fn ended_early(&self) -> Result<(), Gone> {
        if self.done.is_some() {
            // A bug in the round protocol, never silent data loss in a debug build.
            debug_assert!(false, "a worker finished before its last round");
            return Err(Gone);
        }
        Ok(())
    }
}

pub struct Merger<'a> {
    sink: &'a mut (dyn Sink + Send),
    /// The last connection number handed out (numbering goes on over several inputs).
    pub last_id: ConnId,
    workers: Vec<Link>,
    /// The reader's own items of rounds not yet written.
    own: BTreeMap<u64, Items>,
    /// Rounds numbered so far, and written so far.
    numbered: u64,
    written: u64,
}

/// A worker stopped early: it can only have failed (its panic is reported when it is
/// joined).
struct Gone;

/// How a step went: `Err(Gone)` when a worker stopped early, else the output's result.
type Step = Result<io::Result<()>, Gone>;

impl<'a> Merger<'a> {
    pub fn new(sink: &'a mut (dyn Sink + Send), last_id: ConnId, workers: Vec<Link>) -> Self {
        Merger {
            sink,
            last_id,
            workers,
            own: BTreeMap::new(),
            numbered: 0,
            written: 0,
        }
    }

    /// Writes everything the reader and the workers send, until the end of the input (or
    /// until a sender is gone); returns what the workers gathered.
    pub fn run(&mut self, reader: &Receiver<FromReader>) -> io::Result<Gathered> {
        while let Ok(msg) = reader.recv() {
            let step = match msg {
                FromReader::Start(ts) => Ok(self.sink.capture_start(ts)),
                FromReader::Round { own, flush } => self.round(own, flush),
                FromReader::End { own } => match self.end(own) {
                    Ok(Ok(())) => return Ok(self.gather()),
                    other => other,
                },
            };
            match step {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e),
                Err(Gone) => break,
            }
        }
        Ok(Gathered::default())
    }

    fn round(&mut self, own: Items, flush: bool) -> Step {
        let round = self.numbered;
        self.own.insert(round, own);
        self.number(round)?;
        let written = if flush {
            self.write_through(round)
        } else {
            self.write_ready()
        }?;
        if written.is_err() || !flush {
            return Ok(written);
        }
        Ok(self.sink.flush())
    }

    /// Every round, the reader's own end (a read error), then the connections finished at
    /// the end.
    fn end(&mut self, own: Items) -> Step {
        if let Some(last) = self.numbered.checked_sub(1) {
            let written = self.write_through(last)?;
            if written.is_err() {
                return Ok(written);
            }
        }
        let written = merge(std::slice::from_ref(&own), &mut *self.sink);
        if written.is_err() {
            return Ok(written);
        }
        let fin = self.numbered;
        self.own.insert(fin, Items::default());
        self.number(fin)?;
        self.write_through(fin)
    }

    /// What the workers gathered, once each has said it is done.
    fn gather(&mut self) -> Gathered {
        let mut gathered = Gathered::default();
        for w in &mut self.workers {
            while w.done.is_none() {
                if w.recv().is_err() {
                    return Gathered::default();
                }
            }
            let Some(part) = w.done.take() else { continue };
            gathered.counts.absorb(&part.counts);
            match (&mut gathered.summary, part.summary) {
                (Some(all), Some(part)) => all.absorb(part),
                (all, part) => *all = all.take().or(part),
            }
        }
        gathered
    }

    /// Numbers the opens of `round`, in the order of their keys over all workers, once every
    /// worker has said what it has; answers those that had opens.
    fn number(&mut self, round: u64) -> Result<(), Gone> {
        debug_assert_eq!(round, self.numbered, "rounds numbered out of order");
        let mut opens = Vec::with_capacity(self.workers.len());
        for w in &mut self.workers {
            w.heard(round)?;
            opens.push(w.opens.remove(&round));
        }
        self.numbered = round + 1;
        let mut given: Vec<Vec<ConnId>> = opens
            .iter()
            .map(|o| Vec::with_capacity(o.as_ref().map_or(0, Vec::len)))
            .collect();
        loop {
            // Few workers, few opens per round: a scan is enough.
            let next = opens
                .iter()
                .zip(&given)
                .enumerate()
                .filter_map(|(w, (keys, ids))| {
                    keys.as_ref()
                        .and_then(|k| k.get(ids.len()))
                        .map(|&k| (k, w))
                })
                .min();
            let Some((key, w)) = next else { break };
            debug_assert!(
                opens
                    .iter()
                    .zip(&given)
                    .enumerate()
                    .all(|(o, (keys, ids))| {
                        o == w || keys.as_ref().and_then(|k| k.get(ids.len())) != Some(&key)
                    }),
                "two workers opened connections at packet {key}"
            );
            self.last_id += 1;
            if let Some(ids) = given.get_mut(w) {
                ids.push(self.last_id);
            }
        }
        for ((w, keys), ids) in self.workers.iter().zip(&opens).zip(given) {
            // A worker that opened nothing waits for no numbers.
            if keys.as_ref().is_some_and(|k| !k.is_empty())
                && w.numbers.send(Numbers { round, ids }).is_err()
            {
                return Err(Gone);
            }
        }
        Ok(())
    }

    /// Writes the rounds, in order, whose items are all in (without waiting).
    fn write_ready(&mut self) -> Step {
        while self.written < self.numbered {
            let round = self.written;
            let complete = self.workers.iter_mut().all(|w| {
                while !w.items.contains_key(&round) && w.done.is_none() {
                    // Take what has arrived, without waiting.
                    match w.from.try_recv() {
                        Ok(msg) => w.file(msg),
                        Err(_) => break,
                    }
                }
                w.items.contains_key(&round)
            });
            if !complete {
                break;
            }
            let written = self.write(round)?;
            if written.is_err() {
                return Ok(written);
            }
        }
        Ok(Ok(()))
    }

    /// Writes every round up to `last`, waiting for their items.
    fn write_through(&mut self, last: u64) -> Step {
        while self.written <= last {
            let written = self.write(self.written)?;
            if written.is_err() {
                return Ok(written);
            }
        }
        Ok(Ok(()))
    }

    /// Writes `round`: the reader's items and every worker's, in key order; the workers'
    /// rounds go back to them for reuse.
    fn write(&mut self, round: u64) -> Step {
        debug_assert_eq!(round, self.written, "rounds written out of order");
        let mut sources = Vec::with_capacity(self.workers.len() + 1);
        sources.push(self.own.remove(&round).unwrap_or_default());
        for w in &mut self.workers {
            sources.push(w.items_of(round)?);
        }
        self.written = round + 1;
        let written = merge(&sources, &mut *self.sink);
        let mut sources = sources.into_iter();
        sources.next();
        for (w, items) in self.workers.iter().zip(sources) {
            let _ = w.reuse.send(items);
        }
        Ok(written)
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
