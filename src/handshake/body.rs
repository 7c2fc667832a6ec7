//! Skipping HTTP message bodies by counting (RFC 9112 §6.3), never buffering them: bodies are
//! not parsed as anything, so frame-like bytes or `HTTP/1.1 101` lines inside them are inert.

use memchr::memchr;

/// Progress of one skip call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Skipped {
    pub(super) consumed: usize,
    /// The body has ended; bytes after `consumed` belong to the next message.
    pub(super) done: bool,
}

/// A body being skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum BodySkip {
    /// RFC 9112 §6.3 item 6: Content-Length bytes remaining.
    Length(u64),
    /// RFC 9112 §7.1: chunked transfer coding.
    Chunked(Chunked),
}

/// The chunked body is malformed: the message boundary is lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct BadChunk;

impl BodySkip {
    pub(super) fn skip(&mut self, input: &[u8]) -> Result<Skipped, BadChunk> {
        match self {
            BodySkip::Length(left) => {
                let n = clamp(*left, input.len());
                *left -= n as u64;
                Ok(Skipped {
                    consumed: n,
                    done: *left == 0,
                })
            }
            BodySkip::Chunked(c) => c.skip(input),
        }
    }
}

/// `min(left, avail)` without a lossy cast either way.
fn clamp(left: u64, avail: usize) -> usize {
    usize::try_from(left).map_or(avail, |l| l.min(avail))
}

/// RFC 9112 §7.1 grammar positions; each state needs no more than a few bytes of memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// chunk-size hex digits (count so far).
    Size(u8),
    /// Whitespace after the size (BWS before a chunk-ext, tolerated).
    SizeWs,
    /// chunk-ext: skipped up to the end of the line.
    Ext,
    /// CR seen at the end of the size line.
    SizeLf,
    /// chunk-data bytes remaining in `size`.
    Data,
    DataCr,
    DataLf,
    /// At the start of a trailer line (or of the final empty line).
    TrailerStart,
    /// Inside a trailer field line: skipped up to its end.
    Trailer,
    /// CR of the final empty line seen.
    EndLf,
}

/// 16 hex digits fill a u64; more is not a size anyone can send.
const MAX_SIZE_DIGITS: u8 = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Chunked {
    state: State,
    size: u64,
}

impl Chunked {
    pub(super) fn new() -> Self {
        Chunked {
            state: State::Size(0),
            size: 0,
        }
    }

    fn skip(&mut self, input: &[u8]) -> Result<Skipped, BadChunk> {
        let mut pos = 0;
        while let Some(rest) = input.get(pos..).filter(|r| !r.is_empty()) {
            match self.state {
                State::Data => {
                    let n = clamp(self.size, rest.len());
                    self.size -= n as u64;
                    pos += n;
                    if self.size == 0 {
                        self.state = State::DataCr;
                    }
                    continue;
                }
                State::Ext | State::Trailer => match memchr(b'\n', rest) {
                    Some(nl) => {
                        pos += nl + 1;
                        self.state = if self.state == State::Ext {
                            self.line_end()
                        } else {
                            State::TrailerStart
                        };
                        continue;
                    }
                    None => {
                        return Ok(Skipped {
                            consumed: input.len(),
                            done: false,
                        });
                    }
                },
                _ => {}
            }
            let Some(&b) = rest.first() else { break };
            pos += 1;
            self.state = match (self.state, b) {
                (State::Size(n), b) if b.is_ascii_hexdigit() => {
                    if n == MAX_SIZE_DIGITS {
                        return Err(BadChunk);
                    }
                    self.size = (self.size << 4) | u64::from(hex_value(b));
                    State::Size(n + 1)
                }
                (State::Size(0), _) => return Err(BadChunk),
                (State::Size(_) | State::SizeWs, b' ' | b'\t') => State::SizeWs,
                (State::Size(_) | State::SizeWs, b';') => State::Ext,
                (State::Size(_) | State::SizeWs, b'\r') => State::SizeLf,
                (State::Size(_) | State::SizeWs | State::SizeLf, b'\n') => self.line_end(),
                (State::DataCr, b'\r') => State::DataLf,
                (State::DataCr | State::DataLf, b'\n') => State::Size(0),
                (State::TrailerStart, b'\r') => State::EndLf,
                (State::TrailerStart | State::EndLf, b'\n') => {
                    return Ok(Skipped {
                        consumed: pos,
                        done: true,
                    });
                }
                (State::TrailerStart, _) => State::Trailer,
                _ => return Err(BadChunk),
            };
        }
        Ok(Skipped {
            consumed: input.len(),
            done: false,
        })
    }

    /// End of a chunk-size line: data follows, or the trailer section for the last chunk.
    fn line_end(&self) -> State {
        if self.size == 0 {
            State::TrailerStart
        } else {
            State::Data
        }
    }
}

fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::{BadChunk, BodySkip, Chunked, Skipped};

    fn skip_all(mut body: BodySkip, input: &[u8], piece: usize) -> Result<usize, BadChunk> {
        let mut pos = 0;
        for chunk in input.chunks(piece) {
            let s = body.skip(chunk)?;
            pos += s.consumed;
            if s.done {
                return Ok(pos);
            }
            assert_eq!(s.consumed, chunk.len());
        }
        Ok(usize::MAX)
    }

    #[test]
    fn length_stops_at_the_boundary() {
        let mut b = BodySkip::Length(5);
        assert_eq!(
            b.skip(b"abc"),
            Ok(Skipped {
                consumed: 3,
                done: false
            })
        );
        assert_eq!(
            b.skip(b"deHTTP"),
            Ok(Skipped {
                consumed: 2,
                done: true
            })
        );
    }

    const BODY: &[u8] = b"7\r\n\x81\x05hello\r\n1A;ext=\"a\"\r\nHTTP/1.1 101 Switching!!\r\n\r\n0\r\nX-Trailer: 1\r\n\r\nGET";

    #[test]
    fn chunked_whole_and_split() {
        let end = BODY.len() - 3;
        for piece in [1, 2, 3, 7, BODY.len()] {
            assert_eq!(
                skip_all(BodySkip::Chunked(Chunked::new()), BODY, piece),
                Ok(end),
                "{piece}"
            );
        }
    }

    #[test]
    fn chunked_last_chunk_without_trailers() {
        let body = b"3\r\nabc\r\n0\r\n\r\nnext";
        assert_eq!(skip_all(BodySkip::Chunked(Chunked::new()), body, 1), Ok(13));
        // Bare LF line endings are tolerated.
        let body = b"3\nabc\n0\n\nnext";
        assert_eq!(
            skip_all(BodySkip::Chunked(Chunked::new()), body, 100),
            Ok(9)
        );
    }

    #[test]
    fn chunked_malformed() {
        for bad in [
            &b"\r\n"[..],
            b"g\r\n",
            b"3\r\nabcX",
            b"3 x\r\n",
            b"11111111111111111\r\n",
            b"0\r\r",
        ] {
            assert_eq!(
                skip_all(BodySkip::Chunked(Chunked::new()), bad, 1),
                Err(BadChunk),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn chunked_huge_size_is_counted_not_buffered() {
        let mut b = BodySkip::Chunked(Chunked::new());
        assert_eq!(
            b.skip(b"ffffffffffffffff\r\nxy"),
            Ok(Skipped {
                consumed: 20,
                done: false
            })
        );
    }
}
