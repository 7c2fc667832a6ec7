//! Mouse: a click selects (and focuses) what is under the pointer, the wheel scrolls the pane
//! under it.

use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use super::state::{App, Pane};

const WHEEL_STEP: isize = 3;

impl App {
    pub fn mouse(&mut self, m: MouseEvent) {
        if self.page.is_some() {
            // The page covers the panes: the wheel scrolls it, clicks do nothing.
            let a = match m.kind {
                MouseEventKind::ScrollDown => super::keys::Action::Down,
                MouseEventKind::ScrollUp => super::keys::Action::Up,
                _ => return,
            };
            for _ in 0..WHEEL_STEP {
                let _ = self.act(a);
            }
            return;
        }
        let at = Position::new(m.column, m.row);
        let Some((pane, rect)) = self.pane_at(at) else {
            return;
        };
        match m.kind {
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let delta = if m.kind == MouseEventKind::ScrollDown {
                    WHEEL_STEP
                } else {
                    -WHEEL_STEP
                };
                let focus = self.focus;
                self.focus = pane;
                for _ in 0..WHEEL_STEP {
                    let _ = self.act(if delta > 0 {
                        super::keys::Action::Down
                    } else {
                        super::keys::Action::Up
                    });
                }
                self.focus = focus;
            }
            MouseEventKind::Down(MouseButton::Left) => {
                let line = usize::from(at.y - rect.y);
                let index = match pane {
                    Pane::Conns => self.conn_offset + line,
                    Pane::Msgs => self.msg_offset + line,
                    Pane::Detail => 0,
                };
                self.select(pane, index);
            }
            _ => {}
        }
    }

    fn pane_at(&self, at: Position) -> Option<(Pane, Rect)> {
        [
            (Pane::Conns, self.areas.conns),
            (Pane::Msgs, self.areas.msgs),
            (Pane::Detail, self.areas.detail),
        ]
        .into_iter()
        .find(|(_, r)| r.contains(at))
    }
}
