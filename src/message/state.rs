//! The decoder's bookkeeping types.

use super::inflate::Inflater;
use crate::event::{FrameInfo, Opcode, Packets};
use crate::frame::FrameHeader;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    /// At (or inside) a frame header.
    Header,
    /// Inside the payload of `WsDecoder::frame`.
    Payload,
    /// Framing lost: looking for the next frame boundary.
    Resync,
    /// Framing lost for good (64-bit length with its top bit set) or the stream ended.
    Dead,
}

/// Where the current frame's payload bytes go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Sink {
    /// Counted and dropped.
    Skip,
    /// Into the control frame buffer.
    Control,
    /// Appended (unmasked) to the message being assembled.
    Data,
    /// Unmasked and inflated into the message being assembled.
    Inflate,
    /// Inflated and thrown away, so the LZ77 window stays valid for later messages.
    Discard,
}

pub(super) struct Frame {
    pub h: FrameHeader,
    /// Stream offset of the header's first byte.
    pub start: u64,
    /// Payload bytes seen so far.
    pub done: u64,
    pub sink: Sink,
    /// The frame belongs to `WsDecoder::msg` (its FIN ends that message).
    pub attached: bool,
    /// The packets of its first byte and of the latest of its bytes so far.
    pub packets: Option<Packets>,
}

impl Frame {
    pub fn idle() -> Self {
        Frame {
            h: FrameHeader {
                fin: true,
                rsv1: false,
                rsv2: false,
                rsv3: false,
                opcode: Opcode::Continuation,
                mask: None,
                payload_len: 0,
                header_len: 0,
                nonminimal: false,
            },
            start: 0,
            done: 0,
            sink: Sink::Skip,
            attached: false,
            packets: None,
        }
    }
}

/// What becomes of a data message being assembled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Fate {
    Keep,
    /// Not listed; its compressed frames still go through the inflater (context takeover).
    Discard,
    /// Not listed; its frames are skipped.
    Skip,
}

/// A text or binary message between its first frame and its FIN.
pub(super) struct Assembly {
    pub opcode: Opcode,
    pub compressed: bool,
    pub frames: u32,
    pub wire_len: u64,
    pub payload: Vec<u8>,
    pub start: u64,
    pub fate: Fate,
    /// `data_after_close` was already reported for it.
    pub after_close: bool,
    /// Its frames as they were on the wire.
    pub frame_detail: Vec<FrameInfo>,
    /// The packets of its first byte and of the latest of its bytes so far (its frames').
    pub packets: Option<Packets>,
    /// Its first frame's place since a boundary found by searching (`WsDecoder::frame_mark`).
    pub first_frame: (u32, bool),
}

/// permessage-deflate state of the direction.
pub(super) struct Deflate {
    /// Created on the first compressed message.
    pub inf: Option<Inflater>,
    /// RSV1 on data frames means "compressed" (negotiated, or guessed mid-stream).
    pub allowed: bool,
    /// The sender keeps its LZ77 window across messages.
    pub takeover: bool,
    /// The negotiation was not seen: failures are reported as context loss.
    pub guessed: bool,
    /// The sender's max_window_bits (15 when not negotiated or not seen).
    pub window_bits: u8,
    /// History was lost before the inflater was created: it starts recovering.
    pub lost_before_start: bool,
}

impl Deflate {
    pub fn inflater(&mut self) -> &mut Inflater {
        let (bits, lost) = (self.window_bits, self.lost_before_start);
        self.inf.get_or_insert_with(|| {
            let mut inf = Inflater::new(bits);
            if lost {
                inf.lose_window();
            }
            inf
        })
    }

    /// Part of the compressed stream was not inflated: the window is now partly unknown.
    pub fn lose_context(&mut self) {
        if self.takeover {
            match self.inf.as_mut() {
                Some(inf) => inf.lose_window(),
                None => self.lost_before_start = true,
            }
        }
    }

    /// Later messages may copy from history that is not known.
    pub fn recovering(&self) -> bool {
        match &self.inf {
            Some(inf) => inf.recovering(),
            None => self.lost_before_start,
        }
    }
}

/// Bytes collected while looking for a frame boundary.
pub(super) struct Resync {
    pub buf: Vec<u8>,
    /// Offsets in `buf` where a feed (a TCP segment) began.
    pub seg_starts: Vec<usize>,
    /// Offsets in `buf` from which bytes came in which packet (`WsDecoder::set_packet`), so
    /// that what is decoded from `buf` once a boundary is found names its packets. Never
    /// empty while `buf` is not; at most `MAX_SEG_STARTS` (the last then takes the later
    /// packets: a message's last packet stays right, its first may come out later).
    pub packets: Vec<(usize, Option<u64>)>,
    /// Bytes received but given up on so far.
    pub skipped: u64,
    /// Stream offset where framing was lost.
    pub from: u64,
    /// `buf.len()` at the last probe, to keep probing cost linear-ish.
    pub probed_len: usize,
    /// An unknown number of bytes was lost (`gap(0)`): the loss is reported whatever is
    /// skipped, as nothing else reports it.
    pub unknown_loss: bool,
    /// The caller found frames starting at the first byte it is feeding (mid-stream pickup):
    /// try that offset, with the evidence the first bytes of a direction need, before others.
    pub first_byte: bool,
}
