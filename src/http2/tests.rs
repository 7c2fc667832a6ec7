//! Frames and streams without loss: what each frame type yields, cut anywhere.

use super::testutil::*;
use super::*;

const C: usize = 0;
const S: usize = 1;

fn ws_request() -> Vec<HeaderField> {
    fields(&[
        (":method", "CONNECT"),
        (":protocol", "websocket"),
        (":scheme", "http"),
        (":path", "/chat"),
        (":authority", "example.com"),
        ("sec-websocket-version", "13"),
    ])
}

/// A connection: preface and SETTINGS both ways, one extended CONNECT answered 200, DATA both
/// ways, the client ends its side.
fn websocket_conversation() -> (Vec<u8>, Vec<u8>) {
    let mut enc_c = Encoder::default();
    let mut enc_s = Encoder::default();
    let mut c = PREFACE.to_vec();
    c.extend(settings(&[(0x2, 0), (0x4, 65535)]));
    let mut s = settings(&[(0x8, 1), (0x1, 4096), (0x5, 16384)]);
    s.extend(frame(SETTINGS, ACK, 0, &[]));
    c.extend(frame(SETTINGS, ACK, 0, &[]));
    c.extend(enc_c.headers(1, &ws_request(), false, 1000));
    s.extend(enc_s.headers(1, &fields(&[(":status", "200")]), false, 1000));
    c.extend(frame(DATA, 0, 1, b"\x81\x85abcd1234"));
    s.extend(frame(DATA, 0, 1, b"\x81\x05hello"));
    c.extend(frame(WINDOW_UPDATE, 0, 0, &[0, 0, 1, 0]));
    c.extend(frame(PING, 0, 0, b"12345678"));
    s.extend(frame(PING, ACK, 0, b"12345678"));
    c.extend(frame(DATA, END_STREAM, 1, b"\x88\x80wxyz"));
    (c, s)
}

fn expected_conversation() -> Vec<Ev> {
    vec![
        Ev::Settings {
            side: C,
            enable_connect_protocol: None,
            header_table_size: None,
            max_frame_size: None,
        },
        Ev::Headers {
            side: C,
            stream: 1,
            fields: ws_request(),
            end_stream: false,
            push_promise: None,
        },
        Ev::Data {
            side: C,
            stream: 1,
            data: b"\x81\x85abcd1234".to_vec(),
            end_stream: false,
        },
        Ev::Data {
            side: C,
            stream: 1,
            data: b"\x88\x80wxyz".to_vec(),
            end_stream: true,
        },
        Ev::Settings {
            side: S,
            enable_connect_protocol: Some(true),
            header_table_size: Some(4096),
            max_frame_size: Some(16384),
        },
        Ev::Headers {
            side: S,
            stream: 1,
            fields: fields(&[(":status", "200")]),
            end_stream: false,
            push_promise: None,
        },
        Ev::Data {
            side: S,
            stream: 1,
            data: b"\x81\x05hello".to_vec(),
            end_stream: false,
        },
    ]
}

#[test]
fn extended_connect_conversation() {
    let (c, s) = websocket_conversation();
    let mut conn = H2Conn::new(C, H2Config::default());
    let evs = run(&mut conn, &[(C, &c), (S, &s)]);
    assert_eq!(evs, expected_conversation());
    let head = classify(match &evs[1] {
        Ev::Headers { fields, .. } => fields,
        _ => unreachable!(),
    });
    assert_eq!(head.websocket_request(), WebSocketVerdict::Yes);
}

#[test]
fn byte_by_byte_equals_whole() {
    let (c, s) = websocket_conversation();
    let mut conn = H2Conn::new(C, H2Config::default());
    let mut feeds: Vec<(usize, &[u8])> = Vec::new();
    feeds.extend(c.chunks(1).map(|b| (C, b)));
    feeds.extend(s.chunks(1).map(|b| (S, b)));
    let evs = run(&mut conn, &feeds);
    // DATA comes byte by byte: the transcript is the same.
    assert_eq!(transcript(&evs), transcript(&expected_conversation()));
    assert!(anomalies(&evs).is_empty(), "{evs:?}");
    let data_events = evs.iter().filter(|e| matches!(e, Ev::Data { .. })).count();
    assert_eq!(data_events, 10 + 6 + 7);
}

#[test]
fn client_side_may_be_one() {
    let (c, s) = websocket_conversation();
    let mut conn = H2Conn::new(1, H2Config::default());
    let evs = run(&mut conn, &[(1, &c), (0, &s)]);
    assert!(anomalies(&evs).is_empty(), "{evs:?}");
    assert!(evs.contains(&Ev::Headers {
        side: 1,
        stream: 1,
        fields: ws_request(),
        end_stream: false,
        push_promise: None
    }));
}

#[test]
fn padding_priority_continuation_and_trailers() {
    let mut enc = Encoder::default();
    let mut c = PREFACE.to_vec();
    c.extend(settings(&[]));
    let block = enc.encode(&fields(&[(":method", "POST"), (":path", "/upload")]));
    // HEADERS padded with priority, fragment split over two CONTINUATIONs.
    let (a, rest) = block.split_at(2);
    let (b, d) = rest.split_at(1);
    let mut p = vec![3u8, 0x80, 0, 0, 0, 200];
    p.extend_from_slice(a);
    p.extend([0, 0, 0]);
    c.extend(frame(HEADERS, PADDED | PRIORITY_FLAG, 3, &p));
    c.extend(frame(CONTINUATION, 0, 3, b));
    c.extend(frame(CONTINUATION, END_HEADERS, 3, d));
    // Padded DATA, then an empty padded DATA, then trailers ending the stream.
    let mut p = vec![4u8];
    p.extend(b"body");
    p.extend([0; 4]);
    c.extend(frame(DATA, PADDED, 3, &p));
    c.extend(frame(DATA, PADDED, 3, &[0]));
    c.extend(frame(PRIORITY, 0, 3, &[0, 0, 0, 1, 16]));
    c.extend(enc.headers(3, &fields(&[("x-checksum", "abc")]), true, 100));
    let mut conn = H2Conn::new(C, H2Config::default());
    let evs = run(&mut conn, &[(C, &c)]);
    assert!(anomalies(&evs).is_empty(), "{evs:?}");
    let t = transcript(&evs);
    assert_eq!(
        t[&(C, 3)],
        [
            Item::Headers(fields(&[(":method", "POST"), (":path", "/upload")]), None),
            Item::Data(b"body".to_vec()),
            Item::Headers(fields(&[("x-checksum", "abc")]), None),
            Item::End
        ]
    );
}

#[test]
fn push_promise_reset_goaway() {
    let mut enc_c = Encoder::default();
    let mut enc_s = Encoder::default();
    let mut c = PREFACE.to_vec();
    c.extend(settings(&[]));
    c.extend(enc_c.headers(1, &fields(&[(":method", "GET"), (":path", "/")]), true, 100));
    let mut s = settings(&[]);
    let mut p = vec![0, 0, 0, 2];
    p.extend(enc_s.encode(&fields(&[(":method", "GET"), (":path", "/style.css")])));
    s.extend(frame(PUSH_PROMISE, END_HEADERS, 1, &p));
    s.extend(enc_s.headers(1, &fields(&[(":status", "200")]), false, 100));
    s.extend(enc_s.headers(2, &fields(&[(":status", "200")]), false, 100));
    s.extend(frame(DATA, 0, 2, b"css"));
    s.extend(frame(RST_STREAM, 0, 2, &8u32.to_be_bytes()));
    // A frame in flight on the reset stream: ignored without an anomaly.
    s.extend(frame(DATA, 0, 2, b"late"));
    let mut g = vec![0, 0, 0, 1, 0, 0, 0, 0xb];
    g.extend(b"calm down");
    s.extend(frame(GOAWAY, 0, 0, &g));
    let mut conn = H2Conn::new(C, H2Config::default());
    let evs = run(&mut conn, &[(C, &c), (S, &s)]);
    assert!(anomalies(&evs).is_empty(), "{evs:?}");
    assert!(evs.contains(&Ev::Headers {
        side: S,
        stream: 1,
        fields: fields(&[(":method", "GET"), (":path", "/style.css")]),
        end_stream: false,
        push_promise: Some(2)
    }));
    let t = transcript(&evs);
    assert_eq!(
        t[&(S, 2)],
        [
            Item::Headers(fields(&[(":status", "200")]), None),
            Item::Data(b"css".to_vec())
        ]
    );
    assert!(evs.contains(&Ev::Reset {
        side: S,
        stream: 2,
        code: 8
    }));
    assert!(evs.contains(&Ev::GoAway {
        side: S,
        last_stream: 1,
        code: 0xb,
        debug: b"calm down".to_vec()
    }));
    assert_eq!(error_code_name(8), "CANCEL");
    assert_eq!(error_code_name(0xa), "CONNECT_ERROR");
    assert_eq!(error_code_name(0xb), "ENHANCE_YOUR_CALM");
    assert_eq!(error_code_name(0x99), "UNKNOWN");
}

#[test]
fn unknown_frame_types_are_ignored_but_not_inside_a_block() {
    let mut enc = Encoder::default();
    let mut c = PREFACE.to_vec();
    c.extend(settings(&[]));
    c.extend(frame(0xfa, 0xff, 0, b"extension"));
    c.extend(enc.headers(1, &fields(&[(":method", "GET")]), false, 100));
    c.extend(frame(0x0b, 0, 1, b"x"));
    c.extend(frame(DATA, END_STREAM, 1, b"ok"));
    let mut conn = H2Conn::new(C, H2Config::default());
    let evs = run(&mut conn, &[(C, &c)]);
    assert!(anomalies(&evs).is_empty(), "{evs:?}");
    assert_eq!(
        transcript(&evs)[&(C, 1)],
        [
            Item::Headers(fields(&[(":method", "GET")]), None),
            Item::Data(b"ok".to_vec()),
            Item::End
        ]
    );
    // Inside a header block, any other frame is a protocol error (RFC 9113 §6.10).
    let mut c = PREFACE.to_vec();
    c.extend(settings(&[]));
    c.extend(frame(HEADERS, 0, 1, &[0x82]));
    c.extend(frame(0xfa, 0, 0, b""));
    c.extend(frame(CONTINUATION, END_HEADERS, 1, &[0x84]));
    let mut conn = H2Conn::new(C, H2Config::default());
    let evs = run(&mut conn, &[(C, &c)]);
    let a = anomalies(&evs);
    assert_eq!(a.len(), 2, "{a:?}");
    assert_eq!(a[0].0, "h2_protocol_error");
    assert!(
        a[0].1.contains("header block of stream 1 interrupted"),
        "{a:?}"
    );
    assert!(
        a[1].1
            .contains("CONTINUATION frame on stream 1 without a header block"),
        "{a:?}"
    );
    assert!(!evs.iter().any(|e| matches!(e, Ev::Headers { .. })));
    assert!(!conn.hpack_certain(C));
}

#[test]
fn bad_padding_is_reported_and_framing_kept() {
    let mut c = PREFACE.to_vec();
    c.extend(settings(&[]));
    c.extend(Encoder::default().headers(1, &fields(&[(":method", "GET")]), false, 100));
    c.extend(frame(DATA, PADDED, 1, &[9, b'a', b'b']));
    c.extend(frame(DATA, 0, 1, b"after"));
    let mut conn = H2Conn::new(C, H2Config::default());
    let evs = run(&mut conn, &[(C, &c)]);
    assert_eq!(
        anomalies(&evs),
        [(
            "h2_protocol_error",
            "DATA frame of stream 1 with 9 bytes of padding in a 3-byte payload: its 2 bytes are lost"
                .to_string()
        )]
    );
    assert!(evs.contains(&Ev::DataLost {
        side: C,
        stream: 1,
        len: 2
    }));
    assert_eq!(transcript(&evs)[&(C, 1)][1], Item::Data(b"after".to_vec()));
}

#[test]
fn frame_over_max_frame_size_resyncs() {
    let mut c = PREFACE.to_vec();
    c.extend(settings(&[]));
    c.extend(Encoder::default().headers(1, &fields(&[(":method", "GET")]), false, 100));
    // A DATA header claiming 20000 bytes (over 16384), followed by real frames.
    c.extend([0x00, 0x4e, 0x20, 0x00, 0x00, 0, 0, 0, 1]);
    c.extend(frame(DATA, 0, 1, b"one"));
    c.extend(frame(DATA, 0, 1, b"two"));
    let mut conn = H2Conn::new(C, H2Config::default());
    let evs = run(&mut conn, &[(C, &c)]);
    let a = anomalies(&evs);
    assert_eq!(a[0].0, "h2_protocol_error");
    assert!(a[0].1.contains("claims 20000 bytes"), "{a:?}");
    assert_eq!(
        a[1],
        (
            "h2_resync",
            "9 bytes of the client skipped to find the next frame header".into()
        )
    );
    assert!(evs.contains(&Ev::Lost { side: C, len: 9 }));
    assert_eq!(transcript(&evs)[&(C, 1)][1], Item::Data(b"onetwo".to_vec()));
}

#[test]
fn larger_max_frame_size_is_honoured() {
    let mut c = PREFACE.to_vec();
    c.extend(settings(&[]));
    c.extend(Encoder::default().headers(1, &fields(&[(":method", "POST")]), false, 100));
    let big = vec![7u8; 100_000];
    c.extend(frame(DATA, END_STREAM, 1, &big));
    let s = settings(&[(0x5, 1 << 20)]);
    let mut conn = H2Conn::new(C, H2Config::default());
    let evs = run(&mut conn, &[(S, &s), (C, &c)]);
    assert!(anomalies(&evs).is_empty(), "{evs:?}");
    assert_eq!(transcript(&evs)[&(C, 1)][1], Item::Data(big));
    // DATA is never buffered.
    assert!(conn.memory() < 64 * 1024, "{}", conn.memory());
}

#[test]
fn data_on_idle_or_ended_streams() {
    let mut c = PREFACE.to_vec();
    c.extend(settings(&[]));
    c.extend(frame(DATA, 0, 5, b"idle"));
    c.extend(Encoder::default().headers(7, &fields(&[(":method", "GET")]), true, 100));
    c.extend(frame(DATA, 0, 7, b"after end"));
    let mut conn = H2Conn::new(C, H2Config::default());
    let evs = run(&mut conn, &[(C, &c)]);
    let a = anomalies(&evs);
    assert_eq!(a.len(), 2, "{a:?}");
    assert!(
        a[0].1.contains("DATA frame on stream 5, which is not open"),
        "{a:?}"
    );
    assert!(
        a[1].1
            .contains("DATA frame on stream 7 after the client ended it"),
        "{a:?}"
    );
    assert!(!evs.iter().any(|e| matches!(e, Ev::Data { .. })));
}

#[test]
fn missing_preface_is_reported_and_frames_found() {
    let mut c = b"GET / HTTP/1.1\r\n\r\n".to_vec();
    c.extend(settings(&[]));
    c.extend(Encoder::default().headers(1, &fields(&[(":method", "GET")]), true, 100));
    let mut conn = H2Conn::new(C, H2Config::default());
    let evs = run(&mut conn, &[(C, &c)]);
    let a = anomalies(&evs);
    assert!(a[0].1.contains("preface is missing"), "{a:?}");
    assert_eq!(a[1].0, "h2_resync");
    assert_eq!(
        transcript(&evs)[&(C, 1)],
        [
            Item::Headers(fields(&[(":method", "GET")]), None),
            Item::End
        ]
    );
}

#[test]
fn h2c_upgrade_answers_on_stream_one() {
    let mut c = PREFACE.to_vec();
    c.extend(settings(&[]));
    let mut s = settings(&[]);
    s.extend(Encoder::default().headers(1, &fields(&[(":status", "200")]), false, 100));
    s.extend(frame(DATA, END_STREAM, 1, b"hi"));
    let mut conn = H2Conn::after_h2c_upgrade(C, H2Config::default());
    let evs = run(&mut conn, &[(C, &c), (S, &s)]);
    assert!(anomalies(&evs).is_empty(), "{evs:?}");
    assert_eq!(
        transcript(&evs)[&(S, 1)],
        [
            Item::Headers(fields(&[(":status", "200")]), None),
            Item::Data(b"hi".to_vec()),
            Item::End
        ]
    );
    // Both directions of stream 1 ended: it is closed.
    assert_eq!(conn.open_streams(), 0);
}

#[test]
fn first_frame_must_be_settings() {
    let mut c = PREFACE.to_vec();
    c.extend(frame(PING, 0, 0, b"12345678"));
    let mut conn = H2Conn::new(C, H2Config::default());
    let evs = run(&mut conn, &[(C, &c)]);
    assert_eq!(
        anomalies(&evs),
        [(
            "h2_protocol_error",
            "the client's first frame is PING, not SETTINGS".into()
        )]
    );
}

#[test]
fn malformed_frames_are_named() {
    let mut c = PREFACE.to_vec();
    c.extend(settings(&[(0x5, 100), (0x8, 2)]));
    c.extend(frame(PING, 0, 0, b"1234"));
    c.extend(frame(WINDOW_UPDATE, 0, 0, &[0, 0, 0, 0]));
    c.extend(frame(RST_STREAM, 0, 0, &[0, 0, 0, 0]));
    c.extend(frame(HEADERS, END_HEADERS, 1, &[0x80]));
    c.extend(frame(CONTINUATION, END_HEADERS, 3, &[0x82]));
    c.extend(frame(PUSH_PROMISE, END_HEADERS, 5, &[0, 0, 0, 2, 0x82]));
    let mut conn = H2Conn::new(C, H2Config::default());
    let evs = run(&mut conn, &[(C, &c)]);
    let a: Vec<String> = anomalies(&evs).into_iter().map(|(_, d)| d).collect();
    assert_eq!(
        a,
        [
            "SETTINGS of the client: SETTINGS_MAX_FRAME_SIZE outside 2^14..2^24-1 (100): ignored",
            "SETTINGS of the client: SETTINGS_ENABLE_CONNECT_PROTOCOL other than 0 or 1 (2): ignored",
            "PING frame of the client (stream 0) with a length other than 8: 4 bytes ignored",
            "WINDOW_UPDATE of 0 on stream 0",
            "RST_STREAM frame of the client (stream 0) on stream 0: 4 bytes ignored",
            "header block of stream 1 from the client: index 0; its fields are lost and the HPACK state of the client is unknown from here",
            "CONTINUATION frame on stream 3 without a header block to continue (RFC 9113 §6.10): its 1 byte is lost, and the HPACK state of the client is unknown from here",
            "PUSH_PROMISE from the client on stream 5 (RFC 9113 §8.4)",
        ]
    );
}

#[test]
fn sniffing() {
    assert_eq!(sniff_preface(b""), Sniff::NeedMore);
    assert_eq!(sniff_preface(b"PRI * HT"), Sniff::NeedMore);
    assert_eq!(sniff_preface(PREFACE), Sniff::Yes);
    let mut more = PREFACE.to_vec();
    more.extend(settings(&[]));
    assert_eq!(sniff_preface(&more), Sniff::Yes);
    assert_eq!(sniff_preface(b"GET / HTTP/1.1\r\n"), Sniff::No);
    assert_eq!(
        sniff_preface(b"PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n"),
        Sniff::No
    );
}
