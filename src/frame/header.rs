//! RFC 6455 §5.2 base framing: parsing one frame header from the front of a buffer.

use crate::event::Opcode;

/// A parsed frame header (RFC 6455 §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    pub fin: bool,
    pub rsv1: bool,
    pub rsv2: bool,
    pub rsv3: bool,
    pub opcode: Opcode,
    /// Masking key, when the MASK bit is set (§5.3).
    pub mask: Option<[u8; 4]>,
    pub payload_len: u64,
    /// Bytes taken by the header itself (2..=14).
    pub header_len: usize,
    /// §5.2: "the minimal number of bytes MUST be used to encode the length".
    pub nonminimal: bool,
}

impl FrameHeader {
    /// RSV2 or RSV3: no extension wsnoop knows defines them.
    pub fn rsv23(&self) -> bool {
        self.rsv2 || self.rsv3
    }
}

/// Outcome of trying to parse a header; nothing is consumed either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Parsed {
    Complete(FrameHeader),
    /// The buffer ends inside the header.
    NeedMore,
    /// §5.2: a 64-bit length whose most significant bit is set; framing is lost.
    LengthMsbSet,
}

/// Longest possible header: 2 + 8 (64-bit length) + 4 (mask key).
pub(crate) const MAX_HEADER_LEN: usize = 14;

/// Parse the header at the start of `buf` (RFC 6455 §5.2).
pub(crate) fn parse(buf: &[u8]) -> Parsed {
    let (Some(&b0), Some(&b1)) = (buf.first(), buf.get(1)) else {
        return Parsed::NeedMore;
    };
    let len7 = b1 & 0x7f;
    let masked = b1 & 0x80 != 0;
    let (payload_len, nonminimal, mut at) = match len7 {
        126 => {
            let Some(&[a, b]) = buf.get(2..4).and_then(|s| <&[u8; 2]>::try_from(s).ok()) else {
                return Parsed::NeedMore;
            };
            let len = u16::from_be_bytes([a, b]) as u64;
            (len, len < 126, 4)
        }
        127 => {
            let Some(bytes) = buf.get(2..10).and_then(|s| <[u8; 8]>::try_from(s).ok()) else {
                return Parsed::NeedMore;
            };
            let len = u64::from_be_bytes(bytes);
            if len >> 63 != 0 {
                return Parsed::LengthMsbSet;
            }
            (len, len <= 0xffff, 10)
        }
        short => (short as u64, false, 2),
    };
    let mask = if masked {
        let Some(key) = buf
            .get(at..at + 4)
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
        else {
            return Parsed::NeedMore;
        };
        at += 4;
        Some(key)
    } else {
        None
    };
    Parsed::Complete(FrameHeader {
        fin: b0 & 0x80 != 0,
        rsv1: b0 & 0x40 != 0,
        rsv2: b0 & 0x20 != 0,
        rsv3: b0 & 0x10 != 0,
        opcode: Opcode::from_u8(b0 & 0x0f),
        mask,
        payload_len,
        header_len: at,
        nonminimal,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(buf: &[u8]) -> FrameHeader {
        match parse(buf) {
            Parsed::Complete(h) => h,
            other => panic!("expected a complete header, got {other:?}"),
        }
    }

    #[test]
    fn rfc_single_frame_unmasked_hello() {
        // RFC 6455 §5.7: 0x81 0x05 0x48 0x65 0x6c 0x6c 0x6f
        let h = complete(&[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
        assert!(h.fin && !h.rsv1 && !h.rsv23());
        assert_eq!(h.opcode, Opcode::Text);
        assert_eq!(h.mask, None);
        assert_eq!(h.payload_len, 5);
        assert_eq!(h.header_len, 2);
        assert!(!h.nonminimal);
    }

    #[test]
    fn rfc_masked_hello() {
        let h = complete(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f]);
        assert_eq!(h.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
        assert_eq!(h.payload_len, 5);
        assert_eq!(h.header_len, 6);
    }

    #[test]
    fn rfc_fragments_and_control() {
        let first = complete(&[0x01, 0x03, 0x48, 0x65, 0x6c]);
        assert!(!first.fin);
        assert_eq!(first.opcode, Opcode::Text);
        let last = complete(&[0x80, 0x02, 0x6c, 0x6f]);
        assert!(last.fin);
        assert_eq!(last.opcode, Opcode::Continuation);
        assert_eq!(complete(&[0x89, 0x05]).opcode, Opcode::Ping);
        let pong = complete(&[0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d]);
        assert_eq!(pong.opcode, Opcode::Pong);
        assert_eq!(pong.header_len, 6);
    }

    #[test]
    fn rfc_extended_lengths() {
        let h = complete(&[0x82, 0x7e, 0x01, 0x00]);
        assert_eq!(
            (h.opcode, h.payload_len, h.header_len),
            (Opcode::Binary, 256, 4)
        );
        assert!(!h.nonminimal);
        let h = complete(&[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!((h.payload_len, h.header_len), (65536, 10));
        assert!(!h.nonminimal);
    }

    #[test]
    fn need_more_at_every_cut() {
        let full = [0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4];
        for cut in 0..full.len() {
            assert_eq!(parse(&full[..cut]), Parsed::NeedMore, "cut {cut}");
        }
        let h = complete(&full);
        assert_eq!((h.payload_len, h.header_len), (65536, 14));
        assert_eq!(h.mask, Some([1, 2, 3, 4]));
    }

    #[test]
    fn nonminimal_and_msb() {
        assert!(complete(&[0x81, 0x7e, 0x00, 0x05]).nonminimal);
        assert!(complete(&[0x81, 0x7e, 0x00, 0x7d]).nonminimal);
        assert!(!complete(&[0x81, 0x7e, 0x00, 0x7e]).nonminimal);
        assert!(complete(&[0x81, 0x7f, 0, 0, 0, 0, 0, 0, 0xff, 0xff]).nonminimal);
        assert!(!complete(&[0x81, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]).nonminimal);
        assert_eq!(
            parse(&[0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0x10]),
            Parsed::LengthMsbSet
        );
    }

    #[test]
    fn rsv_and_reserved_opcode() {
        let h = complete(&[0xf3, 0x00]);
        assert!(h.rsv1 && h.rsv2 && h.rsv3 && h.rsv23());
        assert_eq!(h.opcode, Opcode::Reserved(3));
    }
}
