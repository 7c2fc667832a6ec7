//! Keys while a prompt (filter, export or save file name) is open.

use std::path::PathBuf;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::state::{App, Effect, Prompt};
use crate::filter::Filter;

impl App {
    pub(super) fn input_key(&mut self, key: KeyEvent) -> Option<Effect> {
        let input = self.input.as_mut()?;
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let mut changed = false;
        match key.code {
            KeyCode::Char('u') if ctrl => {
                input.text.clear();
                changed = true;
            }
            KeyCode::Char(c) if !ctrl => {
                input.text.push(c);
                changed = true;
            }
            KeyCode::Backspace => {
                changed = input.text.pop().is_some();
            }
            KeyCode::Esc => {
                let input = self.input.take()?;
                if let Prompt::Filter { prev } = input.prompt {
                    // Esc gives back the filter that was there before the prompt opened.
                    if prev != self.filter.source() {
                        self.set_filter(Filter::parse(&prev).unwrap_or_default());
                    }
                    self.filter_error = None;
                }
                return None;
            }
            KeyCode::Enter => return self.submit(),
            _ => {}
        }
        if changed && matches!(self.input.as_ref()?.prompt, Prompt::Filter { .. }) {
            let text = self.input.as_ref()?.text.clone();
            self.live_filter(&text);
        }
        None
    }

    /// Narrow as the user types; a half-typed term that does not parse leaves the last good
    /// filter in place and shows why.
    fn live_filter(&mut self, text: &str) {
        match Filter::parse(text) {
            Ok(f) => {
                if f.source() != self.filter.source() {
                    self.set_filter(f);
                }
                self.filter_error = None;
            }
            Err(e) => self.filter_error = Some(e.to_string()),
        }
    }

    fn submit(&mut self) -> Option<Effect> {
        let input = self.input.take()?;
        let path = PathBuf::from(input.text.trim());
        match input.prompt {
            Prompt::Filter { .. } => {
                if self.filter_error.is_some() {
                    // Keep the prompt open until the filter parses.
                    self.input = Some(input);
                    return None;
                }
                if self.focus == super::state::Pane::Conns {
                    self.focus = super::state::Pane::Msgs;
                }
                None
            }
            _ if input.text.trim().is_empty() => {
                self.notice = Some(("no file name given: nothing written".into(), true));
                None
            }
            Prompt::Export { conn } => Some(Effect::Export { conn, path }),
            Prompt::Save { row } => Some(Effect::Save { row, path }),
        }
    }
}
