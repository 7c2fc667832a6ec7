use super::*;
use crate::event::{Anomaly, ConnRef, Message, Timestamp};

fn msg<'a>(conn: u64, dir: Dir, opcode: Opcode, payload: &'a [u8]) -> Subject<'a> {
    Subject {
        conn: Some(conn),
        dir: Some(dir),
        item: Item::Message {
            opcode,
            len: payload.len() as u64,
            payload,
        },
    }
}

fn anomaly(conn: u64, kind: AnomalyKind, detail: &str) -> Subject<'_> {
    Subject {
        conn: Some(conn),
        dir: Some(Dir::S2c),
        item: Item::Anomaly { kind, detail },
    }
}

fn sample() -> Vec<Subject<'static>> {
    vec![
        msg(1, Dir::C2s, Opcode::Text, b"{\"type\":\"Hello\"}"),
        msg(1, Dir::S2c, Opcode::Text, b"hello back"),
        msg(2, Dir::C2s, Opcode::Binary, &[0, 1, 2, 0xff]),
        msg(2, Dir::S2c, Opcode::Ping, b""),
        msg(3, Dir::S2c, Opcode::Close, b"\x03\xe8bye"),
        msg(3, Dir::C2s, Opcode::Reserved(3), b"x"),
        anomaly(3, AnomalyKind::TcpGap, "12 bytes lost"),
    ]
}

/// Indices of the sample subjects the filter keeps.
fn keep(src: &str) -> Vec<usize> {
    let f = Filter::parse(src).unwrap();
    sample()
        .iter()
        .enumerate()
        .filter(|(_, s)| f.matches(s))
        .map(|(i, _)| i)
        .collect()
}

fn err(src: &str) -> String {
    Filter::parse(src).unwrap_err().0
}

#[test]
fn empty_keeps_everything() {
    assert_eq!(keep(""), vec![0, 1, 2, 3, 4, 5, 6]);
    assert_eq!(keep("   "), vec![0, 1, 2, 3, 4, 5, 6]);
    assert!(Filter::parse("  ").unwrap().is_empty());
}

#[test]
fn plain_text_is_case_insensitive_substring() {
    assert_eq!(keep("hello"), vec![0, 1]);
    assert_eq!(keep("HELLO back"), vec![1]);
    assert_eq!(keep("\"hello back\""), vec![1]);
    assert_eq!(keep("bye"), vec![4]);
    assert_eq!(keep("nothing-like-this"), Vec::<usize>::new());
}

#[test]
fn text_is_literal_not_regex() {
    assert_eq!(keep("h.llo"), Vec::<usize>::new());
    assert_eq!(keep("{\"type\""), vec![0]);
}

#[test]
fn regex_forms() {
    assert_eq!(keep("re:^h.llo"), vec![1]);
    assert_eq!(keep("/H[e]llo/"), vec![0]);
    assert_eq!(keep("/hello back/"), vec![1]);
    // Bytes regex: matches binary payloads too.
    assert_eq!(keep(r"re:(?-u)\xff"), vec![2]);
    assert_eq!(keep(r"/a\/b/"), Vec::<usize>::new());
}

#[test]
fn direction_opcode_connection() {
    assert_eq!(keep("dir:c2s"), vec![0, 2, 5]);
    assert_eq!(keep("dir:s2c"), vec![1, 3, 4]);
    assert_eq!(keep("op:text"), vec![0, 1]);
    assert_eq!(keep("op:binary"), vec![2]);
    assert_eq!(keep("op:ping"), vec![3]);
    assert_eq!(keep("op:pong"), Vec::<usize>::new());
    assert_eq!(keep("op:close"), vec![4]);
    assert_eq!(keep("op:reserved"), vec![5]);
    assert_eq!(keep("conn:2"), vec![2, 3]);
}

#[test]
fn lengths() {
    assert_eq!(keep("len>4"), vec![0, 1, 4]);
    assert_eq!(keep("len<1"), vec![3]);
    assert_eq!(keep("len=4"), vec![2]);
    assert_eq!(keep("len>=5"), vec![0, 1, 4]);
    assert_eq!(keep("len<=1"), vec![3, 5]);
    assert_eq!(keep("len<1K"), vec![0, 1, 2, 3, 4, 5]);
    assert_eq!(keep("len>1k"), Vec::<usize>::new());
}

#[test]
fn len_uses_the_full_length_not_the_kept_prefix() {
    let s = Subject {
        conn: Some(1),
        dir: Some(Dir::C2s),
        item: Item::Message {
            opcode: Opcode::Text,
            len: 5000,
            payload: b"abc",
        },
    };
    assert!(Filter::parse("len>4000 abc").unwrap().matches(&s));
}

#[test]
fn and_and_negation() {
    assert_eq!(keep("dir:c2s op:text"), vec![0]);
    assert_eq!(keep("!op:text"), vec![2, 3, 4, 5]);
    assert_eq!(keep("!hello dir:s2c"), vec![3, 4]);
    assert_eq!(keep("!\"hello back\" hello"), vec![0]);
    assert_eq!(keep("!/^h/ op:text"), vec![0]);
    assert_eq!(keep("!dir:c2s !dir:s2c"), Vec::<usize>::new());
}

#[test]
fn anomalies_only_when_asked_for() {
    assert_eq!(keep("anomaly"), vec![6]);
    assert_eq!(keep("anomaly conn:3"), vec![6]);
    assert_eq!(keep("anomaly:tcp_gap"), vec![6]);
    assert_eq!(keep("anomaly:tcp_conflict"), Vec::<usize>::new());
    assert_eq!(keep("anomaly lost"), vec![6]);
    assert_eq!(keep("anomaly gap"), vec![6]);
    assert_eq!(keep("anomaly op:text"), Vec::<usize>::new());
    assert_eq!(keep("!anomaly"), vec![0, 1, 2, 3, 4, 5]);
    // A text filter alone does not pull anomalies in.
    assert_eq!(keep("lost"), Vec::<usize>::new());
}

#[test]
fn unknown_prefixes_are_plain_text() {
    let f = Filter::parse("http://x len").unwrap();
    let s = msg(1, Dir::C2s, Opcode::Text, b"see HTTP://X/ for length");
    assert!(f.matches(&s));
}

#[test]
fn errors_are_one_clear_line() {
    assert_eq!(err("dir:up"), "dir:up: expected dir:c2s or dir:s2c");
    assert_eq!(
        err("op:foo"),
        "op:foo: expected op:text, binary, ping, pong, close or reserved"
    );
    assert_eq!(
        err("conn:x"),
        "conn:x: expected a connection number, e.g. conn:3"
    );
    assert_eq!(
        err("len>lots"),
        "len>lots: expected a byte count, e.g. len>1000 or len<4K"
    );
    assert_eq!(
        err("len>"),
        "len>: expected a byte count, e.g. len>1000 or len<4K"
    );
    assert_eq!(
        err("len>99999999999G"),
        "len>99999999999G: expected a byte count, e.g. len>1000 or len<4K"
    );
    assert_eq!(err("!"), "'!' must be followed by a term, e.g. !op:ping");
    assert_eq!(err("\"open"), "unclosed \" in filter: add a closing \"");
    assert_eq!(err("/open"), "unclosed / in filter: add a closing /");
    assert_eq!(err("re:"), "empty regex: write re:PATTERN or /PATTERN/");
    assert_eq!(err("anomaly:nope"), "anomaly:nope: unknown anomaly kind");
    let e = err("re:(unclosed");
    assert!(!e.contains('\n'));
    assert_eq!(e, "regex /(unclosed/: unclosed group");
}

#[test]
fn events_for_read() {
    let conn = |id| {
        Some(ConnRef {
            id,
            client: "10.0.0.1:5000".parse().unwrap(),
            server: "10.0.0.2:80".parse().unwrap(),
            stream: None,
        })
    };
    let ts = Timestamp::new(1, 0);
    let message = Event {
        ts,
        conn: conn(1),
        kind: EventKind::Message {
            dir: Dir::C2s,
            msg: Message {
                opcode: Opcode::Text,
                payload: b"ping me".to_vec(),
                frames: 1,
                compressed: false,
                wire_len: 7,
                utf8_valid: true,
                frame_detail: Vec::new(),
            },
        },
    };
    let gap = Event {
        ts,
        conn: conn(1),
        kind: EventKind::Anomaly {
            dir: None,
            anomaly: Anomaly::new(AnomalyKind::TcpGap, "3 bytes"),
        },
    };
    let end = |id| Event {
        ts,
        conn: conn(id),
        kind: EventKind::End {
            how: crate::event::EndHow::Fin,
            messages: 0,
            bytes: 0,
        },
    };
    let f = Filter::parse("conn:1 ping").unwrap();
    assert!(f.matches_event(&message));
    assert!(!f.matches_event(&gap));
    assert!(f.matches_event(&end(1)));
    assert!(!f.matches_event(&end(2)));
    let f = Filter::parse("anomaly").unwrap();
    assert!(!f.matches_event(&message));
    assert!(f.matches_event(&gap));
    assert!(f.matches_event(&end(2)));
    let f = Filter::parse("!conn:1").unwrap();
    assert!(!f.matches_event(&end(1)));
    assert!(f.matches_event(&end(2)));

    // Threads number connections after filtering the rest: the split must be exact.
    let events = [message.clone(), gap.clone(), end(1), end(2)];
    for src in [
        "",
        "conn:1",
        "!conn:1",
        "conn:2 ping",
        "conn:1 anomaly",
        "anomaly",
        "ping",
        "!ping",
        "conn:1 conn:2",
        "op:ping !conn:2",
    ] {
        let f = Filter::parse(src).unwrap();
        for ev in &events {
            let id = ev.conn.map(|c| c.id);
            assert_eq!(
                f.matches_event(ev),
                f.matches_event_except_conn(ev) && f.accepts_conn(id),
                "{src:?} on {ev:?}"
            );
        }
    }
    let f = Filter::parse("conn:2 ping").unwrap();
    assert!(f.matches_event_except_conn(&message));
    assert!(!f.matches_event(&message));
}
