//! Recognising a connection's protocol: by the negotiated subprotocol and the request target,
//! else by the shape of its first messages.

use serde_json::Value;

use super::stomp::StompVersion;
use super::{MsgRef, ProtoHints, ProtoName};
use crate::event::Opcode;

/// What a probed message showed.
pub(crate) enum Found {
    /// This protocol; `true` when it travels inside SockJS frames.
    Proto(ProtoName, bool),
    /// A message that belongs to no protocol but announces one may follow (SockJS's open
    /// and heart-beat frames): it does not count against the probing budget.
    Wait,
}

/// By the handshake alone.
pub(crate) fn by_handshake(h: &ProtoHints<'_>) -> Option<ProtoName> {
    if let Some(sub) = h.subprotocol {
        let known = [
            ("mqtt", ProtoName::Mqtt),
            ("mqttv3.1", ProtoName::Mqtt),
            ("mqttv3.1.1", ProtoName::Mqtt),
            ("v12.stomp", ProtoName::Stomp),
            ("v11.stomp", ProtoName::Stomp),
            ("v10.stomp", ProtoName::Stomp),
            ("stomp", ProtoName::Stomp),
            ("graphql-transport-ws", ProtoName::GraphqlWs),
            ("graphql-ws", ProtoName::GraphqlWs),
        ];
        if let Some((_, name)) = known
            .iter()
            .find(|(s, _)| s.eq_ignore_ascii_case(sub.trim()))
        {
            return Some(*name);
        }
    }
    let uri = h.uri?;
    if eio_version(uri).is_some() {
        return Some(ProtoName::SocketIo);
    }
    // The Chrome DevTools Protocol's endpoints: /devtools/browser/<id>, /devtools/page/<id>.
    if uri.starts_with("/devtools/") {
        return Some(ProtoName::JsonRpc);
    }
    None
}

/// The Engine.IO protocol version of a `/socket.io/?EIO=4&transport=websocket` target.
pub(crate) fn eio_version(uri: &str) -> Option<u8> {
    let (path, query) = uri.split_once('?')?;
    let eio = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("EIO="))?
        .parse::<u8>()
        .ok()?;
    (path.contains("/socket.io") || path.contains("/engine.io") || (3..=4).contains(&eio))
        .then_some(eio)
}

/// The STOMP version a subprotocol names (STOMP 1.2 §"Protocol Negotiation", over WebSocket
/// the `vNN.stomp` names).
pub(crate) fn stomp_version(sub: &str) -> Option<StompVersion> {
    match sub.trim().to_ascii_lowercase().as_str() {
        "v10.stomp" => Some(StompVersion::V10),
        "v11.stomp" => Some(StompVersion::V11),
        "v12.stomp" => Some(StompVersion::V12),
        _ => None,
    }
}

/// By the shape of one data message.
pub(crate) fn by_message(msg: &MsgRef<'_>) -> Option<Found> {
    let p = msg.payload;
    if msg.opcode == Opcode::Binary && is_mqtt_connect(p) {
        return Some(Found::Proto(ProtoName::Mqtt, false));
    }
    if is_stomp_open(p) {
        return Some(Found::Proto(ProtoName::Stomp, false));
    }
    if msg.opcode != Opcode::Text {
        return None;
    }
    // SockJS (as Spring serves STOMP): `o` opens, `h` is a heart-beat, `a[...]` carries
    // messages.
    if p == b"o" || p == b"h" {
        return Some(Found::Wait);
    }
    if let Some(inner) = p.strip_prefix(b"a")
        && let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(inner)
    {
        let first = items.first().and_then(Value::as_str)?;
        return is_stomp_open(first.as_bytes()).then_some(Found::Proto(ProtoName::Stomp, true));
    }
    // Engine.IO: the server's open packet, or the client's upgrade probe.
    if p == b"2probe" || (p.starts_with(b"0{") && memchr::memmem::find(p, b"\"sid\"").is_some()) {
        return Some(Found::Proto(ProtoName::SocketIo, false));
    }
    let start = p.iter().position(|b| !b.is_ascii_whitespace())?;
    if !matches!(p.get(start), Some(b'{' | b'[')) {
        return None;
    }
    // SignalR: the handshake request `{"protocol":"json","version":1}` then 0x1E.
    if let Some(end) = memchr::memchr(0x1e, p) {
        let head = p.get(..end)?;
        let v: Value = serde_json::from_slice(head).ok()?;
        return (v.get("protocol").is_some_and(Value::is_string)
            && v.get("version").is_some_and(Value::is_u64))
        .then_some(Found::Proto(ProtoName::SignalR, false));
    }
    if !may_name_a_json_protocol(p) {
        return None;
    }
    let v: Value = serde_json::from_slice(p).ok()?;
    let first = match &v {
        Value::Array(items) => items.first()?,
        other => other,
    };
    if first.get("jsonrpc").and_then(Value::as_str) == Some("2.0") {
        return Some(Found::Proto(ProtoName::JsonRpc, false));
    }
    if first.get("type").and_then(Value::as_str) == Some("connection_init") {
        return Some(Found::Proto(ProtoName::GraphqlWs, false));
    }
    if is_cdp(first) {
        return Some(Found::Proto(ProtoName::JsonRpc, false));
    }
    None
}

/// Whether a JSON text can hold what the checks below look for: a `jsonrpc` or `method` key,
/// or a `connection_init` value. Most JSON messages hold none of them, and parsing a large
/// one whole into a `Value` costs far more than looking for three words. A key can also be
/// spelled with `\u` escapes (`"json\u0072pc"`), so a text with any of those is parsed.
fn may_name_a_json_protocol(p: &[u8]) -> bool {
    use memchr::memmem::find;
    find(p, b"jsonrpc").is_some()
        || find(p, b"method").is_some()
        || find(p, b"connection_init").is_some()
        || find(p, b"\\u").is_some()
}

/// An MQTT CONNECT: type 1, flags 0, then the protocol name `MQTT` or `MQIsdp`.
fn is_mqtt_connect(p: &[u8]) -> bool {
    let Some((&0x10, rest)) = p.split_first() else {
        return false;
    };
    let skip = rest
        .iter()
        .take(4)
        .position(|b| b & 0x80 == 0)
        .map(|i| i + 1);
    let Some(body) = skip.and_then(|n| rest.get(n..)) else {
        return false;
    };
    body.starts_with(b"\x00\x04MQTT") || body.starts_with(b"\x00\x06MQIsdp")
}

/// A client's first STOMP frame (STOMP 1.2 §"Connecting": CONNECT, or STOMP since 1.1).
fn is_stomp_open(p: &[u8]) -> bool {
    ["CONNECT", "STOMP"].iter().any(|cmd| {
        p.strip_prefix(cmd.as_bytes())
            .is_some_and(|r| r.starts_with(b"\n") || r.starts_with(b"\r\n"))
    })
}

/// The Chrome DevTools Protocol: JSON-RPC without `jsonrpc`; commands `{"id":N,"method":
/// "Domain.method",...}`, events `{"method":"Domain.event","params":{...}}`.
fn is_cdp(v: &Value) -> bool {
    if v.get("jsonrpc").is_some() {
        return false;
    }
    let Some(method) = v.get("method").and_then(Value::as_str) else {
        return false;
    };
    let domain_method = method.split_once('.').is_some_and(|(d, m)| {
        d.starts_with(|c: char| c.is_ascii_uppercase())
            && d.chars().all(|c| c.is_ascii_alphanumeric())
            && !m.is_empty()
            && m.chars().all(|c| c.is_ascii_alphanumeric())
    });
    domain_method
        && (v.get("id").is_some_and(Value::is_u64) || v.get("params").is_some_and(Value::is_object))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_without_a_protocol_word_is_not_parsed_but_escaped_keys_are() {
        let text = |p: &'static [u8]| MsgRef {
            dir: crate::event::Dir::C2s,
            ts: crate::event::Timestamp::default(),
            opcode: Opcode::Text,
            payload: p,
        };
        assert!(!may_name_a_json_protocol(br#"{"type":"hb","seq":1}"#));
        assert!(by_message(&text(br#"{"type":"hb","seq":1}"#)).is_none());
        // `\u0072` is `r`: the key is `jsonrpc`.
        let escaped: &[u8] = br#"{"json\u0072pc":"2.0","method":"a","id":1}"#;
        assert!(may_name_a_json_protocol(escaped));
        let spelled: &[u8] = br#"{"json\u0072pc":"2.0","id":1,"result":0}"#;
        assert!(matches!(
            by_message(&text(spelled)),
            Some(Found::Proto(ProtoName::JsonRpc, false))
        ));
        assert!(matches!(
            by_message(&text(br#"{"type":"connection_init"}"#)),
            Some(Found::Proto(ProtoName::GraphqlWs, false))
        ));
    }
    use crate::event::{Dir, Timestamp};

    fn probe(opcode: Opcode, p: &[u8]) -> Option<ProtoName> {
        let msg = MsgRef {
            dir: Dir::C2s,
            ts: Timestamp::default(),
            opcode,
            payload: p,
        };
        match by_message(&msg) {
            Some(Found::Proto(n, _)) => Some(n),
            _ => None,
        }
    }

    #[test]
    fn subprotocols_and_targets() {
        let h = |sub, uri| ProtoHints {
            subprotocol: sub,
            uri,
        };
        assert_eq!(by_handshake(&h(Some("mqtt"), None)), Some(ProtoName::Mqtt));
        assert_eq!(
            by_handshake(&h(Some("v12.stomp"), None)),
            Some(ProtoName::Stomp)
        );
        assert_eq!(
            by_handshake(&h(Some("graphql-transport-ws"), None)),
            Some(ProtoName::GraphqlWs)
        );
        assert_eq!(
            by_handshake(&h(None, Some("/socket.io/?EIO=4&transport=websocket"))),
            Some(ProtoName::SocketIo)
        );
        assert_eq!(
            eio_version("/socket.io/?transport=websocket&EIO=3"),
            Some(3)
        );
        assert_eq!(
            by_handshake(&h(None, Some("/devtools/browser/5e6f"))),
            Some(ProtoName::JsonRpc)
        );
        assert_eq!(by_handshake(&h(Some("chat"), Some("/ws"))), None);
    }

    #[test]
    fn first_messages() {
        assert_eq!(
            probe(
                Opcode::Binary,
                b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00"
            ),
            Some(ProtoName::Mqtt)
        );
        assert_eq!(
            probe(Opcode::Text, b"CONNECT\naccept-version:1.2\n\n\0"),
            Some(ProtoName::Stomp)
        );
        assert_eq!(
            probe(
                Opcode::Text,
                br#"a["CONNECT\naccept-version:1.2\n\n\u0000"]"#
            ),
            Some(ProtoName::Stomp)
        );
        assert_eq!(
            probe(Opcode::Text, b"{\"protocol\":\"json\",\"version\":1}\x1e"),
            Some(ProtoName::SignalR)
        );
        assert_eq!(
            probe(Opcode::Text, br#"{"jsonrpc":"2.0","method":"a","id":1}"#),
            Some(ProtoName::JsonRpc)
        );
        assert_eq!(
            probe(Opcode::Text, br#"[{"jsonrpc":"2.0","method":"a","id":1}]"#),
            Some(ProtoName::JsonRpc)
        );
        assert_eq!(
            probe(
                Opcode::Text,
                br#"{"id":1,"method":"Target.setDiscoverTargets","params":{"discover":true}}"#
            ),
            Some(ProtoName::JsonRpc)
        );
        assert_eq!(
            probe(Opcode::Text, br#"{"type":"connection_init","payload":{}}"#),
            Some(ProtoName::GraphqlWs)
        );
        assert_eq!(
            probe(
                Opcode::Text,
                br#"0{"sid":"abc","upgrades":[],"pingInterval":25000}"#
            ),
            Some(ProtoName::SocketIo)
        );
        // Application JSON that merely has a method is not taken for CDP.
        assert_eq!(probe(Opcode::Text, br#"{"method":"add","id":1}"#), None);
        assert_eq!(probe(Opcode::Text, b"hello"), None);
        assert_eq!(probe(Opcode::Binary, b"\x10\x02\x00\x00"), None);
    }
}
