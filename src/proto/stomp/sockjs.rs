//! SockJS framing over a WebSocket (the SockJS protocol's "Framing"): the server sends `o`
//! (open), `h` (heart-beat), `a["msg",...]` (messages), `c[code,"reason"]` (close); the client
//! sends `["msg",...]`.

use serde_json::Value;

/// The first data message of a connection is SockJS framing.
pub(super) fn looks_like(p: &[u8]) -> bool {
    p == b"o" || p == b"h" || p.starts_with(b"a[") || p.starts_with(b"[\"") || p.starts_with(b"c[")
}

/// The messages a SockJS frame carries, joined; `None` for frames that carry none.
pub(super) fn peel(p: &[u8]) -> Result<Option<Vec<u8>>, String> {
    match p {
        b"o" | b"h" => return Ok(None),
        [b'c', b'[', ..] => return Ok(None),
        _ => {}
    }
    let array = p.strip_prefix(b"a").unwrap_or(p);
    let items: Vec<Value> = serde_json::from_slice(array)
        .map_err(|e| format!("a SockJS frame that is not a JSON array of strings: {e}"))?;
    let mut joined = Vec::new();
    for item in items {
        match item {
            Value::String(s) => joined.extend_from_slice(s.as_bytes()),
            _ => return Err("a SockJS message that is not a string".into()),
        }
    }
    Ok(Some(joined))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_peeled() {
        assert_eq!(peel(b"o"), Ok(None));
        assert_eq!(peel(b"h"), Ok(None));
        assert_eq!(peel(b"c[3000,\"Go away!\"]"), Ok(None));
        assert_eq!(
            peel(br#"a["MESSAGE\ndestination:/t\n\nhi\u0000","\n"]"#),
            Ok(Some(b"MESSAGE\ndestination:/t\n\nhi\0\n".to_vec()))
        );
        assert_eq!(
            peel(br#"["SEND\n\n\u0000"]"#),
            Ok(Some(b"SEND\n\n\0".to_vec()))
        );
        assert!(peel(b"a[1]").is_err());
    }
}
