use super::*;

/// An owned copy of a `Chunk`, to record what the stream delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Got {
    Data(Vec<u8>),
    Gap(u64, GapReason),
    Conflict(u64, u64),
    Fin,
    Rst,
}

pub(super) fn own(chunk: Chunk<'_>) -> Got {
    match chunk {
        Chunk::Data { bytes, .. } => Got::Data(bytes.to_vec()),
        Chunk::Gap { len, reason } => Got::Gap(len, reason),
        Chunk::Conflict { offset, len } => Got::Conflict(offset, len),
        Chunk::Fin => Got::Fin,
        Chunk::Rst => Got::Rst,
    }
}

pub(super) const NONE: TcpFlags = TcpFlags {
    syn: false,
    ack: true,
    fin: false,
    rst: false,
};
pub(super) const SYN: TcpFlags = TcpFlags {
    syn: true,
    ack: false,
    fin: false,
    rst: false,
};
pub(super) const FIN: TcpFlags = TcpFlags { fin: true, ..NONE };
const RST: TcpFlags = TcpFlags { rst: true, ..NONE };

use GapReason::{BufferLimit, NeverFilled, Truncated};
use Got::{Conflict, Data, Fin, Gap, Rst};

fn d(bytes: &[u8]) -> Got {
    Data(bytes.to_vec())
}

/// A stream and the number of the last packet given to it (each segment is a new packet).
struct T(HalfStream, u64);

impl T {
    fn new() -> T {
        T(HalfStream::new(1 << 20, 1024), 0)
    }

    fn limited(bytes: usize, segments: usize) -> T {
        T(HalfStream::new(bytes, segments), 0)
    }

    fn seg(&mut self, seq: u32, flags: TcpFlags, payload: &[u8], missing: u32) -> Vec<Got> {
        self.tagged(seq, flags, payload, missing)
            .into_iter()
            .map(|(got, _)| got)
            .collect()
    }

    /// What the segment delivered, data with the packet it is tagged with.
    fn tagged(
        &mut self,
        seq: u32,
        flags: TcpFlags,
        payload: &[u8],
        missing: u32,
    ) -> Vec<(Got, Option<u64>)> {
        self.1 += 1;
        let mut got = Vec::new();
        self.0
            .segment(seq, flags, payload, missing, self.1, &mut |c| {
                let packet = match c {
                    Chunk::Data { packet, .. } => Some(packet),
                    _ => None,
                };
                got.push((own(c), packet));
            });
        got
    }

    fn data(&mut self, seq: u32, payload: &[u8]) -> Vec<Got> {
        self.seg(seq, NONE, payload, 0)
    }

    fn finish(&mut self) -> Vec<Got> {
        let mut got = Vec::new();
        self.0.finish(&mut |c| got.push(own(c)));
        got
    }
}

#[test]
fn in_order_is_delivered_at_once_from_the_callers_slice() {
    let mut hs = HalfStream::new(1 << 20, 1024);
    let payload = b"hello".to_vec();
    let mut same_slice = false;
    hs.segment(1000, NONE, &payload, 0, 1, &mut |c| {
        if let Chunk::Data { bytes, .. } = c {
            same_slice = std::ptr::eq(bytes, payload.as_slice());
        }
    });
    assert!(same_slice);
    let mut t = T(hs, 1);
    assert_eq!(t.data(1005, b" world"), [d(b" world")]);
    assert_eq!(t.0.delivered(), 11);
    assert_eq!(t.0.buffered_bytes(), 0);
    assert!(!t.0.saw_syn());
    assert!(!t.0.is_closed());
}

#[test]
fn syn_fixes_the_start_one_past_the_isn() {
    let mut t = T::new();
    assert_eq!(t.seg(100, SYN, b"", 0), []);
    assert!(t.0.saw_syn());
    assert_eq!(t.0.delivered(), 0);
    assert_eq!(t.data(101, b"abc"), [d(b"abc")]);
    // A retransmitted SYN is old.
    assert_eq!(t.seg(100, SYN, b"", 0), []);
    assert_eq!(t.0.delivered(), 3);
}

#[test]
fn syn_carrying_data() {
    let mut t = T::new();
    assert_eq!(t.seg(100, SYN, b"ab", 0), [d(b"ab")]);
    assert_eq!(t.data(103, b"cd"), [d(b"cd")]);
    assert_eq!(t.0.delivered(), 4);
}

#[test]
fn without_syn_the_first_byte_seen_starts_the_stream() {
    let mut t = T::new();
    assert_eq!(t.data(5000, b"hello"), [d(b"hello")]);
    // Entirely before the start: an old retransmission.
    assert_eq!(t.data(4990, b"old"), []);
    // Partly delivered already: only what is new comes out; the old part is not compared.
    assert_eq!(t.data(4998, b"XXhelloXX"), [d(b"XX")]);
    assert_eq!(t.0.delivered(), 7);
}

#[test]
fn reordered_segments_wait_for_the_hole() {
    let mut t = T::new();
    t.seg(0, SYN, b"", 0);
    assert_eq!(t.data(7, b"ghi"), []);
    assert_eq!(t.data(4, b"def"), []);
    assert_eq!(t.0.buffered_bytes(), 6);
    assert_eq!(t.0.delivered(), 0);
    assert_eq!(t.data(1, b"abc"), [d(b"abc"), d(b"def"), d(b"ghi")]);
    assert_eq!(t.0.buffered_bytes(), 0);
    assert_eq!(t.0.delivered(), 9);
}

/// Held bytes come out tagged with the packet that carried them, not with the one that
/// filled the hole before them; a retransmission of held bytes does not retag them (the first
/// copy wins).
#[test]
fn held_bytes_keep_their_own_packet() {
    let mut t = T::new();
    t.seg(0, SYN, b"", 0); // packet 1
    assert_eq!(t.tagged(7, NONE, b"ghi", 0), []); // 2
    assert_eq!(t.tagged(4, NONE, b"def", 0), []); // 3
    assert_eq!(t.tagged(7, NONE, b"ghi", 0), []); // 4: a copy of packet 2's bytes
    assert_eq!(
        // 5: overlaps packet 3's first byte, which stays packet 3's (the first copy wins)
        t.tagged(1, NONE, b"abcd", 0),
        [
            (d(b"abc"), Some(5)),
            (d(b"def"), Some(3)),
            (d(b"ghi"), Some(2))
        ]
    );
    assert_eq!(t.tagged(10, NONE, b"j", 0), [(d(b"j"), Some(6))]);
    // At the end of input, what follows a hole keeps its packet too.
    assert_eq!(t.tagged(20, NONE, b"x", 0), []); // 7
    let mut got = Vec::new();
    t.0.finish(&mut |c| {
        if let Chunk::Data { bytes, packet } = c {
            got.push((bytes.to_vec(), packet));
        }
    });
    assert_eq!(got, [(b"x".to_vec(), 7)]);
}

#[test]
fn duplicates_are_dropped() {
    let mut t = T::new();
    t.seg(0, SYN, b"", 0);
    assert_eq!(t.data(1, b"abc"), [d(b"abc")]);
    assert_eq!(t.data(1, b"abc"), []);
    assert_eq!(t.data(7, b"ghi"), []);
    assert_eq!(t.data(7, b"ghi"), []);
    assert_eq!(t.0.buffered_bytes(), 3);
    assert_eq!(t.data(4, b"def"), [d(b"def"), d(b"ghi")]);
    assert_eq!(t.0.delivered(), 9);
}

#[test]
fn overlap_with_same_bytes_is_silent() {
    let mut t = T::new();
    t.data(1000, b"a");
    assert_eq!(t.data(1005, b"fghij"), []);
    assert_eq!(t.data(1003, b"defgh"), []);
    assert_eq!(t.0.buffered_bytes(), 7);
    assert_eq!(
        t.data(1001, b"bcdefghijk"),
        [d(b"bc"), d(b"de"), d(b"fghij"), d(b"k")]
    );
}

#[test]
fn overlap_with_different_held_bytes_reports_conflict_first_copy_wins() {
    let mut t = T::new();
    t.data(1000, b"a");
    assert_eq!(t.data(1005, b"fghij"), []);
    // Offsets 3..10 against held 5..10 "fghij": differs at 5 and 7..10.
    assert_eq!(t.data(1003, b"deXgYZW"), [Conflict(5, 1), Conflict(7, 3)]);
    assert_eq!(t.data(1001, b"bc"), [d(b"bc"), d(b"de"), d(b"fghij")]);
}

#[test]
fn in_order_segment_overlapping_held_bytes() {
    let mut t = T::new();
    t.data(1000, b"a");
    t.data(1005, b"fghij");
    t.data(1013, b"no");
    // Offsets 1..15: its own bytes before, between and after the held pieces come from it,
    // the held copies win where they overlap.
    assert_eq!(
        t.data(1001, b"bcdeFGhijklmNO"),
        [
            d(b"bcde"),
            Conflict(5, 2),
            d(b"fghij"),
            d(b"klm"),
            Conflict(13, 2),
            d(b"no"),
        ]
    );
    assert_eq!(t.0.delivered(), 15);
    assert_eq!(t.0.buffered_bytes(), 0);
}

#[test]
fn wraparound_across_2_pow_32() {
    let mut t = T::new();
    t.seg(0xFFFF_FFF0, SYN, b"", 0);
    // Stream offsets 0..15 are seqs 0xFFFFFFF1..=0xFFFFFFFF, 15.. wrap to 0.
    assert_eq!(t.data(0x0000_0004, b"WXYZ"), []);
    assert_eq!(t.data(0xFFFF_FFFD, b"0123456"), []);
    assert_eq!(
        t.data(0xFFFF_FFF1, b"abcdefghijkl"),
        [d(b"abcdefghijkl"), d(b"0123456"), d(b"WXYZ")]
    );
    assert_eq!(t.0.delivered(), 23);
    assert_eq!(t.data(0x0000_0008, b"!"), [d(b"!")]);
    // An old segment from before the wrap is still old.
    assert_eq!(t.data(0xFFFF_FFF5, b"x"), []);
}

#[test]
fn missing_bytes_become_a_truncated_gap_and_the_stream_goes_on() {
    let mut t = T::new();
    t.seg(0, SYN, b"", 0);
    assert_eq!(t.seg(1, NONE, b"abc", 5), [d(b"abc"), Gap(5, Truncated)]);
    assert_eq!(t.data(9, b"next"), [d(b"next")]);
    assert_eq!(t.0.delivered(), 12);
}

#[test]
fn truncated_segment_out_of_order_waits_like_data() {
    let mut t = T::new();
    t.seg(0, SYN, b"", 0);
    assert_eq!(t.seg(4, NONE, b"de", 100), []);
    assert_eq!(t.data(106, b"after"), []);
    assert_eq!(
        t.data(1, b"abc"),
        [d(b"abc"), d(b"de"), Gap(100, Truncated), d(b"after")]
    );
    assert_eq!(t.0.delivered(), 110);
}

#[test]
fn byte_limit_skips_the_hole_then_delivers_what_follows() {
    let mut t = T::limited(10, 100);
    t.data(1000, b"a");
    assert_eq!(t.data(1005, b"0123456"), []);
    assert_eq!(
        t.data(1012, b"789ab"),
        [Gap(4, BufferLimit), d(b"0123456"), d(b"789ab")]
    );
    assert_eq!(t.0.delivered(), 17);
    assert_eq!(t.0.buffered_bytes(), 0);
    // The skipped hole arriving late is old now.
    assert_eq!(t.data(1001, b"bcde"), []);
    assert_eq!(t.data(1017, b"c"), [d(b"c")]);
}

#[test]
fn segment_limit_skips_only_as_many_holes_as_needed() {
    let mut t = T::limited(1000, 2);
    t.data(0, b"a");
    assert_eq!(t.data(3, b"d"), []);
    assert_eq!(t.data(6, b"g"), []);
    assert_eq!(t.data(9, b"j"), [Gap(2, BufferLimit), d(b"d")]);
    assert_eq!(t.0.delivered(), 4);
    assert_eq!(t.0.buffered_bytes(), 2);
    assert_eq!(t.data(4, b"ef"), [d(b"ef"), d(b"g")]);
}

#[test]
fn segment_larger_than_the_limit_is_skipped_to_at_once() {
    let mut t = T::limited(4, 100);
    t.data(0, b"a");
    assert_eq!(t.data(3, b"defgh"), [Gap(2, BufferLimit), d(b"defgh")]);
}

#[test]
fn early_fin_with_a_hole_waits_then_finish_reports_it() {
    let mut t = T::new();
    t.seg(0, SYN, b"", 0);
    assert_eq!(t.data(1, b"abc"), [d(b"abc")]);
    assert_eq!(t.seg(7, FIN, b"ghi", 0), []);
    assert!(!t.0.is_closed());
    assert_eq!(t.finish(), [Gap(3, NeverFilled), d(b"ghi"), Fin]);
    assert!(t.0.is_closed());
    assert_eq!(t.0.delivered(), 9);
    assert_eq!(t.data(4, b"def"), []);
    assert_eq!(t.finish(), []);
}

#[test]
fn early_fin_delivered_once_the_hole_fills() {
    let mut t = T::new();
    t.seg(0, SYN, b"", 0);
    assert_eq!(t.seg(4, FIN, b"def", 0), []);
    // Bytes past the FIN are not part of the stream.
    assert_eq!(t.data(7, b"zzz"), []);
    assert_eq!(t.data(1, b"abc"), [d(b"abc"), d(b"def"), Fin]);
    assert!(t.0.is_closed());
    assert_eq!(t.data(7, b"zzz"), []);
}

#[test]
fn pure_fin_in_order_and_fin_past_the_held_data() {
    let mut t = T::new();
    t.data(10, b"ab");
    assert_eq!(t.seg(12, FIN, b"", 0), [Fin]);
    assert!(t.0.is_closed());

    let mut t = T::new();
    t.data(10, b"ab");
    t.data(14, b"ef");
    assert_eq!(t.seg(20, FIN, b"", 0), []);
    assert_eq!(
        t.finish(),
        [Gap(2, NeverFilled), d(b"ef"), Gap(4, NeverFilled), Fin]
    );
    assert_eq!(t.0.delivered(), 10);
}

#[test]
fn rst_delivers_its_data_flushes_holes_then_resets() {
    let mut t = T::new();
    t.seg(0, SYN, b"", 0);
    t.data(1, b"abc");
    assert_eq!(t.data(7, b"ghi"), []);
    assert_eq!(
        t.seg(4, RST, b"de", 0),
        [d(b"de"), Gap(1, NeverFilled), d(b"ghi"), Rst]
    );
    assert!(t.0.is_closed());
    assert_eq!(t.0.buffered_bytes(), 0);
    assert_eq!(t.data(10, b"more"), []);
    assert_eq!(t.finish(), []);
}

#[test]
fn finish_without_fin_flushes_buffered_data() {
    let mut t = T::new();
    t.data(0, b"a");
    t.data(2, b"c");
    t.data(5, b"f");
    assert_eq!(
        t.finish(),
        [Gap(1, NeverFilled), d(b"c"), Gap(2, NeverFilled), d(b"f")]
    );
    assert!(t.0.is_closed());
    assert_eq!(T::new().finish(), []);
}

#[test]
fn bytes_cut_by_the_snap_length_are_never_compared() {
    let mut t = T::new();
    t.data(0, b"a");
    assert_eq!(t.seg(5, NONE, b"fg", 3), []);
    // Held 5..7 "fg" then 7..10 lost: only offset 5 can differ.
    assert_eq!(t.data(5, b"XgZZZ"), [Conflict(5, 1)]);
    assert_eq!(
        t.data(1, b"bcde"),
        [d(b"bcde"), d(b"fg"), Gap(3, Truncated)]
    );
    assert_eq!(t.0.delivered(), 10);
}

#[test]
fn a_fin_drops_held_bytes_past_it() {
    let mut t = T::new();
    t.data(0, b"a");
    assert_eq!(t.data(10, b"klmnopqrst"), []);
    assert_eq!(t.seg(5, FIN, b"fghijklmno", 0), []);
    assert_eq!(t.0.buffered_bytes(), 10);
    assert_eq!(t.data(16, b"q"), []);
    assert_eq!(
        t.data(1, b"bcde"),
        [d(b"bcde"), d(b"fghij"), d(b"klmno"), Fin]
    );
}

#[test]
fn a_segment_more_than_2_pow_31_ahead_counts_as_old() {
    let mut t = T::new();
    t.data(100, b"a");
    assert_eq!(t.data(100u32.wrapping_add(0x8000_0001), b"far"), []);
    assert_eq!(t.0.buffered_bytes(), 0);
    assert_eq!(t.data(101, b"b"), [d(b"b")]);
}

/// A retransmission of a segment already delivered (so no longer held) is compared with the
/// first copy through its fingerprint: a different copy is a conflict over the segment, an
/// identical one is not.
#[test]
fn retransmission_of_delivered_segment_with_other_bytes() {
    let mut t = T::new();
    assert_eq!(t.seg(999, SYN, b"", 0), []);
    assert_eq!(t.seg(1000, NONE, b"hello", 0), [d(b"hello")]);
    assert_eq!(t.seg(1005, NONE, b"world", 0), [d(b"world")]);
    assert_eq!(t.seg(1000, NONE, b"hello", 0), []);
    assert_eq!(t.seg(1000, NONE, b"jello", 0), [Conflict(0, 5)]);
    assert_eq!(t.seg(1005, NONE, b"w0rld", 0), [Conflict(5, 5)]);
    // Other boundaries are not compared (the first copy is gone).
    assert_eq!(t.seg(1002, NONE, b"XXX", 0), []);
    assert_eq!(t.seg(1010, NONE, b"!", 0), [d(b"!")]);
}

/// A capture out of order may show a bare ACK of this direction, carrying a later position,
/// before the direction's first data: it must not fix the stream's start there.
#[test]
fn bare_ack_does_not_fix_the_start() {
    let mut t = T::new();
    assert_eq!(t.seg(1010, NONE, b"", 0), vec![]);
    assert_eq!(t.seg(1005, NONE, b"fghij", 0), vec![d(b"fghij")]);
    assert_eq!(t.seg(1000, NONE, b"abcde", 0), vec![]);
    assert_eq!(t.seg(1010, NONE, b"klm", 0), vec![d(b"klm")]);
    // Once the start is known, a bare ACK is just an old position.
    assert_eq!(t.seg(1005, NONE, b"", 0), vec![]);
}
