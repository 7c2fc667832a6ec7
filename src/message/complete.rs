//! A frame's payload is complete: control frames are listed at once (§5.5), data messages at
//! their FIN (§5.4) after inflating their end, UTF-8 checks (§8.1) and close checks (§7.4).

use super::WsDecoder;
use super::close::valid_code;
use super::inflate::TAIL;
use super::state::{Assembly, Fate, Sink, State};
use super::stream::anomaly;
use crate::event::{AnomalyKind, DirEvent, FrameInfo, Message, Opcode, Packets};

/// Frames described per message at most (the rest are counted in `frames` only).
const MAX_FRAME_DETAIL: usize = 1024;

impl WsDecoder {
    /// The current frame's payload is complete.
    pub(super) fn end_frame(&mut self, out: &mut Vec<DirEvent>) {
        self.state = State::Header;
        let f = &self.frame;
        if f.sink == Sink::Control {
            self.emit_control(out);
        } else if f.attached {
            let info = self.frame_info();
            if let Some(m) = self.msg.as_mut() {
                Packets::join(&mut m.packets, self.frame.packets);
                // Bounded: a message's frames are bounded by the message size limit, but a
                // flood of empty fragments is not, so detail stops at a fixed count.
                if m.frame_detail.len() < MAX_FRAME_DETAIL {
                    m.frame_detail.push(info);
                }
            }
            if self.frame.h.fin {
                self.finish_message(out);
            }
        }
    }

    /// The current frame as it was on the wire.
    fn frame_info(&self) -> FrameInfo {
        let h = &self.frame.h;
        FrameInfo {
            fin: h.fin,
            rsv: u8::from(h.rsv1) << 2 | u8::from(h.rsv2) << 1 | u8::from(h.rsv3),
            opcode: h.opcode,
            mask: h.mask,
            payload_len: h.payload_len,
            header_len: u8::try_from(h.header_len).unwrap_or(u8::MAX),
            ts: self.now,
        }
    }

    fn emit_control(&mut self, out: &mut Vec<DirEvent>) {
        let h = self.frame.h;
        let info = self.frame_info();
        let payload = std::mem::take(&mut self.ctrl);
        let start = self.frame.start;
        if let Some(why) = self.unverified_first(h.opcode, &payload, self.frame_mark) {
            self.report_unverified(start, h.opcode, why, out);
            return;
        }
        let mut utf8_valid = false;
        if h.opcode == Opcode::Close {
            self.close_seen = true;
            utf8_valid = self.check_close(&payload, out);
        }
        out.push(DirEvent::Message(Message {
            opcode: h.opcode,
            payload,
            frames: 1,
            compressed: false,
            wire_len: h.payload_len,
            utf8_valid,
            frame_detail: vec![info],
            packets: self.frame.packets,
            truncated: false,
        }));
    }

    /// §5.5.1, §7.4: a close payload is empty or a valid code plus a UTF-8 reason.
    /// Returns whether the reason is valid UTF-8.
    fn check_close(&self, payload: &[u8], out: &mut Vec<DirEvent>) -> bool {
        let at = self.frame.start;
        match payload {
            [] => true,
            [_] => {
                anomaly(
                    out,
                    AnomalyKind::InvalidClosePayload,
                    format!(
                        "close frame at stream offset {at} has a 1-byte payload; a status code takes 2 (§5.5.1): listed"
                    ),
                );
                false
            }
            [hi, lo, reason @ ..] => {
                let code = u16::from_be_bytes([*hi, *lo]);
                if !valid_code(code) {
                    anomaly(
                        out,
                        AnomalyKind::InvalidCloseCode,
                        format!(
                            "close frame at stream offset {at} carries status code {code}, not a valid code (§7.4): listed"
                        ),
                    );
                }
                match simdutf8::compat::from_utf8(reason) {
                    Ok(_) => true,
                    Err(e) => {
                        anomaly(
                            out,
                            AnomalyKind::InvalidUtf8,
                            format!(
                                "close frame at stream offset {at}: the reason is not valid UTF-8 \
                                 (first error at reason byte {}) (§5.5.1): listed",
                                e.valid_up_to()
                            ),
                        );
                        false
                    }
                }
            }
        }
    }

    /// A data message the capture cut off (its end never came, or bytes of it were lost):
    /// listed with what was captured before the cut, marked truncated, when that is asked for
    /// and there is something to list. Never the first message after a frame boundary found
    /// by searching (only a whole one can confirm such a boundary). Returns whether it was
    /// listed; its payload is taken either way.
    pub(super) fn list_truncated(&self, m: &mut Assembly, out: &mut Vec<DirEvent>) -> bool {
        let payload = std::mem::take(&mut m.payload);
        if !self.cfg.list_truncated
            || m.fate != Fate::Keep
            || payload.is_empty()
            || self.guess.is_some()
            || self.first_after_guess == Some(m.start)
        {
            return false;
        }
        // A cut text keeps its captured bytes: one cut inside a character is not valid UTF-8
        // (and goes out as data_b64), never patched.
        let utf8_valid = m.opcode == Opcode::Text && simdutf8::basic::from_utf8(&payload).is_ok();
        out.push(DirEvent::Message(Message {
            opcode: m.opcode,
            payload,
            frames: m.frames,
            compressed: m.compressed,
            wire_len: m.wire_len,
            utf8_valid,
            frame_detail: std::mem::take(&mut m.frame_detail),
            truncated: true,
            packets: m.packets,
        }));
        true
    }

    /// The FIN frame of a data message ended: inflate its end, check it, list it.
    fn finish_message(&mut self, out: &mut Vec<DirEvent>) {
        let Some(m) = self.msg.as_ref() else {
            return;
        };
        if m.compressed && m.fate != Fate::Skip {
            // RFC 7692 §7.2.2: the sender removed this tail; put it back to flush the output.
            self.frame.sink = if m.fate == Fate::Keep {
                Sink::Inflate
            } else {
                Sink::Discard
            };
            self.inflate_piece(&TAIL, out);
        }
        let Some(mut m) = self.msg.take() else {
            return;
        };
        if m.compressed && m.fate != Fate::Skip {
            let dz = &mut self.deflate;
            if let Some(inf) = dz.inf.as_mut() {
                let copied_lost_history = inf.end_message();
                if !dz.takeover {
                    inf.reset();
                } else if inf.ended {
                    let tail: &[u8] = if m.fate == Fate::Keep {
                        &m.payload
                    } else {
                        &[]
                    };
                    inf.restart_after_final(tail);
                }
                if copied_lost_history && m.fate == Fate::Keep {
                    // RFC 7692 §7.2.3: its bytes depend on output this decoder never saw.
                    anomaly(
                        out,
                        AnomalyKind::DeflateContextLost,
                        format!(
                            "{} message from stream offset {} ({}) copies from \
                             compressed history lost earlier in this direction: not listed",
                            m.opcode.as_str(),
                            m.start,
                            crate::plural::count(m.frames, "frame", "frames")
                        ),
                    );
                    m.fate = Fate::Discard;
                }
            }
        }
        if m.fate != Fate::Keep {
            return;
        }
        if let Some(why) = self.unverified_first(m.opcode, &m.payload, m.first_frame) {
            self.report_unverified(m.start, m.opcode, why, out);
            return;
        }
        let mut utf8_valid = false;
        if m.opcode == Opcode::Text {
            match simdutf8::compat::from_utf8(&m.payload) {
                Ok(_) => utf8_valid = true,
                Err(e) => anomaly(
                    out,
                    AnomalyKind::InvalidUtf8,
                    format!(
                        "text message from stream offset {} ({}, {}) is not valid \
                         UTF-8 (first error at byte {}) (§8.1): listed",
                        m.start,
                        crate::plural::count(m.payload.len(), "byte", "bytes"),
                        crate::plural::count(m.frames, "frame", "frames"),
                        e.valid_up_to()
                    ),
                ),
            }
        }
        out.push(DirEvent::Message(Message {
            opcode: m.opcode,
            payload: std::mem::take(&mut m.payload),
            frames: m.frames,
            compressed: m.compressed,
            wire_len: m.wire_len,
            utf8_valid,
            frame_detail: std::mem::take(&mut m.frame_detail),
            packets: m.packets,
            truncated: false,
        }));
    }
}
