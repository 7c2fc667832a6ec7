//! RFC 6455 §5 framing: header parsing (complete / need more / error), unmasking, and a
//! heuristic that finds frame boundaries in a stream picked up mid-way.

mod header;
mod mask;
mod probe;

pub(crate) use header::{FrameHeader, MAX_HEADER_LEN, Parsed, parse as parse_header};
pub(crate) use mask::unmask;
pub(crate) use probe::probe as probe_masked;
pub(crate) use probe::{plausible, probe_first, unambiguous_start};

/// Where a frame boundary was found in bytes of a connection seen without its handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    /// Offset of the first frame header in the probed bytes.
    pub offset: usize,
    /// The frames found there are masked (so this side is the client).
    pub masked: bool,
    /// Consecutive consistent frame headers found from `offset` (including the first).
    pub chain: usize,
}

/// Look for a plausible frame boundary in `data` (the first bytes a side sent, or the bytes
/// after a gap): a header with a defined opcode, no RSV bits beyond RSV1, a minimal length,
/// a consistent mask bit, followed by further such headers (or the end of `data` exactly at a
/// frame end). `at_segment_starts`: offsets in `data` where a TCP segment began, tried first.
/// `None` when nothing plausible was found.
pub fn probe(data: &[u8], at_segment_starts: &[usize]) -> Option<Probe> {
    probe::probe(data, at_segment_starts, None)
}
