//! What a HAR request is built from: the URL (scheme ws/wss, authority, target), its query
//! string, and cookies of the request and response headers.

use std::net::SocketAddr;

use crate::event::{HttpVersion, OpenInfo};

/// The first header named `name` (ASCII case-insensitive).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The WebSocket URL of the connection, e.g. `wss://example.com/chat?x=1`.
///
/// Scheme: for HTTP/2 from `:scheme` (RFC 8441 §4: `https` for wss, `http` for ws), else
/// `wss` when a TLS layer was decrypted. Authority: `:authority` (HTTP/2) or `Host`
/// (HTTP/1.1), else the server's address. Path: the request target. A connection picked up
/// without its handshake has no path: its URL is the server's address alone.
pub fn url(info: &OpenInfo, server: SocketAddr) -> String {
    let hs = &info.handshake;
    let h2 = hs.http == HttpVersion::Http2;
    let scheme = match header(&hs.request_headers, ":scheme").filter(|_| h2) {
        Some(s) if s.eq_ignore_ascii_case("https") || s.eq_ignore_ascii_case("wss") => "wss",
        Some(_) => "ws",
        None if info.tls.is_some() => "wss",
        None => "ws",
    };
    let target = if hs.target.is_empty() {
        info.uri.as_deref().unwrap_or_default()
    } else {
        hs.target.as_str()
    };
    let raw = if target.contains("://") {
        // absolute-form (RFC 9112 §3.2.2): already a URL.
        target.to_owned()
    } else {
        let authority = header(&hs.request_headers, if h2 { ":authority" } else { "host" })
            .map(str::to_owned)
            .or_else(|| info.host.clone())
            .unwrap_or_else(|| server.to_string());
        let slash = if target.is_empty() || target.starts_with('/') {
            ""
        } else {
            "/"
        };
        format!("{scheme}://{authority}{slash}{target}")
    };
    percent_encode(&raw)
}

/// RFC 3986 §2: characters a URI may hold as they are (unreserved, reserved, and `%` opening
/// an escape). Anything else a peer put in its target (spaces, non-ASCII, a stray `%`) is
/// percent-encoded, as a browser would have sent it, so that the URL is a URI.
fn percent_encode(s: &str) -> String {
    let keep = |b: u8| b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&b);
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    for (i, &b) in bytes.iter().enumerate() {
        let escape = b == b'%'
            && bytes
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
        if keep(b) || escape {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The query string's parameters as DevTools splits them (`NetworkRequest.parseParameters`):
/// the part after `?` and before `#` cut at every `&`, each at its first `=`, nothing decoded.
pub fn query(target: &str) -> Vec<(&str, &str)> {
    let Some((_, q)) = target.split_once('?') else {
        return Vec::new();
    };
    let q = q.split_once('#').map_or(q, |(q, _)| q);
    if q.is_empty() {
        return Vec::new();
    }
    q.split('&')
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .collect()
}

/// A cookie as HAR holds it.
#[derive(Debug, PartialEq, Eq)]
pub struct Cookie<'a> {
    pub name: &'a str,
    pub value: &'a str,
    pub path: Option<&'a str>,
    pub domain: Option<&'a str>,
    pub http_only: bool,
    pub secure: bool,
}

/// Cookies of `Cookie` request headers (RFC 6265 §5.4: `name=value` pairs split by `;`).
pub fn request_cookies(headers: &[(String, String)]) -> Vec<Cookie<'_>> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, v)| v.split(';'))
        .filter_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            Some(Cookie {
                name: name.trim(),
                value: value.trim(),
                path: None,
                domain: None,
                http_only: false,
                secure: false,
            })
        })
        .collect()
}

/// Cookies of `Set-Cookie` response headers (RFC 6265 §5.2): the pair, and the attributes
/// HAR has room for. `Expires` is left out: HAR wants an ISO 8601 date there, and rewriting
/// the header's HTTP date is not worth it for an upgrade response.
pub fn response_cookies(headers: &[(String, String)]) -> Vec<Cookie<'_>> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, v)| {
            let mut parts = v.split(';');
            let (name, value) = parts.next()?.trim().split_once('=')?;
            let mut c = Cookie {
                name: name.trim(),
                value: value.trim(),
                path: None,
                domain: None,
                http_only: false,
                secure: false,
            };
            for attr in parts {
                let (k, v) = attr.trim().split_once('=').unwrap_or((attr.trim(), ""));
                match k.to_ascii_lowercase().as_str() {
                    "path" => c.path = Some(v),
                    "domain" => c.domain = Some(v),
                    "httponly" => c.http_only = true,
                    "secure" => c.secure = true,
                    _ => {}
                }
            }
            Some(c)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ConnRef, Handshake, TlsInfo};

    fn conn() -> ConnRef {
        ConnRef {
            id: 1,
            client: "10.0.0.1:40000".parse().unwrap(),
            server: "[2001:db8::2]:9000".parse().unwrap(),
            stream: None,
        }
    }

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn url_from_host_and_target() {
        let mut info = OpenInfo {
            handshake: Handshake {
                method: "GET".into(),
                target: "/chat?room=1".into(),
                request_headers: h(&[("HOST", "example.test:8080")]),
                ..Handshake::default()
            },
            ..OpenInfo::default()
        };
        assert_eq!(
            url(&info, conn().server),
            "ws://example.test:8080/chat?room=1"
        );
        info.tls = Some(TlsInfo::default());
        assert_eq!(
            url(&info, conn().server),
            "wss://example.test:8080/chat?room=1"
        );
    }

    #[test]
    fn url_http2_from_pseudo_headers() {
        let info = OpenInfo {
            handshake: Handshake {
                http: HttpVersion::Http2,
                method: "CONNECT".into(),
                target: "/ws".into(),
                request_headers: h(&[
                    (":method", "CONNECT"),
                    (":protocol", "websocket"),
                    (":scheme", "https"),
                    (":path", "/ws"),
                    (":authority", "h2.test"),
                ]),
                ..Handshake::default()
            },
            tls: Some(TlsInfo::default()),
            ..OpenInfo::default()
        };
        assert_eq!(url(&info, conn().server), "wss://h2.test/ws");
    }

    #[test]
    fn url_fallbacks_and_encoding() {
        // No handshake recorded: the summary's uri and host.
        let info = OpenInfo {
            uri: Some("/a b/é?p=100%&q=%2F".into()),
            host: Some("x.test".into()),
            ..OpenInfo::default()
        };
        assert_eq!(
            url(&info, conn().server),
            "ws://x.test/a%20b/%C3%A9?p=100%25&q=%2F"
        );
        // Mid-stream: the server's address, no path.
        let info = OpenInfo {
            mid_stream: true,
            ..OpenInfo::default()
        };
        assert_eq!(url(&info, conn().server), "ws://[2001:db8::2]:9000");
        // absolute-form target.
        let info = OpenInfo {
            handshake: Handshake {
                target: "ws://p.test/x".into(),
                ..Handshake::default()
            },
            ..OpenInfo::default()
        };
        assert_eq!(url(&info, conn().server), "ws://p.test/x");
    }

    #[test]
    fn query_split_as_devtools_does() {
        assert_eq!(query("/chat"), vec![]);
        assert_eq!(query("/chat?"), vec![]);
        assert_eq!(
            query("/c?a=1&b&&c=x=y&d=%20#frag"),
            vec![("a", "1"), ("b", ""), ("", ""), ("c", "x=y"), ("d", "%20")]
        );
    }

    #[test]
    fn cookies() {
        let req = h(&[("Cookie", "a=1; b=two"), ("cookie", "c=3;bad")]);
        let names: Vec<_> = request_cookies(&req)
            .iter()
            .map(|c| (c.name, c.value))
            .collect();
        assert_eq!(names, vec![("a", "1"), ("b", "two"), ("c", "3")]);
        let resp = h(&[(
            "Set-Cookie",
            "sid=xyz; Path=/; Domain=example.test; Expires=Wed, 21 Oct 2015 07:28:00 GMT; HttpOnly; Secure",
        )]);
        assert_eq!(
            response_cookies(&resp),
            vec![Cookie {
                name: "sid",
                value: "xyz",
                path: Some("/"),
                domain: Some("example.test"),
                http_only: true,
                secure: true,
            }]
        );
    }
}
