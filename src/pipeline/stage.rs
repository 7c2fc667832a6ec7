//! What happens to each event between the engine and the sink, wherever the engine runs:
//! counted, added to the totals, then selected by the filter (a connection's `open` held until
//! something of it is selected, see [`Selection`]) and, with `--proto-only`, raw messages left
//! out.

use crate::event::{Event, EventKind};
use crate::filter::{Filter, Selection};
use crate::sink::Summary;

/// What a stage counts, and, added once an engine is done, what the engine counted.
pub(super) type Counts = super::RunTotals;

pub(super) struct Stage {
    /// `None`: everything passes.
    selection: Option<Selection>,
    /// Raw messages stay out (`--proto-only`).
    no_messages: bool,
    /// Per-connection totals of every event (filtered or not), when asked for.
    pub summary: Option<Summary>,
    pub counts: Counts,
}

impl Stage {
    pub fn new(filter: Option<&Filter>, summary: bool, no_messages: bool) -> Self {
        Stage {
            selection: filter
                .filter(|f| !f.is_empty())
                .map(|f| Selection::new(f.clone(), false)),
            no_messages,
            summary: summary.then(Summary::default),
            counts: Counts::default(),
        }
    }

    /// Takes note of `ev` and appends to `out` what goes on to the sink now, in order: `ev`,
    /// nothing, or a connection's held `open` and then `ev`. A message left out hands its
    /// payload to `done`.
    pub fn push(&mut self, ev: Event, out: &mut Vec<Event>, done: &mut dyn FnMut(Vec<u8>)) {
        self.count(&ev);
        if let Some(s) = &mut self.summary {
            s.record(&ev);
        }
        if self.no_messages && matches!(ev.kind, EventKind::Message { .. }) {
            if let EventKind::Message { msg, .. } = ev.kind {
                done(msg.payload);
            }
            return;
        }
        match &mut self.selection {
            Some(selection) => selection.push(ev, out),
            None => out.push(ev),
        }
    }

    /// Every event goes on as it is (no filter, no summary, raw messages kept): the caller
    /// may hand them to the sink itself after [`Stage::count`], without moving them through
    /// [`Stage::push`].
    pub fn passes_all(&self) -> bool {
        self.selection.is_none() && self.summary.is_none() && !self.no_messages
    }

    /// Counts `ev` (what [`Stage::push`] does first).
    pub fn count(&mut self, ev: &Event) {
        match ev.kind {
            EventKind::Message { .. } => self.counts.messages += 1,
            EventKind::Anomaly { .. } => self.counts.anomalies += 1,
            EventKind::Open(_)
            | EventKind::Proto(_)
            | EventKind::End { .. }
            | EventKind::Silence { .. }
            | EventKind::Refused(_) => {}
        }
    }
}
