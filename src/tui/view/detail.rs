//! The detail pane: the selected message in full (text wrapped, JSON pretty and coloured,
//! binary as hex + ASCII, close code named), then the frames that carried it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::super::model::{Row, RowKind, StoredMsg};
use super::super::state::{App, Pane};
use super::super::{fmt, hexdump, json};
use super::highlight::Highlighter;
use super::{dim, dir_arrow, dir_color, pane_block, warn_style};
use crate::event::Opcode;

/// Payload bytes laid out as text or JSON (the rest is reachable with `y`).
const TEXT_CAP: usize = 1 << 20;
/// Payload bytes shown as hex.
const HEX_CAP: usize = 64 << 10;

pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &mut App) -> Rect {
    let focused = app.focus == Pane::Detail;
    let sel = app.selected_row();
    let title = match sel {
        Some(ix) => format!(" Detail · message {} ", ix + 1),
        None => " Detail ".to_string(),
    };
    let block = pane_block(title, focused);
    let inner = block.inner(area);
    let width = inner.width;
    let lines: &[Line<'static>] = match sel {
        Some(ix) => {
            let fresh = !matches!(&app.detail_cache, Some((r, w, _)) if *r == ix && *w == width);
            if fresh {
                let built = app
                    .row(ix)
                    .map(|row| build(app, row, usize::from(width)))
                    .unwrap_or_default();
                app.detail_cache = Some((ix, width, built));
            }
            app.detail_cache
                .as_ref()
                .map_or(&[], |(_, _, l)| l.as_slice())
        }
        None => &[],
    };
    app.detail_len = lines.len();
    let height = usize::from(inner.height);
    app.detail_scroll = app.detail_scroll.min(lines.len().saturating_sub(height));
    let visible: Vec<Line<'static>> = lines
        .iter()
        .skip(app.detail_scroll)
        .take(height)
        .cloned()
        .collect();
    let body = if sel.is_none() {
        Paragraph::new(Line::styled("no message selected", dim()))
    } else {
        Paragraph::new(visible)
    };
    frame.render_widget(body.block(block), area);
    inner
}

/// All lines of a row's detail, wrapped to `width`.
pub fn build(app: &App, row: &Row, width: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let base = row
        .conn
        .and_then(|id| app.model.conn(id))
        .map(|c| c.start)
        .or(app.model.first_ts)
        .unwrap_or_default();
    let who = row.conn.map_or("capture".into(), |c| format!("conn {c}"));
    let arrow = Style::new()
        .fg(dir_color(row.dir))
        .add_modifier(Modifier::BOLD);
    let mut head = vec![
        Span::raw(format!("{who} ")),
        Span::styled(
            format!(
                "{} {}",
                dir_arrow(row.dir),
                row.dir.map_or("", |d| d.as_str())
            ),
            arrow,
        ),
    ];
    let when = format!(
        "{}  ({} since open)",
        fmt::datetime(row.ts),
        fmt::relative(row.ts, base)
    );
    match &row.kind {
        RowKind::Anomaly(a) => {
            head.push(Span::styled(
                format!("  anomaly {}", a.kind.as_str()),
                warn_style(),
            ));
            out.push(Line::from(head));
            out.push(Line::styled(when, dim()));
            out.push(Line::default());
            let detail = Line::styled(a.detail.clone(), warn_style());
            out.push(Highlighter::new(&app.filter).line(detail));
        }
        RowKind::Message(m) => {
            head.push(Span::styled(
                format!("  {}", m.opcode.as_str()),
                Style::new().add_modifier(Modifier::BOLD),
            ));
            let mut sizes = format!("  {} bytes", m.len);
            if m.compressed {
                sizes.push_str(&format!(" (deflated: {} on the wire)", m.wire_len));
            } else if m.wire_len != m.len {
                sizes.push_str(&format!(" ({} on the wire)", m.wire_len));
            }
            sizes.push_str(&format!(
                ", {} frame{}",
                m.frames,
                if m.frames == 1 { "" } else { "s" }
            ));
            head.push(Span::raw(sizes));
            out.push(Line::from(head));
            out.push(Line::styled(when, dim()));
            if m.truncated() {
                out.push(Line::styled(
                    format!(
                        "showing the first {} of {} bytes (memory budget: raise --keep-payload)",
                        m.payload.len(),
                        m.len
                    ),
                    warn_style(),
                ));
            }
            if m.opcode == Opcode::Text && !m.utf8_valid {
                out.push(Line::styled("not valid UTF-8", warn_style()));
            }
            out.push(Line::default());
            if !m.units.is_empty() {
                super::units::detail(app, row, &m.units, &mut out);
                out.push(Line::default());
            }
            let start = out.len();
            body(m, width, &mut out);
            if shown_as_text(m) {
                mark_matches(app, &mut out[start..]);
            }
            out.push(Line::default());
            let start = out.len();
            frames(m, &mut out);
            truncate_rows(&mut out[start..], width);
        }
        RowKind::Unit(u) => {
            head.push(Span::styled(
                format!("  {} unit", u.unit.proto),
                Style::new().add_modifier(Modifier::BOLD),
            ));
            out.push(Line::from(head));
            out.push(Line::styled(when, dim()));
            out.push(Line::styled("(its message is not listed)", dim()));
            out.push(Line::default());
            super::units::detail(app, row, std::slice::from_ref(&**u), &mut out);
        }
        RowKind::Refused(r) => refused(r, head, when, &mut out),
    }
    wrap(out, width)
}

/// An upgrade the server answered with something other than a switch: the exchange in full,
/// as DevTools shows a failed WebSocket request.
fn refused(
    r: &crate::event::Refused,
    mut head: Vec<Span<'static>>,
    when: String,
    out: &mut Vec<Line<'static>>,
) {
    head.push(Span::styled("  refused upgrade", warn_style()));
    out.push(Line::from(head));
    out.push(Line::styled(when, dim()));
    out.push(Line::default());
    out.push(Line::styled(r.summary(), warn_style()));
    let t = &r.transport;
    let mut endpoints = format!("{} → {}", t.client, t.server);
    if let Some(s) = t.stream {
        endpoints.push_str(&format!(" (HTTP/2 stream {s})"));
    }
    out.push(Line::raw(endpoints));
    if let Some(tls) = &r.tls {
        out.push(Line::raw(format!("TLS {} · {}", tls.version, tls.cipher)));
    }
    let hs = &r.handshake;
    for (title, headers) in [
        ("Request headers", &hs.request_headers),
        ("Response headers", &hs.response_headers),
    ] {
        out.push(Line::default());
        out.push(Line::styled(
            format!("{title} ({})", headers.len()),
            Style::new().add_modifier(Modifier::BOLD),
        ));
        for (name, value) in headers {
            out.push(Line::raw(format!("  {name}: {value}")));
        }
    }
}

fn body(m: &StoredMsg, width: usize, out: &mut Vec<Line<'static>>) {
    let payload = &m.payload;
    match m.opcode {
        Opcode::Close => {
            match m.close_code() {
                Some(code) => {
                    out.push(Line::from(vec![
                        Span::styled(
                            format!("close {code} "),
                            Style::new().add_modifier(Modifier::BOLD),
                        ),
                        Span::raw(fmt::close_name(code)),
                    ]));
                    let reason = payload.get(2..).unwrap_or(&[]);
                    if !reason.is_empty() {
                        out.push(Line::raw(format!(
                            "reason: {}",
                            String::from_utf8_lossy(reason)
                        )));
                    }
                }
                None if payload.is_empty() => out.push(Line::styled("(no status code)", dim())),
                None => hex(payload, width, out),
            }
            return;
        }
        Opcode::Text if m.utf8_valid => {}
        _ if payload.is_empty() => {
            out.push(Line::styled("(empty payload)", dim()));
            return;
        }
        _ => {
            hex(payload, width, out);
            return;
        }
    }
    let shown = payload.get(..TEXT_CAP.min(payload.len())).unwrap_or(&[]);
    let text = String::from_utf8_lossy(shown);
    if let Some(lines) = json::pretty(&text) {
        out.push(Line::styled("JSON", dim()));
        out.extend(lines);
    } else if text.is_empty() {
        out.push(Line::styled("(empty text)", dim()));
    } else {
        for l in text.split('\n') {
            out.push(Line::raw(l.trim_end_matches('\r').replace('\t', "    ")));
        }
    }
    if shown.len() < payload.len() {
        out.push(Line::styled(
            format!(
                "… {} more bytes (y saves them all)",
                payload.len() - shown.len()
            ),
            dim(),
        ));
    }
}

fn hex(payload: &[u8], width: usize, out: &mut Vec<Line<'static>>) {
    let per = hexdump::bytes_per_line(width);
    let shown = payload.get(..HEX_CAP.min(payload.len())).unwrap_or(&[]);
    for (i, chunk) in shown.chunks(per).enumerate() {
        let (h, a) = hexdump::line(i * per, chunk, per);
        out.push(Line::from(vec![
            Span::raw(h),
            Span::raw(" "),
            Span::styled(a, Style::new().fg(Color::LightMagenta)),
        ]));
    }
    if shown.len() < payload.len() {
        out.push(Line::styled(
            format!(
                "… {} more bytes (y saves them all)",
                payload.len() - shown.len()
            ),
            dim(),
        ));
    }
}

fn frames(m: &StoredMsg, out: &mut Vec<Line<'static>>) {
    out.push(Line::styled(
        format!("Frames ({})", m.frames),
        Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
    ));
    out.push(Line::styled(
        " #  FIN RSV  opcode            mask      payload  hdr  time",
        dim(),
    ));
    for (i, f) in m.frame_detail.iter().enumerate() {
        let mask = f.mask.map_or("-".to_string(), |k| {
            k.iter().map(|b| format!("{b:02x}")).collect()
        });
        out.push(Line::raw(format!(
            "{:>2}  {}   {}{}{}  {:<16}  {:<8} {:>8} {:>4}  {}",
            i + 1,
            if f.fin { "1" } else { "0" },
            (f.rsv >> 2) & 1,
            (f.rsv >> 1) & 1,
            f.rsv & 1,
            format!("{} ({:x})", f.opcode.as_str(), f.opcode.as_u8()),
            mask,
            f.payload_len,
            f.header_len,
            fmt::absolute(f.ts),
        )));
    }
    let missing = (m.frames as usize).saturating_sub(m.frame_detail.len());
    if missing > 0 {
        out.push(Line::styled(
            format!("… {missing} more frames not kept"),
            dim(),
        ));
    }
}

/// Wraps lines at word boundaries to `width` characters, keeping span styles.
fn wrap(lines: Vec<Line<'static>>, width: usize) -> Vec<Line<'static>> {
    super::wrap::lines(lines, width)
}

/// The payload is shown as text (a hex dump's offsets and pairs are not searched).
fn shown_as_text(m: &StoredMsg) -> bool {
    (m.opcode == Opcode::Text && m.utf8_valid) || m.opcode == Opcode::Close
}

/// The current filter's text and regex matches marked in the payload's lines.
fn mark_matches(app: &App, lines: &mut [Line<'static>]) {
    let hl = Highlighter::new(&app.filter);
    if hl.is_empty() {
        return;
    }
    for line in lines {
        *line = hl.line(std::mem::take(line));
    }
}

/// Table rows cut to `width` with `…` (a wrapped row reads as two).
fn truncate_rows(lines: &mut [Line<'static>], width: usize) {
    for line in lines {
        *line = super::wrap::truncate(std::mem::take(line), width);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_keeping_styles() {
        let line = Line::from(vec![Span::raw("abcd"), Span::styled("efgh", warn_style())]);
        let out = wrap(vec![line], 3);
        let text: Vec<String> = out.iter().map(|l| l.to_string()).collect();
        assert_eq!(text, vec!["abc", "def", "gh"]);
        assert_eq!(out[1].spans[1].style, warn_style());
    }
}
