//! A picture of the traffic: messages (or bytes) per interval in each direction, over the
//! whole capture's time, for the selected connection (or all).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Sparkline};

use super::super::fmt;
use super::super::model::{Model, RowKind};
use super::super::state::App;
use super::{dim, dir_arrow, dir_color};
use crate::event::Dir;

/// Binned counts, recomputed when the connection, width or unit changes, and while loading
/// only when the rows have grown by an eighth (so the work stays linear overall).
#[derive(Clone, Debug)]
pub struct Cache {
    key: (usize, u16, bool),
    rows: usize,
    done: bool,
    pub bins: [Vec<u64>; 2],
    pub bin_secs: f64,
}

pub fn bins(model: &Model, conn_sel: usize, n: usize, bytes: bool) -> ([Vec<u64>; 2], f64) {
    let mut bins = [vec![0u64; n], vec![0u64; n]];
    let (Some(first), Some(last)) = (model.first_ts, model.last_ts) else {
        return (bins, 0.0);
    };
    if n == 0 {
        return (bins, 0.0);
    }
    let span = (fmt::nanos(last) - fmt::nanos(first)).max(1);
    let bin_ns = (span + n as i128 - 1) / n as i128;
    let mut add = |row: &super::super::model::Row| {
        if let (RowKind::Message(m), Some(d)) = (&row.kind, row.dir) {
            let at = ((fmt::nanos(row.ts) - fmt::nanos(first)) / bin_ns).clamp(0, n as i128 - 1);
            if let Some(slot) = bins[d.index()].get_mut(at as usize) {
                *slot += if bytes { m.len } else { 1 };
            }
        }
    };
    match conn_sel.checked_sub(1).and_then(|i| model.conns.get(i)) {
        None => model.rows.iter().for_each(&mut add),
        Some(c) => c
            .rows
            .iter()
            .filter_map(|&ix| model.rows.get(ix as usize))
            .for_each(&mut add),
    }
    (bins, bin_ns as f64 / 1e9)
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &mut App) {
    let label_w = 4u16;
    let n = usize::from(area.width.saturating_sub(label_w));
    let key = (app.conn_sel, area.width, app.chart_bytes);
    let rows = app.model.rows.len();
    let done = !app.model.loading();
    let stale = match &app.chart_cache {
        None => true,
        Some(c) => {
            c.key != key || (done && (!c.done || c.rows != rows)) || rows > c.rows + c.rows / 8 + 64
        }
    };
    if stale {
        let (bins, bin_secs) = bins(&app.model, app.conn_sel, n, app.chart_bytes);
        app.chart_cache = Some(Cache {
            key,
            rows,
            done,
            bins,
            bin_secs,
        });
    }
    let Some(cache) = &app.chart_cache else {
        return;
    };
    let peak = cache.bins.iter().flatten().copied().max().unwrap_or(0);
    let unit = if app.chart_bytes { "bytes" } else { "msgs" };
    let scope = app
        .selected_conn()
        .map_or("all connections".to_string(), |c| format!("connection {c}"));
    let peak_s = if app.chart_bytes {
        fmt::bytes(peak)
    } else {
        peak.to_string()
    };
    let title = format!(
        " Traffic · {scope} · {unit} per {} · peak {peak_s} ",
        fmt::duration(cache.bin_secs)
    );
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(dim())
        .title(Span::styled(
            title,
            Style::new().add_modifier(Modifier::BOLD),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lines = Layout::vertical([Constraint::Fill(1); 2]).split(inner);
    for (d, line) in Dir::BOTH.iter().zip(lines.iter()) {
        let [label, spark] =
            Layout::horizontal([Constraint::Length(label_w), Constraint::Fill(1)]).areas(*line);
        let style = Style::new().fg(dir_color(Some(*d)));
        frame.render_widget(
            Span::styled(format!(" {} ", dir_arrow(Some(*d))), style),
            label,
        );
        let data = cache.bins.get(d.index()).map_or(&[][..], |v| v.as_slice());
        frame.render_widget(
            Sparkline::default()
                .data(data)
                .max(peak.max(1))
                .style(style),
            spark,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Opcode;
    use crate::tui::testdata::{message, open};

    #[test]
    fn bins_over_capture_time() {
        let mut m = Model::new(1 << 20);
        m.push(open(1, 0));
        m.push(message(1, 0, Dir::C2s, Opcode::Text, b"ab"));
        m.push(message(1, 5, Dir::S2c, Opcode::Text, b"abcd"));
        m.push(message(1, 9, Dir::C2s, Opcode::Text, b"x"));
        m.push(message(1, 10, Dir::C2s, Opcode::Text, b"y"));
        let (b, secs) = bins(&m, 1, 5, false);
        assert_eq!(b[0], vec![1, 0, 0, 0, 2]);
        assert_eq!(b[1], vec![0, 0, 1, 0, 0]);
        assert!((secs - 2.0).abs() < 1e-9);
        let (b, _) = bins(&m, 0, 5, true);
        assert_eq!(b[0], vec![2, 0, 0, 0, 2]);
        assert_eq!(b[1], vec![0, 0, 4, 0, 0]);
    }
}
