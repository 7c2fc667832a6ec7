//! The frame/message decoder of one direction, fed the same stream in random chunk sizes.
//!
//! Input: a config byte (sender, deflate and its parameters, mid-stream pickup), a seed for
//! the chunk sizes, then the stream. Now and then a gap is declared instead of a chunk.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsnoop::event::DirEvent;
use wsnoop::limits::Limits;
use wsnoop::message::{DirConfig, DirDeflate, Sender, WsDecoder};

const MAX_MESSAGE: u64 = 256 << 10;
const MAX_INFLATED: u64 = 256 << 10;

fuzz_target!(|data: &[u8]| {
    let [cfg, seed, stream @ ..] = data else {
        return;
    };
    let sender = if cfg & 1 == 0 {
        Sender::Client
    } else {
        Sender::Server
    };
    let deflate = (cfg & 2 != 0).then_some(DirDeflate {
        no_context_takeover: cfg & 4 != 0,
        max_window_bits: 8 + ((cfg >> 3) & 7),
    });
    let limits = Limits {
        max_message_bytes: MAX_MESSAGE,
        max_inflated_bytes: MAX_INFLATED,
        ..Limits::default()
    };
    let mut config = DirConfig::new(sender, deflate, &limits);
    config.mid_stream = cfg & 0x40 != 0;
    let with_gaps = cfg & 0x80 != 0;
    let mut dec = WsDecoder::new(config);
    let mut out = Vec::new();
    let mut rng = u32::from(*seed) | 0x100;
    let mut rest = stream;
    while !rest.is_empty() {
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        // Mostly small chunks (split headers), sometimes large ones (many frames at once).
        let want = if rng & 7 == 0 {
            (rng >> 8) as usize % 4096
        } else {
            (rng >> 8) as usize % 16
        } + 1;
        let take = want.min(rest.len());
        let (chunk, tail) = rest.split_at(take);
        if with_gaps && rng & 0x1f == 1 {
            dec.gap(take as u64, &mut out);
        } else {
            dec.feed(chunk, &mut out);
        }
        rest = tail;
        check(&mut out);
    }
    dec.finish(&mut out);
    check(&mut out);
});

fn check(out: &mut Vec<DirEvent>) {
    for ev in out.drain(..) {
        if let DirEvent::Message(msg) = ev {
            let cap = if msg.compressed {
                MAX_INFLATED
            } else {
                MAX_MESSAGE
            };
            assert!(msg.payload.len() as u64 <= cap, "message over its limit");
        }
    }
}
