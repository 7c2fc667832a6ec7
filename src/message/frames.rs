//! What each frame means (RFC 6455 §5.4-§5.6): where its payload goes when its header is
//! complete, and what is listed when it ends. Violations are reported before the frame's
//! message, in stream order.

use super::Sender;
use super::WsDecoder;
use super::close::valid_code;
use super::inflate::{Pushed, TAIL};
use super::state::{Assembly, Fate, Frame, Sink, State};
use super::stream::anomaly;
use crate::event::{AnomalyKind, DirEvent, Message, Opcode};
use crate::frame::FrameHeader;

/// §5.5: control frame payloads are at most 125 bytes.
const MAX_CONTROL: u64 = 125;

/// Names a frame in anomaly details; formatted only when an anomaly is reported.
#[derive(Clone, Copy)]
struct Desc<'a>(&'a FrameHeader, u64);

impl std::fmt::Display for Desc<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Desc(h, start) = *self;
        match h.opcode {
            Opcode::Reserved(op) => write!(f, "reserved-opcode 0x{op:X}")?,
            op => f.write_str(op.as_str())?,
        }
        write!(f, " frame at stream offset {start} ({} payload bytes)", h.payload_len)
    }
}

fn rsv_bits(h: &FrameHeader) -> String {
    let bits: Vec<&str> = [(h.rsv1, "RSV1"), (h.rsv2, "RSV2"), (h.rsv3, "RSV3")]
        .iter()
        .filter(|(set, _)| *set)
        .map(|(_, name)| *name)
        .collect();
    bits.join("+")
}

impl WsDecoder {
    /// A header is complete: report what is wrong with it and decide where its payload goes.
    pub(super) fn begin_frame(&mut self, h: FrameHeader, start: u64, out: &mut Vec<DirEvent>) {
        let d = Desc(&h, start);
        let (sink, attached) = match h.opcode {
            Opcode::Reserved(_) => {
                anomaly(
                    out,
                    AnomalyKind::ReservedOpcode,
                    format!(
                        "{d}: meaning undefined (§5.2), skipped {} bytes",
                        h.payload_len
                    ),
                );
                (Sink::Skip, false)
            }
            Opcode::Continuation => self.begin_continuation(&h, d, out),
            Opcode::Text | Opcode::Binary => self.begin_data(&h, start, d, out),
            _ => (self.begin_control(&h, d, out), false),
        };
        self.frame = Frame {
            h,
            start,
            done: 0,
            sink,
            attached,
        };
        self.state = State::Payload;
        if h.payload_len == 0 {
            self.end_frame(out);
        }
    }

    /// Anomalies about a frame that is decoded: masking (§5.1) and length encoding (§5.2).
    fn check_listed_frame(&self, h: &FrameHeader, d: Desc<'_>, out: &mut Vec<DirEvent>) {
        match (self.cfg.sender, h.mask.is_some()) {
            (Sender::Client, false) => anomaly(
                out,
                AnomalyKind::UnmaskedClientFrame,
                format!("{d} sent by the client without a mask (§5.1): decoded as is"),
            ),
            (Sender::Server, true) => anomaly(
                out,
                AnomalyKind::MaskedServerFrame,
                format!("{d} sent by the server with a mask (§5.1): unmasked and decoded"),
            ),
            _ => {}
        }
        if h.nonminimal {
            anomaly(
                out,
                AnomalyKind::NonminimalLength,
                format!("{d} encodes its length in more bytes than needed (§5.2): decoded"),
            );
        }
    }

    fn begin_control(&mut self, h: &FrameHeader, d: Desc<'_>, out: &mut Vec<DirEvent>) -> Sink {
        let len = h.payload_len;
        if h.rsv1 || h.rsv23() {
            anomaly(
                out,
                AnomalyKind::RsvWithoutExtension,
                format!(
                    "{d} has {} set, undefined on a control frame: skipped {len} bytes",
                    rsv_bits(h)
                ),
            );
            return Sink::Skip;
        }
        if !h.fin {
            anomaly(
                out,
                AnomalyKind::FragmentedControl,
                format!(
                    "{d} has FIN=0 but control frames cannot be fragmented (§5.5): skipped {len} bytes"
                ),
            );
            return Sink::Skip;
        }
        if len > self.cfg.max_message_bytes {
            anomaly(
                out,
                AnomalyKind::MessageTooLarge,
                format!(
                    "{d} exceeds the {}-byte message limit: skipped",
                    self.cfg.max_message_bytes
                ),
            );
            return Sink::Skip;
        }
        self.check_listed_frame(h, d, out);
        if len > MAX_CONTROL {
            anomaly(
                out,
                AnomalyKind::ControlTooLong,
                format!("{d}: control payloads are at most 125 bytes (§5.5): listed"),
            );
        }
        self.ctrl.clear();
        Sink::Control
    }

    fn begin_data(
        &mut self,
        h: &FrameHeader,
        start: u64,
        d: Desc<'_>,
        out: &mut Vec<DirEvent>,
    ) -> (Sink, bool) {
        if let Some(old) = self.msg.take() {
            anomaly(
                out,
                AnomalyKind::DataInterleavedInFragmentedMessage,
                format!(
                    "{d} started while the fragmented {} message from offset {} ({} frames) \
                     was unfinished (§5.4): that message was dropped",
                    old.opcode.as_str(),
                    old.start,
                    old.frames
                ),
            );
            if old.compressed && old.fate != Fate::Skip {
                self.deflate.lose_context();
            }
        }
        let len = h.payload_len;
        if h.rsv23() || (h.rsv1 && !self.deflate.allowed) {
            let why = if h.rsv23() {
                "no extension defines it"
            } else {
                "no extension was negotiated"
            };
            anomaly(
                out,
                AnomalyKind::RsvWithoutExtension,
                format!("{d} has {} set but {why}: skipped {len} bytes", rsv_bits(h)),
            );
            return self.skip_message(h, start);
        }
        self.orphans_expected = false;
        self.check_listed_frame(h, d, out);
        if self.close_seen {
            anomaly(
                out,
                AnomalyKind::DataAfterClose,
                format!("{d} sent after this side's close frame (§5.5.1): listed"),
            );
        }
        let compressed = h.rsv1;
        let mut fate = Fate::Keep;
        if compressed && !self.deflate.takeover {
            self.deflate.inflater().reset();
        }
        if len > self.cfg.max_message_bytes {
            anomaly(
                out,
                AnomalyKind::MessageTooLarge,
                format!(
                    "{d} exceeds the {}-byte message limit: skipped",
                    self.cfg.max_message_bytes
                ),
            );
            fate = self.fate_when_dropped(compressed);
        }
        self.msg = Some(Assembly {
            opcode: h.opcode,
            compressed,
            frames: 1,
            wire_len: len,
            payload: Vec::new(),
            start,
            fate,
            after_close: self.close_seen,
        });
        (self.sink_for(fate, compressed), true)
    }

    /// A message that is not listed: compressed frames still feed the window when the sender
    /// keeps its context (RFC 7692 §7.2.3), otherwise they are skipped.
    fn fate_when_dropped(&self, compressed: bool) -> Fate {
        if compressed && self.deflate.takeover {
            Fate::Discard
        } else {
            Fate::Skip
        }
    }

    fn sink_for(&self, fate: Fate, compressed: bool) -> Sink {
        match (fate, compressed) {
            (Fate::Keep, false) => Sink::Data,
            (Fate::Keep, true) => Sink::Inflate,
            (Fate::Discard, _) => Sink::Discard,
            (Fate::Skip, _) => Sink::Skip,
        }
    }

    /// Skip a data frame that starts a message; its continuations are skipped quietly.
    fn skip_message(&mut self, h: &FrameHeader, start: u64) -> (Sink, bool) {
        if h.fin {
            return (Sink::Skip, false);
        }
        self.msg = Some(Assembly {
            opcode: h.opcode,
            compressed: false,
            frames: 1,
            wire_len: h.payload_len,
            payload: Vec::new(),
            start,
            fate: Fate::Skip,
            after_close: true,
        });
        (Sink::Skip, true)
    }

    fn begin_continuation(
        &mut self,
        h: &FrameHeader,
        d: Desc<'_>,
        out: &mut Vec<DirEvent>,
    ) -> (Sink, bool) {
        let len = h.payload_len;
        let Some(m) = self.msg.as_mut() else {
            if !self.orphans_expected {
                anomaly(
                    out,
                    AnomalyKind::ContinuationWithoutStart,
                    format!(
                        "{d}: no fragmented message is in progress (§5.4): skipped {len} bytes"
                    ),
                );
            }
            return (Sink::Skip, false);
        };
        if h.rsv1 || h.rsv23() {
            if m.fate == Fate::Keep {
                anomaly(
                    out,
                    AnomalyKind::RsvWithoutExtension,
                    format!(
                        "{d} has {} set, undefined on a continuation frame: skipped it and \
                         dropped the {} message from offset {}",
                        rsv_bits(h),
                        m.opcode.as_str(),
                        m.start
                    ),
                );
            }
            if m.compressed && m.fate != Fate::Skip {
                self.deflate.lose_context();
            }
            let start = m.start;
            self.msg = None;
            return self.skip_message(h, start);
        }
        m.frames = m.frames.saturating_add(1);
        m.wire_len = m.wire_len.saturating_add(len);
        if m.fate != Fate::Keep {
            let (fate, compressed) = (m.fate, m.compressed);
            return (self.sink_for(fate, compressed), true);
        }
        let (wire_len, after_close) = (m.wire_len, m.after_close);
        self.check_listed_frame(h, d, out);
        if self.close_seen && !after_close {
            anomaly(
                out,
                AnomalyKind::DataAfterClose,
                format!("{d} sent after this side's close frame (§5.5.1): listed"),
            );
        }
        let max = self.cfg.max_message_bytes;
        let Some(m) = self.msg.as_mut() else {
            return (Sink::Skip, false);
        };
        m.after_close |= self.close_seen;
        if wire_len > max {
            anomaly(
                out,
                AnomalyKind::MessageTooLarge,
                format!(
                    "{d}: the {} message from offset {} reached {wire_len} bytes, over the \
                     {max}-byte message limit: not listed",
                    m.opcode.as_str(),
                    m.start
                ),
            );
            m.payload = Vec::new();
            m.fate = if m.compressed && self.deflate.takeover {
                Fate::Discard
            } else {
                Fate::Skip
            };
        }
        let (fate, compressed) = (m.fate, m.compressed);
        (self.sink_for(fate, compressed), true)
    }

    /// Inflate one piece of compressed payload into the message (or into the discard buffer).
    pub(super) fn inflate_piece(&mut self, input: &[u8], out: &mut Vec<DirEvent>) {
        let cap = usize::try_from(self.cfg.max_inflated_bytes).unwrap_or(usize::MAX);
        let stop_when_over = !self.deflate.takeover;
        let Some(m) = self.msg.as_mut() else {
            self.frame.sink = Sink::Skip;
            return;
        };
        let mut keep = if self.frame.sink == Sink::Inflate {
            Some(&mut m.payload)
        } else {
            None
        };
        let inf = self
            .deflate
            .inf
            .get_or_insert_with(super::inflate::Inflater::new);
        match inf.push(input, &mut keep, cap, stop_when_over) {
            Ok(Pushed::Fine) => {}
            Ok(Pushed::OverLimit) => {
                anomaly(
                    out,
                    AnomalyKind::DecompressionLimit,
                    format!(
                        "{} message from stream offset {} inflates to more than {cap} bytes: \
                         not listed{}",
                        m.opcode.as_str(),
                        m.start,
                        if stop_when_over {
                            ", inflating stopped"
                        } else {
                            ""
                        }
                    ),
                );
                m.fate = if stop_when_over {
                    Fate::Skip
                } else {
                    Fate::Discard
                };
                self.frame.sink = if stop_when_over {
                    Sink::Skip
                } else {
                    Sink::Discard
                };
            }
            Err(e) => self.inflate_failed(&e, out),
        }
    }

    /// The inflater rejected the data: the message is dropped and, with context takeover,
    /// the window is unknown from now on.
    fn inflate_failed(&mut self, err: &str, out: &mut Vec<DirEvent>) {
        let Some(m) = self.msg.as_mut() else {
            return;
        };
        let listed = m.fate == Fate::Keep;
        m.fate = Fate::Skip;
        m.payload = Vec::new();
        let what = format!(
            "{} message from stream offset {}",
            m.opcode.as_str(),
            m.start
        );
        self.frame.sink = Sink::Skip;
        let dz = &mut self.deflate;
        if listed {
            if dz.trial || dz.guessed {
                if !dz.lost_reported {
                    anomaly(
                        out,
                        AnomalyKind::DeflateContextLost,
                        format!(
                            "{what} could not be inflated ({err}): the compression context \
                             of this direction is unknown; such messages are not listed"
                        ),
                    );
                }
                dz.lost_reported = dz.takeover;
            } else {
                anomaly(
                    out,
                    AnomalyKind::DeflateError,
                    format!("{what} is not valid DEFLATE data ({err}): not listed"),
                );
                dz.lost_reported = false;
            }
        }
        if let Some(inf) = dz.inf.as_mut() {
            inf.reset();
        }
        if dz.takeover {
            dz.trial = true;
        }
    }

    /// The current frame's payload is complete.
    pub(super) fn end_frame(&mut self, out: &mut Vec<DirEvent>) {
        self.state = State::Header;
        let f = &self.frame;
        if f.sink == Sink::Control {
            self.emit_control(out);
        } else if f.attached && f.h.fin {
            self.finish_message(out);
        }
    }

    fn emit_control(&mut self, out: &mut Vec<DirEvent>) {
        let h = self.frame.h;
        let payload = std::mem::take(&mut self.ctrl);
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
                if dz.trial && inf.since_reset >= super::inflate::WINDOW {
                    dz.trial = false;
                    dz.lost_reported = false;
                }
            }
        }
        if m.fate != Fate::Keep {
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
                        "text message from stream offset {} ({} bytes, {} frames) is not valid \
                         UTF-8 (first error at byte {}) (§8.1): listed",
                        m.start,
                        m.payload.len(),
                        m.frames,
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
        }));
    }
}
