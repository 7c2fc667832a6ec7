//! TCP reassembly of one direction: segments in any order, overlapping, duplicated, with
//! FIN/RST/SYN anywhere, snap-length cuts, and sequence numbers across the 2^32 wrap.
//!
//! Input: `[mode, isn x4, limit_bytes, limit_segments]`, then 5-byte segments
//! `[offset_lo, offset_hi, flags, len, missing]`. Every payload byte is a function of its
//! sequence number, so the delivered stream can be checked byte for byte.
//!
//! Invariants: chunks account for every delivered byte (`delivered()`), the out-of-order
//! buffer stays within its limit, nothing follows FIN/RST/finish, data is what was sent, and
//! identical retransmissions never report a conflict.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsnoop::packet::TcpFlags;
use wsnoop::reassembly::{Chunk, HalfStream};

fn byte_at(seq: u32) -> u8 {
    (seq.wrapping_mul(0x9E37_79B1) >> 24) as u8
}

struct Check {
    base: Option<u32>,
    pos: u64,
    ended: bool,
    ok_conflicts: bool,
}

impl Check {
    fn take(&mut self, chunk: Chunk<'_>) {
        if self.ok_conflicts {
            self.relaxed(chunk);
        } else {
            self.strict(chunk);
        }
    }

    /// Accounting only: content may legitimately differ once copies disagree.
    fn relaxed(&mut self, chunk: Chunk<'_>) {
        assert!(!self.ended, "chunk after FIN/RST/finish: {chunk:?}");
        match chunk {
            Chunk::Data { bytes: data, .. } => {
                assert!(!data.is_empty(), "empty Data chunk");
                self.pos += data.len() as u64;
            }
            Chunk::Gap { len, .. } => {
                assert!(len > 0, "empty gap");
                self.pos = self.pos.checked_add(len).expect("gap overflows");
            }
            Chunk::Conflict { offset, len } => {
                assert!(len > 0 && offset.checked_add(len).is_some());
            }
            Chunk::Fin | Chunk::Rst => self.ended = true,
        }
    }

    fn strict(&mut self, chunk: Chunk<'_>) {
        assert!(!self.ended, "chunk after FIN/RST/finish: {chunk:?}");
        match chunk {
            Chunk::Data { bytes: data, .. } => {
                assert!(!data.is_empty(), "empty Data chunk");
                let base = self.base.expect("data before any segment");
                for (i, b) in data.iter().enumerate() {
                    let seq = base.wrapping_add((self.pos + i as u64) as u32);
                    assert_eq!(
                        *b,
                        byte_at(seq),
                        "wrong byte at offset {}",
                        self.pos + i as u64
                    );
                }
                self.pos += data.len() as u64;
            }
            Chunk::Gap { len, .. } => {
                assert!(len > 0, "empty gap");
                self.pos = self.pos.checked_add(len).expect("gap overflows");
            }
            Chunk::Conflict { offset, len } => {
                panic!("conflict among identical copies at {offset}+{len}")
            }
            Chunk::Fin | Chunk::Rst => self.ended = true,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [mode, i0, i1, i2, i3, lb, ls, ops @ ..] = data else {
        return;
    };
    let isn = u32::from_be_bytes([*i0, *i1, *i2, *i3]);
    let max_bytes = (usize::from(*lb) + 1) * 64;
    let max_segments = usize::from(*ls % 64) + 1;
    // Mode bit 0: some payloads differ from the first copy (conflicts are then legitimate).
    let altered = mode & 1 != 0;
    let mut hs = HalfStream::new(max_bytes, max_segments);
    let mut check = Check {
        base: None,
        pos: 0,
        ended: false,
        ok_conflicts: altered,
    };
    let mut payload = Vec::new();
    for op in ops.chunks_exact(5) {
        let &[lo, hi, fl, len, missing] = op else {
            continue;
        };
        let mut offset = u32::from(u16::from_le_bytes([lo, hi]));
        if fl & 0x10 != 0 {
            // Far jumps: across the sequence space, and backwards past the wrap.
            offset = offset
                .wrapping_mul(0x1_0001)
                .wrapping_shl(u32::from(fl >> 5));
        }
        let flags = TcpFlags {
            syn: fl & 1 != 0,
            fin: fl & 2 != 0,
            rst: fl & 4 != 0 && fl & 8 != 0,
            ack: fl & 8 != 0,
        };
        let seq = isn.wrapping_add(offset);
        let data_seq = seq.wrapping_add(u32::from(flags.syn));
        let missing = u32::from(missing) * if fl & 0x80 != 0 { 4099 } else { 1 };
        // A bare ACK does not fix where the stream starts (see `HalfStream::segment`).
        let bare_ack = len == 0 && missing == 0 && !flags.syn && !flags.fin && !flags.rst;
        if check.base.is_none() && !bare_ack {
            check.base = Some(data_seq);
        }
        payload.clear();
        let flip = altered && fl & 0x40 != 0;
        payload.extend(
            (0..u32::from(len)).map(|i| byte_at(data_seq.wrapping_add(i)) ^ u8::from(flip)),
        );
        let was_closed = hs.is_closed();
        hs.segment(seq, flags, &payload, missing, 0, &mut |c| check.take(c));
        if was_closed {
            assert!(hs.is_closed());
        }
        assert_eq!(
            check.pos,
            hs.delivered(),
            "chunks do not add up to delivered()"
        );
        assert!(
            hs.buffered_bytes() <= max_bytes,
            "{} bytes held over the {max_bytes}-byte limit",
            hs.buffered_bytes()
        );
    }
    hs.finish(&mut |c| check.take(c));
    assert_eq!(check.pos, hs.delivered());
    assert_eq!(hs.buffered_bytes(), 0, "bytes held after finish");
    check.ended = true;
    hs.segment(isn, TcpFlags::default(), b"late", 0, 0, &mut |c| check.take(c));
    hs.finish(&mut |c| check.take(c));
});
