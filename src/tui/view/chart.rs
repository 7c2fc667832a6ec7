//! A picture of the traffic: messages (or bytes) per interval in each direction, over the
//! whole capture's time, for the selected connection (or all) (binned by [`super::super::traffic`]).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Sparkline};

use super::super::fmt;
use super::super::state::App;
use super::super::traffic::{Cache, bins};
use super::{dim, dir_arrow, dir_color};
use crate::event::Dir;

pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &mut App) {
    let label_w = 4u16;
    let n = usize::from(area.width.saturating_sub(label_w));
    let key = (app.selected_conn_ix(), area.width, app.chart_bytes);
    let rows = app.model.rows.len();
    let done = !app.model.loading();
    let stale = match &app.chart_cache {
        None => true,
        Some(c) => {
            c.key != key || (done && (!c.done || c.rows != rows)) || rows > c.rows + c.rows / 8 + 64
        }
    };
    if stale {
        let (bins, bin_secs) = bins(&app.model, key.0, n, app.chart_bytes);
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
