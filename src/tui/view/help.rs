//! The `?` overlay: every key.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Block, Clear, Row, Table};

use super::super::keys::HELP;

pub fn draw(frame: &mut Frame<'_>, area: Rect) {
    let width = area.width.saturating_sub(4).min(84);
    let height = (HELP.len() as u16 + 4).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let rows = HELP
        .iter()
        .map(|(k, what)| Row::new([*k, *what]).style(Style::new()));
    let table = Table::new(rows, [Constraint::Length(15), Constraint::Fill(1)])
        .column_spacing(1)
        .block(
            Block::bordered()
                .title(" Keys · any key closes ")
                .title_style(Style::new().add_modifier(Modifier::BOLD))
                .border_style(Style::new().fg(Color::Yellow)),
        );
    frame.render_widget(Clear, popup);
    frame.render_widget(table, popup);
}
