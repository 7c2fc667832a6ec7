//! Lines formatted away from the output: by a worker for its connections, or by the reader
//! for events about the input. Each line carries the packet it came from (its place in the
//! output) and, for a connection's events, the worker's own number for the connection, which
//! the merger replaces with the final one.

use crate::event::{ConnId, Event, EventKind};
use crate::filter::{ClassSet, DeferredSelection, Filter, Marked};
use crate::sink::{JsonSink, LineStyle, Sink, Summary, TextSink};

/// Text capacity a reused round keeps (a round is about a megabyte of payload).
const KEEP_TEXT: usize = 2 << 20;

/// Lines of one round from one source, in the order they are to be written.
#[derive(Debug, Default)]
pub struct Lines {
    pub text: Vec<u8>,
    pub lines: Vec<Line>,
}

#[derive(Clone, Copy, Debug)]
pub struct Line {
    /// Where the line goes in the output: the index of the packet whose events it belongs to
    /// (or, at the end, of the connection's first packet).
    pub key: u64,
    /// End of the line in [`Lines::text`] (it starts where the previous one ended).
    pub end: usize,
    pub conn: Option<LineConn>,
}

#[derive(Clone, Copy, Debug)]
pub struct LineConn {
    /// The worker's number for the connection.
    pub local: ConnId,
    /// The connection's `open` (the merger numbers connections as it meets these).
    pub opens: bool,
    /// The connection's `end` (its last event).
    pub ends: bool,
    /// The line is to be written iff the connection's final number falls in one of these
    /// classes of the filter's `conn:` terms; `open` and `end` lines are sent even when
    /// none, for numbering and bookkeeping.
    pub print: ClassSet,
    /// Where the worker's number sits in the line (found here, so that the merger, which is
    /// one thread for all, only has to swap it).
    pub id_at: u32,
    pub id_len: u32,
}

/// A sink writing into memory, plus what the merger needs to know of each line.
pub struct LineWriter {
    sink: MemSink,
    style: LineStyle,
    lines: Vec<Line>,
    selection: Option<DeferredSelection>,
    marked: Vec<Marked>,
    summary: Option<Summary>,
}

enum MemSink {
    Json(JsonSink<Vec<u8>>),
    Text(TextSink<Vec<u8>>),
}

impl MemSink {
    fn buf(&mut self) -> &mut Vec<u8> {
        match self {
            MemSink::Json(s) => s.get_mut(),
            MemSink::Text(s) => s.get_mut(),
        }
    }

    fn event(&mut self, ev: &Event) {
        // Writing into a Vec cannot fail.
        let _ = match self {
            MemSink::Json(s) => s.event(ev),
            MemSink::Text(s) => s.event(ev),
        };
    }
}

impl LineWriter {
    pub fn new(style: LineStyle, filter: Option<&Filter>, summary: bool) -> Self {
        let sink = match style {
            LineStyle::Json => MemSink::Json(JsonSink::in_memory()),
            LineStyle::Text => MemSink::Text(TextSink::new(Vec::new())),
        };
        LineWriter {
            sink,
            style,
            lines: Vec::new(),
            // `--all-events` is not wired yet.
            selection: filter.map(|f| DeferredSelection::new(f.clone(), false)),
            marked: Vec::new(),
            summary: summary.then(Summary::default),
        }
    }

    /// Formats `events`, which belong at `key` in the output (draining them); message
    /// payloads go to `done` afterwards.
    pub fn events(&mut self, key: u64, events: &mut Vec<Event>, done: &mut dyn FnMut(Vec<u8>)) {
        for ev in events.drain(..) {
            if let Some(s) = &mut self.summary {
                s.record(&ev);
            }
            match &mut self.selection {
                None => self.line(key, ev, ClassSet::ALL, false, done),
                Some(sel) => {
                    sel.push(ev, &mut self.marked);
                    let mut marked = std::mem::take(&mut self.marked);
                    for m in marked.drain(..) {
                        self.line(key, m.event, m.classes, m.replay, done);
                    }
                    self.marked = marked;
                }
            }
        }
    }

    /// One event's line (`print`: the classes it is printed in; `replay`: a copy of an
    /// `open` that came out before, not to be numbered again).
    fn line(
        &mut self,
        key: u64,
        ev: Event,
        print: ClassSet,
        replay: bool,
        done: &mut dyn FnMut(Vec<u8>),
    ) {
        let opens = !replay && matches!(ev.kind, EventKind::Open(_));
        let ends = matches!(ev.kind, EventKind::End { .. });
        let start = self.sink.buf().len();
        let printed = !print.is_empty();
        if printed {
            self.sink.event(&ev);
        }
        if let EventKind::Message { msg, .. } = ev.kind {
            done(msg.payload);
        }
        if !printed && !opens && !ends {
            return;
        }
        let buf = self.sink.buf();
        let end = buf.len();
        let span = match (&ev.conn, buf.get(start..)) {
            (Some(_), Some(line)) if printed => self.style.conn_id_span(line),
            _ => None,
        };
        let (id_at, id_len) = span.map_or((0, 0), |r| {
            (
                u32::try_from(r.start).unwrap_or(0),
                u32::try_from(r.len()).unwrap_or(0),
            )
        });
        self.lines.push(Line {
            key,
            end,
            conn: ev.conn.map(|c| LineConn {
                local: c.id,
                opens,
                ends,
                print,
                id_at,
                id_len,
            }),
        });
    }

    /// The lines so far, leaving the writer empty for the next round (with `reuse`'s
    /// buffers, when given: a round's text is megabytes, better not grown anew each time).
    pub fn take(&mut self, reuse: Option<Lines>) -> Lines {
        let Lines {
            mut text,
            mut lines,
        } = reuse.unwrap_or_default();
        text.clear();
        lines.clear();
        // A round with a huge message grew it: do not keep that much for every later round.
        text.shrink_to(KEEP_TEXT);
        Lines {
            text: std::mem::replace(self.sink.buf(), text),
            lines: std::mem::replace(&mut self.lines, lines),
        }
    }

    /// Per-connection totals of every event seen (by the worker's numbers), if asked for.
    pub fn take_summary(&mut self) -> Option<Summary> {
        self.summary.take()
    }
}
