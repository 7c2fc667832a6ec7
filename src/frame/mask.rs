//! RFC 6455 §5.3 client-to-server masking: XOR with a 4-byte key, done a word at a time.

/// XOR `buf` with `key`, where `buf[0]` is payload byte number `offset` of its frame (so the key
/// is rotated by `offset % 4`; lets a payload be unmasked in pieces as it arrives).
#[inline]
pub(crate) fn unmask(buf: &mut [u8], key: [u8; 4], offset: u64) {
    let rot = (offset % 4) as u32;
    // Byte i of the rotated key is key[(offset + i) % 4]; in little-endian order that is a
    // right rotation of the key word by 8 * rot bits (left on big-endian).
    let k32 = if cfg!(target_endian = "little") {
        u32::from_le_bytes(key).rotate_right(8 * rot)
    } else {
        u32::from_be_bytes(key).rotate_left(8 * rot)
    };
    let k64 = (u64::from(k32) << 32) | u64::from(k32);
    let rotated = k32.to_ne_bytes();
    let mut chunks = buf.chunks_exact_mut(8);
    for chunk in &mut chunks {
        if let Ok(word) = <[u8; 8]>::try_from(&*chunk) {
            chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ k64).to_ne_bytes());
        }
    }
    for (b, k) in chunks
        .into_remainder()
        .iter_mut()
        .zip(rotated.iter().cycle())
    {
        *b ^= k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn byte_loop(buf: &mut [u8], key: [u8; 4], offset: u64) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[((offset + i as u64) % 4) as usize];
        }
    }

    #[test]
    fn rfc_masked_hello() {
        let mut p = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        unmask(&mut p, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(&p, b"Hello");
    }

    #[test]
    fn pieces_carry_the_offset() {
        let mut p = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        let (a, b) = p.split_at_mut(3);
        unmask(a, [0x37, 0xfa, 0x21, 0x3d], 0);
        unmask(b, [0x37, 0xfa, 0x21, 0x3d], 3);
        assert_eq!(&p, b"Hello");
    }

    proptest! {
        #[test]
        fn matches_byte_loop(data in proptest::collection::vec(any::<u8>(), 0..200),
                             key in any::<[u8; 4]>(), offset in any::<u64>()) {
            let mut fast = data.clone();
            let mut slow = data;
            unmask(&mut fast, key, offset);
            byte_loop(&mut slow, key, offset);
            prop_assert_eq!(fast, slow);
        }
    }
}
