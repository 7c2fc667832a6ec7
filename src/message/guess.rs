//! A frame boundary that was found rather than seen — by probing after a loss, when a
//! connection is picked up mid-stream, or after a handshake the capture cut — is a guess: a
//! payload can hold bytes that look like frames. What is decoded from a guess is withheld
//! until the framing is confirmed: consecutive frame headers, each where the previous one's
//! length put it, each one a real peer would send (and, from a client, each with a key of its
//! own). Random bytes make such a header about once in 40 tries (defined opcode, no reserved
//! bits, minimal length, the sender's mask bit), so a chain of eight happens by chance about
//! once in 10^12; at the end of the stream, a shorter
//! chain whose last frame ends exactly with the stream also confirms (a chain that started
//! inside a payload must land exactly on the real frames to do that). A header that does not
//! fit refutes the guess: everything decoded from it is dropped, with an anomaly, and the
//! search for a boundary goes on from there.

use super::WsDecoder;
use super::state::State;
use super::stream::anomaly;
use crate::event::{AnomalyKind, DirEvent, Opcode};
use crate::frame::{FrameHeader, plausible};

/// UTF-8 bytes a first message after a found boundary needs to vouch for that boundary: random
/// bytes pass as UTF-8 about half the time each, so eight of them about once in 200.
const VERIFIABLE_TEXT: usize = 8;

/// Messages after a found boundary that are asked in turn to vouch for it (see
/// `WsDecoder::unverified_first`) before its framing is taken.
const UNVERIFIED_MAX: u8 = 4;

/// Consecutive fitting headers, from the guessed boundary on, that confirm it.
const CONFIRMING_CHAIN: u32 = 8;
/// At the end of the stream, when the last frame ends exactly there.
const CONFIRMING_AT_END: u32 = 3;

/// The framing since a guessed boundary, not yet confirmed.
pub(super) struct Guess {
    /// Stream offset of the guessed boundary.
    at: u64,
    /// Fitting headers read from it (see `check_guess` for which count).
    chain: u32,
    /// The masking key of the last header read (client frames).
    last_mask: Option<[u8; 4]>,
    /// Where the events of the current call produced since the guess begin in its `out`.
    mark: usize,
    /// Events of earlier calls, withheld.
    held: Vec<DirEvent>,
    /// Payload bytes in `held`.
    held_bytes: u64,
}

impl Guess {
    /// Heap bytes of the withheld events.
    pub(super) fn memory(&self) -> usize {
        let payloads = usize::try_from(self.held_bytes).unwrap_or(usize::MAX);
        self.held.capacity() * size_of::<DirEvent>() + payloads
    }

    /// Memory pressure: each withheld message becomes a `memcap` anomaly in its place.
    pub(super) fn drop_withheld_messages(&mut self) {
        for ev in &mut self.held {
            if let DirEvent::Message(m) = ev {
                *ev = super::memory::dropped_withheld(m.opcode.as_str(), m.payload.len());
            }
        }
        self.held_bytes = 0;
    }
}

impl WsDecoder {
    /// Decoding resumes at stream offset `at`, a boundary found, not seen; `anchored`: where
    /// a TCP segment began (or at the first byte seen of a direction picked up mid-stream).
    pub(super) fn guess_boundary(&mut self, at: u64, anchored: bool, out: &[DirEvent]) {
        debug_assert!(self.guess.is_none(), "a guess replaces another");
        self.first_after_guess = Some(at);
        self.unverified_run = 0;
        self.unanchored_guess = !anchored;
        self.guess_frames = 0;
        self.guess = Some(Box::new(Guess {
            at,
            chain: 0,
            last_mask: None,
            mark: out.len(),
            held: Vec::new(),
            held_bytes: 0,
        }));
    }

    /// Every public call starts here: events from now on are appended after `out`'s end.
    pub(super) fn call_begins(&mut self, out: &[DirEvent]) {
        self.call_mark = out.len();
        if let Some(g) = self.guess.as_mut() {
            g.mark = out.len();
        }
    }

    /// Every public call ends here: what it decoded from an unconfirmed guess is withheld.
    /// Withheld payload is bounded by `max_message_bytes`; a message past that is dropped
    /// with an anomaly instead.
    pub(super) fn call_ends(&mut self, out: &mut Vec<DirEvent>) {
        // Anomalies are stamped now, as some are withheld and handed on in a later call.
        for ev in out.iter_mut().skip(self.call_mark) {
            if let DirEvent::Anomaly(a) = ev {
                a.packet = a.packet.or(self.packet);
            }
        }
        let cap = self.cfg.max_message_bytes;
        let packet = self.packet;
        let Some(g) = self.guess.as_mut() else {
            return;
        };
        for ev in out.drain(g.mark.min(out.len())..) {
            let ev = match ev {
                DirEvent::Message(m)
                    if g.held_bytes.saturating_add(m.payload.len() as u64) > cap =>
                {
                    DirEvent::Anomaly(
                        crate::event::Anomaly::new(
                            AnomalyKind::IncompleteMessage,
                            format!(
                                "{} message ({}) decoded after the frame boundary guessed at \
                                 offset {} waited for that guess to be confirmed beyond \
                                 max_message_bytes ({cap}) of withheld messages: not listed",
                                m.opcode.as_str(),
                                crate::plural::count(m.payload.len(), "byte", "bytes"),
                                g.at
                            ),
                        )
                        .at(packet),
                    )
                }
                DirEvent::Message(m) => {
                    g.held_bytes = g.held_bytes.saturating_add(m.payload.len() as u64);
                    DirEvent::Message(m)
                }
                other => other,
            };
            g.held.push(ev);
        }
        g.mark = out.len();
    }

    /// A complete header `h` at `start` while the framing is a guess: whether it fits (then
    /// it counts toward confirming) or refutes the guess (then the decoder is searching
    /// again and the header must not be acted on).
    pub(super) fn check_guess(
        &mut self,
        h: &FrameHeader,
        start: u64,
        out: &mut Vec<DirEvent>,
    ) -> bool {
        if self.guess.is_none() {
            return true;
        }
        if let Some(why) = self.misfit(h) {
            self.refute(start, why, out);
            return false;
        }
        let confirmed = self.guess.as_mut().is_some_and(|g| {
            // RFC 6455 §5.3: a client picks a fresh, unpredictable key for every frame. The
            // payload of one large masked frame with constant content repeats its key every
            // four bytes, and "headers" found in it repeat the same key too: such a header
            // fits but is no evidence.
            let repeated = h.mask.is_some() && h.mask == g.last_mask;
            g.last_mask = h.mask;
            if !repeated {
                g.chain += 1;
            }
            g.chain >= CONFIRMING_CHAIN
        });
        if confirmed {
            self.confirm(out);
        }
        true
    }

    /// Why `h` is not a header this sender would put at a frame boundary here, if it is not.
    fn misfit(&self, h: &FrameHeader) -> Option<&'static str> {
        if !plausible(h) {
            return Some("not a header a peer sends");
        }
        let masked = self.cfg.sender == super::Sender::Client;
        if h.mask.is_some() != masked {
            return Some("its mask bit is not the sender's");
        }
        if h.rsv1 && !self.deflate.allowed {
            return Some("RSV1 without permessage-deflate");
        }
        match h.opcode {
            Opcode::Continuation if self.msg.is_none() && !self.orphans_expected => {
                Some("a continuation with no message in progress")
            }
            Opcode::Text | Opcode::Binary if self.msg.is_some() => {
                Some("a new message inside an unfinished one")
            }
            _ => None,
        }
    }

    /// The framing since the guess is right: release what was withheld, before what this
    /// call decoded, and decode on as usual.
    fn confirm(&mut self, out: &mut Vec<DirEvent>) {
        if let Some(g) = self.guess.take() {
            let mark = g.mark.min(out.len());
            out.splice(mark..mark, g.held);
        }
    }

    /// Drops what was decoded since the guess (withheld events and this call's), reporting
    /// `what` happened and how many messages went. The message in progress and, with context
    /// takeover, the compression window go with it.
    fn drop_guess(&mut self, what: String, out: &mut Vec<DirEvent>) {
        let Some(g) = self.guess.take() else {
            return;
        };
        let mark = g.mark.min(out.len());
        let messages = g
            .held
            .iter()
            .chain(out.get(mark..).unwrap_or_default())
            .filter(|e| matches!(e, DirEvent::Message(_)))
            .count();
        out.truncate(mark);
        let compressed = self.msg.take().is_some_and(|m| m.compressed);
        // Frames read from a wrong boundary may have gone through the inflater.
        if compressed || self.deflate.inf.is_some() {
            self.deflate.lose_context();
        }
        anomaly(
            out,
            AnomalyKind::IncompleteMessage,
            format!(
                "decoding resumed at stream offset {} on a frame boundary found by searching, \
                 {what}: the {} decoded from it {} not listed",
                g.at,
                crate::plural::count(messages, "message", "messages"),
                if messages == 1 { "is" } else { "are" }
            ),
        );
    }

    /// The header at `start` does not fit: the guess was wrong; search again after it.
    fn refute(&mut self, start: u64, why: &str, out: &mut Vec<DirEvent>) {
        self.drop_guess(
            format!("but the frame header at offset {start} does not fit there ({why})"),
            out,
        );
        self.enter_resync(start, 0);
        self.hdr_len = 0;
    }

    /// Bytes were lost before the guess was confirmed.
    pub(super) fn guess_lost(&mut self, at: u64, out: &mut Vec<DirEvent>) {
        self.drop_guess(
            format!("but bytes were lost at offset {at} before enough frames confirmed it"),
            out,
        );
    }

    /// A 64-bit length with its top bit set, read from a guessed boundary.
    pub(super) fn refute_length(&mut self, start: u64, out: &mut Vec<DirEvent>) {
        self.refute(start, "a 64-bit length with its top bit set", out);
    }

    /// The stream ended: a guess with a short chain ending exactly with the stream is
    /// confirmed, any other is dropped. Returns true when it was dropped (what was in
    /// progress belonged to it and is not described further).
    pub(super) fn guess_at_end(&mut self, out: &mut Vec<DirEvent>) -> bool {
        let Some(g) = self.guess.as_ref() else {
            return false;
        };
        let exact = self.state == State::Header && self.hdr_len == 0 && self.msg.is_none();
        if exact && g.chain >= CONFIRMING_AT_END {
            self.confirm(out);
            false
        } else {
            self.drop_guess(
                "but the stream ended before enough frames confirmed it".into(),
                out,
            );
            true
        }
    }

    /// The first frame after a found boundary is the one thing later headers cannot vouch
    /// for: a header in payload bytes whose length happens to end on a real boundary is
    /// followed by real frames only. So the message starting at the found boundary is listed
    /// only when its own content confirms it: a payload of at least 8 bytes that is valid
    /// UTF-8 (text, or a ping or binary carrying text), or a close with a valid code and
    /// reason. Returns why the message may not be listed (and forgets the
    /// boundary once its message is decided).
    #[inline]
    pub(super) fn unverified_first(
        &mut self,
        opcode: Opcode,
        payload: &[u8],
        mark: (u32, bool),
    ) -> Option<&'static str> {
        let first = self.first_after_guess?;
        self.judge_first(first, opcode, payload, mark)
    }

    fn judge_first(
        &mut self,
        first: u64,
        opcode: Opcode,
        payload: &[u8],
        mark: (u32, bool),
    ) -> Option<&'static str> {
        let inside_message =
            opcode.is_control() && self.msg.as_ref().is_some_and(|m| m.start >= first);
        // A boundary found inside a TCP segment: there the search tried every offset, and where
        // a frame's header was lost, header-like bytes in its payload whose length ends exactly
        // on a real frame are found and chain on with real headers. Such false frames can
        // follow one another before one lands (found by the differential test: a false empty
        // text, a false text, a false binary landing on the real close, confirmed as the stream
        // ended), and a suffix of text is text, so content cannot vouch for any of them. A
        // message is listed only when its first frame began where a TCP segment did (and not
        // inside a character: see `utf8_tail`), or lies as many frames past the boundary as
        // confirm one (a false chain that long is as unlikely as a false confirmation).
        if self.unanchored_guess {
            let (index, anchored) = mark;
            if index >= CONFIRMING_CHAIN {
                if !inside_message {
                    self.first_after_guess = None;
                    self.unanchored_guess = false;
                    self.unverified_run = 0;
                }
                return None;
            }
            if index == 0 || !anchored {
                return Some(
                    "the boundary was found inside a TCP segment, and this message does not \
                     begin where one did",
                );
            }
            if !inside_message {
                // Judged from here as a boundary found where a segment began.
                self.unanchored_guess = false;
                self.unverified_run = 0;
            }
        }
        // When the frame at the boundary made no message (a continuation, a skipped frame),
        // the next message is the first a wrong boundary would list: a header in payload bytes
        // can chain through a frame that lists nothing before it lands on a real boundary
        // (found by the differential test: a false continuation, then a false 81-byte ping).
        // A control frame inside a fragmented message begun since the boundary vouches for
        // itself only: that message is still to vouch for the boundary when it ends (found
        // too: a false continuation, a false binary start, a real ping, real continuations).
        let utf8 = |b: &[u8]| simdutf8::basic::from_utf8(b).is_ok();
        let why = match (opcode, payload) {
            (Opcode::Close, [hi, lo, reason @ ..])
                if super::close::valid_code(u16::from_be_bytes([*hi, *lo])) && utf8(reason) =>
            {
                None
            }
            (Opcode::Close, _) => Some("its content is no valid close code and reason"),
            (_, p) if p.len() >= VERIFIABLE_TEXT && utf8(p) && !has_controls(p) => None,
            _ => Some(
                "its content is fewer than 8 bytes, or not UTF-8 text without control characters",
            ),
        };
        // After bytes never seen, a header that reads as the end of a character and then
        // text (`т ` is `D1 82 20`: a loss taking the `D1` leaves a 32-byte binary frame)
        // starts a frame whose payload is the rest of that text, so text cannot vouch for it
        // (found by the differential test). A valid close still can: no text reads as one.
        let why = match why {
            None if self.boundary_may_be_text && opcode != Opcode::Close => Some(
                "it follows bytes never seen, and its header reads as the end of a character \
                 and then text, so its text proves nothing",
            ),
            why => why,
        };
        if !inside_message {
            self.boundary_may_be_text = false;
        }
        let vouched = why.is_none();
        // A message that fails to vouch leaves the boundary as unproven as it was: false
        // headers can chain through several frames before landing on a real boundary (found
        // too: a false text, then a false binary start over real continuations). The next
        // messages are asked in turn, up to `UNVERIFIED_MAX` of them; past that the framing
        // is taken (a stream whose messages can never vouch, binary ones, is not silenced).
        if !inside_message {
            if vouched || self.unverified_run + 1 >= UNVERIFIED_MAX {
                self.first_after_guess = None;
                self.unverified_run = 0;
            } else {
                self.unverified_run += 1;
            }
        }
        why
    }

    /// Reports a message not listed for [`WsDecoder::unverified_first`].
    pub(super) fn report_unverified(
        &self,
        start: u64,
        opcode: Opcode,
        why: &str,
        out: &mut Vec<DirEvent>,
    ) {
        anomaly(
            out,
            AnomalyKind::IncompleteMessage,
            format!(
                "{} message at stream offset {start} is the first after a frame boundary found \
                 by searching, and cannot confirm that boundary ({why}): not \
                 listed",
                opcode.as_str()
            ),
        );
    }
}

/// C0 control characters other than tab, line feed and carriage return, or DEL: rare in text
/// people send, common in payload bytes read with a wrong masking key (a masked ASCII text
/// unmasked with another ASCII-range key stays ASCII, and so valid UTF-8).
fn has_controls(p: &[u8]) -> bool {
    p.iter()
        .any(|&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f)
}
