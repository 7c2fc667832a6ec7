//! Fingerprints of the last segments delivered, so that a retransmission of bytes already
//! handed on (and no longer held) can still be compared with the first copy. Keeping the
//! bytes themselves would cost kilobytes per connection; a hash of each recent segment costs
//! a few dozen bytes and catches the usual case, the same segment sent again with other
//! contents. A retransmission cut at other boundaries is not compared.

use std::collections::VecDeque;
use std::hash::BuildHasher;

/// Segments remembered per direction.
const RECENT: usize = 8;

#[derive(Clone, Copy, Debug)]
struct Print {
    start: u64,
    len: usize,
    hash: u64,
}

#[derive(Default)]
pub(super) struct Recent {
    prints: VecDeque<Print>,
    /// Fixed seed: the fingerprints are compared only with each other.
    hasher: foldhash::quality::FixedState,
}

impl Recent {
    fn hash(&self, bytes: &[u8]) -> u64 {
        self.hasher.hash_one(bytes)
    }

    /// A segment of new bytes starting at stream offset `start`.
    pub fn record(&mut self, start: u64, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.prints.len() == RECENT {
            self.prints.pop_front();
        }
        let hash = self.hash(bytes);
        self.prints.push_back(Print {
            start,
            len: bytes.len(),
            hash,
        });
    }

    /// A segment starting at `start` repeats bytes already delivered: when it repeats a
    /// remembered segment exactly but its bytes differ, the differing range (the whole
    /// segment: which of its bytes differ is not known).
    pub fn differs(&self, start: u64, bytes: &[u8]) -> Option<(u64, u64)> {
        let p = self
            .prints
            .iter()
            .find(|p| p.start == start && p.len == bytes.len())?;
        (self.hash(bytes) != p.hash).then_some((start, bytes.len() as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_last_segments_only() {
        let mut r = Recent::default();
        for i in 0..10u64 {
            r.record(i * 4, b"abcd");
        }
        assert_eq!(r.differs(36, b"abcd"), None);
        assert_eq!(r.differs(36, b"abXd"), Some((36, 4)));
        // Offsets 0 and 4 were forgotten (8 remembered), other lengths are not compared.
        assert_eq!(r.differs(0, b"XXXX"), None);
        assert_eq!(r.differs(36, b"abXdef"), None);
    }
}
