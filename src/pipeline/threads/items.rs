//! What the workers and the reader hand the merger for a round: the events that passed the
//! stage, settled (connection numbers final), each keyed by its place in the output (the index
//! of the packet it came from, or at the end of the input the connection's first packet).
//! For a line-shaped sink they are already formatted, on the thread that decoded them; for
//! any other sink they are the events themselves.

use crate::event::{Event, EventKind};
use crate::sink::Formatter;

/// Text capacity a reused round keeps (a round is about a megabyte of payload).
const KEEP_TEXT: usize = 2 << 20;

/// One round's items from one source, in output order.
#[derive(Debug, Default)]
pub struct Items {
    /// Each item's place in the output (non-decreasing).
    pub keys: Vec<u64>,
    /// Formatted: where each item's bytes end in `text` (they start where the previous
    /// item's end).
    pub ends: Vec<usize>,
    pub text: Vec<u8>,
    /// Not formatted: the events.
    pub events: Vec<Event>,
}

impl Items {
    /// Bytes of items `from..to` (formatted items).
    pub fn text_of(&self, from: usize, to: usize) -> &[u8] {
        let start = from
            .checked_sub(1)
            .and_then(|p| self.ends.get(p))
            .copied()
            .unwrap_or(0);
        let end = to
            .checked_sub(1)
            .and_then(|p| self.ends.get(p))
            .copied()
            .unwrap_or(0);
        self.text.get(start..end).unwrap_or_default()
    }

    /// Empties a used round for reuse; message payloads go to `done`.
    pub fn clear(&mut self, done: &mut dyn FnMut(Vec<u8>)) {
        self.keys.clear();
        self.ends.clear();
        self.text.clear();
        // A round with a huge message grew it: do not keep that much for every later round.
        self.text.shrink_to(KEEP_TEXT);
        for ev in self.events.drain(..) {
            if let EventKind::Message { msg, .. } = ev.kind {
                done(msg.payload);
            }
        }
    }
}

/// How settled events become items: formatted in place, or kept as events.
pub enum Making {
    Lines(Box<dyn Formatter + Send>),
    Events,
}

impl Making {
    /// Adds `ev` at `key`; a message's payload goes to `done` when the item does not keep it.
    pub fn push(&mut self, items: &mut Items, key: u64, ev: Event, done: &mut dyn FnMut(Vec<u8>)) {
        debug_assert!(
            items.keys.last().is_none_or(|&k| k <= key),
            "items out of output order"
        );
        items.keys.push(key);
        match self {
            Making::Lines(f) => {
                f.format(&ev, &mut items.text);
                items.ends.push(items.text.len());
                if let EventKind::Message { msg, .. } = ev.kind {
                    done(msg.payload);
                }
            }
            Making::Events => items.events.push(ev),
        }
    }
}
