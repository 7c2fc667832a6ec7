//! Whole-phase tests: exchanges fed on both sides, checked down to the bytes of `rest`.

use super::{DeflateParams, HttpPhase, HttpStatus, Upgrade};
use crate::event::{Anomaly, AnomalyKind, Dir, Handshake, HttpVersion, OpenInfo, Timestamp};
use proptest::prelude::*;

/// RFC 6455 §1.2 client handshake.
pub(super) const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
Host: server.example.com\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Origin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

/// RFC 6455 §1.3 server handshake (with the §1.2 subprotocol choice).
pub(super) const RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
Sec-WebSocket-Protocol: chat\r\n\r\n";

/// RFC 6455 §5.7: a masked "Hello" (client) and an unmasked "Hello" (server).
pub(super) const MASKED_HELLO: &[u8] = b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
pub(super) const HELLO: &[u8] = b"\x81\x05\x48\x65\x6c\x6c\x6f";

pub(super) const MAX: usize = 64 << 10;

pub(super) fn rfc_info() -> OpenInfo {
    OpenInfo {
        uri: Some("/chat".into()),
        host: Some("server.example.com".into()),
        origin: Some("http://example.com".into()),
        user_agent: None,
        subprotocol: Some("chat".into()),
        extensions: None,
        mid_stream: false,
        handshake: rfc_handshake(),
        ..OpenInfo::default()
    }
}

/// The handshake of [`REQUEST`] and [`RESPONSE`], every line as sent, stamped with the time
/// the phase was given (none: the epoch).
pub(super) fn rfc_handshake() -> Handshake {
    let h = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    };
    Handshake {
        http: HttpVersion::Http11,
        method: "GET".into(),
        target: "/chat".into(),
        status: 101,
        reason: "Switching Protocols".into(),
        request_headers: h(&[
            ("Host", "server.example.com"),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Origin", "http://example.com"),
            ("Sec-WebSocket-Protocol", "chat, superchat"),
            ("Sec-WebSocket-Version", "13"),
        ]),
        response_headers: h(&[
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            ("Sec-WebSocket-Protocol", "chat"),
        ]),
        request_ts: Some(Timestamp::default()),
        response_ts: Some(Timestamp::default()),
        response_packet: None,
    }
}

fn rfc_upgrade(client_side: usize, client_rest: &[u8], server_rest: &[u8]) -> Upgrade {
    let mut rest: [Vec<u8>; 2] = Default::default();
    rest[client_side] = client_rest.to_vec();
    rest[1 - client_side] = server_rest.to_vec();
    Upgrade {
        client_side,
        h2c: false,
        info: rfc_info(),
        deflate: None,
        rest,
        rest_after: Default::default(),
        anomalies: vec![],
        resync: [false; 2],
    }
}

pub(super) fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn upgraded(status: HttpStatus) -> Upgrade {
    match status {
        HttpStatus::Upgraded(up) => *up,
        other => panic!("expected Upgraded, got {other:?}"),
    }
}

fn not_ws(status: HttpStatus) -> (String, bool) {
    match status {
        HttpStatus::NotWebSocket {
            reason,
            looked_like_http,
            ..
        } => (reason, looked_like_http),
        other => panic!("expected NotWebSocket, got {other:?}"),
    }
}

fn pending(status: HttpStatus) {
    assert!(matches!(status, HttpStatus::Pending), "{status:?}");
}

/// Feeds the client's bytes then the server's bytes, each whole; returns the last status.
fn exchange(client: &[u8], server: &[u8]) -> HttpStatus {
    let mut p = HttpPhase::new(MAX);
    pending(p.feed(0, client));
    p.feed(1, server)
}

#[test]
fn rfc_handshake_whole() {
    let up = upgraded(exchange(REQUEST, RESPONSE));
    assert_eq!(up, rfc_upgrade(0, b"", b""));
}

#[test]
fn rfc_handshake_byte_by_byte_client_on_side_1() {
    let mut p = HttpPhase::new(MAX);
    for b in cat(&[REQUEST, MASKED_HELLO]).chunks(1) {
        pending(p.feed(1, b));
    }
    let server = cat(&[RESPONSE, HELLO]);
    let (head, frames) = server.split_at(RESPONSE.len() - 1);
    for b in head.chunks(1) {
        pending(p.feed(0, b));
    }
    // The head's last byte and a frame arrive together.
    let up = upgraded(p.feed(0, frames));
    assert_eq!(up, rfc_upgrade(1, MASKED_HELLO, HELLO));
}

#[test]
fn frames_in_the_same_chunk_as_the_101_land_in_rest() {
    let mut p = HttpPhase::new(MAX);
    pending(p.feed(0, &cat(&[REQUEST, MASKED_HELLO])));
    pending(p.feed(0, MASKED_HELLO));
    let up = upgraded(p.feed(1, &cat(&[RESPONSE, HELLO, HELLO])));
    let both = cat(&[MASKED_HELLO, MASKED_HELLO]);
    assert_eq!(up, rfc_upgrade(0, &both, &cat(&[HELLO, HELLO])));
    // Decided: later feeds give the same upgrade, with the handed-over bytes not repeated.
    let again = upgraded(p.feed(1, HELLO));
    assert_eq!(again, rfc_upgrade(0, b"", b""));
}

#[test]
fn server_bytes_buffered_until_the_request_completes() {
    // A capture may show the answer's first segment before the request's last one is
    // reassembled; the 101 waits for its request.
    let mut p = HttpPhase::new(MAX);
    let (a, b) = REQUEST.split_at(40);
    pending(p.feed(0, a));
    pending(p.feed(1, &cat(&[RESPONSE, HELLO])));
    let up = upgraded(p.feed(0, b));
    assert_eq!(up, rfc_upgrade(0, b"", HELLO));
}

proptest! {
    #[test]
    fn rfc_handshake_random_splits(
        cuts_c in proptest::collection::vec(0..REQUEST.len() + MASKED_HELLO.len(), 0..12),
        cuts_s in proptest::collection::vec(0..RESPONSE.len() + HELLO.len(), 0..12),
    ) {
        let client = cat(&[REQUEST, MASKED_HELLO]);
        let server = cat(&[RESPONSE, HELLO]);
        let mut p = HttpPhase::new(MAX);
        for piece in split(&client, cuts_c) {
            pending(p.feed(0, piece));
        }
        let mut up = None;
        let mut after = Vec::new();
        for piece in split(&server, cuts_s) {
            match up {
                None => match p.feed(1, piece) {
                    HttpStatus::Pending => {}
                    HttpStatus::Upgraded(u) => up = Some(*u),
                    other => panic!("{other:?}"),
                },
                // The session hands bytes after the decision to the frame decoder directly.
                Some(_) => after.extend_from_slice(piece),
            }
        }
        let mut up = up.expect("upgraded");
        up.rest[1].extend_from_slice(&after);
        prop_assert_eq!(up, rfc_upgrade(0, MASKED_HELLO, HELLO));
    }
}

/// `data` cut at the given offsets (sorted, deduplicated), empty pieces included.
fn split(data: &[u8], mut cuts: Vec<usize>) -> Vec<&[u8]> {
    cuts.sort_unstable();
    let mut pieces = Vec::new();
    let mut at = 0;
    for c in cuts {
        pieces.push(&data[at..c]);
        at = c;
    }
    pieces.push(&data[at..]);
    pieces
}

#[test]
fn bad_accept_is_an_anomaly_and_still_websocket() {
    let wrong = String::from_utf8_lossy(RESPONSE).replace("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "AAAA");
    let up = upgraded(exchange(REQUEST, wrong.as_bytes()));
    assert_eq!(
        up.anomalies,
        vec![(
            Dir::S2c,
            Anomaly::new(
                AnomalyKind::BadAccept,
                "Sec-WebSocket-Accept \"AAAA\" is not \"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\", the answer to the request's key"
            )
        )]
    );
    let mut info = rfc_info();
    info.handshake.response_headers[2].1 = "AAAA".into();
    assert_eq!(up.info, info);

    let missing = String::from_utf8_lossy(RESPONSE)
        .replace("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n", "");
    let up = upgraded(exchange(REQUEST, missing.as_bytes()));
    assert_eq!(
        up.anomalies,
        vec![(
            Dir::S2c,
            Anomaly::new(
                AnomalyKind::BadAccept,
                "the 101 response has no Sec-WebSocket-Accept"
            )
        )]
    );
}

#[test]
fn deflate_negotiated_and_extensions_joined() {
    let resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: upgrade\r\n\
        Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
        Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=12; server_no_context_takeover\r\n\
        Sec-WebSocket-Extensions: x-foo\r\n\r\n";
    let up = upgraded(exchange(REQUEST, resp.as_bytes()));
    assert_eq!(
        up.info.extensions.as_deref(),
        Some("permessage-deflate; client_max_window_bits=12; server_no_context_takeover, x-foo")
    );
    assert_eq!(up.info.subprotocol, None);
    assert_eq!(
        up.deflate,
        Some(DeflateParams {
            server_no_context_takeover: true,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 12,
        })
    );
    let webkit = String::from_utf8_lossy(RESPONSE).replace(
        "\r\n\r\n",
        "\r\nSec-WebSocket-Extensions: x-webkit-deflate-frame\r\n\r\n",
    );
    let up = upgraded(exchange(REQUEST, webkit.as_bytes()));
    assert_eq!(
        up.info.extensions.as_deref(),
        Some("x-webkit-deflate-frame")
    );
    assert_eq!(up.deflate, None);
}

/// Plain GETs answered 200 with bodies that look like frames and like a 101 head.
pub(super) fn keep_alive_prelude() -> (Vec<u8>, Vec<u8>) {
    let client = cat(&[
        b"GET /blob HTTP/1.1\r\nHost: h\r\n\r\n",
        b"GET /hello.txt HTTP/1.1\r\nHost: h\r\n\r\n",
        b"HEAD /blob HTTP/1.1\r\nHost: h\r\n\r\n",
        b"GET /none HTTP/1.1\r\n\r\n",
        b"GET /same HTTP/1.1\r\n\r\n",
        // RFC 9112 §2.2: an empty line before a request line is ignored.
        b"\r\nPOST /upload HTTP/1.1\r\nContent-Length: 11\r\n\r\n",
        MASKED_HELLO,
        b"POST /chunks HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHTTP/\r\n0\r\n\r\n",
    ]);
    let body_101 = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello";
    let server = cat(&[
        b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n",
        HELLO,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        format!("{:x}\r\n", body_101.len()).as_bytes(),
        body_101,
        b"\r\n3;x=y\r\n\x88\x02\x03\r\n0\r\nTrailer: v\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    ]);
    (client, server)
}

#[test]
fn keep_alive_then_upgrade() {
    let (mut client, mut server) = keep_alive_prelude();
    client.extend_from_slice(REQUEST);
    client.extend_from_slice(MASKED_HELLO);
    server.extend_from_slice(RESPONSE);
    server.extend_from_slice(HELLO);
    let expected = rfc_upgrade(0, MASKED_HELLO, HELLO);
    assert_eq!(upgraded(exchange(&client, &server)), expected);
    // Pieces of 1, 5 and 7 bytes, alternating sides as far as each side has bytes.
    for size in [1, 5, 7] {
        let mut p = HttpPhase::new(MAX);
        let (c, s): (Vec<_>, Vec<_>) =
            (client.chunks(size).collect(), server.chunks(size).collect());
        let mut result = None;
        for i in 0..c.len().max(s.len()) {
            for (side, pieces) in [(0, &c), (1, &s)] {
                if let (None, Some(piece)) = (&result, pieces.get(i)) {
                    match p.feed(side, piece) {
                        HttpStatus::Pending => {}
                        HttpStatus::Upgraded(up) => result = Some(*up),
                        other => panic!("{size}: {other:?}"),
                    }
                }
            }
        }
        let up = result.expect("upgraded");
        assert_eq!(up.client_side, 0);
        assert_eq!(up.info, rfc_info());
        assert_eq!(up.anomalies, vec![]);
    }
}

#[test]
fn pipelined_requests_answered_in_order() {
    // The upgrade is the second request; the 200's answer belongs to the first.
    let client = cat(&[b"GET / HTTP/1.1\r\n\r\n", REQUEST]);
    let server = cat(&[b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", RESPONSE]);
    assert_eq!(
        upgraded(exchange(&client, &server)),
        rfc_upgrade(0, b"", b"")
    );
    // 101 to the plain first request: not WebSocket.
    let (why, http) = not_ws(exchange(&client, RESPONSE));
    assert_eq!(why, "101 answers a request that is not a WebSocket upgrade");
    assert!(http);
}

#[test]
fn refused_upgrade_then_stray_frame_is_not_websocket() {
    let mut p = HttpPhase::new(MAX);
    pending(p.feed(0, REQUEST));
    pending(p.feed(0, MASKED_HELLO));
    let refusal =
        b"HTTP/1.1 403 Forbidden\r\nContent-Length: 13\r\n\r\n\x81\x05hello\x88\x02\x03\xe8";
    let (why, http) = not_ws(p.feed(1, refusal));
    assert_eq!(
        why,
        "upgrade refused with 403, then not HTTP: side 0 sent bytes that are not an HTTP request"
    );
    assert!(http);
    // Decided: the same answer, bytes ignored.
    assert_eq!(not_ws(p.feed(1, RESPONSE)), (why, true));
}

#[test]
fn refused_upgrade_then_new_request_upgrades() {
    let client = cat(&[REQUEST, REQUEST, MASKED_HELLO]);
    let server = cat(&[
        b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n\x81\x00\r\n0\r\n\r\n",
        RESPONSE,
    ]);
    assert_eq!(
        upgraded(exchange(&client, &server)),
        rfc_upgrade(0, MASKED_HELLO, b"")
    );
}

#[test]
fn refused_upgrade_without_length_runs_to_close() {
    let (why, http) = not_ws(exchange(
        REQUEST,
        b"HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\nno",
    ));
    assert_eq!(
        why,
        "upgrade refused with 403, then the body of a 403 response runs to the connection's close"
    );
    assert!(http);
}

/// RFC 7540 §3.2: an `Upgrade: h2c` request answered 101 goes on as HTTP/2 (an upgrade, but
/// not to WebSocket): what follows each head is handed over as HTTP/2 bytes.
#[test]
fn h2c_101_switches_to_http2() {
    let req = b"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n";
    let resp = b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
    let client = cat(&[req, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"]);
    let server = cat(&[resp, b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"]);
    let up = upgraded(exchange(&client, &server));
    assert!(up.h2c);
    assert_eq!(up.client_side, 0);
    assert_eq!(up.rest[0], b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    assert_eq!(up.rest[1], b"\x00\x00\x00\x04\x00\x00\x00\x00\x00");
    assert_eq!(up.info.handshake.status, 101);
    assert!(up.anomalies.is_empty());
    // A 101 to h2c answering a WebSocket request is no WebSocket.
    let other = String::from_utf8_lossy(RESPONSE).replace("Upgrade: websocket", "Upgrade: h2c");
    let (why, _) = not_ws(exchange(REQUEST, other.as_bytes()));
    assert_eq!(why, "101 switches to a protocol other than websocket");
}

#[test]
fn head_response_has_no_body() {
    // Content-Length of a HEAD answer describes the GET's body, which is not sent.
    let client = cat(&[b"HEAD / HTTP/1.1\r\n\r\n", REQUEST]);
    let server = cat(&[
        b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n",
        RESPONSE,
        HELLO,
    ]);
    assert_eq!(
        upgraded(exchange(&client, &server)),
        rfc_upgrade(0, b"", HELLO)
    );
}

#[test]
fn no_body_statuses() {
    for status in [
        "204 No Content",
        "304 Not Modified",
        "100 Continue",
        "103 Early Hints",
    ] {
        let client = cat(&[b"GET / HTTP/1.1\r\n\r\n", REQUEST]);
        let head = format!("HTTP/1.1 {status}\r\n\r\n");
        let mut server = head.into_bytes();
        if status.starts_with('1') {
            // Interim: the request still awaits its final response.
            server.extend_from_slice(b"HTTP/1.1 204 No Content\r\n\r\n");
        }
        server.extend_from_slice(RESPONSE);
        assert_eq!(
            upgraded(exchange(&client, &server)),
            rfc_upgrade(0, b"", b""),
            "{status}"
        );
    }
}

#[test]
fn not_http_decided_on_the_first_bytes() {
    for (first, side) in [
        (&b"\x16\x03\x01\x02\x00"[..], 0),
        (b"\x81\x05", 1),
        (b"SSH-2.0-x\r\n", 0),
    ] {
        let mut p = HttpPhase::new(MAX);
        let (why, http) = not_ws(p.feed(side, first));
        assert_eq!(
            why,
            format!("not HTTP: side {side} did not start with an HTTP request or response")
        );
        assert!(!http);
    }
    // A response seen first is the server's (the capture may show it before its request):
    // it waits for the request.
    let mut p = HttpPhase::new(MAX);
    pending(p.feed(1, b"HTTP/1.1 200 OK"));
    // A server that speaks first (SMTP banner): its first line is not a request line.
    let mut p = HttpPhase::new(MAX);
    pending(p.feed(1, b"220 mail.example.com "));
    let (_, http) = not_ws(p.feed(1, b"E"));
    assert!(!http);
    // Still undecided while the bytes may start a request.
    let mut p = HttpPhase::new(MAX);
    pending(p.feed(0, b"GET /index"));
}

#[test]
fn server_junk_after_a_request() {
    let mut p = HttpPhase::new(MAX);
    pending(p.feed(0, b"GET / HTTP/1.1\r\nHost"));
    let (why, http) = not_ws(p.feed(1, b"\x81\x05hello"));
    assert_eq!(
        why,
        "not HTTP: side 1 answered with bytes that are not an HTTP response"
    );
    assert!(http);
}

#[test]
fn malformed_heads_and_bodies() {
    let mut p = HttpPhase::new(MAX);
    let (why, http) = not_ws(p.feed(0, b"GET / HTTP/1.1\r\nBad Header\r\n\r\n"));
    assert_eq!(why, "invalid HTTP request: invalid header name");
    assert!(http);
    let (why, _) = not_ws(exchange(
        b"GET / HTTP/1.1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ));
    assert_eq!(why, "malformed chunked body from side 1");
}

#[test]
fn handshake_limit() {
    let mut p = HttpPhase::new(100);
    pending(p.feed(0, &REQUEST[..100]));
    assert!(matches!(
        p.feed(0, &REQUEST[100..101]),
        HttpStatus::NotWebSocket {
            over_limit: true,
            ..
        }
    ));
    let mut p = HttpPhase::new(100);
    pending(p.feed(0, &REQUEST[..100]));
    let (why, http) = not_ws(p.feed(0, &REQUEST[100..101]));
    assert_eq!(
        why,
        "handshake over 100 bytes on side 0 (max_handshake_bytes)"
    );
    assert!(http);
    // Held bytes after the upgrade request count too.
    let mut p = HttpPhase::new(REQUEST.len());
    pending(p.feed(0, REQUEST));
    pending(p.feed(0, &vec![0x81; REQUEST.len()]));
    let (why, _) = not_ws(p.feed(0, b"\x81"));
    assert_eq!(
        why,
        format!(
            "handshake over {} bytes on side 0 (max_handshake_bytes)",
            REQUEST.len()
        )
    );
    // Bodies are skipped, not buffered: a body larger than the limit is fine.
    let mut p = HttpPhase::new(100);
    pending(p.feed(0, b"POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n"));
    for _ in 0..10 {
        pending(p.feed(0, &[0x81; 100]));
    }
    pending(p.feed(0, b"GET / HTTP/1.1\r\n\r\n"));
}

#[test]
fn gap_before_decision() {
    let mut p = HttpPhase::new(MAX);
    pending(p.feed(0, &REQUEST[..20]));
    let (why, http) = not_ws(p.gap(1));
    assert_eq!(why, "bytes of side 1 lost before the upgrade was decided");
    assert!(http);
    let mut p = HttpPhase::new(MAX);
    let (_, http) = not_ws(p.gap(0));
    assert!(!http);
}

#[test]
fn too_many_pipelined_requests() {
    let mut p = HttpPhase::new(MAX);
    let req = b"GET / HTTP/1.1\r\n\r\n";
    for _ in 0..1024 {
        pending(p.feed(0, req));
    }
    let (why, _) = not_ws(p.feed(0, req));
    assert_eq!(why, "more than 1024 requests without a response");
}

proptest! {
    /// Whatever the bytes, in whatever pieces: no panic, and once decided, decided for good.
    #[test]
    fn arbitrary_input_never_panics(
        prefix in prop_oneof![Just(REQUEST.to_vec()), Just(Vec::new())],
        feeds in proptest::collection::vec((0usize..2, proptest::collection::vec(any::<u8>(), 0..64)), 0..20),
    ) {
        let mut p = HttpPhase::new(256);
        let _ = p.feed(0, &prefix);
        let mut decided = false;
        for (side, bytes) in feeds {
            let st = p.feed(side, &bytes);
            if decided {
                prop_assert!(!matches!(st, HttpStatus::Pending));
            }
            decided |= !matches!(st, HttpStatus::Pending);
        }
    }
}

#[test]
fn switch_without_upgrade_header_to_a_websocket_request() {
    let resp = String::from_utf8_lossy(RESPONSE).replace("Upgrade: websocket\r\n", "");
    let mut want = rfc_upgrade(0, b"", b"");
    want.info.handshake.response_headers.remove(0);
    assert_eq!(upgraded(exchange(REQUEST, resp.as_bytes())), want);
}

/// A snap length of 128 bytes leaves ~60 bytes of each handshake: the whole lines that
/// survived still show the upgrade and the 101, so the connection is followed, the accept
/// check is skipped (the key was cut) and both sides resume at a frame boundary.
#[test]
fn handshake_cut_by_snap_length_is_still_followed() {
    let mut phase = HttpPhase::new(MAX);
    assert!(matches!(phase.feed(0, &REQUEST[..70]), HttpStatus::Pending));
    assert!(matches!(phase.gap(0), HttpStatus::Pending));
    assert!(matches!(
        phase.feed(1, &RESPONSE[..40]),
        HttpStatus::Pending
    ));
    let up = upgraded(phase.gap(1));
    assert_eq!(up.client_side, 0);
    assert_eq!(up.resync, [true, true]);
    assert!(up.anomalies.is_empty());
    assert_eq!(up.info.uri.as_deref(), Some("/chat"));
    assert_eq!(up.info.host.as_deref(), Some("server.example.com"));
    assert_eq!(up.rest, [Vec::<u8>::new(), Vec::new()]);
}

/// A cut request that does not show `Upgrade: websocket` is not followed.
#[test]
fn cut_plain_request_is_not_websocket() {
    let mut phase = HttpPhase::new(MAX);
    assert!(matches!(
        phase.feed(0, b"GET /index.html HTTP/1.1\r\nHost: a\r\nAcc"),
        HttpStatus::Pending
    ));
    assert!(matches!(phase.gap(0), HttpStatus::NotWebSocket { .. }));
}

fn at(secs: i64) -> Timestamp {
    Timestamp::new(secs, 0)
}

/// Each head is stamped with the time of the bytes that completed it.
#[test]
fn handshake_times_are_those_of_the_completing_bytes() {
    let mut p = HttpPhase::new(MAX);
    p.set_time(at(10));
    pending(p.feed(0, &REQUEST[..30]));
    p.set_time(at(11));
    pending(p.feed(0, &REQUEST[30..]));
    p.set_time(at(12));
    pending(p.feed(1, &RESPONSE[..20]));
    p.set_time(at(13));
    let up = upgraded(p.feed(1, &RESPONSE[20..]));
    let mut want = rfc_handshake();
    want.request_ts = Some(at(11));
    want.response_ts = Some(at(13));
    assert_eq!(up.info.handshake, want);
}

/// A 101 the capture shows before its request waits for it, but keeps the time it came.
#[test]
fn a_response_read_before_its_request_keeps_its_own_time() {
    let mut p = HttpPhase::new(MAX);
    p.set_time(at(20));
    pending(p.feed(1, &RESPONSE[..10]));
    p.set_time(at(21));
    pending(p.feed(1, &RESPONSE[10..]));
    p.set_time(at(22));
    pending(p.feed(1, HELLO));
    p.set_time(at(23));
    let up = upgraded(p.feed(0, REQUEST));
    assert_eq!(up.info.handshake.request_ts, Some(at(23)));
    assert_eq!(up.info.handshake.response_ts, Some(at(21)));
    assert_eq!(up.rest[1], HELLO);
}

/// An upgrade answered 400 is a refusal carrying both heads as sent; the connection goes on
/// and its next request upgrades.
#[test]
fn refused_upgrade_is_reported_with_both_heads() {
    let mut p = HttpPhase::new(MAX);
    p.set_time(at(30));
    pending(p.feed(1, REQUEST));
    p.set_time(at(31));
    pending(p.feed(
        0,
        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\nX-Why:  no \xff\r\n\r\nno",
    ));
    let refusals = p.take_refusals();
    let mut want = rfc_handshake();
    want.status = 400;
    want.reason = "Bad Request".into();
    want.response_headers = vec![
        ("Content-Length".into(), "2".into()),
        ("X-Why".into(), "no \u{fffd}".into()),
    ];
    want.request_ts = Some(at(30));
    want.response_ts = Some(at(31));
    assert_eq!(
        refusals,
        vec![super::Refusal {
            client_side: 1,
            uri: Some("/chat".into()),
            handshake: want,
        }]
    );
    assert!(p.take_refusals().is_empty(), "taken once");
    p.set_time(at(32));
    pending(p.feed(1, REQUEST));
    let up = upgraded(p.feed(0, RESPONSE));
    assert_eq!(up.client_side, 1);
    assert_eq!(up.info.handshake.status, 101);
    assert!(p.take_refusals().is_empty());
}
