//! The out-of-order buffer: disjoint stretches of the stream ahead of the delivery point,
//! keyed by stream offset. Only this path copies bytes; in-order data never comes here.

use std::collections::BTreeMap;

use super::span::{Span, idx};
use crate::bytes::within;

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Piece {
    /// Captured bytes, copied from the segment, and the packet that carried them (the
    /// caller's number for it).
    Data { bytes: Vec<u8>, packet: u64 },
    /// Bytes the snap length cut off: their place in the stream is known, their content not.
    Lost(u64),
}

impl Piece {
    pub fn len(&self) -> u64 {
        match self {
            Piece::Data { bytes, .. } => bytes.len() as u64,
            Piece::Lost(len) => *len,
        }
    }
}

#[derive(Debug, Default)]
pub(super) struct Held {
    pieces: BTreeMap<u64, Piece>,
    /// Captured bytes held (lost stretches cost no memory).
    bytes: usize,
}

impl Held {
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn pieces(&self) -> usize {
        self.pieces.len()
    }

    pub fn first_start(&self) -> Option<u64> {
        self.pieces.first_key_value().map(|(start, _)| *start)
    }

    pub fn pop_first(&mut self) -> Option<(u64, Piece)> {
        let (start, piece) = self.pieces.pop_first()?;
        if let Piece::Data { bytes, .. } = &piece {
            self.bytes -= bytes.len();
        }
        Some((start, piece))
    }

    pub fn clear(&mut self) {
        self.pieces.clear();
        self.bytes = 0;
    }

    /// Stores the parts of `span` (carried by `packet`) that no held piece covers yet. Where
    /// one does, the first copy wins and each run of differing captured bytes is reported as
    /// `(offset, len)`.
    pub fn insert(&mut self, span: Span<'_>, packet: u64, conflict: &mut dyn FnMut(u64, u64)) {
        let end = span.end();
        let mut at = span.start;
        while at < end {
            if let Some((start, piece)) = self.covering(at) {
                let stop = end.min(start.saturating_add(piece.len()));
                report_conflicts(start, piece, span.sub(at, stop), conflict);
                at = stop;
            } else {
                let stop = self
                    .pieces
                    .range(at..)
                    .next()
                    .map_or(end, |(start, _)| end.min(*start));
                self.store(span.sub(at, stop), packet);
                at = stop;
            }
        }
    }

    /// The piece holding stream offset `at`, if any.
    fn covering(&self, at: u64) -> Option<(u64, &Piece)> {
        let (start, piece) = self.pieces.range(..=at).next_back()?;
        (start.saturating_add(piece.len()) > at).then_some((*start, piece))
    }

    fn store(&mut self, part: Span<'_>, packet: u64) {
        if !part.data.is_empty() {
            self.bytes += part.data.len();
            self.pieces.insert(
                part.start,
                Piece::Data {
                    bytes: part.data.to_vec(),
                    packet,
                },
            );
        }
        if part.lost > 0 {
            let at = part.start.saturating_add(part.data.len() as u64);
            self.pieces.insert(at, Piece::Lost(part.lost));
        }
    }

    /// Drops everything at or after `end`: nothing of the stream lies past its FIN.
    pub fn truncate(&mut self, end: u64) {
        for piece in self.pieces.split_off(&end).values() {
            if let Piece::Data { bytes, .. } = piece {
                self.bytes -= bytes.len();
            }
        }
        if let Some((start, piece)) = self.pieces.iter_mut().next_back() {
            let keep = end.saturating_sub(*start);
            match piece {
                Piece::Data { bytes, .. } if bytes.len() as u64 > keep => {
                    self.bytes -= bytes.len() - idx(keep);
                    bytes.truncate(idx(keep));
                }
                Piece::Lost(len) => *len = (*len).min(keep),
                Piece::Data { .. } => {}
            }
        }
    }
}

/// A retransmission over held bytes: report where its captured bytes differ from the first
/// copy (lost stretches, on either side, cannot be compared).
pub(super) fn report_conflicts(
    start: u64,
    piece: &Piece,
    part: Span<'_>,
    conflict: &mut dyn FnMut(u64, u64),
) {
    let Piece::Data { bytes: held, .. } = piece else {
        return;
    };
    let old = within(held, idx(part.start.saturating_sub(start))..);
    let n = old.len().min(part.data.len());
    let (Some(old), Some(new)) = (old.get(..n), part.data.get(..n)) else {
        return;
    };
    if old == new {
        return;
    }
    let mut run: Option<usize> = None;
    for (i, (a, b)) in old.iter().zip(new).enumerate() {
        match (a != b, run) {
            (true, None) => run = Some(i),
            (false, Some(from)) => {
                conflict(part.start + from as u64, (i - from) as u64);
                run = None;
            }
            _ => {}
        }
    }
    if let Some(from) = run {
        conflict(part.start + from as u64, (n - from) as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: u64, data: &[u8], lost: u64) -> Span<'_> {
        Span { start, data, lost }
    }

    fn insert(held: &mut Held, s: Span<'_>, packet: u64) -> Vec<(u64, u64)> {
        let mut found = Vec::new();
        held.insert(s, packet, &mut |o, l| found.push((o, l)));
        found
    }

    fn data(bytes: &[u8], packet: u64) -> Piece {
        Piece::Data {
            bytes: bytes.to_vec(),
            packet,
        }
    }

    fn contents(held: &Held) -> Vec<(u64, &Piece)> {
        held.pieces.iter().map(|(k, p)| (*k, p)).collect()
    }

    #[test]
    fn fills_only_uncovered_parts_and_reports_differing_runs() {
        let mut held = Held::default();
        assert_eq!(insert(&mut held, span(10, b"klmn", 0), 5), []);
        assert_eq!(insert(&mut held, span(20, b"uv", 2), 6), []);
        // Covers 8..24: new bytes before, between and after; differs at 11 and 13..14. The
        // parts it adds are its packet's, the parts held before keep theirs.
        let found = insert(&mut held, span(8, b"ijkXmYYpqrstuvwx", 0), 9);
        assert_eq!(found, [(11, 1), (13, 1)]);
        assert_eq!(
            contents(&held),
            [
                (8, &data(b"ij", 9)),
                (10, &data(b"klmn", 5)),
                (14, &data(b"Ypqrst", 9)),
                (20, &data(b"uv", 6)),
                (22, &Piece::Lost(2)),
            ]
        );
        assert_eq!(held.bytes(), 14);
        assert_eq!(held.pieces(), 5);
    }

    #[test]
    fn truncate_cuts_a_straddling_piece() {
        let mut held = Held::default();
        insert(&mut held, span(10, b"abcdef", 4), 1);
        insert(&mut held, span(30, b"zz", 0), 2);
        held.truncate(13);
        assert_eq!(contents(&held), [(10, &data(b"abc", 1))]);
        assert_eq!(held.bytes(), 3);
        let mut held = Held::default();
        insert(&mut held, span(10, b"ab", 4), 1);
        held.truncate(13);
        assert_eq!(
            contents(&held),
            [(10, &data(b"ab", 1)), (12, &Piece::Lost(1))]
        );
    }
}
