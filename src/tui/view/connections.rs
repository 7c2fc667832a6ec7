//! The connections pane: one row per WebSocket connection, plus "all" on top; messages and
//! bytes each way labelled (`15 msg 736 B`), columns sized by [`super::conn_columns`].

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table, TableState};

use super::super::fmt;
use super::super::model::Conn;
use super::super::state::{App, Pane, SortKey, state_name};
use super::conn_columns::{Col, Natural, endpoints, plan};
use super::wrap::truncate;
use super::{fit, pane_block, selected_style, warn_style, window};

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
    let mut cells: Vec<Cells> = Vec::with_capacity(height);
    for i in app.conn_offset..(app.conn_offset + height).min(len) {
        cells.push(match i.checked_sub(1) {
            None => all_cells(app),
            Some(_) => match app.conn_at(i).and_then(|c| app.model.conns.get(c)) {
                Some(c) => conn_cells(c),
                None => break,
            },
        });
    }
    let cols = plan(usize::from(inner.width), natural(&cells));
    let mut header: Vec<String> = cols.iter().map(|(c, _)| c.title().to_string()).collect();
    if let Some((key, mark)) = sorted {
        for (title, (col, width)) in header.iter_mut().zip(&cols) {
            if sorted_columns(key).contains(col) {
                // The mark stays visible in a narrow column: the title gives way.
                let keep = title.chars().count().min(width.saturating_sub(1));
                *title = format!("{}{mark}", title.chars().take(keep).collect::<String>());
            }
        }
    }
    let rows: Vec<Row<'static>> = cells.into_iter().map(|c| c.row(&cols)).collect();
    let widths: Vec<Constraint> = cols
        .iter()
        .map(|(_, w)| Constraint::Length(u16::try_from(*w).unwrap_or(u16::MAX)))
        .collect();
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(Style::new().add_modifier(Modifier::BOLD)))
        .column_spacing(1)
        .block(block)
        .row_highlight_style(selected_style(focused));
    let mut state = TableState::new().with_selected(Some(app.conn_sel - app.conn_offset));
    frame.render_stateful_widget(table, area, &mut state);
    rows_area
}

/// One row's contents before the columns are sized.
struct Cells {
    id: String,
    /// Client and server addresses (the "all" row: its label in `client`).
    client: String,
    server: Option<String>,
    uri: Vec<Span<'static>>,
    proto: String,
    ext: String,
    c2s: String,
    s2c: String,
    state: Span<'static>,
    anom: Cell<'static>,
    anom_len: usize,
}

impl Cells {
    fn row(self, cols: &[(Col, usize)]) -> Row<'static> {
        let mut uri = Some(self.uri);
        let mut state = Some(self.state);
        let mut anom = Some(self.anom);
        let right = |s: &str| Cell::from(Line::from(s.to_string()).right_aligned());
        let cells: Vec<Cell<'static>> = cols
            .iter()
            .map(|&(col, width)| match col {
                Col::Id => Cell::from(self.id.clone()),
                Col::Endpoints => Cell::from(match &self.server {
                    Some(server) => endpoints(&self.client, server, width),
                    None => fit(&self.client, width),
                }),
                Col::Uri => Cell::from(truncate(Line::from(uri.take().unwrap_or_default()), width)),
                Col::Proto => Cell::from(fit(&self.proto, width)),
                Col::Ext => Cell::from(fit(&self.ext, width)),
                Col::C2s => right(&self.c2s),
                Col::S2c => right(&self.s2c),
                Col::State => Cell::from(state.take().unwrap_or_default()),
                Col::Anom => anom.take().unwrap_or_default(),
            })
            .collect();
        Row::new(cells)
    }
}

fn natural(rows: &[Cells]) -> Natural {
    let len = |s: &str| s.chars().count();
    rows.iter().fold(Natural::default(), |n, c| Natural {
        id: n.id.max(len(&c.id)),
        endpoints: n
            .endpoints
            .max(c.server.as_ref().map_or(0, |s| len(&c.client) + 3 + len(s))),
        proto: n.proto.max(len(&c.proto)),
        ext: n.ext.max(len(&c.ext)),
        c2s: n.c2s.max(len(&c.c2s)),
        s2c: n.s2c.max(len(&c.s2c)),
        state: n.state.max(len(&c.state.content)),
        anom: n.anom.max(c.anom_len),
    })
}

fn all_cells(app: &App) -> Cells {
    let (mut msgs, mut bytes) = ([0u64; 2], [0u64; 2]);
    for c in &app.model.conns {
        for d in 0..2 {
            msgs[d] += c.msgs[d];
            bytes[d] += c.bytes[d];
        }
    }
    let (anom, anom_len) = anom_cell(app.model.anomalies);
    Cells {
        id: "*".into(),
        client: "all connections".into(),
        server: None,
        uri: Vec::new(),
        proto: String::new(),
        ext: String::new(),
        c2s: fmt::msgs_bytes(msgs[0], bytes[0]),
        s2c: fmt::msgs_bytes(msgs[1], bytes[1]),
        state: Span::raw(""),
        anom,
        anom_len,
    }
}

fn conn_cells(c: &Conn) -> Cells {
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
        Span::styled(format!("{state} ~mid"), warn_style())
    } else {
        Span::raw(state)
    };
    let (anom, anom_len) = anom_cell(c.anomalies);
    Cells {
        id: c.id.to_string(),
        client: c.client.to_string(),
        server: Some(c.server.to_string()),
        uri,
        proto: c.info.subprotocol.clone().unwrap_or_default(),
        ext: ext_short(c.info.extensions.as_deref()),
        c2s: fmt::msgs_bytes(c.msgs[0], c.bytes[0]),
        s2c: fmt::msgs_bytes(c.msgs[1], c.bytes[1]),
        state,
        anom,
        anom_len,
    }
}

fn anom_cell(n: u64) -> (Cell<'static>, usize) {
    if n == 0 {
        (Cell::from(""), 0)
    } else {
        let text = format!("⚠{n}");
        let len = text.chars().count();
        (Cell::from(Span::styled(text, warn_style())), len)
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

/// The columns that show what `key` sorts by.
fn sorted_columns(key: SortKey) -> &'static [Col] {
    match key {
        SortKey::Id => &[Col::Id],
        SortKey::Endpoints => &[Col::Endpoints],
        SortKey::Uri => &[Col::Uri],
        SortKey::Messages | SortKey::Bytes => &[Col::C2s, Col::S2c],
        SortKey::State => &[Col::State],
        SortKey::Anomalies => &[Col::Anom],
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
