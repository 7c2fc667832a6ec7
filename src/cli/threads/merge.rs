//! The merger: puts the lines of the reader and the workers back in capture order, numbers
//! connections in the order their `open` lines come (as one engine would have), applies the
//! filter's `conn:` terms with those numbers, and writes.

use std::collections::HashMap;
use std::io::{self, Write};

use super::super::output::LineOutput;

use crossbeam_channel::{Receiver, Sender};

use super::lines::{Line, Lines};
use super::worker::FromWorker;
use crate::event::ConnId;
use crate::filter::{ConnClass, Filter};
use crate::sink::{LineStyle, Summary};

pub enum FromReader {
    /// The reader's own lines of one round (events about the input); the workers' lines of
    /// the same round are on their channels. `flush`: the input paused, write out now.
    Round { lines: Lines, flush: bool },
    /// The input ended. `lines` come after every packet's and before the connections
    /// finished at the end (a read error); `summary` holds the reader's totals.
    End {
        lines: Lines,
        summary: Option<Summary>,
    },
}

pub struct Merger<'a> {
    pub out: &'a mut LineOutput,
    pub style: LineStyle,
    /// Only when it has `conn:` terms: the rest was applied where the lines were written.
    pub filter: Option<&'a Filter>,
    /// The last connection number handed out (numbering goes on over several inputs).
    pub last_id: ConnId,
    /// Per worker: its numbers of open connections → final numbers. Kept for connections
    /// that ended too when a summary is wanted (it is per connection anyway).
    ids: Vec<HashMap<ConnId, ConnId, foldhash::fast::RandomState>>,
    keep_ids: bool,
    scratch: Vec<u8>,
    /// Per worker: where its written rounds go back to, to be filled again.
    reuse: Vec<Sender<Lines>>,
}

impl<'a> Merger<'a> {
    pub fn new(
        out: &'a mut LineOutput,
        style: LineStyle,
        filter: Option<&'a Filter>,
        last_id: ConnId,
        reuse: Vec<Sender<Lines>>,
        summary: bool,
    ) -> Self {
        Merger {
            out,
            style,
            filter,
            last_id,
            ids: reuse.iter().map(|_| HashMap::default()).collect(),
            reuse,
            keep_ids: summary,
            scratch: Vec::new(),
        }
    }

    /// Writes everything the reader and the workers send, until the end of the input (or
    /// until a sender is gone); returns the combined summary if one was asked for.
    pub fn run(
        &mut self,
        reader: &Receiver<FromReader>,
        workers: &[Receiver<FromWorker>],
    ) -> io::Result<Option<Summary>> {
        let mut sources: Vec<(usize, Lines)> = Vec::with_capacity(workers.len() + 1);
        while let Ok(msg) = reader.recv() {
            match msg {
                FromReader::Round { lines, flush } => {
                    sources.clear();
                    sources.push((usize::MAX, lines));
                    for (w, rx) in workers.iter().enumerate() {
                        match rx.recv() {
                            Ok(FromWorker::Round(lines)) => sources.push((w, lines)),
                            // A worker only stops early if it failed: its panic is reported
                            // when it is joined.
                            _ => return Ok(None),
                        }
                    }
                    self.merge(&sources)?;
                    if flush {
                        self.out.flush()?;
                    }
                    for (w, lines) in sources.drain(..) {
                        if let Some(back) = self.reuse.get(w) {
                            let _ = back.send(lines);
                        }
                    }
                }
                FromReader::End { lines, summary } => {
                    self.merge(&[(usize::MAX, lines)])?;
                    sources.clear();
                    let mut summaries = Vec::new();
                    for (w, rx) in workers.iter().enumerate() {
                        match rx.recv() {
                            Ok(FromWorker::Finished(lines, s)) => {
                                sources.push((w, lines));
                                summaries.push((w, s));
                            }
                            _ => return Ok(None),
                        }
                    }
                    self.merge(&sources)?;
                    return Ok(summary.map(|s| self.combine(s, summaries)));
                }
            }
        }
        Ok(None)
    }

    /// Writes the lines of several sources, each in key order, in key order overall.
    fn merge(&mut self, sources: &[(usize, Lines)]) -> io::Result<()> {
        let mut next: Vec<usize> = vec![0; sources.len()];
        loop {
            // Fewer sources than cores: a scan beats a heap.
            let mut best: Option<(usize, u64)> = None;
            let mut second = u64::MAX;
            for (i, (_, src)) in sources.iter().enumerate() {
                let Some(line) = next.get(i).and_then(|&n| src.lines.get(n)) else {
                    continue;
                };
                match best {
                    Some((_, k)) if k <= line.key => second = second.min(line.key),
                    Some((_, k)) => {
                        second = second.min(k);
                        best = Some((i, line.key));
                    }
                    None => best = Some((i, line.key)),
                }
            }
            let Some((i, _)) = best else {
                return Ok(());
            };
            let (Some((worker, src)), Some(n)) = (sources.get(i), next.get_mut(i)) else {
                return Ok(());
            };
            while let Some(line) = src.lines.get(*n) {
                if line.key > second {
                    break;
                }
                let start = match n.checked_sub(1).and_then(|p| src.lines.get(p)) {
                    Some(prev) => prev.end,
                    None => 0,
                };
                let text = src.text.get(start..line.end).unwrap_or_default();
                self.line(*worker, line, text)?;
                *n += 1;
            }
        }
    }

    fn line(&mut self, worker: usize, line: &Line, text: &[u8]) -> io::Result<()> {
        let Some(c) = line.conn else {
            // Sent only when selected (no connection: no `conn:` term holds).
            return self.out.write_line(&[text]);
        };
        let Some(ids) = self.ids.get_mut(worker) else {
            return Ok(());
        };
        let id = if c.opens {
            self.last_id += 1;
            ids.insert(c.local, self.last_id);
            self.last_id
        } else {
            // Every event of a connection comes after its `open`.
            ids.get(&c.local).copied().unwrap_or(c.local)
        };
        if c.ends && !self.keep_ids {
            ids.remove(&c.local);
        }
        let class = self
            .filter
            .map_or(ConnClass::default(), |f| f.conn_class(id));
        if !c.print.contains(class) {
            return Ok(());
        }
        if c.id_len == 0 {
            return self.out.write_line(&[text]);
        }
        let at = c.id_at as usize;
        self.scratch.clear();
        self.style.write_conn_id(id, &mut self.scratch);
        self.out.write_line(&[
            text.get(..at).unwrap_or_default(),
            &self.scratch,
            text.get(at + c.id_len as usize..).unwrap_or_default(),
        ])
    }

    /// One summary from the reader's and the workers', in final connection numbers.
    fn combine(&self, mut all: Summary, parts: Vec<(usize, Option<Summary>)>) -> Summary {
        for (w, part) in parts {
            let Some(part) = part else { continue };
            all.input_anomalies += part.input_anomalies;
            let ids = self.ids.get(w);
            for (local, mut totals) in part.conns {
                let id = ids.and_then(|m| m.get(&local)).copied().unwrap_or(local);
                totals.conn.id = id;
                all.conns.insert(id, totals);
            }
        }
        all
    }
}
