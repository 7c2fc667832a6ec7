//! Recognising the start of an HTTP message from its first bytes (RFC 9112 §3, §4), so that a
//! connection that is not HTTP is turned away after a few bytes rather than after a whole head.
//! Resumable: each call continues where the previous one stopped, so feeding a head one byte
//! at a time costs O(length) in all.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// The bytes start a request line / status line up to the HTTP version prefix.
    Yes,
    /// A valid start so far: more bytes needed.
    Maybe,
    /// Cannot be the start of this kind of message.
    No,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Request,
    Response,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// RFC 9112 §2.2: empty lines before a request line are ignored.
    Lead,
    Method(u8),
    /// Whether a byte of the request target has been seen.
    Target(bool),
    /// Index into [`VERSION`] of the next expected byte.
    Version(u8),
    Done,
}

/// Longer than any registered method ("UPDATEREDIRECTREF" has 17 bytes).
const MAX_METHOD: u8 = 32;
/// httparse accepts HTTP/1.0 and HTTP/1.1 only; both start with this.
const VERSION: &[u8] = b"HTTP/1.";

#[derive(Clone, Copy, Debug)]
pub(super) struct Sniffer {
    kind: Kind,
    state: State,
    pos: usize,
}

impl Sniffer {
    pub(super) fn new(kind: Kind) -> Self {
        Sniffer {
            kind,
            state: State::Lead,
            pos: 0,
        }
    }

    /// `head`: the message's bytes so far, always from its first byte (the same prefix, longer
    /// or equal, on each call).
    pub(super) fn check(&mut self, head: &[u8]) -> Verdict {
        while self.state != State::Done {
            let Some(&b) = head.get(self.pos) else {
                return Verdict::Maybe;
            };
            self.state = match (self.state, b) {
                (State::Lead, b'\r' | b'\n') => State::Lead,
                (State::Lead, b) => match self.kind {
                    Kind::Request if is_tchar(b) => State::Method(1),
                    Kind::Response if b == b'H' => State::Version(1),
                    _ => return Verdict::No,
                },
                (State::Method(_), b' ') => State::Target(false),
                (State::Method(n), b) if is_tchar(b) && n < MAX_METHOD => State::Method(n + 1),
                (State::Target(true), b' ') => State::Version(0),
                (State::Target(_), b) if is_target(b) => State::Target(true),
                (State::Version(i), b) if VERSION.get(usize::from(i)) == Some(&b) => {
                    if usize::from(i) + 1 == VERSION.len() {
                        State::Done
                    } else {
                        State::Version(i + 1)
                    }
                }
                _ => return Verdict::No,
            };
            self.pos += 1;
        }
        Verdict::Yes
    }
}

/// RFC 9110 §5.6.2 tchar.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Bytes httparse lets into a request target: visible, not space, not DEL (non-ASCII allowed).
fn is_target(b: u8) -> bool {
    b > b' ' && b != 0x7f
}

#[cfg(test)]
mod tests {
    use super::{Kind, Sniffer, Verdict};

    fn verdict(kind: Kind, bytes: &[u8]) -> Verdict {
        Sniffer::new(kind).check(bytes)
    }

    #[test]
    fn request_line_recognised_at_version() {
        assert_eq!(verdict(Kind::Request, b"G"), Verdict::Maybe);
        assert_eq!(verdict(Kind::Request, b"GET /chat HTTP/1"), Verdict::Maybe);
        assert_eq!(verdict(Kind::Request, b"GET /chat HTTP/1."), Verdict::Yes);
        assert_eq!(
            verdict(Kind::Request, b"\r\n\r\nGET / HTTP/1.1\r\n"),
            Verdict::Yes
        );
        assert_eq!(verdict(Kind::Request, b"M-SEARCH * HTTP/1.1"), Verdict::Yes);
    }

    #[test]
    fn not_a_request() {
        assert_eq!(verdict(Kind::Request, b"\x81\x05hello"), Verdict::No);
        assert_eq!(verdict(Kind::Request, b"\x16\x03\x01"), Verdict::No);
        assert_eq!(verdict(Kind::Request, b"HTTP/1.1 200 OK"), Verdict::No);
        assert_eq!(
            verdict(Kind::Request, b"SSH-2.0-OpenSSH_9.6\r\n"),
            Verdict::No
        );
        assert_eq!(verdict(Kind::Request, b"GET  / HTTP/1.1"), Verdict::No);
        assert_eq!(verdict(Kind::Request, b"GET / HTTP/2.0"), Verdict::No);
        assert_eq!(verdict(Kind::Request, b"GET /\r\n"), Verdict::No);
        assert_eq!(verdict(Kind::Request, &[b'A'; 33]), Verdict::No);
        assert_eq!(verdict(Kind::Request, &[b'A'; 32]), Verdict::Maybe);
    }

    #[test]
    fn status_line() {
        assert_eq!(verdict(Kind::Response, b"HTTP/1"), Verdict::Maybe);
        assert_eq!(verdict(Kind::Response, b"HTTP/1.1 101"), Verdict::Yes);
        assert_eq!(verdict(Kind::Response, b"220 smtp ready"), Verdict::No);
        assert_eq!(verdict(Kind::Response, b"GET / HTTP/1.1"), Verdict::No);
        assert_eq!(verdict(Kind::Response, b"HTTP/2 200"), Verdict::No);
    }

    #[test]
    fn resumes_byte_by_byte() {
        let line = b"GET /chat HTTP/1.1\r\n";
        let mut s = Sniffer::new(Kind::Request);
        for n in 1..line.len() {
            let expect = if n >= 17 {
                Verdict::Yes
            } else {
                Verdict::Maybe
            };
            assert_eq!(s.check(line.get(..n).unwrap_or_default()), expect, "{n}");
        }
    }
}
