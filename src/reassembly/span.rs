//! A stretch of one segment in stream coordinates: captured bytes, then bytes the snap length
//! cut off (which occupy sequence space but whose content is lost).

use crate::bytes::within;

/// Converts a length known to fit (it never exceeds a slice length) to an index; an absurd
/// value saturates so that a later `get` fails instead of wrapping.
pub(super) fn idx(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Span<'a> {
    /// Stream offset of the first byte.
    pub start: u64,
    /// Captured bytes, from `start`.
    pub data: &'a [u8],
    /// Bytes after `data` that were not captured.
    pub lost: u64,
}

impl<'a> Span<'a> {
    pub fn len(&self) -> u64 {
        (self.data.len() as u64).saturating_add(self.lost)
    }

    pub fn end(&self) -> u64 {
        self.start.saturating_add(self.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops the first `n` bytes (all of them if `n` is longer).
    pub fn skip(self, n: u64) -> Span<'a> {
        let n = n.min(self.len());
        let from_data = n.min(self.data.len() as u64);
        Span {
            start: self.start.saturating_add(n),
            data: within(self.data, idx(from_data)..),
            lost: self.lost.saturating_sub(n - from_data),
        }
    }

    /// Keeps only the first `n` bytes.
    pub fn take(self, n: u64) -> Span<'a> {
        let keep_data = n.min(self.data.len() as u64);
        Span {
            start: self.start,
            data: within(self.data, ..idx(keep_data)),
            lost: self.lost.min(n - keep_data),
        }
    }

    /// Keeps only the stream offsets `[from, to)` of this span.
    pub fn sub(self, from: u64, to: u64) -> Span<'a> {
        let from = from.max(self.start);
        self.skip(from - self.start).take(to.saturating_sub(from))
    }

    /// Keeps only offsets at or after `at`.
    pub fn from(self, at: u64) -> Span<'a> {
        self.skip(at.saturating_sub(self.start))
    }

    /// Keeps only offsets before `at`.
    pub fn until(self, at: u64) -> Span<'a> {
        self.take(at.saturating_sub(self.start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Span<'static> = Span {
        start: 10,
        data: b"abcd",
        lost: 3,
    };

    #[test]
    fn skip_within_data_and_into_lost() {
        assert_eq!(
            S.skip(1),
            Span {
                start: 11,
                data: b"bcd",
                lost: 3
            }
        );
        assert_eq!(
            S.skip(5),
            Span {
                start: 15,
                data: b"",
                lost: 2
            }
        );
        assert_eq!(
            S.skip(99),
            Span {
                start: 17,
                data: b"",
                lost: 0
            }
        );
    }

    #[test]
    fn take_within_data_and_into_lost() {
        assert_eq!(
            S.take(2),
            Span {
                start: 10,
                data: b"ab",
                lost: 0
            }
        );
        assert_eq!(
            S.take(6),
            Span {
                start: 10,
                data: b"abcd",
                lost: 2
            }
        );
        assert_eq!(S.take(99), S);
    }

    #[test]
    fn sub_from_until() {
        assert_eq!(
            S.sub(12, 16),
            Span {
                start: 12,
                data: b"cd",
                lost: 2
            }
        );
        assert_eq!(
            S.from(13),
            Span {
                start: 13,
                data: b"d",
                lost: 3
            }
        );
        assert_eq!(S.from(5), S);
        assert_eq!(
            S.until(11),
            Span {
                start: 10,
                data: b"a",
                lost: 0
            }
        );
        assert!(S.until(10).is_empty());
        assert_eq!(S.end(), 17);
    }
}
