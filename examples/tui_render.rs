//! Measures the TUI's frame time on a large synthetic state (no terminal: ratatui's
//! TestBackend, which does the same layout and cell work; a real terminal adds only the
//! diff it writes). Run: `cargo run --release --example tui_render [MESSAGES]`.

use std::time::Instant;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use wsnoop::event::{Dir, Opcode, Timestamp};
use wsnoop::tui::model::Model;
use wsnoop::tui::testdata::{message_at, open};
use wsnoop::tui::{App, DEFAULT_KEEP_PAYLOAD, draw};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let conns = 1000u64;
    let t0 = Instant::now();
    let mut app = App::new(Model::new(DEFAULT_KEEP_PAYLOAD), "synthetic");
    app.push_events((1..=conns).map(|c| open(c, 0)));
    let json = br#"{"type":"telemetry","seq":12345,"sensor":"sensor-4","values":[20.3,28.2,18.2]}"#;
    let events = (0..n).map(|i| {
        let conn = (i as u64 % conns) + 1;
        let at = Timestamp::new(
            1_700_000_000 + (i / 1000) as i64,
            (i % 1000) as u32 * 1_000_000,
        );
        let dir = if i % 2 == 0 { Dir::C2s } else { Dir::S2c };
        let op = if i % 7 == 0 {
            Opcode::Binary
        } else {
            Opcode::Text
        };
        message_at(conn, at, dir, op, json)
    });
    app.push_events(events);
    app.settle();
    println!(
        "state: {n} messages over {conns} connections built in {:?}",
        t0.elapsed()
    );

    for (w, h) in [(80u16, 24u16), (160, 48), (300, 80)] {
        let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        term.draw(|f| draw(f, &mut app)).expect("draw");
        let frames = 500;
        let start = Instant::now();
        for i in 0..frames {
            let key = match i % 50 {
                0 => KeyCode::PageDown,
                25 => KeyCode::Char('G'),
                _ => KeyCode::Char('j'),
            };
            app.key(KeyEvent::from(key));
            term.draw(|f| draw(f, &mut app)).expect("draw");
        }
        let per = start.elapsed() / frames;
        println!("{w}x{h}: {per:?} per frame (scrolling the all-connections list)");
    }

    // Filtering the whole list anew (what typing in `/` costs before the list is complete).
    let start = Instant::now();
    app.set_filter(wsnoop::filter::Filter::parse("sensor-4 dir:c2s").expect("filter"));
    app.settle();
    println!(
        "full refilter of {n} messages: {:?} ({} match)",
        start.elapsed(),
        app.view.len()
    );
}
