//! RFC 6455 §5.2 frames as a sender writes them, and RFC 7692 §7.2.1 message compression.

use flate2::{Compress, Compression, FlushCompress, Status};

use super::rng::Rng;

/// Appends one frame to `out`. Client frames (`mask`) get a fresh random key (RFC 6455 §5.3).
pub fn write_frame(
    out: &mut Vec<u8>,
    rng: &mut Rng,
    fin: bool,
    rsv1: bool,
    opcode: u8,
    payload: &[u8],
    mask: bool,
) {
    let b0 = if fin { 0x80 } else { 0 } | if rsv1 { 0x40 } else { 0 } | opcode;
    let mb = if mask { 0x80 } else { 0 };
    let n = payload.len();
    out.push(b0);
    if n < 126 {
        out.push(mb | n as u8);
    } else if n < 65536 {
        out.push(mb | 126);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(mb | 127);
        out.extend_from_slice(&(n as u64).to_be_bytes());
    }
    if !mask {
        out.extend_from_slice(payload);
        return;
    }
    let key = rng.next_u32().to_be_bytes();
    out.extend_from_slice(&key);
    let start = out.len();
    out.extend_from_slice(payload);
    xor_mask(&mut out[start..], key);
}

/// XORs `data` with the repeating key, eight bytes at a time.
pub fn xor_mask(data: &mut [u8], key: [u8; 4]) {
    let k8 = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut chunks = data.chunks_exact_mut(8);
    for c in chunks.by_ref() {
        let v = u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) ^ k8;
        c.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= key[i & 3];
    }
}

/// One direction's permessage-deflate compressor: raw deflate, 15-bit window, context kept
/// across messages (no `*_no_context_takeover` negotiated).
pub struct Deflater {
    comp: Compress,
}

impl Deflater {
    pub fn new(level: u32) -> Deflater {
        Deflater {
            comp: Compress::new(Compression::new(level), false),
        }
    }

    /// RFC 7692 §7.2.1: compress, flush with Z_SYNC_FLUSH, drop the trailing `00 00 ff ff`.
    pub fn compress(&mut self, msg: &[u8], out: &mut Vec<u8>) {
        out.clear();
        let mut consumed = 0usize;
        loop {
            out.reserve((msg.len() - consumed) / 2 + 64);
            let before = self.comp.total_in();
            let status = self
                .comp
                .compress_vec(&msg[consumed..], out, FlushCompress::Sync)
                .unwrap_or(Status::BufError);
            consumed += (self.comp.total_in() - before) as usize;
            // Done once all input is in and the flush did not run out of room.
            if consumed == msg.len() && out.len() < out.capacity() {
                break;
            }
            if status == Status::BufError && out.len() < out.capacity() {
                break;
            }
        }
        if out.ends_with(&[0, 0, 0xff, 0xff]) {
            out.truncate(out.len() - 4);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Decompress, FlushDecompress};

    #[test]
    fn rfc6455_frame_headers() {
        let mut rng = Rng::new(1);
        let mut out = Vec::new();
        // RFC 6455 §5.7: a single-frame unmasked text message "Hello".
        write_frame(&mut out, &mut rng, true, false, 1, b"Hello", false);
        assert_eq!(out, [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
        // 256 bytes binary, unmasked: 16-bit length.
        out.clear();
        write_frame(&mut out, &mut rng, true, false, 2, &[0u8; 256], false);
        assert_eq!(&out[..4], &[0x82, 0x7E, 0x01, 0x00]);
        // 64 KiB: 64-bit length.
        out.clear();
        write_frame(&mut out, &mut rng, true, false, 2, &[0u8; 65536], false);
        assert_eq!(&out[..10], &[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]);
    }

    #[test]
    fn masking_round_trips() {
        // RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d.
        let mut d = *b"Hello";
        xor_mask(&mut d, [0x37, 0xfa, 0x21, 0x3d]);
        assert_eq!(d, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
        let mut rng = Rng::new(3);
        let mut out = Vec::new();
        let msg: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        write_frame(&mut out, &mut rng, false, true, 0, &msg, true);
        assert_eq!(&out[..4], &[0x40, 0xFE, 0x03, 0xE8]);
        let key = [out[4], out[5], out[6], out[7]];
        let mut body = out[8..].to_vec();
        xor_mask(&mut body, key);
        assert_eq!(body, msg);
    }

    #[test]
    fn deflate_with_context_takeover_inflates() {
        let mut d = Deflater::new(6);
        let mut inf = Decompress::new(false);
        let mut wire = Vec::new();
        let mut sizes = Vec::new();
        for msg in [&b"Hello"[..], &b"Hello"[..], &[7u8; 100_000][..]] {
            d.compress(msg, &mut wire);
            sizes.push(wire.len());
            wire.extend_from_slice(&[0, 0, 0xff, 0xff]);
            let mut got = Vec::with_capacity(msg.len() + 16);
            inf.decompress_vec(&wire, &mut got, FlushDecompress::Sync)
                .unwrap();
            assert_eq!(got, msg);
        }
        // The second "Hello" refers back into the shared window: shorter than the first.
        assert_eq!(sizes[0], 7, "literals + empty stored block header bits");
        assert!(sizes[1] < sizes[0], "{sizes:?}");
    }
}
