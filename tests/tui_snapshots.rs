//! The screen at 80×24 and 160×48, drawn with ratatui's TestBackend from synthetic events,
//! compared with the committed snapshots in tests/snapshots/.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use wsnoop::tui::model::{Model, Progress};
use wsnoop::tui::testdata::sample;
use wsnoop::tui::{App, Feed, draw};

fn app() -> App {
    let mut app = App::new(Model::new(1 << 20), "sample.pcap");
    app.feed(Feed::Events(sample()));
    app.feed(Feed::Progress(Progress {
        offset: 4096,
        size: Some(4096),
        packets: 42,
        bytes: 6000,
        done: true,
    }));
    app.feed(Feed::Done(None));
    app.settle();
    app
}

fn keys(app: &mut App, keys: &str) {
    for c in keys.chars() {
        let k = match c {
            '\t' => KeyCode::Tab,
            '\n' => KeyCode::Enter,
            '\x1b' => KeyCode::Esc,
            c => KeyCode::Char(c),
        };
        app.key(KeyEvent::from(k));
        app.settle();
    }
}

fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    // Twice: the first drawing records pane sizes that page keys and scrolling use.
    t.draw(|f| draw(f, app)).unwrap();
    t.draw(|f| draw(f, app)).unwrap();
    t.backend().to_string()
}

macro_rules! both_sizes {
    ($name:ident, $keys:expr) => {
        #[test]
        fn $name() {
            let mut a = app();
            keys(&mut a, $keys);
            insta::assert_snapshot!(concat!(stringify!($name), "_80x24"), screen(&mut a, 80, 24));
            let mut a = app();
            keys(&mut a, $keys);
            insta::assert_snapshot!(
                concat!(stringify!($name), "_160x48"),
                screen(&mut a, 160, 48)
            );
        }
    };
}

// The first message, JSON, pretty-printed in the detail pane.
both_sizes!(json_message, "");
// A binary message as hex + ASCII, detail focused.
both_sizes!(binary_message, "jjj\n");
// The compressed, fragmented message: wire size and both frames.
both_sizes!(compressed_message, "jjjjjj\n");
// A close frame: code, RFC name, reason.
both_sizes!(close_message, "G");
// Connections pane focused on the mid-stream connection; its messages with the anomaly.
both_sizes!(connections, "\t\tjj");
// Filter prompt open, narrowed as typed.
both_sizes!(filter_typing, "/hello");
// Filter for anomalies, absolute times.
both_sizes!(anomaly_filter_absolute_time, "/anomaly\nt");
// Chart in bytes and the help overlay on top.
both_sizes!(help_overlay, "b?");
