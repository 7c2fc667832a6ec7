//! The connection: two sides' byte streams fed in, events out. This file holds the public
//! entry points and the byte-level loop (preface, frame headers, DATA payloads streamed through
//! without copying, buffered frames, skipped frames); `dispatch` handles whole frames, `loss`
//! gaps and resynchronisation.

use super::frame::{FrameHead, HEADER_LEN};
use super::side::{Side, St, pick};
use super::streams::Streams;
use super::{H2Config, H2Event, HeaderField, PREFACE};
use crate::event::{Anomaly, AnomalyKind};

/// A passive HTTP/2 decoder for one connection (both directions).
pub struct H2Conn {
    pub(super) cfg: H2Config,
    pub(super) client: usize,
    pub(super) sides: [Side; 2],
    pub(super) streams: Streams,
    /// Reused list of decoded header fields.
    pub(super) fields: Vec<HeaderField>,
    /// DATA bytes of untracked streams not reported (for the closing summary).
    pub(super) untracked_bytes: u64,
    pub(super) finished: bool,
}

impl H2Conn {
    /// `client_side`: which side (0/1) is the client (sent the connection preface).
    pub fn new(client_side: usize, config: H2Config) -> H2Conn {
        let client = client_side.min(1);
        debug_assert_eq!(client, client_side, "side must be 0 or 1");
        H2Conn {
            sides: [
                Side::new(&config, client == 0),
                Side::new(&config, client == 1),
            ],
            streams: Streams::new(config.max_streams),
            cfg: config,
            client,
            fields: Vec::new(),
            untracked_bytes: 0,
            finished: false,
        }
    }

    /// Start after an HTTP/1.1 `Upgrade: h2c` answered 101 (RFC 7540 §3.2; RFC 9113 deprecates
    /// it, peers still use it): the client's preface still comes; stream 1 is the upgraded
    /// request, already half-closed by the client (its headers are those of the HTTP/1.1
    /// request: the caller knows them); the server's response to it comes on stream 1.
    pub fn after_h2c_upgrade(client_side: usize, config: H2Config) -> H2Conn {
        let mut conn = H2Conn::new(client_side, config);
        conn.streams.touch(1, true);
        conn.streams.end(1, conn.client);
        conn
    }

    /// Bytes of `side` (0 or 1), in stream order, in chunks of any size. A side other than 0
    /// or 1 is ignored, and so is everything after `finish`.
    pub fn feed(&mut self, side: usize, data: &[u8], out: &mut dyn FnMut(H2Event<'_>)) {
        if side > 1 || self.finished {
            return;
        }
        self.run(side, data, false, out);
    }

    /// `len` bytes of `side` were lost. Inside a frame whose bounds are known the decoder
    /// stays in step (a DATA payload reports `DataLost`); otherwise it reports `Lost`, takes
    /// the HPACK state of that side as unknown and searches for the next frame header.
    pub fn gap(&mut self, side: usize, len: u64, out: &mut dyn FnMut(H2Event<'_>)) {
        if side > 1 || self.finished || len == 0 {
            return;
        }
        self.lose_bytes(side, len, out);
    }

    /// No more bytes will come: what was left unfinished is reported.
    pub fn finish(&mut self, out: &mut dyn FnMut(H2Event<'_>)) {
        if self.finished {
            return;
        }
        for side in 0..2 {
            self.finish_side(side, out);
        }
        if self.streams.refused > 1 {
            let detail = format!(
                "{} streams were opened over the limit of {} streams at once and not followed ({} bytes of their DATA not reported)",
                self.streams.refused, self.cfg.max_streams, self.untracked_bytes
            );
            out(anomaly(None, None, AnomalyKind::H2Limit, detail));
        }
        self.finished = true;
    }

    /// Approximate heap bytes held.
    pub fn memory(&self) -> usize {
        self.sides.iter().map(Side::memory).sum::<usize>()
            + self.streams.memory()
            + self.fields.capacity() * std::mem::size_of::<HeaderField>()
            + self
                .fields
                .iter()
                .map(|f| f.name.capacity() + f.value.capacity())
                .sum::<usize>()
    }

    /// Which side is the client.
    pub fn client_side(&self) -> usize {
        self.client
    }

    /// Streams tracked now.
    pub fn open_streams(&self) -> usize {
        self.streams.len()
    }

    /// The HPACK dynamic table of `side`'s header blocks is known whole.
    pub fn hpack_certain(&self, side: usize) -> bool {
        self.sides.get(side).is_some_and(|s| s.hpack.is_certain())
    }

    pub(super) fn side(&mut self, side: usize) -> &mut Side {
        pick(&mut self.sides, side)
    }

    /// Consume what the current state can from `data`; return the rest.
    pub(super) fn step<'d>(
        &mut self,
        side: usize,
        data: &'d [u8],
        out: &mut dyn FnMut(H2Event<'_>),
    ) -> &'d [u8] {
        let st = self.side(side).st;
        match st {
            St::Preface { matched } => self.preface(side, matched, data, out),
            St::Header => self.header(side, data, out),
            St::DataPad { head, deliver } => {
                let Some((&pad, rest)) = data.split_first() else {
                    return data;
                };
                self.pad_length(side, head, pad, deliver, out);
                rest
            }
            St::Data {
                stream,
                data_left,
                pad_left,
                end_stream,
                deliver,
            } => {
                let n = data.len().min(data_left as usize);
                let (chunk, rest) = data.split_at(n);
                let data_left = data_left - n as u32;
                let last = data_left == 0;
                if deliver {
                    out(H2Event::Data {
                        side,
                        stream,
                        data: chunk,
                        end_stream: end_stream && last,
                    });
                }
                if last {
                    self.data_done(side, stream, pad_left, end_stream && deliver);
                } else {
                    self.side(side).st = St::Data {
                        stream,
                        data_left,
                        pad_left,
                        end_stream,
                        deliver,
                    };
                }
                rest
            }
            St::Buffer { head } => {
                let s = self.side(side);
                let need = (head.len as usize).saturating_sub(s.buf.len());
                let n = need.min(data.len());
                let (chunk, rest) = data.split_at(n);
                s.buf.extend_from_slice(chunk);
                if n == need {
                    s.st = St::Header;
                    let payload = std::mem::take(&mut s.buf);
                    self.on_frame(side, head, &payload, out);
                    let s = self.side(side);
                    s.buf = payload;
                    s.trim_buf();
                }
                rest
            }
            St::Skip { left } => {
                let n = (data.len() as u64).min(left);
                let left = left - n;
                self.side(side).st = if left == 0 {
                    St::Header
                } else {
                    St::Skip { left }
                };
                data.get(n as usize..).unwrap_or_default()
            }
            St::Resync => {
                // `run` searches for boundaries itself and never steps in this state.
                debug_assert!(false, "step while resynchronising");
                self.side(side).resync.extend_from_slice(data);
                &[]
            }
        }
    }

    fn preface<'d>(
        &mut self,
        side: usize,
        matched: usize,
        data: &'d [u8],
        out: &mut dyn FnMut(H2Event<'_>),
    ) -> &'d [u8] {
        let want = PREFACE.get(matched..).unwrap_or_default();
        let n = want.len().min(data.len());
        let (chunk, rest) = data.split_at(n);
        if want.get(..n) == Some(chunk) {
            let matched = matched + n;
            self.side(side).st = if matched == PREFACE.len() {
                St::Header
            } else {
                St::Preface { matched }
            };
            return rest;
        }
        // RFC 9113 §3.4: the client starts with the preface; without it the bytes are not
        // known to be frames, so look for a frame boundary.
        out(anomaly(
            Some(side),
            None,
            AnomalyKind::H2ProtocolError,
            "the client's connection preface is missing or damaged: searching for the first frame",
        ));
        self.side(side).st = St::Resync;
        data
    }

    fn header<'d>(
        &mut self,
        side: usize,
        data: &'d [u8],
        out: &mut dyn FnMut(H2Event<'_>),
    ) -> &'d [u8] {
        let s = self.side(side);
        let (head, rest) = if s.hdr_len == 0 && data.len() >= HEADER_LEN {
            // The common case: the whole header in this chunk.
            match FrameHead::parse_at(data) {
                Some(h) => (h, data.get(HEADER_LEN..).unwrap_or_default()),
                None => return &[],
            }
        } else {
            let n = (HEADER_LEN - s.hdr_len).min(data.len());
            let (chunk, rest) = data.split_at(n);
            if let Some(dst) = s.hdr.get_mut(s.hdr_len..s.hdr_len + n) {
                dst.copy_from_slice(chunk);
            }
            s.hdr_len += n;
            if s.hdr_len < HEADER_LEN {
                return rest;
            }
            s.hdr_len = 0;
            (FrameHead::parse(&s.hdr), rest)
        };
        self.on_header(side, head, out);
        rest
    }

    /// The Pad Length byte of a padded DATA frame (RFC 9113 §6.1).
    fn pad_length(
        &mut self,
        side: usize,
        head: FrameHead,
        pad: u8,
        deliver: bool,
        out: &mut dyn FnMut(H2Event<'_>),
    ) {
        let inner = head.len.saturating_sub(1);
        match inner.checked_sub(u32::from(pad)) {
            Some(data_left) => self.enter_data(side, head, data_left, u32::from(pad), deliver, out),
            None => {
                // "If the length of the padding is the length of the frame payload or greater,
                // the recipient MUST treat this as a connection error of type PROTOCOL_ERROR."
                let detail = format!(
                    "DATA frame of stream {} with {pad} bytes of padding in a {}-byte payload: its {inner} bytes are lost",
                    head.stream, head.len
                );
                out(anomaly(
                    Some(side),
                    Some(head.stream),
                    AnomalyKind::H2ProtocolError,
                    detail,
                ));
                if deliver && inner > 0 {
                    out(H2Event::DataLost {
                        side,
                        stream: head.stream,
                        len: u64::from(inner),
                    });
                }
                self.side(side).st = St::Skip {
                    left: u64::from(inner),
                };
                if inner == 0 {
                    self.side(side).st = St::Header;
                }
                if head.has(super::frame::END_STREAM) && deliver {
                    self.emit_data_end(side, head.stream, out);
                }
            }
        }
    }

    /// Start the payload of a DATA frame: `data_left` bytes for the stream, then `pad_left`.
    pub(super) fn enter_data(
        &mut self,
        side: usize,
        head: FrameHead,
        data_left: u32,
        pad_left: u32,
        deliver: bool,
        out: &mut dyn FnMut(H2Event<'_>),
    ) {
        let end_stream = head.has(super::frame::END_STREAM);
        if data_left == 0 {
            if end_stream && deliver {
                self.emit_data_end(side, head.stream, out);
            }
            self.side(side).st = if pad_left > 0 {
                St::Skip {
                    left: u64::from(pad_left),
                }
            } else {
                St::Header
            };
            return;
        }
        self.side(side).st = St::Data {
            stream: head.stream,
            data_left,
            pad_left,
            end_stream,
            deliver,
        };
    }

    /// A zero-length last piece carrying END_STREAM.
    pub(super) fn emit_data_end(
        &mut self,
        side: usize,
        stream: u32,
        out: &mut dyn FnMut(H2Event<'_>),
    ) {
        out(H2Event::Data {
            side,
            stream,
            data: &[],
            end_stream: true,
        });
        self.streams.end(stream, side);
    }

    /// The data part of a DATA frame is through: padding (if any) follows.
    pub(super) fn data_done(&mut self, side: usize, stream: u32, pad_left: u32, ended: bool) {
        if ended {
            self.streams.end(stream, side);
        }
        self.side(side).st = if pad_left > 0 {
            St::Skip {
                left: u64::from(pad_left),
            }
        } else {
            St::Header
        };
    }
}

/// An anomaly event.
pub(super) fn anomaly(
    side: Option<usize>,
    stream: Option<u32>,
    kind: AnomalyKind,
    detail: impl Into<String>,
) -> H2Event<'static> {
    H2Event::Anomaly {
        side,
        stream,
        anomaly: Anomaly::new(kind, detail),
    }
}

/// "client" or "server", for anomaly details.
pub(super) fn who(conn_client: usize, side: usize) -> &'static str {
    if side == conn_client {
        "client"
    } else {
        "server"
    }
}
