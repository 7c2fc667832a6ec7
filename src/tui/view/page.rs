//! The connection page (`i`): one connection in full, over the whole body. How it opened
//! (endpoints, URL, the request and answer with every header in order, TLS), what it carried
//! each way (messages, payload and wire bytes), and how it ended (the end's health figures).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::super::fmt;
use super::super::model::{Conn, Model};
use super::super::rtt::{self, RttSeries};
use super::super::state::App;
use super::{dim, dir_arrow, dir_color, pane_block, warn_style};
use crate::event::{Dir, EndHow, HttpVersion, Timestamp};

/// Width of the labels column (the longest label and a space, plus a margin).
const LABEL: usize = 13;
/// Indent of header lines, and of their continuation lines.
const HEADER_INDENT: usize = 2;
const HEADER_WRAP_INDENT: usize = 6;
/// Widest RTT chart, in columns (one bar a column).
const RTT_CHART: usize = 60;

pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &mut App) {
    let Some(id) = app.page else {
        return;
    };
    let conn = app.model.conn(id);
    let width = usize::from(area.width.saturating_sub(2));
    let lines = match conn {
        Some(c) => build(&app.model, c, width),
        None => vec![Line::styled(
            format!("connection {id} is not listed"),
            dim(),
        )],
    };
    let height = usize::from(area.height.saturating_sub(2));
    app.page_len = lines.len();
    app.page_height = height;
    app.page_scroll = app.page_scroll.min(lines.len().saturating_sub(height));
    // The URL is the page's second line: a long one would push "Esc back" off the title.
    let mut title = format!(" Connection {id} · Esc back ");
    if lines.len() > height {
        title = format!(
            "{title}· lines {}-{} of {} ",
            app.page_scroll + 1,
            (app.page_scroll + height).min(lines.len()),
            lines.len()
        );
    }
    let visible: Vec<Line<'static>> = lines
        .into_iter()
        .skip(app.page_scroll)
        .take(height)
        .collect();
    frame.render_widget(Paragraph::new(visible).block(pane_block(title, true)), area);
}

/// `ws://host/uri` (`wss://` over TLS); the server's address when no Host was seen.
pub fn url(c: &Conn) -> String {
    let scheme = if c.info.tls.is_some() { "wss" } else { "ws" };
    let host = c.info.host.clone().unwrap_or_else(|| c.server.to_string());
    format!("{scheme}://{host}{}", c.info.uri.as_deref().unwrap_or(""))
}

/// Every line of the page, wrapped to `width`.
pub fn build(model: &Model, c: &Conn, width: usize) -> Vec<Line<'static>> {
    let mut p = Page {
        out: Vec::new(),
        width,
    };
    let info = &c.info;
    let hs = &info.handshake;
    let mut endpoints = format!("{} → {}", c.client, c.server);
    if let Some(stream) = c.stream {
        endpoints.push_str(&format!(" · HTTP/2 stream {stream}"));
    }
    p.field("Endpoints", endpoints);
    p.field("URL", url(c));
    if info.mid_stream {
        p.warn(
            "Handshake",
            "not seen: the connection was picked up mid-stream",
        );
    } else if hs.status == 0 {
        p.warn("Handshake", "not recorded");
    } else {
        let version = http_name(hs.http);
        p.field("Request", format!("{} {} {version}", hs.method, hs.target));
        let status = match hs.http {
            HttpVersion::Http11 => format!("{version} {} {}", hs.status, hs.reason),
            HttpVersion::Http2 => format!("{version} :status {}", hs.status),
        };
        p.field("Status", status.trim_end().to_string());
        p.field("Handshake", handshake_times(hs));
    }
    match &info.tls {
        Some(tls) => {
            let or_none = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
            p.field(
                "TLS",
                format!(
                    "{} · {} · SNI {} · ALPN {} · {}",
                    tls.version,
                    tls.cipher,
                    or_none(&tls.sni),
                    or_none(&tls.alpn),
                    if tls.resumed {
                        "resumed session"
                    } else {
                        "full handshake"
                    }
                ),
            );
        }
        None => p.field("TLS", "none (cleartext)".into()),
    }
    p.field(
        "Subprotocol",
        info.subprotocol.clone().unwrap_or_else(|| "—".into()),
    );
    p.field(
        "Extensions",
        info.extensions.clone().unwrap_or_else(|| "—".into()),
    );
    p.field("Opened", fmt::datetime(c.start));
    p.field("Duration", lifetime(model, c));
    for dir in Dir::BOTH {
        p.dir_totals(c, dir);
    }
    let anomalies = fmt::count(c.anomalies);
    if c.anomalies > 0 {
        p.warn("Anomalies", &anomalies);
    } else {
        p.field("Anomalies", anomalies);
    }
    p.field("Ended", ended(c.end));
    if let Some(h) = &c.health {
        let mut close = h.verdict.as_str().to_string();
        match (h.close_initiator, h.close_code) {
            (Some(d), Some(code)) => close.push_str(&format!(
                ": {} sent {code} ({})",
                d.as_str(),
                fmt::close_name(code)
            )),
            (Some(d), None) => {
                close.push_str(&format!(": {} sent a close without a code", d.as_str()))
            }
            (None, _) => close.push_str(": no close frame"),
        }
        if h.close_initiator.is_some() {
            close.push_str(if h.close_answered {
                ", answered"
            } else {
                ", not answered"
            });
        }
        if let Some(t) = h.tcp_end {
            close.push_str(&format!("; TCP {}", t.as_str()));
        }
        p.field("Close", close);
        p.field(
            "RTT",
            match h.rtt_median_us {
                Some(us) => format!(
                    "median {} ({} pings answered)",
                    micros(us),
                    fmt::count(h.pings_answered)
                ),
                None => "— (no ping answered)".into(),
            },
        );
        p.field(
            "Silence",
            format!(
                "longest → {}  ← {}",
                micros(h.longest_silence_us[Dir::C2s.index()]),
                micros(h.longest_silence_us[Dir::S2c.index()])
            ),
        );
    }
    if let Some(series) = &c.rtt {
        p.rtt_chart(series);
    }
    if !info.mid_stream {
        p.headers("Request headers", &hs.request_headers);
        p.headers("Response headers", &hs.response_headers);
    }
    p.out
}

struct Page {
    out: Vec<Line<'static>>,
    width: usize,
}

impl Page {
    fn field(&mut self, label: &str, value: String) {
        self.styled(label, &value, Style::new());
    }

    /// Ping round trips in time order as bars (at most [`RTT_CHART`] columns), then their
    /// range: how the latency moved, which the median alone hides.
    fn rtt_chart(&mut self, series: &RttSeries) {
        let Some((lo, hi)) = series.range() else {
            return;
        };
        let range = format!(
            "  {}–{} · {} pongs",
            micros(lo),
            micros(hi),
            fmt::count(series.answered())
        );
        let room = self
            .width
            .saturating_sub(LABEL + range.chars().count())
            .min(RTT_CHART);
        let Some(bars) = rtt::sparkline(&series.samples, room) else {
            return;
        };
        let label_style = Style::new().add_modifier(Modifier::BOLD);
        self.out.push(Line::from(vec![
            Span::styled(format!("{:<LABEL$}", "RTT chart"), label_style),
            Span::styled(bars, Style::new().fg(Color::Cyan)),
            Span::styled(range, dim()),
        ]));
    }

    fn warn(&mut self, label: &str, value: &str) {
        self.styled(label, value, warn_style());
    }

    fn styled(&mut self, label: &str, value: &str, style: Style) {
        let label_style = Style::new().add_modifier(Modifier::BOLD);
        self.wrapped(
            vec![Span::styled(format!("{label:<LABEL$}"), label_style)],
            value,
            style,
            LABEL,
        );
    }

    /// `head` then `text` cut at word boundaries into lines of the remaining width,
    /// continuation lines indented by `indent`.
    fn wrapped(&mut self, head: Vec<Span<'static>>, text: &str, style: Style, indent: usize) {
        let used: usize = head.iter().map(|s| s.content.chars().count()).sum();
        let first = self.width.saturating_sub(used).max(1);
        let rest = self.width.saturating_sub(indent).max(1);
        let chars: Vec<char> = text.chars().collect();
        let mut line = head;
        for (i, range) in super::wrap::pieces(text, first, rest)
            .into_iter()
            .enumerate()
        {
            if i > 0 {
                line.push(Span::raw(" ".repeat(indent)));
            }
            let piece: String = chars.get(range).unwrap_or_default().iter().collect();
            line.push(Span::styled(piece, style));
            self.out.push(Line::from(std::mem::take(&mut line)));
        }
    }

    fn dir_totals(&mut self, c: &Conn, dir: Dir) {
        let d = dir.index();
        let (msgs, bytes, wire, deflated) = (c.msgs[d], c.bytes[d], c.wire[d], c.deflated[d]);
        let mut text = format!(
            "{} {} · {} B",
            fmt::count(msgs),
            if msgs == 1 { "msg" } else { "msgs" },
            fmt::count(bytes)
        );
        if deflated > 0 || wire != bytes {
            text.push_str(&format!(" · {} B on the wire", fmt::count(wire)));
        }
        if deflated > 0 {
            text.push_str(&format!(
                " · {} deflated, ratio {}",
                fmt::count(deflated),
                ratio(bytes, wire)
            ));
        }
        let label = format!("{} {}", dir_arrow(Some(dir)), dir.as_str());
        let head = vec![Span::styled(
            format!("{label:<LABEL$}"),
            Style::new()
                .fg(dir_color(Some(dir)))
                .add_modifier(Modifier::BOLD),
        )];
        self.wrapped(head, &text, Style::new(), LABEL);
    }

    fn headers(&mut self, title: &str, headers: &[(String, String)]) {
        self.out.push(Line::raw(""));
        self.out.push(Line::styled(
            format!("{title} ({})", headers.len()),
            Style::new().add_modifier(Modifier::BOLD),
        ));
        for (name, value) in headers {
            let head = vec![
                Span::raw(" ".repeat(HEADER_INDENT)),
                Span::styled(format!("{name}:"), Style::new().fg(Color::Cyan)),
                Span::raw(" "),
            ];
            self.wrapped(head, value, Style::new(), HEADER_WRAP_INDENT);
        }
    }
}

fn http_name(v: HttpVersion) -> &'static str {
    match v {
        HttpVersion::Http11 => "HTTP/1.1",
        HttpVersion::Http2 => "HTTP/2",
    }
}

/// When the request and the answer were seen, and the time between them.
fn handshake_times(hs: &crate::event::Handshake) -> String {
    let packet = hs
        .response_packet
        .map(|n| format!(" (answer in packet #{n})"))
        .unwrap_or_default();
    match (hs.request_ts, hs.response_ts) {
        (Some(req), Some(resp)) => format!(
            "{} request, answered in {}{packet}",
            fmt::absolute(req),
            signed_duration(req, resp)
        ),
        (None, Some(resp)) => format!("{} answer, request not seen{packet}", fmt::absolute(resp)),
        (Some(req), None) => format!("{} request, answer not seen", fmt::absolute(req)),
        (None, None) => "times not seen".into(),
    }
}

/// `to - from` as a short duration, with a sign when the capture shows them the other way
/// round.
fn signed_duration(from: Timestamp, to: Timestamp) -> String {
    let ns = fmt::nanos(to) - fmt::nanos(from);
    let d = fmt::duration(ns.unsigned_abs() as f64 / 1e9);
    if ns < 0 { format!("-{d}") } else { d }
}

/// From the open to the end, or to the connection's last message or anomaly while open.
fn lifetime(model: &Model, c: &Conn) -> String {
    match c.end {
        Some(_) => format!(
            "{} (until {})",
            signed_duration(c.start, c.end_ts),
            fmt::absolute(c.end_ts)
        ),
        None => {
            let last = c
                .rows
                .last()
                .and_then(|&ix| model.rows.get(ix as usize))
                .map_or(c.start, |r| r.ts);
            format!("{} so far (still open)", signed_duration(c.start, last))
        }
    }
}

fn ended(how: Option<EndHow>) -> String {
    let Some(how) = how else {
        return "not yet (open)".into();
    };
    let why = match how {
        EndHow::Fin => "TCP FIN",
        EndHow::Rst => "TCP reset",
        EndHow::Eof => "the capture ended with it open",
        EndHow::Evicted => "dropped to stay within the connection limit",
        EndHow::Idle => "idle for longer than the idle timeout",
    };
    format!("{}: {why}", how.as_str())
}

fn micros(us: u64) -> String {
    fmt::duration(us as f64 / 1e6)
}

/// Payload bytes per wire byte, `3.41:1`.
fn ratio(payload: u64, wire: u64) -> String {
    if wire == 0 {
        return "—".into();
    }
    format!("{:.2}:1", payload as f64 / wire as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_and_ends() {
        assert_eq!(ratio(3410, 1000), "3.41:1");
        assert_eq!(ratio(5, 0), "—");
        assert_eq!(ended(Some(EndHow::Rst)), "rst: TCP reset");
        assert_eq!(ended(None), "not yet (open)");
        assert_eq!(
            signed_duration(Timestamp::new(10, 500_000_000), Timestamp::new(10, 0)),
            "-500.0ms"
        );
    }

    /// The page as text, one string a line.
    fn text(model: &Model, id: u64, width: usize) -> Vec<String> {
        let c = model.conn(id).expect("listed");
        build(model, c, width)
            .iter()
            .map(|l| l.to_string().trim_end().to_string())
            .collect()
    }

    #[test]
    fn an_http2_stream_over_tls() {
        use crate::event::{EventKind, Handshake, Opcode, TlsInfo};
        use crate::tui::testdata::{message, open};
        let mut ev = open(1, 0);
        if let Some(c) = &mut ev.conn {
            c.stream = Some(3);
        }
        if let EventKind::Open(info) = &mut ev.kind {
            info.extensions = None;
            info.tls = Some(TlsInfo {
                version: "1.3".into(),
                cipher: "TLS_AES_256_GCM_SHA384".into(),
                sni: Some("example.com".into()),
                alpn: Some("h2".into()),
                resumed: true,
            });
            info.handshake = Handshake {
                http: HttpVersion::Http2,
                method: "CONNECT".into(),
                target: "/chat".into(),
                status: 200,
                request_headers: vec![(":method".into(), "CONNECT".into())],
                response_headers: vec![(":status".into(), "200".into())],
                request_ts: Some(Timestamp::new(1_700_000_000, 0)),
                response_ts: Some(Timestamp::new(1_700_000_000, 2_500_000)),
                response_packet: Some(9),
                ..Handshake::default()
            };
        }
        let mut m = Model::new(1 << 20);
        m.push(ev);
        let mut msg = message(1, 2, Dir::C2s, Opcode::Text, b"hi");
        if let Some(c) = &mut msg.conn {
            c.stream = Some(3);
        }
        m.push(msg);
        assert_eq!(
            text(&m, 1, 100),
            vec![
                "Endpoints    10.0.0.1:50001 → 10.0.0.2:8080 · HTTP/2 stream 3",
                "URL          wss://example.com/chat",
                "Request      CONNECT /chat HTTP/2",
                "Status       HTTP/2 :status 200",
                "Handshake    22:13:20.000000 request, answered in 2.5ms (answer in packet #9)",
                "TLS          1.3 · TLS_AES_256_GCM_SHA384 · SNI example.com · ALPN h2 · resumed session",
                "Subprotocol  chat.v1",
                "Extensions   —",
                "Opened       2023-11-14T22:13:20.000000Z",
                "Duration     2.000s so far (still open)",
                "→ c2s        1 msg · 2 B",
                "← s2c        0 msgs · 0 B",
                "Anomalies    0",
                "Ended        not yet (open)",
                "",
                "Request headers (1)",
                "  :method: CONNECT",
                "",
                "Response headers (1)",
                "  :status: 200",
            ]
        );
    }

    #[test]
    fn a_connection_picked_up_mid_stream() {
        let mut m = Model::new(1 << 20);
        for ev in crate::tui::testdata::sample() {
            m.push(ev);
        }
        let lines = text(&m, 2, 80);
        assert_eq!(
            lines.get(2).map(String::as_str),
            Some("Handshake    not seen: the connection was picked up mid-stream")
        );
        assert!(!lines.iter().any(|l| l.contains("headers")), "{lines:?}");
        assert!(lines.contains(&"Anomalies    1".to_string()), "{lines:?}");
        assert!(lines.contains(&"Ended        eof: the capture ended with it open".to_string()));
    }

    #[test]
    fn wraps_values_under_the_label() {
        let mut p = Page {
            out: Vec::new(),
            width: 20,
        };
        p.field("URL", "ws://example.com/a/long/path".into());
        let text: Vec<String> = p.out.iter().map(|l| l.to_string()).collect();
        assert_eq!(
            text,
            vec![
                "URL          ws://ex",
                "             ample.c",
                "             om/a/lo",
                "             ng/path"
            ]
        );
    }
}
