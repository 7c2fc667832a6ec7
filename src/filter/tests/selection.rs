//! The selection stage: `open` held until something of its connection is selected, `end`
//! iff the `open` was printed, `--all-events`, the anomaly rule, and the deferred form used
//! by `read --threads N` giving exactly the same lines.

use crate::event::{
    Anomaly, AnomalyKind, ConnId, ConnRef, Dir, EndHow, Event, EventKind, Message, Opcode,
    OpenInfo, Timestamp,
};
use crate::filter::{ClassSet, DeferredSelection, Filter, Marked, Selection};

use super::tr;

fn conn(id: ConnId) -> ConnRef {
    ConnRef {
        id,
        client: format!("10.0.{}.{}:5000", id / 256, id % 256)
            .parse()
            .unwrap(),
        server: "10.0.0.100:8765".parse().unwrap(),
        stream: None,
    }
}

fn ts(t: i64) -> Timestamp {
    Timestamp::new(t, 0)
}

fn open(id: ConnId, uri: Option<&str>) -> Event {
    Event {
        ts: ts(id as i64),
        conn: Some(conn(id)),
        kind: EventKind::Open(Box::new(OpenInfo {
            uri: uri.map(str::to_owned),
            mid_stream: uri.is_none(),
            ..OpenInfo::default()
        })),
    }
}

fn msg(id: ConnId, dir: Dir, text: &str) -> Event {
    Event {
        ts: ts(100),
        conn: Some(conn(id)),
        kind: EventKind::Message {
            dir,
            msg: Message {
                opcode: Opcode::Text,
                payload: text.as_bytes().to_vec(),
                frames: 1,
                compressed: false,
                wire_len: text.len() as u64,
                utf8_valid: true,
                frame_detail: Vec::new(),
                packets: None,
                truncated: false,
            },
        },
    }
}

fn anomaly(id: ConnId, kind: AnomalyKind) -> Event {
    Event {
        ts: ts(200),
        conn: Some(conn(id)),
        kind: EventKind::Anomaly {
            dir: Some(Dir::S2c),
            anomaly: Anomaly::new(kind, "3 bytes lost"),
        },
    }
}

/// Its health: connection N has a median RTT of N ms (none for multiples of 4) and closed
/// clean, abnormal or half-closed by N mod 3.
fn end(id: ConnId) -> Event {
    use crate::health::{CloseReport, HealthReport, RttStats, Verdict};
    let ms = id * 1000;
    let rtt = (!id.is_multiple_of(4)).then_some(RttStats {
        min: ms,
        median: ms,
        p99: ms,
        max: ms,
        count: 1,
    });
    let verdict = [Verdict::Clean, Verdict::Abnormal, Verdict::HalfClosed][(id % 3) as usize];
    let health = HealthReport {
        rtt_us: [rtt, None],
        close: CloseReport {
            initiator: None,
            code: None,
            reason: None,
            answered: false,
            close_to_answer_us: None,
            tcp_end: None,
            close_to_tcp_end_us: None,
            verdict,
        },
        longest_silence_us: [0, 0],
    };
    Event {
        ts: ts(300),
        conn: Some(conn(id)),
        kind: EventKind::End {
            how: EndHow::Fin,
            messages: 0,
            bytes: 0,
            report: Some(Box::new(crate::event::EndReport {
                health,
                unanswered: Vec::new(),
            })),
        },
    }
}

fn input_anomaly() -> Event {
    Event::input_anomaly(ts(1), AnomalyKind::CorruptCapture, "bad record", None)
}

fn transport_anomaly() -> Event {
    let t = tr("172.16.0.1:1234", "172.16.0.2:443", None);
    Event {
        ts: ts(2),
        conn: None,
        kind: EventKind::Anomaly {
            dir: None,
            anomaly: Anomaly::new(AnomalyKind::named("tls_no_keys"), "no keys").on_transport(t),
        },
    }
}

/// Two connections interleaved, then events without a connection.
fn stream() -> Vec<Event> {
    vec![
        open(1, Some("/chat")),
        open(2, None),
        msg(2, Dir::C2s, "other"),
        msg(1, Dir::C2s, "hello"),
        anomaly(2, AnomalyKind::TcpGap),
        msg(1, Dir::S2c, "bye"),
        msg(2, Dir::S2c, "hello too"),
        end(2),
        input_anomaly(),
        transport_anomaly(),
        msg(1, Dir::C2s, "again"),
        end(1),
    ]
}

/// Short names of the events a filter lets through, in order.
fn run(filter: &str, all_events: bool, events: Vec<Event>) -> Vec<String> {
    let mut sel = Selection::new(Filter::parse(filter).unwrap(), all_events);
    let mut out = Vec::new();
    for ev in events {
        sel.push(ev, &mut out);
    }
    sel.finish(&mut out);
    assert_eq!(sel.tracked(), 0);
    out.iter().map(name).collect()
}

fn name(ev: &Event) -> String {
    let c = ev.conn.map_or("-".to_string(), |c| c.id.to_string());
    match &ev.kind {
        EventKind::Open(_) => format!("open {c}"),
        EventKind::End { .. } => format!("end {c}"),
        EventKind::Message { msg, .. } => {
            format!("{c} {}", String::from_utf8_lossy(&msg.payload))
        }
        EventKind::Anomaly { anomaly, .. } => format!("{c} !{}", anomaly.kind.as_str()),
        EventKind::Proto(unit) => format!("{c} {} {}", unit.proto, unit.kind),
        EventKind::Silence { ended, .. } => format!("silence {c} {ended}"),
        EventKind::Refused(r) => format!("refused {}", r.handshake.status),
    }
}

#[test]
fn empty_filter_passes_everything_through() {
    let all: Vec<String> = stream().iter().map(name).collect();
    assert_eq!(run("", false, stream()), all);
    assert_eq!(run("", true, stream()), all);
}

#[test]
fn open_is_held_until_the_first_selected_message() {
    assert_eq!(run("bye", false, stream()), ["open 1", "1 bye", "end 1"]);
    assert_eq!(
        run("hello", false, stream()),
        [
            "open 1",
            "1 hello",
            "open 2",
            "2 hello too",
            "end 2",
            "end 1"
        ]
    );
}

#[test]
fn a_connection_with_nothing_selected_prints_nothing() {
    assert_eq!(
        run("conn-42-unique-nothing", false, stream()),
        Vec::<String>::new()
    );
    assert_eq!(
        run("dir:c2s conn:1", false, stream()),
        ["open 1", "1 hello", "1 again", "end 1"]
    );
}

#[test]
fn all_events_prints_every_open_and_end_in_place() {
    assert_eq!(
        run("bye", true, stream()),
        ["open 1", "open 2", "1 bye", "end 2", "end 1"]
    );
    assert_eq!(
        run("nothing-at-all", true, stream()),
        ["open 1", "open 2", "end 2", "end 1"]
    );
}

#[test]
fn anomalies_follow_the_anomaly_rule() {
    // `lost` is in the anomalies' detail, but a filter without `anomaly` selects messages.
    assert_eq!(run("lost", false, stream()), Vec::<String>::new());
    assert_eq!(
        run("anomaly", false, stream()),
        [
            "open 2",
            "2 !tcp_gap",
            "end 2",
            "- !corrupt_capture",
            "- !tls_no_keys"
        ]
    );
    assert_eq!(
        run("anomaly:tcp_gap or bye", false, stream()),
        ["open 2", "2 !tcp_gap", "open 1", "1 bye", "end 2", "end 1"]
    );
    assert_eq!(
        run("not anomaly conn:2", false, stream()),
        ["open 2", "2 other", "2 hello too", "end 2"]
    );
}

#[test]
fn events_without_a_connection() {
    // About the input: only an anomaly term selects them; connection terms do not hold.
    assert_eq!(
        run("anomaly:corrupt_capture", false, stream()),
        ["- !corrupt_capture"]
    );
    assert_eq!(
        run("anomaly conn:5-9", false, stream()),
        Vec::<String>::new()
    );
    assert_eq!(run("anomaly uri:/", false, stream()), Vec::<String>::new());
    // About a transport connection: its endpoints are there for host/port terms.
    assert_eq!(
        run("anomaly host:172.16.0.2", false, stream()),
        ["- !tls_no_keys"]
    );
    assert_eq!(run("anomaly port:443", false, stream()), ["- !tls_no_keys"]);
    assert_eq!(
        run("anomaly client:172.16.0.1:1234", false, stream()),
        ["- !tls_no_keys"]
    );
    assert_eq!(
        run("anomaly host:10.9.9.9", false, stream()),
        Vec::<String>::new()
    );
    assert_eq!(run("port:443", false, stream()), Vec::<String>::new());
}

#[test]
fn uri_and_endpoints_come_from_the_connection() {
    assert_eq!(
        run("uri:CHAT", false, stream()),
        ["open 1", "1 hello", "1 bye", "1 again", "end 1"]
    );
    // Connection 2 was picked up mid-stream: no URI.
    assert_eq!(
        run("not uri:chat", false, stream()),
        ["open 2", "2 other", "2 hello too", "end 2"]
    );
    assert_eq!(
        run("client:10.0.0.2 hello", false, stream()),
        ["open 2", "2 hello too", "end 2"]
    );
    assert_eq!(
        run("server:10.0.0.100:8765 again", false, stream()),
        ["open 1", "1 again", "end 1"]
    );
}

#[test]
fn a_connection_whose_open_was_not_seen() {
    // A stage started after the open (nothing held): messages as selected, the end too.
    let events = vec![msg(5, Dir::C2s, "late"), msg(5, Dir::C2s, "other"), end(5)];
    assert_eq!(run("late", false, events.clone()), ["5 late", "end 5"]);
    assert_eq!(run("nope", false, events.clone()), Vec::<String>::new());
    assert_eq!(run("nope", true, events), ["end 5"]);
}

#[test]
fn memory_is_released_at_end() {
    let mut sel = Selection::new(Filter::parse("hello").unwrap(), false);
    let mut out = Vec::new();
    for id in 1..=1000 {
        sel.push(open(id, Some("/x")), &mut out);
    }
    assert_eq!(sel.tracked(), 1000);
    assert!(out.is_empty());
    for id in 1..=1000 {
        sel.push(end(id), &mut out);
    }
    assert_eq!(sel.tracked(), 0);
    assert!(out.is_empty());
}

#[test]
fn the_held_open_is_the_original() {
    let mut sel = Selection::new(Filter::parse("hello").unwrap(), false);
    let mut out = Vec::new();
    let o = open(1, Some("/chat?a=1"));
    sel.push(o.clone(), &mut out);
    sel.push(msg(1, Dir::C2s, "hello"), &mut out);
    assert_eq!(out.first(), Some(&o));
    assert_eq!(out.len(), 2);
}

/// What the merger does with a worker's marked lines, given the final numbers: keep what is
/// marked for the final number's class, number the rest.
fn merge(filter: &Filter, marked: Vec<Marked>, final_id: impl Fn(ConnId) -> ConnId) -> Vec<Event> {
    let mut out = Vec::new();
    for m in marked {
        let mut ev = m.event;
        match &mut ev.conn {
            None => {
                assert_eq!(m.classes, ClassSet::ALL);
                out.push(ev);
            }
            Some(c) => {
                c.id = final_id(c.id);
                if m.classes.contains(filter.conn_class(c.id)) {
                    out.push(ev);
                }
            }
        }
    }
    out
}

fn renumber(events: &[Event], f: impl Fn(ConnId) -> ConnId) -> Vec<Event> {
    events
        .iter()
        .cloned()
        .map(|mut e| {
            if let Some(c) = &mut e.conn {
                c.id = f(c.id);
            }
            e
        })
        .collect()
}

/// Many connections, interleaved.
fn busy() -> Vec<Event> {
    let mut events = Vec::new();
    for id in 1..=12 {
        events.push(open(id, (id % 3 != 0).then_some("/chat")));
    }
    for round in 0..4 {
        for id in 1..=12u64 {
            let text = ["hello", "bye", "ping me", "other"][((id + round) % 4) as usize];
            let dir = if (id + round) % 2 == 0 {
                Dir::C2s
            } else {
                Dir::S2c
            };
            events.push(msg(id, dir, text));
            if (id * 7 + round) % 11 == 0 {
                events.push(anomaly(id, AnomalyKind::TcpGap));
            }
        }
        if round == 1 {
            events.push(input_anomaly());
        }
    }
    for id in (1..=12).rev() {
        events.push(end(id));
    }
    events
}

pub const FILTERS: [&str; 18] = [
    "",
    "hello",
    "conn:2",
    "conn:3-5 or bye",
    "not conn:4 and dir:c2s",
    "(conn:1 and hello) or (conn:7-9 and bye) or anomaly",
    "conn:0-2 or conn:11 or conn:20",
    "anomaly and not conn:5",
    "not (conn:6 or conn:8) uri:chat",
    "conn:12 or ping",
    "anomaly:tcp_gap conn:1-6",
    "other !conn:3",
    "conn:1 conn:2",
    "not conn:1-1000",
    "close:abnormal",
    "rtt>5ms or conn:2",
    "close:clean conn:3-7 or hello",
    "(rtt<=6ms not conn:2) or (anomaly conn:4-9)",
];

#[test]
fn deferred_selection_prints_what_the_final_numbers_select() {
    // Workers number 1..=12; the final numbers are these (any order).
    let finals = [0, 9, 2, 11, 4, 7, 1, 12, 3, 6, 5, 8, 10];
    let to_final = |local: ConnId| finals[local as usize] as ConnId;
    for src in FILTERS {
        for all_events in [false, true] {
            let filter = Filter::parse(src).unwrap();
            let mut deferred = DeferredSelection::new(filter.clone(), all_events);
            let mut marked = Vec::new();
            for ev in busy() {
                deferred.push(ev, &mut marked);
            }
            deferred.finish(&mut marked);
            assert_eq!(deferred.tracked(), 0);
            // Every open and end comes out (numbering needs them), each open once unreplayed.
            let opens = marked
                .iter()
                .filter(|m| matches!(m.event.kind, EventKind::Open(_)) && !m.replay)
                .count();
            assert_eq!(opens, 12, "{src}");
            let got = merge(&filter, marked, to_final);

            let mut known = Selection::new(filter, all_events);
            let mut want = Vec::new();
            for ev in renumber(&busy(), to_final) {
                known.push(ev, &mut want);
            }
            assert_eq!(
                got.iter().map(name).collect::<Vec<_>>(),
                want.iter().map(name).collect::<Vec<_>>(),
                "{src:?} all_events={all_events}"
            );
            assert_eq!(got, want, "{src:?}");
        }
    }
}

#[test]
fn conn_classes() {
    let f = Filter::parse("conn:3 or conn:5-7").unwrap();
    assert!(f.has_conn_terms());
    let classes: Vec<_> = (0..10).map(|id| f.conn_class(id)).collect();
    // ..3 | 3 | 4 | 5..=7 | 8..
    assert_eq!(classes[1], classes[2]);
    assert_ne!(classes[2], classes[3]);
    assert_ne!(classes[3], classes[4]);
    assert_ne!(classes[4], classes[5]);
    assert_eq!(classes[5], classes[7]);
    assert_ne!(classes[7], classes[8]);
    assert_eq!(classes[8], classes[9]);
    assert!(!Filter::parse("hello").unwrap().has_conn_terms());
    // A boundary at 0 (conn:0) leaves no class below it.
    let f = Filter::parse("conn:0").unwrap();
    assert_ne!(f.conn_class(0), f.conn_class(1));
    let f = Filter::parse(&format!("conn:{}", u64::MAX)).unwrap();
    assert_ne!(f.conn_class(u64::MAX), f.conn_class(u64::MAX - 1));
}
