//! Synthetic events for the UI's tests, snapshots and the render benchmark (the UI is built
//! and checked without captures or a working engine).

use std::net::SocketAddr;

use crate::event::{
    Anomaly, AnomalyKind, ConnRef, Dir, EndHow, Event, EventKind, FrameInfo, Message, Opcode,
    OpenInfo, Timestamp,
};

fn conn(id: u64) -> ConnRef {
    let client = SocketAddr::from(([10, 0, 0, 1], 50_000 + id as u16));
    let server = SocketAddr::from(([10, 0, 0, 2], 8080));
    ConnRef {
        id,
        client,
        server,
        stream: None,
    }
}

/// Time `secs` plus `id` milliseconds, so connections interleave deterministically.
fn ts(secs: i64) -> Timestamp {
    Timestamp::new(1_700_000_000 + secs, 0)
}

pub fn open(id: u64, secs: i64) -> Event {
    Event {
        ts: ts(secs),
        conn: Some(conn(id)),
        kind: EventKind::Open(Box::new(OpenInfo {
            uri: Some("/chat".into()),
            host: Some("example.com".into()),
            origin: None,
            user_agent: None,
            subprotocol: Some("chat.v1".into()),
            extensions: Some("permessage-deflate; client_max_window_bits".into()),
            mid_stream: false,
            ..OpenInfo::default()
        })),
    }
}

pub fn message(id: u64, secs: i64, dir: Dir, opcode: Opcode, payload: &[u8]) -> Event {
    message_at(id, ts(secs), dir, opcode, payload)
}

pub fn message_at(id: u64, at: Timestamp, dir: Dir, opcode: Opcode, payload: &[u8]) -> Event {
    let mask = (dir == Dir::C2s).then_some([0x37, 0xfa, 0x21, 0x3d]);
    let len = payload.len() as u64;
    let header_len = 2 + if len > 65535 {
        8
    } else if len > 125 {
        2
    } else {
        0
    };
    Event {
        ts: at,
        conn: Some(conn(id)),
        kind: EventKind::Message {
            dir,
            msg: Message {
                opcode,
                payload: payload.to_vec(),
                frames: 1,
                compressed: false,
                wire_len: len,
                utf8_valid: opcode != Opcode::Text || std::str::from_utf8(payload).is_ok(),
                frame_detail: vec![FrameInfo {
                    fin: true,
                    rsv: 0,
                    opcode,
                    mask,
                    payload_len: len,
                    header_len: header_len + if mask.is_some() { 4 } else { 0 },
                    ts: at,
                }],
                packets: None,
                truncated: false,
            },
        },
    }
}

pub fn anomaly(id: Option<u64>, secs: i64, kind: AnomalyKind, detail: &str) -> Event {
    Event {
        ts: ts(secs),
        conn: id.map(conn),
        kind: EventKind::Anomaly {
            dir: id.map(|_| Dir::S2c),
            anomaly: Anomaly::new(kind, detail),
        },
    }
}

pub fn end(id: u64, secs: i64, how: EndHow) -> Event {
    Event {
        ts: ts(secs),
        conn: Some(conn(id)),
        kind: EventKind::End {
            how,
            messages: 0,
            bytes: 0,
            report: None,
        },
    }
}

/// A small capture's worth of events: two connections, JSON, text, binary, a compressed
/// fragmented message, control frames, an anomaly, and one connection picked up mid-stream.
pub fn sample() -> Vec<Event> {
    let mut v = vec![
        open(1, 0),
        message(1, 0, Dir::C2s, Opcode::Text, br#"{"type":"subscribe","channel":"ticker","ids":[1,2,3],"snapshot":true}"#),
        message(1, 1, Dir::S2c, Opcode::Text, br#"{"type":"ack","ok":true,"price":42.5,"note":null}"#),
        message(1, 2, Dir::S2c, Opcode::Text, b"plain text reply that is long enough to need wrapping in a narrow detail pane, with more words after it"),
        message(1, 3, Dir::C2s, Opcode::Binary, b"\x00\x01\x02\x03binary\xff\xfe\x80payload with bytes"),
        message(1, 4, Dir::C2s, Opcode::Ping, b"hb"),
        message(1, 4, Dir::S2c, Opcode::Pong, b"hb"),
    ];
    let mut compressed = message(
        1,
        5,
        Dir::S2c,
        Opcode::Text,
        br#"{"type":"update","price":43.0}"#,
    );
    if let EventKind::Message { msg, .. } = &mut compressed.kind {
        msg.compressed = true;
        msg.wire_len = 24;
        msg.frames = 2;
        let first = msg.frame_detail[0];
        msg.frame_detail = vec![
            FrameInfo {
                fin: false,
                rsv: 0b100,
                payload_len: 12,
                header_len: 2,
                ..first
            },
            FrameInfo {
                fin: true,
                rsv: 0,
                opcode: Opcode::Continuation,
                payload_len: 12,
                header_len: 2,
                ..first
            },
        ];
    }
    v.push(compressed);
    v.push(open(2, 6));
    if let Some(Event {
        kind: EventKind::Open(info),
        ..
    }) = v.last_mut()
    {
        info.mid_stream = true;
        info.uri = None;
        info.subprotocol = None;
        info.extensions = None;
    }
    v.extend([
        message(2, 6, Dir::S2c, Opcode::Text, b"hello from two"),
        anomaly(Some(2), 7, AnomalyKind::TcpGap, "12 bytes lost in s2c"),
        message(1, 8, Dir::C2s, Opcode::Close, b"\x03\xe8bye now"),
        message(1, 8, Dir::S2c, Opcode::Close, b"\x03\xe8"),
        end(1, 8, EndHow::Fin),
        end(2, 9, EndHow::Eof),
    ]);
    v
}
