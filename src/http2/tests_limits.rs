//! Hostile input stays within the limits, with anomalies naming what was dropped.

use super::testutil::*;
use super::*;

const C: usize = 0;

fn start() -> Vec<u8> {
    let mut c = PREFACE.to_vec();
    c.extend(settings(&[]));
    c
}

#[test]
fn a_hundred_thousand_streams() {
    let cfg = H2Config {
        max_streams: 100,
        ..H2Config::default()
    };
    let mut conn = H2Conn::new(C, cfg);
    let mut evs = Vec::new();
    conn.feed(C, &start(), &mut |e| evs.push(own(e)));
    let mut enc = Encoder::default();
    let mut peak = 0;
    for i in 0..100_000u32 {
        let id = 1 + 2 * i;
        let mut b = enc.headers(
            id,
            &fields(&[(":method", "GET"), (":path", "/x")]),
            false,
            100,
        );
        b.extend(frame(DATA, 0, id, b"body"));
        conn.feed(C, &b, &mut |e| evs.push(own(e)));
        peak = peak.max(conn.memory());
    }
    conn.finish(&mut |e| evs.push(own(e)));
    assert_eq!(conn.open_streams(), 100);
    assert!(peak < 64 * 1024, "{peak}");
    let a = anomalies(&evs);
    assert_eq!(a.len(), 2, "{a:?}");
    assert_eq!(
        a[0],
        (
            "h2_limit",
            "stream 201: more than 100 streams open at once; streams over the limit are not followed (their headers and DATA are not reported)".to_string()
        )
    );
    assert_eq!(
        a[1],
        (
            "h2_limit",
            "99900 streams were opened over the limit of 100 streams at once and not followed (399600 bytes of their DATA not reported)".to_string()
        )
    );
    let t = transcript(&evs);
    assert_eq!(t.len(), 100);
    assert_eq!(t[&(C, 199)][1], Item::Data(b"body".to_vec()));
}

#[test]
fn continuation_flood_never_ending() {
    let cfg = H2Config::default();
    let limit = cfg.max_header_block_bytes;
    let mut conn = H2Conn::new(C, cfg);
    let mut evs = Vec::new();
    let mut c = start();
    c.extend(frame(HEADERS, 0, 1, &[0x82]));
    conn.feed(C, &c, &mut |e| evs.push(own(e)));
    let cont = frame(CONTINUATION, 0, 1, &[0x84; 16_000]);
    let mut peak = 0;
    for _ in 0..200 {
        conn.feed(C, &cont, &mut |e| evs.push(own(e)));
        peak = peak.max(conn.memory());
    }
    conn.finish(&mut |e| evs.push(own(e)));
    assert!(peak < limit + 64 * 1024, "{peak}");
    assert_eq!(
        anomalies(&evs),
        [(
            "h2_limit",
            format!(
                "header block of stream 1 over the limit of {limit} bytes: its fields are lost, and the HPACK state of the client is unknown from here"
            )
        )]
    );
    assert!(!evs.iter().any(|e| matches!(e, Ev::Headers { .. })));
}

#[test]
fn oversized_block_then_the_connection_goes_on() {
    let cfg = H2Config {
        max_header_block_bytes: 1000,
        ..H2Config::default()
    };
    let mut conn = H2Conn::new(C, cfg);
    let mut enc = Encoder::default();
    let mut c = start();
    let big: String = "v".repeat(3000);
    c.extend(enc.headers(
        1,
        &fields(&[(":method", "GET"), ("x-big", &big)]),
        false,
        700,
    ));
    // The next block refers to nothing dynamic: it decodes in full.
    let mut enc2 = Encoder::default();
    c.extend(enc2.headers(3, &fields(&[(":method", "POST")]), false, 700));
    let evs = run(&mut conn, &[(C, &c)]);
    let a = anomalies(&evs);
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].0, "h2_limit");
    assert_eq!(
        transcript(&evs)[&(C, 3)],
        [Item::Headers(fields(&[(":method", "POST")]), None)]
    );
}

#[test]
fn table_size_flood_within_a_block() {
    let cfg = H2Config {
        max_hpack_table_bytes: 1024,
        ..H2Config::default()
    };
    let mut conn = H2Conn::new(C, cfg);
    let mut block = Vec::new();
    for _ in 0..5000 {
        // Size update to 2^32-1.
        block.extend([0x3f, 0xe0, 0xff, 0xff, 0xff, 0x0f]);
    }
    block.push(0x82);
    let mut c = start();
    // In CONTINUATIONs of 16 KB.
    let chunks: Vec<&[u8]> = block.chunks(16_000).collect();
    for (i, ch) in chunks.iter().enumerate() {
        let flags = if i + 1 == chunks.len() {
            END_HEADERS
        } else {
            0
        };
        let kind = if i == 0 { HEADERS } else { CONTINUATION };
        c.extend(frame(kind, flags, 1, ch));
    }
    let evs = run(&mut conn, &[(C, &c)]);
    let a = anomalies(&evs);
    assert_eq!(
        a,
        [
            (
                "h2_limit",
                "header block of stream 1 from the client: dynamic table size 4294967295 over the cap of 1024 bytes: older entries will be unresolved".to_string()
            ),
            (
                "h2_protocol_error",
                "header block of stream 1 from the client: 5000 dynamic table size updates in one block".to_string()
            ),
        ]
    );
    assert_eq!(
        transcript(&evs)[&(C, 1)],
        [Item::Headers(fields(&[(":method", "GET")]), None)]
    );
    assert!(conn.memory() < 64 * 1024, "{}", conn.memory());
}

#[test]
fn header_list_over_limit() {
    let cfg = H2Config {
        max_header_list_bytes: 1000,
        ..H2Config::default()
    };
    let mut conn = H2Conn::new(C, cfg);
    let mut enc = Encoder::default();
    let mut c = start();
    let v: String = "x".repeat(500);
    // One 500-byte entry, then referred to again: 2 x 532 > 1000.
    c.extend(enc.headers(1, &fields(&[("a", &v), ("a", &v)]), false, 2000));
    c.extend(frame(DATA, END_STREAM, 1, b"still delivered"));
    let evs = run(&mut conn, &[(C, &c)]);
    assert_eq!(
        anomalies(&evs),
        [(
            "h2_limit",
            "header block of stream 1 decodes to over 1000 bytes: its fields are not reported"
                .to_string()
        )]
    );
    assert_eq!(
        transcript(&evs)[&(C, 1)],
        [Item::Data(b"still delivered".to_vec()), Item::End]
    );
}

#[test]
fn buffered_frame_over_limit_is_skipped() {
    let cfg = H2Config {
        max_frame_bytes: 1000,
        ..H2Config::default()
    };
    let mut conn = H2Conn::new(C, cfg);
    let mut c = start();
    let mut g = vec![0, 0, 0, 0, 0, 0, 0, 0];
    g.extend([b'd'; 5000]);
    c.extend(frame(GOAWAY, 0, 0, &g));
    c.extend(frame(PING, 0, 0, b"12345678"));
    let evs = run(&mut conn, &[(C, &c)]);
    assert_eq!(
        anomalies(&evs),
        [(
            "h2_limit",
            "GOAWAY frame of 5008 bytes over the limit of 1000 buffered bytes: skipped".to_string()
        )]
    );
    assert!(conn.memory() < 4096, "{}", conn.memory());
}
