//! The application-protocol terms: `proto:`, `type:`, `topic:` (MQTT wildcards, §4.7),
//! `method:`, `event:`, `latency`, `unanswered`; that they hold on units only (and
//! `unanswered` on an `end` listing requests); their errors.

use serde_json::json;

use super::*;
use crate::event::Timestamp;
use crate::filter::terms::proto::TopicFilter;
use crate::proto::{Unanswered, Unit};

fn unit(proto: &'static str, kind: &str, fields: serde_json::Value) -> Unit {
    let mut u = Unit::new(Dir::C2s, Timestamp::new(100, 0), proto, kind);
    if let serde_json::Value::Object(m) = fields {
        for (k, v) in m {
            u.set(&k, v);
        }
    }
    u
}

fn reply(mut u: Unit, latency_ms: i64) -> Unit {
    let request_ns = 100 * 1_000_000_000 - latency_ms * 1_000_000;
    let nanos = u32::try_from(request_ns % 1_000_000_000).unwrap();
    u.answers(Timestamp::new(request_ns / 1_000_000_000, nanos));
    u
}

/// 0 PUBLISH plant/7/temp; 1 SUBSCRIBE to plant/+/temp and alerts/#; 2 PUBLISH $SYS/load;
/// 3 PUBACK 4 ms after its request; 4 JSON-RPC request db.query; 5 its response 150 ms later;
/// 6 a Socket.IO EVENT chat; 7 a SignalR Invocation of SendMessage; 8 STOMP SEND whose
/// destination looks like an MQTT topic; 9 UNSUBSCRIBE from plant/7/temp.
fn units() -> Vec<Unit> {
    vec![
        unit(
            "mqtt",
            "PUBLISH",
            json!({"topic": "plant/7/temp", "qos": 1, "packet_id": 12}),
        ),
        unit(
            "mqtt",
            "SUBSCRIBE",
            json!({"packet_id": 1, "subscriptions": [
                {"topic": "plant/+/temp", "qos": 0}, {"topic": "alerts/#", "qos": 2}]}),
        ),
        unit("mqtt", "PUBLISH", json!({"topic": "$SYS/load", "qos": 0})),
        reply(unit("mqtt", "PUBACK", json!({"packet_id": 12})), 4),
        unit(
            "jsonrpc",
            "request",
            json!({"method": "db.query", "id": 17, "params": {"sql": "SELECT 1"}}),
        ),
        reply(
            unit(
                "jsonrpc",
                "response",
                json!({"id": 17, "method_answered": "db.query", "result": [1]}),
            ),
            150,
        ),
        unit(
            "socketio",
            "EVENT",
            json!({"namespace": "/", "event_name": "chat", "args": ["hi"]}),
        ),
        unit(
            "signalr",
            "Invocation",
            json!({"invocation_id": "1", "target": "SendMessage", "arguments": ["a"]}),
        ),
        unit(
            "stomp",
            "SEND",
            json!({"topic": "plant/7/temp", "headers": [["destination", "/topic/x"]]}),
        ),
        unit(
            "mqtt",
            "UNSUBSCRIBE",
            json!({"packet_id": 2, "topics": ["plant/7/temp"]}),
        ),
    ]
}

fn subject(u: &Unit, unanswered: bool) -> Subject<'_> {
    Subject {
        conn: Some(1),
        transport: Some(tr("10.0.0.1:5000", "10.0.0.2:8765", None)),
        uri: Some("/mqtt"),
        dir: Some(u.dir),
        item: Item::Proto {
            unit: u,
            unanswered,
        },
    }
}

/// Indices of [`units`] the filter selects.
fn pick(src: &str) -> Vec<usize> {
    let f = Filter::parse(src).unwrap_or_else(|e| panic!("{src:?}: {e}"));
    units()
        .iter()
        .enumerate()
        .filter(|(_, u)| f.matches(&subject(u, false)))
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn the_replies_latencies_are_as_built() {
    let us: Vec<Option<u64>> = units().iter().map(|u| u.latency_us).collect();
    assert_eq!(us[3], Some(4_000));
    assert_eq!(us[5], Some(150_000));
    assert_eq!(us.iter().flatten().count(), 2);
}

#[test]
fn proto_names_the_protocol() {
    assert_eq!(pick("proto:mqtt"), [0, 1, 2, 3, 9]);
    assert_eq!(pick("proto:JSONRPC"), [4, 5]);
    assert_eq!(pick("proto:socketio"), [6]);
    assert_eq!(pick("proto:signalr or proto:stomp"), [7, 8]);
    assert_eq!(pick("proto:graphql"), Vec::<usize>::new());
    assert_eq!(pick("proto:graphql-ws"), Vec::<usize>::new());
    assert_eq!(pick("not proto:mqtt"), [4, 5, 6, 7, 8]);
}

#[test]
fn type_is_the_units_type_in_any_case() {
    assert_eq!(pick("type:PUBLISH"), [0, 2]);
    assert_eq!(pick("type:publish"), [0, 2]);
    assert_eq!(pick("type:response or type:puback"), [3, 5]);
    assert_eq!(pick("type:PUB"), Vec::<usize>::new());
}

#[test]
fn topic_matches_mqtt_wildcards_on_publish_and_subscriptions_only_of_mqtt() {
    assert_eq!(pick("topic:plant/7/temp"), [0, 9]);
    assert_eq!(pick("topic:plant/+/temp"), [0, 1, 9]);
    assert_eq!(pick("topic:plant/#"), [0, 1, 9]);
    assert_eq!(pick("topic:#"), [0, 1, 9]);
    assert_eq!(pick("topic:+/+/+"), [0, 1, 9]);
    assert_eq!(pick("topic:alerts/#"), [1]);
    assert_eq!(pick("topic:$SYS/#"), [2]);
    assert_eq!(pick("topic:plant/+"), Vec::<usize>::new());
    assert_eq!(pick("topic:plant/7/temp type:PUBLISH"), [0]);
}

#[test]
fn topic_filter_rules_of_section_4_7() {
    let f = |s: &str| TopicFilter::parse(s).unwrap();
    assert!(f("sport/tennis/player1/#").matches("sport/tennis/player1"));
    assert!(f("sport/tennis/player1/#").matches("sport/tennis/player1/ranking"));
    assert!(f("sport/#").matches("sport"));
    assert!(f("sport/tennis/+").matches("sport/tennis/player1"));
    assert!(!f("sport/tennis/+").matches("sport/tennis/player1/ranking"));
    assert!(!f("sport/+").matches("sport"));
    assert!(f("sport/+").matches("sport/"));
    assert!(f("+/+").matches("/finance"));
    assert!(f("/+").matches("/finance"));
    assert!(!f("+").matches("/finance"));
    assert!(!f("#").matches("$SYS/x"));
    assert!(!f("+/monitor/Clients").matches("$SYS/monitor/Clients"));
    assert!(f("$SYS/#").matches("$SYS/monitor/Clients"));
    assert!(!f("Sport").matches("sport"));
    for bad in [
        "sport/tennis#",
        "sport/tennis/#/ranking",
        "sport+",
        "a/b+/c",
    ] {
        assert!(TopicFilter::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn method_and_event_are_exact_names_or_prefixes() {
    assert_eq!(pick("method:db.query"), [4, 5]);
    assert_eq!(pick("method:db.*"), [4, 5]);
    assert_eq!(pick("method:db"), Vec::<usize>::new());
    assert_eq!(pick("method:DB.query"), Vec::<usize>::new());
    assert_eq!(pick("method:SendMessage"), [7]);
    assert_eq!(pick("event:chat"), [6]);
    assert_eq!(pick("event:ch*"), [6]);
    assert_eq!(pick("event:Chat"), Vec::<usize>::new());
}

#[test]
fn latency_compares_a_replys_wait() {
    assert_eq!(pick("latency>100ms"), [5]);
    assert_eq!(pick("latency>=4ms"), [3, 5]);
    assert_eq!(pick("latency<5ms"), [3]);
    assert_eq!(pick("latency=4000us"), [3]);
    assert_eq!(pick("latency!=4ms"), [5]);
    assert_eq!(pick("latency<1s and proto:jsonrpc"), [5]);
}

#[test]
fn unanswered_holds_on_requests_known_unanswered_and_on_ends_listing_them() {
    let f = Filter::parse("unanswered").unwrap();
    assert!(f.wants_ends());
    let us = units();
    assert!(f.matches(&subject(&us[4], true)));
    assert!(!f.matches(&subject(&us[4], false)));
    let left = [Unanswered {
        dir: Dir::C2s,
        ts: Timestamp::new(100, 0),
        proto: "jsonrpc",
        kind: "request".into(),
        id: json!(18),
        summary: "request db.query #18".into(),
    }];
    let end = |unanswered| Subject {
        conn: Some(1),
        transport: None,
        uri: None,
        dir: None,
        item: Item::End {
            health: None,
            unanswered,
        },
    };
    assert!(f.matches(&end(&left)));
    assert!(!f.matches(&end(&[])));
    let f = Filter::parse("unanswered and method:db.*").unwrap();
    assert!(f.matches(&subject(&us[4], true)));
    assert!(!f.matches(&subject(&us[6], true)));
}

#[test]
fn unit_terms_never_hold_on_messages_or_anomalies() {
    for src in [
        "proto:mqtt",
        "type:PUBLISH",
        "topic:#",
        "method:*",
        "event:*",
        "latency>=0us",
        "unanswered",
    ] {
        assert_eq!(keep(src), Vec::<usize>::new(), "{src}");
    }
}

#[test]
fn text_still_searches_a_units_summary() {
    let mut u = unit("mqtt", "PUBLISH", json!({"topic": "a"}));
    u.summary = "PUBLISH plant/7/temp q1 #12".into();
    let f = Filter::parse("plant/7").unwrap();
    assert!(f.matches(&subject(&u, false)));
}

#[test]
fn errors_name_the_value_and_what_was_expected() {
    let e = err("proto:amqp");
    assert_eq!(e.column, 7);
    assert!(e.message.contains("'amqp' is not a protocol"), "{e}");
    let e = err("topic:a/#/b");
    assert_eq!(e.column, 7);
    assert!(e.message.contains("'#' must be the last level"), "{e}");
    let e = err("topic:a+");
    assert!(e.message.contains("stand alone"), "{e}");
    let e = err("latency>100");
    assert!(e.message.contains("not a duration"), "{e}");
    let e = err("latency:100ms");
    assert!(e.message.contains("comparison"), "{e}");
    let e = err("unanswered:yes");
    assert!(e.message.contains("unanswered alone"), "{e}");
    let e = err("type:");
    assert!(e.message.contains("expected a value"), "{e}");
    assert_eq!(err("method").column, 1);
}
