//! The status bar (top) and the key-hint / prompt line (bottom).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::super::fmt;
use super::super::state::{App, Prompt};

pub fn top(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let m = &app.model;
    let p = m.progress;
    let narrow = area.width < 100;
    let mut spans = vec![
        Span::styled(
            if narrow { " " } else { " wsnoop " },
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!("{} ", app.source)),
        Span::raw(format!(
            "│ {} {} {} │ {} {} │ {} {} │ ",
            fmt::count(p.packets),
            if p.packets == 1 { "pkt" } else { "pkts" },
            fmt::bytes(p.bytes),
            fmt::count(m.conns.len() as u64),
            if m.conns.len() == 1 { "conn" } else { "conns" },
            fmt::count(m.messages),
            if m.messages == 1 { "msg" } else { "msgs" },
        )),
        Span::styled(
            if narrow {
                format!("⚠ {}", fmt::count(m.anomalies))
            } else {
                format!(
                    "{} {}",
                    fmt::count(m.anomalies),
                    if m.anomalies == 1 {
                        "anomaly"
                    } else {
                        "anomalies"
                    }
                )
            },
            if m.anomalies > 0 {
                Style::new().fg(Color::Yellow)
            } else {
                Style::new()
            },
        ),
    ];
    match &m.done {
        None => {
            let pct = p
                .size
                .filter(|s| *s > 0)
                .map(|s| format!(" {:.0}%", p.offset as f64 * 100.0 / s as f64))
                .unwrap_or_default();
            // No size: a live interface (or a stream), which never finishes loading.
            let what = if p.size.is_some() { "loading" } else { "live" };
            spans.push(Span::styled(
                format!(" │ {what}{pct}"),
                Style::new()
                    .fg(Color::LightBlue)
                    .add_modifier(Modifier::BOLD),
            ));
        }
        Some(Some(err)) => spans.push(Span::styled(
            format!(" │ stopped: {err}"),
            Style::new().fg(Color::Red),
        )),
        Some(None) => {}
    }
    if let Some(f) = app.scanning() {
        spans.push(Span::raw(format!(" │ filtering {:.0}%", f * 100.0)));
    }
    if m.truncated > 0 {
        spans.push(Span::styled(
            format!(" │ {} payloads cut", fmt::count(m.truncated)),
            Style::new().fg(Color::Yellow),
        ));
    }
    let bar = Paragraph::new(Line::from(spans))
        .style(Style::new().bg(Color::Indexed(236)).fg(Color::White));
    frame.render_widget(bar, area);
}

pub fn bottom(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let line = if let Some(input) = &app.input {
        let label = match input.prompt {
            Prompt::Filter { .. } => "filter: ",
            Prompt::Export { .. } => "export connection to: ",
            Prompt::Save { .. } => "save payload to: ",
        };
        let mut spans = vec![
            Span::styled(label, Style::new().fg(Color::Yellow)),
            Span::raw(input.text.clone()),
            Span::styled(" ", Style::new().add_modifier(Modifier::REVERSED)),
        ];
        if let Some(err) = &app.filter_error {
            spans.push(Span::styled(
                format!("  {err}"),
                Style::new().fg(Color::Red),
            ));
        }
        Line::from(spans)
    } else if let Some((text, is_err)) = &app.notice {
        let color = if *is_err { Color::Red } else { Color::Green };
        Line::from(Span::styled(text.clone(), Style::new().fg(color)))
    } else {
        let mut spans = Vec::new();
        if !app.filter.is_empty() {
            spans.push(Span::styled(
                format!(
                    "[{} {}] ",
                    if app.mark_only { "mark" } else { "filter" },
                    app.filter.source()
                ),
                Style::new().fg(Color::Yellow),
            ));
        }
        let hints = if app.page.is_some() {
            "Esc back  ↑↓ PgUp PgDn scroll  e export  ? help  q quit"
        } else {
            "/ filter  Enter detail  Tab pane  ? help  q quit  n/N match  t time  e export  y save"
        };
        spans.push(Span::styled(hints, Style::new().fg(Color::DarkGray)));
        Line::from(spans)
    };
    frame.render_widget(Paragraph::new(line), area);
}
