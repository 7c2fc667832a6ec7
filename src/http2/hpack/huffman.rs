//! RFC 7541 §5.2 Huffman-coded string literals, decoded four bits at a time by a state machine
//! built at compile time from the code of Appendix B.
//!
//! A state is an inner node of the code tree (the bits read since the last whole symbol); each
//! of the 16 nibbles takes it to another node, emitting at most one symbol on the way (the
//! shortest code is 5 bits long). Decoding is therefore one table look-up per nibble, with no
//! bit buffer and no branch on code length.

use super::huffman_codes::CODES;

/// Symbol 256: end of string, which must never appear inside a string (RFC 7541 §5.2).
const EOS: u16 = 256;
/// A complete prefix code over 257 symbols has 256 inner nodes.
const NODES: usize = 256;
/// Child slot value for "no child yet" while the tree is built.
const NONE: u16 = u16::MAX;
/// Child slot flag: the child is a leaf, the low bits its symbol.
const LEAF: u16 = 0x8000;

/// One transition: the node reached, the symbol emitted (if `EMIT`), and flags.
#[derive(Clone, Copy)]
struct Step {
    next: u8,
    sym: u8,
    flags: u8,
}

const EMIT: u8 = 1;
/// The nibble completed EOS: the string is malformed.
const FAIL: u8 = 2;
/// Ending the string at `next` is valid: no pending bits, or fewer than 8 pending bits that
/// are the most significant bits of EOS (all ones), as RFC 7541 §5.2 requires of padding.
const ACCEPT: u8 = 4;

struct Tree {
    children: [[u16; 2]; NODES],
    depth: [u8; NODES],
    all_ones: [bool; NODES],
}

// Evaluated at compile time only (for `STEPS`): an index out of bounds or a failed assert
// there fails the build, it cannot panic at run time.
#[allow(clippy::indexing_slicing)]
const fn build_tree() -> Tree {
    let mut t = Tree {
        children: [[NONE; 2]; NODES],
        depth: [0; NODES],
        all_ones: [false; NODES],
    };
    t.all_ones[0] = true;
    let mut used = 1usize;
    let mut sym = 0usize;
    while sym < CODES.len() {
        let (code, len) = CODES[sym];
        let mut node = 0usize;
        let mut bit = len;
        while bit > 0 {
            bit -= 1;
            let b = ((code >> bit) & 1) as usize;
            if bit == 0 {
                // A code that ended on an existing node would not be a prefix code.
                assert!(t.children[node][b] == NONE);
                t.children[node][b] = LEAF | sym as u16;
            } else {
                if t.children[node][b] == NONE {
                    assert!(used < NODES);
                    t.children[node][b] = used as u16;
                    t.depth[used] = t.depth[node] + 1;
                    t.all_ones[used] = t.all_ones[node] && b == 1;
                    used += 1;
                }
                let child = t.children[node][b];
                assert!(child & LEAF == 0);
                node = child as usize;
            }
        }
        sym += 1;
    }
    // Every slot filled: the code is complete (Kraft sum 1), so no bit string is undefined.
    assert!(used == NODES);
    let mut n = 0;
    while n < NODES {
        assert!(t.children[n][0] != NONE && t.children[n][1] != NONE);
        n += 1;
    }
    t
}

#[allow(clippy::indexing_slicing)]
const fn build_steps() -> [[Step; 16]; NODES] {
    let tree = build_tree();
    let mut steps = [[Step {
        next: 0,
        sym: 0,
        flags: 0,
    }; 16]; NODES];
    let mut state = 0usize;
    while state < NODES {
        let mut nibble = 0usize;
        while nibble < 16 {
            let mut node = state;
            let mut flags = 0u8;
            let mut sym = 0u8;
            let mut bit = 4;
            while bit > 0 {
                bit -= 1;
                let child = tree.children[node][(nibble >> bit) & 1];
                if child & LEAF != 0 {
                    let s = child & !LEAF;
                    if s == EOS {
                        flags |= FAIL;
                    } else {
                        flags |= EMIT;
                        sym = s as u8;
                    }
                    node = 0;
                } else {
                    node = child as usize;
                }
            }
            if node == 0 || (tree.all_ones[node] && tree.depth[node] <= 7) {
                flags |= ACCEPT;
            }
            steps[state][nibble] = Step {
                next: node as u8,
                sym,
                flags,
            };
            nibble += 1;
        }
        state += 1;
    }
    steps
}

static STEPS: [[Step; 16]; NODES] = build_steps();

/// Why a Huffman string was rejected (RFC 7541 §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HuffmanError {
    /// The EOS symbol appeared in the string.
    Eos,
    /// The string ended with more than 7 bits of padding, or padding that is not the most
    /// significant bits of EOS.
    Padding,
}

/// Decode `src` (a whole Huffman-coded string) onto the end of `out`.
pub fn decode(src: &[u8], out: &mut Vec<u8>) -> Result<(), HuffmanError> {
    // Every symbol takes at least 5 bits.
    out.reserve(src.len() * 8 / 5);
    let mut state = 0u8;
    let mut accept = true;
    for &byte in src {
        for nibble in [byte >> 4, byte & 0x0f] {
            let step = STEPS
                .get(usize::from(state))
                .and_then(|row| row.get(usize::from(nibble)));
            let Some(step) = step else {
                debug_assert!(false, "Huffman state out of the table");
                return Err(HuffmanError::Padding);
            };
            if step.flags & FAIL != 0 {
                return Err(HuffmanError::Eos);
            }
            if step.flags & EMIT != 0 {
                out.push(step.sym);
            }
            state = step.next;
            accept = step.flags & ACCEPT != 0;
        }
    }
    if accept {
        Ok(())
    } else {
        Err(HuffmanError::Padding)
    }
}

/// The reference encoder (for tests): the codes of Appendix B, MSB first, padded with ones.
#[cfg(test)]
pub(crate) fn encode(src: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut acc: u64 = 0;
    let mut bits = 0u32;
    for &b in src {
        let (code, len) = CODES[usize::from(b)];
        acc = (acc << len) | u64::from(code);
        bits += u32::from(len);
        while bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if bits > 0 {
        let pad = 8 - bits;
        out.push(((acc << pad) | ((1 << pad) - 1)) as u8);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_is_complete_prefix_code() {
        // Kraft: the sum of 2^-len over all symbols is exactly 1 (scaled by 2^30).
        let sum: u64 = CODES.iter().map(|&(_, len)| 1u64 << (30 - len)).sum();
        assert_eq!(sum, 1 << 30);
        assert_eq!(CODES[256], (0x3fff_ffff, 30));
    }

    #[test]
    fn every_byte_round_trips() {
        let all: Vec<u8> = (0..=255u8).collect();
        let mut out = Vec::new();
        decode(&encode(&all), &mut out).unwrap();
        assert_eq!(out, all);
        for b in 0..=255u8 {
            let mut out = Vec::new();
            decode(&encode(&[b, b, b]), &mut out).unwrap();
            assert_eq!(out, [b, b, b]);
        }
    }

    #[test]
    fn rfc7541_c4_examples() {
        let mut out = Vec::new();
        decode(
            &[
                0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff,
            ],
            &mut out,
        )
        .unwrap();
        assert_eq!(out, b"www.example.com");
        out.clear();
        decode(&[0xa8, 0xeb, 0x10, 0x64, 0x9c, 0xbf], &mut out).unwrap();
        assert_eq!(out, b"no-cache");
    }

    #[test]
    fn empty_string_is_valid() {
        let mut out = Vec::new();
        decode(&[], &mut out).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn eos_inside_string_is_an_error() {
        // 30 one-bits (EOS) followed by two one-bits of padding.
        let mut out = Vec::new();
        assert_eq!(
            decode(&[0xff, 0xff, 0xff, 0xff], &mut out),
            Err(HuffmanError::Eos)
        );
        // 'a' (00011, 5 bits) then EOS then padding.
        let mut bits: u64 = 0b00011;
        bits = (bits << 30) | 0x3fff_ffff;
        bits = (bits << 5) | 0b11111;
        let bytes = bits.to_be_bytes();
        assert_eq!(
            decode(&bytes[3..], &mut out),
            Err(HuffmanError::Eos),
            "{:x?}",
            &bytes[3..]
        );
    }

    #[test]
    fn padding_over_seven_bits_is_an_error() {
        // '0' is 00000 (5 bits); 0x07 0xff = 00000 111 11111111: 11 bits of ones as padding.
        let mut out = Vec::new();
        assert_eq!(decode(&[0x07, 0xff], &mut out), Err(HuffmanError::Padding));
        // A whole byte of ones alone: 8 bits of padding.
        assert_eq!(decode(&[0xff], &mut out), Err(HuffmanError::Padding));
        // Up to 7 bits of padding is fine: '0' (00000) + '1' (00001) = 10 bits + 6 ones.
        out.clear();
        decode(&[0x00, 0x7f], &mut out).unwrap();
        assert_eq!(out, b"01");
        // 'a' (00011) + 3 ones.
        out.clear();
        decode(&[0b0001_1111], &mut out).unwrap();
        assert_eq!(out, b"a");
    }

    #[test]
    fn padding_not_ones_is_an_error() {
        // 'a' (00011) followed by 000 instead of 111.
        let mut out = Vec::new();
        assert_eq!(decode(&[0b0001_1000], &mut out), Err(HuffmanError::Padding));
        assert_eq!(decode(&[0b0001_1110], &mut out), Err(HuffmanError::Padding));
    }

    #[test]
    fn long_codes_decode() {
        // Bytes with 28- and 30-bit codes, next to short ones.
        let src = [0x00u8, 0x0a, 0x0d, 0x16, b'a', 0xff, 0x7f, b'z'];
        let mut out = Vec::new();
        decode(&encode(&src), &mut out).unwrap();
        assert_eq!(out, src);
    }
}
