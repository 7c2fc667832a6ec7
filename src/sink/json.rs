//! JSON lines: one object per event, fields as documented in the README.

use std::io::{self, Write};

use super::fastfmt::{
    ConnCache, Fields, TimeCache, write_json_str, write_json_utf8_in_memory, write_json_utf8_staged,
};
use super::{Finish, Formatter, LineSink, Sink, Summary, write_rfc3339_micros};
use crate::event::{Dir, Event, EventKind, Handshake, Message, Opcode, TlsInfo};

/// Payload bytes base64-encoded at a time: a multiple of 3, so that only the last piece is
/// padded.
const B64_PIECE: usize = 3 << 14;

pub struct JsonSink<W: Write> {
    out: W,
    /// Reused base64 buffer.
    b64: Vec<u8>,
    time: TimeCache,
    conns: ConnCache,
    /// The buffer the output's current line is written into, when it is memory that
    /// payloads may be written into directly (see [`JsonSink::with_line_buffer`]).
    line_buffer: Option<fn(&mut W) -> &mut Vec<u8>>,
}

impl<W: Write> JsonSink<W> {
    pub fn new(out: W) -> Self {
        JsonSink {
            out,
            b64: Vec::new(),
            time: TimeCache::default(),
            conns: ConnCache::default(),
            line_buffer: None,
        }
    }

    /// A sink whose output keeps the line being written in memory (`buffer` gives it), up to
    /// the line's end: payloads are written straight into it, base64 encoded in place and
    /// text escaped without a staging buffer (bulk payloads are most of the output, and each
    /// copy of them counts). Nothing but whole payload values goes in this way.
    pub fn with_line_buffer(out: W, buffer: fn(&mut W) -> &mut Vec<u8>) -> Self {
        let mut sink = JsonSink::new(out);
        sink.line_buffer = Some(buffer);
        sink
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }
}

/// A JSON string value, escaped.
fn string(w: &mut impl Write, s: &str) -> io::Result<()> {
    write_json_str(w, s)
}

fn opt_string(w: &mut impl Write, s: Option<&str>) -> io::Result<()> {
    match s {
        Some(s) => string(w, s),
        None => w.write_all(b"null"),
    }
}

/// `,"tls":{...}` or `,"tls":null`.
fn tls(w: &mut impl Write, tls: Option<&TlsInfo>) -> io::Result<()> {
    w.write_all(b",\"tls\":")?;
    let Some(t) = tls else {
        return w.write_all(b"null");
    };
    w.write_all(b"{\"version\":")?;
    string(w, &t.version)?;
    w.write_all(b",\"cipher\":")?;
    string(w, &t.cipher)?;
    w.write_all(b",\"sni\":")?;
    opt_string(w, t.sni.as_deref())?;
    w.write_all(b",\"alpn\":")?;
    opt_string(w, t.alpn.as_deref())?;
    write!(w, ",\"resumed\":{}}}", t.resumed)
}

/// The opening exchange: `http`, `method`, `target`, `status`, `reason` (null when not seen,
/// e.g. picked up mid-stream; `reason` is HTTP/1.1's only), and both header lists as
/// `[name, value]` pairs in the order sent.
fn handshake(w: &mut impl Write, hs: &Handshake) -> io::Result<()> {
    fn non_empty(s: &str) -> Option<&str> {
        (!s.is_empty()).then_some(s)
    }
    write!(w, ",\"http\":\"{}\",\"method\":", hs.http.as_str())?;
    opt_string(w, non_empty(&hs.method))?;
    w.write_all(b",\"target\":")?;
    opt_string(w, non_empty(&hs.target))?;
    match hs.status {
        0 => w.write_all(b",\"status\":null")?,
        s => write!(w, ",\"status\":{s}")?,
    }
    w.write_all(b",\"reason\":")?;
    opt_string(w, non_empty(&hs.reason))?;
    for (key, headers) in [
        (&b",\"request_headers\":["[..], &hs.request_headers),
        (b",\"response_headers\":[", &hs.response_headers),
    ] {
        w.write_all(key)?;
        for (i, (name, value)) in headers.iter().enumerate() {
            w.write_all(if i == 0 { b"[" } else { b",[" })?;
            string(w, name)?;
            w.write_all(b",")?;
            string(w, value)?;
            w.write_all(b"]")?;
        }
        w.write_all(b"]")?;
    }
    Ok(())
}

impl JsonSink<Vec<u8>> {
    /// Lines formatted into memory.
    pub fn in_memory() -> Self {
        JsonSink::with_line_buffer(Vec::new(), |v| v)
    }
}

impl<W: Write> JsonSink<W> {
    /// A message's fields after the line's start, gathered in `f`.
    fn message(&mut self, mut f: Fields, dir: Dir, msg: &Message) -> io::Result<()> {
        let w = &mut self.out;
        f.push(w, b",\"dir\":\"")?;
        f.push(w, dir.as_str().as_bytes())?;
        f.push(w, b"\",\"opcode\":\"")?;
        f.push(w, msg.opcode.as_str().as_bytes())?;
        f.push(w, b"\",\"len\":")?;
        f.push_u64(w, msg.payload.len() as u64)?;
        f.push(w, b",\"wire_len\":")?;
        f.push_u64(w, msg.wire_len)?;
        f.push(w, b",\"frames\":")?;
        f.push_u64(w, u64::from(msg.frames))?;
        if let Some(p) = msg.packets {
            f.push(w, b",\"packets\":[")?;
            f.push_u64(w, p.first)?;
            f.push(w, b",")?;
            f.push_u64(w, p.last)?;
            f.push(w, b"]")?;
        }
        f.push(
            w,
            if msg.compressed {
                b",\"compressed\":true"
            } else {
                b",\"compressed\":false"
            },
        )?;
        // Only when set: a whole message's line is as it always was.
        if msg.truncated {
            f.push(w, b",\"truncated\":true")?;
        }
        // The decoder validated text messages (`utf8_valid`): no second pass here.
        let text = msg.opcode == Opcode::Text && msg.utf8_valid;
        if text {
            f.push(w, b",\"text\":")?;
        }
        f.flush(w)?;
        if text {
            match self.line_buffer {
                Some(buffer) => write_json_utf8_in_memory(buffer(w), &msg.payload),
                None => write_json_utf8_staged(w, &msg.payload, &mut self.b64)?,
            }
        } else if msg.opcode == Opcode::Close {
            if let Some(code) = msg.close_code() {
                write!(w, ",\"close_code\":{code}")?;
            }
            let reason = msg.close_reason().map(std::str::from_utf8);
            match reason {
                Some(Ok(reason)) if msg.utf8_valid => {
                    w.write_all(b",\"close_reason\":")?;
                    string(w, reason)?;
                }
                None if msg.payload.is_empty() => {}
                // A 1-byte body or a reason that is not UTF-8: the raw payload says it all.
                _ => self.data_b64(&msg.payload)?,
            }
        } else {
            self.data_b64(&msg.payload)?;
        }
        Ok(())
    }

    fn data_b64(&mut self, payload: &[u8]) -> io::Result<()> {
        // SIMD base64: on bulk binary traffic this is most of the output work. Straight into
        // the line buffer when there is one; else a piece at a time, so that what is encoded
        // is still in cache when it is copied out (encoding a whole large message first would
        // send it through memory once more).
        self.out.write_all(b",\"data_b64\":\"")?;
        if let Some(buffer) = self.line_buffer {
            base64_simd::STANDARD.encode_append(payload, buffer(&mut self.out));
            return self.out.write_all(b"\"");
        }
        for piece in payload.chunks(B64_PIECE) {
            self.b64.clear();
            base64_simd::STANDARD.encode_append(piece, &mut self.b64);
            self.out.write_all(&self.b64)?;
        }
        self.out.write_all(b"\"")
    }
}

impl<W: Write> Sink for JsonSink<W> {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        let start: &[u8] = match event.kind {
            EventKind::Open(_) => b"{\"event\":\"open\",\"ts\":\"",
            EventKind::Message { .. } => b"{\"event\":\"message\",\"ts\":\"",
            EventKind::Anomaly { .. } => b"{\"event\":\"anomaly\",\"ts\":\"",
            EventKind::Proto(_) => b"{\"event\":\"proto\",\"ts\":\"",
            EventKind::End { .. } => b"{\"event\":\"end\",\"ts\":\"",
            EventKind::Silence { .. } => b"{\"event\":\"silence\",\"ts\":\"",
            EventKind::Refused(_) => b"{\"event\":\"refused\",\"ts\":\"",
        };
        // The line's start, and a message's fields after it, are gathered and written at once.
        let mut f = Fields::new();
        let w = &mut self.out;
        f.push(w, start)?;
        match self.time.text(event.ts) {
            Some(text) => f.push(w, text)?,
            None => {
                f.flush(w)?;
                write_rfc3339_micros(w, event.ts)?;
            }
        }
        if let Some(c) = &event.conn {
            f.push(w, b"\",")?;
            f.push(w, self.conns.get(c))?;
            if let EventKind::Message { dir, msg } = &event.kind {
                self.message(f, *dir, msg)?;
                return self.out.write_all(b"}\n");
            }
        }
        f.flush(w)?;
        match &event.conn {
            Some(_) => {}
            None => match event.transport() {
                // An event about a TCP connection that carries no numbered WebSocket.
                Some(t) => {
                    write!(
                        self.out,
                        "\",\"conn\":null,\"client\":\"{}\",\"server\":\"{}\"",
                        t.client, t.server
                    )?;
                    if let Some(stream) = t.stream {
                        write!(self.out, ",\"stream\":{stream}")?;
                    }
                }
                None => self
                    .out
                    .write_all(b"\",\"conn\":null,\"client\":null,\"server\":null")?,
            },
        }
        match &event.kind {
            EventKind::Open(info) => {
                let w = &mut self.out;
                w.write_all(b",\"uri\":")?;
                opt_string(w, info.uri.as_deref())?;
                w.write_all(b",\"host\":")?;
                opt_string(w, info.host.as_deref())?;
                w.write_all(b",\"origin\":")?;
                opt_string(w, info.origin.as_deref())?;
                w.write_all(b",\"user_agent\":")?;
                opt_string(w, info.user_agent.as_deref())?;
                w.write_all(b",\"subprotocol\":")?;
                opt_string(w, info.subprotocol.as_deref())?;
                w.write_all(b",\"extensions\":")?;
                opt_string(w, info.extensions.as_deref())?;
                write!(w, ",\"mid_stream\":{}", info.mid_stream)?;
                tls(w, info.tls.as_ref())?;
                handshake(w, &info.handshake)?;
                if let Some(p) = info.handshake.response_packet {
                    write!(w, ",\"packet\":{p}")?;
                }
            }
            EventKind::Refused(r) => {
                let w = &mut self.out;
                w.write_all(b",\"uri\":")?;
                opt_string(w, r.uri.as_deref())?;
                tls(w, r.tls.as_ref())?;
                handshake(w, &r.handshake)?;
            }
            EventKind::Message { dir, msg } => self.message(Fields::new(), *dir, msg)?,
            EventKind::Anomaly { dir, anomaly } => {
                let w = &mut self.out;
                match dir {
                    Some(d) => write!(w, ",\"dir\":\"{}\"", d.as_str())?,
                    None => w.write_all(b",\"dir\":null")?,
                }
                write!(w, ",\"kind\":\"{}\"", anomaly.kind.as_str())?;
                if let Some(p) = anomaly.packet {
                    write!(w, ",\"packet\":{p}")?;
                }
                w.write_all(b",\"detail\":")?;
                string(w, &anomaly.detail)?;
            }
            EventKind::Proto(unit) => {
                write!(self.out, ",\"dir\":\"{}\"", unit.dir.as_str())?;
                super::jsonvalue::write_unit(&mut self.out, unit, |mut w, ts| {
                    w.write_all(b"\"")?;
                    write_rfc3339_micros(&mut w, ts)?;
                    w.write_all(b"\"")
                })?;
            }
            EventKind::End {
                how,
                messages,
                bytes,
                report,
            } => {
                write!(
                    self.out,
                    ",\"how\":\"{}\",\"messages\":{messages},\"bytes\":{bytes}",
                    how.as_str()
                )?;
                if let Some(report) = report {
                    report.health.write_json(&mut self.out)?;
                    if !report.unanswered.is_empty() {
                        self.out.write_all(b",\"unanswered\":[")?;
                        for (i, u) in report.unanswered.iter().enumerate() {
                            if i > 0 {
                                self.out.write_all(b",")?;
                            }
                            write!(self.out, "{{\"dir\":\"{}\",\"ts\":\"", u.dir.as_str())?;
                            write_rfc3339_micros(&mut self.out, u.ts)?;
                            write!(self.out, "\",\"proto\":\"{}\",\"type\":", u.proto)?;
                            string(&mut self.out, &u.kind)?;
                            self.out.write_all(b",\"id\":")?;
                            serde_json::to_writer(&mut self.out, &u.id)?;
                            self.out.write_all(b",\"summary\":")?;
                            string(&mut self.out, &u.summary)?;
                            self.out.write_all(b"}")?;
                        }
                        self.out.write_all(b"]")?;
                    }
                }
                if let Some(c) = &event.conn {
                    self.conns.forget(c.id);
                }
            }
            EventKind::Silence { silent_us, ended } => {
                write!(self.out, ",\"silent_us\":{silent_us},\"ended\":{ended}")?;
            }
        }
        self.out.write_all(b"}\n")
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

    fn lines(&mut self) -> Option<&mut dyn LineSink> {
        Some(self)
    }
}

impl<W: Write> LineSink for JsonSink<W> {
    fn formatter(&self) -> Box<dyn Formatter + Send> {
        Box::new(JsonFormatter(JsonSink::in_memory()))
    }

    fn write_formatted(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)
    }
}

/// JSON lines made in memory, away from the output (the caches stay with it).
struct JsonFormatter(JsonSink<Vec<u8>>);

impl Formatter for JsonFormatter {
    fn format(&mut self, event: &Event, out: &mut Vec<u8>) {
        std::mem::swap(self.0.get_mut(), out);
        // Writing into memory cannot fail.
        let _ = self.0.event(event);
        std::mem::swap(self.0.get_mut(), out);
    }
}

impl<W: Write> JsonSink<W> {
    /// `--summary`: one `{"event":"summary",...}` line per connection.
    fn summary(&mut self, summary: &Summary) -> io::Result<()> {
        for t in summary.conns.values() {
            write!(
                self.out,
                "{{\"event\":\"summary\",\"conn\":{},\"client\":\"{}\",\"server\":\"{}\",\"uri\":",
                t.conn.id, t.conn.client, t.conn.server
            )?;
            opt_string(&mut self.out, t.uri.as_deref())?;
            self.out.write_all(b",\"first\":\"")?;
            write_rfc3339_micros(&mut self.out, t.first)?;
            self.out.write_all(b"\",\"last\":\"")?;
            write_rfc3339_micros(&mut self.out, t.last)?;
            write!(
                self.out,
                "\",\"c2s_messages\":{},\"s2c_messages\":{},\"c2s_bytes\":{},\"s2c_bytes\":{},\"anomalies\":{},\"how\":",
                t.messages[0], t.messages[1], t.bytes[0], t.bytes[1], t.anomalies
            )?;
            match t.end {
                Some(how) => write!(self.out, "\"{}\"", how.as_str())?,
                None => self.out.write_all(b"null")?,
            }
            self.out.write_all(b",\"rtt_median_us\":")?;
            match t.rtt_median_us {
                Some(us) => write!(self.out, "{us}")?,
                None => self.out.write_all(b"null")?,
            }
            self.out.write_all(b",\"close\":")?;
            match t.verdict {
                Some(v) => write!(self.out, "\"{}\"", v.as_str())?,
                None => self.out.write_all(b"null")?,
            }
            write!(self.out, ",\"silences\":{}}}", t.silences)?;
            self.out.write_all(b"\n")?;
        }
        let r = &summary.run;
        writeln!(
            self.out,
            "{{\"event\":\"totals\",\"packets\":{},\"tcp_conns\":{},\"websocket_conns\":{},\"tls_conns\":{},\"tls_decrypted\":{},\"tls_no_keys\":{},\"input_anomalies\":{}}}",
            r.packets,
            r.tcp_conns,
            r.websocket_conns,
            r.tls_conns,
            r.tls_conns.saturating_sub(r.tls_no_keys),
            r.tls_no_keys,
            summary.input_anomalies
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;
    use crate::event::{ConnRef, Dir, Timestamp};

    fn conn() -> ConnRef {
        ConnRef {
            id: 3,
            client: SocketAddr::from(([127, 0, 0, 1], 40000)),
            server: "[::1]:8765".parse().unwrap(),
            stream: None,
        }
    }

    fn render(kind: EventKind) -> serde_json::Value {
        let mut sink = JsonSink::new(Vec::new());
        let ev = Event {
            ts: Timestamp::new(1_700_000_000, 5_000),
            conn: Some(conn()),
            kind,
        };
        sink.event(&ev).unwrap();
        let out = sink.into_inner();
        assert_eq!(out.last(), Some(&b'\n'));
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
        serde_json::from_slice(&out).unwrap()
    }

    fn msg(opcode: Opcode, payload: &[u8], utf8_valid: bool) -> EventKind {
        EventKind::Message {
            dir: Dir::S2c,
            msg: Message {
                opcode,
                payload: payload.to_vec(),
                frames: 2,
                compressed: true,
                wire_len: 9,
                utf8_valid,
                frame_detail: Vec::new(),
                packets: Some(crate::event::Packets {
                    first: 12,
                    last: 14,
                }),
                truncated: false,
            },
        }
    }

    #[test]
    fn silence_alarm_and_its_end() {
        for ended in [false, true] {
            let v = render(EventKind::Silence {
                silent_us: 30_000_001,
                ended,
            });
            assert_eq!(
                v,
                serde_json::json!({"event":"silence","ts":"2023-11-14T22:13:20.000005Z","conn":3,
                    "client":"127.0.0.1:40000","server":"[::1]:8765","silent_us":30_000_001,
                    "ended":ended})
            );
        }
    }

    #[test]
    fn truncated_message_says_so() {
        let mut kind = msg(Opcode::Binary, b"\x01\x02", false);
        if let EventKind::Message { msg, .. } = &mut kind {
            msg.truncated = true;
        }
        assert_eq!(
            render(kind),
            serde_json::json!({"event":"message","ts":"2023-11-14T22:13:20.000005Z","conn":3,
                "client":"127.0.0.1:40000","server":"[::1]:8765","dir":"s2c","opcode":"binary",
                "len":2,"wire_len":9,"frames":2,"packets":[12,14],"compressed":true,"truncated":true,
                "data_b64":"AQI="})
        );
    }

    #[test]
    fn text_message() {
        let v = render(msg(Opcode::Text, "h\"é\n".as_bytes(), true));
        assert_eq!(
            v,
            serde_json::json!({"event":"message","ts":"2023-11-14T22:13:20.000005Z","conn":3,
                "client":"127.0.0.1:40000","server":"[::1]:8765","dir":"s2c","opcode":"text",
                "len":5,"wire_len":9,"frames":2,"packets":[12,14],"compressed":true,
                "text":"h\"é\n"})
        );
        // A message not decoded from a capture has no packets.
        let EventKind::Message { dir, mut msg } = msg(Opcode::Text, b"x", true) else {
            unreachable!()
        };
        msg.packets = None;
        assert!(
            render(EventKind::Message { dir, msg })
                .get("packets")
                .is_none()
        );
    }

    /// An anomaly names the packet it was found at; the open, the packet of the answer that
    /// completed the upgrade.
    #[test]
    fn anomaly_and_open_packets() {
        let anomaly = crate::event::Anomaly::new(crate::event::AnomalyKind::InvalidUtf8, "x");
        let v = render(EventKind::Anomaly {
            dir: Some(Dir::C2s),
            anomaly: anomaly.clone().at(Some(7)),
        });
        assert_eq!(
            v,
            serde_json::json!({"event":"anomaly","ts":"2023-11-14T22:13:20.000005Z","conn":3,
                "client":"127.0.0.1:40000","server":"[::1]:8765","dir":"c2s",
                "kind":"invalid_utf8","packet":7,"detail":"x"})
        );
        let v = render(EventKind::Anomaly {
            dir: Some(Dir::C2s),
            anomaly,
        });
        assert!(v.get("packet").is_none());
        let mut info = crate::event::OpenInfo::default();
        info.handshake.response_packet = Some(4);
        let v = render(EventKind::Open(Box::new(info)));
        assert_eq!(v["packet"], 4);
        let v = render(EventKind::Open(Box::default()));
        assert!(v.get("packet").is_none());
    }

    #[test]
    fn invalid_text_and_binary_are_base64() {
        let v = render(msg(Opcode::Text, b"a\xff", false));
        assert_eq!(v["data_b64"], "Yf8=");
        assert!(v.get("text").is_none());
        let v = render(msg(Opcode::Binary, b"hi", true));
        assert_eq!(v["data_b64"], "aGk=");
    }

    /// Large payloads are encoded piece by piece: the pieces join into the one encoding.
    #[test]
    fn large_binary_payloads_are_one_base64_string() {
        for len in [B64_PIECE - 1, B64_PIECE, B64_PIECE + 1, 3 * B64_PIECE + 2] {
            let payload: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let v = render(msg(Opcode::Binary, &payload, true));
            let want = base64_simd::STANDARD.encode_to_string(&payload);
            assert_eq!(v["data_b64"].as_str(), Some(want.as_str()), "{len} bytes");
        }
    }

    /// Lines formatted into memory (encoded in place) are the lines a writer gets.
    #[test]
    fn in_memory_lines_are_the_written_lines() {
        for len in [0, 1, 2, 3, 300, B64_PIECE + 1, 3 * B64_PIECE + 2] {
            let binary: Vec<u8> = (0..len).map(|i| (i * 13 % 256) as u8).collect();
            // Every escape, clean runs, and multi-byte characters.
            let text: String = (0..len)
                .map(|i| ['"', '\\', '\n', '\u{1}', 'é', 'a', '€', 'b'][i * 7 % 8])
                .collect();
            for kind in [
                msg(Opcode::Binary, &binary, false),
                msg(Opcode::Text, text.as_bytes(), true),
            ] {
                let ev = Event {
                    ts: Timestamp::new(1_700_000_000, 5_000),
                    conn: Some(conn()),
                    kind,
                };
                let mut written = JsonSink::new(io::Cursor::new(Vec::new()));
                written.event(&ev).unwrap();
                let mut memory = JsonSink::in_memory();
                memory.event(&ev).unwrap();
                let line = memory.into_inner();
                assert_eq!(line, written.into_inner().into_inner(), "{len}");
                serde_json::from_slice::<serde_json::Value>(&line).unwrap();
            }
        }
    }

    #[test]
    fn close_message() {
        let v = render(msg(Opcode::Close, b"\x03\xe8bye", true));
        assert_eq!(v["close_code"], 1000);
        assert_eq!(v["close_reason"], "bye");
        assert!(v.get("data_b64").is_none());
        let v = render(msg(Opcode::Close, b"\x03", true));
        assert_eq!(v["data_b64"], "Aw==");
        let v = render(msg(Opcode::Close, b"", true));
        assert!(v.get("close_code").is_none() && v.get("data_b64").is_none());
    }

    /// The handshake fields of `open`: null where nothing was seen (picked up mid-stream).
    #[test]
    fn open_without_handshake_has_null_fields() {
        let v = render(EventKind::Open(Box::new(crate::event::OpenInfo {
            mid_stream: true,
            ..Default::default()
        })));
        for k in ["method", "target", "status", "reason"] {
            assert_eq!(v[k], serde_json::Value::Null, "{k}");
        }
        assert_eq!(v["http"], "1.1");
        assert_eq!(v["request_headers"], serde_json::json!([]));
        assert_eq!(v["response_headers"], serde_json::json!([]));
    }

    #[test]
    fn refused_line() {
        let mut sink = JsonSink::new(Vec::new());
        let ev = Event {
            ts: Timestamp::new(1_700_000_000, 0),
            conn: None,
            kind: EventKind::Refused(Box::new(crate::event::Refused {
                transport: crate::event::Transport {
                    client: conn().client,
                    server: conn().server,
                    stream: Some(5),
                },
                uri: Some("/ws".into()),
                handshake: Handshake {
                    http: crate::event::HttpVersion::Http2,
                    method: "CONNECT".into(),
                    target: "/ws".into(),
                    status: 404,
                    reason: String::new(),
                    request_headers: vec![(":method".into(), "CONNECT".into())],
                    response_headers: vec![(":status".into(), "404".into())],
                    request_ts: None,
                    response_ts: None,
                    response_packet: None,
                },
                tls: None,
            })),
        };
        sink.event(&ev).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&sink.into_inner()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"event":"refused","ts":"2023-11-14T22:13:20.000000Z","conn":null,
                "client":"127.0.0.1:40000","server":"[::1]:8765","stream":5,"uri":"/ws",
                "tls":null,"http":"2","method":"CONNECT","target":"/ws","status":404,
                "reason":null,"request_headers":[[":method","CONNECT"]],
                "response_headers":[[":status","404"]]})
        );
    }

    #[test]
    fn file_level_anomaly_has_null_endpoints() {
        let mut sink = JsonSink::new(Vec::new());
        let ev = Event {
            ts: Timestamp::new(0, 0),
            conn: None,
            kind: EventKind::Anomaly {
                dir: None,
                anomaly: crate::event::Anomaly::new(
                    crate::event::AnomalyKind::CorruptCapture,
                    "bad record",
                ),
            },
        };
        sink.event(&ev).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&sink.into_inner()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"event":"anomaly","ts":"1970-01-01T00:00:00.000000Z","conn":null,
                "client":null,"server":null,"dir":null,"kind":"corrupt_capture","detail":"bad record"})
        );
    }
}
