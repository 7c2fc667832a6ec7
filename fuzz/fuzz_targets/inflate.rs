//! The permessage-deflate path: arbitrary bytes as the compressed payloads of RSV1 messages
//! (RFC 7692 §6), framed correctly so every input reaches the inflater.
//!
//! Input: a config byte (no_context_takeover, window bits, fragmenting, text or binary), then
//! messages separated by the 4-byte marker `0xF0 0x0D 0xBE 0xEF`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsnoop::event::DirEvent;
use wsnoop::limits::Limits;
use wsnoop::message::{DirConfig, DirDeflate, Sender, WsDecoder};

const MAX_INFLATED: u64 = 1 << 20;
const MARKER: &[u8] = &[0xF0, 0x0D, 0xBE, 0xEF];

fuzz_target!(|data: &[u8]| {
    let [cfg, body @ ..] = data else {
        return;
    };
    let deflate = DirDeflate {
        no_context_takeover: cfg & 1 != 0,
        max_window_bits: 8 + ((cfg >> 1) & 7),
    };
    let fragment = cfg & 0x10 != 0;
    let opcode = if cfg & 0x20 != 0 { 0x1 } else { 0x2 };
    let limits = Limits {
        max_inflated_bytes: MAX_INFLATED,
        ..Limits::default()
    };
    let config = DirConfig::new(Sender::Server, Some(deflate), &limits);
    let mut dec = WsDecoder::new(config);
    let mut out = Vec::new();
    let mut wire = Vec::new();
    for payload in split(body) {
        wire.clear();
        if fragment && payload.len() >= 2 {
            let (a, b) = payload.split_at(payload.len() / 2);
            frame(&mut wire, false, 0x40 | opcode, a);
            frame(&mut wire, true, 0, b);
        } else {
            frame(&mut wire, true, 0x40 | opcode, payload);
        }
        dec.feed(&wire, &mut out);
        for ev in out.drain(..) {
            if let DirEvent::Message(msg) = ev {
                assert!(msg.payload.len() as u64 <= MAX_INFLATED);
            }
        }
    }
    dec.finish(&mut out);
});

fn split(mut body: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        if body.is_empty() {
            return None;
        }
        let at = body
            .windows(MARKER.len())
            .position(|w| w == MARKER)
            .unwrap_or(body.len());
        let (msg, rest) = body.split_at(at);
        body = rest.get(MARKER.len()..).unwrap_or_default();
        Some(msg)
    })
}

/// An unmasked server frame (RFC 6455 §5.2) with the minimal length encoding.
fn frame(wire: &mut Vec<u8>, fin: bool, rsv_op: u8, payload: &[u8]) {
    wire.push(if fin { 0x80 } else { 0 } | rsv_op);
    let len = payload.len();
    if len < 126 {
        wire.push(len as u8);
    } else if len <= 0xffff {
        wire.push(126);
        wire.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        wire.push(127);
        wire.extend_from_slice(&(len as u64).to_be_bytes());
    }
    wire.extend_from_slice(payload);
}
