//! STOMP frames (STOMP 1.2 §"STOMP Frames"): a command line, header lines, a blank line, the
//! body, a NUL. "The frame is terminated by a NULL octet" unless `content-length` says how
//! long the body is (then the body may hold NULs).

/// STOMP versions: they differ in header escaping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StompVersion {
    V10,
    V11,
    V12,
}

/// What the bytes at the start of a stream hold.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Parse<'a> {
    /// A whole frame and the bytes it took (its NUL included).
    Frame(Frame<'a>, usize),
    /// The header block is complete but the body is not.
    NeedBody {
        header_len: usize,
        content_length: Option<u64>,
    },
    /// The header block is not complete.
    NeedHead,
}

#[derive(Debug, PartialEq, Eq)]
pub(super) struct Frame<'a> {
    pub command: &'a [u8],
    /// Raw header lines (name, value) as sent, escapes not yet decoded.
    pub headers: Vec<(&'a [u8], &'a [u8])>,
    pub body: &'a [u8],
    /// What is wrong with the frame's framing (not its content).
    pub problem: Option<String>,
}

/// One line ending with LF (1.2: "or CR LF"): the line without its EOL, and what it took.
fn line(bytes: &[u8]) -> Option<(&[u8], usize)> {
    let end = memchr::memchr(b'\n', bytes)?;
    let raw = bytes.get(..end)?;
    Some((raw.strip_suffix(b"\r").unwrap_or(raw), end + 1))
}

/// Parses a frame at the start of `bytes` (which begins with its command, not an EOL).
pub(super) fn parse(bytes: &[u8]) -> Parse<'_> {
    let Some((command, mut at)) = line(bytes) else {
        return Parse::NeedHead;
    };
    let mut headers = Vec::new();
    let mut problem = None;
    loop {
        let Some((l, n)) = bytes.get(at..).and_then(line) else {
            return Parse::NeedHead;
        };
        at += n;
        if l.is_empty() {
            break;
        }
        match memchr::memchr(b':', l) {
            Some(colon) => headers.push((
                l.get(..colon).unwrap_or_default(),
                l.get(colon + 1..).unwrap_or_default(),
            )),
            None => {
                problem.get_or_insert_with(|| {
                    format!(
                        "header line without a colon: {:?}",
                        String::from_utf8_lossy(l)
                    )
                });
                headers.push((l, &[][..]));
            }
        }
    }
    let header_len = at;
    // 1.2 §"Repeated Header Entries": only the first entry is used.
    let content_length = headers
        .iter()
        .find(|(n, _)| *n == b"content-length")
        .map(|(_, v)| {
            std::str::from_utf8(v)
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
        });
    let content_length = match content_length {
        Some(Some(n)) => Some(n),
        Some(None) => {
            problem.get_or_insert_with(|| "content-length is not a number".to_owned());
            None
        }
        None => None,
    };
    let rest = bytes.get(header_len..).unwrap_or_default();
    let (body, used) = match content_length {
        Some(n) => {
            let Ok(n) = usize::try_from(n) else {
                return Parse::NeedBody {
                    header_len,
                    content_length,
                };
            };
            match rest.get(n) {
                Some(0) => (rest.get(..n).unwrap_or_default(), n + 1),
                Some(_) => {
                    // The body is not followed by its NUL: the frame ends at the next NUL.
                    problem.get_or_insert_with(|| {
                        format!("no NUL after the {n} body bytes of content-length")
                    });
                    match memchr::memchr(0, rest) {
                        Some(end) => (rest.get(..end).unwrap_or_default(), end + 1),
                        None => {
                            return Parse::NeedBody {
                                header_len,
                                content_length: None,
                            };
                        }
                    }
                }
                None => {
                    return Parse::NeedBody {
                        header_len,
                        content_length,
                    };
                }
            }
        }
        None => match memchr::memchr(0, rest) {
            Some(end) => (rest.get(..end).unwrap_or_default(), end + 1),
            None => {
                return Parse::NeedBody {
                    header_len,
                    content_length,
                };
            }
        },
    };
    Parse::Frame(
        Frame {
            command,
            headers,
            body,
            problem,
        },
        header_len + used,
    )
}

/// Decodes a header value's escapes (1.2 §"Value Encoding": `\r`, `\n`, `\c`, `\\`; 1.1 has
/// all but `\r`; 1.0 none). "Undefined escape sequences such as \t MUST be treated as a fatal
/// protocol error": the value is kept as sent and the error returned.
pub(super) fn unescape(raw: &str, version: StompVersion) -> Result<String, String> {
    if version == StompVersion::V10 || !raw.contains('\\') {
        return Ok(raw.to_owned());
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('c') => out.push(':'),
            Some('\\') => out.push('\\'),
            Some('r') if version == StompVersion::V12 => out.push('\r'),
            Some(other) => return Err(format!("undefined escape \\{other} in a header")),
            None => return Err("a header ends with a lone backslash".to_owned()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_from_the_specification() {
        // STOMP 1.2 §"Frames and Headers" (SEND example), with its NUL.
        let wire = b"SEND\ndestination:/queue/a\ncontent-type:text/plain\n\nhello queue a\0rest";
        let Parse::Frame(f, used) = parse(wire) else {
            panic!("not a frame")
        };
        assert_eq!(used, wire.len() - 4);
        assert_eq!(f.command, b"SEND");
        assert_eq!(
            f.headers,
            [
                (&b"destination"[..], &b"/queue/a"[..]),
                (b"content-type", b"text/plain")
            ]
        );
        assert_eq!(f.body, b"hello queue a");
        assert_eq!(f.problem, None);
    }

    #[test]
    fn content_length_bodies_hold_nuls_and_crlf_lines_are_accepted() {
        let wire = b"SEND\r\ncontent-length:3\r\n\r\na\0b\0";
        let Parse::Frame(f, used) = parse(wire) else {
            panic!("not a frame")
        };
        assert_eq!((f.body, used), (&b"a\0b"[..], wire.len()));
        assert_eq!(
            parse(b"SEND\ncontent-length:3\n\na\0"),
            Parse::NeedBody {
                header_len: 23,
                content_length: Some(3)
            }
        );
        assert_eq!(parse(b"SEND\ncontent-length:3\n"), Parse::NeedHead);
    }

    #[test]
    fn escapes_per_version() {
        assert_eq!(
            unescape(r"a\cb\\c\nsecond", StompVersion::V12).unwrap(),
            "a:b\\c\nsecond"
        );
        assert_eq!(unescape(r"a\r", StompVersion::V12).unwrap(), "a\r");
        assert!(unescape(r"a\r", StompVersion::V11).is_err());
        assert!(unescape(r"a\t", StompVersion::V12).is_err());
        assert_eq!(unescape(r"a\t", StompVersion::V10).unwrap(), r"a\t");
    }
}
