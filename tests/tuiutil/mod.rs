//! What the TUI snapshot tests share: a bundled capture loaded into the model as the TUI's
//! loader does, keys typed into the app, the screen drawn with ratatui's TestBackend.
#![allow(dead_code)]

use std::path::Path;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use wsnoop::pipeline::{Failure, Input, Options, Pipeline, Watch};
use wsnoop::tui::model::{Model, Progress};
use wsnoop::tui::{App, Effect, Feed, draw};

/// The run's last progress report; a failure fails the test.
#[derive(Default)]
struct Last(Progress);

impl Watch for Last {
    fn progress(&mut self, progress: &Progress) {
        self.0 = *progress;
    }

    fn failure(&mut self, failure: &Failure) {
        panic!("{failure}");
    }
}

/// A bundled capture (`captures/REL`, with the key log `captures/KEYS`) decoded into the
/// model as the TUI's loader does, on one engine.
pub fn capture_app(rel: &str, keys: Option<&str>) -> App {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let mut model = Model::new(1 << 20);
    let mut last = Last::default();
    let options = Options {
        keylogs: keys.map(|k| dir.join(k)).into_iter().collect(),
        ..Options::default()
    };
    Pipeline::new(options).run(vec![Input::Path(dir.join(rel))], &mut model, &mut last);
    let name = Path::new(rel)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut app = App::new(model, name);
    app.feed(Feed::Progress(last.0));
    app.feed(Feed::Done(None));
    app.settle();
    app
}

/// Types `keys` (`\t` Tab, `\n` Enter, `\x1b` Esc), letting the app settle after each.
pub fn keys(app: &mut App, keys: &str) {
    for c in keys.chars() {
        let k = match c {
            '\t' => KeyCode::Tab,
            '\n' => KeyCode::Enter,
            '\x1b' => KeyCode::Esc,
            c => KeyCode::Char(c),
        };
        // The run loop writes a copy to the terminal, then shows its notice.
        if let Some(Effect::Copy { notice, .. }) = app.key(KeyEvent::from(k)) {
            app.notice = Some((notice, false));
        }
        app.settle();
    }
}

pub fn drawn(app: &mut App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    // Twice: the first drawing records pane sizes that page keys and scrolling use.
    t.draw(|f| draw(f, app)).unwrap();
    t.draw(|f| draw(f, app)).unwrap();
    t
}

pub fn screen(app: &mut App, w: u16, h: u16) -> String {
    drawn(app, w, h).backend().to_string()
}
