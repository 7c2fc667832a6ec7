use serde_json::{Value, json};

use super::*;
use crate::event::{
    ConnRef, Dir, EndHow, Handshake, HttpVersion, Message, Opcode, OpenInfo, Timestamp, TlsInfo,
};

fn ts(micros: u64) -> Timestamp {
    Timestamp::new(
        1_700_000_000 + (micros / 1_000_000) as i64,
        (micros % 1_000_000) as u32 * 1000,
    )
}

fn conn(id: u64) -> ConnRef {
    ConnRef {
        id,
        client: format!("10.0.0.1:{}", 40000 + id).parse().unwrap(),
        server: "10.0.0.2:9000".parse().unwrap(),
        stream: None,
    }
}

fn hdrs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn info_h1() -> OpenInfo {
    OpenInfo {
        uri: Some("/chat?room=1&x".into()),
        host: Some("example.test".into()),
        handshake: Handshake {
            http: HttpVersion::Http11,
            method: "GET".into(),
            target: "/chat?room=1&x".into(),
            status: 101,
            reason: "Switching Protocols".into(),
            request_headers: hdrs(&[
                ("Host", "example.test"),
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ("Sec-WebSocket-Version", "13"),
                ("Cookie", "sid=abc; theme=dark"),
            ]),
            response_headers: hdrs(&[
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            ]),
            request_ts: Some(ts(1000)),
            response_ts: Some(ts(3500)),
            response_packet: None,
        },
        ..OpenInfo::default()
    }
}

fn open(id: u64, at: u64, info: OpenInfo) -> Event {
    Event {
        ts: ts(at),
        conn: Some(conn(id)),
        kind: EventKind::Open(Box::new(info)),
    }
}

fn message(id: u64, at: u64, dir: Dir, opcode: Opcode, payload: &[u8]) -> Event {
    Event {
        ts: ts(at),
        conn: Some(conn(id)),
        kind: EventKind::Message {
            dir,
            msg: Message {
                opcode,
                payload: payload.to_vec(),
                frames: 1,
                compressed: false,
                wire_len: payload.len() as u64,
                utf8_valid: std::str::from_utf8(payload).is_ok(),
                frame_detail: Vec::new(),
                packets: None,
                truncated: false,
            },
        },
    }
}

fn end(id: u64, at: u64) -> Event {
    Event {
        ts: ts(at),
        conn: Some(conn(id)),
        kind: EventKind::End {
            how: EndHow::Fin,
            messages: 0,
            bytes: 0,
            report: None,
        },
    }
}

fn export(events: &[Event], limits: HarLimits) -> (Vec<u8>, (usize, u64)) {
    let mut w = HarWriter::with_limits(Vec::new(), "9.9.9", limits);
    w.begin().unwrap();
    let mut peak = (0, 0);
    for ev in events {
        w.event(ev).unwrap();
        let b = w.buffered();
        peak = (peak.0.max(b.0), peak.1.max(b.1));
    }
    w.finish().unwrap();
    (w.into_inner(), peak)
}

fn parse(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or_else(|e| {
        panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes));
    })
}

/// Two interleaved connections; the second ends first.
fn interleaved() -> Vec<Event> {
    vec![
        open(1, 3500, info_h1()),
        message(1, 4000, Dir::C2s, Opcode::Text, b"hello \"w\"\n"),
        open(2, 4100, info_h1()),
        message(2, 4200, Dir::S2c, Opcode::Binary, &[0, 1, 2, 0xff]),
        message(1, 4300, Dir::S2c, Opcode::Ping, b"p"),
        message(2, 4400, Dir::C2s, Opcode::Close, b"\x03\xe8bye"),
        end(2, 4500),
        message(1, 4600, Dir::C2s, Opcode::Pong, b""),
        Event::input_anomaly(
            ts(4650),
            crate::event::AnomalyKind::CorruptCapture,
            "x",
            None,
        ),
        end(1, 4700),
    ]
}

#[test]
fn entry_exact() {
    let (out, _) = export(&interleaved(), HarLimits::default());
    let v = parse(&out);
    assert_eq!(v["log"]["version"], "1.2");
    assert_eq!(
        v["log"]["creator"],
        json!({"name": "wsnoop", "version": "9.9.9"})
    );
    assert_eq!(v["log"]["pages"], json!([]));
    let entries = v["log"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    // Written as connections end: 2 first.
    assert_eq!(entries[0]["_wsnoop"]["conn"], 2);
    let e = &entries[1];
    assert_eq!(
        e,
        &json!({
            "startedDateTime": "2023-11-14T22:13:20.001000Z",
            "time": 2.5,
            "request": {
                "method": "GET",
                "url": "ws://example.test/chat?room=1&x",
                "httpVersion": "HTTP/1.1",
                "cookies": [{"name": "sid", "value": "abc"}, {"name": "theme", "value": "dark"}],
                "headers": [
                    {"name": "Host", "value": "example.test"},
                    {"name": "Upgrade", "value": "websocket"},
                    {"name": "Connection", "value": "Upgrade"},
                    {"name": "Sec-WebSocket-Key", "value": "dGhlIHNhbXBsZSBub25jZQ=="},
                    {"name": "Sec-WebSocket-Version", "value": "13"},
                    {"name": "Cookie", "value": "sid=abc; theme=dark"},
                ],
                "queryString": [{"name": "room", "value": "1"}, {"name": "x", "value": ""}],
                "headersSize": -1,
                "bodySize": 0,
            },
            "response": {
                "status": 101,
                "statusText": "Switching Protocols",
                "httpVersion": "HTTP/1.1",
                "cookies": [],
                "headers": [
                    {"name": "Upgrade", "value": "websocket"},
                    {"name": "Connection", "value": "Upgrade"},
                    {"name": "Sec-WebSocket-Accept", "value": "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
                ],
                "content": {"size": 0, "mimeType": "x-unknown"},
                "redirectURL": "",
                "headersSize": -1,
                "bodySize": 0,
            },
            "cache": {},
            "timings": {
                "blocked": -1, "dns": -1, "connect": -1, "ssl": -1,
                "send": 0, "wait": 2.5, "receive": 0,
            },
            "serverIPAddress": "10.0.0.2",
            "connection": "9000",
            "_connectionId": "40001",
            "_resourceType": "websocket",
            "_wsnoop": {
                "conn": 1, "client": "10.0.0.1:40001", "server": "10.0.0.2:9000",
                "stream": null, "mid_stream": false, "refused": false,
            },
            "_webSocketMessages": [
                {"type": "send", "time": 1_700_000_000.004, "opcode": 1, "data": "hello \"w\"\n"},
                {"type": "receive", "time": 1_700_000_000.004_3, "opcode": 9, "data": "cA=="},
                {"type": "send", "time": 1_700_000_000.004_6, "opcode": 10, "data": ""},
            ],
        })
    );
    assert_eq!(
        entries[0]["_webSocketMessages"],
        json!([
            {"type": "receive", "time": 1_700_000_000.004_2, "opcode": 2, "data": "AAEC/w=="},
            {"type": "send", "time": 1_700_000_000.004_4, "opcode": 8, "data": "A+hieWU="},
        ])
    );
    // Times are exact decimals in the text, not rounded floats.
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("\"time\":1700000000.0043,"), "{text}");
}

#[test]
fn spilling_changes_nothing_and_bounds_memory() {
    let mut events = interleaved();
    // Grow connection 1 well past the limit.
    let big: Vec<Event> = (0..200)
        .map(|i| message(1, 4610 + i, Dir::S2c, Opcode::Binary, &[i as u8; 300]))
        .collect();
    let at = events.len() - 2;
    events.splice(at..at, big);
    let (plain, plain_peak) = export(&events, HarLimits::default());
    assert_eq!(plain_peak.1, 0, "no spill under the default limit");
    let dir = std::env::temp_dir();
    let small = HarLimits {
        max_buffered_bytes: 2000,
        spill_dir: Some(dir),
    };
    let (spilled, peak) = export(&events, small);
    assert_eq!(spilled, plain);
    // One 300-byte message's JSON (~420 bytes) past the limit at most, in memory.
    assert!(peak.0 <= 2000, "memory peak {}", peak.0);
    assert!(peak.1 > 60_000, "spill file peak {}", peak.1);
    let v = parse(&spilled);
    assert_eq!(
        v["log"]["entries"][1]["_webSocketMessages"]
            .as_array()
            .unwrap()
            .len(),
        203
    );
}

#[test]
fn spill_file_emptied_when_no_open_connection_needs_it() {
    let limits = HarLimits {
        max_buffered_bytes: 100,
        spill_dir: None,
    };
    let mut w = HarWriter::with_limits(Vec::new(), "1", limits);
    w.event(&open(1, 0, info_h1())).unwrap();
    w.event(&message(1, 1, Dir::C2s, Opcode::Text, &[b'a'; 200]))
        .unwrap();
    assert!(w.buffered().1 > 0);
    w.event(&end(1, 2)).unwrap();
    assert_eq!(w.buffered(), (0, 0));
    w.event(&open(2, 3, info_h1())).unwrap();
    w.event(&message(2, 4, Dir::C2s, Opcode::Text, b"x"))
        .unwrap();
    w.event(&end(2, 5)).unwrap();
    w.finish().unwrap();
    let v = parse(&w.into_inner());
    let e = &v["log"]["entries"];
    assert_eq!(e[0]["_webSocketMessages"][0]["data"], "a".repeat(200));
    assert_eq!(e[1]["_webSocketMessages"][0]["data"], "x");
}

#[test]
fn finish_writes_connections_still_open_and_empty_documents_are_valid() {
    let events = vec![
        open(5, 0, info_h1()),
        open(3, 1, info_h1()),
        message(3, 2, Dir::C2s, Opcode::Text, b"x"),
        // Messages of a connection never opened (filtered out) are skipped.
        message(9, 3, Dir::C2s, Opcode::Text, b"orphan"),
        end(9, 4),
    ];
    let (out, _) = export(&events, HarLimits::default());
    let v = parse(&out);
    let ids: Vec<_> = v["log"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["_wsnoop"]["conn"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, vec![3, 5]);
    let (out, _) = export(&[], HarLimits::default());
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"wsnoop\",\"version\":\"9.9.9\"},\
         \"pages\":[],\"entries\":[]}}\n"
    );
}

#[test]
fn invalid_utf8_text_keeps_its_bytes() {
    let events = vec![
        open(1, 0, info_h1()),
        message(1, 1, Dir::S2c, Opcode::Text, b"ok\xffno"),
        end(1, 2),
    ];
    let (out, _) = export(&events, HarLimits::default());
    let v = parse(&out);
    let m = &v["log"]["entries"][0]["_webSocketMessages"][0];
    assert_eq!(
        m,
        &json!({"type": "receive", "time": 1_700_000_000.000001, "opcode": 1,
                "data": "ok\u{fffd}no", "_invalidUtf8": true, "_dataBase64": "b2v/bm8="})
    );
}

#[test]
fn http2_entry() {
    let info = OpenInfo {
        handshake: Handshake {
            http: HttpVersion::Http2,
            method: "CONNECT".into(),
            target: "/ws?a=b".into(),
            status: 200,
            reason: String::new(),
            request_headers: hdrs(&[
                (":method", "CONNECT"),
                (":protocol", "websocket"),
                (":scheme", "https"),
                (":path", "/ws?a=b"),
                (":authority", "h2.test"),
                ("sec-websocket-version", "13"),
            ]),
            response_headers: hdrs(&[(":status", "200")]),
            request_ts: Some(ts(10)),
            response_ts: Some(ts(10)),
            response_packet: None,
        },
        tls: Some(TlsInfo::default()),
        ..OpenInfo::default()
    };
    let mut ev = open(1, 10, info);
    ev.conn = Some(ConnRef {
        stream: Some(3),
        ..conn(1)
    });
    let (out, _) = export(&[ev], HarLimits::default());
    let e = &parse(&out)["log"]["entries"][0];
    assert_eq!(e["request"]["method"], "CONNECT");
    assert_eq!(e["request"]["url"], "wss://h2.test/ws?a=b");
    assert_eq!(e["request"]["httpVersion"], "HTTP/2.0");
    assert_eq!(
        e["request"]["headers"][0],
        json!({"name": ":method", "value": "CONNECT"})
    );
    assert_eq!(
        e["request"]["queryString"],
        json!([{"name": "a", "value": "b"}])
    );
    assert_eq!(e["response"]["status"], 200);
    assert_eq!(e["response"]["statusText"], "");
    assert_eq!(e["response"]["httpVersion"], "HTTP/2.0");
    assert_eq!(e["timings"]["wait"], 0);
    assert_eq!(e["_wsnoop"]["stream"], 3);
}

#[test]
fn summary_only_and_mid_stream_connections() {
    // The engine recorded the summary but not the handshake itself.
    let info = OpenInfo {
        uri: Some("/feed".into()),
        host: Some("h.test".into()),
        ..OpenInfo::default()
    };
    let (out, _) = export(&[open(1, 7, info)], HarLimits::default());
    let e = &parse(&out)["log"]["entries"][0];
    assert_eq!(e["request"]["method"], "GET");
    assert_eq!(e["request"]["url"], "ws://h.test/feed");
    assert_eq!(e["response"]["status"], 101);
    assert_eq!(e["comment"], "handshake headers not recorded");
    assert_eq!(e["startedDateTime"], "2023-11-14T22:13:20.000007Z");
    let info = OpenInfo {
        mid_stream: true,
        ..OpenInfo::default()
    };
    let (out, _) = export(&[open(1, 7, info)], HarLimits::default());
    let e = &parse(&out)["log"]["entries"][0];
    assert_eq!(e["request"]["method"], "");
    assert_eq!(e["request"]["url"], "ws://10.0.0.2:9000");
    assert_eq!(e["response"]["status"], 0);
    assert_eq!(e["_wsnoop"]["mid_stream"], true);
}

#[test]
fn finish_twice_is_harmless_and_events_after_it_refused() {
    let mut w = HarWriter::new(Vec::new(), "1");
    w.finish().unwrap();
    w.finish().unwrap();
    assert!(w.event(&open(1, 0, info_h1())).is_err());
    let out = w.into_inner();
    assert_eq!(parse(&out)["log"]["entries"], json!([]));
}
