//! TCP reassembly of one direction of a connection: segments in, the byte stream out in
//! sequence order, with holes reported as gaps. The connection holds two of these.
//!
//! OWNER: helper "reassembly". Interface fixed; fill in the bodies, split into private
//! submodules as needed.

use crate::packet::TcpFlags;

/// What the stream delivers, in stream order.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// The next in-order bytes.
    Data(&'a [u8]),
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
}

/// One direction's reassembler.
pub struct HalfStream {}

impl HalfStream {
    /// `max_ooo_bytes` / `max_ooo_segments`: the out-of-order buffer limits
    /// (`Limits::max_ooo_bytes`, `Limits::max_ooo_segments`).
    pub fn new(max_ooo_bytes: usize, max_ooo_segments: usize) -> Self {
        let _ = (max_ooo_bytes, max_ooo_segments);
        todo!()
    }

    /// Take one segment of this direction. `missing` bytes follow `payload` in sequence
    /// space but were not captured. Calls `out` for everything that becomes deliverable, in
    /// order. The first segment seen fixes the start of the stream (its SYN, or its first
    /// byte when the SYN was not captured).
    pub fn segment(
        &mut self,
        seq: u32,
        flags: TcpFlags,
        payload: &[u8],
        missing: u32,
        out: &mut dyn FnMut(Chunk<'_>),
    ) {
        let _ = (seq, flags, payload, missing, out);
        todo!()
    }

    /// End of input (or the connection is being dropped): report remaining holes as gaps and
    /// deliver everything still buffered behind them, then nothing more.
    pub fn finish(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        let _ = out;
        todo!()
    }

    /// Bytes held in the out-of-order buffer.
    pub fn buffered_bytes(&self) -> usize {
        todo!()
    }

    /// In-order bytes delivered so far (gaps included).
    pub fn delivered(&self) -> u64 {
        todo!()
    }

    /// FIN or RST seen in order: nothing more will be delivered.
    pub fn is_closed(&self) -> bool {
        todo!()
    }

    /// A SYN was seen for this direction.
    pub fn saw_syn(&self) -> bool {
        todo!()
    }
}
