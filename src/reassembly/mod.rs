//! TCP reassembly of one direction of a connection: segments in, the byte stream out in
//! sequence order, with holes reported as gaps. The connection holds two of these.
//!
//! Sequence numbers are compared mod 2^32 relative to the next expected one (RFC 9293 §3.4);
//! internally every position is a 64-bit offset from the first byte of the stream, so
//! wraparound needs no special case. In-order data goes straight from the caller's slice to
//! the callback; only out-of-order data is copied, into a buffer bounded in bytes and pieces.

mod held;
#[cfg(test)]
mod proptests;
mod recent;
mod span;
#[cfg(test)]
mod tests;

use crate::packet::TcpFlags;
use held::{Held, Piece, report_conflicts};
use recent::Recent;
use span::Span;

/// What the stream delivers, in stream order.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// The next in-order bytes, and the packet that carried them: the number the caller gave
    /// with their segment (for bytes held out of order, their own segment's, not the one that
    /// filled the hole before them).
    Data { bytes: &'a [u8], packet: u64 },
    /// `len` bytes of the stream are lost (never captured, or given up on at a limit);
    /// the next `Data` follows them.
    Gap { len: u64, reason: GapReason },
    /// A retransmission carried bytes that differ from the first copy (the first copy wins
    /// and was already delivered). `len` differing bytes in `[offset, offset+len)` of the
    /// stream (offset counted from the first byte of the stream).
    Conflict { offset: u64, len: u64 },
    /// The sender closed its direction (FIN reached in sequence order).
    Fin,
    /// The connection was reset (RST from this sender).
    Rst,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GapReason {
    /// The packet was captured shorter than it was (snap length): the cut bytes are lost.
    Truncated,
    /// A hole was never filled before FIN, RST or end of input.
    NeverFilled,
    /// The out-of-order buffer limit was reached; the hole was skipped.
    BufferLimit,
    /// Never produced here: bytes lost in a layer above TCP (a TLS record that could not be
    /// decrypted, or that a TCP hole took), which reported the loss itself; the layers on top
    /// only resynchronise.
    Below,
}

/// One direction's reassembler.
pub struct HalfStream {
    max_ooo_bytes: usize,
    max_ooo_segments: usize,
    /// Sequence number of stream offset 0, fixed by the first segment seen.
    base: Option<u32>,
    /// Stream offset of the next byte to deliver (everything before it was delivered or
    /// reported as a gap).
    next: u64,
    /// Stream offset of the FIN, once seen (the first FIN wins).
    fin: Option<u64>,
    held: Held,
    syn: bool,
    closed: bool,
    /// Fingerprints of the last segments of new bytes, to compare retransmissions with.
    recent: Recent,
}

impl HalfStream {
    /// `max_ooo_bytes` / `max_ooo_segments`: the out-of-order buffer limits
    /// (`Limits::max_ooo_bytes`, `Limits::max_ooo_segments`).
    pub fn new(max_ooo_bytes: usize, max_ooo_segments: usize) -> Self {
        HalfStream {
            max_ooo_bytes,
            max_ooo_segments,
            base: None,
            next: 0,
            fin: None,
            held: Held::default(),
            syn: false,
            closed: false,
            recent: Recent::default(),
        }
    }

    /// Take one segment of this direction, carried by the packet the caller numbers `packet`
    /// (its bytes are delivered tagged with it, however late). `missing` bytes follow
    /// `payload` in sequence space but were not captured. Calls `out` for everything that
    /// becomes deliverable, in order. The first segment seen that is not a bare ACK fixes the
    /// start of the stream (its SYN, or its first byte when the SYN was not captured).
    pub fn segment(
        &mut self,
        seq: u32,
        flags: TcpFlags,
        payload: &[u8],
        missing: u32,
        packet: u64,
        out: &mut dyn FnMut(Chunk<'_>),
    ) {
        if self.closed {
            return;
        }
        // A bare ACK says nothing about where the stream starts: its sequence number is the
        // sender's position when it was sent, which a capture out of order may show before
        // earlier data. Fixing the start by it would make that data look old.
        if self.base.is_none()
            && payload.is_empty()
            && missing == 0
            && !flags.syn
            && !flags.fin
            && !flags.rst
        {
            return;
        }
        self.syn |= flags.syn;
        // RFC 9293 §3.4: the SYN occupies one sequence number before the first data byte.
        let data_seq = seq.wrapping_add(u32::from(flags.syn));
        let base = *self.base.get_or_insert(data_seq);
        // Truncating `next` to 32 bits is the mod 2^32 sequence arithmetic.
        let next_seq = base.wrapping_add(self.next as u32);
        let ahead = i64::from(data_seq.wrapping_sub(next_seq) as i32);
        let len = (payload.len() as u64).saturating_add(u64::from(missing));
        // Where the segment ends, relative to `next` (negative: entirely old).
        let rel_end = i128::from(ahead) + i128::from(len);
        if flags.fin && !flags.rst && rel_end >= 0 {
            self.set_fin(self.next.saturating_add(rel_end as u64));
        }
        let whole = Span {
            start: self.next.saturating_add(ahead.max(0) as u64),
            data: payload,
            lost: u64::from(missing),
        };
        // A segment starting before `next` keeps only its new part, which starts at `next`.
        let mut span = Span {
            start: whole.start,
            ..whole.skip(ahead.min(0).unsigned_abs())
        };
        if let Some(fin) = self.fin {
            span = span.until(fin);
        }
        // Stream offset of the segment's first byte (negative: before the stream start).
        let first = i128::from(self.next) + i128::from(ahead);
        if let Ok(first) = u64::try_from(first) {
            if ahead >= 0 {
                self.recent.record(first, payload);
            } else if let Some((offset, len)) = self.recent.differs(first, payload) {
                out(Chunk::Conflict { offset, len });
            }
        }
        self.ingest(span, packet, out);
        if flags.rst {
            self.flush(out);
            self.close();
            out(Chunk::Rst);
            return;
        }
        self.reach_fin(out);
        self.enforce_limits(out);
    }

    /// End of input (or the connection is being dropped): report remaining holes as gaps and
    /// deliver everything still buffered behind them, then nothing more.
    pub fn finish(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        if self.closed {
            return;
        }
        self.flush(out);
        if self.fin.is_some() {
            out(Chunk::Fin);
        }
        self.close();
    }

    /// Memory pressure (`Limits::memcap`): every hole before held bytes is declared lost (a
    /// `Gap` with `BufferLimit`) and the held bytes delivered now, as when the out-of-order
    /// limit is reached. Returns the bytes that were held.
    pub fn shed(&mut self, out: &mut dyn FnMut(Chunk<'_>)) -> usize {
        let held = self.held.bytes();
        if self.closed || held == 0 {
            return 0;
        }
        while let Some((start, piece)) = self.held.pop_first() {
            self.skip_to(start, GapReason::BufferLimit, out);
            self.deliver_piece(piece, out);
        }
        self.reach_fin(out);
        held
    }

    /// Bytes held in the out-of-order buffer.
    pub fn buffered_bytes(&self) -> usize {
        self.held.bytes()
    }

    /// In-order bytes delivered so far (gaps included).
    pub fn delivered(&self) -> u64 {
        self.next
    }

    /// FIN or RST seen in order: nothing more will be delivered.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// A SYN was seen for this direction.
    pub fn saw_syn(&self) -> bool {
        self.syn
    }

    fn set_fin(&mut self, at: u64) {
        if self.fin.is_none() && at >= self.next {
            self.fin = Some(at);
            self.held.truncate(at);
        }
    }

    /// Delivers what of `span` is in order (straight from the caller's slice) and buffers the
    /// rest. Held bytes are the first copy: where `span` overlaps them they win.
    fn ingest(&mut self, mut span: Span<'_>, packet: u64, out: &mut dyn FnMut(Chunk<'_>)) {
        loop {
            span = span.from(self.next);
            if span.is_empty() {
                break;
            }
            if span.start > self.next {
                self.held.insert(span, packet, &mut |offset, len| {
                    out(Chunk::Conflict { offset, len })
                });
                break;
            }
            let held_at = self.held.first_start().unwrap_or(u64::MAX);
            let now = span.until(held_at);
            self.next = now.end();
            deliver(now.data, now.lost, packet, out);
            if self.next < held_at {
                break;
            }
            // The span runs into the held piece at `next`, an earlier copy of the same bytes.
            let Some((start, piece)) = self.held.pop_first() else {
                break;
            };
            let over = span.sub(start, start.saturating_add(piece.len()));
            report_conflicts(start, &piece, over, &mut |offset, len| {
                out(Chunk::Conflict { offset, len })
            });
            self.deliver_piece(piece, out);
        }
        self.drain(out);
    }

    /// Delivers the held pieces that have become contiguous with the stream.
    fn drain(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        while self.held.first_start() == Some(self.next) {
            let Some((_, piece)) = self.held.pop_first() else {
                return;
            };
            self.deliver_piece(piece, out);
        }
    }

    fn deliver_piece(&mut self, piece: Piece, out: &mut dyn FnMut(Chunk<'_>)) {
        self.next = self.next.saturating_add(piece.len());
        match piece {
            Piece::Data { bytes, packet } => deliver(&bytes, 0, packet, out),
            Piece::Lost(len) => deliver(&[], len, 0, out),
        }
    }

    fn reach_fin(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        if self.fin == Some(self.next) {
            self.close();
            out(Chunk::Fin);
        }
    }

    /// Past a limit the first hole is declared lost and what follows it delivered, until
    /// the buffer fits again: memory stays within the limit plus one segment.
    fn enforce_limits(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        while !self.closed
            && (self.held.bytes() > self.max_ooo_bytes
                || self.held.pieces() > self.max_ooo_segments)
        {
            let Some(start) = self.held.first_start() else {
                return;
            };
            self.skip_to(start, GapReason::BufferLimit, out);
            self.drain(out);
            self.reach_fin(out);
        }
    }

    /// Every remaining hole is reported never filled and the held bytes behind it delivered,
    /// up to the FIN when one was seen.
    fn flush(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        while let Some((start, piece)) = self.held.pop_first() {
            self.skip_to(start, GapReason::NeverFilled, out);
            self.deliver_piece(piece, out);
        }
        if let Some(fin) = self.fin {
            self.skip_to(fin, GapReason::NeverFilled, out);
        }
    }

    fn skip_to(&mut self, at: u64, reason: GapReason, out: &mut dyn FnMut(Chunk<'_>)) {
        if at > self.next {
            out(Chunk::Gap {
                len: at - self.next,
                reason,
            });
            self.next = at;
        }
    }

    fn close(&mut self) {
        self.closed = true;
        self.held.clear();
    }
}

/// Captured bytes (carried by `packet`), then the stretch the snap length cut off.
fn deliver(data: &[u8], lost: u64, packet: u64, out: &mut dyn FnMut(Chunk<'_>)) {
    if !data.is_empty() {
        out(Chunk::Data {
            bytes: data,
            packet,
        });
    }
    if lost > 0 {
        out(Chunk::Gap {
            len: lost,
            reason: GapReason::Truncated,
        });
    }
}
