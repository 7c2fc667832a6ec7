//! Frame boundaries found by searching are guesses: nothing decoded from one is listed until
//! the frames that follow confirm it, and payload bytes that look like frames never are.

use super::tests::{cfg, frame, kinds, messages};
use super::*;
use crate::event::AnomalyKind;

fn detail(ev: &[DirEvent], at: usize) -> String {
    match &ev[at] {
        DirEvent::Anomaly(a) => {
            assert_eq!(a.kind, AnomalyKind::IncompleteMessage);
            a.detail.clone()
        }
        other => panic!("{other:?}"),
    }
}

/// A binary payload that starts with frame-like records: its header is lost, the search lands
/// on the records (two short "frames", then one declaring 205 bytes that runs past the
/// segment). Where that length ends, inside a real frame's payload, the next "header" does not
/// fit: nothing decoded from the records is listed, the search goes on and finds the real
/// frames after it.
#[test]
fn payload_that_looks_like_frames_is_not_listed() {
    let mut inner = [
        frame(0x81, b"fake text of a fake frame", None),
        frame(0x81, b"frames", None),
    ]
    .concat();
    inner.extend_from_slice(&[0x81, 0x7e, 0x00, 205]);
    inner.extend_from_slice(&[b'x'; 10]);
    let big = frame(0x82, &inner, None);
    let real: Vec<Vec<u8>> = (0..40)
        .map(|i| frame(0x81, format!("eeeeeee{}", i % 10).as_bytes(), None))
        .collect();
    let mut d = WsDecoder::new(cfg(Sender::Server, None));
    let mut ev = Vec::new();
    d.feed(&frame(0x81, b"before", None), &mut ev);
    // The big frame's header is lost; its payload arrives as a segment of its own.
    d.gap(2, &mut ev);
    d.feed(&big[2..], &mut ev);
    for r in &real {
        d.feed(r, &mut ev);
    }
    d.finish(&mut ev);
    // The 205 bytes end 5 bytes into real frame 19 (10 of them in the payload segment, 19
    // frames of 10 bytes, then 5): the search resumes there and finds frame 20.
    let listed: Vec<Vec<u8>> = messages(&ev).iter().map(|m| m.payload.clone()).collect();
    let mut want = vec![b"before".to_vec()];
    want.extend(real[20..].iter().map(|f| f[2..].to_vec()));
    assert_eq!(listed, want);
    let k = kinds(&ev);
    assert_eq!(k[1], "incomplete_message");
    assert_eq!(
        detail(&ev, 1),
        "decoding resumed at stream offset 10 on a frame boundary found by searching, but the \
         frame header at offset 254 does not fit there (not a header a peer sends): the 3 \
         messages decoded from it are not listed"
    );
    assert_eq!(k[2], "incomplete_message");
    assert_eq!(k.len(), 3 + 20);
}

/// Withheld messages come out in order, before those of the call that confirms them.
#[test]
fn confirmed_guess_releases_in_order() {
    let mut c = cfg(Sender::Client, None);
    c.mid_stream = true;
    let mut d = WsDecoder::new(c);
    let mut ev = Vec::new();
    let msg = |i: u8| format!("message {i}").into_bytes();
    for i in 0..7u8 {
        d.feed(&frame(0x81, &msg(i), Some([i, 1, 2, 3])), &mut ev);
        assert!(ev.is_empty(), "listed before confirmed: {ev:?}");
    }
    d.feed(&frame(0x81, &msg(7), Some([7, 1, 2, 3])), &mut ev);
    d.feed(&frame(0x81, &msg(8), Some([8, 1, 2, 3])), &mut ev);
    let got: Vec<Vec<u8>> = messages(&ev).iter().map(|m| m.payload.clone()).collect();
    assert_eq!(got, (0..9).map(msg).collect::<Vec<_>>());
}

/// At the end of the stream: a short chain that ends exactly with it is confirmed, one whose
/// last frame is cut is not.
#[test]
fn end_of_stream_confirms_only_an_exact_chain() {
    let mut c = cfg(Sender::Server, None);
    c.mid_stream = true;
    let three = [
        frame(0x81, b"the message", None),
        frame(0x81, b"b", None),
        frame(0x81, b"c", None),
    ]
    .concat();
    let mut d = WsDecoder::new(c.clone());
    let mut ev = Vec::new();
    d.feed(&three, &mut ev);
    d.finish(&mut ev);
    assert_eq!(kinds(&ev), ["M:text", "M:text", "M:text"]);
    // The same, and a frame cut short at the end.
    let mut d = WsDecoder::new(c.clone());
    let mut ev = Vec::new();
    d.feed(
        &[three.clone(), frame(0x81, b"cut", None)[..3].to_vec()].concat(),
        &mut ev,
    );
    d.finish(&mut ev);
    assert_eq!(kinds(&ev), ["incomplete_message"]);
    assert_eq!(
        detail(&ev, 0),
        "decoding resumed at stream offset 0 on a frame boundary found by searching, but the \
         stream ended before enough frames confirmed it: the 3 messages decoded from it are \
         not listed"
    );
    // Two frames are too few even when exact.
    let mut d = WsDecoder::new(c);
    let mut ev = Vec::new();
    d.feed(&three[..16], &mut ev);
    d.finish(&mut ev);
    assert_eq!(kinds(&ev), ["incomplete_message"]);
}

/// A loss before the guess is confirmed drops what it decoded; the search starts again.
#[test]
fn loss_before_confirmation_drops_the_guess() {
    let mut c = cfg(Sender::Server, None);
    c.mid_stream = true;
    let mut d = WsDecoder::new(c);
    let mut ev = Vec::new();
    d.feed(
        &[frame(0x81, b"a", None), frame(0x81, b"b", None)].concat(),
        &mut ev,
    );
    d.gap(5, &mut ev);
    for i in 0..3u8 {
        d.feed(
            &frame(0x81, format!("message no {i}").as_bytes(), None),
            &mut ev,
        );
    }
    d.finish(&mut ev);
    assert_eq!(
        kinds(&ev),
        ["incomplete_message", "M:text", "M:text", "M:text"]
    );
    assert!(
        detail(&ev, 0).contains("bytes were lost at offset 6"),
        "{}",
        detail(&ev, 0)
    );
}

/// An unknown number of bytes lost (`gap(0)`, as after a handshake the capture cut): the next
/// bytes are searched for a boundary, not taken for one, and the loss is reported even when
/// nothing had to be skipped.
#[test]
fn unknown_loss_searches_for_a_boundary() {
    let mut d = WsDecoder::new(cfg(Sender::Server, None));
    let mut ev = Vec::new();
    d.gap(0, &mut ev);
    // The tail of something and a frame, then frames in segments of their own.
    let mut seg = b"\x00\xff\x13 tail".to_vec();
    seg.extend(frame(0x81, b"x after the loss", None));
    d.feed(&seg, &mut ev);
    for w in ["y after the loss", "z after the loss", "w after the loss"] {
        d.feed(&frame(0x81, w.as_bytes(), None), &mut ev);
    }
    d.finish(&mut ev);
    // Segment starts are tried first: the frame inside the first segment is skipped with the
    // tail, and decoding resumes where the next segment began.
    assert_eq!(
        kinds(&ev),
        ["incomplete_message", "M:text", "M:text", "M:text"]
    );
    assert_eq!(messages(&ev)[0].payload, b"y after the loss");
    assert_eq!(
        detail(&ev, 0),
        "an unknown number of bytes was lost before stream offset 0 (a handshake cut or lost \
         in the capture): resynchronised at offset 26, 26 received bytes could not be framed and \
         were skipped"
    );
}

/// What waits for confirmation is bounded: a message past `max_message_bytes` of withheld
/// payload is dropped with an anomaly, not kept.
#[test]
fn withheld_messages_are_bounded() {
    let mut c = cfg(Sender::Server, None);
    c.mid_stream = true;
    c.max_message_bytes = 50;
    let mut d = WsDecoder::new(c);
    let mut ev = Vec::new();
    let mut sent = Vec::new();
    for i in 0..10u8 {
        let p = vec![b'a' + i; 20];
        d.feed(&frame(0x82, &p, None), &mut ev);
        sent.push(p);
    }
    d.finish(&mut ev);
    let listed: Vec<Vec<u8>> = messages(&ev).iter().map(|m| m.payload.clone()).collect();
    // Two fit while withheld, the third to the seventh did not, the rest came after.
    assert_eq!(listed, [&sent[..2], &sent[7..]].concat());
    assert_eq!(
        kinds(&ev)
            .iter()
            .filter(|k| *k == "incomplete_message")
            .count(),
        5
    );
}

#[test]
fn unknown_loss_is_reported_when_nothing_is_skipped() {
    let mut d = WsDecoder::new(cfg(Sender::Server, None));
    let mut ev = Vec::new();
    d.gap(0, &mut ev);
    let three: Vec<u8> = ["x after the loss", "y", "z"]
        .iter()
        .flat_map(|w| frame(0x81, w.as_bytes(), None))
        .collect();
    d.feed(&three, &mut ev);
    d.finish(&mut ev);
    assert_eq!(
        kinds(&ev),
        ["incomplete_message", "M:text", "M:text", "M:text"]
    );
    assert!(detail(&ev, 0).contains("resynchronised at offset 0, 0 received bytes"));
}

/// After a loss, payload bytes hold a header whose frame ends exactly where a real frame does
/// (so every later header would confirm it). When both begin TCP segments the bytes before
/// that boundary have two equally good readings and nothing from them is listed: decoding
/// starts where the readings meet. When only the false one begins a segment, it is taken, and
/// its own content (not text) keeps it from being listed.
#[test]
fn false_start_joining_the_real_frames_is_not_listed() {
    for split in [true, false] {
        let mut d = WsDecoder::new(cfg(Sender::Server, None));
        let mut ev = Vec::new();
        d.feed(&frame(0x81, b"before", None), &mut ev);
        d.gap(20, &mut ev);
        // The tail of a lost frame: a fake 7-byte binary "frame" covering the real "hi".
        let fake = [0x82, 0x07, 0xaa, 0xbb, 0xcc];
        let mut real = frame(0x81, b"hi", None);
        for w in ["first one", "two", "three"] {
            real.extend(frame(0x81, w.as_bytes(), None));
        }
        if split {
            d.feed(&fake, &mut ev);
            d.feed(&real, &mut ev);
        } else {
            d.feed(&[&fake[..], &real].concat(), &mut ev);
        }
        d.finish(&mut ev);
        let listed: Vec<&[u8]> = messages(&ev).iter().map(|m| &m.payload[..]).collect();
        assert_eq!(listed, [&b"before"[..], b"first one", b"two", b"three"]);
        let want = if split {
            "framing lost at stream offset 8: resynchronised at offset 37, 9 received bytes \
             could not be framed and were skipped"
        } else {
            "binary message at stream offset 28 is the first after a frame boundary found by \
             searching, and cannot confirm that boundary (its content is fewer than 8 bytes, or \
             not UTF-8 text without control characters): not listed"
        };
        assert_eq!(detail(&ev, 1), want, "split {split}");
    }
}

/// The first message after a found boundary is listed only when its content vouches for the
/// boundary: an empty or binary one does not; text, or a ping carrying text, does.
#[test]
fn first_message_after_a_found_boundary_must_vouch_for_it() {
    for (first, listed) in [
        (frame(0x81, b"", None), false),
        (
            frame(0x82, b"\x80\x81\x82\x83\x84\x85\x86\x87\x88", None),
            false,
        ),
        (frame(0x81, b"short", None), false),
        (frame(0x89, b"keepalive 9", None), true),
        (frame(0x82, b"binary but text", None), true),
        (frame(0x88, b"\x03\xe8", None), true),
        (frame(0x88, b"\x03\xe7", None), false),
    ] {
        let mut d = WsDecoder::new(cfg(Sender::Server, None));
        let mut ev = Vec::new();
        d.gap(0, &mut ev);
        let mut seg = first.clone();
        for w in ["second message", "third"] {
            seg.extend(frame(0x81, w.as_bytes(), None));
        }
        d.feed(&seg, &mut ev);
        d.finish(&mut ev);
        let got: Vec<Vec<u8>> = messages(&ev).iter().map(|m| m.payload.clone()).collect();
        let mut want = if listed {
            vec![first[2..].to_vec()]
        } else {
            vec![]
        };
        // When the first does not vouch, the next one is asked (and does).
        want.extend([b"second message".to_vec(), b"third".to_vec()]);
        assert_eq!(got, want, "{first:02x?}");
        if !listed {
            assert!(
                detail(&ev, 1).contains("is the first after a frame boundary found by searching"),
                "{}",
                detail(&ev, 1)
            );
        }
    }
}

/// Picked up mid-stream (from the other direction's frames), this direction starts with an
/// HTTP response whose body holds frames: nothing of it is decoded.
#[test]
fn mid_stream_direction_starting_with_http_is_not_decoded() {
    let mut c = cfg(Sender::Server, None);
    c.mid_stream = true;
    let mut d = WsDecoder::new(c);
    let mut ev = Vec::new();
    let mut bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 56\r\n\r\n".to_vec();
    for _ in 0..8 {
        bytes.extend(frame(0x81, b"hello", None));
    }
    d.feed(&bytes, &mut ev);
    d.feed(&frame(0x81, b"after the body", None), &mut ev);
    d.finish(&mut ev);
    assert_eq!(kinds(&ev), ["incomplete_message"]);
    assert_eq!(
        detail(&ev, 0),
        "this direction, picked up without its handshake, starts with an HTTP message \
         (\"HTTP/1.1 200 OK\"), not with frames: nothing in it is decoded"
    );
}

/// A large masked frame of zeros repeats its key every four bytes; when the key itself reads
/// as a masked close header whose frame ends on the next repetition, the payload is an endless
/// chain of "frames" that all fit, all with the same key. They are no evidence: nothing from
/// them is listed.
#[test]
fn repeated_masking_key_is_no_evidence() {
    let key = [0x88, 0xc2, 0x11, 0x22];
    let big = frame(0x82, &[0u8; 4000], Some(key));
    let mut c = cfg(Sender::Client, None);
    c.mid_stream = true;
    let mut d = WsDecoder::new(c);
    let mut ev = Vec::new();
    // Picked up inside the payload, at a repetition of the key.
    d.feed(&big[8 + 400..], &mut ev);
    d.finish(&mut ev);
    assert!(messages(&ev).is_empty(), "{ev:?}");
}

/// Text read with a wrong masking key: a masked ASCII payload unmasked with another
/// ASCII-range key stays ASCII (valid UTF-8) but is full of control characters, so it does not
/// vouch for the boundary it was read from (found by the differential test).
#[test]
fn text_with_control_characters_does_not_vouch_for_a_found_boundary() {
    for (payload, listed) in [
        (&b"\rR\x07\x19\x1a\x06\x13\x19\x16R\x02\x1e"[..], false),
        (&b"plain text\r\n\twith tab"[..], true),
    ] {
        let mut c = cfg(Sender::Server, None);
        c.mid_stream = true;
        let mut d = WsDecoder::new(c);
        let mut ev = Vec::new();
        let mut wire = frame(0x81, payload, None);
        for w in [
            "one", "two", "three", "four", "five", "six", "seven", "eight",
        ] {
            wire.extend(frame(0x81, w.as_bytes(), None));
        }
        d.feed(&wire, &mut ev);
        d.finish(&mut ev);
        let first = messages(&ev).first().map(|m| m.payload.clone());
        assert_eq!(
            first.as_deref() == Some(payload),
            listed,
            "{payload:?}: {ev:?}"
        );
    }
}

/// Russian text holds bytes that read as unmasked frame headers: `с` is `D1 81`, and `81 20`
/// (`с` then a space) is a final text frame of 32 bytes. When the header of such a message is
/// lost and the `с ` stands 34 bytes before the message's end, the false frame ends exactly
/// where the real next frame starts, and every header after it fits. Its 32 bytes are a
/// suffix of the real message, valid text: they must not be listed as a message of their own,
/// whether the bytes come in one segment (the boundary is found inside it) or in tiny ones
/// (the false header begins a segment, right after the `D1` of its character: found by the
/// differential test with 4-byte segments).
#[test]
fn a_false_header_in_text_that_lands_on_the_real_boundary_is_not_listed() {
    let mut text = "мир привет вопрос ".repeat(3).into_bytes();
    text.extend_from_slice("вопрос abcdefghijklmnopqrstuvwxyz012345".as_bytes());
    let suffix = b"abcdefghijklmnopqrstuvwxyz012345".to_vec();
    let t = frame(0x81, &text, None);
    let real: Vec<Vec<u8>> = (0..40)
        .map(|i| frame(0x81, format!("real message {i}").as_bytes(), None))
        .collect();
    let hdr = t.len() - text.len();
    let mut rest = t[hdr + 10..].to_vec();
    rest.extend(real.concat());
    for seg in [rest.len(), 4, 1] {
        let mut d = WsDecoder::new(cfg(Sender::Server, None));
        let mut ev = Vec::new();
        d.feed(&frame(0x81, b"before", None), &mut ev);
        d.gap(hdr as u64 + 10, &mut ev);
        for piece in rest.chunks(seg) {
            d.feed(piece, &mut ev);
        }
        d.finish(&mut ev);
        let listed: Vec<Vec<u8>> = messages(&ev).iter().map(|m| m.payload.clone()).collect();
        assert!(
            !listed.contains(&suffix),
            "segments of {seg}: a suffix listed as a message: {:?}",
            kinds(&ev)
        );
        // The false frame is reported in place of a message. Inside one segment the real
        // frames after it begin no segment: the first seven are not listed either (a false
        // chain could run through them), from the eighth frame past the boundary on they are.
        // In 1-byte segments every real frame begins one, after a whole character: all are
        // listed. In 4-byte segments, those that begin one.
        let real_payloads: Vec<Vec<u8>> = real.iter().map(|f| f[2..].to_vec()).collect();
        assert_eq!(listed[0], b"before");
        let rest = &listed[1..];
        let mut it = real_payloads.iter();
        assert!(
            rest.iter().all(|m| it.any(|r| r == m)),
            "segments of {seg}: {listed:?}"
        );
        let from = if seg == 1 { 0 } else { 7 };
        assert!(
            rest.ends_with(&real_payloads[from..]),
            "segments of {seg}: {:?}",
            kinds(&ev)
        );
    }
}

/// A loss that ends inside a character: the gap takes the `D1` of `т` (`D1 82`), and the next
/// segment begins `82 20`, a final binary frame of 32 bytes that ends exactly where the real
/// next frame begins. Nothing before it is known, so its text cannot vouch for it. Found by
/// the differential run (Russian text in 34-byte segments, a 1-byte gap).
#[test]
fn a_loss_ending_inside_a_character_can_start_a_false_frame() {
    let mut text = "мир привет ".repeat(2).into_bytes();
    text.extend_from_slice("т abcdefghijklmnopqrstuvwxyz012345".as_bytes());
    let t = frame(0x81, &text, None);
    let hdr = t.len() - text.len();
    // Where `т` begins in the frame: the gap ends right after its first byte.
    let cut = hdr + text.len() - 35;
    assert_eq!(&t[cut..cut + 3], &[0xD1, 0x82, 0x20]);
    let real: Vec<Vec<u8>> = (0..10)
        .map(|i| frame(0x81, format!("real message {i}").as_bytes(), None))
        .collect();
    let mut d = WsDecoder::new(cfg(Sender::Server, None));
    let mut ev = Vec::new();
    d.feed(&frame(0x81, b"before", None), &mut ev);
    // The frame's header and text up to the `D1` are lost.
    d.gap((cut + 1) as u64, &mut ev);
    d.feed(&t[cut + 1..], &mut ev);
    for r in &real {
        d.feed(r, &mut ev);
    }
    d.finish(&mut ev);
    let suffix = b"abcdefghijklmnopqrstuvwxyz012345".to_vec();
    let listed: Vec<Vec<u8>> = messages(&ev).iter().map(|m| m.payload.clone()).collect();
    assert!(!listed.contains(&suffix), "{:?}", kinds(&ev));
    // What follows the false frame is listed whole.
    let mut want = vec![b"before".to_vec()];
    want.extend((0..10).map(|i| format!("real message {i}").into_bytes()));
    assert_eq!(listed, want);
}
