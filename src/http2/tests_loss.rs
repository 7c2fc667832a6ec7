//! Lost bytes: inside a frame the decoder stays in step; across frames it finds the next
//! frame header, DATA of known streams goes on, and HPACK references to the lost table come
//! out unresolved.

use super::testutil::*;
use super::*;

const C: usize = 0;

/// Client bytes: preface, SETTINGS, stream 1 opened with a dynamic-table entry, and the
/// offsets of what follows.
struct Script {
    bytes: Vec<u8>,
    enc: Encoder,
}

impl Script {
    fn new() -> Script {
        let mut bytes = PREFACE.to_vec();
        bytes.extend(settings(&[]));
        let mut enc = Encoder::default();
        bytes.extend(enc.headers(
            1,
            &fields(&[
                (":method", "CONNECT"),
                (":protocol", "websocket"),
                (":path", "/a"),
            ]),
            false,
            1000,
        ));
        Script { bytes, enc }
    }

    fn push_headers(&mut self, stream: u32, list: &[(&str, &str)], frag: usize) -> usize {
        let b = self.enc.headers(stream, &fields(list), false, frag);
        self.push(b)
    }

    fn push(&mut self, b: Vec<u8>) -> usize {
        let at = self.bytes.len();
        self.bytes.extend(b);
        at
    }
}

fn feed_with_gap(bytes: &[u8], from: usize, len: usize) -> (H2Conn, Vec<Ev>) {
    let mut conn = H2Conn::new(C, H2Config::default());
    let mut evs = Vec::new();
    conn.feed(C, &bytes[..from], &mut |e| evs.push(own(e)));
    conn.gap(C, len as u64, &mut |e| evs.push(own(e)));
    conn.feed(C, &bytes[from + len..], &mut |e| evs.push(own(e)));
    conn.finish(&mut |e| evs.push(own(e)));
    (conn, evs)
}

#[test]
fn gap_inside_data_stays_in_step() {
    let mut s = Script::new();
    let at = s.push(frame(DATA, 0, 1, b"0123456789"));
    s.push(frame(DATA, END_STREAM, 1, b"next"));
    // Lose bytes 3..7 of the first payload.
    let (conn, evs) = feed_with_gap(&s.bytes, at + 9 + 3, 4);
    assert!(anomalies(&evs).is_empty(), "{evs:?}");
    assert!(evs.contains(&Ev::DataLost {
        side: C,
        stream: 1,
        len: 4
    }));
    assert!(!evs.iter().any(|e| matches!(e, Ev::Lost { .. })));
    let t = transcript(&evs);
    assert_eq!(t[&(C, 1)][1], Item::Data(b"012789next".to_vec()));
    assert!(conn.hpack_certain(C));
}

#[test]
fn gap_ending_a_data_payload_keeps_end_stream() {
    let mut s = Script::new();
    let at = s.push(frame(DATA, END_STREAM, 1, b"0123456789"));
    let (_, evs) = feed_with_gap(&s.bytes, at + 9 + 5, 5);
    assert!(anomalies(&evs).is_empty(), "{evs:?}");
    let t = transcript(&evs);
    assert_eq!(t[&(C, 1)][1..], [Item::Data(b"01234".to_vec()), Item::End]);
}

#[test]
fn gap_in_padding_loses_nothing() {
    let mut s = Script::new();
    let mut p = vec![6u8];
    p.extend(b"abc");
    p.extend([0; 6]);
    let at = s.push(frame(DATA, PADDED, 1, &p));
    s.push(frame(DATA, 0, 1, b"def"));
    let (_, evs) = feed_with_gap(&s.bytes, at + 9 + 5, 3);
    assert!(anomalies(&evs).is_empty(), "{evs:?}");
    assert!(!evs.iter().any(|e| matches!(e, Ev::DataLost { .. })));
    assert_eq!(transcript(&evs)[&(C, 1)][1], Item::Data(b"abcdef".to_vec()));
}

#[test]
fn gap_across_frames_resyncs_and_data_goes_on() {
    let mut s = Script::new();
    let at = s.push(frame(DATA, 0, 1, b"first"));
    // A second stream whose HEADERS are lost, then DATA on both.
    s.push_headers(
        3,
        &[
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":path", "/b"),
        ],
        1000,
    );
    let after = s.push(frame(DATA, 0, 1, b"second"));
    s.push(frame(DATA, 0, 3, b"three"));
    // Stream 5 reuses the dynamic table: its :protocol and :method refer to entries.
    s.push_headers(
        5,
        &[
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":path", "/c"),
        ],
        1000,
    );
    // Lose from inside "first" to 4 bytes into the DATA frame header of "second".
    let from = at + 9 + 2;
    let (conn, evs) = feed_with_gap(&s.bytes, from, after + 4 - from);
    assert!(evs.contains(&Ev::DataLost {
        side: C,
        stream: 1,
        len: 3
    }));
    let lost_beyond = (after + 4 - from - 3) as u64;
    assert!(evs.contains(&Ev::Lost {
        side: C,
        len: lost_beyond
    }));
    // The rest of "second"'s frame (5 bytes of header, 6 of payload) is skipped to reach the
    // DATA of stream 3.
    let a = anomalies(&evs);
    assert_eq!(
        a,
        [(
            "h2_resync",
            "11 bytes of the client skipped to find the next frame header".to_string()
        )]
    );
    let t = transcript(&evs);
    assert_eq!(t[&(C, 1)][1], Item::Data(b"fi".to_vec()));
    // Stream 3's DATA is delivered although its HEADERS were lost.
    assert_eq!(t[&(C, 3)], [Item::Data(b"three".to_vec())]);
    // Stream 5's :method and :protocol refer to entries stream 1's block inserted before the
    // loss: unresolved now; its :path is a new literal.
    let Item::Headers(f5, None) = &t[&(C, 5)][0] else {
        panic!("{:?}", t[&(C, 5)]);
    };
    assert_eq!(f5.len(), 3);
    assert!(f5.iter().any(|f| f.unresolved.is_some()), "{f5:?}");
    for f in f5 {
        if f.unresolved.is_none() {
            assert!(
                [&b":method"[..], b":path"].contains(&f.name.as_slice()),
                "{f:?}"
            );
        }
    }
    assert!(!conn.hpack_certain(C));
    let head = classify(f5);
    assert_eq!(head.path.as_deref(), Some("/c"));
    assert_eq!(head.websocket_request(), WebSocketVerdict::Unknown);
}

#[test]
fn gap_inside_a_header_block() {
    let mut s = Script::new();
    let at = s.push_headers(3, &[("x-long", "a value long enough to cut")], 10);
    s.push(frame(DATA, 0, 1, b"goes on"));
    // Cut inside the first CONTINUATION's payload (HEADERS frame: 9 + 10 bytes).
    let (conn, evs) = feed_with_gap(&s.bytes, at + 19 + 9 + 2, 3);
    let a = anomalies(&evs);
    assert_eq!(a.len(), 1, "{a:?}");
    assert!(
        a[0].1
            .contains("header block of stream 3 from the client was cut by lost bytes"),
        "{a:?}"
    );
    assert!(!evs.iter().any(|e| matches!(e, Ev::Lost { .. })));
    let t = transcript(&evs);
    assert!(!t.contains_key(&(C, 3)));
    assert_eq!(t[&(C, 1)][1], Item::Data(b"goes on".to_vec()));
    assert!(!conn.hpack_certain(C));
}

#[test]
fn gap_inside_the_preface() {
    let s = Script::new();
    let (_, evs) = feed_with_gap(&s.bytes, 5, 10);
    assert!(anomalies(&evs).is_empty(), "{evs:?}");
    assert_eq!(transcript(&evs)[&(C, 1)].len(), 1);
}

#[test]
fn mid_connection_start() {
    // The capture starts inside a DATA payload of the server: the decoder is told of a gap
    // first, finds the next frame header, and delivers DATA of streams it never saw open.
    let mut enc = Encoder::default();
    let mut s = frame(DATA, 0, 1, b"lost start of the payload");
    s.extend(frame(DATA, 0, 1, b"seen"));
    s.extend(enc.headers(1, &fields(&[("grpc-status", "0")]), true, 100));
    let cut = 12;
    let mut conn = H2Conn::new(C, H2Config::default());
    let mut evs = Vec::new();
    conn.gap(1, 1000, &mut |e| evs.push(own(e)));
    conn.feed(1, &s[cut..], &mut |e| evs.push(own(e)));
    conn.finish(&mut |e| evs.push(own(e)));
    let t = transcript(&evs);
    assert_eq!(
        t[&(1, 1)],
        [
            Item::Data(b"seen".to_vec()),
            Item::Headers(fields(&[("grpc-status", "0")]), None),
            Item::End
        ]
    );
    assert_eq!(evs[0], Ev::Lost { side: 1, len: 1000 });
    assert_eq!(
        anomalies(&evs),
        [(
            "h2_resync",
            format!(
                "{} bytes of the server skipped to find the next frame header",
                34 - cut
            )
        )]
    );
}

#[test]
fn truncated_input_is_reported() {
    let mut s = Script::new();
    s.push(frame(DATA, 0, 1, b"0123456789"));
    let mut conn = H2Conn::new(C, H2Config::default());
    let evs = run(&mut conn, &[(C, &s.bytes[..s.bytes.len() - 4])]);
    assert_eq!(
        anomalies(&evs),
        [(
            "h2_truncated",
            "the client's input ended inside a DATA frame of stream 1: 4 bytes of its data are missing".to_string()
        )]
    );
    let mut conn = H2Conn::new(C, H2Config::default());
    let mut bytes = Script::new().bytes;
    bytes.extend(frame(HEADERS, 0, 3, &[0x82]));
    bytes.extend([0, 0]);
    let evs = run(&mut conn, &[(C, &bytes)]);
    assert_eq!(
        anomalies(&evs),
        [
            (
                "h2_truncated",
                "the client's input ended inside a frame header (2 of 9 bytes)".to_string()
            ),
            (
                "h2_truncated",
                "the client's input ended inside the header block of stream 3 (CONTINUATION expected)".to_string()
            )
        ]
    );
}

#[test]
fn garbage_at_the_end_is_reported() {
    let mut s = Script::new();
    let at = s.push(frame(DATA, 0, 1, b"ok"));
    s.push(vec![0xee; 40]);
    let (_, evs) = feed_with_gap(&s.bytes, at, 5);
    let a = anomalies(&evs);
    assert_eq!(a.last().unwrap().0, "h2_resync");
    assert!(a.last().unwrap().1.contains("could not be framed"), "{a:?}");
}
