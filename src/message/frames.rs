//! What each frame means (RFC 6455 §5.4-§5.6): where its payload goes once its header is
//! complete. Violations are reported before the frame's
//! message, in stream order.

use super::Sender;
use super::WsDecoder;
use super::state::{Assembly, Fate, Frame, Sink, State};
use super::stream::anomaly;
use crate::event::{AnomalyKind, DirEvent, Opcode};
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
        write!(
            f,
            " frame at stream offset {start} ({} payload bytes)",
            h.payload_len
        )
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
        if self.first_after_guess.is_some() {
            self.frame_mark = (self.guess_frames, self.hdr_anchored);
            self.guess_frames = self.guess_frames.saturating_add(1);
        }
        let d = Desc(&h, start);
        let (sink, attached) = match h.opcode {
            Opcode::Reserved(_) => {
                anomaly(
                    out,
                    AnomalyKind::ReservedOpcode,
                    format!(
                        "{d}: meaning undefined (§5.2), skipped {}",
                        crate::plural::count(h.payload_len, "byte", "bytes")
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
            packets: self.hdr_packets,
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
                    "{d} has {} set, undefined on a control frame: skipped {}",
                    rsv_bits(h),
                    crate::plural::count(len, "byte", "bytes")
                ),
            );
            return Sink::Skip;
        }
        if !h.fin {
            anomaly(
                out,
                AnomalyKind::FragmentedControl,
                format!(
                    "{d} has FIN=0 but control frames cannot be fragmented (§5.5): skipped {}",
                    crate::plural::count(len, "byte", "bytes")
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
                    "{d} started while the fragmented {} message from offset {} ({}) \
                     was unfinished (§5.4): that message was dropped",
                    old.opcode.as_str(),
                    old.start,
                    crate::plural::count(old.frames, "frame", "frames")
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
                format!(
                    "{d} has {} set but {why}: skipped {}",
                    rsv_bits(h),
                    crate::plural::count(len, "byte", "bytes")
                ),
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
            payload: match (&self.cfg.pool, fate) {
                (Some(pool), Fate::Keep) => pool.take(len),
                _ => Vec::new(),
            },
            start,
            fate,
            after_close: self.close_seen,
            frame_detail: Vec::new(),
            packets: None,
            first_frame: self.frame_mark,
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
            frame_detail: Vec::new(),
            packets: None,
            first_frame: self.frame_mark,
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
                        "{d}: no fragmented message is in progress (§5.4): skipped {}",
                        crate::plural::count(len, "byte", "bytes")
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
}
