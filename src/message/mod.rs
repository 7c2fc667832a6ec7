//! One direction of a WebSocket connection: frames (RFC 6455 §5) in, messages out.
//! Fragments joined, control frames reported on their own, text checked as UTF-8 across
//! fragments, close payloads parsed, permessage-deflate (RFC 7692) inflated with one context
//! per direction, protocol violations reported as anomalies.

mod close;
mod complete;
mod deflating;
mod frames;
mod guess;
mod inflate;
mod memory;
mod pool;
mod recovery;
mod state;
mod stream;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_deflate;
#[cfg(test)]
mod tests_guess;
#[cfg(test)]
mod tests_recovery;
#[cfg(test)]
mod tests_truncated;
mod utf8_tail;

use crate::event::{DirEvent, Packets, Timestamp};
use crate::frame::MAX_HEADER_LEN;
use crate::handshake::DeflateParams;
use crate::limits::Limits;
use guess::Guess;
use state::{Assembly, Deflate, Frame, Resync, State};

/// Which peer sends the bytes this decoder reads (RFC 6455 §5.1: clients mask, servers don't).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sender {
    Client,
    Server,
}

/// permessage-deflate as it applies to this one direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirDeflate {
    /// The sender resets its compressor after every message.
    pub no_context_takeover: bool,
    /// The sender's LZ77 window (8..=15).
    pub max_window_bits: u8,
}

impl DirDeflate {
    /// RFC 7692 §7.1: `client_*` parameters govern what the client sends, `server_*` what the
    /// server sends.
    pub fn for_sender(params: &DeflateParams, sender: Sender) -> DirDeflate {
        match sender {
            Sender::Client => DirDeflate {
                no_context_takeover: params.client_no_context_takeover,
                max_window_bits: params.client_max_window_bits,
            },
            Sender::Server => DirDeflate {
                no_context_takeover: params.server_no_context_takeover,
                max_window_bits: params.server_max_window_bits,
            },
        }
    }
}

pub use close::close_name;
pub use pool::{BufPool, POOL_MAX_TOTAL_BYTES};

/// Configuration of one direction's decoder.
#[derive(Clone, Debug)]
pub struct DirConfig {
    pub sender: Sender,
    /// `Some` when permessage-deflate was negotiated.
    pub deflate: Option<DirDeflate>,
    /// `Limits::max_message_bytes`.
    pub max_message_bytes: u64,
    /// `Limits::max_inflated_bytes`.
    pub max_inflated_bytes: u64,
    /// The connection was picked up without its handshake: start by searching for a frame
    /// boundary (as after a gap), and since the permessage-deflate negotiation was not seen,
    /// try RSV1 frames with a fresh inflate context, reporting `deflate_context_lost` (not
    /// `deflate_error` or `rsv_without_extension`) when that fails.
    pub mid_stream: bool,
    /// Where large message buffers come from (none: fresh ones).
    pub pool: Option<BufPool>,
    /// `Limits::list_truncated`.
    pub list_truncated: bool,
}

impl DirConfig {
    pub fn new(sender: Sender, deflate: Option<DirDeflate>, limits: &Limits) -> Self {
        DirConfig {
            sender,
            deflate,
            max_message_bytes: limits.max_message_bytes,
            max_inflated_bytes: limits.max_inflated_bytes,
            mid_stream: false,
            pool: None,
            list_truncated: limits.list_truncated,
        }
    }
}

/// Push decoder for one direction. Memory: one frame header, the message being assembled
/// (bounded by the limits) and one inflate context.
pub struct WsDecoder {
    cfg: DirConfig,
    /// Stream offset of the next byte fed.
    pos: u64,
    state: State,
    /// A header split across feeds.
    hdr: [u8; MAX_HEADER_LEN],
    hdr_len: usize,
    frame: Frame,
    /// The data message being assembled.
    msg: Option<Assembly>,
    /// Payload of the current control frame.
    ctrl: Vec<u8>,
    deflate: Deflate,
    /// Unmasked copy of compressed payload on its way to the inflater.
    scratch: Vec<u8>,
    close_seen: bool,
    /// Framing was (re)gained mid-message: continuations without a start are expected.
    orphans_expected: bool,
    resync: Resync,
    /// The next bytes fed start a new segment (for `probe`'s preference).
    at_seg_start: bool,
    /// Capture time of the bytes being fed (for frame detail).
    now: Timestamp,
    /// Capture record number of the packet the bytes being fed came in (see
    /// [`WsDecoder::set_packet`]).
    packet: Option<u64>,
    /// The packets of the frame header being read.
    hdr_packets: Option<Packets>,
    /// Where the current public call's events begin in its `out` (stamped at its end).
    call_mark: usize,
    /// Decoding from a frame boundary that was found, not seen: its output is withheld
    /// until the framing is confirmed (`guess`).
    guess: Option<Box<Guess>>,
    /// Stream offset of the last boundary found by searching, until the message starting
    /// there is decided (`WsDecoder::unverified_first`).
    first_after_guess: Option<u64>,
    /// Messages since that boundary that failed to vouch for it.
    unverified_run: u8,
    /// That boundary was found inside a TCP segment, not where one began (nor at the first
    /// byte seen of a direction picked up mid-stream): see `WsDecoder::unverified_first`.
    unanchored_guess: bool,
    /// That boundary's header follows bytes never seen and reads as the end of a character
    /// then text (`utf8_tail::may_end_a_character`): the text of its message cannot vouch.
    boundary_may_be_text: bool,
    /// Stream offset where the segment being fed began.
    feed_start: u64,
    /// The last stream bytes before `pos` (up to three, `tail_len` of them), kept while an
    /// unanchored boundary is unsettled: whether a header continues a character begun there.
    tail: [u8; 3],
    tail_len: u8,
    /// The header being read began where a segment did, and not inside a character.
    hdr_anchored: bool,
    /// Frames begun since the last boundary found by searching (while it is unsettled).
    guess_frames: u32,
    /// The current frame's place since that boundary: (index, anchored).
    frame_mark: (u32, bool),
}

impl WsDecoder {
    pub fn new(config: DirConfig) -> Self {
        let takeover = config.deflate.is_none_or(|d| !d.no_context_takeover);
        let mid_stream = config.mid_stream;
        WsDecoder {
            pos: 0,
            state: if mid_stream {
                State::Resync
            } else {
                State::Header
            },
            hdr: [0; MAX_HEADER_LEN],
            hdr_len: 0,
            frame: Frame::idle(),
            msg: None,
            ctrl: Vec::new(),
            deflate: Deflate {
                inf: None,
                allowed: config.deflate.is_some() || mid_stream,
                takeover,
                guessed: mid_stream && config.deflate.is_none(),
                window_bits: config.deflate.map_or(15, |d| d.max_window_bits),
                // Picked up mid-stream, earlier messages may be copied from.
                lost_before_start: mid_stream && takeover,
            },
            scratch: Vec::new(),
            close_seen: false,
            orphans_expected: mid_stream,
            resync: Resync {
                buf: Vec::new(),
                seg_starts: Vec::new(),
                packets: Vec::new(),
                skipped: 0,
                from: 0,
                probed_len: 0,
                unknown_loss: false,
                first_byte: false,
            },
            at_seg_start: true,
            now: Timestamp::default(),
            packet: None,
            hdr_packets: None,
            call_mark: 0,
            guess: None,
            first_after_guess: None,
            unverified_run: 0,
            unanchored_guess: false,
            boundary_may_be_text: false,
            feed_start: 0,
            tail: [0; 3],
            tail_len: 0,
            hdr_anchored: false,
            guess_frames: 0,
            frame_mark: (0, false),
            cfg: config,
        }
    }

    /// Bytes of the stream, in order, in chunks of any size (one byte to many frames).
    pub fn feed(&mut self, data: &[u8], out: &mut Vec<DirEvent>) {
        self.call_begins(out);
        self.at_seg_start = true;
        self.feed_start = self.pos;
        self.feed_bytes(data, out);
        self.call_ends(out);
    }

    /// Capture time of the bytes fed next (stamped on the frames they complete).
    pub fn set_time(&mut self, ts: Timestamp) {
        self.now = ts;
    }

    /// Capture record number of the packet the bytes fed next came in (`None`: unknown). A
    /// message's `packets` are its first byte's packet and the latest of its bytes' packets;
    /// an anomaly is stamped with the packet fed when it was found.
    pub fn set_packet(&mut self, packet: Option<u64>) {
        self.packet = packet;
    }

    /// The caller found, by probing, that the next byte fed starts a frame: a mid-stream
    /// decoder tries that offset first (with the evidence the first bytes of a direction need)
    /// instead of searching. A found boundary is a guess all the same: what is decoded from it
    /// is withheld until the frames that follow confirm it.
    pub fn resume_at_boundary(&mut self) {
        if self.state == State::Resync && self.resync.buf.is_empty() && self.resync.skipped == 0 {
            self.resync.first_byte = true;
        }
    }

    /// `len` bytes of the stream were lost (0: an unknown number, e.g. between a handshake the
    /// capture cut and the bytes after it). Inside a frame payload of known length the decoder
    /// stays in sync (skips them; the message they belonged to is dropped with an anomaly);
    /// otherwise it resynchronises at the next frame boundary it can find and confirm. A
    /// compressed direction with context takeover then lists a message only when its bytes
    /// provably do not depend on what was lost (`deflate_context_lost` for the others).
    pub fn gap(&mut self, len: u64, out: &mut Vec<DirEvent>) {
        self.call_begins(out);
        self.lose_bytes(len, out);
        self.call_ends(out);
    }

    /// The stream ended (FIN, RST or end of input): a message or frame in progress is
    /// reported as `incomplete_message`.
    pub fn finish(&mut self, out: &mut Vec<DirEvent>) {
        self.call_begins(out);
        self.end_of_stream(out);
        self.call_ends(out);
    }

    /// A close frame was seen in this direction.
    pub fn close_seen(&self) -> bool {
        self.close_seen
    }
}
