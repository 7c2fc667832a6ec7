//! Laws over random expressions and random events: double negation, De Morgan,
//! distributivity, the spellings of `and`; the same laws through the selection stage; and
//! the deferred stage equal to the direct one under any numbering.

use proptest::prelude::*;

use super::{anomaly, message};
use crate::event::{
    AnomalyKind, ConnId, ConnRef, Dir, EndHow, Event, EventKind, Opcode, Timestamp,
};
use crate::filter::{DeferredSelection, Filter, Selection, Subject};

const TERMS: &[&str] = &[
    "hello",
    "\"back\"",
    "bye",
    "lost",
    "op:text",
    "op:ping",
    "op:reserved",
    "dir:c2s",
    "len>3",
    "len<=4",
    "conn:2",
    "conn:1-3",
    "conn:7",
    "port:443",
    "host:10.0.0.0/8",
    "client:10.0.0.1",
    "stream:3",
    "uri:chat",
    "uri:re:^/f",
    "anomaly",
    "anomaly:tcp_gap",
    "re:^h",
    "/y.$/",
];

fn expr() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(TERMS).prop_map(str::to_owned);
    leaf.prop_recursive(4, 32, 3, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(&["not ", "!", "NOT "][..])
            )
                .prop_map(|(a, not)| format!("{not}({a})")),
            (
                inner.clone(),
                inner.clone(),
                prop::sample::select(&[" and ", " ", " && ", "&&"][..])
            )
                .prop_map(|(a, b, and)| format!("({a}){and}({b})")),
            (
                inner.clone(),
                inner,
                prop::sample::select(&[" or ", " || ", "||"][..])
            )
                .prop_map(|(a, b, or)| format!("({a}){or}({b})")),
        ]
    })
}

const PAYLOADS: &[&[u8]] = &[
    b"hello back",
    b"bye",
    b"Hey",
    b"",
    b"\x03\xe8bye",
    b"{\"type\":\"Hello\"}",
    &[0, 1, 2, 0xff],
];
const OPCODES: [Opcode; 5] = [
    Opcode::Text,
    Opcode::Binary,
    Opcode::Ping,
    Opcode::Close,
    Opcode::Reserved(3),
];
const KINDS: [AnomalyKind; 3] = [
    AnomalyKind::TcpGap,
    AnomalyKind::CorruptCapture,
    AnomalyKind::named("tls_no_keys"),
];
const DETAILS: [&str; 2] = ["12 bytes lost", "hello in a detail"];

fn subject() -> impl Strategy<Value = Subject<'static>> {
    let facts = prop::sample::select(&[0u8, 1, 2, 3, 4, 7][..]);
    let dir = prop::sample::select(&[Dir::C2s, Dir::S2c][..]);
    prop_oneof![
        (
            facts.clone(),
            dir,
            prop::sample::select(&OPCODES[..]),
            prop::sample::select(PAYLOADS)
        )
            .prop_map(|(c, d, op, p)| message(c, d, op, p)),
        (
            facts,
            prop::option::of(prop::sample::select(&[Dir::C2s, Dir::S2c][..])),
            prop::sample::select(&KINDS[..]),
            prop::sample::select(&DETAILS[..])
        )
            .prop_map(|(c, d, k, detail)| anomaly(c, d, k, detail)),
    ]
}

fn parse(src: &str) -> Filter {
    Filter::parse(src).unwrap_or_else(|e| panic!("{src:?}: {e}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn laws_of_the_language(
        a in expr(),
        b in expr(),
        c in expr(),
        subjects in prop::collection::vec(subject(), 1..24),
    ) {
        let x = parse(&a);
        let not_not = parse(&format!("not not ({a})"));
        let or = parse(&format!("({a}) or ({b})"));
        let de_morgan = parse(&format!("not (not ({a}) and not ({b}))"));
        let and = parse(&format!("({a}) and ({b})"));
        let side_by_side = parse(&format!("({a}) ({b})"));
        let de_morgan_and = parse(&format!("!(!({a}) || !({b}))"));
        let distributed = parse(&format!("(({a}) or ({b})) and ({c})"));
        let expanded = parse(&format!("({a}) ({c}) or ({b}) ({c})"));
        for s in &subjects {
            prop_assert_eq!(not_not.matches(s), x.matches(s), "not not ({}) on {:?}", a, s);
            prop_assert_eq!(or.matches(s), de_morgan.matches(s), "{} / {} on {:?}", a, b, s);
            prop_assert_eq!(and.matches(s), side_by_side.matches(s));
            prop_assert_eq!(and.matches(s), de_morgan_and.matches(s));
            prop_assert_eq!(distributed.matches(s), expanded.matches(s));
        }
    }
}

/// A stream of events: connections 1..=4 open, random messages and anomalies, ends.
fn events() -> impl Strategy<Value = Vec<Event>> {
    let one = (
        1u64..=4,
        any::<bool>(),
        prop::sample::select(PAYLOADS),
        prop::sample::select(&OPCODES[..]),
        prop::option::of(prop::sample::select(&KINDS[..2])),
    );
    (
        prop::collection::vec(one, 0..40),
        prop::collection::vec(any::<bool>(), 4),
    )
        .prop_map(|(body, with_uri)| {
            let conn = |id: ConnId| ConnRef {
                id,
                client: format!("10.0.0.{id}:5000").parse().unwrap(),
                server: "[2001:db8::2]:443".parse().unwrap(),
                stream: (id == 3).then_some(3),
            };
            let ts = Timestamp::new(1, 0);
            let mut out = Vec::new();
            for (id, uri) in (1..=4).zip(with_uri) {
                out.push(Event {
                    ts,
                    conn: Some(conn(id)),
                    kind: EventKind::Open(Box::new(crate::event::OpenInfo {
                        uri: uri.then(|| "/chat".to_string()),
                        ..Default::default()
                    })),
                });
            }
            for (id, c2s, payload, opcode, anomaly) in body {
                let dir = if c2s { Dir::C2s } else { Dir::S2c };
                let kind = match anomaly {
                    Some(k) => EventKind::Anomaly {
                        dir: Some(dir),
                        anomaly: crate::event::Anomaly::new(k, "12 bytes lost"),
                    },
                    None => EventKind::Message {
                        dir,
                        msg: crate::event::Message {
                            opcode,
                            payload: payload.to_vec(),
                            frames: 1,
                            compressed: false,
                            wire_len: payload.len() as u64,
                            utf8_valid: true,
                            frame_detail: Vec::new(),
                            packets: None,
                            truncated: false,
                        },
                    },
                };
                out.push(Event {
                    ts,
                    conn: Some(conn(id)),
                    kind,
                });
            }
            for id in 1..=4 {
                out.push(Event {
                    ts,
                    conn: Some(conn(id)),
                    kind: EventKind::End {
                        how: EndHow::Fin,
                        messages: 0,
                        bytes: 0,
                        report: None,
                    },
                });
            }
            out
        })
}

fn select(src: &str, all_events: bool, events: &[Event]) -> Vec<Event> {
    let mut sel = Selection::new(parse(src), all_events);
    let mut out = Vec::new();
    for ev in events.iter().cloned() {
        sel.push(ev, &mut out);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn laws_hold_through_the_selection_stage(
        a in expr(),
        b in expr(),
        evs in events(),
        all_events in any::<bool>(),
    ) {
        prop_assert_eq!(
            select(&format!("not not ({a})"), all_events, &evs),
            select(&a, all_events, &evs)
        );
        prop_assert_eq!(
            select(&format!("({a}) or ({b})"), all_events, &evs),
            select(&format!("not (not ({a}) and not ({b}))"), all_events, &evs)
        );
    }

    #[test]
    fn deferred_equals_direct_under_any_numbering(
        a in expr(),
        evs in events(),
        all_events in any::<bool>(),
        finals in Just(vec![1u64, 2, 3, 4]).prop_shuffle(),
    ) {
        let to_final = |id: ConnId| finals[id as usize - 1];
        let filter = parse(&a);
        let mut deferred = DeferredSelection::new(filter.clone(), all_events);
        let mut marked = Vec::new();
        for ev in evs.iter().cloned() {
            deferred.push(ev, &mut marked);
        }
        let mut got = Vec::new();
        for m in marked {
            let mut ev = m.event;
            if let Some(c) = &mut ev.conn {
                c.id = to_final(c.id);
                if !m.classes.contains(filter.conn_class(c.id)) {
                    continue;
                }
            }
            got.push(ev);
        }
        let renumbered: Vec<Event> = evs
            .into_iter()
            .map(|mut e| {
                if let Some(c) = &mut e.conn {
                    c.id = to_final(c.id);
                }
                e
            })
            .collect();
        prop_assert_eq!(got, select(&a, all_events, &renumbered));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(800))]

    /// Any input parses or is refused with a column within it (or just past its end), in one
    /// line; what parses evaluates on anything without panicking.
    #[test]
    fn any_input_parses_or_names_a_column(
        src in r#"[a-z:()!&|"/ <>=0-9.\\*é_-]{0,40}|(and|or|not|\(|\)|!|&&|\|\||"|/|port|:|len|>|=|x|anomaly| ){0,16}"#,
        subjects in prop::collection::vec(subject(), 1..8),
    ) {
        match Filter::parse(&src) {
            Ok(f) => {
                for s in &subjects {
                    let _ = f.matches(s);
                    let _ = f.select_classes(s);
                }
            }
            Err(e) => {
                prop_assert!(e.column >= 1 && e.column <= src.chars().count() + 1, "{src:?}: {e}");
                prop_assert!(!e.message.contains('\n'), "{src:?}: {e}");
            }
        }
    }
}
