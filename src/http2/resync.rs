//! Finding a frame boundary in bytes that follow a loss (RFC 9113 frames carry no sync
//! marker): a position whose 9 bytes read as a consistent frame header (known type, defined
//! flags only, stream identifier and length as the type requires, length within the frame
//! size bound) and whose successor header, `9 + length` bytes on, is consistent too.

use super::frame::{
    CONTINUATION, DATA, END_HEADERS, FrameHead, HEADER_LEN, HEADERS, PUSH_PROMISE, WINDOW_UPDATE,
    check_head, defined_flags,
};

/// What is known about the connection, to judge a candidate header.
pub struct Ctx<'a> {
    /// Frames of this side are at most this long.
    pub max_len: u32,
    /// This side is the client (it cannot send PUSH_PROMISE).
    pub client: bool,
    /// Highest stream identifier seen on the connection.
    pub highest: u32,
    /// The stream is open and tracked.
    pub tracked: &'a dyn Fn(u32) -> bool,
}

/// How far a new stream's identifier may be above the highest seen and still be believed.
const STREAM_LEAP: u32 = 1000;

/// The result of a search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Search {
    /// A frame header starts at this offset.
    Found(usize),
    /// Nothing certain yet: the bytes before this offset can be dropped, the rest kept until
    /// more arrive.
    NeedMore(usize),
}

/// A header that could start a frame after a loss.
fn plausible(h: &FrameHead, ctx: &Ctx<'_>) -> bool {
    if h.reserved || h.len > ctx.max_len || h.flags & !defined_flags(h.kind) != 0 {
        return false;
    }
    // Unknown types are legal but prove nothing; a CONTINUATION is useless without the
    // start of its block.
    if h.kind > WINDOW_UPDATE || check_head(h).is_err() {
        return false;
    }
    if h.kind == PUSH_PROMISE && ctx.client {
        return false;
    }
    if h.stream == 0 {
        return true;
    }
    // A new stream's identifier grows by small steps; right after a mid-connection start
    // nothing is known.
    let new_ok = ctx.highest == 0 || h.stream <= ctx.highest.saturating_add(STREAM_LEAP);
    match h.kind {
        DATA => (ctx.tracked)(h.stream) || (h.stream > ctx.highest && new_ok),
        _ => (ctx.tracked)(h.stream) || new_ok,
    }
}

/// The header following a candidate: consistent too, or a CONTINUATION of its block.
fn plausible_after(prev: &FrameHead, h: &FrameHead, ctx: &Ctx<'_>) -> bool {
    if matches!(prev.kind, HEADERS | PUSH_PROMISE) && !prev.has(END_HEADERS) {
        return h.kind == CONTINUATION
            && h.stream == prev.stream
            && !h.reserved
            && h.len <= ctx.max_len
            && h.flags & !END_HEADERS == 0;
    }
    plausible(h, ctx) || (h.kind > CONTINUATION && !h.reserved && h.len <= ctx.max_len)
}

/// Search `buf` for a frame boundary. `window`: once this many bytes wait on an unconfirmed
/// candidate, it is taken as it is. `at_end`: no more bytes will come, so a candidate whose
/// frame ends exactly at the end of `buf` is taken.
pub fn search(buf: &[u8], ctx: &Ctx<'_>, window: usize, at_end: bool) -> Search {
    let mut p = 0usize;
    while let Some(h) = buf.get(p..).and_then(FrameHead::parse_at) {
        if !plausible(&h, ctx) {
            p += 1;
            continue;
        }
        let next = p + HEADER_LEN + h.len as usize;
        match buf.get(next..).and_then(FrameHead::parse_at) {
            Some(n) if plausible_after(&h, &n, ctx) => return Search::Found(p),
            Some(_) => {}
            None if at_end => {
                if next == buf.len() {
                    return Search::Found(p);
                }
            }
            None if buf.len() - p >= window => return Search::Found(p),
            None => return Search::NeedMore(p),
        }
        p += 1;
    }
    if at_end {
        Search::NeedMore(buf.len())
    } else {
        Search::NeedMore(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = payload.len() as u32;
        let mut v = len.to_be_bytes()[1..].to_vec();
        v.push(kind);
        v.push(flags);
        v.extend_from_slice(&stream.to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    fn ctx(tracked: &dyn Fn(u32) -> bool) -> Ctx<'_> {
        Ctx {
            max_len: 16384,
            client: true,
            highest: 5,
            tracked,
        }
    }

    #[test]
    fn finds_the_boundary_after_junk() {
        let tracked = |s: u32| s == 3;
        let mut bytes = vec![0xffu8, 0x13, 0x00, 0x42, 0x17];
        bytes.extend(frame(DATA, 0, 3, b"hello"));
        bytes.extend(frame(DATA, 0, 3, b"world"));
        assert_eq!(
            search(&bytes, &ctx(&tracked), 1 << 16, false),
            Search::Found(5)
        );
    }

    #[test]
    fn waits_for_confirmation() {
        let tracked = |s: u32| s == 3;
        let mut bytes = vec![0xffu8; 3];
        bytes.extend(frame(DATA, 0, 3, b"hello"));
        assert_eq!(
            search(&bytes, &ctx(&tracked), 1 << 16, false),
            Search::NeedMore(3)
        );
        // At the end, a frame that ends exactly with the bytes is taken.
        assert_eq!(
            search(&bytes, &ctx(&tracked), 1 << 16, true),
            Search::Found(3)
        );
        // A small window takes the candidate unconfirmed.
        assert_eq!(search(&bytes, &ctx(&tracked), 8, false), Search::Found(3));
    }

    #[test]
    fn rejects_inconsistent_headers() {
        let tracked = |_: u32| false;
        // DATA on a closed (lower, untracked) stream; PING of the wrong length; unknown flags.
        let mut bytes = frame(DATA, 0, 1, b"x");
        bytes.extend(frame(0x6, 0, 0, b"1234567"));
        bytes.extend(frame(0x1, 0x40, 7, b""));
        assert_eq!(
            search(&bytes, &ctx(&tracked), 1 << 16, true),
            Search::NeedMore(bytes.len())
        );
    }

    #[test]
    fn headers_then_continuation_confirms() {
        let tracked = |_: u32| false;
        let mut bytes = vec![0u8; 2];
        bytes.extend(frame(HEADERS, 0, 7, &[0x82, 0x86]));
        bytes.extend(frame(CONTINUATION, END_HEADERS, 7, &[0x84]));
        assert_eq!(
            search(&bytes, &ctx(&tracked), 1 << 16, false),
            Search::Found(2)
        );
    }
}
