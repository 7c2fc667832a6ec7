//! The key map: keys to actions, and the table the help overlay shows.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    NextPane,
    PrevPane,
    Enter,
    Back,
    Filter,
    NextMatch,
    PrevMatch,
    ToggleMark,
    ToggleTime,
    ToggleChart,
    Export,
    Save,
    /// The selected message's payload to the clipboard (OSC 52).
    Copy,
    /// The connection page of the selected connection (closes it when open).
    Info,
    /// Sort the connections by the next column / reverse the order.
    Sort,
    SortReverse,
    /// From a protocol reply to its request's row, or from a request to its reply's.
    Jump,
}

/// Every key, as the help overlay lists it.
pub const HELP: &[(&str, &str)] = &[
    ("↑ ↓  k j", "move the selection (scroll in the detail pane)"),
    ("PgUp PgDn", "move a page"),
    ("g G  Home End", "first / last (G follows new messages)"),
    ("Tab  Shift-Tab", "next / previous pane"),
    ("Enter", "connection → its messages; message → detail"),
    ("Esc", "back to the previous pane; closes prompts and pages"),
    (
        "i",
        "connection page: handshake, TLS, totals, close (Esc back)",
    ),
    (
        "s  S",
        "sort connections by the next column / reverse the order",
    ),
    (
        "/",
        "filter: text, re:RE, /RE/, dir: op: len> conn: anomaly, !term",
    ),
    ("n  N", "next / previous message matching the filter"),
    ("r", "protocol unit: jump between a request and its reply"),
    ("f", "filter narrows the list / only marks matches"),
    ("t", "time relative to the connection / absolute UTC"),
    ("b", "chart: messages / bytes per interval"),
    ("e", "export the selected connection as JSON lines"),
    ("y", "save the selected message's payload to a file"),
    ("c", "copy the selected payload to the clipboard (OSC 52)"),
    ("mouse", "click selects, wheel scrolls"),
    ("?", "this help (any key closes it)"),
    ("q  Ctrl-C", "quit"),
];

/// Ctrl-C quits from anywhere (help, prompts): in raw mode it arrives as a key, not a signal.
pub fn is_interrupt(key: KeyEvent) -> bool {
    key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL)
}

pub fn action(key: KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char('c') if ctrl => Action::Quit,
        KeyCode::Char('d') if ctrl => Action::PageDown,
        KeyCode::Char('u') if ctrl => Action::PageUp,
        _ if ctrl => return None,
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown | KeyCode::Char(' ') => Action::PageDown,
        KeyCode::Home | KeyCode::Char('g') => Action::Top,
        KeyCode::End | KeyCode::Char('G') => Action::Bottom,
        KeyCode::Tab => Action::NextPane,
        KeyCode::BackTab => Action::PrevPane,
        KeyCode::Enter | KeyCode::Right | KeyCode::Char('l') => Action::Enter,
        KeyCode::Esc | KeyCode::Left | KeyCode::Char('h') => Action::Back,
        KeyCode::Char('/') => Action::Filter,
        KeyCode::Char('n') => Action::NextMatch,
        KeyCode::Char('N') => Action::PrevMatch,
        KeyCode::Char('f') => Action::ToggleMark,
        KeyCode::Char('t') => Action::ToggleTime,
        KeyCode::Char('b') => Action::ToggleChart,
        KeyCode::Char('e') => Action::Export,
        KeyCode::Char('y') => Action::Save,
        KeyCode::Char('c') => Action::Copy,
        KeyCode::Char('i') => Action::Info,
        KeyCode::Char('s') => Action::Sort,
        KeyCode::Char('S') => Action::SortReverse,
        KeyCode::Char('r') => Action::Jump,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map() {
        let k = |c| KeyEvent::from(KeyCode::Char(c));
        assert_eq!(action(k('j')), Some(Action::Down));
        assert_eq!(action(k('G')), Some(Action::Bottom));
        assert_eq!(action(k('z')), None);
        assert_eq!(action(k('i')), Some(Action::Info));
        assert_eq!(action(k('c')), Some(Action::Copy));
        assert_eq!(action(k('s')), Some(Action::Sort));
        assert_eq!(action(k('S')), Some(Action::SortReverse));
        assert_eq!(action(k('r')), Some(Action::Jump));
        assert_eq!(
            action(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            action(KeyEvent::from(KeyCode::BackTab)),
            Some(Action::PrevPane)
        );
    }
}
