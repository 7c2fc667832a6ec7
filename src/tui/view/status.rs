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
    if m.refused > 0 {
        spans.push(Span::styled(
            format!(" │ {} refused", fmt::count(m.refused)),
            Style::new().fg(Color::Yellow),
        ));
    }
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
    shorten_source(&mut spans, usize::from(area.width));
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
        let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
        let room = usize::from(area.width).saturating_sub(used);
        let hints = hints(
            if app.page.is_some() {
                PAGE_HINTS
            } else {
                HINTS
            },
            room,
        );
        spans.push(Span::styled(hints, Style::new().fg(Color::DarkGray)));
        Line::from(spans)
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// Key hints in the order shown, each with its rank: the lower ones stay when the line is
/// short of room.
const HINTS: &[(&str, u8)] = &[
    ("/ filter", 2),
    ("Enter detail", 3),
    ("Tab pane", 4),
    ("? help", 0),
    ("q quit", 1),
    ("n/N match", 5),
    ("t time", 8),
    ("c copy", 6),
    ("y save", 7),
    ("e export", 9),
];
const PAGE_HINTS: &[(&str, u8)] = &[
    ("Esc back", 0),
    ("↑↓ PgUp PgDn scroll", 3),
    ("e export", 4),
    ("? help", 1),
    ("q quit", 2),
];

/// The hints that fit in `room` characters (two spaces apart), best ranked first, shown in
/// their order.
fn hints(all: &[(&str, u8)], room: usize) -> String {
    let mut ranked: Vec<&(&str, u8)> = all.iter().collect();
    ranked.sort_by_key(|(_, rank)| *rank);
    let mut keep = Vec::new();
    let mut used = 0;
    for (text, rank) in ranked {
        let add = text.chars().count() + if keep.is_empty() { 0 } else { 2 };
        if used + add > room {
            continue;
        }
        used += add;
        keep.push(*rank);
    }
    all.iter()
        .filter(|(_, rank)| keep.contains(rank))
        .map(|(text, _)| *text)
        .collect::<Vec<_>>()
        .join("  ")
}

/// The file name (the second span) cut so the status line fits `width`.
fn shorten_source(spans: &mut [Span<'static>], width: usize) {
    let total: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    let Some(over) = total.checked_sub(width).filter(|o| *o > 0) else {
        return;
    };
    if let Some(source) = spans.get_mut(1) {
        let name = source.content.trim_end();
        let keep = name.chars().count().saturating_sub(over).max(8);
        source.content = format!("{} ", super::fit(name, keep)).into();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_keep_the_best_ranked_in_their_order() {
        assert_eq!(
            hints(HINTS, 200),
            "/ filter  Enter detail  Tab pane  ? help  q quit  n/N match  t time  c copy  y save  e export"
        );
        assert_eq!(hints(HINTS, 30), "/ filter  ? help  q quit");
        assert_eq!(hints(HINTS, 5), "");
        assert_eq!(hints(PAGE_HINTS, 40), "Esc back  e export  ? help  q quit");
    }

    #[test]
    fn a_long_file_name_gives_way() {
        let mut spans = vec![
            Span::raw(" "),
            Span::raw("a_very_long_capture_name.pcap "),
            Span::raw("│ 1 pkt"),
        ];
        shorten_source(&mut spans, 30);
        assert_eq!(spans[1].content, "a_very_long_capture_… ");
        let line: String = spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(line.chars().count(), 30);
    }
}
