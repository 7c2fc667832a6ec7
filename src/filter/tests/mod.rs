//! Shared fixtures: subjects over a few connections with endpoints, URIs and HTTP/2 streams.

mod errors;
mod grammar;
mod health;
mod legacy;
mod props;
mod proto;
mod selection;
mod terms;
mod values;

use crate::event::{AnomalyKind, ConnId, Dir, Opcode, Transport};
use crate::filter::{Filter, FilterError, Item, Subject};

pub fn tr(client: &str, server: &str, stream: Option<u32>) -> Transport {
    Transport {
        client: client.parse().unwrap(),
        server: server.parse().unwrap(),
        stream,
    }
}

/// Connection facts: number, endpoints, URI.
type Facts = (Option<ConnId>, Option<Transport>, Option<&'static str>);

fn facts(i: u8) -> Facts {
    match i {
        1 => (
            Some(1),
            Some(tr("10.0.0.1:5000", "10.0.0.2:8765", None)),
            Some("/Chat?room=1"),
        ),
        2 => (
            Some(2),
            Some(tr("[2001:db8::1]:6000", "[2001:db8::2]:443", Some(3))),
            Some("/feed"),
        ),
        // Picked up mid-stream: no URI.
        3 => (
            Some(3),
            Some(tr("192.168.1.7:7000", "10.0.0.2:80", None)),
            None,
        ),
        // IPv4-mapped IPv6 endpoints.
        7 => (
            Some(7),
            Some(tr("[::ffff:10.1.2.3]:5555", "[::ffff:10.9.9.9]:8080", None)),
            Some("/api/v2/Stream"),
        ),
        // A TLS connection without keys: endpoints, no number.
        4 => (
            None,
            Some(tr("172.16.0.1:1234", "172.16.0.2:443", None)),
            None,
        ),
        _ => (None, None, None),
    }
}

pub fn message(c: u8, dir: Dir, opcode: Opcode, payload: &'static [u8]) -> Subject<'static> {
    let (conn, transport, uri) = facts(c);
    Subject {
        conn,
        transport,
        uri,
        dir: Some(dir),
        item: Item::Message {
            opcode,
            len: payload.len() as u64,
            payload,
        },
    }
}

pub fn anomaly(
    c: u8,
    dir: Option<Dir>,
    kind: AnomalyKind,
    detail: &'static str,
) -> Subject<'static> {
    let (conn, transport, uri) = facts(c);
    Subject {
        conn,
        transport,
        uri,
        dir,
        item: Item::Anomaly { kind, detail },
    }
}

/// 0-5 and 9 are messages; 6 is an anomaly of connection 3, 7 one about the input, 8 one
/// about a transport connection without a WebSocket number.
pub fn sample() -> Vec<Subject<'static>> {
    vec![
        message(1, Dir::C2s, Opcode::Text, b"{\"type\":\"Hello\"}"),
        message(1, Dir::S2c, Opcode::Text, b"hello back"),
        message(2, Dir::C2s, Opcode::Binary, &[0, 1, 2, 0xff]),
        message(2, Dir::S2c, Opcode::Ping, b""),
        message(3, Dir::S2c, Opcode::Close, b"\x03\xe8bye"),
        message(3, Dir::C2s, Opcode::Reserved(3), b"x"),
        anomaly(3, Some(Dir::S2c), AnomalyKind::TcpGap, "12 bytes lost"),
        anomaly(
            0,
            None,
            AnomalyKind::CorruptCapture,
            "bad record: truncated",
        ),
        anomaly(
            4,
            None,
            AnomalyKind::named("tls_no_keys"),
            "no key for this TLS connection",
        ),
        message(7, Dir::C2s, Opcode::Text, b"bye now"),
    ]
}

/// Indices of the sample subjects the filter selects.
pub fn keep(src: &str) -> Vec<usize> {
    let f = Filter::parse(src).unwrap_or_else(|e| panic!("{src:?}: {e}"));
    sample()
        .iter()
        .enumerate()
        .filter(|(_, s)| f.matches(s))
        .map(|(i, _)| i)
        .collect()
}

/// The error of a filter that must not parse.
pub fn err(src: &str) -> FilterError {
    match Filter::parse(src) {
        Ok(f) => panic!("{src:?} parsed: {f:?}"),
        Err(e) => e,
    }
}

/// The error's column, and its message (which must contain `part`).
pub fn err_at(src: &str, part: &str) -> usize {
    let e = err(src);
    assert!(
        e.message.contains(part),
        "{src:?}: {:?} does not say {part:?}",
        e.message
    );
    assert!(!e.message.contains('\n'), "{src:?}: {e}");
    e.column
}

pub const ALL_MESSAGES: [usize; 7] = [0, 1, 2, 3, 4, 5, 9];
pub const NONE: [usize; 0] = [];
