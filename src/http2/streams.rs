//! The streams of one connection as far as an observer must follow them (RFC 9113 §5.1):
//! which are open, which direction has ended, which were reset, within a bound on how many
//! are tracked at once.

use std::collections::{HashMap, VecDeque};

/// Reset streams remembered, so that frames still in flight on them (RFC 9113 §5.1: "MUST
/// ignore frames that it receives on closed streams after it has sent a RST_STREAM") are
/// dropped without an anomaly.
const RECENTLY_RESET: usize = 64;

#[derive(Clone, Copy, Debug, Default)]
struct Stream {
    /// END_STREAM seen from side 0 / side 1.
    ended: [bool; 2],
}

/// What a frame on a stream meets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// A tracked stream (possibly just opened by this frame).
    Tracked,
    /// A stream opened over the limit: not followed.
    Refused,
    /// A stream reset a moment ago: frames in flight are expected and ignored.
    Reset,
    /// A stream that was closed, or never opened (idle), or whose sender already ended it.
    Closed,
}

pub struct Streams {
    map: HashMap<u32, Stream, foldhash::fast::RandomState>,
    max: usize,
    /// Highest stream identifier seen, even [0] and odd [1] (RFC 9113 §5.1.1: identifiers
    /// only grow, so a lower one not in `map` is closed).
    highest: [u32; 2],
    reset: VecDeque<u32>,
    /// Streams not tracked because of the limit.
    pub refused: u64,
}

impl Streams {
    pub fn new(max: usize) -> Streams {
        Streams {
            map: HashMap::default(),
            max,
            highest: [0; 2],
            reset: VecDeque::new(),
            refused: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn highest(&self) -> u32 {
        self.highest[0].max(self.highest[1])
    }

    pub fn is_tracked(&self, id: u32) -> bool {
        self.map.contains_key(&id)
    }

    fn slot(&mut self, id: u32) -> &mut u32 {
        let [even, odd] = &mut self.highest;
        if id.is_multiple_of(2) { even } else { odd }
    }

    /// A frame that may open stream `id` (HEADERS, a PUSH_PROMISE's promised stream, or DATA
    /// when its HEADERS may have been lost). `opens`: a new identifier may open a stream.
    pub fn touch(&mut self, id: u32, opens: bool) -> Status {
        if self.map.contains_key(&id) {
            return Status::Tracked;
        }
        let highest = self.slot(id);
        if id > *highest {
            if !opens {
                return Status::Closed;
            }
            *highest = id;
            if self.map.len() >= self.max {
                self.refused += 1;
                return Status::Refused;
            }
            self.map.insert(id, Stream::default());
            return Status::Tracked;
        }
        if self.reset.contains(&id) {
            Status::Reset
        } else if self.refused > 0 {
            // It may be one of the refused ones: they are not remembered one by one.
            Status::Refused
        } else {
            Status::Closed
        }
    }

    /// `side` has sent END_STREAM on a tracked stream; both sides ended closes it.
    pub fn end(&mut self, id: u32, side: usize) {
        if let Some(s) = self.map.get_mut(&id) {
            if let Some(e) = s.ended.get_mut(side) {
                *e = true;
            }
            if s.ended == [true, true] {
                self.map.remove(&id);
            }
        }
    }

    /// `side` already ended stream `id` (DATA or HEADERS after END_STREAM is a protocol error,
    /// RFC 9113 §5.1 "half-closed (remote)").
    pub fn ended_by(&self, id: u32, side: usize) -> bool {
        self.map
            .get(&id)
            .and_then(|s| s.ended.get(side))
            .copied()
            .unwrap_or(false)
    }

    /// RST_STREAM: the stream is closed at once. Returns whether it was tracked.
    pub fn reset(&mut self, id: u32) -> bool {
        let tracked = self.map.remove(&id).is_some();
        if !self.reset.contains(&id) {
            if self.reset.len() >= RECENTLY_RESET {
                self.reset.pop_front();
            }
            self.reset.push_back(id);
        }
        tracked
    }

    /// Approximate heap bytes held.
    pub fn memory(&self) -> usize {
        self.map.capacity() * (std::mem::size_of::<(u32, Stream)>() + 8) + self.reset.capacity() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_end_close() {
        let mut s = Streams::new(10);
        assert_eq!(s.touch(1, true), Status::Tracked);
        assert_eq!(s.touch(1, true), Status::Tracked);
        s.end(1, 0);
        assert!(s.ended_by(1, 0));
        assert!(!s.ended_by(1, 1));
        s.end(1, 1);
        assert!(!s.is_tracked(1));
        assert_eq!(s.touch(1, true), Status::Closed);
        // A lower new odd id than the highest is closed (idle identifiers are skipped).
        assert_eq!(s.touch(5, true), Status::Tracked);
        assert_eq!(s.touch(3, true), Status::Closed);
        // Even identifiers count apart.
        assert_eq!(s.touch(2, true), Status::Tracked);
        // DATA cannot open a stream.
        assert_eq!(s.touch(7, false), Status::Closed);
    }

    #[test]
    fn limit_and_reset() {
        let mut s = Streams::new(2);
        assert_eq!(s.touch(1, true), Status::Tracked);
        assert_eq!(s.touch(3, true), Status::Tracked);
        assert_eq!(s.touch(5, true), Status::Refused);
        assert_eq!(s.refused, 1);
        assert!(s.reset(1));
        assert_eq!(s.touch(1, true), Status::Reset);
        assert_eq!(s.touch(7, true), Status::Tracked);
        assert_eq!(s.touch(5, true), Status::Refused);
        assert_eq!(s.len(), 2);
        for id in (100..1000).step_by(2) {
            s.reset(id);
        }
        assert!(s.reset.len() <= RECENTLY_RESET);
    }
}
