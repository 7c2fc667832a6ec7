//! What happens to each event between the engine and the sink, wherever the engine runs:
//! counted, added to the totals, filtered.

use crate::event::{Event, EventKind};
use crate::filter::Filter;
use crate::sink::Summary;

#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Counts {
    pub messages: u64,
    pub anomalies: u64,
}

pub(super) struct Stage<'a> {
    filter: Option<&'a Filter>,
    /// Raw messages stay out (`--proto-only`).
    no_messages: bool,
    /// Per-connection totals of every event (filtered or not), when asked for.
    pub summary: Option<Summary>,
    pub counts: Counts,
}

impl<'a> Stage<'a> {
    pub fn new(filter: Option<&'a Filter>, summary: bool, no_messages: bool) -> Self {
        Stage {
            filter,
            no_messages,
            summary: summary.then(Summary::default),
            counts: Counts::default(),
        }
    }

    /// Takes note of `ev`; true when it goes on to the sink.
    pub fn pass(&mut self, ev: &Event) -> bool {
        match ev.kind {
            EventKind::Message { .. } => self.counts.messages += 1,
            EventKind::Anomaly { .. } => self.counts.anomalies += 1,
            EventKind::Open(_) | EventKind::Proto(_) | EventKind::End { .. } => {}
        }
        if let Some(s) = &mut self.summary {
            s.record(ev);
        }
        if self.no_messages && matches!(ev.kind, EventKind::Message { .. }) {
            return false;
        }
        self.filter.is_none_or(|f| f.matches_event(ev))
    }
}
