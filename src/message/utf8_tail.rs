//! Whether a byte position falls inside a UTF-8 character: for telling a frame header that
//! could be the middle of text from one that follows a frame's end.

/// A UTF-8 continuation byte (`10xxxxxx`).
fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}

/// Whether `buf[at]` continues a character whose lead byte is among the (at most three) bytes
/// before it: the lead byte says how many continuation bytes follow it (RFC 3629 §4), and
/// every one of them up to and including `buf[at]` is one. False at `at == 0` (nothing before
/// is known) and for bytes that are not continuation bytes.
pub(super) fn continues_character(buf: &[u8], at: usize) -> bool {
    if !buf.get(at).is_some_and(|&b| is_continuation(b)) {
        return false;
    }
    for back in 1..=3usize {
        let Some(lead_at) = at.checked_sub(back) else {
            return false;
        };
        let Some(&lead) = buf.get(lead_at) else {
            return false;
        };
        if is_continuation(lead) {
            continue;
        }
        let need = match lead {
            0xC2..=0xDF => 1,
            0xE0..=0xEF => 2,
            0xF0..=0xF4 => 3,
            _ => return false,
        };
        return back <= need
            && buf
                .get(lead_at + 1..=at)
                .is_some_and(|cs| cs.iter().all(|&b| is_continuation(b)));
    }
    false
}

/// Whether `buf[at..]`, with nothing before it known (the first byte after a loss, or of a
/// direction picked up mid-stream), could be the end of a character and then text: a
/// continuation byte then an ASCII text byte. Every unmasked final frame header begins with
/// a continuation byte (0x80-0x8A), and a length of 32-125 (or 9, 10, 13) reads as a
/// printable character: `т ` is `D1 82 20`, so a loss taking the `D1` leaves what reads as a
/// 32-byte binary frame, whose text content then vouches for itself. Found by the
/// differential test.
pub(super) fn may_end_a_character(buf: &[u8], at: usize) -> bool {
    let text = |b: u8| matches!(b, b'\t' | b'\n' | b'\r' | 0x20..=0x7D);
    buf.get(at).is_some_and(|&b| is_continuation(b)) && buf.get(at + 1).is_some_and(|&b| text(b))
}

#[cfg(test)]
mod tests {
    use super::{continues_character, may_end_a_character};

    #[test]
    fn what_follows_a_loss_may_end_a_character() {
        // `т ab`: the `D1` lost, `82 20` reads as a final binary frame of 32 bytes.
        let s = "т ab".as_bytes();
        assert!(may_end_a_character(s, 1));
        // A header with a 16-bit length, or a short one (control bytes), or masked.
        assert!(!may_end_a_character(&[0x81, 0x7E, 0x01, 0x00], 0));
        assert!(!may_end_a_character(&[0x81, 0x05], 0));
        assert!(!may_end_a_character(&[0x81, 0xA0], 0));
        assert!(may_end_a_character(&[0x81, 0x0A], 0));
        // Not a continuation byte.
        assert!(!may_end_a_character(b"ab", 0));
        // Too short to tell.
        assert!(!may_end_a_character(&[0x82], 0));
    }

    #[test]
    fn the_second_byte_of_a_two_byte_character() {
        let s = "вопрос ".as_bytes();
        // `с` is D1 81 at 10..12.
        assert_eq!(&s[10..12], &[0xD1, 0x81]);
        assert!(continues_character(s, 11));
        assert!(!continues_character(s, 10));
        assert!(!continues_character(s, 12));
    }

    #[test]
    fn three_and_four_byte_characters() {
        let s = "a€b😀".as_bytes(); // € E2 82 AC, 😀 F0 9F 98 80
        assert!(continues_character(s, 2));
        assert!(continues_character(s, 3));
        assert!(!continues_character(s, 4));
        assert!(continues_character(s, 6));
        assert!(continues_character(s, 8));
    }

    #[test]
    fn a_frame_end_then_a_header_is_not_inside_a_character() {
        // A complete text payload, then a final text frame header: 0x81 after a whole `с`.
        let mut s = "вопрос".as_bytes().to_vec();
        s.extend_from_slice(&[0x81, 0x05]);
        assert!(!continues_character(&s, 12));
        // Nothing known before: no character to continue.
        assert!(!continues_character(&[0x81, 0x05], 0));
        // An ASCII byte before.
        assert!(!continues_character(b"a\x81", 1));
        // A lead byte whose character is already complete three bytes back.
        assert!(!continues_character(&[0xD0, 0xB2, 0x20, 0x81], 3));
    }
}
