//! Connection numbers put into lines after they were written. With several threads, each
//! worker writes its connections' lines with its own numbering; only the merger, which sees
//! every connection's `open` in capture order, knows the final numbers. It swaps them in with
//! these, which know where each sink writes the number.

use std::io::Write;
use std::ops::Range;
use std::sync::LazyLock;

use memchr::memmem::Finder;

use crate::event::ConnId;

/// The line format of a sink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineStyle {
    /// [`super::JsonSink`]: `{"event":"…","ts":"…","conn":N,…`.
    Json,
    /// [`super::TextSink`]: `TIME  #N   CLIENT → SERVER …` (N padded to 3 columns).
    Text,
}

/// `"conn":` as the JSON sink writes it after the event name and time, which never hold it.
const JSON_CONN: &[u8] = b"\",\"conn\":";
/// What the text sink writes between the time and the number (times hold no `#`).
const TEXT_CONN: &[u8] = b"  #";
/// Columns the text sink pads numbers to (`{:<3}`).
const TEXT_ID_WIDTH: usize = 3;

/// Searchers built once: this runs for every line, and building one costs about as much as
/// searching the few dozen bytes before the number.
static FIND_JSON_CONN: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(JSON_CONN));
static FIND_TWO_SPACES: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"  "));

impl LineStyle {
    /// Where the connection number sits in `line`, one event as the sink wrote it (padding
    /// included); `None` for events about no connection.
    pub fn conn_id_span(self, line: &[u8]) -> Option<Range<usize>> {
        match self {
            LineStyle::Json => {
                let start = FIND_JSON_CONN.find(line)? + JSON_CONN.len();
                let digits = digits_at(line, start);
                (digits > 0).then_some(start..start + digits)
            }
            LineStyle::Text => {
                // The first two spaces end the time: the number follows them or nothing does.
                let start = FIND_TWO_SPACES.find(line)?;
                let start = start
                    + line
                        .get(start..)?
                        .starts_with(TEXT_CONN)
                        .then_some(TEXT_CONN.len())?;
                let digits = digits_at(line, start);
                if digits == 0 {
                    return None;
                }
                let pad = TEXT_ID_WIDTH.saturating_sub(digits);
                let end = start + digits + pad;
                let padded = line.get(start + digits..end)?.iter().all(|&b| b == b' ');
                padded.then_some(start..end)
            }
        }
    }

    /// The number as the sink writes it (with its padding).
    pub fn write_conn_id(self, id: ConnId, out: &mut Vec<u8>) {
        match self {
            LineStyle::Json => {
                let mut buf = itoa::Buffer::new();
                out.extend_from_slice(buf.format(id).as_bytes());
            }
            LineStyle::Text => {
                let _ = write!(out, "{id:<TEXT_ID_WIDTH$}");
            }
        }
    }
}

fn digits_at(line: &[u8], start: usize) -> usize {
    line.get(start..).map_or(0, |rest| {
        rest.iter().take_while(|b| b.is_ascii_digit()).count()
    })
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;
    use crate::event::{
        Anomaly, AnomalyKind, ConnRef, Dir, EndHow, Event, EventKind, Message, Opcode, Timestamp,
    };
    use crate::sink::{JsonSink, Sink, TextSink};

    fn events(id: ConnId) -> Vec<Event> {
        let conn = Some(ConnRef {
            id,
            client: "10.0.0.1:4000".parse::<SocketAddr>().unwrap(),
            server: "10.0.0.2:80".parse::<SocketAddr>().unwrap(),
            stream: None,
        });
        let ts = Timestamp::new(1_700_000_000, 123_456_000);
        // Payloads that look like what is searched for must not be taken for it.
        let payload = b"\",\"conn\":7  #7 ".to_vec();
        vec![
            Event {
                ts,
                conn,
                kind: EventKind::Message {
                    dir: Dir::S2c,
                    msg: Message {
                        opcode: Opcode::Text,
                        frames: 1,
                        compressed: false,
                        wire_len: payload.len() as u64,
                        utf8_valid: true,
                        payload,
                        frame_detail: Vec::new(),
                    },
                },
            },
            Event {
                ts,
                conn,
                kind: EventKind::End {
                    how: EndHow::Fin,
                    messages: 1,
                    bytes: 2,
                },
            },
            Event {
                ts,
                conn: None,
                kind: EventKind::Anomaly {
                    dir: None,
                    anomaly: Anomaly::new(AnomalyKind::CorruptCapture, "x \",\"conn\":1  #12   "),
                },
            },
        ]
    }

    fn lines(style: LineStyle, id: ConnId) -> Vec<Vec<u8>> {
        events(id)
            .iter()
            .map(|ev| match style {
                LineStyle::Json => {
                    let mut s = JsonSink::new(Vec::new());
                    s.event(ev).unwrap();
                    s.into_inner()
                }
                LineStyle::Text => {
                    let mut s = TextSink::new(Vec::new());
                    s.event(ev).unwrap();
                    s.into_inner()
                }
            })
            .collect()
    }

    /// A line written with one number, renumbered, is the line the sink writes with the other.
    #[test]
    fn renumbered_lines_are_what_the_sink_writes() {
        for style in [LineStyle::Json, LineStyle::Text] {
            for (from, to) in [(1, 2), (1, 1234), (1234, 1), (99, 100), (1000, 5), (7, 7)] {
                for (line, want) in lines(style, from).iter().zip(lines(style, to)) {
                    let got = match style.conn_id_span(line) {
                        Some(span) => {
                            let mut got = line[..span.start].to_vec();
                            style.write_conn_id(to, &mut got);
                            got.extend_from_slice(&line[span.end..]);
                            got
                        }
                        None => line.clone(),
                    };
                    assert_eq!(
                        String::from_utf8_lossy(&got),
                        String::from_utf8_lossy(&want),
                        "{style:?} {from} -> {to}"
                    );
                }
            }
        }
    }

    #[test]
    fn lines_about_no_connection_have_no_number() {
        for style in [LineStyle::Json, LineStyle::Text] {
            let all = lines(style, 3);
            assert!(style.conn_id_span(&all[0]).is_some());
            assert_eq!(style.conn_id_span(&all[2]), None, "{style:?}");
        }
    }
}
