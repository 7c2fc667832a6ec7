//! HAR 1.2 export, streaming: one entry per WebSocket connection (its upgrade request and
//! response, timings from the capture, `_resourceType: "websocket"` and the messages in
//! `_webSocketMessages`, as Chrome DevTools writes and imports them).
//!
//! An entry is one JSON object holding all its messages, and connections interleave in a
//! capture, so an entry can only be written once its connection has ended. Until then its
//! bytes — the head written at `open`, then each message item — are buffered: in memory up to
//! [`HarLimits::max_buffered_bytes`] for all open connections together; past it every open
//! connection's buffer is appended to one temporary spill file (each connection keeps the
//! list of its runs in the file) and memory starts again from zero. When a connection ends its
//! runs are copied from the file, then its memory buffer, to the output. The file is emptied
//! whenever no open connection has bytes in it.
//!
//! Memory bound: `max_buffered_bytes`, plus the JSON of the one message being added, plus per
//! open connection a few words and one (offset, length) pair per spill that caught it (a spill
//! happens at most once per `max_buffered_bytes` of output). Disk: the spill file holds at most
//! the entries of the connections open at once.
//!
//! Entries come in the order their connections ended; a refused upgrade (`refused` event) is
//! an entry of its own with its answer's status and no messages, written at once; anomalies
//! are not part of HAR and are skipped; messages of a connection whose `open` was not seen (filtered out) are skipped.

mod entry;
mod json;
mod request;
mod spill;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::PathBuf;

use crate::event::{ConnId, Event, EventKind, OpenInfo, Refused, Timestamp};
use spill::{Chunk, Spill};

/// Bounds of the HAR writer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HarLimits {
    /// Bytes of entries of still-open connections kept in memory, all connections together;
    /// past it they go to the spill file.
    pub max_buffered_bytes: usize,
    /// Directory of the spill file; `None` = the system's temporary directory.
    pub spill_dir: Option<PathBuf>,
}

impl Default for HarLimits {
    fn default() -> Self {
        HarLimits {
            max_buffered_bytes: 32 << 20,
            spill_dir: None,
        }
    }
}

/// An entry being gathered.
#[derive(Debug, Default)]
struct Pending {
    /// Runs already in the spill file, in order.
    spilled: Vec<Chunk>,
    /// What came after them.
    mem: Vec<u8>,
    messages: u64,
}

/// Writes a HAR document to `W` from engine events.
pub struct HarWriter<W: Write> {
    out: W,
    creator_version: String,
    limits: HarLimits,
    open: HashMap<ConnId, Pending>,
    /// Sum of the open connections' `mem` lengths.
    buffered: usize,
    spill: Spill,
    entries: u64,
    begun: bool,
    finished: bool,
}

impl<W: Write> HarWriter<W> {
    pub fn new(out: W, creator_version: &str) -> Self {
        HarWriter::with_limits(out, creator_version, HarLimits::default())
    }

    pub fn with_limits(out: W, creator_version: &str, limits: HarLimits) -> Self {
        HarWriter {
            out,
            creator_version: creator_version.to_owned(),
            spill: Spill::new(limits.spill_dir.clone()),
            limits,
            open: HashMap::new(),
            buffered: 0,
            entries: 0,
            begun: false,
            finished: false,
        }
    }

    /// Writes the log header (once; [`HarWriter::event`] calls it if needed).
    pub fn begin(&mut self) -> io::Result<()> {
        if std::mem::replace(&mut self.begun, true) {
            return Ok(());
        }
        self.out.write_all(
            b"{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"wsnoop\",\"version\":",
        )?;
        json::string(&mut self.out, &self.creator_version)?;
        self.out.write_all(b"},\"pages\":[],\"entries\":[")
    }

    pub fn event(&mut self, ev: &Event) -> io::Result<()> {
        if self.finished {
            return Err(io::Error::other(
                "HAR event after the document was finished",
            ));
        }
        self.begin()?;
        if let EventKind::Refused(r) = &ev.kind {
            return self.refused(ev.ts, r);
        }
        let Some(conn) = ev.conn else {
            return Ok(());
        };
        match &ev.kind {
            EventKind::Open(info) => {
                let mut p = Pending::default();
                entry::head(&mut p.mem, ev.ts, &(&conn).into(), info)?;
                self.buffered += p.mem.len();
                if let Some(old) = self.open.insert(conn.id, p) {
                    // A connection number is never reused by one engine.
                    debug_assert!(false, "connection {} opened twice", conn.id);
                    self.buffered -= old.mem.len();
                }
            }
            EventKind::Message { dir, msg } => {
                let Some(p) = self.open.get_mut(&conn.id) else {
                    return Ok(());
                };
                let before = p.mem.len();
                if p.messages > 0 {
                    p.mem.push(b',');
                }
                entry::message(&mut p.mem, *dir, ev.ts, msg)?;
                p.messages += 1;
                self.buffered += p.mem.len() - before;
            }
            EventKind::End { .. } => {
                if let Some(p) = self.open.remove(&conn.id) {
                    self.buffered -= p.mem.len();
                    self.write_entry(p)?;
                }
            }
            EventKind::Anomaly { .. }
            | EventKind::Proto(_)
            | EventKind::Silence { .. }
            | EventKind::Refused(_) => {}
        }
        if self.buffered > self.limits.max_buffered_bytes {
            self.spill_all()?;
        }
        Ok(())
    }

    /// Writes the entries of connections still open (in connection order) and closes the
    /// document. Later calls do nothing.
    pub fn finish(&mut self) -> io::Result<()> {
        self.begin()?;
        if std::mem::replace(&mut self.finished, true) {
            return Ok(());
        }
        let mut ids: Vec<ConnId> = self.open.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            if let Some(p) = self.open.remove(&id) {
                self.buffered -= p.mem.len();
                self.write_entry(p)?;
            }
        }
        self.out.write_all(b"]}}\n")?;
        self.out.flush()
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    /// Bytes held in memory for open connections, and in the spill file.
    pub fn buffered(&self) -> (usize, u64) {
        (self.buffered, self.spill.len())
    }

    /// A refused upgrade: an entry of its own, complete at once (no messages).
    fn refused(&mut self, ts: Timestamp, r: &Refused) -> io::Result<()> {
        let info = OpenInfo {
            uri: r.uri.clone(),
            tls: r.tls.clone(),
            handshake: r.handshake.clone(),
            ..OpenInfo::default()
        };
        let ends = entry::Ends {
            id: None,
            client: r.transport.client,
            server: r.transport.server,
            stream: r.transport.stream,
        };
        let mut p = Pending::default();
        entry::head(&mut p.mem, ts, &ends, &info)?;
        self.write_entry(p)
    }

    fn write_entry(&mut self, p: Pending) -> io::Result<()> {
        if self.entries > 0 {
            self.out.write_all(b",")?;
        }
        self.out.write_all(b"\n")?;
        for chunk in &p.spilled {
            self.spill.copy(*chunk, &mut self.out)?;
        }
        self.out.write_all(&p.mem)?;
        self.out.write_all(entry::TAIL)?;
        self.entries += 1;
        if !p.spilled.is_empty() && self.open.values().all(|o| o.spilled.is_empty()) {
            self.spill.reset()?;
        }
        Ok(())
    }

    fn spill_all(&mut self) -> io::Result<()> {
        for p in self.open.values_mut() {
            if p.mem.is_empty() {
                continue;
            }
            // Taken, not cleared: the capacity is what the bound is about.
            let mem = std::mem::take(&mut p.mem);
            p.spilled.push(self.spill.append(&mem)?);
        }
        self.buffered = 0;
        Ok(())
    }
}

/// A HAR document is a sink like the line formats: the run's events in, the document out
/// (a `--summary` has no place in HAR and is not written).
impl<W: Write> crate::sink::Sink for HarWriter<W> {
    fn begin(&mut self, _: &crate::sink::Begin<'_>) -> io::Result<()> {
        HarWriter::begin(self)
    }

    fn event(&mut self, event: &Event) -> io::Result<()> {
        HarWriter::event(self, event)
    }

    fn finish(&mut self, _: &crate::sink::Finish<'_>) -> io::Result<()> {
        HarWriter::finish(self)
    }

    /// Hands on what is written: the log's head and the entries of connections that ended.
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
