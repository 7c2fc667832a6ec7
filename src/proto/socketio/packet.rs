//! Socket.IO packets (socket.io-protocol v5, and v4 as Engine.IO 3 carries it): a type digit,
//! for binary packets the attachment count and `-`, an optional `/namespace,`, an optional
//! ack id, then the JSON payload.

use serde_json::Value;

/// socket.io-protocol §"Packet types".
pub(super) fn type_name(t: u8) -> Option<&'static str> {
    Some(match t {
        0 => "CONNECT",
        1 => "DISCONNECT",
        2 => "EVENT",
        3 => "ACK",
        4 => "CONNECT_ERROR",
        5 => "BINARY_EVENT",
        6 => "BINARY_ACK",
        _ => return None,
    })
}

#[derive(Debug, PartialEq)]
pub(super) struct Packet {
    pub kind: u8,
    pub attachments: Option<u32>,
    pub namespace: String,
    pub ack_id: Option<u64>,
    pub payload: Option<Value>,
}

/// Parses the text after the Engine.IO message type.
pub(super) fn parse(text: &str) -> Result<Packet, String> {
    let bytes = text.as_bytes();
    let Some(&t) = bytes.first() else {
        return Err("empty Socket.IO packet".into());
    };
    let kind = t.wrapping_sub(b'0');
    if type_name(kind).is_none() {
        return Err(format!("unknown Socket.IO packet type {:?}", t as char));
    }
    let mut at = 1;
    let digits = |from: usize| {
        bytes
            .get(from..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut attachments = None;
    if kind == 5 || kind == 6 {
        let n = digits(at);
        let count = text
            .get(at..at + n)
            .and_then(|s| s.parse::<u32>().ok())
            .ok_or("a binary packet without its attachment count")?;
        if bytes.get(at + n) != Some(&b'-') {
            return Err("attachment count not followed by '-'".into());
        }
        attachments = Some(count);
        at += n + 1;
    }
    let mut namespace = "/".to_owned();
    if bytes.get(at) == Some(&b'/') {
        let end = memchr::memchr(b',', bytes.get(at..).unwrap_or_default())
            .map_or(bytes.len(), |i| at + i);
        namespace = text.get(at..end).unwrap_or_default().to_owned();
        at = (end + 1).min(bytes.len());
    }
    let n = digits(at);
    let ack_id = if n > 0 {
        let id = text
            .get(at..at + n)
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or("ack id out of range")?;
        at += n;
        Some(id)
    } else {
        None
    };
    let rest = text.get(at..).unwrap_or_default();
    let payload = if rest.is_empty() {
        None
    } else {
        Some(serde_json::from_str(rest).map_err(|e| format!("payload is not JSON: {e}"))?)
    };
    let p = Packet {
        kind,
        attachments,
        namespace,
        ack_id,
        payload,
    };
    check(&p)?;
    Ok(p)
}

/// What each type may carry (socket.io-parser's `isPayloadValid`).
fn check(p: &Packet) -> Result<(), String> {
    let ok = match (p.kind, &p.payload) {
        (0, None | Some(Value::Object(_))) => true,
        (1, None) => true,
        (4, Some(Value::String(_) | Value::Object(_))) => true,
        (2 | 5, Some(Value::Array(a))) => {
            matches!(a.first(), Some(Value::String(_) | Value::Number(_)))
        }
        (3 | 6, Some(Value::Array(_))) => true,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "a {} packet with {}",
            type_name(p.kind).unwrap_or("?"),
            match &p.payload {
                None => "no payload".to_owned(),
                Some(v) => format!(
                    "a payload of the wrong shape: {}",
                    crate::proto::text::brief(v)
                ),
            }
        ))
    }
}

/// Replaces `{"_placeholder":true,"num":N}` with `{"$binary_b64": ...}` of attachment N;
/// returns the numbers that had no attachment.
pub(super) fn fill_placeholders(v: &mut Value, attachments: &[Vec<u8>], missing: &mut Vec<u64>) {
    match v {
        Value::Array(items) => {
            for item in items {
                fill_placeholders(item, attachments, missing);
            }
        }
        Value::Object(map) => {
            if map.get("_placeholder") == Some(&Value::Bool(true))
                && let Some(num) = map.get("num").and_then(Value::as_u64)
            {
                match usize::try_from(num).ok().and_then(|i| attachments.get(i)) {
                    Some(bytes) => {
                        let mut m = serde_json::Map::new();
                        m.insert(
                            "$binary_b64".into(),
                            Value::from(crate::proto::text::b64(bytes)),
                        );
                        *v = Value::Object(m);
                    }
                    None => missing.push(num),
                }
                return;
            }
            for item in map.values_mut() {
                fill_placeholders(item, attachments, missing);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn packets_of_the_protocol_document() {
        // socket.io-protocol v5, "Sample session" and "Packet encoding".
        assert_eq!(
            parse("2[\"hello\",1]").unwrap(),
            Packet {
                kind: 2,
                attachments: None,
                namespace: "/".into(),
                ack_id: None,
                payload: Some(json!(["hello", 1]))
            }
        );
        assert_eq!(
            parse("2/admin,456[\"project:delete\",123]").unwrap(),
            Packet {
                kind: 2,
                attachments: None,
                namespace: "/admin".into(),
                ack_id: Some(456),
                payload: Some(json!(["project:delete", 123]))
            }
        );
        assert_eq!(
            parse("3/admin,456[]").unwrap(),
            Packet {
                kind: 3,
                attachments: None,
                namespace: "/admin".into(),
                ack_id: Some(456),
                payload: Some(json!([]))
            }
        );
        assert_eq!(
            parse("51-[\"hello\",{\"_placeholder\":true,\"num\":0}]")
                .unwrap()
                .attachments,
            Some(1)
        );
        assert_eq!(
            parse("0/admin,{\"sid\":\"oSO0OpakMV_3jnilAAAA\"}")
                .unwrap()
                .namespace,
            "/admin"
        );
        assert_eq!(parse("1/admin,").unwrap().payload, None);
        assert_eq!(
            parse("4{\"message\":\"Not authorized\"}").unwrap().payload,
            Some(json!({"message": "Not authorized"}))
        );
    }

    #[test]
    fn malformed_packets() {
        assert!(parse("9").is_err());
        assert!(parse("2").is_err(), "an EVENT needs its array");
        assert!(parse("2[1").is_err());
        assert!(parse("5[\"a\"]").is_err(), "no attachment count");
        assert!(parse("1{}").is_err());
    }

    #[test]
    fn placeholders_are_filled() {
        let mut v =
            json!(["a", {"_placeholder": true, "num": 0}, {"x": {"_placeholder": true, "num": 2}}]);
        let mut missing = Vec::new();
        fill_placeholders(&mut v, &[vec![1, 2]], &mut missing);
        assert_eq!(
            v,
            json!(["a", {"$binary_b64": "AQI="}, {"x": {"_placeholder": true, "num": 2}}])
        );
        assert_eq!(missing, [2]);
    }
}
