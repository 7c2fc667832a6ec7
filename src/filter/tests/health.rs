//! The connection-health terms `rtt` and `close:`: decided on `end` events only, every
//! operator and unit, every verdict, the end rule (ends selected only when a health term asks
//! positively), their errors, and what the selection stage prints for them.

use super::*;
use crate::event::{ConnRef, EndHow, EndReport, Event, EventKind, Message, Timestamp};
use crate::filter::Selection;
use crate::health::{CloseReport, HealthReport, RttStats, TcpEnd, Verdict};

fn stats(median: u64, count: u64) -> RttStats {
    RttStats {
        min: median / 2,
        median,
        p99: median * 2,
        max: median * 2,
        count,
    }
}

fn report(rtt: [Option<RttStats>; 2], verdict: Verdict) -> HealthReport {
    HealthReport {
        rtt_us: rtt,
        close: CloseReport {
            initiator: None,
            code: None,
            reason: None,
            answered: false,
            close_to_answer_us: None,
            tcp_end: Some(TcpEnd::Fin),
            close_to_tcp_end_us: None,
            verdict,
        },
        longest_silence_us: [0, 0],
    }
}

/// The connections' health at their ends: the medians the `rtt` term compares are 50 ms (c2s
/// only), 50 ms + 1 µs (s2c, with more pings than c2s's 9 ms), 12.5 ms (c2s wins the tie
/// against s2c's 80 ms), none (no answered ping), 1.5 s.
fn healths() -> Vec<HealthReport> {
    vec![
        report([Some(stats(50_000, 3)), None], Verdict::Clean),
        report(
            [Some(stats(9_000, 2)), Some(stats(50_001, 5))],
            Verdict::HalfClosed,
        ),
        report(
            [Some(stats(12_500, 4)), Some(stats(80_000, 4))],
            Verdict::Abnormal,
        ),
        report([None, None], Verdict::AfterClose),
        report([None, Some(stats(1_500_000, 1))], Verdict::Open),
    ]
}

fn end_subject(health: Option<&HealthReport>) -> Subject<'_> {
    Subject {
        conn: Some(1),
        transport: Some(tr("10.0.0.1:5000", "10.0.0.2:8765", None)),
        uri: None,
        dir: None,
        item: Item::End {
            health,
            unanswered: &[],
        },
    }
}

/// Indices of the connections (of [`healths`]) whose `end` the filter selects.
fn ends(src: &str) -> Vec<usize> {
    let f = Filter::parse(src).unwrap_or_else(|e| panic!("{src:?}: {e}"));
    let hs = healths();
    hs.iter()
        .enumerate()
        .filter(|(_, h)| f.matches(&end_subject(Some(h))))
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn the_connection_median_is_the_busier_directions() {
    let m: Vec<Option<u64>> = healths().iter().map(HealthReport::rtt_median).collect();
    assert_eq!(
        m,
        vec![
            Some(50_000),
            Some(50_001),
            Some(12_500),
            None,
            Some(1_500_000)
        ]
    );
}

#[test]
fn every_rtt_comparison() {
    assert_eq!(ends("rtt>50ms"), vec![1, 4]);
    assert_eq!(ends("rtt>=50ms"), vec![0, 1, 4]);
    assert_eq!(ends("rtt<50ms"), vec![2]);
    assert_eq!(ends("rtt<=50ms"), vec![0, 2]);
    assert_eq!(ends("rtt=50ms"), vec![0]);
    assert_eq!(ends("rtt==50ms"), vec![0]);
    // No RTT is not "different from 50 ms": connection 3 is never selected.
    assert_eq!(ends("rtt!=50ms"), vec![1, 2, 4]);
    assert_eq!(ends("RTT>50ms"), vec![1, 4]);
}

#[test]
fn rtt_units_and_decimals() {
    assert_eq!(ends("rtt=50001us"), vec![1]);
    assert_eq!(ends("rtt=50001µs"), vec![1]);
    assert_eq!(ends("rtt=50.001ms"), vec![1]);
    assert_eq!(ends("rtt>50.0005ms"), vec![1, 4]);
    assert_eq!(ends("rtt=12.5ms"), vec![2]);
    assert_eq!(ends("rtt>=1.5s"), vec![4]);
    assert_eq!(ends("rtt<1.5s"), vec![0, 1, 2]);
    assert_eq!(ends("rtt<0.0125s"), NONE.to_vec());
    assert_eq!(ends("rtt<=0.0125s"), vec![2]);
    assert_eq!(ends("rtt>0s"), vec![0, 1, 2, 4]);
    // Below a microsecond: compared as written, not rounded to 0.
    assert_eq!(ends("rtt>12499.5us rtt<12500.5us"), vec![2]);
}

#[test]
fn every_close_verdict() {
    assert_eq!(ends("close:clean"), vec![0]);
    assert_eq!(ends("close:half_closed"), vec![1]);
    assert_eq!(ends("close:abnormal"), vec![2]);
    assert_eq!(ends("close:after_close"), vec![3]);
    assert_eq!(ends("close:open"), vec![4]);
    assert_eq!(ends("close:ABNORMAL"), vec![2]);
    assert_eq!(ends("close:clean or close:abnormal"), vec![0, 2]);
    assert_eq!(ends("close:half_closed rtt>50ms"), vec![1]);
    assert_eq!(ends("rtt<100ms not close:clean"), vec![1, 2]);
    assert_eq!(ends("(close:clean or close:open) rtt>1s"), vec![4]);
}

#[test]
fn health_terms_hold_on_ends_only() {
    // Never on a message or an anomaly, whatever its connection.
    assert_eq!(keep("rtt>0us"), NONE.to_vec());
    assert_eq!(keep("rtt<1000s"), NONE.to_vec());
    assert_eq!(keep("close:clean"), NONE.to_vec());
    assert_eq!(keep("anomaly and close:abnormal"), NONE.to_vec());
    // Ends are selected only when a health term asks positively (as anomalies are).
    assert_eq!(ends("hello"), NONE.to_vec());
    assert_eq!(ends("not op:ping"), NONE.to_vec());
    assert_eq!(ends("not rtt>50ms"), NONE.to_vec());
    assert_eq!(keep("not rtt>50ms"), ALL_MESSAGES.to_vec());
    assert_eq!(ends("not not close:open"), vec![4]);
    // Terms about the message never hold on an end.
    assert_eq!(ends("close:clean op:text"), NONE.to_vec());
    assert_eq!(ends("close:clean len>=0"), NONE.to_vec());
    assert_eq!(ends("close:clean dir:c2s"), NONE.to_vec());
    assert_eq!(ends("close:clean hello"), NONE.to_vec());
    // Connection terms do.
    assert_eq!(ends("close:clean port:8765"), vec![0]);
    assert_eq!(ends("close:clean conn:1"), vec![0]);
    assert_eq!(ends("close:clean conn:2"), NONE.to_vec());
    let wants = |s: &str| Filter::parse(s).unwrap().wants_ends();
    assert!(wants("rtt>1ms"));
    assert!(wants("hello or close:clean"));
    assert!(wants("!!close:clean"));
    assert!(!wants("!close:clean"));
    assert!(!wants("hello"));
    assert!(!wants("anomaly"));
    assert!(!wants(""));
    // An `end` without a report (from a consumer that gives none) has no health.
    for src in ["close:clean", "rtt>0us", "rtt<1000s", "close:open"] {
        assert!(
            !Filter::parse(src).unwrap().matches(&end_subject(None)),
            "{src}"
        );
    }
}

#[test]
fn health_term_errors() {
    assert_eq!(err_at("rtt", "expected a comparison"), 1);
    assert_eq!(err_at("rtt:50ms", "expected a comparison"), 1);
    assert_eq!(err_at("x rtt>", "expected a value"), 7);
    assert_eq!(err_at("rtt>50", "'50' is not a duration"), 5);
    assert_eq!(err_at("rtt>=fast", "'fast' is not a duration"), 6);
    assert_eq!(err_at("rtt<-1ms", "not a duration"), 5);
    assert_eq!(err_at("rtt>1.2.3s", "not a duration"), 5);
    assert_eq!(err_at("close", "expected close:clean"), 1);
    assert_eq!(err_at("close", "quote it: \"close\""), 1);
    assert_eq!(err_at("close:", "expected a value"), 7);
    assert_eq!(err_at("close:fine", "'fine' is not a close verdict"), 7);
    assert_eq!(err_at("a close:half-closed", "not a close verdict"), 9);
    assert_eq!(err_at("close>1", "expected close:clean"), 1);
    assert_eq!(err_at("rtt50ms", "did you mean rtt"), 1);
    // The word quoted is text again.
    assert_eq!(keep("\"close\""), NONE.to_vec());
    assert_eq!(keep("\"bye\""), vec![4, 9]);
}

fn conn(id: u64) -> ConnRef {
    ConnRef {
        id,
        client: format!("10.0.0.{id}:5000").parse().unwrap(),
        server: "10.0.0.100:8765".parse().unwrap(),
        stream: None,
    }
}

fn ev(id: u64, t: i64, kind: EventKind) -> Event {
    Event {
        ts: Timestamp::new(t, 0),
        conn: Some(conn(id)),
        kind,
    }
}

fn text(id: u64, t: i64, s: &str) -> Event {
    ev(
        id,
        t,
        EventKind::Message {
            dir: crate::event::Dir::C2s,
            msg: Message {
                opcode: crate::event::Opcode::Text,
                payload: s.as_bytes().to_vec(),
                frames: 1,
                compressed: false,
                wire_len: s.len() as u64,
                utf8_valid: true,
                frame_detail: Vec::new(),
                packets: None,
                truncated: false,
            },
        },
    )
}

fn end(id: u64, t: i64, health: HealthReport) -> Event {
    ev(
        id,
        t,
        EventKind::End {
            how: EndHow::Fin,
            messages: 1,
            bytes: 2,
            report: Some(Box::new(EndReport {
                health,
                unanswered: Vec::new(),
            })),
        },
    )
}

/// Three connections: 1 clean with a 50 ms RTT, 2 abnormal with 12.5 ms, 3 half-closed without
/// RTT; each says "hi", then a silence alarm on 2 and 2 says "bye".
fn lines(filter: &str) -> Vec<String> {
    let hs = healths();
    let mut events = Vec::new();
    for id in 1..=3 {
        events.push(ev(id, 0, EventKind::Open(Box::default())));
    }
    for id in 1..=3 {
        events.push(text(id, 1, "hi"));
    }
    events.push(ev(
        2,
        5,
        EventKind::Silence {
            silent_us: 4_000_000,
            ended: false,
        },
    ));
    events.push(text(2, 6, "bye"));
    events.push(end(1, 7, hs[0].clone()));
    events.push(end(2, 8, hs[2].clone()));
    let mut third = hs[1].clone();
    third.rtt_us = [None, None];
    events.push(end(3, 9, third));
    let mut sel = Selection::new(Filter::parse(filter).unwrap(), false);
    let mut out = Vec::new();
    for e in events {
        sel.push(e, &mut out);
    }
    assert_eq!(sel.tracked(), 0);
    out.iter()
        .map(|e| {
            let c = e.conn.map_or(0, |c| c.id);
            match &e.kind {
                EventKind::Open(_) => format!("open {c}"),
                EventKind::End { .. } => format!("end {c}"),
                EventKind::Message { msg, .. } => {
                    format!("{c} {}", String::from_utf8_lossy(&msg.payload))
                }
                EventKind::Silence { .. } => format!("silence {c}"),
                other => panic!("{other:?}"),
            }
        })
        .collect()
}

#[test]
fn selection_prints_open_and_end_of_the_connections_a_health_term_holds_for() {
    assert_eq!(lines("close:abnormal"), vec!["open 2", "end 2"]);
    assert_eq!(
        lines("rtt>10ms"),
        vec!["open 1", "end 1", "open 2", "end 2"]
    );
    assert_eq!(lines("rtt>10ms port:9"), Vec::<String>::new());
    assert_eq!(lines("close:half_closed rtt>0us"), Vec::<String>::new());
    // Messages selected on their own, ends by their health: one `open` per connection.
    assert_eq!(
        lines("bye or close:half_closed"),
        vec!["open 2", "2 bye", "end 2", "open 3", "end 3"]
    );
    // The silence follows its connection once printed; a message selected before it.
    assert_eq!(
        lines("hi conn:2"),
        vec!["open 2", "2 hi", "silence 2", "end 2"]
    );
    assert_eq!(lines("close:clean or hi"), {
        let mut v = vec!["open 1", "1 hi", "open 2", "2 hi", "open 3", "3 hi"];
        v.extend(["silence 2", "end 1", "end 2", "end 3"]);
        v
    });
    // Not a health term in a positive position: ends follow their connection only.
    assert_eq!(
        lines("hi conn:1 not close:clean"),
        vec!["open 1", "1 hi", "end 1"]
    );
}

#[test]
fn an_end_selected_before_its_open_was_seen() {
    // A connection whose `open` this stage did not see: its end alone.
    let mut sel = Selection::new(Filter::parse("close:clean").unwrap(), false);
    let mut out = Vec::new();
    sel.push(end(4, 1, healths()[0].clone()), &mut out);
    assert_eq!(out.len(), 1);
    assert!(matches!(out[0].kind, EventKind::End { .. }));
}
