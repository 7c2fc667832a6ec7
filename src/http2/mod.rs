//! HTTP/2 (RFC 9113) as a passive observer sees it: both directions' bytes in, frames decoded,
//! header blocks decompressed (HPACK, RFC 7541), and per stream its header blocks and DATA
//! bytes out, in order. Sans-IO; memory bounded by [`H2Config`].
//!
//! An observer differs from an endpoint: it never answers, so it cannot stop at the first
//! error; it may miss bytes (capture holes), after which frame boundaries must be found again
//! and the HPACK dynamic table is unknown; and it sees both peers' SETTINGS without knowing
//! when each took effect, so it follows what the byte streams themselves say (HPACK size
//! updates, frame lengths) and treats SETTINGS as bounds only.
//!
//! Submodules: `frame` (header and payload layouts), `hpack` (header decompression), `block`
//! (header blocks across CONTINUATIONs), `dispatch` (what each frame does),
//! `streams` (stream states and the tracking limit), `conn` (the per-connection machine),
//! `side` (one direction's state), `loss` (gaps, and searching for frame boundaries with
//! `resync`), `request` (pseudo-header classification of a header list).

mod block;
mod conn;
mod dispatch;
mod frame;
pub mod hpack;
mod loss;
#[cfg(test)]
mod proptests;
mod request;
mod resync;
mod side;
mod streams;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_limits;
#[cfg(test)]
mod tests_loss;
#[cfg(test)]
pub(crate) mod testutil;

use crate::event::{Anomaly, AnomalyKind};

pub use conn::H2Conn;
pub use request::{RequestHead, WebSocketVerdict, classify};

/// The client connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

#[allow(non_upper_case_globals)]
impl AnomalyKind {
    /// A malformed frame or header block (RFC 9113, RFC 7541); the detail names what was lost.
    pub const H2ProtocolError: AnomalyKind = AnomalyKind::named("h2_protocol_error");
    /// A limit of [`H2Config`] was reached; the detail names the limit and what was dropped.
    pub const H2Limit: AnomalyKind = AnomalyKind::named("h2_limit");
    /// Bytes were skipped to find the next frame header (after lost bytes or bytes that could
    /// not be framed).
    pub const H2Resync: AnomalyKind = AnomalyKind::named("h2_resync");
    /// The connection ended inside a frame or a header block.
    pub const H2Truncated: AnomalyKind = AnomalyKind::named("h2_truncated");
    /// RST_STREAM on a stream that carried a WebSocket (raised by the session, not here).
    pub const H2StreamReset: AnomalyKind = AnomalyKind::named("h2_stream_reset");
    /// GOAWAY while WebSockets were open (raised by the session, not here).
    pub const H2GoAway: AnomalyKind = AnomalyKind::named("h2_goaway");
}

/// Limits of one HTTP/2 connection. Every buffer of the decoder is bounded by one of these,
/// whatever the peers claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct H2Config {
    /// The most bytes buffered for one frame that is not DATA or part of a header block
    /// (SETTINGS, GOAWAY, PING, ...). DATA payloads are passed on as they arrive, never
    /// buffered. A longer frame is skipped with an `h2_limit` anomaly. Independently, a frame
    /// longer than the receiver's SETTINGS_MAX_FRAME_SIZE (the largest it advertised, at least
    /// 16384) is a protocol error and frame boundaries are searched anew: the advertised value
    /// is a bound, never an allocation.
    pub max_frame_bytes: usize,
    /// The most bytes of one header block (HEADERS or PUSH_PROMISE plus its CONTINUATIONs)
    /// buffered. A longer block is dropped with an `h2_limit` anomaly (its CONTINUATIONs are
    /// skipped however many come), and the HPACK state of that direction becomes unknown.
    pub max_header_block_bytes: usize,
    /// The most decoded bytes (name + value + 32 per field, RFC 9113 §6.5.2) of one header
    /// list: indexed fields can expand a small block a thousandfold. Over it the block's fields
    /// are not reported (`h2_limit`), the HPACK table is kept in step.
    pub max_header_list_bytes: usize,
    /// The most HPACK dynamic table held per direction (RFC 7541 §4.1 sizes), whatever a size
    /// update claims. Over it the oldest entries are dropped here though the encoder keeps them:
    /// fields referring to them come out unresolved, with an `h2_limit` anomaly.
    pub max_hpack_table_bytes: usize,
    /// The most streams tracked at once per connection. Streams opened over it are not
    /// followed: their header blocks are still decoded (for the HPACK state) but not
    /// reported, nor their DATA (`h2_limit` anomaly, the first time and a count at the end).
    pub max_streams: usize,
}

impl Default for H2Config {
    fn default() -> Self {
        H2Config {
            max_frame_bytes: 64 * 1024,
            max_header_block_bytes: 256 * 1024,
            max_header_list_bytes: hpack::DEFAULT_MAX_LIST_BYTES,
            max_hpack_table_bytes: 64 * 1024,
            max_streams: 1000,
        }
    }
}

/// One decoded header field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderField {
    /// The name as sent (lowercase in HTTP/2, pseudo-headers such as `:path` included); empty
    /// when `unresolved`.
    pub name: Vec<u8>,
    /// The value as sent; empty when `unresolved` and not `value_known`.
    pub value: Vec<u8>,
    /// `Some(index)`: the field referred to HPACK index `index` of a dynamic table entry the
    /// observer does not know (its state was lost with missing bytes, or the entry is past the
    /// table memory cap): the name is unknown, and the value too unless `value_known`.
    pub unresolved: Option<u64>,
    /// The value is as sent. False only for an unresolved indexed field (RFC 7541 §6.1); an
    /// unresolved literal with an indexed name (§6.2) still has its value.
    pub value_known: bool,
}

impl HeaderField {
    pub fn new(name: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> HeaderField {
        HeaderField {
            name: name.into(),
            value: value.into(),
            unresolved: None,
            value_known: true,
        }
    }

    /// A field whose entry `index` is unknown: nothing of it is known.
    pub fn unresolved(index: u64) -> HeaderField {
        HeaderField {
            name: Vec::new(),
            value: Vec::new(),
            unresolved: Some(index),
            value_known: false,
        }
    }

    /// A field whose name (entry `index`) is unknown but whose value was sent.
    pub fn unresolved_name(index: u64, value: &[u8]) -> HeaderField {
        HeaderField {
            name: Vec::new(),
            value: value.to_vec(),
            unresolved: Some(index),
            value_known: true,
        }
    }
}

/// What the decoder reports, in the order of the bytes fed.
#[derive(Debug, PartialEq, Eq)]
pub enum H2Event<'a> {
    /// A complete header block (HEADERS [+CONTINUATION]; also trailers and PUSH_PROMISE),
    /// decoded in order. For a PUSH_PROMISE `stream` is the stream it was sent on and
    /// `push_promise` the promised stream, whose request the fields are.
    Headers {
        side: usize,
        stream: u32,
        fields: &'a [HeaderField],
        end_stream: bool,
        push_promise: Option<u32>,
    },
    /// DATA payload of a stream (padding removed), in order. One frame may come in several
    /// pieces (as its bytes arrive); `end_stream` is on the last piece of the frame that
    /// carried END_STREAM (a zero-length piece when nothing was left).
    Data {
        side: usize,
        stream: u32,
        data: &'a [u8],
        end_stream: bool,
    },
    /// `len` bytes of a stream's DATA payload in `side`'s direction were lost inside a frame
    /// whose bounds are known; the stream's next `Data` follows them. (When the Pad Length byte
    /// itself was lost, `len` is the most that can have been data.)
    DataLost { side: usize, stream: u32, len: u64 },
    /// RST_STREAM on a tracked stream: both its directions end.
    Reset { side: usize, stream: u32, code: u32 },
    GoAway {
        side: usize,
        last_stream: u32,
        code: u32,
        debug: &'a [u8],
    },
    /// A SETTINGS frame (not an acknowledgement) from `side`: the values it carried among those
    /// an observer needs.
    Settings {
        side: usize,
        enable_connect_protocol: Option<bool>,
        header_table_size: Option<u32>,
        max_frame_size: Option<u32>,
    },
    /// `len` bytes of `side` were lost (a capture hole), or skipped while searching for a frame
    /// boundary: any stream's DATA in that direction may lack bytes, and the HPACK state of that
    /// side is unknown from here: later header blocks may have unresolved fields (reported, not
    /// failed: see [`HeaderField::unresolved`]).
    Lost { side: usize, len: u64 },
    Anomaly {
        side: Option<usize>,
        stream: Option<u32>,
        anomaly: Anomaly,
    },
}

/// Whether bytes start with the client connection preface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniff {
    Yes,
    No,
    /// The bytes so far agree with the preface but are fewer than its 24.
    NeedMore,
}

/// Does `first` (the first bytes a side sent) start with the connection preface of HTTP/2
/// with prior knowledge (RFC 9113 §3.3)?
pub fn sniff_preface(first: &[u8]) -> Sniff {
    match first.get(..PREFACE.len()) {
        Some(head) if head == PREFACE => Sniff::Yes,
        Some(_) => Sniff::No,
        None if PREFACE.starts_with(first) => Sniff::NeedMore,
        None => Sniff::No,
    }
}

/// RFC 9113 §7: the name of an error code (`UNKNOWN` for codes it does not define).
pub fn error_code_name(code: u32) -> &'static str {
    match code {
        0x0 => "NO_ERROR",
        0x1 => "PROTOCOL_ERROR",
        0x2 => "INTERNAL_ERROR",
        0x3 => "FLOW_CONTROL_ERROR",
        0x4 => "SETTINGS_TIMEOUT",
        0x5 => "STREAM_CLOSED",
        0x6 => "FRAME_SIZE_ERROR",
        0x7 => "REFUSED_STREAM",
        0x8 => "CANCEL",
        0x9 => "COMPRESSION_ERROR",
        0xa => "CONNECT_ERROR",
        0xb => "ENHANCE_YOUR_CALM",
        0xc => "INADEQUATE_SECURITY",
        0xd => "HTTP_1_1_REQUIRED",
        _ => "UNKNOWN",
    }
}
