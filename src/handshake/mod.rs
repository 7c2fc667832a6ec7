//! HTTP/1.1 Upgrade detection (RFC 6455 §4): follows the HTTP exchanges at the start of a TCP
//! connection until one is a WebSocket upgrade answered with 101, or the connection is shown
//! not to be WebSocket.
//!
//! Roles come from what each side sends (a request line makes the client, a status line the
//! server), never from which side the capture shows first: each direction is read in its own
//! stream order and a side that is ahead waits (within `max_handshake_bytes`) for the other, so
//! every interleaving of the same two streams decides the same way. Requests queue up
//! (keep-alive, pipelining) and each final response answers the oldest. Bodies are skipped by
//! counting (`body`), never parsed. After a WebSocket upgrade request the client's bytes are
//! held until its answer: 101 with `Upgrade: websocket` (or no `Upgrade` at all) settles the
//! upgrade, any other final status lets the held bytes be read as the next request.
//!
//! Submodules: `sniff` (early "not HTTP"), `head` (httparse heads → framing and handshake
//! fields), `body` (Content-Length / chunked skipping), `accept`, `extensions`
//! (permessage-deflate), `phase` (the state machine).

mod accept;
mod body;
#[cfg(test)]
mod capture_tests;
mod extensions;
mod head;
mod phase;
mod sniff;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_order;

use crate::event::{Anomaly, Dir, Handshake, OpenInfo, Timestamp};

/// permessage-deflate parameters (RFC 7692 §7.1) as the 101 response settled them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeflateParams {
    /// The server resets its compression context after every message (governs s2c).
    pub server_no_context_takeover: bool,
    /// The client resets its compression context after every message (governs c2s).
    pub client_no_context_takeover: bool,
    /// LZ77 window of the server's compressor (s2c), 8..=15; 15 when not given.
    pub server_max_window_bits: u8,
    /// LZ77 window of the client's compressor (c2s), 8..=15; 15 when not given.
    pub client_max_window_bits: u8,
}

/// The settled upgrade.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upgrade {
    /// Which of the two sides fed in (0 or 1) sent the Upgrade request.
    pub client_side: usize,
    /// The 101 switched to cleartext HTTP/2 (`Upgrade: h2c`, RFC 7540 §3.2), not to
    /// WebSocket: `rest` is HTTP/2 (the client's preface, the server's SETTINGS), `info`
    /// only the HTTP/1.1 exchange.
    pub h2c: bool,
    pub info: OpenInfo,
    /// `Some` when the 101 response accepted permessage-deflate.
    pub deflate: Option<DeflateParams>,
    /// Bytes each side (indexed by side, not by `Dir`) sent after its handshake message,
    /// already received: WebSocket frames to decode first.
    pub rest: [Vec<u8>; 2],
    /// Per side, what followed `rest` before the upgrade was decided, in stream order: losses
    /// and the bytes received after each. Decode `rest`, then each piece (a loss with
    /// `WsDecoder::gap`, bytes with `feed`), exactly as if they had come after the upgrade.
    pub rest_after: [Vec<RestPiece>; 2],
    /// Handshake anomalies (e.g. `bad_accept`) with the direction they concern.
    pub anomalies: Vec<(Dir, Anomaly)>,
    /// Per side: the capture cut that side's handshake, so bytes between it and `rest` were
    /// lost and decoding must start by finding a frame boundary (`WsDecoder::gap(0)`).
    pub resync: [bool; 2],
}

/// A piece of what a side sent after its handshake, received before the upgrade was decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestPiece {
    /// `len` bytes were lost (0: an unknown number); `truncated`: the snap length cut them.
    Lost { len: u64, truncated: bool },
    /// Bytes received after the loss before them.
    Bytes(Vec<u8>),
}

/// A WebSocket upgrade request answered with a final status other than 101: the connection
/// goes on as HTTP (its next request may upgrade), and this exchange is reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Which of the two sides fed in (0 or 1) sent the request.
    pub client_side: usize,
    /// The request target.
    pub uri: Option<String>,
    /// The request and its answer as sent (`status`, `reason`, `response_headers`,
    /// `response_ts` are the refusal's).
    pub handshake: Handshake,
}

/// State of the HTTP phase after a feed.
#[derive(Debug)]
pub enum HttpStatus {
    /// Not decided yet: more bytes needed.
    Pending,
    /// A WebSocket upgrade completed with 101.
    Upgraded(Box<Upgrade>),
    /// The connection is not (or no longer can become) WebSocket: `reason` says why
    /// (e.g. "not HTTP", "upgrade refused with 403", "handshake over 65536 bytes").
    NotWebSocket {
        reason: String,
        looked_like_http: bool,
        /// Given up at `max_handshake_bytes`, not for what the bytes said.
        over_limit: bool,
    },
}

/// The HTTP phase of one TCP connection. Sans-IO: bytes of each side in, status out.
pub struct HttpPhase {
    /// Boxed: both sides' state is a few hundred bytes, and a connection holds its HTTP phase
    /// in an enum beside much smaller states.
    machine: Box<phase::Machine>,
}

impl HttpPhase {
    /// `max_bytes`: `Limits::max_handshake_bytes`, the most bytes buffered per side.
    pub fn new(max_bytes: usize) -> Self {
        HttpPhase {
            machine: Box::new(phase::Machine::new(max_bytes)),
        }
    }

    /// Heap bytes held (the heads being read, bytes held for the other side).
    pub fn memory(&self) -> usize {
        std::mem::size_of::<phase::Machine>() + self.machine.memory()
    }

    /// The capture time of the bytes fed next: heads completed by them are stamped with it
    /// (`Handshake::request_ts`, `response_ts`).
    pub fn set_time(&mut self, ts: Timestamp) {
        self.machine.now = ts;
    }

    /// Upgrade requests refused since the last call, in the order their answers were read.
    pub fn take_refusals(&mut self) -> Vec<Refusal> {
        std::mem::take(&mut self.machine.refusals)
    }

    /// Bytes of `side` (0 or 1), in stream order. After `Upgraded` or `NotWebSocket` has been
    /// returned, further calls return the same kind of status and ignore the bytes (a repeated
    /// `Upgraded` has an empty `rest`: those bytes were handed over the first time). A side
    /// other than 0 or 1 is ignored.
    pub fn feed(&mut self, side: usize, data: &[u8]) -> HttpStatus {
        self.machine.feed(side, data)
    }

    /// Bytes of `side` were lost (TCP gap, snap length) before the upgrade was decided. What
    /// came before the loss is still read; where the loss falls decides: inside a head whose
    /// whole lines show an upgrade request or a 101 answering one, the connection is followed
    /// (`Upgrade::resync`, the 101 waiting for its request if need be); after a side's
    /// handshake it is handed over with the upgrade (`Upgrade::rest_after`); anywhere else the
    /// connection cannot be followed.
    pub fn gap(&mut self, side: usize) -> HttpStatus {
        self.machine.gap(side, 0, false)
    }

    /// [`HttpPhase::gap`] of a known `len` (`truncated`: the snap length cut the bytes), so
    /// that losses after the handshake reach the frame decoder with their size
    /// (`Upgrade::rest_after`).
    pub fn gap_len(&mut self, side: usize, len: u64, truncated: bool) -> HttpStatus {
        self.machine.gap(side, len, truncated)
    }
}

/// Whether `data`, the first bytes a side sent, start an HTTP/1.x request or status line
/// (RFC 9112 §3, §4): `Some(true)` once the line is recognised up to its version, `Some(false)`
/// as soon as it cannot be one, `None` while more bytes are needed. The one test of "this is
/// HTTP" for every layer (the HTTP phase itself uses the same sniffer).
pub fn looks_like_http_start(data: &[u8]) -> Option<bool> {
    use sniff::{Kind, Sniffer, Verdict};
    let verdicts = [Kind::Request, Kind::Response].map(|k| Sniffer::new(k).check(data));
    if verdicts.contains(&Verdict::Yes) {
        Some(true)
    } else if verdicts.contains(&Verdict::Maybe) {
        None
    } else {
        Some(false)
    }
}

/// permessage-deflate parameters settled by a response's `Sec-WebSocket-Extensions` value
/// (RFC 7692 §7.1), `None` when it does not accept permessage-deflate. Used by HTTP/2
/// WebSocket streams (RFC 8441), whose response is a header block rather than a 101.
pub fn deflate_params(extensions: &str) -> Option<DeflateParams> {
    extensions::parse_deflate(extensions)
}

/// RFC 6455 §4.2.2: base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
pub fn accept_key(key: &str) -> String {
    accept::accept_key(key)
}
