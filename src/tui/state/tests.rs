use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::event::{Dir, Opcode};
use crate::tui::model::Model;
use crate::tui::testdata::{message, open, sample};

fn app() -> App {
    let mut app = App::new(Model::new(1 << 20), "test.pcap");
    app.push_events(sample());
    app.settle();
    app
}

fn press(app: &mut App, keys: &str) -> Option<Effect> {
    let mut last = None;
    for c in keys.chars() {
        last = app.key(KeyEvent::from(KeyCode::Char(c)));
    }
    last
}

fn code(app: &mut App, code: KeyCode) -> Option<Effect> {
    app.key(KeyEvent::from(code))
}

/// Payload texts of the listed rows (anomalies as `!kind`).
fn listed(app: &App) -> Vec<String> {
    app.view
        .iter()
        .filter_map(|&ix| app.row(ix))
        .map(|r| match &r.kind {
            RowKind::Message(m) => String::from_utf8_lossy(&m.payload)
                .chars()
                .take(12)
                .collect(),
            RowKind::Anomaly(a) => format!("!{}", a.kind.as_str()),
        })
        .collect()
}

#[test]
fn lists_everything_then_narrows_as_you_type() {
    let mut app = app();
    assert_eq!(app.view.len(), 11);
    press(&mut app, "/");
    assert!(matches!(
        app.input,
        Some(Input {
            prompt: Prompt::Filter { .. },
            ..
        })
    ));
    press(&mut app, "hel");
    app.settle();
    assert_eq!(listed(&app), vec!["hello from t"]);
    press(&mut app, "lo dir:c");
    app.settle();
    // `dir:c` does not parse: the last good filter stays and the error is shown.
    // (`hello di` was the last filter that parsed: `dir` alone is a half-typed term.)
    assert_eq!(app.filter.source(), "hello di");
    assert_eq!(
        app.filter_error.as_deref(),
        Some("column 11: dir: 'c' is not a direction: expected dir:c2s or dir:s2c")
    );
    code(&mut app, KeyCode::Enter);
    assert!(
        app.input.is_some(),
        "Enter keeps the prompt open on a bad filter"
    );
    press(&mut app, "2s");
    app.settle();
    assert_eq!(listed(&app), Vec::<String>::new());
    code(&mut app, KeyCode::Backspace);
    code(&mut app, KeyCode::Backspace);
    code(&mut app, KeyCode::Backspace);
    press(&mut app, "s2c");
    app.settle();
    assert_eq!(listed(&app), vec!["hello from t"]);
    code(&mut app, KeyCode::Enter);
    assert!(app.input.is_none());
    assert_eq!(app.filter.source(), "hello dir:s2c");
}

#[test]
fn esc_restores_the_previous_filter() {
    let mut app = app();
    app.set_filter(Filter::parse("op:binary").unwrap());
    app.settle();
    assert_eq!(app.view.len(), 1);
    press(&mut app, "/");
    press(&mut app, " op");
    code(&mut app, KeyCode::Esc);
    app.settle();
    assert_eq!(app.filter.source(), "op:binary");
    assert_eq!(app.view.len(), 1);
}

#[test]
fn connection_terms_see_the_rows_connection() {
    let mut app = app();
    // Connection 1 has the URI /chat and client port 50001; 2 was picked up mid-stream.
    app.set_filter(Filter::parse("port:50002 or (uri:CHAT op:ping)").unwrap());
    app.settle();
    assert_eq!(listed(&app), vec!["hb", "hello from t"]);
    app.set_filter(Filter::parse("not uri:chat or anomaly").unwrap());
    app.settle();
    assert_eq!(listed(&app), vec!["hello from t", "!tcp_gap"]);
    app.set_filter(Filter::parse("host:10.0.0.2 and client:10.0.0.1:50002").unwrap());
    app.settle();
    assert_eq!(listed(&app), vec!["hello from t"]);
}

#[test]
fn anomaly_filter_and_connection_selection() {
    let mut app = app();
    app.set_filter(Filter::parse("anomaly").unwrap());
    app.settle();
    assert_eq!(listed(&app), vec!["!tcp_gap"]);
    app.set_filter(Filter::default());
    app.focus = Pane::Conns;
    press(&mut app, "jj");
    app.settle();
    assert_eq!(app.selected_conn(), Some(2));
    assert_eq!(listed(&app), vec!["hello from t", "!tcp_gap"]);
    press(&mut app, "k");
    app.settle();
    assert_eq!(app.selected_conn(), Some(1));
    assert_eq!(app.view.len(), 9);
    code(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, Pane::Msgs);
    code(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, Pane::Detail);
    code(&mut app, KeyCode::Esc);
    assert_eq!(app.focus, Pane::Msgs);
}

#[test]
fn navigation_and_follow() {
    let mut app = app();
    assert_eq!(app.msg_sel, 0);
    assert!(!app.follow);
    press(&mut app, "jjj");
    assert_eq!(app.msg_sel, 3);
    press(&mut app, "G");
    assert_eq!(app.msg_sel, 10);
    assert!(app.follow);
    // New messages arrive: the selection follows them.
    app.push_events([message(2, 20, Dir::C2s, Opcode::Text, b"late")]);
    app.settle();
    assert_eq!(app.msg_sel, 11);
    // Scrolling up stops following.
    press(&mut app, "k");
    assert!(!app.follow);
    app.push_events([message(2, 21, Dir::C2s, Opcode::Text, b"later")]);
    app.settle();
    assert_eq!(app.msg_sel, 10);
    press(&mut app, "g");
    assert_eq!(app.msg_sel, 0);
    code(&mut app, KeyCode::Up);
    assert_eq!(app.msg_sel, 0);
    app.areas.msgs = Rect::new(0, 0, 40, 5);
    code(&mut app, KeyCode::PageDown);
    assert_eq!(app.msg_sel, 4);
    code(&mut app, KeyCode::PageUp);
    assert_eq!(app.msg_sel, 0);
}

#[test]
fn next_and_previous_match_in_mark_mode() {
    let mut app = app();
    app.set_filter(Filter::parse("op:text").unwrap());
    press(&mut app, "f");
    app.settle();
    assert!(app.mark_only);
    assert_eq!(app.view.len(), 11);
    // Rows 0-2 are text; 3-5 binary, ping, pong; 6 compressed text; 7 text on conn 2.
    press(&mut app, "n");
    assert_eq!(app.msg_sel, 1);
    press(&mut app, "nn");
    assert_eq!(app.msg_sel, 6);
    press(&mut app, "N");
    assert_eq!(app.msg_sel, 2);
    press(&mut app, "g");
    press(&mut app, "N");
    assert_eq!(app.msg_sel, 7, "wraps around to the last text message");
    assert_eq!(app.notice, Some(("search wrapped".into(), false)));
}

#[test]
fn filter_keeps_the_selected_message_when_it_still_matches() {
    let mut app = app();
    press(&mut app, "jj");
    let ix = app.selected_row();
    app.set_filter(Filter::parse("op:text").unwrap());
    app.settle();
    assert_eq!(app.selected_row(), ix);
    assert_eq!(app.msg_sel, 2);
}

#[test]
fn export_and_save_prompts_give_effects() {
    let mut app = app();
    press(&mut app, "e");
    assert_eq!(
        app.input.as_ref().map(|i| i.text.as_str()),
        Some("wsnoop-conn-1.jsonl")
    );
    assert_eq!(
        code(&mut app, KeyCode::Enter),
        Some(Effect::Export {
            conn: 1,
            path: "wsnoop-conn-1.jsonl".into()
        })
    );
    press(&mut app, "jjj");
    press(&mut app, "y");
    assert_eq!(
        app.input.as_ref().map(|i| i.text.as_str()),
        Some("wsnoop-conn-1-msg-4.bin")
    );
    app.key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    press(&mut app, "out.bin");
    assert_eq!(
        code(&mut app, KeyCode::Enter),
        Some(Effect::Save {
            row: 3,
            path: "out.bin".into()
        })
    );
}

#[test]
fn help_quit_toggles() {
    let mut app = app();
    press(&mut app, "?");
    assert!(app.help);
    press(&mut app, "q");
    assert!(
        !app.help && !app.quit,
        "the key that closes help does nothing else"
    );
    press(&mut app, "tb");
    assert!(app.time_abs && app.chart_bytes);
    press(&mut app, "?/");
    app.key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(app.quit, "Ctrl-C quits even with help open");
}

#[test]
fn pane_cycle() {
    let mut app = app();
    assert_eq!(app.focus, Pane::Msgs);
    code(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Pane::Detail);
    code(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Pane::Conns);
    code(&mut app, KeyCode::BackTab);
    assert_eq!(app.focus, Pane::Detail);
}

#[test]
fn rebuild_is_incremental_within_a_budget() {
    let mut app = App::new(Model::new(0), "big");
    app.push_events([open(1, 0)]);
    let many: Vec<_> = (0..(4 * SCAN_BUDGET + 10) as i64)
        .map(|i| message(1, i / 1000, Dir::C2s, Opcode::Text, b"m"))
        .collect();
    app.push_events(many);
    app.tick();
    assert_eq!(
        app.view.len(),
        4 * SCAN_BUDGET + 10,
        "no filter: listed at once"
    );
    app.set_filter(Filter::parse("m").unwrap());
    app.scan(SCAN_BUDGET);
    assert_eq!(app.view.len(), SCAN_BUDGET);
    assert!(app.scanning().is_some());
    app.settle();
    assert_eq!(app.view.len(), 4 * SCAN_BUDGET + 10);
    assert!(app.scanning().is_none());
}

#[test]
fn mouse_click_selects_and_wheel_scrolls() {
    use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let mut app = app();
    app.areas.conns = Rect::new(1, 2, 78, 3);
    app.areas.msgs = Rect::new(1, 10, 78, 5);
    app.areas.detail = Rect::new(1, 17, 78, 5);
    let at = |kind, column, row| MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    };
    app.mouse(at(MouseEventKind::Down(MouseButton::Left), 5, 12));
    assert_eq!((app.focus, app.msg_sel), (Pane::Msgs, 2));
    app.mouse(at(MouseEventKind::ScrollDown, 5, 11));
    assert_eq!(app.msg_sel, 5);
    app.mouse(at(MouseEventKind::ScrollUp, 5, 11));
    assert_eq!(app.msg_sel, 2);
    // A click on the third connection row (conn 2) lists its messages.
    app.mouse(at(MouseEventKind::Down(MouseButton::Left), 5, 4));
    app.settle();
    assert_eq!((app.focus, app.selected_conn()), (Pane::Conns, Some(2)));
    assert_eq!(app.view.len(), 2);
    // Outside every pane: nothing happens.
    app.mouse(at(MouseEventKind::Down(MouseButton::Left), 79, 0));
    assert_eq!(app.focus, Pane::Conns);
}

#[test]
fn export_writes_the_connection_as_json_lines() {
    let app = app();
    let mut out = Vec::new();
    let (n, cut) = crate::tui::export::export_conn(&app.model, 2, &mut out).unwrap();
    assert_eq!((n, cut), (4, 0));
    let text = String::from_utf8(out).unwrap();
    let events: Vec<&str> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            match v["event"].as_str().unwrap() {
                "open" => "open",
                "message" => "message",
                "anomaly" => "anomaly",
                "end" => "end",
                _ => "?",
            }
        })
        .collect();
    assert_eq!(events, vec!["open", "message", "anomaly", "end"]);
    assert!(text.contains("hello from two"));
    assert!(text.contains("\"kind\":\"tcp_gap\""));
    assert!(crate::tui::export::export_conn(&app.model, 9, Vec::new()).is_err());
}
