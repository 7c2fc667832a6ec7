//! Message heads parsed with httparse and reduced to what the HTTP phase needs: body framing
//! (RFC 9112 §6), and for WebSocket upgrades the handshake fields (RFC 6455 §4.1, §4.2).

use crate::event::{Handshake, HttpVersion, OpenInfo, Timestamp};
use httparse::{EMPTY_HEADER, Header, Status};

/// Header lines accepted per head; more is `TooManyHeaders` and the connection is given up.
pub(super) const MAX_HEADERS: usize = 64;

/// Outcome of parsing a complete-looking head.
pub(super) enum Parsed<T> {
    /// Not complete after all (empty lines before the start line): look further.
    Partial,
    /// The head and its length in bytes.
    Done(T, usize),
    /// Not valid HTTP: why.
    Bad(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Method {
    Head,
    Connect,
    Other,
}

/// How a message's body is delimited (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Framing {
    None,
    Length(u64),
    Chunked,
    /// Runs to the connection's close: nothing after it can be followed.
    UntilClose,
}

pub(super) struct RequestHead {
    pub(super) method: Method,
    pub(super) framing: Framing,
    /// Set when the request asks for a WebSocket upgrade.
    pub(super) upgrade: Option<Box<WsRequest>>,
}

/// What the answer to a WebSocket upgrade request is checked against.
#[derive(Debug)]
pub(super) struct WsRequest {
    pub(super) key: String,
    /// uri, host, origin and user agent.
    pub(super) info: OpenInfo,
    /// Not a WebSocket request but an `Upgrade: h2c` one (RFC 7540 §3.2): answered 101, the
    /// connection goes on as HTTP/2, whose extended CONNECT streams may carry WebSockets.
    pub(super) h2c: bool,
}

pub(super) struct ResponseHead {
    pub(super) code: u16,
    /// `Some(final coding is chunked)` when Transfer-Encoding is present.
    transfer_chunked: Option<bool>,
    /// `Err` for an invalid or conflicting Content-Length.
    content_length: Result<Option<u64>, ()>,
    /// Filled for 101 only.
    pub(super) switch: Option<Box<Switch>>,
    /// The reason phrase and headers, when asked for (an answer to a WebSocket upgrade request
    /// other than 101).
    pub(super) answer: Option<Box<Answer>>,
}

/// A response's reason phrase and header lines as sent, in order.
#[derive(Debug, Default)]
pub(super) struct Answer {
    pub(super) reason: String,
    pub(super) headers: Vec<(String, String)>,
}

/// The WebSocket fields of a 101 response.
#[derive(Debug, Default)]
pub(super) struct Switch {
    /// `Upgrade` names websocket, or is missing.
    pub(super) upgrade_websocket: bool,
    /// `Upgrade` names h2c.
    pub(super) upgrade_h2c: bool,
    pub(super) accept: Option<String>,
    pub(super) protocol: Option<String>,
    /// Every Sec-WebSocket-Extensions line, joined with ", ".
    pub(super) extensions: Option<String>,
    /// The 101's reason phrase and header lines.
    pub(super) answer: Answer,
    /// Capture time of the packet that completed the 101 head (set by the HTTP phase).
    pub(super) ts: Timestamp,
}

pub(super) fn parse_request(buf: &[u8]) -> Parsed<RequestHead> {
    let mut headers = [EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(buf) {
        Ok(Status::Complete(len)) => len,
        Ok(Status::Partial) => return Parsed::Partial,
        Err(e) => return Parsed::Bad(format!("invalid HTTP request: {e}")),
    };
    let method_str = req.method.unwrap_or_default();
    let method = match method_str {
        "HEAD" => Method::Head,
        "CONNECT" => Method::Connect,
        _ => Method::Other,
    };
    let headers: &[Header<'_>] = req.headers;
    // RFC 9112 §6.3 items 3, 4, 6, 7.
    let framing = match (transfer_chunked(headers), content_length(headers)) {
        (Some(true), _) => Framing::Chunked,
        (Some(false), _) => {
            return Parsed::Bad("request Transfer-Encoding does not end in chunked".into());
        }
        (None, Err(())) => return Parsed::Bad("invalid request Content-Length".into()),
        (None, Ok(Some(n))) => Framing::Length(n),
        (None, Ok(None)) => Framing::None,
    };
    let upgrade = (method_str == "GET"
        && has_token(headers, "upgrade", "websocket")
        && has_token(headers, "connection", "upgrade")
        && first(headers, "sec-websocket-version").is_some())
    .then(|| first(headers, "sec-websocket-key"))
    .flatten()
    .map(|key| Box::new(ws_request(text(key), req.path, headers)))
    .or_else(|| {
        // RFC 7540 §3.2: an HTTP/1.1 request asking to go on as cleartext HTTP/2 carries
        // exactly one HTTP2-Settings header.
        (has_token(headers, "upgrade", "h2c") && first(headers, "http2-settings").is_some()).then(
            || {
                let mut r = ws_request(String::new(), req.path, headers);
                r.h2c = true;
                r.info.handshake.method = method_str.to_owned();
                Box::new(r)
            },
        )
    });
    Parsed::Done(
        RequestHead {
            method,
            framing,
            upgrade,
        },
        len,
    )
}

/// What an upgrade request's answer is checked against, and the request as sent.
fn ws_request(key: String, path: Option<&str>, headers: &[Header<'_>]) -> WsRequest {
    WsRequest {
        h2c: false,
        key,
        info: OpenInfo {
            uri: path.map(str::to_owned),
            host: first_text(headers, "host"),
            origin: first_text(headers, "origin"),
            user_agent: first_text(headers, "user-agent"),
            handshake: Handshake {
                http: HttpVersion::Http11,
                method: "GET".to_owned(),
                target: path.unwrap_or_default().to_owned(),
                request_headers: header_list(headers),
                ..Handshake::default()
            },
            ..OpenInfo::default()
        },
    }
}

/// Every header line as (name, value), in order, values as sent (lossily when not UTF-8).
fn header_list(headers: &[Header<'_>]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| {
            (
                h.name.to_owned(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect()
}

/// `keep`: fill [`ResponseHead::answer`] (a 101 always keeps its reason and headers in its
/// [`Switch`]).
pub(super) fn parse_response(buf: &[u8], keep: bool) -> Parsed<ResponseHead> {
    let mut headers = [EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let len = match resp.parse(buf) {
        Ok(Status::Complete(len)) => len,
        Ok(Status::Partial) => return Parsed::Partial,
        Err(e) => return Parsed::Bad(format!("invalid HTTP response: {e}")),
    };
    let code = resp.code.unwrap_or_default();
    let headers: &[Header<'_>] = resp.headers;
    let answer = || Answer {
        reason: resp.reason.unwrap_or_default().to_owned(),
        headers: header_list(headers),
    };
    let switch = (code == 101).then(|| {
        let extensions = join(headers, "sec-websocket-extensions");
        Box::new(Switch {
            // RFC 9110 §7.8 requires the header; without it the only protocol the answer to
            // a WebSocket request can switch to is WebSocket, so it is tolerated.
            upgrade_websocket: first(headers, "upgrade").is_none()
                || has_token(headers, "upgrade", "websocket"),
            upgrade_h2c: has_token(headers, "upgrade", "h2c"),
            accept: first(headers, "sec-websocket-accept").map(text),
            protocol: first_text(headers, "sec-websocket-protocol"),
            extensions,
            answer: answer(),
            ts: Timestamp::default(),
        })
    });
    let answer = (keep && code != 101).then(|| Box::new(answer()));
    Parsed::Done(
        ResponseHead {
            code,
            transfer_chunked: transfer_chunked(headers),
            content_length: content_length(headers),
            switch,
            answer,
        },
        len,
    )
}

impl ResponseHead {
    /// RFC 9112 §6.3 for a final (non-1xx) response to a request with `method`.
    pub(super) fn framing(&self, method: Method) -> Result<Framing, &'static str> {
        if method == Method::Head || matches!(self.code, 100..=199 | 204 | 304) {
            return Ok(Framing::None);
        }
        if method == Method::Connect && (200..300).contains(&self.code) {
            return Ok(Framing::UntilClose);
        }
        match (self.transfer_chunked, self.content_length) {
            (Some(true), _) => Ok(Framing::Chunked),
            (Some(false), _) => Ok(Framing::UntilClose),
            (None, Err(())) => Err("invalid response Content-Length"),
            (None, Ok(Some(n))) => Ok(Framing::Length(n)),
            (None, Ok(None)) => Ok(Framing::UntilClose),
        }
    }
}

fn named<'h, 'b>(headers: &'h [Header<'b>], name: &'h str) -> impl Iterator<Item = &'b [u8]> + 'h {
    headers
        .iter()
        .filter(move |h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value)
}

fn first<'b>(headers: &[Header<'b>], name: &str) -> Option<&'b [u8]> {
    named(headers, name).next()
}

/// A header value as UTF-8 (lossy), trimmed; `None` when absent or empty.
fn first_text(headers: &[Header<'_>], name: &str) -> Option<String> {
    first(headers, name).map(text).filter(|t| !t.is_empty())
}

fn text(value: &[u8]) -> String {
    String::from_utf8_lossy(value).trim().to_owned()
}

/// All lines of a list-valued header joined as one list (RFC 9110 §5.3).
fn join(headers: &[Header<'_>], name: &str) -> Option<String> {
    let joined = named(headers, name)
        .map(text)
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    (!joined.is_empty()).then_some(joined)
}

/// The comma-separated elements of every `name` line, trimmed, empty ones dropped.
fn elements<'h, 'b: 'h>(
    headers: &'h [Header<'b>],
    name: &'h str,
) -> impl Iterator<Item = &'b [u8]> + 'h {
    named(headers, name)
        .flat_map(|v| v.split(|&b| b == b','))
        .map(<[u8]>::trim_ascii)
        .filter(|e| !e.is_empty())
}

/// Whether a comma-list header holds `token`, case-insensitively (RFC 6455 §4.1 items 5, 6).
fn has_token(headers: &[Header<'_>], name: &str, token: &str) -> bool {
    elements(headers, name).any(|e| e.eq_ignore_ascii_case(token.as_bytes()))
}

/// RFC 9112 §6.1: `Some(whether the final transfer coding is chunked)` if the header is sent.
fn transfer_chunked(headers: &[Header<'_>]) -> Option<bool> {
    first(headers, "transfer-encoding")?;
    Some(
        elements(headers, "transfer-encoding")
            .last()
            .is_some_and(|c| c.eq_ignore_ascii_case(b"chunked")),
    )
}

/// RFC 9110 §8.6: one decimal length, possibly repeated identically in a list or over lines.
fn content_length(headers: &[Header<'_>]) -> Result<Option<u64>, ()> {
    let mut found = None;
    for line in named(headers, "content-length") {
        for e in line.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
            let n = decimal(e).ok_or(())?;
            if found.is_some_and(|f| f != n) {
                return Err(());
            }
            found = Some(n);
        }
    }
    Ok(found)
}

fn decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &d| {
        if !d.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// The complete lines of a head that the capture cut short (snap length), closed with an empty
/// line so httparse reads them: every line in it arrived whole, so its fields can be trusted.
/// `None` when not even the start line is whole.
fn close_cut_head(buf: &[u8]) -> Option<Vec<u8>> {
    let last_lf = memchr::memrchr(b'\n', buf)?;
    let mut head = buf.get(..=last_lf)?.to_vec();
    head.extend_from_slice(b"\r\n");
    Some(head)
}

/// A request head cut by the capture that still shows a WebSocket upgrade (GET with `Upgrade:
/// websocket` among its whole lines). The key may be lost with the cut: it is then empty and
/// the accept check is skipped.
pub(super) fn parse_cut_request(buf: &[u8]) -> Option<WsRequest> {
    let head = close_cut_head(buf)?;
    let mut headers = [EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    req.parse(&head).ok()?;
    let headers: &[Header<'_>] = req.headers;
    if req.method != Some("GET") || !has_token(headers, "upgrade", "websocket") {
        return None;
    }
    let key = first(headers, "sec-websocket-key")
        .map(text)
        .unwrap_or_default();
    Some(ws_request(key, req.path, headers))
}

/// A response head cut by the capture whose status line is a whole `101`: the fields among
/// its whole lines.
pub(super) fn parse_cut_switch(buf: &[u8]) -> Option<Switch> {
    let head = close_cut_head(buf)?;
    match parse_response(&head, true) {
        Parsed::Done(resp, _) if resp.code == 101 => resp.switch.map(|s| *s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(buf: &[u8]) -> RequestHead {
        match parse_request(buf) {
            Parsed::Done(h, len) => {
                assert_eq!(len, buf.len());
                h
            }
            Parsed::Partial => panic!("partial"),
            Parsed::Bad(e) => panic!("{e}"),
        }
    }

    fn response(buf: &[u8]) -> ResponseHead {
        match parse_response(buf, false) {
            Parsed::Done(h, len) => {
                assert_eq!(len, buf.len());
                h
            }
            Parsed::Partial => panic!("partial"),
            Parsed::Bad(e) => panic!("{e}"),
        }
    }

    #[test]
    fn rfc6455_section_1_2_request() {
        let h = request(
            b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
              Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
              Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n\
              Sec-WebSocket-Version: 13\r\n\r\n",
        );
        assert_eq!(h.method, Method::Other);
        assert_eq!(h.framing, Framing::None);
        let ws = h.upgrade.unwrap();
        assert_eq!(ws.key, "dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(ws.info.uri.as_deref(), Some("/chat"));
        assert_eq!(ws.info.host.as_deref(), Some("server.example.com"));
        assert_eq!(ws.info.origin.as_deref(), Some("http://example.com"));
        assert_eq!(ws.info.user_agent, None);
    }

    #[test]
    fn upgrade_tokens_case_insensitive_in_lists() {
        let h = request(
            b"GET / HTTP/1.1\r\nupgrade: h2c, WebSocket\r\nCONNECTION: keep-alive, UPGRADE\r\n\
              sec-websocket-key:  k \r\nsec-websocket-version: 13\r\nUser-Agent: t/1\r\n\r\n",
        );
        let ws = h.upgrade.unwrap();
        assert_eq!(ws.key, "k");
        assert_eq!(ws.info.user_agent.as_deref(), Some("t/1"));
    }

    #[test]
    fn not_websocket_requests() {
        let base = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: k\r\nSec-WebSocket-Version: 13\r\n";
        for req in [
            format!("POST / HTTP/1.1\r\n{base}\r\n"),
            format!("GET / HTTP/1.1\r\n{}\r\n", base.replace("websocket", "h2c")),
            format!(
                "GET / HTTP/1.1\r\n{}\r\n",
                base.replace("Connection: Upgrade", "Connection: upgrades")
            ),
            format!(
                "GET / HTTP/1.1\r\n{}\r\n",
                base.replace("Sec-WebSocket-Key: k\r\n", "")
            ),
            format!(
                "GET / HTTP/1.1\r\n{}\r\n",
                base.replace("Sec-WebSocket-Version: 13\r\n", "")
            ),
        ] {
            assert!(request(req.as_bytes()).upgrade.is_none(), "{req}");
        }
    }

    #[test]
    fn request_framing() {
        assert_eq!(
            request(b"POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n").framing,
            Framing::Length(12)
        );
        assert_eq!(
            request(b"POST / HTTP/1.1\r\nContent-Length: 7, 7\r\ncontent-length: 7\r\n\r\n")
                .framing,
            Framing::Length(7)
        );
        assert_eq!(
            request(
                b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked\r\nContent-Length: 3\r\n\r\n"
            )
            .framing,
            Framing::Chunked
        );
        assert_eq!(request(b"HEAD / HTTP/1.1\r\n\r\n").method, Method::Head);
        for bad in [
            &b"POST / HTTP/1.1\r\nContent-Length: 7, 8\r\n\r\n"[..],
            b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        ] {
            assert!(matches!(parse_request(bad), Parsed::Bad(_)));
        }
    }

    #[test]
    fn too_many_headers_is_bad() {
        let mut req = b"GET / HTTP/1.1\r\n".to_vec();
        for _ in 0..=MAX_HEADERS {
            req.extend_from_slice(b"X: y\r\n");
        }
        req.extend_from_slice(b"\r\n");
        assert!(matches!(parse_request(&req), Parsed::Bad(e) if e.contains("too many headers")));
    }

    #[test]
    fn rfc6455_section_1_3_response() {
        let h = response(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\
              Sec-WebSocket-Extensions: permessage-deflate\r\nSec-WebSocket-Extensions: x-foo\r\n\r\n",
        );
        assert_eq!(h.code, 101);
        let s = h.switch.unwrap();
        assert!(s.upgrade_websocket);
        assert_eq!(s.accept.as_deref(), Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
        assert_eq!(s.protocol.as_deref(), Some("chat"));
        assert_eq!(s.extensions.as_deref(), Some("permessage-deflate, x-foo"));
    }

    #[test]
    fn response_framing() {
        let cl = response(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
        assert!(cl.switch.is_none());
        assert_eq!(cl.framing(Method::Other), Ok(Framing::Length(10)));
        assert_eq!(cl.framing(Method::Head), Ok(Framing::None));
        let ch = response(b"HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!(ch.framing(Method::Other), Ok(Framing::Chunked));
        let none = response(b"HTTP/1.1 204 No Content\r\n\r\n");
        assert_eq!(none.framing(Method::Other), Ok(Framing::None));
        let nm = response(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n");
        assert_eq!(nm.framing(Method::Other), Ok(Framing::None));
        let close = response(b"HTTP/1.0 200 OK\r\n\r\n");
        assert_eq!(close.framing(Method::Other), Ok(Framing::UntilClose));
        let gz =
            response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 4\r\n\r\n");
        assert_eq!(gz.framing(Method::Other), Ok(Framing::UntilClose));
        let tunnel = response(b"HTTP/1.1 200 Connection established\r\n\r\n");
        assert_eq!(tunnel.framing(Method::Connect), Ok(Framing::UntilClose));
        let bad = response(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n");
        assert!(bad.framing(Method::Other).is_err());
    }
}
