//! Readable lines, one per event, like tshark's default output:
//! `TIME  #CONN  CLIENT → SERVER  OPCODE  LEN  PREVIEW` (← for server to client).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::{
    Finish, Formatter, LineSink, Sink, Summary, TimeFormat, write_rfc3339_micros,
    write_seconds_since,
};
use crate::event::{Dir, Event, EventKind, Message, Opcode, Timestamp};

/// Characters of payload shown in a preview.
const PREVIEW_CHARS: usize = 96;
/// Bytes of a binary payload shown as hex.
const PREVIEW_HEX_BYTES: usize = 32;

pub struct TextSink<W: Write> {
    out: W,
    line: String,
    time: TimeFormat,
    /// Where relative times count from: the first packet, else the first line's time.
    start: Option<Timestamp>,
    /// The time of the last line written, for delta times.
    previous: Option<Timestamp>,
}

impl<W: Write> TextSink<W> {
    pub fn new(out: W) -> Self {
        TextSink {
            out,
            line: String::new(),
            time: TimeFormat::Absolute,
            start: None,
            previous: None,
        }
    }

    /// Lines with their time written as `time` says.
    pub fn time_format(mut self, time: TimeFormat) -> Self {
        self.time = time;
        self
    }

    fn write_time(&mut self, ts: Timestamp) -> io::Result<()> {
        match self.time {
            TimeFormat::Absolute => write_rfc3339_micros(&mut self.out, ts),
            TimeFormat::Relative => {
                let start = *self.start.get_or_insert(ts);
                write_seconds_since(&mut self.out, ts, start)
            }
            TimeFormat::Delta => {
                let previous = self.previous.replace(ts).unwrap_or(ts);
                write_seconds_since(&mut self.out, ts, previous)
            }
        }
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }
}

/// How one line shows a payload, decided alike for the text output and the TUI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shown<'a> {
    /// As text. `invalid_utf8`: a text message that is not valid UTF-8, shown with U+FFFD in
    /// place of the bad bytes (and a marker: it is not what was sent).
    Text {
        text: Cow<'a, str>,
        invalid_utf8: bool,
    },
    /// A close with a status code (and the reason, lossy UTF-8, possibly empty).
    Close { code: u16, reason: Cow<'a, str> },
    /// As hex: binary, a ping or pong that is not printable text, a 1-byte close body.
    Hex(&'a [u8]),
}

/// How `payload` of an `opcode` message is shown. `utf8_valid`: the decoder found the whole
/// text payload valid (a payload kept only in part may end inside a character).
pub fn shown(opcode: Opcode, payload: &[u8], utf8_valid: bool) -> Shown<'_> {
    match opcode {
        Opcode::Text => Shown::Text {
            text: String::from_utf8_lossy(payload),
            invalid_utf8: !utf8_valid,
        },
        Opcode::Close => match payload {
            [hi, lo, reason @ ..] => Shown::Close {
                code: u16::from_be_bytes([*hi, *lo]),
                reason: String::from_utf8_lossy(reason),
            },
            [] => Shown::Text {
                text: Cow::Borrowed(""),
                invalid_utf8: false,
            },
            [_] => Shown::Hex(payload),
        },
        Opcode::Ping | Opcode::Pong => match std::str::from_utf8(payload) {
            // Pings often carry a counter or a word: readable as such.
            Ok(text) if !text.chars().any(char::is_control) => Shown::Text {
                text: Cow::Borrowed(text),
                invalid_utf8: false,
            },
            _ => Shown::Hex(payload),
        },
        Opcode::Binary | Opcode::Continuation | Opcode::Reserved(_) => Shown::Hex(payload),
    }
}

/// Marks a message of which only the first bytes were captured (its length is theirs).
pub const TRUNCATED_MARK: &str = "(truncated)";

/// Marks a text message shown with replacement characters.
pub const INVALID_UTF8_MARK: &str = "(invalid UTF-8)";

/// `1000 Normal Closure "bye"`: the code, its name and the reason quoted (control characters,
/// quotes and backslashes escaped), nothing after the name when there is no reason.
pub fn close_label(code: u16, reason: &str) -> String {
    let mut out = format!("{code} {}", crate::message::close_name(code));
    if !reason.is_empty() {
        out.push_str(" \"");
        for c in reason.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c => push_escaped(c, &mut out),
            }
        }
        out.push('"');
    }
    out
}

/// A one-line preview of a message payload (see [`shown`]): text with control characters
/// escaped, binary as hex; `…` when cut.
pub fn preview(msg: &Message, out: &mut String) {
    match shown(msg.opcode, &msg.payload, msg.utf8_valid) {
        Shown::Text { text, invalid_utf8 } => {
            if invalid_utf8 {
                out.push_str(INVALID_UTF8_MARK);
                out.push(' ');
            }
            preview_text(&text, out);
        }
        Shown::Close { code, reason } => out.push_str(&close_label(code, &reason)),
        Shown::Hex(data) => preview_hex(data, out),
    }
}

fn preview_text(text: &str, out: &mut String) {
    for (n, c) in text.chars().enumerate() {
        if n == PREVIEW_CHARS {
            out.push('…');
            return;
        }
        push_escaped(c, out);
    }
}

/// `c`, or its escape when it is a control character (one line stays one line).
fn push_escaped(c: char, out: &mut String) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if c.is_control() => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
        c => out.push(c),
    }
}

fn preview_hex(data: &[u8], out: &mut String) {
    for (n, b) in data.iter().take(PREVIEW_HEX_BYTES).enumerate() {
        if n > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{b:02x}");
    }
    if data.len() > PREVIEW_HEX_BYTES {
        out.push_str(" …");
    }
}

impl<W: Write> Sink for TextSink<W> {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        let line = &mut self.line;
        line.clear();
        match &event.conn {
            Some(c) => {
                let arrow = match &event.kind {
                    EventKind::Message { dir: Dir::S2c, .. }
                    | EventKind::Anomaly {
                        dir: Some(Dir::S2c),
                        ..
                    } => "←",
                    EventKind::Proto(unit) if unit.dir == Dir::S2c => "←",
                    _ => "→",
                };
                // `#3/5`: WebSocket 3, carried in HTTP/2 stream 5.
                let id = match c.stream {
                    Some(stream) => format!("{}/{stream}", c.id),
                    None => c.id.to_string(),
                };
                let _ = write!(line, "  #{id:<3} {} {arrow} {}  ", c.client, c.server);
            }
            None => match event.transport() {
                Some(t) => {
                    let arrow = match event.kind {
                        EventKind::Anomaly {
                            dir: Some(Dir::S2c),
                            ..
                        } => "←",
                        _ => "→",
                    };
                    let _ = write!(line, "  #-   {} {arrow} {}  ", t.client, t.server);
                }
                None => line.push_str("  (input)  "),
            },
        }
        match &event.kind {
            EventKind::Open(info) => {
                line.push_str("open");
                if info.mid_stream {
                    line.push_str(" (picked up mid-stream)");
                }
                if let Some(url) = websocket_url(info) {
                    let method = match info.handshake.method.as_str() {
                        "" => "GET",
                        m => m,
                    };
                    let _ = write!(line, " {method} {url}");
                }
                if let Some(tls) = &info.tls {
                    let _ = write!(line, " TLS {} {}", tls.version, tls.cipher);
                }
                if let Some(p) = &info.subprotocol {
                    let _ = write!(line, " subprotocol={p}");
                }
                if let Some(x) = &info.extensions {
                    let _ = write!(line, " extensions={x}");
                }
            }
            EventKind::Refused(r) => {
                let _ = write!(line, "refused {}", r.summary());
            }
            EventKind::Message { msg, .. } => {
                let _ = write!(
                    line,
                    "{:<6} {:>8}  ",
                    msg.opcode.as_str(),
                    msg.payload.len()
                );
                // The capture records that carried it, as Wireshark numbers frames.
                match msg.packets {
                    Some(p) if p.first == p.last => {
                        let _ = write!(line, "#{}  ", p.first);
                    }
                    Some(p) => {
                        let _ = write!(line, "#{}-{}  ", p.first, p.last);
                    }
                    None => {}
                }
                if msg.compressed {
                    let _ = write!(line, "(deflate {}) ", msg.wire_len);
                }
                if msg.truncated {
                    line.push_str(TRUNCATED_MARK);
                    line.push(' ');
                }
                let before = line.len();
                preview(msg, line);
                if line.len() == before {
                    // An empty payload: no trailing blanks.
                    line.truncate(line.trim_end().len());
                }
            }
            EventKind::Anomaly { anomaly, .. } => {
                let _ = write!(
                    line,
                    "ANOMALY {}: {}",
                    anomaly.kind.as_str(),
                    anomaly.detail
                );
            }
            EventKind::Proto(unit) => {
                // Under its message: the protocol, the unit's summary, and for a reply what it
                // answers and how long after.
                let _ = write!(line, "  └ {} {}", unit.proto, unit.summary);
                if let Some(us) = unit.latency_us {
                    let _ = write!(line, " (reply after {})", micros(us));
                }
                if let Some(a) = &unit.anomaly {
                    let _ = write!(line, " [{}: {}]", a.kind.as_str(), a.detail);
                }
            }
            EventKind::End {
                how,
                messages,
                bytes,
                report,
            } => {
                let _ = write!(
                    line,
                    "end ({}) {messages} {}, {bytes} {}",
                    how.as_str(),
                    plural(*messages, "message", "messages"),
                    plural(*bytes, "byte", "bytes"),
                );
                if let Some(r) = report {
                    let _ = write!(line, ", close {}", r.health.close.verdict.as_str());
                    for dir in Dir::BOTH {
                        if let Some(rtt) = r.health.rtt(dir) {
                            let _ = write!(
                                line,
                                ", {} ping rtt median {} ({} {})",
                                dir.as_str(),
                                micros(rtt.median),
                                rtt.count,
                                plural(rtt.count, "sample", "samples")
                            );
                        }
                    }
                    if !r.unanswered.is_empty() {
                        let _ = write!(line, ", {} unanswered:", r.unanswered.len());
                        // The first few by name, so that `--filter unanswered` says which.
                        for (i, u) in r.unanswered.iter().take(UNANSWERED_LISTED).enumerate() {
                            let sep = if i == 0 { " " } else { "; " };
                            let _ =
                                write!(line, "{sep}{} {} {}", u.proto, u.dir.as_str(), u.summary);
                        }
                        if r.unanswered.len() > UNANSWERED_LISTED {
                            let _ = write!(
                                line,
                                "; and {} more",
                                r.unanswered.len() - UNANSWERED_LISTED
                            );
                        }
                    }
                }
            }
            EventKind::Silence {
                silent_us,
                ended: false,
            } => {
                let _ = write!(line, "silent for {}", micros(*silent_us));
            }
            EventKind::Silence {
                silent_us,
                ended: true,
            } => {
                let _ = write!(line, "speaks again after {} of silence", micros(*silent_us));
            }
        }
        self.write_time(event.ts)?;
        self.out.write_all(self.line.as_bytes())?;
        self.out.write_all(b"\n")
    }

    fn capture_start(&mut self, ts: Timestamp) -> io::Result<()> {
        self.start.get_or_insert(ts);
        Ok(())
    }

    fn finish(&mut self, finish: &Finish<'_>) -> io::Result<()> {
        match finish.summary {
            Some(summary) => self.summary(summary),
            None => Ok(()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Absolute times only: a relative or delta time depends on what came before the line,
    /// so those lines are made here, in order.
    fn lines(&mut self) -> Option<&mut dyn LineSink> {
        match self.time {
            TimeFormat::Absolute => Some(self),
            TimeFormat::Relative | TimeFormat::Delta => None,
        }
    }
}

impl<W: Write> LineSink for TextSink<W> {
    fn formatter(&self) -> Box<dyn Formatter + Send> {
        Box::new(TextFormatter(TextSink::new(Vec::new())))
    }

    fn write_formatted(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)
    }
}

/// Text lines made in memory, away from the output.
struct TextFormatter(TextSink<Vec<u8>>);

impl Formatter for TextFormatter {
    fn format(&mut self, event: &Event, out: &mut Vec<u8>) {
        std::mem::swap(self.0.get_mut(), out);
        // Writing into memory cannot fail.
        let _ = self.0.event(event);
        std::mem::swap(self.0.get_mut(), out);
    }
}

impl<W: Write> TextSink<W> {
    /// `--summary`: a table of per-connection totals, with the median ping RTT and the
    /// close verdict of connections that ended (`-`: none answered, or not ended).
    fn summary(&mut self, summary: &Summary) -> io::Result<()> {
        writeln!(
            self.out,
            "\n{:<5} {:<47} {:>8} {:>8} {:>12} {:>12} {:>5} {:>9}  {:<11}  end",
            "conn",
            "client → server",
            "msgs →",
            "msgs ←",
            "bytes →",
            "bytes ←",
            "anom",
            "rtt",
            "close"
        )?;
        for t in summary.conns.values() {
            let ends = format!("{} → {}", t.conn.client, t.conn.server);
            let rtt = t.rtt_median_us.map_or_else(|| "-".to_string(), micros);
            writeln!(
                self.out,
                "#{:<4} {:<47} {:>8} {:>8} {:>12} {:>12} {:>5} {:>9}  {:<11}  {}",
                t.conn.id,
                ends,
                t.messages[0],
                t.messages[1],
                t.bytes[0],
                t.bytes[1],
                t.anomalies,
                rtt,
                t.verdict.map_or("-", |v| v.as_str()),
                t.end.map_or("open", |h| h.as_str())
            )?;
        }
        if summary.input_anomalies > 0 {
            writeln!(
                self.out,
                "{} about the input itself",
                crate::plural::count(summary.input_anomalies, "anomaly", "anomalies")
            )?;
        }
        let r = &summary.run;
        let count = crate::plural::count;
        let mut line = format!(
            "{}, {}, {}",
            count(r.packets, "packet", "packets"),
            count(r.tcp_conns, "TCP connection", "TCP connections"),
            count(r.websocket_conns, "WebSocket", "WebSockets")
        );
        if r.tls_conns > 0 {
            line.push_str(&format!(
                "; {}: {} decrypted, {} without keys",
                count(r.tls_conns, "TLS connection", "TLS connections"),
                r.tls_conns.saturating_sub(r.tls_no_keys),
                r.tls_no_keys
            ));
        }
        writeln!(self.out, "{line}")?;
        Ok(())
    }
}

/// The WebSocket's URL as a browser names it: `ws://` or `wss://` (TLS underneath), the host
/// and the request target (for HTTP/2, `:authority` and `:path`); the URI alone when the host
/// is not known.
fn websocket_url(info: &crate::event::OpenInfo) -> Option<String> {
    let scheme = if info.tls.is_some() { "wss" } else { "ws" };
    let target = match info.handshake.http {
        crate::event::HttpVersion::Http2 if !info.handshake.target.is_empty() => {
            info.handshake.target.clone()
        }
        _ => info.uri.clone()?,
    };
    Some(match &info.host {
        Some(host) if target.starts_with('/') => format!("{scheme}://{host}{target}"),
        _ => target,
    })
}

/// `1 message`, `2 messages`.
fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// Unanswered requests named on an `end` line (all of them are in the JSON line).
const UNANSWERED_LISTED: usize = 5;

/// A duration in microseconds, readable: `850 µs`, `4.1 ms`, `2.35 s` (text output and the
/// TUI write durations alike).
pub fn micros(us: u64) -> String {
    if us < 1_000 {
        format!("{us} µs")
    } else if us < 1_000_000 {
        format!("{:.1} ms", us as f64 / 1_000.0)
    } else {
        format!("{:.2} s", us as f64 / 1_000_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(opcode: Opcode, payload: &[u8]) -> Message {
        Message {
            opcode,
            payload: payload.to_vec(),
            frames: 1,
            compressed: false,
            wire_len: payload.len() as u64,
            utf8_valid: std::str::from_utf8(payload).is_ok(),
            frame_detail: Vec::new(),
            packets: None,
            truncated: false,
        }
    }

    fn line(msg: Message) -> String {
        let mut sink = TextSink::new(Vec::new());
        let conn = crate::event::ConnRef {
            id: 3,
            client: std::net::SocketAddr::from(([10, 0, 0, 1], 40000)),
            server: std::net::SocketAddr::from(([10, 0, 0, 2], 80)),
            stream: None,
        };
        let ev = Event {
            ts: crate::event::Timestamp::new(0, 0),
            conn: Some(conn),
            kind: EventKind::Message { dir: Dir::C2s, msg },
        };
        sink.event(&ev).unwrap();
        String::from_utf8(sink.into_inner()).unwrap()
    }

    /// Message lines name the packets that carried them: `#N` for one, `#N-M` for several.
    #[test]
    fn message_lines_name_their_packets() {
        use crate::event::Packets;
        let mut msg = message(Opcode::Text, b"hi");
        let head =
            "1970-01-01T00:00:00.000000Z  #3   10.0.0.1:40000 → 10.0.0.2:80  text          2  ";
        assert_eq!(line(msg.clone()), format!("{head}hi\n"));
        msg.packets = Some(Packets { first: 8, last: 8 });
        assert_eq!(line(msg.clone()), format!("{head}#8  hi\n"));
        msg.packets = Some(Packets {
            first: 12,
            last: 14,
        });
        assert_eq!(line(msg), format!("{head}#12-14  hi\n"));
    }

    #[test]
    fn silence_lines() {
        let conn = crate::event::ConnRef {
            id: 4,
            client: "10.0.0.1:5000".parse().unwrap(),
            server: "10.0.0.2:80".parse().unwrap(),
            stream: None,
        };
        let mut sink = TextSink::new(Vec::new());
        for (silent_us, ended) in [(30_000_001, false), (31_500_000, true)] {
            let ev = Event {
                ts: crate::event::Timestamp::new(1_700_000_000, 0),
                conn: Some(conn),
                kind: EventKind::Silence { silent_us, ended },
            };
            sink.event(&ev).unwrap();
        }
        assert_eq!(
            String::from_utf8(sink.into_inner()).unwrap(),
            "2023-11-14T22:13:20.000000Z  #4   10.0.0.1:5000 → 10.0.0.2:80  silent for 30.00 s\n\
             2023-11-14T22:13:20.000000Z  #4   10.0.0.1:5000 → 10.0.0.2:80  speaks again after \
             31.50 s of silence\n"
        );
    }

    #[test]
    fn previews() {
        let mut s = String::new();
        preview(&message(Opcode::Text, b"a\nb\x01"), &mut s);
        assert_eq!(s, "a\\nb\\u{1}");
        s.clear();
        preview(&message(Opcode::Binary, &[0, 0xff, 0x10]), &mut s);
        assert_eq!(s, "00 ff 10");
        s.clear();
        preview(&message(Opcode::Close, b"\x03\xe8done"), &mut s);
        assert_eq!(s, "1000 Normal Closure \"done\"");
        s.clear();
        let long = "x".repeat(200);
        preview(&message(Opcode::Text, long.as_bytes()), &mut s);
        assert_eq!(s, format!("{}…", "x".repeat(PREVIEW_CHARS)));
    }

    fn shown_as(opcode: Opcode, payload: &[u8]) -> String {
        let mut s = String::new();
        preview(&message(opcode, payload), &mut s);
        s
    }

    fn lines(time: TimeFormat, start: Option<Timestamp>, times: &[(i64, u32)]) -> String {
        let mut sink = TextSink::new(Vec::new()).time_format(time);
        if let Some(ts) = start {
            sink.capture_start(ts).unwrap();
        }
        for &(secs, nanos) in times {
            let ev = Event::input_anomaly(
                Timestamp::new(secs, nanos),
                crate::event::AnomalyKind::CorruptCapture,
                "x",
                None,
            );
            sink.event(&ev).unwrap();
        }
        String::from_utf8(sink.into_inner()).unwrap()
    }

    #[test]
    fn time_formats() {
        let times = [(100, 250_000_000), (101, 0), (101, 0), (99, 0)];
        let start = Some(Timestamp::new(100, 0));
        assert_eq!(
            lines(TimeFormat::Absolute, start, &times[..2]),
            "1970-01-01T00:01:40.250000Z  (input)  ANOMALY corrupt_capture: x\n\
             1970-01-01T00:01:41.000000Z  (input)  ANOMALY corrupt_capture: x\n"
        );
        assert_eq!(
            lines(TimeFormat::Relative, start, &times),
            "  0.250000  (input)  ANOMALY corrupt_capture: x\n  1.000000  (input)  ANOMALY \
             corrupt_capture: x\n  1.000000  (input)  ANOMALY corrupt_capture: x\n -1.000000  \
             (input)  ANOMALY corrupt_capture: x\n"
        );
        // Not told when the capture started (a library user): from the first line.
        assert_eq!(
            lines(TimeFormat::Relative, None, &times[..2]),
            "  0.000000  (input)  ANOMALY corrupt_capture: x\n  0.750000  (input)  ANOMALY \
             corrupt_capture: x\n"
        );
        assert_eq!(
            lines(TimeFormat::Delta, start, &times),
            "  0.000000  (input)  ANOMALY corrupt_capture: x\n  0.750000  (input)  ANOMALY \
             corrupt_capture: x\n  0.000000  (input)  ANOMALY corrupt_capture: x\n -2.000000  \
             (input)  ANOMALY corrupt_capture: x\n"
        );
    }

    #[test]
    fn close_codes_are_named() {
        assert_eq!(shown_as(Opcode::Close, b"\x03\xe8"), "1000 Normal Closure");
        assert_eq!(
            shown_as(Opcode::Close, b"\x03\xe9bye"),
            "1001 Going Away \"bye\""
        );
        assert_eq!(
            shown_as(Opcode::Close, b"\x0f\xa1a\"b\\c\n"),
            "4001 private use \"a\\\"b\\\\c\\n\""
        );
        assert_eq!(shown_as(Opcode::Close, b""), "");
        assert_eq!(shown_as(Opcode::Close, b"\x03"), "03");
        // A reason that is not UTF-8 is shown with replacement characters.
        assert_eq!(
            shown_as(Opcode::Close, b"\x03\xf3ok\xff"),
            "1011 Internal Error \"ok\u{fffd}\""
        );
    }

    #[test]
    fn pings_and_pongs_that_are_text_are_shown_as_text() {
        assert_eq!(shown_as(Opcode::Ping, b"keepalive 17"), "keepalive 17");
        assert_eq!(shown_as(Opcode::Pong, "h\u{e9}".as_bytes()), "h\u{e9}");
        assert_eq!(shown_as(Opcode::Ping, b"\x00\x00\x01\x2c"), "00 00 01 2c");
        assert_eq!(shown_as(Opcode::Pong, b"ab\ncd"), "61 62 0a 63 64");
        assert_eq!(shown_as(Opcode::Ping, b"\xffab"), "ff 61 62");
        assert_eq!(shown_as(Opcode::Ping, b""), "");
        // Binary stays hex even when printable.
        assert_eq!(shown_as(Opcode::Binary, b"ab"), "61 62");
    }

    #[test]
    fn invalid_utf8_text_is_shown_as_text_and_marked() {
        assert_eq!(
            shown_as(Opcode::Text, b"caf\xc3 au lait\xff"),
            "(invalid UTF-8) caf\u{fffd} au lait\u{fffd}"
        );
        assert_eq!(shown_as(Opcode::Text, "caf\u{e9}".as_bytes()), "caf\u{e9}");
    }
}
