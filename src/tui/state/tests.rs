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
            RowKind::Unit(u) => format!("@{}", u.unit.summary),
            RowKind::Refused(r) => format!("refused {}", r.handshake.status),
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

/// Four connections whose columns order them differently: (id, client port, uri, messages,
/// payload bytes, ended how, anomalies) =
/// (1, 50004, /d, 1, 5, fin, 0), (2, 50003, /a, 3, 3, open, 2), (3, 50001, /c, 2, 9, rst, 1),
/// (4, 50002, /b, 4, 1, eof, 0).
fn four() -> App {
    use crate::event::{AnomalyKind, EndHow, EventKind};
    use crate::tui::testdata::{anomaly, end};
    let mut events = Vec::new();
    /// (id, client port, uri, payloads, end, anomalies).
    type Spec = (
        u64,
        u16,
        &'static str,
        &'static [&'static [u8]],
        Option<EndHow>,
        usize,
    );
    let conns: [Spec; 4] = [
        (1, 50004, "/d", &[b"12345"], Some(EndHow::Fin), 0),
        (2, 50003, "/a", &[b"1", b"1", b"1"], None, 2),
        (3, 50001, "/c", &[b"1234", b"12345"], Some(EndHow::Rst), 1),
        (4, 50002, "/b", &[b"", b"", b"", b"1"], Some(EndHow::Eof), 0),
    ];
    for (id, port, uri, msgs, how, anomalies) in conns {
        let secs = id as i64;
        let mut evs = vec![open(id, secs)];
        if let EventKind::Open(info) = &mut evs[0].kind {
            info.uri = Some(uri.into());
        }
        for m in msgs {
            evs.push(message(id, secs, Dir::C2s, Opcode::Text, m));
        }
        for _ in 0..anomalies {
            evs.push(anomaly(Some(id), secs, AnomalyKind::TcpGap, "gap"));
        }
        if let Some(how) = how {
            evs.push(end(id, secs, how));
        }
        for ev in &mut evs {
            if let Some(c) = &mut ev.conn {
                c.client.set_port(port);
            }
        }
        events.extend(evs);
    }
    let mut app = App::new(Model::new(1 << 20), "four.pcap");
    app.push_events(events);
    app.settle();
    app
}

/// Connection numbers in listed order.
fn listed_conns(app: &App) -> Vec<u64> {
    (1..=app.order.len())
        .filter_map(|pos| app.conn_at(pos))
        .filter_map(|i| app.model.conns.get(i))
        .map(|c| c.id)
        .collect()
}

#[test]
fn s_cycles_the_sort_column_and_shift_s_reverses() {
    let mut app = four();
    app.focus = Pane::Conns;
    assert_eq!(listed_conns(&app), vec![1, 2, 3, 4]);
    let mut seen = Vec::new();
    for _ in 0..7 {
        press(&mut app, "s");
        seen.push((app.sort, listed_conns(&app)));
    }
    assert_eq!(
        seen,
        vec![
            (SortKey::Endpoints, vec![3, 4, 2, 1]),
            (SortKey::Uri, vec![2, 4, 3, 1]),
            (SortKey::Messages, vec![1, 3, 2, 4]),
            (SortKey::Bytes, vec![4, 2, 1, 3]),
            // eof, fin, open, rst
            (SortKey::State, vec![4, 1, 2, 3]),
            // Ties in number order.
            (SortKey::Anomalies, vec![1, 4, 3, 2]),
            (SortKey::Id, vec![1, 2, 3, 4]),
        ]
    );
    press(&mut app, "S");
    assert_eq!((app.sort, app.sort_desc), (SortKey::Id, true));
    assert_eq!(listed_conns(&app), vec![4, 3, 2, 1]);
    assert_eq!(
        app.notice,
        Some(("connections sorted by # ▼".to_string(), false))
    );
    press(&mut app, "sssss");
    // Reversed, ties too.
    assert_eq!(
        (app.sort, listed_conns(&app)),
        (SortKey::State, vec![3, 2, 1, 4])
    );
    press(&mut app, "S");
    assert_eq!(listed_conns(&app), vec![4, 1, 2, 3]);
}

#[test]
fn the_selection_follows_its_connection_through_sorts_and_new_figures() {
    let mut app = four();
    app.focus = Pane::Conns;
    press(&mut app, "jjj");
    app.settle();
    assert_eq!((app.conn_sel, app.selected_conn()), (3, Some(3)));
    let rows = app.view.clone();
    assert_eq!(rows.len(), 3);
    // By bytes, largest first: 3 (9 bytes) comes first, still selected, its messages listed.
    press(&mut app, "ssssS");
    app.settle();
    assert_eq!(listed_conns(&app), vec![3, 1, 2, 4]);
    assert_eq!((app.conn_sel, app.selected_conn()), (1, Some(3)));
    assert_eq!(app.view, rows);
    // Connection 4 gets bigger than all: the list is sorted again, 3 stays selected.
    app.push_events([message(4, 9, Dir::S2c, Opcode::Binary, &[0; 64])]);
    app.settle();
    assert_eq!(listed_conns(&app), vec![4, 3, 1, 2]);
    assert_eq!((app.conn_sel, app.selected_conn()), (2, Some(3)));
    // A new connection is placed by the sort too; moving the selection still works.
    app.push_events([
        open(5, 10),
        message(5, 10, Dir::C2s, Opcode::Text, b"abcdefgh"),
    ]);
    app.settle();
    assert_eq!(listed_conns(&app), vec![4, 3, 5, 1, 2]);
    assert_eq!(app.selected_conn(), Some(3));
    press(&mut app, "j");
    assert_eq!(app.selected_conn(), Some(5));
    press(&mut app, "G");
    assert_eq!(app.selected_conn(), Some(2));
}

#[test]
fn new_connections_in_number_order_are_listed_last_without_sorting() {
    let mut app = four();
    // Just sorted: a sort is not due for a while.
    app.sorted_at.1 = Some(std::time::Instant::now());
    app.push_events([open(7, 20), open(6, 21)]);
    // 7 goes last at once; 6 arrived out of number order and waits for the next sort.
    assert_eq!(listed_conns(&app), vec![1, 2, 3, 4, 7, 6]);
    app.settle();
    assert_eq!(listed_conns(&app), vec![1, 2, 3, 4, 6, 7]);
}

#[test]
fn i_opens_the_connection_page_and_esc_goes_back() {
    let mut app = four();
    app.focus = Pane::Conns;
    press(&mut app, "i");
    assert_eq!(app.page, None);
    assert_eq!(
        app.notice,
        Some(("select a connection for its page".to_string(), true))
    );
    press(&mut app, "jji");
    assert_eq!(app.page, Some(2));
    // On the page the keys scroll it (bounded by its last drawing) and leave the lists be.
    app.page_len = 30;
    app.page_height = 10;
    press(&mut app, "jjj");
    assert_eq!((app.page_scroll, app.conn_sel), (3, 2));
    press(&mut app, "G");
    assert_eq!(app.page_scroll, 20);
    press(&mut app, "k");
    assert_eq!(app.page_scroll, 19);
    // The wheel scrolls the page wherever it points; a click does nothing.
    use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let at = |kind| MouseEvent {
        kind,
        column: 3,
        row: 3,
        modifiers: KeyModifiers::NONE,
    };
    app.mouse(at(MouseEventKind::ScrollUp));
    assert_eq!(app.page_scroll, 16);
    app.mouse(at(MouseEventKind::Down(MouseButton::Left)));
    assert_eq!((app.page, app.page_scroll, app.conn_sel), (Some(2), 16, 2));
    press(&mut app, "/s");
    assert_eq!((app.input.is_none(), app.sort), (true, SortKey::Id));
    code(&mut app, KeyCode::Esc);
    assert_eq!((app.page, app.focus, app.conn_sel), (None, Pane::Conns, 2));
    // From the messages pane with all connections listed: the selected message's.
    press(&mut app, "g");
    app.settle();
    app.focus = Pane::Msgs;
    press(&mut app, "Gi");
    assert_eq!(app.page, Some(4));
    assert_eq!(press(&mut app, "e"), None);
    assert_eq!(
        app.input.as_ref().map(|i| (&i.prompt, i.text.as_str())),
        Some((&Prompt::Export { conn: 4 }, "wsnoop-conn-4.jsonl"))
    );
    code(&mut app, KeyCode::Esc);
    assert_eq!((app.input.is_none(), app.page), (true, Some(4)));
    press(&mut app, "i");
    assert_eq!(app.page, None);
    press(&mut app, "iq");
    assert!(app.quit);
}

#[test]
fn c_copies_the_selected_payload_as_an_effect() {
    let mut app = app();
    assert_eq!(
        press(&mut app, "c"),
        Some(Effect::Copy {
            text: br#"{"type":"subscribe","channel":"ticker","ids":[1,2,3],"snapshot":true}"#
                .to_vec(),
            notice: "copied 69 bytes to the clipboard".into(),
        })
    );
    // The binary message: hex pairs.
    let Some(Effect::Copy { text, notice }) = press(&mut app, "jjjc") else {
        panic!("no copy");
    };
    assert_eq!(
        String::from_utf8(text).unwrap(),
        "00 01 02 03 62 69 6e 61 72 79 ff fe 80 70 61 79 6c 6f 61 64 20 77 69 74 68 20 62 79 74 65 73"
    );
    assert_eq!(notice, "copied 31 bytes as hex to the clipboard");
}
