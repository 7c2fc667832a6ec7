//! permessage-deflate negotiation as settled by the 101 response (RFC 7692 §7.1).

use super::DeflateParams;
use std::borrow::Cow;

/// RFC 7692 §7.1.2: window bits range; also the value when a parameter is absent.
const MIN_WINDOW_BITS: u8 = 8;
const MAX_WINDOW_BITS: u8 = 15;

/// Parses the response's `Sec-WebSocket-Extensions` value (RFC 6455 §9.1 grammar: extensions
/// separated by `,`, parameters by `;`, values tokens or quoted-strings). Only the first
/// `permessage-deflate` entry counts. Out-of-range or malformed window bits are tolerated as 15.
pub(super) fn parse_deflate(value: &str) -> Option<DeflateParams> {
    let ext = split_unquoted(value, b',').find(|ext| {
        split_unquoted(ext, b';')
            .next()
            .is_some_and(|name| name.trim().eq_ignore_ascii_case("permessage-deflate"))
    })?;
    let mut params = DeflateParams {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: MAX_WINDOW_BITS,
        client_max_window_bits: MAX_WINDOW_BITS,
    };
    for param in split_unquoted(ext, b';').skip(1) {
        let (name, val) = match param.split_once('=') {
            Some((n, v)) => (n.trim(), Some(unquote(v.trim()))),
            None => (param.trim(), None),
        };
        let name = name.to_ascii_lowercase();
        match name.as_str() {
            "server_no_context_takeover" => params.server_no_context_takeover = true,
            "client_no_context_takeover" => params.client_no_context_takeover = true,
            "server_max_window_bits" => params.server_max_window_bits = window_bits(val),
            "client_max_window_bits" => params.client_max_window_bits = window_bits(val),
            _ => {}
        }
    }
    Some(params)
}

fn window_bits(val: Option<Cow<'_, str>>) -> u8 {
    val.and_then(|v| v.parse::<u8>().ok())
        .filter(|b| (MIN_WINDOW_BITS..=MAX_WINDOW_BITS).contains(b))
        .unwrap_or(MAX_WINDOW_BITS)
}

/// Pieces of `s` between `sep` bytes that are outside quoted-strings (RFC 9110 §5.6.4).
fn split_unquoted(s: &str, sep: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let cur = rest?;
        let (mut quoted, mut escaped) = (false, false);
        for (i, b) in cur.bytes().enumerate() {
            match b {
                _ if escaped => escaped = false,
                b'\\' if quoted => escaped = true,
                b'"' => quoted = !quoted,
                _ if b == sep && !quoted => {
                    // `sep` is ASCII, so `i` and `i + 1` are char boundaries.
                    rest = cur.get(i + 1..);
                    return cur.get(..i);
                }
                _ => {}
            }
        }
        rest = None;
        Some(cur)
    })
}

/// The content of a quoted-string with its quoted-pairs resolved; other values as they are.
fn unquote(v: &str) -> Cow<'_, str> {
    let Some(inner) = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return Cow::Borrowed(v);
    };
    if !inner.contains('\\') {
        return Cow::Borrowed(inner);
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            chars.next().unwrap_or(c)
        } else {
            c
        });
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::{DeflateParams, parse_deflate, split_unquoted};

    fn params(snt: bool, cnt: bool, smwb: u8, cmwb: u8) -> Option<DeflateParams> {
        Some(DeflateParams {
            server_no_context_takeover: snt,
            client_no_context_takeover: cnt,
            server_max_window_bits: smwb,
            client_max_window_bits: cmwb,
        })
    }

    #[test]
    fn plain() {
        assert_eq!(
            parse_deflate("permessage-deflate"),
            params(false, false, 15, 15)
        );
    }

    #[test]
    fn rfc7692_parameters() {
        assert_eq!(
            parse_deflate(
                "permessage-deflate; client_max_window_bits=12; server_no_context_takeover"
            ),
            params(true, false, 15, 12)
        );
        assert_eq!(
            parse_deflate(
                "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"
            ),
            params(false, false, 12, 12)
        );
        assert_eq!(
            parse_deflate("Permessage-Deflate;Client_No_Context_Takeover;SERVER_MAX_WINDOW_BITS=9"),
            params(false, true, 9, 15)
        );
    }

    #[test]
    fn rfc7692_quoted_values() {
        // RFC 7692 §7.1: a quoted-string value must be the same as the token after unquoting.
        assert_eq!(
            parse_deflate(
                "permessage-deflate; server_max_window_bits=\"10\"; client_max_window_bits = \"1\\1\""
            ),
            params(false, false, 10, 11)
        );
    }

    #[test]
    fn invalid_window_bits_tolerated_as_15() {
        assert_eq!(
            parse_deflate(
                "permessage-deflate; server_max_window_bits=7; client_max_window_bits=16"
            ),
            params(false, false, 15, 15)
        );
        assert_eq!(
            parse_deflate("permessage-deflate; server_max_window_bits=x; client_max_window_bits"),
            params(false, false, 15, 15)
        );
    }

    #[test]
    fn first_permessage_deflate_of_two_extensions() {
        assert_eq!(
            parse_deflate(
                "x-foo; a=\"b,c;d\", permessage-deflate; client_max_window_bits=10, permessage-deflate; server_no_context_takeover"
            ),
            params(false, false, 15, 10)
        );
    }

    #[test]
    fn other_extensions_only() {
        assert_eq!(parse_deflate("x-webkit-deflate-frame"), None);
        assert_eq!(
            parse_deflate("x-webkit-deflate-frame; no_context_takeover"),
            None
        );
        assert_eq!(parse_deflate(""), None);
        assert_eq!(parse_deflate("permessage-deflate-x"), None);
    }

    #[test]
    fn split_respects_quotes() {
        let parts: Vec<&str> = split_unquoted("a;b=\"x;\\\"y\";c", b';').collect();
        assert_eq!(parts, ["a", "b=\"x;\\\"y\"", "c"]);
    }
}
