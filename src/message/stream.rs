//! The byte-level state machine: headers split anywhere, payloads counted down, gaps,
//! resynchronisation and end of stream.

use super::WsDecoder;
use super::state::{Fate, Sink, State};
use crate::event::{Anomaly, AnomalyKind, DirEvent, Packets};
use crate::frame::{
    MAX_HEADER_LEN, Parsed, parse_header, probe_first, probe_masked, unambiguous_start, unmask,
};
use crate::plural::count;

/// Bytes collected while looking for a frame boundary.
const RESYNC_CAP: usize = 64 << 10;
/// Segment starts remembered for `probe` (a flood of tiny feeds must not grow this).
const MAX_SEG_STARTS: usize = 256;
/// Compressed payload is unmasked into a scratch buffer this big, piece by piece.
const SCRATCH: usize = 16 << 10;

pub(super) fn anomaly(out: &mut Vec<DirEvent>, kind: AnomalyKind, detail: String) {
    out.push(DirEvent::Anomaly(Anomaly::new(kind, detail)));
}

impl WsDecoder {
    /// Each step advances `pos` over what it consumed before acting on it.
    pub(super) fn feed_bytes(&mut self, mut data: &[u8], out: &mut Vec<DirEvent>) {
        while !data.is_empty() {
            let used = match self.state {
                State::Dead => {
                    self.pos = self.pos.saturating_add(data.len() as u64);
                    data.len()
                }
                State::Resync => self.resync_bytes(data, out),
                State::Header => self.header_bytes(data, out),
                State::Payload => self.payload_bytes(data, out),
            };
            if self.unanchored_guess {
                self.push_tail(data.get(..used).unwrap_or_default());
            }
            data = data.get(used..).unwrap_or_default();
        }
    }

    /// RFC 6455 §5.2: parse the header from the bytes so far (kept across feeds when split).
    fn header_bytes(&mut self, data: &[u8], out: &mut Vec<DirEvent>) -> usize {
        let had = self.hdr_len;
        if had == 0 {
            self.hdr_packets = Packets::starting(self.packet);
            if self.unanchored_guess {
                self.hdr_anchored = self.pos == self.feed_start
                    && !(self.cfg.sender == super::Sender::Server
                        && data.first().is_some_and(|&b| self.tail_continues(b)));
            }
        } else {
            Packets::extend(&mut self.hdr_packets, self.packet);
        }
        let start = self.pos.saturating_sub(had as u64);
        let parsed = if had == 0 {
            parse_header(data)
        } else {
            let take = data.len().min(MAX_HEADER_LEN - had);
            let mut joined = self.hdr;
            if let (Some(dst), Some(src)) = (joined.get_mut(had..had + take), data.get(..take)) {
                dst.copy_from_slice(src);
            }
            parse_header(joined.get(..had + take).unwrap_or_default())
        };
        match parsed {
            Parsed::Complete(h) => {
                self.hdr_len = 0;
                let used = h.header_len.saturating_sub(had);
                self.pos = self.pos.saturating_add(used as u64);
                if self.check_guess(&h, start, out) {
                    self.begin_frame(h, start, out);
                }
                used
            }
            Parsed::NeedMore => {
                let take = data.len().min(MAX_HEADER_LEN - had);
                if let (Some(dst), Some(src)) =
                    (self.hdr.get_mut(had..had + take), data.get(..take))
                {
                    dst.copy_from_slice(src);
                }
                self.hdr_len = had + take;
                self.pos = self.pos.saturating_add(take as u64);
                take
            }
            Parsed::LengthMsbSet if self.guess.is_some() => {
                // Read from a guessed boundary: the guess was wrong, not the sender.
                self.refute_length(start, out);
                self.hdr_len = 0;
                0
            }
            Parsed::LengthMsbSet => {
                self.hdr_len = 0;
                let dropped = match self.msg.take() {
                    Some(m) if m.fate == Fate::Keep => format!(
                        "; the {} message from offset {} was dropped",
                        m.opcode.as_str(),
                        m.start
                    ),
                    _ => String::new(),
                };
                anomaly(
                    out,
                    AnomalyKind::LengthMsbSet,
                    format!(
                        "frame at stream offset {start} declares a 64-bit payload length with \
                         the most significant bit set: framing is lost, nothing more is decoded \
                         in this direction{dropped}"
                    ),
                );
                self.state = State::Dead;
                self.pos = self.pos.saturating_add(data.len() as u64);
                data.len()
            }
        }
    }

    fn payload_bytes(&mut self, data: &[u8], out: &mut Vec<DirEvent>) -> usize {
        let rest = self.frame.h.payload_len.saturating_sub(self.frame.done);
        let n = usize::try_from(rest).unwrap_or(usize::MAX).min(data.len());
        let chunk = data.get(..n).unwrap_or_default();
        let (key, off) = (self.frame.h.mask, self.frame.done);
        Packets::extend(&mut self.frame.packets, self.packet);
        match self.frame.sink {
            Sink::Skip => {}
            Sink::Control => append_unmasked(&mut self.ctrl, chunk, key, off),
            Sink::Data => {
                if let Some(m) = self.msg.as_mut() {
                    if off == 0 {
                        // Room for the whole frame at once: growing by doubling would copy a
                        // large message several times. A header may lie, so only up to a cap.
                        m.payload
                            .reserve(usize::try_from(rest.min(FRAME_RESERVE)).unwrap_or(0));
                    }
                    append_unmasked(&mut m.payload, chunk, key, off);
                }
            }
            Sink::Inflate | Sink::Discard => {
                let mut scratch = std::mem::take(&mut self.scratch);
                for (i, piece) in chunk.chunks(SCRATCH).enumerate() {
                    if !matches!(self.frame.sink, Sink::Inflate | Sink::Discard) {
                        break;
                    }
                    let bytes = match key {
                        Some(k) => {
                            scratch.clear();
                            scratch.extend_from_slice(piece);
                            unmask(&mut scratch, k, off.saturating_add((i * SCRATCH) as u64));
                            &scratch[..]
                        }
                        None => piece,
                    };
                    self.inflate_piece(bytes, out);
                }
                self.scratch = scratch;
            }
        }
        self.frame.done = self.frame.done.saturating_add(n as u64);
        self.pos = self.pos.saturating_add(n as u64);
        if self.frame.done >= self.frame.h.payload_len {
            self.end_frame(out);
        }
        n
    }

    /// See [`WsDecoder::gap`].
    pub(super) fn lose_bytes(&mut self, len: u64, out: &mut Vec<DirEvent>) {
        let at = self.pos;
        self.pos = self.pos.saturating_add(len);
        match self.state {
            State::Dead => {}
            State::Resync => {
                // Bytes before the hole cannot be followed across it.
                self.resync.skipped = self
                    .resync
                    .skipped
                    .saturating_add(self.resync.buf.len() as u64);
                self.resync.buf.clear();
                self.resync.seg_starts.clear();
                self.resync.packets.clear();
                self.resync.probed_len = 0;
                self.resync.unknown_loss |= len == 0;
                self.resync.first_byte = false;
            }
            State::Payload
                if len > 0 && self.frame.h.payload_len.saturating_sub(self.frame.done) >= len =>
            {
                self.frame.done += len;
                self.lose_frame_part(len, at, out);
                if self.frame.done >= self.frame.h.payload_len {
                    self.end_frame(out);
                }
            }
            State::Header | State::Payload => {
                if self.guess.is_some() {
                    self.guess_lost(at, out);
                } else if self.state == State::Payload {
                    self.lose_frame_part(len, at, out);
                }
                if let Some(mut m) = self.msg.take()
                    && m.fate == Fate::Keep
                {
                    let listed = self.list_truncated(&mut m, out);
                    anomaly(
                        out,
                        AnomalyKind::IncompleteMessage,
                        format!(
                            "{} message from stream offset {} ({} so far) lost its \
                                 continuation in a {len}-byte gap at offset {at}: {}",
                            m.opcode.as_str(),
                            m.start,
                            count(u64::from(m.frames), "frame", "frames"),
                            if listed { LISTED_TRUNCATED } else { "dropped" }
                        ),
                    );
                }
                self.deflate.lose_context();
                self.enter_resync(at, self.hdr_len as u64);
                self.resync.unknown_loss = len == 0;
                self.hdr_len = 0;
            }
        }
    }

    /// Payload bytes of the current frame were lost: what it carried is dropped.
    fn lose_frame_part(&mut self, len: u64, at: u64, out: &mut Vec<DirEvent>) {
        let h = self.frame.h;
        let what = format!(
            "{} frame at stream offset {} ({} payload bytes)",
            h.opcode.as_str(),
            self.frame.start,
            h.payload_len
        );
        match self.frame.sink {
            Sink::Skip => {}
            Sink::Control => anomaly(
                out,
                AnomalyKind::IncompleteMessage,
                format!(
                    "{what}: {} lost in a gap at offset {at}: not listed",
                    count(len, "byte", "bytes")
                ),
            ),
            Sink::Data | Sink::Inflate | Sink::Discard => {
                if let Some(mut m) = self.msg.take() {
                    let listed = self.list_truncated(&mut m, out);
                    if self.frame.sink != Sink::Discard {
                        anomaly(
                            out,
                            AnomalyKind::IncompleteMessage,
                            format!(
                                "{what}: {} lost in a gap at offset {at}: the {} message \
                                 from offset {} was {}",
                                count(len, "byte", "bytes"),
                                m.opcode.as_str(),
                                m.start,
                                if listed { LISTED_TRUNCATED } else { "dropped" }
                            ),
                        );
                    }
                    m.fate = Fate::Skip;
                    m.payload = Vec::new();
                    if m.compressed {
                        self.deflate.lose_context();
                    }
                    self.msg = Some(m);
                }
            }
        }
        self.frame.sink = Sink::Skip;
    }

    pub(super) fn enter_resync(&mut self, from: u64, skipped: u64) {
        self.state = State::Resync;
        self.orphans_expected = true;
        self.resync.from = from;
        self.resync.skipped = skipped;
        self.resync.buf.clear();
        self.resync.seg_starts.clear();
        self.resync.packets.clear();
        self.resync.probed_len = 0;
        self.resync.unknown_loss = false;
        self.resync.first_byte = false;
    }

    /// Collect bytes and look for a frame boundary; on success, replay from there.
    fn resync_bytes(&mut self, data: &[u8], out: &mut Vec<DirEvent>) -> usize {
        let r = &mut self.resync;
        if self.at_seg_start && r.seg_starts.len() < MAX_SEG_STARTS {
            r.seg_starts.push(r.buf.len());
        }
        if r.packets.last().is_none_or(|&(_, p)| p != self.packet) {
            if r.packets.len() < MAX_SEG_STARTS {
                r.packets.push((r.buf.len(), self.packet));
            } else if let Some(last) = r.packets.last_mut() {
                last.1 = self.packet;
            }
        }
        self.at_seg_start = false;
        let take = data.len().min(RESYNC_CAP - r.buf.len());
        r.buf
            .extend_from_slice(data.get(..take).unwrap_or_default());
        self.pos = self.pos.saturating_add(take as u64);
        let len = r.buf.len();
        if self.http_from_the_start(out) {
            return take;
        }
        let r = &mut self.resync;
        let due = len <= 4096 || len >= r.probed_len + len / 16 || len == RESYNC_CAP;
        if due && self.try_resync(out) {
            return take;
        }
        let r = &mut self.resync;
        if r.buf.len() == RESYNC_CAP {
            let drop = RESYNC_CAP / 2;
            r.buf.drain(..drop);
            r.skipped = r.skipped.saturating_add(drop as u64);
            r.seg_starts.retain(|&s| s >= drop);
            r.seg_starts.iter_mut().for_each(|s| *s -= drop);
            // The packet of the first byte kept is that of the last mark dropped.
            let dropped = r.packets.partition_point(|&(s, _)| s <= drop);
            r.packets.drain(..dropped.saturating_sub(1));
            r.packets
                .iter_mut()
                .for_each(|(s, _)| *s = s.saturating_sub(drop));
            r.probed_len = 0;
        }
        take
    }

    /// A direction picked up mid-stream whose very first bytes (nothing lost before them) start
    /// an HTTP message: the connection was taken for WebSocket from the other direction's
    /// frames, but this one is still in its HTTP exchange, whose bodies may hold anything,
    /// frames included. Nothing in it is decoded. Returns true when so.
    fn http_from_the_start(&mut self, out: &mut Vec<DirEvent>) -> bool {
        const STARTS: [&[u8]; 9] = [
            b"HTTP/1.",
            b"GET ",
            b"POST ",
            b"PUT ",
            b"HEAD ",
            b"DELETE ",
            b"OPTIONS ",
            b"PATCH ",
            b"CONNECT ",
        ];
        let r = &self.resync;
        let at_start = self.pos == r.buf.len() as u64 && r.skipped == 0;
        if !self.cfg.mid_stream || !at_start || r.buf.len() < 8 || r.probed_len >= 8 {
            return false;
        }
        if !STARTS.iter().any(|s| r.buf.starts_with(s)) {
            return false;
        }
        let line_end = memchr::memchr(b'\n', &r.buf).unwrap_or(r.buf.len()).min(80);
        let line = String::from_utf8_lossy(r.buf.get(..line_end).unwrap_or_default())
            .trim_end()
            .to_owned();
        anomaly(
            out,
            AnomalyKind::IncompleteMessage,
            format!(
                "this direction, picked up without its handshake, starts with an HTTP message \
                 ({line:?}), not with frames: nothing in it is decoded"
            ),
        );
        self.resync.buf = Vec::new();
        self.resync.seg_starts = Vec::new();
        self.resync.packets = Vec::new();
        self.state = State::Dead;
        true
    }

    /// Probe the collected bytes; on a boundary, report what was skipped and decode from it.
    fn try_resync(&mut self, out: &mut Vec<DirEvent>) -> bool {
        let r = &mut self.resync;
        r.probed_len = r.buf.len();
        let masked = self.cfg.sender == super::Sender::Client;
        let found = if r.first_byte {
            match probe_first(&r.buf).filter(|p| p.masked == masked) {
                Some(p) => Some(p),
                // The caller saw frames start at the first byte in what it is feeding: wait
                // for all of it rather than settle for another offset.
                None if r.buf.len() < RESYNC_CAP => return false,
                None => probe_masked(&r.buf, &r.seg_starts, Some(masked)),
            }
        } else {
            probe_masked(&r.buf, &r.seg_starts, Some(masked))
        };
        let Some(p) = found else {
            return false;
        };
        let first_byte = std::mem::take(&mut r.first_byte);
        let start = unambiguous_start(&r.buf, p.offset, masked, &r.seg_starts);
        // A boundary a TCP segment began at, or the first byte seen (one offset tried, not a
        // scan), or one the chain from such a place reached past its first frame (where a
        // rival reading met it). Never one whose header reads as the rest of a character begun
        // before it: tiny segments start everywhere, and in text a final frame's first byte
        // (0x80-0x8A) is a UTF-8 continuation byte, `с` being `D1 81` (found by the
        // differential test with 4-byte segments; and two false readings inside Russian text
        // can meet, so a meeting place alone proves nothing either). A real header follows a
        // frame's end, never half a character; masked frames are left out: their payload read
        // with a false key cannot vouch anyway.
        let in_text = |o: usize| !masked && super::utf8_tail::continues_character(&r.buf, o);
        let anchored_at =
            |o: usize| (r.seg_starts.contains(&o) || (first_byte && o == 0)) && !in_text(o);
        let anchored =
            anchored_at(start) || (start > p.offset && anchored_at(p.offset) && !in_text(start));
        let skipped = r.skipped.saturating_add(start as u64);
        // Stream offset of the first collected byte.
        let buf_start = self.pos.saturating_sub(r.buf.len() as u64);
        let at = buf_start.saturating_add(start as u64);
        if r.unknown_loss {
            anomaly(
                out,
                AnomalyKind::IncompleteMessage,
                format!(
                    "an unknown number of bytes was lost before stream offset {} (a handshake \
                     cut or lost in the capture): resynchronised at offset {at}, {skipped} \
                     received bytes could not be framed and were skipped",
                    r.from
                ),
            );
        } else if skipped > 0 {
            anomaly(
                out,
                AnomalyKind::IncompleteMessage,
                format!(
                    "framing lost at stream offset {}: resynchronised at offset {at}, {skipped} \
                     received bytes could not be framed and were skipped",
                    r.from
                ),
            );
        }
        r.unknown_loss = false;
        let buf = std::mem::take(&mut r.buf);
        let packets = std::mem::take(&mut r.packets);
        let seg_starts = std::mem::take(&mut r.seg_starts);
        r.skipped = 0;
        r.probed_len = 0;
        // At the first collected byte nothing before is known (the first byte after a loss or
        // of a pickup, or bytes given up on): a header there may be the end of a character.
        let after_unknown = start == 0 && !masked && super::utf8_tail::may_end_a_character(&buf, 0);
        self.guess_boundary(at, anchored, out);
        self.boundary_may_be_text = after_unknown;
        self.state = State::Header;
        self.hdr_len = 0;
        self.pos = at;
        self.tail_len = 0;
        self.push_tail(buf.get(..start).unwrap_or_default());
        self.replay(&buf, start, &packets, &seg_starts, out);
        true
    }

    /// Notes the last stream bytes passed (see `WsDecoder::tail`).
    fn push_tail(&mut self, bytes: &[u8]) {
        for &b in bytes.iter().rev().take(3).rev() {
            if usize::from(self.tail_len) == self.tail.len() {
                self.tail.rotate_left(1);
                self.tail_len -= 1;
            }
            if let Some(slot) = self.tail.get_mut(usize::from(self.tail_len)) {
                *slot = b;
            }
            self.tail_len += 1;
        }
    }

    /// Whether `next`, the byte at `pos`, continues a UTF-8 character begun in the tail.
    fn tail_continues(&self, next: u8) -> bool {
        let n = usize::from(self.tail_len);
        let mut bytes = [0u8; 4];
        if let (Some(dst), Some(src)) = (bytes.get_mut(..n), self.tail.get(..n)) {
            dst.copy_from_slice(src);
        }
        if let Some(slot) = bytes.get_mut(n) {
            *slot = next;
        }
        super::utf8_tail::continues_character(bytes.get(..=n).unwrap_or_default(), n)
    }

    /// Decodes `buf[from..]`, collected while searching, each stretch as coming from its
    /// packet (`packets`: offsets in `buf` and their packets, from offset 0 on).
    fn replay(
        &mut self,
        buf: &[u8],
        from: usize,
        packets: &[(usize, Option<u64>)],
        seg_starts: &[usize],
        out: &mut Vec<DirEvent>,
    ) {
        let now = self.packet;
        // Bytes before the first mark (there are none) would be the current packet's.
        let head = match packets.first() {
            Some(&(0, _)) => None,
            _ => Some((0, now)),
        };
        let marks: Vec<(usize, Option<u64>)> =
            head.into_iter().chain(packets.iter().copied()).collect();
        for (i, &(start, packet)) in marks.iter().enumerate() {
            let end = marks.get(i + 1).map_or(buf.len(), |&(s, _)| s);
            let Some(piece) = buf.get(start.max(from)..end).filter(|p| !p.is_empty()) else {
                continue;
            };
            self.packet = packet;
            let piece_start = start.max(from);
            if seg_starts.contains(&piece_start) {
                self.feed_start = self.pos;
            }
            self.feed_bytes(piece, out);
        }
        self.packet = now;
    }

    /// See [`WsDecoder::finish`].
    pub(super) fn end_of_stream(&mut self, out: &mut Vec<DirEvent>) {
        let at = self.pos;
        match self.state {
            State::Dead => {}
            State::Resync => {
                // Whatever was collected may still end in whole frames.
                self.resync.first_byte &= self.resync.buf.len() >= RESYNC_CAP;
                if !self.resync.buf.is_empty() && self.try_resync(out) {
                    return self.end_of_stream(out);
                }
                let lost = self
                    .resync
                    .skipped
                    .saturating_add(self.resync.buf.len() as u64);
                if lost > 0 || self.resync.unknown_loss {
                    anomaly(
                        out,
                        AnomalyKind::IncompleteMessage,
                        format!(
                            "stream ended at offset {at} with no frame boundary found since \
                             offset {}: {lost} received bytes could not be framed",
                            self.resync.from
                        ),
                    );
                }
            }
            State::Header | State::Payload => {
                if self.guess_at_end(out) {
                    self.msg = None;
                    self.state = State::Dead;
                    return;
                }
                let mut listed = false;
                if let Some(mut m) = self.msg.take() {
                    listed = self.list_truncated(&mut m, out);
                    self.msg = Some(m);
                }
                let fate = if listed {
                    LISTED_TRUNCATED
                } else {
                    "not listed"
                };
                let h = self.frame.h;
                // A single-frame message in progress is described by its frame alone.
                let only_frame = self.state == State::Payload && self.frame.attached;
                let open = self
                    .msg
                    .as_ref()
                    .filter(|m| m.fate == Fate::Keep && !(only_frame && m.frames == 1));
                let frame = if self.state == State::Payload {
                    let listed = !matches!(self.frame.sink, Sink::Skip | Sink::Discard);
                    listed.then(|| {
                        format!(
                            "{} frame at stream offset {} received {} of {} payload bytes",
                            h.opcode.as_str(),
                            self.frame.start,
                            self.frame.done,
                            h.payload_len
                        )
                    })
                } else {
                    (self.hdr_len > 0).then(|| {
                        format!(
                            "stream ended inside a frame header ({} at offset {})",
                            count(self.hdr_len as u64, "byte", "bytes"),
                            at.saturating_sub(self.hdr_len as u64)
                        )
                    })
                };
                let message = open.map(|m| {
                    format!(
                        "the {} message from offset {} ({}, {}) never ended",
                        m.opcode.as_str(),
                        m.start,
                        count(u64::from(m.frames), "frame", "frames"),
                        count(m.wire_len, "byte", "bytes")
                    )
                });
                let detail = match (frame, message) {
                    (Some(f), Some(m)) => Some(format!("{f}; {m}: {fate}")),
                    (Some(f), None) => Some(format!("{f}: {fate}")),
                    (None, Some(m)) => Some(format!("stream ended at offset {at}: {m}: {fate}")),
                    (None, None) => None,
                };
                if let Some(d) = detail {
                    anomaly(out, AnomalyKind::IncompleteMessage, d);
                }
            }
        }
        self.msg = None;
        self.state = State::Dead;
    }
}

/// How an `incomplete_message` names a message listed with what was captured of it.
const LISTED_TRUNCATED: &str = "listed truncated (the bytes captured before the cut)";

/// Payload bytes reserved ahead for a frame from its header's length: past this, a message
/// buffer grows as its bytes arrive.
const FRAME_RESERVE: u64 = 16 << 20;

/// Append `chunk` to `buf`, unmasking the new bytes in place (§5.3).
fn append_unmasked(buf: &mut Vec<u8>, chunk: &[u8], key: Option<[u8; 4]>, offset: u64) {
    let old = buf.len();
    buf.extend_from_slice(chunk);
    if let (Some(k), Some(new)) = (key, buf.get_mut(old..)) {
        unmask(new, k, offset);
    }
}
