//! What one direction's decoder holds, and how it gives it up when the engine's memory budget
//! (`Limits::memcap`) is exhausted: the message being assembled is dropped (reported, never
//! listed cut short), the rest of its frames skipped — or, compressed with context takeover,
//! still inflated into nothing so that later messages keep their window.

use super::WsDecoder;
use super::state::{Fate, Sink};
use super::stream::anomaly;
use crate::event::{Anomaly, AnomalyKind, DirEvent, FrameInfo};

#[allow(non_upper_case_globals)]
impl AnomalyKind {
    /// Memory passed `Limits::memcap`: what this connection held was dropped (the detail
    /// names it) so that the others keep decoding.
    pub const Memcap: AnomalyKind = AnomalyKind::named("memcap");
}

impl WsDecoder {
    /// Heap bytes held: the message being assembled, withheld output of an unconfirmed
    /// boundary, the control and resynchronisation buffers, and the inflater.
    pub fn memory(&self) -> usize {
        let msg = self.msg.as_ref().map_or(0, |m| {
            m.payload.capacity() + m.frame_detail.capacity() * size_of::<FrameInfo>()
        });
        let withheld = self.guess.as_ref().map_or(0, |g| g.memory());
        let inflater = self.deflate.inf.as_ref().map_or(0, |i| i.memory());
        msg + withheld
            + inflater
            + self.ctrl.capacity()
            + self.scratch.capacity()
            + self.resync.buf.capacity()
            + self.resync.seg_starts.capacity() * size_of::<usize>()
    }

    /// Drop what can be dropped without losing the framing: the message being assembled and
    /// messages withheld behind an unconfirmed boundary, each reported `memcap`. Returns the
    /// bytes freed.
    pub fn shed(&mut self, out: &mut Vec<DirEvent>) -> usize {
        self.call_begins(out);
        let before = self.memory();
        let takeover = self.deflate.takeover;
        if let Some(m) = self.msg.as_mut().filter(|m| m.fate == Fate::Keep) {
            let held = m.payload.len();
            anomaly(
                out,
                AnomalyKind::Memcap,
                format!(
                    "the {} message from stream offset {} held {held} bytes when memory passed \
                     the memcap: dropped, not listed",
                    m.opcode.as_str(),
                    m.start
                ),
            );
            m.payload = Vec::new();
            m.frame_detail = Vec::new();
            m.fate = if m.compressed && takeover {
                Fate::Discard
            } else {
                Fate::Skip
            };
            if self.frame.attached && matches!(self.frame.sink, Sink::Data | Sink::Inflate) {
                self.frame.sink = if m.fate == Fate::Discard {
                    Sink::Discard
                } else {
                    Sink::Skip
                };
            }
        }
        if let Some(g) = self.guess.as_mut() {
            g.drop_withheld_messages();
        }
        self.scratch = Vec::new();
        self.call_ends(out);
        before.saturating_sub(self.memory())
    }
}

/// The `memcap` anomaly that replaces a withheld message.
pub(super) fn dropped_withheld(opcode: &str, len: usize) -> DirEvent {
    DirEvent::Anomaly(Anomaly::new(
        AnomalyKind::Memcap,
        format!(
            "a {opcode} message ({len} bytes) withheld until the frame boundary found before it \
             is confirmed was dropped when memory passed the memcap: not listed"
        ),
    ))
}
