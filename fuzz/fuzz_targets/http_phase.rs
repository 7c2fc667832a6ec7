//! The HTTP phase: both sides' bytes interleaved in chunks, with gaps.
//!
//! Input: records `[op, len, bytes...]`: `op & 1` is the side, `op & 0x80` a gap instead of
//! data; `len` bytes follow (fewer at the end). Checks that a decision, once made, stays.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsnoop::handshake::{HttpPhase, HttpStatus};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Decided {
    Pending,
    Upgraded,
    NotWs,
}

fuzz_target!(|data: &[u8]| {
    let mut phase = HttpPhase::new(4096);
    let mut decided = Decided::Pending;
    let mut rest = data;
    while let [op, len, tail @ ..] = rest {
        let side = usize::from(op & 1);
        let take = usize::from(*len).min(tail.len());
        let (chunk, tail) = tail.split_at(take);
        rest = tail;
        let status = if op & 0x80 != 0 {
            phase.gap(side)
        } else {
            phase.feed(side, chunk)
        };
        let now = match status {
            HttpStatus::Pending => Decided::Pending,
            HttpStatus::Upgraded(up) => {
                assert!(up.client_side <= 1);
                if decided == Decided::Upgraded {
                    assert!(up.rest.iter().all(Vec::is_empty), "rest handed over twice");
                }
                Decided::Upgraded
            }
            HttpStatus::NotWebSocket { .. } => Decided::NotWs,
        };
        if decided != Decided::Pending {
            assert_eq!(now, decided, "decision changed");
        }
        decided = now;
    }
    // Sides other than 0 and 1 are ignored, never a panic.
    let _ = phase.feed(2, b"GET / HTTP/1.1\r\n\r\n");
});
