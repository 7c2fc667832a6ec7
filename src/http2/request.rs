//! The pseudo-header fields of a header list (RFC 9113 §8.3) and what they say about an
//! extended CONNECT (RFC 8441 §4, §5): the facts a session needs to recognise a WebSocket
//! carried in a stream.

use super::HeaderField;

/// The pseudo-header fields of a request or response, and its regular fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestHead {
    pub method: Option<String>,
    /// RFC 8441 §4: the extended CONNECT's protocol (`websocket`).
    pub protocol: Option<String>,
    pub scheme: Option<String>,
    pub authority: Option<String>,
    pub path: Option<String>,
    pub status: Option<u16>,
    /// Regular fields in order, as sent (values that are not UTF-8 kept lossily).
    pub headers: Vec<(String, String)>,
    /// Fields whose name is unknown (HPACK state lost): any of them may be a pseudo-header.
    pub unresolved: usize,
}

/// Whether a header list shows a WebSocket (extended CONNECT or its acceptance).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebSocketVerdict {
    Yes,
    No,
    /// Fields that could decide it are unresolved.
    Unknown,
}

/// Sort a header list into pseudo-headers and regular fields. The first of a repeated
/// pseudo-header wins.
pub fn classify(fields: &[HeaderField]) -> RequestHead {
    let mut head = RequestHead::default();
    for f in fields {
        if f.unresolved.is_some() {
            head.unresolved += 1;
            continue;
        }
        let value = String::from_utf8_lossy(&f.value).into_owned();
        let slot = match f.name.as_slice() {
            b":method" => &mut head.method,
            b":protocol" => &mut head.protocol,
            b":scheme" => &mut head.scheme,
            b":authority" => &mut head.authority,
            b":path" => &mut head.path,
            b":status" => {
                if head.status.is_none() {
                    head.status = value.parse().ok();
                }
                continue;
            }
            name => {
                head.headers
                    .push((String::from_utf8_lossy(name).into_owned(), value));
                continue;
            }
        };
        if slot.is_none() {
            *slot = Some(value);
        }
    }
    head
}

impl RequestHead {
    /// RFC 8441 §4: a request with `:method` CONNECT and `:protocol` websocket.
    pub fn websocket_request(&self) -> WebSocketVerdict {
        let connect = self.method.as_deref().map(|m| m == "CONNECT");
        let websocket = self
            .protocol
            .as_deref()
            .map(|p| p.eq_ignore_ascii_case("websocket"));
        match (connect, websocket) {
            (Some(true), Some(true)) => WebSocketVerdict::Yes,
            (Some(false), _) | (_, Some(false)) => WebSocketVerdict::No,
            _ if self.unresolved > 0 => WebSocketVerdict::Unknown,
            _ => WebSocketVerdict::No,
        }
    }

    /// RFC 8441 §5 (as the session takes it): the server accepts with `:status` 200.
    pub fn websocket_accepted(&self) -> WebSocketVerdict {
        match self.status {
            Some(200) => WebSocketVerdict::Yes,
            Some(_) => WebSocketVerdict::No,
            None if self.unresolved > 0 => WebSocketVerdict::Unknown,
            None => WebSocketVerdict::No,
        }
    }

    /// The first regular field named `name` (HTTP/2 names are lowercase, RFC 9113 §8.2.1).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `scheme://authority/path`, when all three are known.
    pub fn uri(&self) -> Option<String> {
        Some(format!(
            "{}://{}{}",
            self.scheme.as_deref()?,
            self.authority.as_deref()?,
            self.path.as_deref()?
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(pairs: &[(&str, &str)]) -> Vec<HeaderField> {
        pairs
            .iter()
            .map(|(n, v)| HeaderField::new(*n, *v))
            .collect()
    }

    #[test]
    fn extended_connect_recognised() {
        let head = classify(&list(&[
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":scheme", "https"),
            (":path", "/chat?x=1"),
            (":authority", "example.com:8443"),
            ("sec-websocket-version", "13"),
            ("sec-websocket-extensions", "permessage-deflate"),
        ]));
        assert_eq!(head.websocket_request(), WebSocketVerdict::Yes);
        assert_eq!(head.uri().unwrap(), "https://example.com:8443/chat?x=1");
        assert_eq!(head.header("Sec-WebSocket-Version"), Some("13"));
        assert_eq!(head.headers.len(), 2);
        assert_eq!(head.status, None);
    }

    #[test]
    fn other_requests_are_not_websocket() {
        let get = classify(&list(&[(":method", "GET"), (":path", "/")]));
        assert_eq!(get.websocket_request(), WebSocketVerdict::No);
        // Plain CONNECT (RFC 9113 §8.5) has no :protocol.
        let tunnel = classify(&list(&[(":method", "CONNECT"), (":authority", "h:443")]));
        assert_eq!(tunnel.websocket_request(), WebSocketVerdict::No);
        let other = classify(&list(&[
            (":method", "CONNECT"),
            (":protocol", "webtransport"),
        ]));
        assert_eq!(other.websocket_request(), WebSocketVerdict::No);
    }

    #[test]
    fn unresolved_fields_leave_it_open() {
        let mut fields = list(&[(":method", "CONNECT")]);
        fields.push(HeaderField::unresolved(70));
        let head = classify(&fields);
        assert_eq!(head.unresolved, 1);
        assert_eq!(head.websocket_request(), WebSocketVerdict::Unknown);
        // A known GET is not a WebSocket whatever else is unknown.
        let mut fields = list(&[(":method", "GET")]);
        fields.push(HeaderField::unresolved(70));
        assert_eq!(classify(&fields).websocket_request(), WebSocketVerdict::No);
    }

    #[test]
    fn response_status() {
        let ok = classify(&list(&[
            (":status", "200"),
            ("sec-websocket-extensions", "x"),
        ]));
        assert_eq!(ok.websocket_accepted(), WebSocketVerdict::Yes);
        let no = classify(&list(&[(":status", "404")]));
        assert_eq!(no.websocket_accepted(), WebSocketVerdict::No);
        let unknown = classify(&[HeaderField::unresolved(62)]);
        assert_eq!(unknown.websocket_accepted(), WebSocketVerdict::Unknown);
    }
}
