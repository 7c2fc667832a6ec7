use ratatui::crossterm::event::{KeyCode, KeyEvent};
use serde_json::json;

use super::*;
use crate::event::{
    Anomaly, AnomalyKind, ConnRef, Dir, EndHow, EndReport, Event, EventKind, Opcode, Timestamp,
};
use crate::filter::Filter;
use crate::health::{CloseReport, HealthReport, Verdict};
use crate::proto::Unanswered;
use crate::tui::testdata::{end, message_at, open};

fn at(ms: u32) -> Timestamp {
    Timestamp::new(1_700_000_000, ms * 1_000_000)
}

fn conn(id: u64) -> ConnRef {
    ConnRef {
        id,
        client: std::net::SocketAddr::from(([10, 0, 0, 1], 50_000 + id as u16)),
        server: std::net::SocketAddr::from(([10, 0, 0, 2], 8080)),
        stream: None,
    }
}

fn unit(dir: Dir, ms: u32, kind: &str, summary: &str) -> Unit {
    let mut u = Unit::new(dir, at(ms), "mqtt", kind);
    u.summary = summary.into();
    u
}

fn proto(id: u64, u: Unit) -> Event {
    Event {
        ts: u.ts,
        conn: Some(conn(id)),
        kind: EventKind::Proto(Box::new(u)),
    }
}

fn msg(id: u64, ms: u32, dir: Dir) -> Event {
    message_at(id, at(ms), dir, Opcode::Binary, b"\x30\x0a")
}

fn publish(dir: Dir, ms: u32, topic: &str, id: u64) -> Unit {
    let mut u = unit(dir, ms, "PUBLISH", &format!("PUBLISH {topic} q1 #{id}"));
    u.set("topic", topic);
    u.set("packet_id", id);
    u.set("payload", "21.5");
    u
}

fn puback(ms: u32, request_ms: u32, id: u64) -> Unit {
    let mut u = unit(Dir::S2c, ms, "PUBACK", &format!("PUBACK #{id}"));
    u.set("packet_id", id);
    u.answers(at(request_ms));
    u
}

fn ended(id: u64, ms: u32, unanswered: Vec<Unanswered>) -> Event {
    let mut e = end(id, 0, EndHow::Fin);
    e.ts = at(ms);
    if let EventKind::End { report, .. } = &mut e.kind {
        *report = Some(Box::new(EndReport {
            health: HealthReport {
                rtt_us: [None, None],
                close: CloseReport {
                    initiator: None,
                    code: None,
                    reason: None,
                    answered: false,
                    close_to_answer_us: None,
                    tcp_end: None,
                    close_to_tcp_end_us: None,
                    verdict: Verdict::Abnormal,
                },
                longest_silence_us: [0, 0],
            },
            unanswered,
        }));
    }
    e
}

/// An MQTT-like connection 1: a message without units (row 0), two PUBLISH packed in one
/// message (row 1), a PUBACK for the first (row 2), a PUBLISH never answered (row 3), a
/// malformed PINGREQ (row 4); connection 2 has a unit without a message (row 5).
fn events() -> Vec<Event> {
    let mut ping = unit(Dir::C2s, 40, "PINGREQ", "PINGREQ");
    ping.malformed("mqtt c2s message 4: remaining length 3 for PINGREQ".into());
    vec![
        open(1, 0),
        msg(1, 0, Dir::C2s),
        msg(1, 10, Dir::C2s),
        proto(1, publish(Dir::C2s, 10, "plant/7/temp", 12)),
        proto(1, publish(Dir::C2s, 10, "plant/8/hum", 13)),
        msg(1, 14, Dir::S2c),
        proto(1, puback(14, 10, 12)),
        msg(1, 30, Dir::C2s),
        proto(1, publish(Dir::C2s, 30, "plant/9/temp", 14)),
        msg(1, 40, Dir::C2s),
        proto(1, ping),
        proto(2, unit(Dir::S2c, 50, "CONNACK", "CONNACK accepted")),
        ended(
            1,
            60,
            vec![Unanswered {
                dir: Dir::C2s,
                ts: at(30),
                proto: "mqtt",
                kind: "PUBLISH".into(),
                id: json!(14),
                summary: "PUBLISH plant/9/temp q1 #14".into(),
            }],
        ),
    ]
}

fn model() -> Model {
    let mut m = Model::new(1 << 20);
    for e in events() {
        m.push(e);
    }
    m
}

/// Per row: the summaries of its units, `?` after an unanswered one.
fn units_by_row(m: &Model) -> Vec<Vec<String>> {
    m.rows
        .iter()
        .map(|r| {
            r.units()
                .iter()
                .map(|u| format!("{}{}", u.unit.summary, if u.unanswered { "?" } else { "" }))
                .collect()
        })
        .collect()
}

#[test]
fn units_sit_in_the_row_of_the_message_that_completed_them() {
    let m = model();
    assert_eq!(
        units_by_row(&m),
        vec![
            vec![],
            vec!["PUBLISH plant/7/temp q1 #12", "PUBLISH plant/8/hum q1 #13"],
            vec!["PUBACK #12"],
            vec!["PUBLISH plant/9/temp q1 #14?"],
            vec!["PINGREQ"],
            vec!["CONNACK accepted"],
        ]
    );
    assert!(matches!(m.rows[5].kind, RowKind::Unit(_)));
    assert_eq!(m.rows[5].conn, Some(2));
    assert_eq!(m.rows[5].dir, Some(Dir::S2c));
    assert_eq!(m.conn(1).map(|c| c.rows.clone()), Some(vec![0, 1, 2, 3, 4]));
    assert_eq!(m.conn(2).map(|c| c.rows.clone()), Some(vec![5]));
    // Units are not messages.
    assert_eq!((m.messages, m.units, m.units_trimmed), (5, 6, 0));
}

#[test]
fn the_end_marks_only_the_listed_requests_unanswered() {
    let m = model();
    let flags: Vec<(String, bool)> = m
        .rows
        .iter()
        .flat_map(Row::units)
        .map(|u| (u.unit.summary.clone(), u.unanswered))
        .collect();
    assert_eq!(
        flags,
        vec![
            ("PUBLISH plant/7/temp q1 #12".to_string(), false),
            ("PUBLISH plant/8/hum q1 #13".to_string(), false),
            ("PUBACK #12".to_string(), false),
            ("PUBLISH plant/9/temp q1 #14".to_string(), true),
            ("PINGREQ".to_string(), false),
            ("CONNACK accepted".to_string(), false),
        ]
    );
}

#[test]
fn past_the_budget_units_keep_their_small_fields_only() {
    let big = "x".repeat(500);
    let mut first = publish(Dir::C2s, 1, "a/b", 1);
    first.set("properties", json!({"user": big.clone()}));
    let mut second = publish(Dir::C2s, 2, "a/c", 2);
    second.set("properties", json!({"user": big}));
    // Room for the first unit whole, not for the second.
    let budget = 2 + cost(&first) + 100;
    let mut m = Model::new(budget);
    m.push(msg(1, 1, Dir::C2s));
    m.push(proto(1, first.clone()));
    m.push(msg(1, 2, Dir::C2s));
    m.push(proto(1, second));
    let kept: Vec<(Vec<String>, bool)> = m
        .rows
        .iter()
        .flat_map(Row::units)
        .map(|u| (u.unit.fields.keys().cloned().collect(), u.trimmed))
        .collect();
    assert_eq!(
        kept,
        vec![
            (
                vec![
                    "topic".into(),
                    "packet_id".into(),
                    "payload".into(),
                    "properties".into()
                ],
                false
            ),
            (
                vec!["topic".into(), "packet_id".into(), "payload".into()],
                true
            ),
        ]
    );
    assert_eq!(m.rows[0].units()[0].unit, first);
    assert_eq!(m.rows[1].units()[0].unit.summary, "PUBLISH a/c q1 #2");
    assert_eq!((m.units, m.units_trimmed), (2, 1));
}

#[test]
fn costs_count_the_fields_text() {
    let mut u = unit(Dir::C2s, 0, "SEND", "SEND /q");
    let bare = cost(&u);
    assert_eq!(bare, std::mem::size_of::<Unit>() as u64 + 7 + 4);
    u.set("destination", "/q");
    // "destination" (11) + the string "/q" written as JSON (4).
    assert_eq!(cost(&u), bare + 15);
    u.set("headers", json!({"a": [1, "bc"]}));
    // "headers" 7 + {} 2 + "a" 1 + 4 + [] 2 + (8 + 1) + (4 + 1).
    assert_eq!(cost(&u), bare + 15 + 7 + 2 + 1 + 4 + 2 + 9 + 5);
}

fn app() -> App {
    let mut app = App::new(model(), "test.pcap");
    app.settle();
    app
}

fn key(app: &mut App, c: char) {
    app.key(KeyEvent::from(KeyCode::Char(c)));
    app.settle();
}

#[test]
fn r_jumps_from_a_request_to_its_reply_and_back() {
    let mut app = app();
    app.msg_sel = 1;
    key(&mut app, 'r');
    assert_eq!(app.selected_row(), Some(2));
    assert_eq!(app.notice, Some(("reply, 4.0 ms later".into(), false)));
    key(&mut app, 'r');
    assert_eq!(app.selected_row(), Some(1));
    assert_eq!(app.notice, Some(("request, 4.0 ms earlier".into(), false)));
}

#[test]
fn r_says_when_there_is_nothing_to_jump_to() {
    let mut app = app();
    // A request never answered.
    app.msg_sel = 3;
    key(&mut app, 'r');
    assert_eq!(app.selected_row(), Some(3));
    assert_eq!(
        app.notice,
        Some((
            "nothing to jump to: no request or reply paired with this row".into(),
            true
        ))
    );
    // A message without units.
    app.msg_sel = 0;
    key(&mut app, 'r');
    assert_eq!(app.selected_row(), Some(0));
    assert_eq!(
        app.notice,
        Some(("no protocol unit here: nothing to pair".into(), true))
    );
}

#[test]
fn r_says_when_the_partner_is_filtered_out() {
    let mut app = app();
    app.set_filter(Filter::parse("type:PUBACK").expect("filter"));
    app.settle();
    assert_eq!(app.view, vec![2]);
    key(&mut app, 'r');
    assert_eq!(app.selected_row(), Some(2));
    assert_eq!(
        app.notice,
        Some((
            "the request (message 2) is not listed: filtered out".into(),
            true
        ))
    );
}

fn listed(app: &mut App, filter: &str) -> Vec<u32> {
    app.set_filter(Filter::parse(filter).expect("filter"));
    app.settle();
    app.view.clone()
}

#[test]
fn a_row_matches_when_its_message_or_one_of_its_units_does() {
    let mut app = app();
    assert_eq!(listed(&mut app, "type:PUBLISH"), vec![1, 3]);
    assert_eq!(listed(&mut app, "type:publish dir:c2s"), vec![1, 3]);
    // The second unit of a packed message is enough.
    assert_eq!(listed(&mut app, "topic:plant/8/#"), vec![1]);
    assert_eq!(listed(&mut app, "topic:plant/+/temp"), vec![1, 3]);
    assert_eq!(listed(&mut app, "latency>3ms"), vec![2]);
    assert_eq!(listed(&mut app, "latency>5ms"), Vec::<u32>::new());
    assert_eq!(listed(&mut app, "unanswered"), vec![3]);
    // The unit without a message (connection 2) and the others of MQTT.
    assert_eq!(listed(&mut app, "proto:mqtt"), vec![1, 2, 3, 4, 5]);
    assert_eq!(listed(&mut app, "proto:mqtt conn:2"), vec![5]);
    // Text finds a unit by its summary.
    assert_eq!(listed(&mut app, "CONNACK"), vec![5]);
    assert_eq!(listed(&mut app, "\"#13\""), vec![1]);
    // A message's own terms still hold on the message.
    assert_eq!(listed(&mut app, "op:binary dir:s2c"), vec![2]);
}

/// With a protocol term in the filter, a message carrying units is decided by its units (the
/// raw message is never a `PINGREQ`, so under a `not` it would keep every row); a message
/// without units is decided by itself.
#[test]
fn a_negated_protocol_term_hides_the_rows_whose_units_it_names() {
    let mut app = app();
    assert_eq!(listed(&mut app, "!type:PINGREQ"), vec![0, 1, 2, 3, 5]);
    assert_eq!(listed(&mut app, "not proto:mqtt"), vec![0]);
    assert_eq!(listed(&mut app, "!type:PUBLISH and dir:c2s"), vec![0, 4]);
    // Packed: one unit of the row that is not a PUBLISH of plant/7 keeps it.
    assert_eq!(
        listed(&mut app, "!topic:plant/7/temp type:PUBLISH"),
        vec![1, 3]
    );
    // Without a protocol term, the message or a unit is enough, as before.
    assert_eq!(listed(&mut app, "!dir:s2c"), vec![0, 1, 3, 4]);
}

#[test]
fn malformed_units_are_kept_with_their_anomaly() {
    let m = model();
    let a = m.rows[4].units()[0].unit.anomaly.clone();
    assert_eq!(
        a,
        Some(Anomaly::new(
            AnomalyKind::ProtoError,
            "mqtt c2s message 4: remaining length 3 for PINGREQ"
        ))
    );
}

#[test]
fn a_reply_arriving_later_refreshes_the_requests_detail() {
    let all = events();
    // Up to the PUBLISH #12 and #13 (row 1), before the PUBACK.
    let mut app = App::new(Model::new(1 << 20), "live");
    app.push_events(all.iter().take(5).cloned());
    app.settle();
    app.detail_cache = Some((1, 80, Vec::new()));
    // A message of the same connection does not pair anything.
    app.push_events(all.get(5).cloned());
    assert!(app.detail_cache.is_some());
    // Its PUBACK does.
    app.push_events(all.get(6).cloned());
    assert!(app.detail_cache.is_none());
    // A unit of another connection does not.
    app.detail_cache = Some((1, 80, Vec::new()));
    app.push_events(all.get(11).cloned());
    assert!(app.detail_cache.is_some());
}
