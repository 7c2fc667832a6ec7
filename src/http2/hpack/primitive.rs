//! RFC 7541 §5: integers with an N-bit prefix and string literals.

use super::HpackError;
use super::huffman;

/// Integers above this are refused: RFC 7541 §5.1 lets a decoder limit them, and no index,
/// length or table size of HTTP/2 needs more than 32 bits.
const MAX_INT: u64 = u32::MAX as u64;

/// RFC 7541 §5.1: decode an integer whose first byte keeps its value in the low `prefix` bits.
/// Returns the value and the bytes after it.
pub fn integer(src: &[u8], prefix: u8) -> Result<(u64, &[u8]), HpackError> {
    debug_assert!((1..=8).contains(&prefix));
    let (&first, mut rest) = src.split_first().ok_or(HpackError::Truncated)?;
    let max_prefix = (1u16 << prefix) - 1;
    let mut value = u64::from(u16::from(first) & max_prefix);
    if value < u64::from(max_prefix) {
        return Ok((value, rest));
    }
    let mut shift = 0u32;
    loop {
        let (&b, tail) = rest.split_first().ok_or(HpackError::Truncated)?;
        rest = tail;
        // Zero continuation bytes add nothing but still count: 2^32 needs at most 5 of them,
        // so a longer run is refused before the shift can overflow.
        if shift > 28 {
            return Err(HpackError::IntegerOverflow);
        }
        value += u64::from(b & 0x7f) << shift;
        if value > MAX_INT {
            return Err(HpackError::IntegerOverflow);
        }
        if b & 0x80 == 0 {
            return Ok((value, rest));
        }
        shift += 7;
    }
}

/// RFC 7541 §5.2: a string literal (H bit, 7-bit prefix length, octets), Huffman-decoded
/// when H is set. Appends the string to `out`; returns the bytes after it.
pub fn string<'a>(src: &'a [u8], out: &mut Vec<u8>) -> Result<&'a [u8], HpackError> {
    let huff = src.first().ok_or(HpackError::Truncated)? & 0x80 != 0;
    let (len, rest) = integer(src, 7)?;
    let len = usize::try_from(len).map_err(|_| HpackError::Truncated)?;
    let (raw, rest) = rest.split_at_checked(len).ok_or(HpackError::Truncated)?;
    if huff {
        huffman::decode(raw, out).map_err(|_| HpackError::Huffman)?;
    } else {
        out.extend_from_slice(raw);
    }
    Ok(rest)
}

/// Skip a string literal without decoding it (its length is all that matters).
pub fn skip_string(src: &[u8]) -> Result<&[u8], HpackError> {
    let (len, rest) = integer(src, 7)?;
    let len = usize::try_from(len).map_err(|_| HpackError::Truncated)?;
    rest.get(len..).ok_or(HpackError::Truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7541_c1_integers() {
        // C.1.1: 10 with a 5-bit prefix.
        assert_eq!(integer(&[0b0000_1010], 5).unwrap().0, 10);
        // C.1.2: 1337 with a 5-bit prefix.
        assert_eq!(integer(&[0b0001_1111, 0x9a, 0x0a], 5).unwrap().0, 1337);
        // C.1.3: 42 with an 8-bit prefix.
        assert_eq!(integer(&[42], 8).unwrap().0, 42);
        // The high bits of the first byte are not part of the value.
        assert_eq!(integer(&[0b1110_1010], 5).unwrap().0, 10);
    }

    #[test]
    fn integer_edges() {
        assert_eq!(integer(&[], 5), Err(HpackError::Truncated));
        assert_eq!(integer(&[0x1f], 5), Err(HpackError::Truncated));
        assert_eq!(integer(&[0x1f, 0x80], 5), Err(HpackError::Truncated));
        // The largest accepted value: 31 + (2^32 - 1 - 31).
        let v = MAX_INT - 31;
        let enc = [
            0x1f,
            (v & 0x7f) as u8 | 0x80,
            ((v >> 7) & 0x7f) as u8 | 0x80,
            ((v >> 14) & 0x7f) as u8 | 0x80,
            ((v >> 21) & 0x7f) as u8 | 0x80,
            (v >> 28) as u8,
        ];
        assert_eq!(integer(&enc, 5).unwrap().0, MAX_INT);
        // One more overflows.
        let v = MAX_INT - 30;
        let enc = [
            0x1f,
            (v & 0x7f) as u8 | 0x80,
            ((v >> 7) & 0x7f) as u8 | 0x80,
            ((v >> 14) & 0x7f) as u8 | 0x80,
            ((v >> 21) & 0x7f) as u8 | 0x80,
            (v >> 28) as u8,
        ];
        assert_eq!(integer(&enc, 5), Err(HpackError::IntegerOverflow));
        // Endless continuation bytes, even zero ones, overflow instead of looping or shifting
        // past 64 bits.
        let mut long = vec![0xffu8];
        long.extend(std::iter::repeat_n(0x80, 100));
        assert_eq!(integer(&long, 8), Err(HpackError::IntegerOverflow));
        let mut zeros = vec![0x1fu8];
        zeros.extend(std::iter::repeat_n(0x80, 10));
        zeros.push(0);
        assert_eq!(integer(&zeros, 5), Err(HpackError::IntegerOverflow));
    }

    #[test]
    fn string_lengths() {
        let mut out = Vec::new();
        assert_eq!(
            string(&[0x03, b'a', b'b'], &mut out),
            Err(HpackError::Truncated)
        );
        let rest = string(&[0x02, b'a', b'b', 0x55], &mut out).unwrap();
        assert_eq!(out, b"ab");
        assert_eq!(rest, [0x55]);
        assert_eq!(skip_string(&[0x02, 1, 2, 3]).unwrap(), [3]);
        assert_eq!(
            skip_string(&[0x7f, 0xff, 0xff, 0xff, 0x0f]),
            Err(HpackError::Truncated)
        );
    }
}
