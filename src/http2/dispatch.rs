//! Whole frames: what a frame header sets the byte loop to do next, and what a buffered frame
//! means (header block fragments handed to `block`, SETTINGS, RST_STREAM, GOAWAY reported,
//! the rest checked).

use super::H2Event;
use super::conn::{H2Conn, anomaly, who};
use super::frame::{
    self, CONTINUATION, DATA, END_HEADERS, FrameHead, GOAWAY, HEADERS, PADDED, PING, PRIORITY,
    PUSH_PROMISE, RST_STREAM, SETTINGS, WINDOW_UPDATE, kind_name,
};
use super::side::{Block, St};
use super::streams::Status;
use crate::event::AnomalyKind;

impl H2Conn {
    /// A frame header was read: decide how its payload is consumed.
    pub(super) fn on_header(
        &mut self,
        side: usize,
        head: FrameHead,
        out: &mut dyn FnMut(H2Event<'_>),
    ) {
        let client = self.client;
        let s = self.side(side);
        s.frames += 1;
        let first = s.frames == 1 && !s.lossy;
        let max_len = s.max_frame;
        if head.len > max_len {
            // RFC 9113 §4.2: a frame over SETTINGS_MAX_FRAME_SIZE is a FRAME_SIZE_ERROR. Its
            // length is not believed (most likely these bytes are not a frame header).
            let detail = format!(
                "{} frame header of the {} claims {} bytes, over the peer's SETTINGS_MAX_FRAME_SIZE of {max_len}: not a frame boundary, searching for the next one",
                kind_name(head.kind),
                who(client, side),
                head.len
            );
            out(anomaly(
                Some(side),
                Some(head.stream),
                AnomalyKind::H2ProtocolError,
                detail,
            ));
            self.drop_block(side, "was cut by bytes that are not a frame", out);
            let s = self.side(side);
            let hdr = raw_header(&head);
            s.resync.extend_from_slice(hdr.get(1..).unwrap_or_default());
            s.skipped += 1;
            s.st = St::Resync;
            return;
        }
        if first && head.kind != SETTINGS {
            // RFC 9113 §3.4: each side's preface ends with (the server's is) a SETTINGS frame.
            let detail = format!(
                "the {}'s first frame is {}, not SETTINGS",
                who(client, side),
                kind_name(head.kind)
            );
            out(anomaly(
                Some(side),
                None,
                AnomalyKind::H2ProtocolError,
                detail,
            ));
        }
        // RFC 9113 §6.10: a header block is a contiguous sequence of frames.
        if self.side(side).block.is_some()
            && !(head.kind == CONTINUATION && self.block_stream(side) == Some(head.stream))
        {
            self.interrupt_block(side, &head, out);
        }
        if let Err(why) = frame::check_head(&head) {
            let detail = format!(
                "{} frame of the {} (stream {}) {why}: {} bytes ignored",
                kind_name(head.kind),
                who(client, side),
                head.stream,
                head.len
            );
            out(anomaly(
                Some(side),
                Some(head.stream),
                AnomalyKind::H2ProtocolError,
                detail,
            ));
            if head.is_header_block() {
                self.lose_block_state(side, head.stream, "its header block is lost", out);
                if head.kind != CONTINUATION && !head.has(END_HEADERS) {
                    // Its CONTINUATIONs follow: skip them quietly.
                    self.side(side).block = Some(Block {
                        stream: head.stream,
                        end_stream: false,
                        promised: None,
                        buf: Vec::new(),
                        broken: true,
                    });
                }
            }
            self.skip(side, u64::from(head.len));
            return;
        }
        match head.kind {
            DATA => self.data_header(side, head, out),
            HEADERS | PUSH_PROMISE | CONTINUATION => self.block_header(side, head, out),
            PRIORITY | RST_STREAM | SETTINGS | PING | GOAWAY | WINDOW_UPDATE => {
                if head.len as usize > self.cfg.max_frame_bytes {
                    let detail = format!(
                        "{} frame of {} bytes over the limit of {} buffered bytes: skipped",
                        kind_name(head.kind),
                        head.len,
                        self.cfg.max_frame_bytes
                    );
                    out(anomaly(Some(side), None, AnomalyKind::H2Limit, detail));
                    self.skip(side, u64::from(head.len));
                } else {
                    self.buffer(side, head, out);
                }
            }
            // RFC 9113 §4.1, §5.5: frames of unknown types are ignored.
            _ => self.skip(side, u64::from(head.len)),
        }
    }

    pub(super) fn skip(&mut self, side: usize, len: u64) {
        self.side(side).st = if len == 0 {
            St::Header
        } else {
            St::Skip { left: len }
        };
    }

    /// Collect the payload (at once when it is empty).
    pub(super) fn buffer(
        &mut self,
        side: usize,
        head: FrameHead,
        out: &mut dyn FnMut(H2Event<'_>),
    ) {
        if head.len == 0 {
            self.side(side).st = St::Header;
            self.on_frame(side, head, &[], out);
        } else {
            let s = self.side(side);
            s.buf.clear();
            s.st = St::Buffer { head };
        }
    }

    fn block_stream(&self, side: usize) -> Option<u32> {
        self.sides.get(side)?.block.as_ref().map(|b| b.stream)
    }

    fn data_header(&mut self, side: usize, head: FrameHead, out: &mut dyn FnMut(H2Event<'_>)) {
        let lossy = self.sides.iter().any(|s| s.lossy);
        // After a loss the HEADERS that opened a stream may be among the lost bytes.
        let status = self.streams.touch(head.stream, lossy);
        let deliver = match status {
            Status::Tracked if self.streams.ended_by(head.stream, side) => {
                let detail = format!(
                    "DATA frame on stream {} after the {} ended it (END_STREAM): {} bytes ignored",
                    head.stream,
                    who(self.client, side),
                    head.len
                );
                out(anomaly(
                    Some(side),
                    Some(head.stream),
                    AnomalyKind::H2ProtocolError,
                    detail,
                ));
                false
            }
            Status::Tracked => true,
            Status::Reset => false,
            Status::Refused => {
                self.untracked_bytes += u64::from(head.len);
                false
            }
            Status::Closed => {
                let detail = format!(
                    "DATA frame on stream {}, which is not open (RFC 9113 §5.1): {} bytes ignored",
                    head.stream, head.len
                );
                out(anomaly(
                    Some(side),
                    Some(head.stream),
                    AnomalyKind::H2ProtocolError,
                    detail,
                ));
                false
            }
        };
        if head.has(PADDED) {
            self.side(side).st = St::DataPad { head, deliver };
        } else {
            self.enter_data(side, head, head.len, 0, deliver, out);
        }
    }

    /// A buffered frame is complete.
    pub(super) fn on_frame(
        &mut self,
        side: usize,
        head: FrameHead,
        payload: &[u8],
        out: &mut dyn FnMut(H2Event<'_>),
    ) {
        match head.kind {
            HEADERS => match frame::headers_fragment(&head, payload) {
                Ok(fragment) => self.fragment(side, head, None, fragment, out),
                Err(why) => self.bad_block_frame(side, &head, why, out),
            },
            PUSH_PROMISE => match frame::push_promise(&head, payload) {
                Ok((promised, fragment)) => {
                    self.fragment(side, head, Some(promised), fragment, out)
                }
                Err(why) => self.bad_block_frame(side, &head, why, out),
            },
            CONTINUATION => self.fragment(side, head, None, payload, out),
            SETTINGS => self.settings(side, &head, payload, out),
            RST_STREAM => {
                let code = frame::be32(payload).unwrap_or_default();
                if self.streams.reset(head.stream) {
                    out(H2Event::Reset {
                        side,
                        stream: head.stream,
                        code,
                    });
                }
            }
            GOAWAY => {
                let last = frame::be32(payload).unwrap_or_default() & 0x7fff_ffff;
                let code = payload.get(4..).and_then(frame::be32).unwrap_or_default();
                out(H2Event::GoAway {
                    side,
                    last_stream: last,
                    code,
                    debug: payload.get(8..).unwrap_or_default(),
                });
            }
            // RFC 9113 §6.9: "A receiver MUST treat the receipt of a WINDOW_UPDATE frame with a
            // flow-control window increment of 0 as a stream error".
            WINDOW_UPDATE if frame::be32(payload).unwrap_or_default() & 0x7fff_ffff == 0 => {
                let detail = format!("WINDOW_UPDATE of 0 on stream {}", head.stream);
                out(anomaly(
                    Some(side),
                    Some(head.stream),
                    AnomalyKind::H2ProtocolError,
                    detail,
                ));
            }
            // RFC 9113 §5.3.1: a stream cannot depend on itself.
            PRIORITY if frame::dependency(payload) == Some(head.stream) => {
                let detail = format!("PRIORITY frame: stream {} depends on itself", head.stream);
                out(anomaly(
                    Some(side),
                    Some(head.stream),
                    AnomalyKind::H2ProtocolError,
                    detail,
                ));
            }
            // PING and valid WINDOW_UPDATE / PRIORITY carry nothing an observer needs.
            _ => {}
        }
    }

    fn settings(
        &mut self,
        side: usize,
        head: &FrameHead,
        payload: &[u8],
        out: &mut dyn FnMut(H2Event<'_>),
    ) {
        if head.has(frame::ACK) {
            return;
        }
        let mut connect = None;
        let mut table = None;
        let mut max_frame = None;
        for (id, value) in frame::settings(payload) {
            if let Err(why) = frame::check_setting(id, value) {
                let detail = format!(
                    "SETTINGS of the {}: {why} ({value}): ignored",
                    who(self.client, side)
                );
                out(anomaly(
                    Some(side),
                    None,
                    AnomalyKind::H2ProtocolError,
                    detail,
                ));
                continue;
            }
            match id {
                frame::SETTINGS_ENABLE_CONNECT_PROTOCOL => connect = Some(value == 1),
                frame::SETTINGS_HEADER_TABLE_SIZE => table = Some(value),
                frame::SETTINGS_MAX_FRAME_SIZE => max_frame = Some(value),
                _ => {}
            }
        }
        if let Some(m) = max_frame {
            // What `side` accepts bounds what the other side sends. When the new value takes
            // effect (after the ACK) is not visible, so the largest ever advertised is the bound.
            let other = self.side(1 - side);
            other.max_frame = other.max_frame.max(m);
        }
        out(H2Event::Settings {
            side,
            enable_connect_protocol: connect,
            header_table_size: table,
            max_frame_size: max_frame,
        });
    }
}

/// The 9 bytes of a frame header.
fn raw_header(h: &FrameHead) -> [u8; 9] {
    let [_, l0, l1, l2] = h.len.to_be_bytes();
    let [s0, s1, s2, s3] = (h.stream | if h.reserved { 0x8000_0000 } else { 0 }).to_be_bytes();
    [l0, l1, l2, h.kind, h.flags, s0, s1, s2, s3]
}
