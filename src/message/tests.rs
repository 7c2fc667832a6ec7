//! Decoder tests: RFC 6455 §5.7 examples, every violation, chunking, gaps, tungstenite.

use super::*;
use crate::event::{AnomalyKind as K, Message, Opcode, Packets};
use proptest::prelude::*;

pub(super) const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// Encode one frame with minimal length encoding (RFC 6455 §5.2).
pub(super) fn frame(b0: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut v = vec![b0];
    let m = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => v.push(m | n as u8),
        n if n <= 0xffff => {
            v.push(m | 126);
            v.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            v.push(m | 127);
            v.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(k) => {
            v.extend_from_slice(&k);
            v.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
        }
        None => v.extend_from_slice(payload),
    }
    v
}

pub(super) fn cfg(sender: Sender, deflate: Option<DirDeflate>) -> DirConfig {
    DirConfig::new(sender, deflate, &Limits::default())
}

pub(super) fn run(config: DirConfig, bytes: &[u8]) -> Vec<DirEvent> {
    let mut d = WsDecoder::new(config);
    let mut out = Vec::new();
    d.feed(bytes, &mut out);
    d.finish(&mut out);
    without_detail(out)
}

/// Frame detail has tests of its own; the others compare the rest.
pub(super) fn without_detail(mut events: Vec<DirEvent>) -> Vec<DirEvent> {
    for e in &mut events {
        if let DirEvent::Message(m) = e {
            m.frame_detail.clear();
        }
    }
    events
}

fn run_split(config: DirConfig, bytes: &[u8], cuts: &[usize]) -> Vec<DirEvent> {
    let mut d = WsDecoder::new(config);
    let mut out = Vec::new();
    let mut at = 0;
    for &c in cuts {
        let c = c.clamp(at, bytes.len());
        d.feed(&bytes[at..c], &mut out);
        at = c;
    }
    d.feed(&bytes[at..], &mut out);
    d.finish(&mut out);
    without_detail(out)
}

pub(super) fn msg(opcode: Opcode, payload: &[u8], frames: u32, wire_len: u64) -> DirEvent {
    DirEvent::Message(Message {
        opcode,
        payload: payload.to_vec(),
        frames,
        compressed: false,
        wire_len,
        utf8_valid: opcode == Opcode::Text || opcode == Opcode::Close,
        frame_detail: Vec::new(),
        packets: None,
        truncated: false,
    })
}

/// The kinds of the anomalies, and the messages, in order ("M" for a message).
pub(super) fn kinds(events: &[DirEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            DirEvent::Message(m) => format!("M:{}", m.opcode.as_str()),
            DirEvent::Anomaly(a) => a.kind.as_str().to_owned(),
        })
        .collect()
}

pub(super) fn messages(events: &[DirEvent]) -> Vec<&Message> {
    events
        .iter()
        .filter_map(|e| match e {
            DirEvent::Message(m) => Some(m),
            DirEvent::Anomaly(_) => None,
        })
        .collect()
}

fn anomaly_detail(events: &[DirEvent], kind: K) -> String {
    events
        .iter()
        .find_map(|e| match e {
            DirEvent::Anomaly(a) if a.kind == kind => Some(a.detail.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no {kind:?} in {events:?}"))
}

// ---- RFC 6455 §5.7 examples ----

#[test]
fn rfc_single_frame_unmasked() {
    let ev = run(
        cfg(Sender::Server, None),
        &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
    );
    assert_eq!(ev, vec![msg(Opcode::Text, b"Hello", 1, 5)]);
}

#[test]
fn rfc_single_frame_masked() {
    let bytes = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    assert_eq!(
        run(cfg(Sender::Client, None), &bytes),
        vec![msg(Opcode::Text, b"Hello", 1, 5)]
    );
}

#[test]
fn rfc_fragmented_unmasked() {
    let bytes = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f];
    assert_eq!(
        run(cfg(Sender::Server, None), &bytes),
        vec![msg(Opcode::Text, b"Hello", 2, 5)]
    );
}

#[test]
fn rfc_ping_and_masked_pong() {
    let ping = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    assert_eq!(
        run(cfg(Sender::Server, None), &ping),
        vec![msg(Opcode::Ping, b"Hello", 1, 5)]
    );
    let pong = [
        0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    assert_eq!(
        run(cfg(Sender::Client, None), &pong),
        vec![msg(Opcode::Pong, b"Hello", 1, 5)]
    );
}

#[test]
fn rfc_256_and_65536_byte_binary() {
    let p256: Vec<u8> = (0..256u32).map(|i| i as u8).collect();
    let mut bytes = vec![0x82, 0x7e, 0x01, 0x00];
    bytes.extend_from_slice(&p256);
    assert_eq!(
        run(cfg(Sender::Server, None), &bytes),
        vec![msg(Opcode::Binary, &p256, 1, 256)]
    );
    let p64k: Vec<u8> = (0..65536u32).map(|i| (i * 7) as u8).collect();
    let mut bytes = vec![0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0];
    bytes.extend_from_slice(&p64k);
    assert_eq!(frame(0x82, &p64k, None), bytes);
    assert_eq!(
        run(cfg(Sender::Server, None), &bytes),
        vec![msg(Opcode::Binary, &p64k, 1, 65536)]
    );
}

// ---- fragments, control frames, UTF-8 ----

#[test]
fn control_between_fragments_comes_first() {
    let mut b = frame(0x01, b"Hel", Some(KEY));
    b.extend(frame(0x89, b"p", Some(KEY)));
    b.extend(frame(0x00, b"", Some(KEY)));
    b.extend(frame(0x80, b"lo", Some(KEY)));
    let ev = run(cfg(Sender::Client, None), &b);
    assert_eq!(
        ev,
        vec![
            msg(Opcode::Ping, b"p", 1, 1),
            msg(Opcode::Text, b"Hello", 3, 5)
        ]
    );
}

#[test]
fn empty_final_fragment() {
    let mut b = frame(0x02, b"abc", None);
    b.extend(frame(0x80, b"", None));
    assert_eq!(
        run(cfg(Sender::Server, None), &b),
        vec![msg(Opcode::Binary, b"abc", 2, 3)]
    );
}

#[test]
fn utf8_split_across_fragments_is_fine() {
    let emoji = "😀".as_bytes();
    let mut b = frame(0x01, &emoji[..2], None);
    b.extend(frame(0x80, &emoji[2..], None));
    assert_eq!(
        run(cfg(Sender::Server, None), &b),
        vec![msg(Opcode::Text, emoji, 2, 4)]
    );
}

#[test]
fn invalid_utf8_is_flagged_and_listed() {
    let ev = run(
        cfg(Sender::Server, None),
        &frame(0x81, b"bad \xc3\x28 utf8", None),
    );
    assert_eq!(kinds(&ev), ["invalid_utf8", "M:text"]);
    let m = messages(&ev)[0];
    assert_eq!(m.payload, b"bad \xc3\x28 utf8");
    assert!(!m.utf8_valid);
    assert!(anomaly_detail(&ev, K::InvalidUtf8).contains("first error at byte 4"));
    // Cut mid-sequence at the end of the final fragment.
    let mut b = frame(0x01, b"euro ", None);
    b.extend(frame(0x80, b"\xe2\x82", None));
    assert_eq!(
        kinds(&run(cfg(Sender::Server, None), &b)),
        ["invalid_utf8", "M:text"]
    );
}

#[test]
fn binary_is_never_checked_as_utf8() {
    let ev = run(
        cfg(Sender::Server, None),
        &frame(0x82, b"bad \xc3\x28", None),
    );
    assert_eq!(kinds(&ev), ["M:binary"]);
    assert!(!messages(&ev)[0].utf8_valid);
}

// ---- close frames ----

#[test]
fn close_payloads() {
    let ok = run(
        cfg(Sender::Server, None),
        &frame(0x88, b"\x03\xe8bye", None),
    );
    assert_eq!(ok, vec![msg(Opcode::Close, b"\x03\xe8bye", 1, 5)]);
    assert_eq!(messages(&ok)[0].close_code(), Some(1000));
    let empty = run(cfg(Sender::Server, None), &frame(0x88, b"", None));
    assert_eq!(empty, vec![msg(Opcode::Close, b"", 1, 0)]);
    let one = run(cfg(Sender::Server, None), &frame(0x88, b"\x03", None));
    assert_eq!(kinds(&one), ["invalid_close_payload", "M:close"]);
    let bad_reason = run(
        cfg(Sender::Server, None),
        &frame(0x88, b"\x03\xe8\xff", None),
    );
    assert_eq!(kinds(&bad_reason), ["invalid_utf8", "M:close"]);
    assert!(!messages(&bad_reason)[0].utf8_valid);
    let long = [b"\x03\xe8".as_slice(), &[b'r'; 124]].concat();
    assert_eq!(
        kinds(&run(cfg(Sender::Server, None), &frame(0x88, &long, None))),
        ["control_too_long", "M:close"]
    );
}

#[test]
fn close_codes() {
    for code in [
        1000u16, 1001, 1002, 1003, 1007, 1010, 1014, 3000, 4000, 4999,
    ] {
        let ev = run(
            cfg(Sender::Server, None),
            &frame(0x88, &code.to_be_bytes(), None),
        );
        assert_eq!(kinds(&ev), ["M:close"], "{code}");
    }
    for code in [
        0u16, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535,
    ] {
        let ev = run(
            cfg(Sender::Server, None),
            &frame(0x88, &code.to_be_bytes(), None),
        );
        assert_eq!(kinds(&ev), ["invalid_close_code", "M:close"], "{code}");
        assert_eq!(messages(&ev)[0].close_code(), Some(code));
    }
}

#[test]
fn data_after_close() {
    let mut b = frame(0x88, b"\x03\xe8", None);
    b.extend(frame(0x81, b"late", None));
    let mut d = WsDecoder::new(cfg(Sender::Server, None));
    let mut ev = Vec::new();
    d.feed(&b, &mut ev);
    assert!(d.close_seen());
    assert_eq!(kinds(&ev), ["M:close", "data_after_close", "M:text"]);
    assert_eq!(messages(&ev)[1].payload, b"late");
}

// ---- violations ----

#[test]
fn unmasked_client_and_masked_server_frames_are_listed() {
    let ev = run(cfg(Sender::Client, None), &frame(0x81, b"plain", None));
    assert_eq!(kinds(&ev), ["unmasked_client_frame", "M:text"]);
    assert_eq!(messages(&ev)[0].payload, b"plain");
    let ev = run(
        cfg(Sender::Server, None),
        &frame(0x81, b"hidden", Some(KEY)),
    );
    assert_eq!(kinds(&ev), ["masked_server_frame", "M:text"]);
    assert_eq!(messages(&ev)[0].payload, b"hidden");
}

#[test]
fn reserved_opcodes_are_skipped() {
    let mut b = frame(0x83, &[9; 24], Some(KEY));
    b.extend(frame(0x8b, &[7; 7], Some(KEY)));
    b.extend(frame(0x81, b"after", Some(KEY)));
    let ev = run(cfg(Sender::Client, None), &b);
    assert_eq!(kinds(&ev), ["reserved_opcode", "reserved_opcode", "M:text"]);
    let d = anomaly_detail(&ev, K::ReservedOpcode);
    assert_eq!(
        d,
        "reserved-opcode 0x3 frame at stream offset 0 (24 payload bytes): meaning undefined \
         (§5.2), skipped 24 bytes"
    );
}

#[test]
fn rsv_bits_without_extension() {
    let after = frame(0x81, b"after", None);
    for b0 in [0xc1u8, 0xa1, 0x91] {
        let b = [frame(b0, b"plain text", None), after.clone()].concat();
        let ev = run(cfg(Sender::Server, None), &b);
        assert_eq!(kinds(&ev), ["rsv_without_extension", "M:text"], "{b0:#x}");
    }
    // RSV1 on a control frame, even with deflate negotiated.
    let dfl = Some(DirDeflate {
        no_context_takeover: false,
        max_window_bits: 15,
    });
    let b = [frame(0xc9, b"p", None), after.clone()].concat();
    assert_eq!(
        kinds(&run(cfg(Sender::Server, dfl), &b)),
        ["rsv_without_extension", "M:text"]
    );
    // RSV1 on a continuation: frame skipped, its message dropped, later continuations quiet.
    let b = [
        frame(0x01, b"a", None),
        frame(0x40, b"b", None),
        frame(0x80, b"c", None),
        after,
    ]
    .concat();
    assert_eq!(
        kinds(&run(cfg(Sender::Server, dfl), &b)),
        ["rsv_without_extension", "M:text"]
    );
}

#[test]
fn nonminimal_lengths_are_listed() {
    let mut b = vec![0x81, 0x7e, 0x00, 0x05];
    b.extend_from_slice(b"short");
    b.extend([0x89, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0]);
    let ev = run(cfg(Sender::Server, None), &b);
    assert_eq!(
        kinds(&ev),
        ["nonminimal_length", "M:text", "nonminimal_length", "M:ping"]
    );
    assert_eq!(messages(&ev)[0].payload, b"short");
}

#[test]
fn length_msb_set_stops_the_direction() {
    let mut b = frame(0x81, b"before", None);
    b.extend([0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0x10]);
    b.extend([0u8; 16]);
    b.extend(frame(0x81, b"never", None));
    let ev = run(cfg(Sender::Server, None), &b);
    assert_eq!(kinds(&ev), ["M:text", "length_msb_set"]);
    assert!(anomaly_detail(&ev, K::LengthMsbSet).contains("stream offset 8"));
}

#[test]
fn control_too_long_is_listed() {
    let p = [0x5a; 126];
    let ev = run(cfg(Sender::Client, None), &frame(0x89, &p, Some(KEY)));
    assert_eq!(kinds(&ev), ["control_too_long", "M:ping"]);
    assert_eq!(messages(&ev)[0].payload, p);
}

#[test]
fn fragmented_control_is_dropped() {
    let mut b = frame(0x09, b"ping", Some(KEY));
    b.extend(frame(0x81, b"next", Some(KEY)));
    let ev = run(cfg(Sender::Client, None), &b);
    assert_eq!(kinds(&ev), ["fragmented_control", "M:text"]);
    assert_eq!(messages(&ev)[0].payload, b"next");
}

#[test]
fn continuation_without_start_is_skipped() {
    let mut b = frame(0x80, b"orphan", None);
    b.extend(frame(0x81, b"next", None));
    let ev = run(cfg(Sender::Server, None), &b);
    assert_eq!(kinds(&ev), ["continuation_without_start", "M:text"]);
    assert_eq!(
        anomaly_detail(&ev, K::ContinuationWithoutStart),
        "continuation frame at stream offset 0 (6 payload bytes): no fragmented message is in \
         progress (§5.4): skipped 6 bytes"
    );
}

#[test]
fn data_interleaved_drops_the_unfinished_message() {
    let mut b = frame(0x01, b"old", None);
    b.extend(frame(0x02, b"ne", None));
    b.extend(frame(0x80, b"w", None));
    let ev = run(cfg(Sender::Server, None), &b);
    assert_eq!(
        kinds(&ev),
        ["data_interleaved_in_fragmented_message", "M:binary"]
    );
    assert_eq!(messages(&ev)[0].payload, b"new");
    assert_eq!(messages(&ev)[0].frames, 2);
}

#[test]
fn message_too_large_is_skipped_in_sync() {
    let mut c = cfg(Sender::Client, None);
    c.max_message_bytes = 10;
    let mut b = frame(0x82, &[1; 11], Some(KEY));
    b.extend(frame(0x81, b"fits", Some(KEY)));
    // Fragments summing over the limit.
    b.extend(frame(0x02, &[1; 6], Some(KEY)));
    b.extend(frame(0x00, &[1; 6], Some(KEY)));
    b.extend(frame(0x80, &[1; 6], Some(KEY)));
    b.extend(frame(0x81, b"ok", Some(KEY)));
    let ev = run(c, &b);
    assert_eq!(
        kinds(&ev),
        ["message_too_large", "M:text", "message_too_large", "M:text"]
    );
    assert_eq!(messages(&ev)[1].payload, b"ok");
}

#[test]
fn huge_declared_length_allocates_nothing() {
    // 2^40 declared; the limit is far below, so it is skipped by counting.
    let mut b = vec![0x82, 0x7f, 0, 0, 1, 0, 0, 0, 0, 0];
    b.extend([0u8; 100]);
    let ev = run(cfg(Sender::Server, None), &b);
    assert_eq!(kinds(&ev), ["message_too_large"]);
}

#[test]
fn finish_reports_incomplete() {
    let b = frame(0x82, &[3; 10], None);
    let ev = run(cfg(Sender::Server, None), &b[..7]);
    assert_eq!(kinds(&ev), ["incomplete_message"]);
    assert_eq!(
        anomaly_detail(&ev, K::IncompleteMessage),
        "binary frame at stream offset 0 received 5 of 10 payload bytes: not listed"
    );
    let ev = run(cfg(Sender::Server, None), &frame(0x01, b"part", None));
    assert!(anomaly_detail(&ev, K::IncompleteMessage).contains("never ended"));
    assert_eq!(
        kinds(&run(cfg(Sender::Server, None), &[0x82, 0x7e, 0x01])),
        ["incomplete_message"]
    );
    assert!(run(cfg(Sender::Server, None), &[]).is_empty());
}

// ---- gaps and resync ----

#[test]
fn gap_inside_payload_stays_in_sync() {
    let big = frame(0x82, &[5; 1000], Some(KEY));
    let next = frame(0x81, b"next", Some(KEY));
    let mut d = WsDecoder::new(cfg(Sender::Client, None));
    let mut ev = Vec::new();
    d.feed(&big[..100], &mut ev);
    d.gap(500, &mut ev);
    d.feed(&big[600..], &mut ev);
    d.feed(&next, &mut ev);
    d.finish(&mut ev);
    assert_eq!(kinds(&ev), ["incomplete_message", "M:text"]);
    assert_eq!(
        anomaly_detail(&ev, K::IncompleteMessage),
        "binary frame at stream offset 0 (1000 payload bytes): 500 bytes lost in a gap at \
         offset 100: the binary message from offset 0 was dropped"
    );
    assert_eq!(messages(&ev)[0].payload, b"next");
}

#[test]
fn gap_over_a_whole_frame_resyncs_at_next_segment() {
    let a = frame(0x81, b"first", None);
    let lost = frame(0x81, b"lost in the gap", None);
    // 14 bytes: a length byte that does not read as text (`81 0E`), see
    // `a_text_like_header_after_a_loss_cannot_vouch` for one that does.
    let c = frame(0x81, b"third message!", None);
    let mut d = WsDecoder::new(cfg(Sender::Server, None));
    let mut ev = Vec::new();
    d.feed(&a, &mut ev);
    d.gap(lost.len() as u64, &mut ev);
    d.feed(&c, &mut ev);
    d.feed(&frame(0x81, b"fourth", None), &mut ev);
    // Three frames from the boundary found, the last ending with the stream: confirmed.
    d.feed(&frame(0x88, b"\x03\xe8", None), &mut ev);
    d.finish(&mut ev);
    assert_eq!(kinds(&ev), ["M:text", "M:text", "M:text", "M:close"]);
    assert_eq!(messages(&ev)[1].payload, b"third message!");
}

#[test]
fn gap_in_header_resyncs_and_reports_skipped_bytes() {
    let big = frame(0x82, &[0xee; 300], None);
    let mut d = WsDecoder::new(cfg(Sender::Server, None));
    let mut ev = Vec::new();
    d.feed(&big[..1], &mut ev);
    d.gap(3, &mut ev);
    // The rest of the payload and a frame in one segment, then frames in segments of their
    // own.
    let mut seg = big[4..].to_vec();
    seg.extend(frame(0x81, b"x after the gap", None));
    d.feed(&seg, &mut ev);
    d.feed(&frame(0x81, b"y after the gap", None), &mut ev);
    d.feed(&frame(0x81, b"z after the gap", None), &mut ev);
    d.feed(&frame(0x81, b"w after the gap", None), &mut ev);
    d.finish(&mut ev);
    // Segment starts are tried first: the frame inside the first segment is skipped with the
    // payload's tail, and decoding resumes where the next segment began.
    assert_eq!(
        kinds(&ev),
        ["incomplete_message", "M:text", "M:text", "M:text"]
    );
    assert_eq!(messages(&ev)[0].payload, b"y after the gap");
    assert_eq!(
        anomaly_detail(&ev, K::IncompleteMessage),
        "framing lost at stream offset 1: resynchronised at offset 321, 318 received bytes \
         could not be framed and were skipped"
    );
}

#[test]
fn gap_with_fragmented_message_open() {
    let mut d = WsDecoder::new(cfg(Sender::Server, None));
    let mut ev = Vec::new();
    d.feed(&frame(0x01, b"part", None), &mut ev);
    d.gap(10, &mut ev);
    d.feed(&frame(0x80, b"end", None), &mut ev);
    d.feed(&frame(0x81, b"new message", None), &mut ev);
    d.feed(&frame(0x8a, b"", None), &mut ev);
    d.finish(&mut ev);
    // The orphan continuation after resync is expected, not a violation.
    assert_eq!(kinds(&ev), ["incomplete_message", "M:text", "M:pong"]);
    assert_eq!(messages(&ev)[0].payload, b"new message");
}

/// The frame at a found boundary lists nothing (an orphan continuation), so the message
/// after it is the first one a wrong boundary would list: it must vouch for the boundary
/// with its content, and a short one cannot (a header in payload bytes can chain through a
/// frame that lists nothing and land on a real boundary).
#[test]
fn after_an_orphan_continuation_the_next_message_must_vouch_for_the_boundary() {
    let mut d = WsDecoder::new(cfg(Sender::Server, None));
    let mut ev = Vec::new();
    d.feed(&frame(0x01, b"part", None), &mut ev);
    d.gap(10, &mut ev);
    d.feed(&frame(0x80, b"end", None), &mut ev);
    d.feed(&frame(0x89, b"\xff\x00\x81", None), &mut ev);
    d.feed(&frame(0x81, b"new", None), &mut ev);
    d.feed(&frame(0x81, b"a longer one", None), &mut ev);
    d.feed(&frame(0x81, b"end", None), &mut ev);
    d.finish(&mut ev);
    // Neither the ping nor "new" can vouch; the next is asked in turn, vouches, and what
    // follows is listed.
    assert_eq!(
        kinds(&ev),
        [
            "incomplete_message",
            "incomplete_message",
            "incomplete_message",
            "M:text",
            "M:text"
        ]
    );
    assert_eq!(messages(&ev)[0].payload, b"a longer one");
}

#[test]
fn mid_stream_starts_by_resyncing() {
    let mut c = cfg(Sender::Client, None);
    c.mid_stream = true;
    let big = frame(0x82, &[0x44; 2000], Some(KEY));
    let mut d = WsDecoder::new(c);
    let mut ev = Vec::new();
    // Picked up inside the payload, one segment per feed.
    d.feed(&big[500..1500], &mut ev);
    d.feed(&big[1500..], &mut ev);
    // A key of its own per frame, as RFC 6455 §5.3 asks (repeated keys are no evidence for
    // a boundary found by searching).
    d.feed(&frame(0x81, b"message one", Some([1, 2, 3, 4])), &mut ev);
    d.feed(&frame(0x81, b"two", Some([5, 6, 7, 8])), &mut ev);
    d.feed(&frame(0x81, b"three", Some([9, 10, 11, 12])), &mut ev);
    d.finish(&mut ev);
    assert_eq!(
        kinds(&ev),
        ["incomplete_message", "M:text", "M:text", "M:text"]
    );
    assert_eq!(messages(&ev)[0].payload, b"message one");
}

#[test]
fn mid_stream_on_a_boundary_reports_nothing() {
    let mut c = cfg(Sender::Server, None);
    c.mid_stream = true;
    let b = [
        frame(0x81, b"first message!", None),
        frame(0x82, b"b", None),
        frame(0x89, b"c", None),
    ]
    .concat();
    let ev = run(c.clone(), &b);
    assert_eq!(kinds(&ev), ["M:text", "M:binary", "M:ping"]);
    // The same with a 13-byte first message: `81 0D` reads as the end of a character and a
    // carriage return, so its text cannot vouch (`utf8_tail::may_end_a_character`).
    let b = [
        frame(0x81, b"first message", None),
        frame(0x81, b"second message", None),
        frame(0x82, b"b", None),
        frame(0x89, b"c", None),
    ]
    .concat();
    let ev = run(c, &b);
    assert_eq!(
        kinds(&ev),
        ["incomplete_message", "M:text", "M:binary", "M:ping"]
    );
    assert_eq!(messages(&ev)[0].payload, b"second message");
    assert_eq!(
        anomaly_detail(&ev, K::IncompleteMessage),
        "text message at stream offset 0 is the first after a frame boundary found by \
         searching, and cannot confirm that boundary (it follows bytes never seen, and its \
         header reads as the end of a character and then text, so its text proves nothing): \
         not listed"
    );
}

// ---- chunking invariance ----

fn mixed_stream() -> Vec<u8> {
    let p300: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
    [
        frame(0x81, "héllo".as_bytes(), Some(KEY)),
        frame(0x01, b"frag", Some([1, 2, 3, 4])),
        frame(0x89, b"ping", Some(KEY)),
        frame(0x00, b"", Some(KEY)),
        frame(0x80, b"ment", Some([9, 8, 7, 6])),
        frame(0x82, &p300, Some(KEY)),
        frame(0x83, b"reserved", Some(KEY)),
        frame(0x81, b"\xff bad", Some(KEY)),
        frame(0x80, b"orphan", Some(KEY)),
        frame(0x81, b"unmasked", None),
        frame(0x88, b"\x03\xe8bye", Some(KEY)),
        frame(0x81, b"late", Some(KEY)),
    ]
    .concat()
}

#[test]
fn byte_by_byte_equals_whole() {
    let b = mixed_stream();
    let whole = run(cfg(Sender::Client, None), &b);
    let cuts: Vec<usize> = (1..b.len()).collect();
    assert_eq!(run_split(cfg(Sender::Client, None), &b, &cuts), whole);
    assert_eq!(
        kinds(&whole),
        [
            "M:text",
            "M:ping",
            "M:text",
            "M:binary",
            "reserved_opcode",
            "invalid_utf8",
            "M:text",
            "continuation_without_start",
            "unmasked_client_frame",
            "M:text",
            "M:close",
            "data_after_close",
            "M:text"
        ]
    );
}

proptest! {
    #[test]
    fn any_chunking_gives_identical_events(mut cuts in proptest::collection::vec(0usize..600, 0..40)) {
        let b = mixed_stream();
        cuts.sort_unstable();
        let whole = run(cfg(Sender::Client, None), &b);
        prop_assert_eq!(run_split(cfg(Sender::Client, None), &b, &cuts), whole);
    }

    #[test]
    fn noise_never_panics(data in proptest::collection::vec(any::<u8>(), 0..400),
                          cuts in proptest::collection::vec(0usize..400, 0..8),
                          mid in any::<bool>(), gap in 0u64..50) {
        for sender in [Sender::Client, Sender::Server] {
            let mut c = cfg(sender, Some(DirDeflate { no_context_takeover: false, max_window_bits: 15 }));
            c.mid_stream = mid;
            c.max_message_bytes = 200;
            let mut d = WsDecoder::new(c);
            let mut ev = Vec::new();
            let mut at = 0;
            for &cut in &cuts {
                let cut = cut.clamp(at, data.len());
                d.feed(&data[at..cut], &mut ev);
                d.gap(gap, &mut ev);
                at = cut;
            }
            d.feed(&data[at..], &mut ev);
            d.finish(&mut ev);
            for m in messages(&ev) {
                prop_assert!(m.payload.len() <= 200 || m.compressed);
            }
        }
    }
}

// ---- cross-check with tungstenite's frame writer ----

#[test]
fn tungstenite_frames_decode_back() {
    use tungstenite::protocol::frame::coding::{Data, OpCode as TOp};
    use tungstenite::protocol::frame::{Frame, FrameHeader};

    type Case = (TOp, bool, Vec<u8>, Option<[u8; 4]>);
    let cases: Vec<Case> = vec![
        (
            TOp::Data(Data::Text),
            true,
            b"hello tungstenite".to_vec(),
            Some(KEY),
        ),
        (
            TOp::Data(Data::Binary),
            true,
            vec![0xab; 200],
            Some([0, 1, 2, 3]),
        ),
        (
            TOp::Data(Data::Binary),
            true,
            vec![0x11; 70_000],
            Some([9, 9, 9, 9]),
        ),
        (TOp::Data(Data::Text), false, b"frag-".to_vec(), Some(KEY)),
        (TOp::Data(Data::Continue), true, b"ment".to_vec(), Some(KEY)),
    ];
    let mut wire = Vec::new();
    for (opcode, is_final, payload, mask) in &cases {
        let header = FrameHeader {
            is_final: *is_final,
            opcode: *opcode,
            mask: *mask,
            ..FrameHeader::default()
        };
        let f = Frame::from_payload(header, payload.clone().into());
        f.format(&mut wire).expect("format into a Vec");
    }
    let ev = run(cfg(Sender::Client, None), &wire);
    let got: Vec<(Opcode, Vec<u8>)> = messages(&ev)
        .iter()
        .map(|m| (m.opcode, m.payload.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (Opcode::Text, b"hello tungstenite".to_vec()),
            (Opcode::Binary, vec![0xab; 200]),
            (Opcode::Binary, vec![0x11; 70_000]),
            (Opcode::Text, b"frag-ment".to_vec()),
        ]
    );
    assert_eq!(kinds(&ev).len(), 4);
}

/// Throughput check: `cargo test --release --lib message::tests::throughput -- --ignored --nocapture`.
#[test]
#[ignore]
fn throughput() {
    use std::time::Instant;
    let mut buf = vec![0x5au8; 64 << 20];
    let t = Instant::now();
    for i in 0..8 {
        crate::frame::unmask(&mut buf, KEY, i);
    }
    let gbps = (8 * buf.len()) as f64 / t.elapsed().as_secs_f64() / 1e9;
    println!("unmask: {gbps:.1} GB/s");

    for (size, label) in [
        (1 << 20, "1 MiB masked binary"),
        (100, "100-byte masked text"),
    ] {
        let one = frame(0x82, &vec![0x41; size], Some(KEY));
        let stream: Vec<u8> = one.repeat((64 << 20) / one.len());
        let mut d = WsDecoder::new(cfg(Sender::Client, None));
        let mut out = Vec::new();
        let t = Instant::now();
        for chunk in stream.chunks(64 << 10) {
            d.feed(chunk, &mut out);
            out.clear();
        }
        let gbps = stream.len() as f64 / t.elapsed().as_secs_f64() / 1e9;
        println!("decoder, {label}: {gbps:.2} GB/s");
    }
}

/// Decodes one direction's bytes from a file (for checking captures by hand):
/// `WSX=path.bin WSX_SENDER=client|server WSX_DEFLATE=none|takeover|no_takeover cargo test ...`.
#[test]
#[ignore]
fn decode_file() {
    let Ok(path) = std::env::var("WSX") else {
        return;
    };
    let bytes = std::fs::read(path).unwrap();
    let sender = match std::env::var("WSX_SENDER").as_deref() {
        Ok("client") => Sender::Client,
        _ => Sender::Server,
    };
    let deflate = match std::env::var("WSX_DEFLATE").as_deref() {
        Ok("takeover") => Some(DirDeflate {
            no_context_takeover: false,
            max_window_bits: 15,
        }),
        Ok("no_takeover") => Some(DirDeflate {
            no_context_takeover: true,
            max_window_bits: 15,
        }),
        _ => None,
    };
    let t = std::time::Instant::now();
    let ev = run(cfg(sender, deflate), &bytes);
    for e in &ev {
        match e {
            DirEvent::Message(m) => {
                let shown = String::from_utf8_lossy(&m.payload[..m.payload.len().min(60)]);
                let b64 = base64_simd::STANDARD.encode_to_string(&m.payload);
                println!(
                    "MSG {} len={} frames={} {shown:?}",
                    m.opcode.as_str(),
                    m.payload.len(),
                    m.frames
                );
                println!("B64 {} {b64}", m.opcode.as_str());
            }
            DirEvent::Anomaly(a) => println!("ANOMALY {} {}", a.kind.as_str(), a.detail),
        }
    }
    println!("took {:?}", t.elapsed());
}

/// Each message names the packet of its first byte and the latest packet that carried its
/// bytes (`set_packet` before each feed); a control frame between fragments has its own; an
/// anomaly names the packet fed when it was found, none when found at the end.
#[test]
fn messages_and_anomalies_name_their_packets() {
    let mut d = WsDecoder::new(cfg(Sender::Client, None));
    let mut out = Vec::new();
    let first = frame(0x01, b"hel", Some(KEY));
    let ping = frame(0x89, b"p", Some(KEY));
    let last = frame(0x80, b"lo", Some(KEY));
    // Packet 3: the first fragment and half the ping's header.
    d.set_packet(Some(3));
    d.feed(&[&first[..], &ping[..1]].concat(), &mut out);
    // Packet 4: the rest of the ping, and the final fragment's header.
    d.set_packet(Some(4));
    d.feed(&[&ping[1..], &last[..2]].concat(), &mut out);
    // Packet 5: the final fragment's payload; then a frame without a mask.
    d.set_packet(Some(5));
    d.feed(&last[2..], &mut out);
    d.feed(&frame(0x82, b"x", None), &mut out);
    // Packet 6: a frame cut off by the end of the stream.
    d.set_packet(Some(6));
    d.feed(&[0x82, 0x85], &mut out);
    d.set_packet(None);
    d.finish(&mut out);
    let packets = |p: Option<Packets>| p.map(|p| (p.first, p.last));
    let got: Vec<(String, Option<(u64, u64)>)> = out
        .iter()
        .map(|e| match e {
            DirEvent::Message(m) => (format!("M:{}", m.opcode.as_str()), packets(m.packets)),
            DirEvent::Anomaly(a) => (a.kind.as_str().to_owned(), a.packet.map(|p| (p, p))),
        })
        .collect();
    let want: Vec<(String, Option<(u64, u64)>)> = vec![
        ("M:ping".into(), Some((3, 4))),
        ("M:text".into(), Some((3, 5))),
        ("unmasked_client_frame".into(), Some((5, 5))),
        ("M:binary".into(), Some((5, 5))),
        ("incomplete_message".into(), None),
    ];
    assert_eq!(got, want);
}
