//! The connections pane: one row per WebSocket connection, plus "all" on top.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table, TableState};

use super::super::fmt;
use super::super::model::Conn;
use super::super::state::{App, Pane, SortKey, state_name};
use super::{fit, pane_block, selected_style, warn_style, window};

/// Below this inner width the per-direction columns are merged.
const FULL_COLUMNS: u16 = 96;

/// Draws the pane; returns the area of its rows (below the header).
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &mut App) -> Rect {
    let focused = app.focus == Pane::Conns;
    let sorted = sort_mark(app);
    let block = pane_block(
        match sorted {
            Some((key, mark)) => format!(
                " Connections ({}) · by {} {mark} ",
                app.model.conns.len(),
                key.as_str()
            ),
            None => format!(" Connections ({}) ", app.model.conns.len()),
        },
        focused,
    );
    let inner = block.inner(area);
    let rows_area = Rect {
        y: inner.y.saturating_add(1),
        height: inner.height.saturating_sub(1),
        ..inner
    };
    let len = app.order.len() + 1;
    let height = usize::from(rows_area.height);
    app.conn_offset = window(app.conn_sel, app.conn_offset, height, len);
    let full = inner.width >= FULL_COLUMNS;
    let (mut header, widths) = columns(full);
    // The endpoints column's real width, so a cut address is marked (`…`) rather than
    // showing a shorter, wrong port.
    let cols = Layout::horizontal(widths.clone()).spacing(1).split(inner);
    if let Some((key, mark)) = sorted {
        for &col in sorted_columns(key, full) {
            let width = cols.get(col).map_or(0, |r| usize::from(r.width));
            if let Some(title) = header.get_mut(col) {
                // The mark stays visible in a narrow column: the title gives way.
                let keep = title.chars().count().min(width.saturating_sub(1));
                *title = format!("{}{mark}", title.chars().take(keep).collect::<String>());
            }
        }
    }
    let ep_width = cols.get(1).map_or(0, |r| usize::from(r.width));
    let mut rows = Vec::with_capacity(height);
    for i in app.conn_offset..(app.conn_offset + height).min(len) {
        rows.push(match i.checked_sub(1) {
            None => all_row(app, full),
            Some(_) => match app.conn_at(i).and_then(|c| app.model.conns.get(c)) {
                Some(c) => conn_row(c, full, ep_width),
                None => break,
            },
        });
    }
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(Style::new().add_modifier(Modifier::BOLD)))
        .column_spacing(1)
        .block(block)
        .row_highlight_style(selected_style(focused));
    let mut state = TableState::new().with_selected(Some(app.conn_sel - app.conn_offset));
    frame.render_stateful_widget(table, area, &mut state);
    rows_area
}

fn all_row(app: &App, full: bool) -> Row<'static> {
    let (mut msgs, mut bytes) = ([0u64; 2], [0u64; 2]);
    for c in &app.model.conns {
        for d in 0..2 {
            msgs[d] += c.msgs[d];
            bytes[d] += c.bytes[d];
        }
    }
    let mut cells = vec![
        Cell::from("*"),
        Cell::from("all connections"),
        Cell::from(""),
    ];
    if full {
        cells.extend([Cell::from(""), Cell::from("")]);
        cells.extend(per_dir_full(msgs, bytes));
    } else {
        cells.extend(per_dir_short(msgs, bytes));
    }
    cells.push(Cell::from(""));
    cells.push(anom_cell(app.model.anomalies));
    Row::new(cells)
}

fn conn_row(c: &Conn, full: bool, ep_width: usize) -> Row<'static> {
    let endpoints = fit(&format!("{} → {}", c.client, c.server), ep_width);
    let mut uri = Vec::new();
    if c.info.tls.is_some() {
        uri.push(Span::styled("wss ", Style::new().fg(Color::Magenta)));
    }
    if let Some(stream) = c.stream {
        uri.push(Span::styled(
            format!("h2:{stream} "),
            Style::new().fg(Color::LightBlue),
        ));
    }
    uri.push(Span::raw(c.info.uri.clone().unwrap_or_default()));
    let state = state_name(c).to_string();
    let state = if c.info.mid_stream {
        format!("{state} ~mid")
    } else {
        state
    };
    let mut cells = vec![
        Cell::from(c.id.to_string()),
        Cell::from(endpoints),
        Cell::from(Line::from(uri)),
    ];
    if full {
        cells.push(Cell::from(c.info.subprotocol.clone().unwrap_or_default()));
        cells.push(Cell::from(ext_short(c.info.extensions.as_deref())));
        cells.extend(per_dir_full(c.msgs, c.bytes));
    } else {
        cells.extend(per_dir_short(c.msgs, c.bytes));
    }
    let state_style = if c.info.mid_stream {
        warn_style()
    } else {
        Style::new()
    };
    cells.push(Cell::from(Span::styled(state, state_style)));
    cells.push(anom_cell(c.anomalies));
    Row::new(cells)
}

fn per_dir_full(msgs: [u64; 2], bytes: [u64; 2]) -> [Cell<'static>; 4] {
    [
        Cell::from(Line::from(msgs[0].to_string()).right_aligned()),
        Cell::from(Line::from(fmt::bytes(bytes[0])).right_aligned()),
        Cell::from(Line::from(msgs[1].to_string()).right_aligned()),
        Cell::from(Line::from(fmt::bytes(bytes[1])).right_aligned()),
    ]
}

fn per_dir_short(msgs: [u64; 2], bytes: [u64; 2]) -> [Cell<'static>; 2] {
    [0, 1].map(|d| {
        let text = format!("{} {}", fmt::short_count(msgs[d]), fmt::bytes(bytes[d]));
        Cell::from(fit(&text, 11))
    })
}

fn anom_cell(n: u64) -> Cell<'static> {
    if n == 0 {
        Cell::from("")
    } else {
        Cell::from(Span::styled(format!("⚠{n}"), warn_style()))
    }
}

/// `permessage-deflate; client_max_window_bits` → `deflate`.
fn ext_short(ext: Option<&str>) -> String {
    let Some(ext) = ext else {
        return String::new();
    };
    ext.split(',')
        .filter_map(|e| e.split(';').next())
        .map(|name| {
            let name = name.trim();
            name.strip_prefix("permessage-").unwrap_or(name).to_string()
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The sort key and its direction mark, unless the list is in its default order.
fn sort_mark(app: &App) -> Option<(SortKey, &'static str)> {
    match (app.sort, app.sort_desc) {
        (SortKey::Id, false) => None,
        (key, desc) => Some((key, if desc { "▼" } else { "▲" })),
    }
}

/// The columns (indices into [`columns`]) that show what `key` sorts by.
fn sorted_columns(key: SortKey, full: bool) -> &'static [usize] {
    match (key, full) {
        (SortKey::Id, _) => &[0],
        (SortKey::Endpoints, _) => &[1],
        (SortKey::Uri, _) => &[2],
        (SortKey::Messages, true) => &[5, 7],
        (SortKey::Bytes, true) => &[6, 8],
        (SortKey::Messages | SortKey::Bytes, false) => &[3, 4],
        (SortKey::State, true) => &[9],
        (SortKey::State, false) => &[5],
        (SortKey::Anomalies, true) => &[10],
        (SortKey::Anomalies, false) => &[6],
    }
}

/// Column titles and widths: all columns from `FULL_COLUMNS` on, merged ones below.
fn columns(full: bool) -> (Vec<String>, Vec<Constraint>) {
    let titles = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    if full {
        (
            titles(&[
                "#",
                "client → server",
                "uri",
                "proto",
                "ext",
                "→msgs",
                "→bytes",
                "←msgs",
                "←bytes",
                "state",
                "anom",
            ]),
            vec![
                Constraint::Length(4),
                Constraint::Fill(3),
                Constraint::Fill(1),
                Constraint::Length(8),
                Constraint::Length(8),
                Constraint::Length(8),
                Constraint::Length(7),
                Constraint::Length(8),
                Constraint::Length(7),
                Constraint::Length(9),
                Constraint::Length(4),
            ],
        )
    } else {
        (
            titles(&[
                "#",
                "client → server",
                "uri",
                "→ c2s",
                "← s2c",
                "state",
                "anom",
            ]),
            vec![
                Constraint::Length(3),
                Constraint::Fill(3),
                Constraint::Fill(1),
                Constraint::Length(11),
                Constraint::Length(11),
                Constraint::Length(8),
                Constraint::Length(4),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn extension_names() {
        assert_eq!(
            super::ext_short(Some("permessage-deflate; server_no_context_takeover")),
            "deflate"
        );
        assert_eq!(
            super::ext_short(Some("x-foo, permessage-deflate")),
            "x-foo,deflate"
        );
        assert_eq!(super::ext_short(None), "");
    }
}
