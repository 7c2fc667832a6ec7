//! Rendering: a function of the state. It also records where panes landed (for the mouse
//! and page sizes) and the scroll offsets that keep selections visible.

pub mod chart;
mod conn_columns;
mod connections;
mod detail;
mod help;
mod highlight;
mod messages;
pub mod page;
mod status;
mod units;
mod wrap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Block, BorderType};

use super::state::{App, Pane};
use crate::event::Dir;

/// Terminals at least this wide put the detail pane beside the lists.
const WIDE: u16 = 120;
/// The side-by-side detail pane is at most this wide: its frames table fits whole.
const DETAIL_MAX: u16 = 76;

pub fn draw(frame: &mut Frame<'_>, app: &mut App) {
    let [top, body, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    status::top(frame, top, app);
    status::bottom(frame, bottom, app);
    if app.page.is_some() {
        // The page covers the panes: nothing of them is under the mouse.
        app.areas = Default::default();
        page::draw(frame, body, app);
        if app.help {
            help::draw(frame, frame.area());
        }
        return;
    }
    let conns_h = (app.model.conns.len() as u16).saturating_add(4);
    let (conns, chart, msgs, detail) = if body.width >= WIDE {
        let [c, rest] = Layout::vertical([
            Constraint::Length(conns_h.clamp(5, (body.height / 3).max(6))),
            Constraint::Fill(1),
        ])
        .areas(body);
        // The detail pane gets 45% up to what its frames table needs; wider terminals give
        // the rest to the message previews.
        let detail_w = (body.width * 45 / 100).min(DETAIL_MAX);
        let [left, right] =
            Layout::horizontal([Constraint::Fill(1), Constraint::Length(detail_w)]).areas(rest);
        let [ch, m] = Layout::vertical([Constraint::Length(5), Constraint::Fill(1)]).areas(left);
        (c, ch, m, right)
    } else {
        let (m, d) = if app.focus == Pane::Detail {
            (1, 3)
        } else {
            (1, 1)
        };
        let [c, ch, m, d] = Layout::vertical([
            Constraint::Length(conns_h.clamp(5, (body.height / 4).max(5))),
            Constraint::Length(3),
            Constraint::Fill(m),
            Constraint::Fill(d),
        ])
        .areas(body);
        (c, ch, m, d)
    };
    app.areas.conns = connections::draw(frame, conns, app);
    chart::draw(frame, chart, app);
    app.areas.msgs = messages::draw(frame, msgs, app);
    app.areas.detail = detail::draw(frame, detail, app);
    if app.help {
        help::draw(frame, frame.area());
    }
}

pub fn dir_color(dir: Option<Dir>) -> Color {
    match dir {
        Some(Dir::C2s) => Color::Green,
        Some(Dir::S2c) => Color::Cyan,
        None => Color::Gray,
    }
}

pub fn dir_arrow(dir: Option<Dir>) -> &'static str {
    match dir {
        Some(Dir::C2s) => "→",
        Some(Dir::S2c) => "←",
        None => "·",
    }
}

pub fn warn_style() -> Style {
    Style::new().fg(Color::Yellow)
}

pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub fn selected_style(focused: bool) -> Style {
    if focused {
        Style::new().add_modifier(Modifier::REVERSED)
    } else {
        Style::new().bg(Color::DarkGray)
    }
}

fn pane_block(title: String, focused: bool) -> Block<'static> {
    let style = if focused {
        Style::new().fg(Color::Yellow)
    } else {
        Style::new().fg(Color::Gray)
    };
    Block::bordered()
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(style)
        .title(title)
}

/// First visible index so that `sel` is in a window of `height` rows over `len` items,
/// moving the previous `offset` as little as possible.
pub fn window(sel: usize, offset: usize, height: usize, len: usize) -> usize {
    if height == 0 || len == 0 {
        return 0;
    }
    let mut off = offset;
    if sel < off {
        off = sel;
    } else if sel >= off + height {
        off = sel + 1 - height;
    }
    off.min(len.saturating_sub(height))
}

/// Cuts `s` to `width` characters, marking the cut with `…`.
pub fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    if width > 0 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows() {
        assert_eq!(window(0, 0, 5, 100), 0);
        assert_eq!(window(7, 0, 5, 100), 3);
        assert_eq!(window(4, 3, 5, 100), 3);
        assert_eq!(window(2, 3, 5, 100), 2);
        assert_eq!(window(99, 0, 5, 100), 95);
        assert_eq!(window(3, 50, 5, 10), 3);
        assert_eq!(window(0, 0, 0, 10), 0);
    }

    #[test]
    fn fitting() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
    }
}
