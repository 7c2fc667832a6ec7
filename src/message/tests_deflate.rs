//! permessage-deflate (RFC 7692) tests: context takeover, resets, limits, errors, gaps.

use super::tests::{KEY, cfg, frame, kinds, messages};
use super::*;
use crate::event::Opcode;
use flate2::{Compress, Compression, FlushCompress};

const TAKEOVER: Option<DirDeflate> = Some(DirDeflate {
    no_context_takeover: false,
    max_window_bits: 15,
});
const NO_TAKEOVER: Option<DirDeflate> = Some(DirDeflate {
    no_context_takeover: true,
    max_window_bits: 15,
});

fn compressor() -> Compress {
    Compress::new(Compression::default(), false)
}

/// RFC 7692 §7.2.1: compress, sync-flush, strip the trailing 00 00 ff ff.
fn deflate(c: &mut Compress, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() * 2 + 1024);
    let before = c.total_in();
    c.compress_vec(data, &mut out, FlushCompress::Sync).unwrap();
    assert_eq!(c.total_in() - before, data.len() as u64);
    assert!(out.len() < out.capacity(), "output buffer was too small");
    assert_eq!(out[out.len() - 4..], [0, 0, 0xff, 0xff]);
    out.truncate(out.len() - 4);
    out
}

fn decode(config: DirConfig, wire: &[Vec<u8>]) -> Vec<DirEvent> {
    let mut d = WsDecoder::new(config);
    let mut ev = Vec::new();
    for piece in wire {
        d.feed(piece, &mut ev);
    }
    d.finish(&mut ev);
    ev
}

fn payloads(ev: &[DirEvent]) -> Vec<Vec<u8>> {
    messages(ev).iter().map(|m| m.payload.clone()).collect()
}

#[test]
fn context_takeover_over_several_messages() {
    let mut c = compressor();
    let texts: Vec<Vec<u8>> = (0..5)
        .map(|i| {
            format!("{{\"seq\":{i},\"data\":\"the same words again and again\"}}").into_bytes()
        })
        .collect();
    let wire: Vec<Vec<u8>> = texts
        .iter()
        .map(|t| frame(0xc1, &deflate(&mut c, t), Some(KEY)))
        .collect();
    // Later messages refer back into earlier ones, so they are short on the wire.
    assert!(wire[4].len() < texts[4].len() / 2);
    let ev = decode(cfg(Sender::Client, TAKEOVER), &wire);
    assert_eq!(payloads(&ev), texts);
    let m = messages(&ev)[1];
    assert!(m.compressed && m.utf8_valid);
    assert_eq!(m.wire_len, (wire[1].len() - 6) as u64);
    assert_eq!(m.opcode, Opcode::Text);
}

#[test]
fn no_context_takeover_resets_per_message() {
    let texts = [b"hello hello hello".to_vec(), b"hello hello hello".to_vec()];
    let wire: Vec<Vec<u8>> = texts
        .iter()
        .map(|t| frame(0xc1, &deflate(&mut compressor(), t), None))
        .collect();
    let ev = decode(cfg(Sender::Server, NO_TAKEOVER), &wire);
    assert_eq!(payloads(&ev), texts);
    // The same wire decodes with a kept context too (each message is self-contained).
    let ev = decode(cfg(Sender::Server, TAKEOVER), &wire);
    assert_eq!(payloads(&ev), texts);
}

#[test]
fn empty_compressed_message() {
    let ev = decode(cfg(Sender::Server, TAKEOVER), &[frame(0xc2, &[0x00], None)]);
    assert_eq!(kinds(&ev), ["M:binary"]);
    assert_eq!(messages(&ev)[0].payload, b"");
    assert_eq!(messages(&ev)[0].wire_len, 1);
    // And the context is still fine afterwards.
    let mut c = compressor();
    let wire = vec![
        frame(0xc2, &[0x00], None),
        frame(0xc1, &deflate(&mut c, b"after empty"), None),
    ];
    assert_eq!(
        payloads(&decode(cfg(Sender::Server, TAKEOVER), &wire)),
        [b"".to_vec(), b"after empty".to_vec()]
    );
}

#[test]
fn three_frame_compressed_message() {
    let text = "a compressed message split over three frames, ünïcödé included".repeat(3);
    let z = deflate(&mut compressor(), text.as_bytes());
    let (a, rest) = z.split_at(z.len() / 3);
    let (b, c) = rest.split_at(rest.len() / 2);
    let wire = [
        frame(0x41, a, Some(KEY)),
        frame(0x89, b"ping", Some(KEY)),
        frame(0x00, b, Some([5, 6, 7, 8])),
        frame(0x80, c, Some(KEY)),
    ]
    .concat();
    let ev = decode(cfg(Sender::Client, TAKEOVER), std::slice::from_ref(&wire));
    assert_eq!(kinds(&ev), ["M:ping", "M:text"]);
    let m = messages(&ev)[1];
    assert_eq!(m.payload, text.as_bytes());
    assert_eq!(
        (m.frames, m.compressed, m.wire_len),
        (3, true, z.len() as u64)
    );
    // Byte by byte gives the same.
    let bytes: Vec<Vec<u8>> = wire.iter().map(|&b| vec![b]).collect();
    assert_eq!(decode(cfg(Sender::Client, TAKEOVER), &bytes), ev);
}

#[test]
fn uncompressed_message_on_deflate_connection() {
    let ev = decode(
        cfg(Sender::Server, TAKEOVER),
        &[frame(0x81, b"plain", None)],
    );
    assert_eq!(payloads(&ev), [b"plain".to_vec()]);
    assert!(!messages(&ev)[0].compressed);
}

fn bomb_then_normal(deflate_cfg: Option<DirDeflate>) -> Vec<DirEvent> {
    let mut c = compressor();
    let zeros = vec![0u8; 1 << 20];
    let wire = vec![
        frame(0xc2, &deflate(&mut c, &zeros), None),
        frame(
            0xc1,
            &deflate(&mut c, b"normal compressed message after the bomb"),
            None,
        ),
    ];
    let mut config = cfg(Sender::Server, deflate_cfg);
    config.max_inflated_bytes = 64 << 10;
    decode(config, &wire)
}

#[test]
fn decompression_limit_with_context_takeover() {
    let ev = bomb_then_normal(TAKEOVER);
    assert_eq!(kinds(&ev), ["decompression_limit", "M:text"]);
    assert_eq!(
        payloads(&ev)[0],
        b"normal compressed message after the bomb"
    );
}

#[test]
fn decompression_limit_without_context_takeover() {
    let mut c = compressor();
    let zeros = vec![0u8; 1 << 20];
    let wire = vec![
        frame(0xc2, &deflate(&mut c, &zeros), None),
        frame(0xc1, &deflate(&mut compressor(), b"fresh"), None),
    ];
    let mut config = cfg(Sender::Server, NO_TAKEOVER);
    config.max_inflated_bytes = 64 << 10;
    let ev = decode(config, &wire);
    assert_eq!(kinds(&ev), ["decompression_limit", "M:text"]);
    assert_eq!(payloads(&ev)[0], b"fresh");
}

#[test]
fn limit_exactly_reached_is_fine() {
    let z = deflate(&mut compressor(), &[7u8; 1000]);
    let mut config = cfg(Sender::Server, TAKEOVER);
    config.max_inflated_bytes = 1000;
    assert_eq!(
        kinds(&decode(config.clone(), &[frame(0xc2, &z, None)])),
        ["M:binary"]
    );
    config.max_inflated_bytes = 999;
    assert_eq!(
        kinds(&decode(config, &[frame(0xc2, &z, None)])),
        ["decompression_limit"]
    );
}

#[test]
fn too_large_compressed_message_keeps_the_window() {
    let mut c = compressor();
    let first = b"a long message that will be skipped for its size ".repeat(4);
    let wire = vec![
        frame(0xc1, &deflate(&mut c, &first), None),
        frame(0xc1, &deflate(&mut c, &first[..60]), None),
    ];
    let mut config = cfg(Sender::Server, TAKEOVER);
    config.max_message_bytes = wire[0].len() as u64 - 3;
    let ev = decode(config, &wire);
    assert_eq!(kinds(&ev), ["message_too_large", "M:text"]);
    assert_eq!(payloads(&ev)[0], &first[..60]);
}

fn corrupt() -> Vec<u8> {
    // BTYPE=11 is reserved: any inflater rejects it.
    vec![0x07, 0x00, 0x11, 0x22]
}

#[test]
fn deflate_error_without_takeover_recovers() {
    let wire = vec![
        frame(0xc1, &corrupt(), Some(KEY)),
        frame(
            0xc1,
            &deflate(&mut compressor(), b"next is independent"),
            Some(KEY),
        ),
        frame(0x81, b"uncompressed", Some(KEY)),
    ];
    let ev = decode(cfg(Sender::Client, NO_TAKEOVER), &wire);
    assert_eq!(kinds(&ev), ["deflate_error", "M:text", "M:text"]);
    assert_eq!(payloads(&ev)[0], b"next is independent");
}

#[test]
fn deflate_error_with_takeover_loses_the_context() {
    let mut c = compressor();
    let base = b"shared words shared words shared words".to_vec();
    let wire = vec![
        frame(0xc1, &corrupt(), None),
        frame(0xc1, &deflate(&mut c, &base), None),
        frame(0xc1, &deflate(&mut c, &base), None),
        frame(0x81, b"plain", None),
    ];
    // After the error the inflater starts afresh. The sender's compressor never saw the corrupt
    // message, so the 2nd message is self-contained and the 3rd refers only to the 2nd: both
    // decode, and a successful inflate from a fresh window is always right.
    let ev = decode(cfg(Sender::Server, TAKEOVER), &wire);
    assert_eq!(kinds(&ev), ["deflate_error", "M:text", "M:text", "M:text"]);
    assert_eq!(payloads(&ev)[..2], [base.clone(), base]);
}

#[test]
fn every_message_copying_lost_history_is_reported_and_never_listed() {
    let mut c = compressor();
    let base = b"words that the next messages refer back to, again and again".to_vec();
    let first = frame(0xc1, &deflate(&mut c, &base), None);
    let later: Vec<Vec<u8>> = (0..3)
        .map(|_| frame(0xc1, &deflate(&mut c, &base), None))
        .collect();
    let mut d = WsDecoder::new(cfg(Sender::Server, TAKEOVER));
    let mut ev = Vec::new();
    d.feed(&first[..first.len() - 5], &mut ev);
    d.gap(5, &mut ev);
    for w in &later {
        d.feed(w, &mut ev);
    }
    d.feed(&frame(0x81, b"plain", None), &mut ev);
    d.finish(&mut ev);
    assert_eq!(
        kinds(&ev),
        [
            "incomplete_message",
            "deflate_context_lost",
            "deflate_context_lost",
            "deflate_context_lost",
            "M:text"
        ]
    );
    assert_eq!(payloads(&ev), [b"plain".to_vec()]);
}

#[test]
fn rsv1_without_negotiation_is_not_inflated() {
    let wire = [
        frame(0xc1, b"plain text", None),
        frame(0x81, b"after", None),
    ]
    .concat();
    let ev = decode(cfg(Sender::Server, None), &[wire]);
    assert_eq!(kinds(&ev), ["rsv_without_extension", "M:text"]);
}

#[test]
fn mid_stream_tries_a_fresh_inflater() {
    let mut c = compressor();
    let text = b"self-contained first message".to_vec();
    let wire = [
        frame(0xc1, &deflate(&mut c, &text), None),
        frame(0xc1, &deflate(&mut c, &text), None),
    ];
    let mut config = cfg(Sender::Server, None);
    config.mid_stream = true;
    let ping = frame(0x89, b"", None);
    let ev = decode(config.clone(), &[wire.concat(), ping.clone()]);
    assert_eq!(payloads(&ev), [text.clone(), text.clone(), Vec::new()]);
    // Picked up at the second message, which refers back to the first: context lost.
    let ev = decode(
        config,
        &[wire[1].clone(), frame(0x81, b"plain text", None), ping],
    );
    assert_eq!(kinds(&ev), ["deflate_context_lost", "M:text", "M:ping"]);
}

#[test]
fn final_block_then_context_takeover() {
    // A sender that ends a message with BFINAL (RFC 7692 §7.2.3.3), then starts a new stream.
    let mut c = compressor();
    let mut z = Vec::with_capacity(256);
    c.compress_vec(b"finished stream", &mut z, FlushCompress::Finish)
        .unwrap();
    let mut c2 = compressor();
    let wire = vec![
        frame(0xc1, &z, None),
        frame(0xc1, &deflate(&mut c2, b"second"), None),
    ];
    let ev = decode(cfg(Sender::Server, TAKEOVER), &wire);
    assert_eq!(
        payloads(&ev),
        [b"finished stream".to_vec(), b"second".to_vec()]
    );
}
