//! Finding frame boundaries in bytes that did not start at one (mid-stream pickup, resync
//! after a TCP gap). A candidate offset must start a chain of headers that RFC 6455 §5.2
//! allows and that a sane peer would send.

use super::Probe;
use super::header::{FrameHeader, Parsed, parse};
use crate::event::Opcode;

/// Declared lengths above this are taken as noise, not as a frame.
const ABSURD_LEN: u64 = 1 << 32;
/// Enough consecutive headers to be convinced; stops the walk early.
const CONVINCING_CHAIN: usize = 8;

/// How much evidence a candidate boundary needs. Random payload bytes form a plausible header
/// about once in 24 tries (with the mask bit fixed), so a chain of two "plausible" headers turns
/// up every few hundred offsets of noise: scanning every offset of 64 KiB of payload needs
/// longer chains than trying the few offsets where a TCP segment began.
#[derive(Clone, Copy, Debug)]
struct Evidence {
    /// Frames that end exactly where the data ends.
    exact: usize,
    /// Frames whose last one runs past the data's end (or stops inside a header).
    open: usize,
}

/// A TCP segment start: senders begin segments at frame boundaries far more often than not.
const AT_SEGMENT: Evidence = Evidence { exact: 1, open: 3 };
/// Any other offset.
const ANYWHERE: Evidence = Evidence { exact: 2, open: 4 };
/// The very first byte seen of a direction picked up mid-stream: one candidate, not a scan.
const FIRST_BYTE: Evidence = Evidence { exact: 1, open: 2 };

/// See [`super::probe`]; `masked`: when known, only chains with that mask bit count.
pub(crate) fn probe(
    data: &[u8],
    at_segment_starts: &[usize],
    masked: Option<bool>,
) -> Option<Probe> {
    let fits = |p: &Probe| masked.is_none_or(|m| m == p.masked);
    at_segment_starts
        .iter()
        .filter_map(|&off| chain_at(data, off, AT_SEGMENT))
        .find(fits)
        .or_else(|| {
            (0..data.len())
                .filter_map(|off| chain_at(data, off, ANYWHERE))
                .find(fits)
        })
}

/// Frames starting at the first byte of `data`, judged as the first bytes seen of a direction.
pub(crate) fn probe_first(data: &[u8]) -> Option<Probe> {
    chain_at(data, 0, FIRST_BYTE)
}

/// A header that could open a chain: §5.2 (defined opcode, no RSV2/RSV3, minimal length), §5.5
/// (control frames unfragmented, ≤ 125 bytes, no RSV1).
pub(crate) fn plausible(h: &FrameHeader) -> bool {
    if matches!(h.opcode, Opcode::Reserved(_)) || h.rsv23() || h.nonminimal {
        return false;
    }
    if h.payload_len > ABSURD_LEN {
        return false;
    }
    if h.opcode.is_control() {
        return h.fin && !h.rsv1 && h.payload_len <= 125;
    }
    // Runs of zero bytes parse as empty unfinished continuations: never take those as frames.
    !(h.opcode == Opcode::Continuation && (h.rsv1 || (!h.fin && h.payload_len == 0)))
}

/// Walk frames from `off` and judge the chain found against `need`.
fn chain_at(data: &[u8], off: usize, need: Evidence) -> Option<Probe> {
    let mut pos = off;
    let mut chain = 0usize;
    let mut masked = None;
    let mut last_key = None;
    let found = |chain, masked: Option<bool>| Probe {
        offset: off,
        masked: masked.unwrap_or(false),
        chain,
    };
    loop {
        let rest = data.get(pos..)?;
        if rest.is_empty() {
            return (chain >= need.exact.max(1)).then(|| found(chain, masked));
        }
        let h = match parse(rest) {
            Parsed::Complete(h) => h,
            Parsed::NeedMore => {
                // A partial header at the end: check what is there before counting on it.
                let partial_ok = rest.first().is_some_and(|&b0| {
                    let op = Opcode::from_u8(b0);
                    b0 & 0x30 == 0 && !matches!(op, Opcode::Reserved(_))
                }) && rest.get(1).is_none_or(|&b1| Some(b1 & 0x80 != 0) == masked);
                return (chain >= need.open && partial_ok).then(|| found(chain, masked));
            }
            Parsed::LengthMsbSet => return None,
        };
        if !plausible(&h) || masked.is_some_and(|m| m != h.mask.is_some()) {
            return None;
        }
        // RFC 6455 §5.3: a fresh key for every client frame. The same key twice in a row is
        // the four-byte period of one large masked payload of constant content, not frames.
        if h.mask.is_some() && h.mask == last_key {
            return None;
        }
        last_key = h.mask;
        masked = Some(h.mask.is_some());
        chain += 1;
        let end = (h.header_len as u64)
            .checked_add(h.payload_len)
            .and_then(|l| usize::try_from(l).ok())
            .and_then(|l| pos.checked_add(l));
        let past_end = end.is_none_or(|e| e > data.len());
        if chain >= CONVINCING_CHAIN || (past_end && chain >= need.open) {
            return Some(found(chain, masked));
        }
        match end {
            Some(e) if !past_end => pos = e,
            _ => return None,
        }
    }
}

/// Frames walked from one start when looking for another reading of the same bytes.
const RIVAL_STEPS: usize = CONVINCING_CHAIN;

/// Frame starts from `off` while each header is complete, plausible and masked as `masked`:
/// the offsets where those frames end (the first entry is `off` itself), at most `steps`
/// frames, stopping at the first frame that runs past `data`.
fn walk(data: &[u8], off: usize, masked: bool, steps: usize) -> Vec<usize> {
    let mut at = vec![off];
    let mut pos = off;
    let mut last_key = None;
    while at.len() <= steps {
        let Some(rest) = data.get(pos..).filter(|r| !r.is_empty()) else {
            break;
        };
        let Parsed::Complete(h) = parse(rest) else {
            break;
        };
        if !plausible(&h) || h.mask.is_some() != masked || (h.mask.is_some() && h.mask == last_key)
        {
            break;
        }
        last_key = h.mask;
        let end = (h.header_len as u64)
            .checked_add(h.payload_len)
            .and_then(|l| usize::try_from(l).ok())
            .and_then(|l| pos.checked_add(l));
        match end {
            Some(e) if e <= data.len() => {
                at.push(e);
                pos = e;
            }
            _ => break,
        }
    }
    at
}

/// Where decoding can start without guessing between two readings, given that a probe chose
/// `chosen`. A false start can still lead to true frames: a plausible header in payload bytes
/// whose length happens to end exactly on a real frame boundary joins the real chain after
/// one frame, and every later header then confirms it. That first frame then covers bytes
/// that another reading parses as frames of its own (the real ones) ending at the same place.
/// So when another start in the bytes up to the end of `chosen`'s first frame reaches one of
/// `chosen`'s frame boundaries (without passing through `chosen`) with more frames than
/// `chosen` needs to get there, or as many without `chosen` having the better claim of
/// starting a TCP segment (`segment_starts`: senders begin segments at frame boundaries far
/// more often than not, a header inside a segment is usually payload), the bytes before that
/// boundary are ambiguous and decoding starts at the boundary: both readings agree from there
/// on. Costs a true first message now and then (a payload holding a rival header of exactly
/// the right length), never a false one.
pub(crate) fn unambiguous_start(
    data: &[u8],
    chosen: usize,
    masked: bool,
    segment_starts: &[usize],
) -> usize {
    let at_segment = |o: usize| segment_starts.contains(&o);
    let ours = walk(data, chosen, masked, usize::MAX);
    let Some(&first_end) = ours.get(1) else {
        return chosen;
    };
    let mut start = chosen;
    for off in (0..first_end).filter(|&o| o != chosen) {
        let theirs = walk(data, off, masked, RIVAL_STEPS);
        for (frames, &pos) in theirs.iter().enumerate().skip(1) {
            if pos == chosen {
                break;
            }
            if pos > chosen
                && let Ok(ours_frames) = ours.binary_search(&pos)
            {
                let ours_better = at_segment(chosen) && !at_segment(off);
                if frames > ours_frames || (frames == ours_frames && !ours_better) {
                    start = start.max(pos);
                }
                break;
            }
        }
    }
    start
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe_any(data: &[u8], starts: &[usize]) -> Option<Probe> {
        probe(data, starts, None)
    }

    #[test]
    fn mask_filter() {
        let data = [0x81, 0x00, 0x81, 0x00];
        assert_eq!(probe(&data, &[], Some(true)), None);
        assert_eq!(probe(&data, &[], Some(false)).map(|p| p.chain), Some(2));
    }

    const HELLO_MASKED: [u8; 11] = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];

    #[test]
    fn single_frame_ending_exactly() {
        // At a segment start one frame ending exactly with the data is enough...
        let p = probe_any(&HELLO_MASKED, &[0]).unwrap();
        assert_eq!(
            p,
            Probe {
                offset: 0,
                masked: true,
                chain: 1
            }
        );
        // ...anywhere else it is not.
        assert_eq!(probe_any(&HELLO_MASKED, &[]), None);
        assert_eq!(probe_first(&HELLO_MASKED).map(|p| p.chain), Some(1));
    }

    #[test]
    fn first_byte_accepts_two_headers_running_past_the_end() {
        // An unmasked "Hello", then a 200-byte binary frame of which 3 bytes arrived.
        let mut data = vec![0x81, 0x05];
        data.extend_from_slice(b"Hello");
        data.extend_from_slice(&[0x82, 0x7e, 0x00, 0xc8, 1, 2, 3]);
        assert_eq!(
            probe_first(&data),
            Some(Probe {
                offset: 0,
                masked: false,
                chain: 2
            })
        );
        // As a segment start among others that needs a third header.
        assert_eq!(probe_any(&data, &[0]), None);
    }

    /// Noise shaped like masked payload: 64 KiB of pseudo-random bytes in 1448-byte segments
    /// must not yield a boundary (a chain of two plausible headers turns up every few hundred
    /// offsets of noise, which is why scanning needs more).
    #[test]
    fn random_payload_yields_no_boundary() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let data: Vec<u8> = (0..65_536)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        let starts: Vec<usize> = (0..data.len()).step_by(1448).collect();
        assert_eq!(probe(&data, &starts, Some(true)), None);
        assert_eq!(probe(&data, &starts, Some(false)), None);
    }

    #[test]
    fn single_frame_cut_short_is_not_enough() {
        assert_eq!(probe_any(&HELLO_MASKED[..10], &[]), None);
    }

    #[test]
    fn finds_boundary_after_payload_garbage() {
        // Tail of a lost frame's payload, then two unmasked frames ending with the data.
        let mut data = vec![0xff, 0xfe, 0x13, 0x77];
        data.extend_from_slice(&[0x81, 0x05]);
        data.extend_from_slice(b"Hello");
        data.extend_from_slice(&[0x89, 0x00]);
        let p = probe_any(&data, &[]).unwrap();
        assert_eq!(
            p,
            Probe {
                offset: 4,
                masked: false,
                chain: 2
            }
        );
        // Running past the end, two headers are not enough when scanning.
        data.extend_from_slice(&[0x82, 0x7e, 0x01]);
        assert_eq!(probe_any(&data, &[]), None);
    }

    #[test]
    fn segment_starts_are_preferred() {
        // Offset 0 parses too (empty binary, then the pong), but the segment start wins.
        let data = [0x82, 0x00, 0x8a, 0x00, 0x81, 0x01, b'x', 0x89, 0x00];
        assert_eq!(probe_any(&data, &[]).unwrap().offset, 0);
        let p = probe_any(&data, &[4]).unwrap();
        assert_eq!(
            p,
            Probe {
                offset: 4,
                masked: false,
                chain: 2
            }
        );
    }

    #[test]
    fn rejects_noise() {
        assert_eq!(probe_any(&[0u8; 64], &[]), None);
        // reserved opcode, RSV2, nonminimal length, control too long, mixed masking
        assert_eq!(probe_any(&[0x83, 0x00, 0x83, 0x00], &[]), None);
        assert_eq!(probe_any(&[0xa1, 0x00, 0xa1, 0x00], &[]), None);
        assert_eq!(probe_any(&[0x81, 0x7e, 0x00, 0x01, b'x'], &[]), None);
        assert_eq!(probe_any(&[0x00, 0x00, 0x00, 0x00], &[0]), None);
        let mixed = [0x81, 0x00, 0x81, 0x80, 1, 2, 3, 4];
        assert_eq!(probe_any(&mixed, &[0]), None);
        assert_eq!(
            probe_any(&mixed, &[0, 2]).map(|p| (p.offset, p.masked)),
            Some((2, true))
        );
        assert_eq!(probe_any(&[], &[0, 5]), None);
    }

    /// Payload bytes holding a header whose frame ends exactly where a real frame does: the
    /// probe takes the earlier (false) start, and decoding must begin where the two readings
    /// meet.
    #[test]
    fn false_start_that_joins_the_real_frames() {
        // A fake binary header declaring 7 bytes: 3 of garbage, then a real 4-byte frame
        // ("\x81\x02hi") ending where the fake frame ends; real frames follow.
        let mut data = vec![0x82, 0x07, 0xaa, 0xbb, 0xcc];
        data.extend_from_slice(&[0x81, 0x02, b'h', b'i']);
        let real = 5;
        let joined = 9;
        data.extend_from_slice(&[0x81, 0x01, b'x', 0x81, 0x01, b'y']);
        let p = probe(&data, &[0], Some(false)).unwrap();
        assert_eq!(p.offset, 0, "the probe alone takes the false start");
        assert_eq!(unambiguous_start(&data, 0, false, &[]), joined);
        // Chosen at the real frame, the false one is as good a reading of these bytes: the
        // same answer (a true message is lost, no false one listed).
        assert_eq!(unambiguous_start(&data, real, false, &[]), joined);
        // Without the fake header the real start stands.
        let plain = &data[real..];
        assert_eq!(unambiguous_start(plain, 0, false, &[]), 0);
    }

    /// A rival that needs fewer frames than the chosen start to reach the same boundary is
    /// the weaker reading: no ambiguity.
    #[test]
    fn rival_with_fewer_frames_does_not_move_the_start() {
        // Real: three 3-byte frames from 2. Rival at 0: one frame of 11 bytes ending at 11,
        // where the real chain has its third boundary (three frames in).
        let data = [
            0x82, 0x09, 0x81, 0x01, b'a', 0x81, 0x01, b'b', 0x81, 0x01, b'c',
        ];
        assert_eq!(unambiguous_start(&data, 2, false, &[]), 2);
    }

    /// A tie goes to the chosen start when it begins a TCP segment and the rival does not.
    #[test]
    fn segment_start_breaks_a_tie() {
        let mut data = vec![0x82, 0x07, 0xaa, 0xbb, 0xcc];
        data.extend_from_slice(&[0x81, 0x02, b'h', b'i']);
        data.extend_from_slice(&[0x81, 0x01, b'x']);
        // The real frame at 5 begins a segment, the fake at 0 does not: keep 5.
        assert_eq!(unambiguous_start(&data, 5, false, &[5]), 5);
        // Both begin segments: ambiguous.
        assert_eq!(unambiguous_start(&data, 5, false, &[0, 5]), 9);
        // The fake was chosen at a segment start, the real one is not one: a tie, and the
        // chosen start has the better claim; the first message after it must then vouch for it.
        assert_eq!(unambiguous_start(&data, 0, false, &[0]), 0);
    }

    /// One large masked payload of constant content repeats its key every four bytes; when the
    /// key reads as a masked header whose frame ends on a repetition, the payload is an endless
    /// chain of such "frames", all with the same key: not a boundary.
    #[test]
    fn repeated_key_chain_is_not_a_boundary() {
        let key = [0x88u8, 0xc2, 0x11, 0x22];
        let data: Vec<u8> = (0..4000).map(|i| key[i % 4]).collect();
        assert_eq!(probe(&data, &[0, 1448, 2896], Some(true)), None);
        assert_eq!(probe_first(&data), None);
    }
}
