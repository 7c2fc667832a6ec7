//! The messages pane: time, direction, opcode, length, packet numbers and a one-line preview
//! per message; anomalies inline in the warning colour.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListState};

use super::super::fmt;
use super::super::model::{Row, RowKind, StoredMsg};
use super::super::state::{App, Pane};
use super::highlight::Highlighter;
use super::{dim, dir_arrow, dir_color, pane_block, selected_style, warn_style, window};
use crate::event::Opcode;

/// Draws the pane; returns its inner area.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &mut App) -> Rect {
    let focused = app.focus == Pane::Msgs;
    let scope = match app.selected_conn() {
        Some(id) => format!("connection {id}"),
        None => "all".to_string(),
    };
    let mut title = format!(" Messages · {scope} · {} ", listed(app));
    if !app.filter.is_empty() && !app.mark_only {
        title.push_str("matching ");
    }
    if app.follow {
        title.push_str("· following ");
    }
    let block = pane_block(title, focused);
    let inner = block.inner(area);
    let height = usize::from(inner.height);
    let len = app.view.len();
    app.msg_offset = window(app.msg_sel, app.msg_offset, height, len);
    let show_conn = app.selected_conn().is_none();
    let end = (app.msg_offset + height).min(len);
    let hl = Highlighter::new(&app.filter);
    let rows: Vec<&Row> = app
        .view
        .get(app.msg_offset..end)
        .unwrap_or(&[])
        .iter()
        .filter_map(|&ix| app.row(ix))
        .collect();
    let time = if app.time_abs { 15 } else { 10 };
    let mark = if app.mark_only && !app.filter.is_empty() {
        2
    } else {
        0
    };
    let conn = if show_conn { 5 } else { 0 };
    let cols = Slots::of(&rows).fitted(usize::from(inner.width), mark + time + conn);
    let items: Vec<Line<'static>> = rows
        .iter()
        .map(|row| {
            hl.row(
                row,
                line(app, row, show_conn, usize::from(inner.width), cols),
            )
        })
        .collect();
    let list = List::new(items)
        .block(block)
        .highlight_style(selected_style(focused));
    let mut state =
        ListState::default().with_selected((len > 0).then(|| app.msg_sel - app.msg_offset));
    frame.render_stateful_widget(list, area, &mut state);
    inner
}

/// `4 msgs`, `4 msgs · 3 anomalies · 1 refused`: what the list holds, anomalies and refused
/// upgrades apart from messages.
fn listed(app: &App) -> String {
    let anomalies = app.view_anomalies;
    let refused = app.view_refused;
    let msgs = app.view.len().saturating_sub(anomalies + refused) as u64;
    let mut s = format!(
        "{} {}",
        fmt::count(msgs),
        if msgs == 1 { "msg" } else { "msgs" }
    );
    if anomalies > 0 {
        s.push_str(&format!(
            " · {} {}",
            fmt::count(anomalies as u64),
            if anomalies == 1 {
                "anomaly"
            } else {
                "anomalies"
            }
        ));
    }
    if refused > 0 {
        s.push_str(&format!(" · {} refused", fmt::count(refused as u64)));
    }
    s
}

/// Widths of the columns whose contents vary, from the rows drawn, so previews line up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Slots {
    /// The packet numbers (`#12-14 `).
    packets: usize,
    /// The wire size of compressed messages (`deflated 188 B `); 0 when none is drawn.
    deflated: usize,
}

/// Previews keep at least this many characters before the wire sizes of compressed messages
/// give way (the detail pane has them).
const PREVIEW_MIN: usize = 40;

impl Slots {
    /// Without the wire size column when it would leave the preview less than
    /// [`PREVIEW_MIN`] of `width`; `lead` is what comes before the direction arrow.
    fn fitted(self, width: usize, lead: usize) -> Slots {
        // Arrow, opcode, size.
        let fixed = lead + 3 + 7 + 9 + self.packets;
        if width < fixed + self.deflated + PREVIEW_MIN {
            Slots {
                deflated: 0,
                ..self
            }
        } else {
            self
        }
    }

    fn of(rows: &[&Row]) -> Slots {
        rows.iter()
            .fold(Slots::default(), |slots, row| match &row.kind {
                RowKind::Message(m) => Slots {
                    packets: slots.packets.max(packets_label(m).chars().count()),
                    deflated: slots.deflated.max(deflated_label(m).chars().count()),
                },
                RowKind::Anomaly(_) | RowKind::Unit(_) | RowKind::Refused(_) => slots,
            })
    }
}

fn line(app: &App, row: &Row, show_conn: bool, width: usize, cols: Slots) -> Line<'static> {
    let base = row
        .conn
        .and_then(|id| app.model.conn(id))
        .map(|c| c.start)
        .or(app.model.first_ts)
        .unwrap_or_default();
    let time = if app.time_abs {
        fmt::absolute(row.ts)
    } else {
        format!("{:>10}", fmt::relative(row.ts, base))
    };
    let mut spans = Vec::with_capacity(8);
    if app.mark_only && !app.filter.is_empty() {
        // A space after the mark: an absolute time fills its column to the left edge.
        spans.push(if app.row_matches(row) {
            Span::styled("● ", Style::new().fg(Color::Yellow))
        } else {
            Span::raw("  ")
        });
    }
    spans.push(Span::styled(time, dim()));
    if show_conn {
        let id = row.conn.map_or("-".into(), |c| c.to_string());
        spans.push(Span::raw(format!(" #{id:<3}")));
    }
    let arrow = Style::new()
        .fg(dir_color(row.dir))
        .add_modifier(Modifier::BOLD);
    spans.push(Span::styled(format!(" {} ", dir_arrow(row.dir)), arrow));
    let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    let rest = width.saturating_sub(used);
    match &row.kind {
        RowKind::Message(m) => message_spans(m, rest, cols, &mut spans),
        RowKind::Anomaly(a) => {
            let text = format!("⚠ {}: {}", a.kind.as_str(), a.detail);
            spans.push(Span::styled(super::fit(&text, rest), warn_style()));
        }
        RowKind::Refused(r) => {
            let text = format!("refused {}", r.summary());
            spans.push(Span::styled(super::fit(&text, rest), warn_style()));
        }
        RowKind::Unit(u) => {
            // No message: no opcode, no length.
            spans.push(Span::styled(format!("{:<23}", "unit"), dim()));
            super::units::summary_spans(
                std::slice::from_ref(&**u),
                rest.saturating_sub(23),
                &mut spans,
            );
        }
    }
    Line::from(spans)
}

fn message_spans(m: &StoredMsg, width: usize, cols: Slots, spans: &mut Vec<Span<'static>>) {
    let op_style = match m.opcode {
        Opcode::Text => Style::new(),
        Opcode::Binary => Style::new().fg(Color::LightMagenta),
        Opcode::Close => Style::new().fg(Color::LightRed),
        _ => Style::new().fg(Color::DarkGray),
    };
    spans.push(Span::styled(format!("{:<6} ", m.opcode.as_str()), op_style));
    let mut len = format!("{:>8} ", fmt::bytes_unit(m.len));
    if cols.deflated > 0 {
        len.push_str(&format!("{:<w$}", deflated_label(m), w = cols.deflated));
    }
    // The capture packets that carried it, as Wireshark numbers frames.
    let packets = format!("{:<w$}", packets_label(m), w = cols.packets);
    let rest = width.saturating_sub(7 + len.chars().count() + packets.chars().count());
    spans.push(Span::styled(len, dim()));
    spans.push(Span::styled(packets, dim()));
    if m.units.is_empty() {
        spans.push(Span::raw(preview(m, rest)));
    } else {
        super::units::summary_spans(&m.units, rest, spans);
    }
}

/// `deflated 188 B ` for a compressed message (its size on the wire), else empty.
fn deflated_label(m: &StoredMsg) -> String {
    if m.compressed {
        format!("deflated {} ", fmt::bytes_unit(m.wire_len))
    } else {
        String::new()
    }
}

/// `#N ` for a message in one packet, `#N-M ` for one over several; empty when unknown.
fn packets_label(m: &StoredMsg) -> String {
    match m.packets {
        Some(p) if p.first == p.last => format!("#{} ", p.first),
        Some(p) => format!("#{}-{} ", p.first, p.last),
        None => String::new(),
    }
}

/// One line standing for the payload: shown as the text output shows it
/// ([`crate::sink::shown`]), control characters as `·`.
pub fn preview(m: &StoredMsg, width: usize) -> String {
    use crate::sink::{INVALID_UTF8_MARK, Shown, close_label, shown};
    match shown(m.opcode, &m.payload, m.utf8_valid) {
        Shown::Close { code, reason } => super::fit(&close_label(code, &reason), width),
        Shown::Text {
            text,
            invalid_utf8: false,
        } => fmt::preview_text(text.as_bytes(), width),
        Shown::Text { text, .. } => super::fit(
            &format!(
                "{INVALID_UTF8_MARK} {}",
                fmt::preview_text(text.as_bytes(), width)
            ),
            width,
        ),
        Shown::Hex(data) => super::fit(&fmt::preview_hex(data, width), width),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Packets;

    fn msg(packets: Option<Packets>) -> StoredMsg {
        StoredMsg {
            opcode: Opcode::Text,
            len: 2,
            payload: Box::from(&b"hi"[..]),
            frames: 1,
            compressed: false,
            wire_len: 2,
            utf8_valid: true,
            frame_detail: Box::default(),
            packets,
            units: Vec::new(),
        }
    }

    fn text(m: &StoredMsg) -> String {
        let mut spans = Vec::new();
        message_spans(m, 60, Slots::of(&[&row(m.clone())]), &mut spans);
        spans.iter().map(|s| s.content.as_ref()).collect()
    }

    fn row(m: StoredMsg) -> Row {
        Row {
            ts: crate::event::Timestamp::new(0, 0),
            conn: Some(1),
            dir: Some(crate::event::Dir::C2s),
            kind: RowKind::Message(m),
        }
    }

    #[test]
    fn message_lines_show_their_packets() {
        assert_eq!(text(&msg(None)), "text        2 B hi");
        let one = Some(Packets { first: 7, last: 7 });
        assert_eq!(text(&msg(one)), "text        2 B #7 hi");
        let many = Some(Packets {
            first: 12,
            last: 14,
        });
        assert_eq!(text(&msg(many)), "text        2 B #12-14 hi");
    }

    #[test]
    fn compressed_messages_say_so_in_words_and_previews_line_up() {
        let mut z = msg(Some(Packets { first: 7, last: 9 }));
        z.compressed = true;
        z.len = 2100;
        z.wire_len = 188;
        let plain = msg(Some(Packets {
            first: 12,
            last: 12,
        }));
        let rows = [row(z.clone()), row(plain.clone())];
        let cols = Slots::of(&rows.iter().collect::<Vec<_>>());
        assert_eq!(
            cols,
            Slots {
                packets: 5,
                deflated: 15
            }
        );
        let draw = |m: &StoredMsg| {
            let mut spans = Vec::new();
            message_spans(m, 60, cols, &mut spans);
            spans.iter().map(|s| s.content.as_ref()).collect::<String>()
        };
        assert_eq!(draw(&z), "text     2.1 KB deflated 188 B #7-9 hi");
        assert_eq!(draw(&plain), "text        2 B                #12  hi");
        // 10 + 3 + 7 + 9 + 5 + 15 + 40 = 89.
        assert_eq!(cols.fitted(89, 10), cols);
        assert_eq!(
            cols.fitted(88, 10),
            Slots {
                packets: 5,
                deflated: 0
            }
        );
    }
}
