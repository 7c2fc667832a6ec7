//! `Limits::list_truncated`: messages the capture cut off are listed with the bytes captured
//! before the cut, marked truncated, or (the default) only reported.

use super::tests::{KEY, frame, kinds};
use super::*;
use crate::event::{AnomalyKind, Message, Opcode};

fn config(sender: Sender, list: bool) -> DirConfig {
    DirConfig::new(
        sender,
        None,
        &Limits {
            list_truncated: list,
            ..Limits::default()
        },
    )
}

fn truncated(opcode: Opcode, payload: &[u8], frames: u32, wire_len: u64) -> Message {
    Message {
        opcode,
        payload: payload.to_vec(),
        frames,
        compressed: false,
        wire_len,
        utf8_valid: opcode == Opcode::Text && std::str::from_utf8(payload).is_ok(),
        frame_detail: Vec::new(),
        truncated: true,
        packets: None,
    }
}

/// The messages (frame detail left out) and the `incomplete_message` details.
fn split(events: Vec<DirEvent>) -> (Vec<Message>, Vec<String>) {
    let mut msgs = Vec::new();
    let mut details = Vec::new();
    for e in events {
        match e {
            DirEvent::Message(mut m) => {
                m.frame_detail.clear();
                msgs.push(m);
            }
            DirEvent::Anomaly(a) if a.kind == AnomalyKind::IncompleteMessage => {
                details.push(a.detail)
            }
            DirEvent::Anomaly(_) => {}
        }
    }
    (msgs, details)
}

fn feed(config: DirConfig, parts: &[&[u8]], gap_after_first: Option<u64>) -> Vec<DirEvent> {
    let mut d = WsDecoder::new(config);
    let mut out = Vec::new();
    for (n, part) in parts.iter().enumerate() {
        d.feed(part, &mut out);
        if n == 0
            && let Some(len) = gap_after_first
        {
            d.gap(len, &mut out);
        }
    }
    d.finish(&mut out);
    out
}

#[test]
fn a_frame_cut_by_the_end_of_the_capture() {
    let f = frame(0x81, b"hello world", Some(KEY));
    let cut = &f[..f.len() - 3];
    let (msgs, details) = split(feed(config(Sender::Client, true), &[cut], None));
    assert_eq!(msgs, [truncated(Opcode::Text, b"hello wo", 1, 11)]);
    assert_eq!(
        details,
        [
            "text frame at stream offset 0 received 8 of 11 payload bytes: listed truncated (the \
          bytes captured before the cut)"
        ]
    );
    let (msgs, details) = split(feed(config(Sender::Client, false), &[cut], None));
    assert_eq!(msgs, []);
    assert_eq!(
        details,
        ["text frame at stream offset 0 received 8 of 11 payload bytes: not listed"]
    );
}

#[test]
fn a_fragmented_message_whose_end_was_never_captured() {
    let first = frame(0x02, b"part one ", None);
    let second = frame(0x00, b"part two", None);
    let bytes = [first, second].concat();
    let (msgs, details) = split(feed(config(Sender::Server, true), &[&bytes], None));
    assert_eq!(
        msgs,
        [truncated(Opcode::Binary, b"part one part two", 2, 17)]
    );
    assert_eq!(
        details,
        [
            "stream ended at offset 21: the binary message from offset 0 (2 frames, 17 bytes) \
          never ended: listed truncated (the bytes captured before the cut)"
        ]
    );
}

#[test]
fn a_hole_in_a_frame_cuts_its_message_there_and_decoding_goes_on() {
    let big = frame(0x82, &[5; 1000], Some(KEY));
    let next = frame(0x81, b"next", Some(KEY));
    let events = feed(
        config(Sender::Client, true),
        &[&big[..100], &big[600..], &next],
        Some(500),
    );
    assert_eq!(kinds(&events), ["M:binary", "incomplete_message", "M:text"]);
    let (msgs, details) = split(events);
    // 100 bytes of the frame: 8 of its header (2 + 2 for the length + 4 for the key).
    assert_eq!(msgs[0], truncated(Opcode::Binary, &[5; 92], 1, 1000));
    assert_eq!(
        (msgs[1].payload.as_slice(), msgs[1].truncated),
        (&b"next"[..], false)
    );
    assert_eq!(
        details,
        [
            "binary frame at stream offset 0 (1000 payload bytes): 500 bytes lost in a gap at \
          offset 100: the binary message from offset 0 was listed truncated (the bytes \
          captured before the cut)"
        ]
    );
}

#[test]
fn a_text_cut_inside_a_character_keeps_its_bytes_and_is_not_valid_utf8() {
    let f = frame(0x81, "caf\u{e9}!".as_bytes(), None);
    let cut = &f[..f.len() - 2];
    let (msgs, _) = split(feed(config(Sender::Server, true), &[cut], None));
    assert_eq!(msgs, [truncated(Opcode::Text, b"caf\xc3", 1, 6)]);
    assert!(!msgs[0].utf8_valid);
}

#[test]
fn nothing_captured_of_it_lists_nothing() {
    let f = frame(0x81, b"hello", None);
    let (msgs, details) = split(feed(config(Sender::Server, true), &[&f[..2]], None));
    assert_eq!(msgs, []);
    assert_eq!(
        details,
        ["text frame at stream offset 0 received 0 of 5 payload bytes: not listed"]
    );
}

/// A compressed message cut after its first fragment: what inflates from the bytes captured,
/// marked compressed and truncated.
#[test]
fn a_compressed_message_lists_what_its_captured_bytes_inflate_to() {
    use flate2::{Compress, Compression, FlushCompress};
    let mut c = Compress::new(Compression::default(), false);
    let mut first = Vec::with_capacity(1024);
    c.compress_vec(b"the first part, ", &mut first, FlushCompress::Sync)
        .unwrap();
    let mut second = Vec::with_capacity(1024);
    c.compress_vec(b"and the second", &mut second, FlushCompress::Sync)
        .unwrap();
    second.truncate(second.len() - 4);
    let a = frame(0x41, &first, None);
    let b = frame(0x80, &second, None);
    let bytes = [a, b.clone()].concat();
    let cut = &bytes[..bytes.len() - b.len() + 3];
    let deflate = Some(DirDeflate {
        no_context_takeover: false,
        max_window_bits: 15,
    });
    let mut config = config(Sender::Server, true);
    config.deflate = deflate;
    let (msgs, details) = split(feed(config, &[cut], None));
    let wire = (first.len() + second.len()) as u64;
    assert_eq!(
        msgs,
        [Message {
            compressed: true,
            ..truncated(Opcode::Text, b"the first part, ", 2, wire)
        }]
    );
    assert_eq!(
        details,
        [
            "continuation frame at stream offset 24 received 1 of 16 payload bytes; the text \
          message from offset 0 (2 frames, 38 bytes) never ended: listed truncated (the bytes \
          captured before the cut)"
        ]
    );
}
