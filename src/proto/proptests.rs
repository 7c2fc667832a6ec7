//! The stream protocols (MQTT, STOMP, SignalR) decode the same units whether each unit has
//! its own message, units are packed several to a message, or split across messages at any
//! byte.

use proptest::prelude::*;
use serde_json::Value;

use super::testutil::Session;
use super::{ProtoName, Unit};
use crate::event::{Dir, Opcode};

/// What must not depend on message boundaries: everything but `ts` and `messages`.
fn essence(units: &[Unit]) -> Vec<(String, Value, String, bool)> {
    units
        .iter()
        .map(|u| {
            (
                u.kind.clone(),
                Value::Object(u.fields.clone()),
                u.summary.clone(),
                u.anomaly.is_some(),
            )
        })
        .collect()
}

/// Decodes `units` once one per message and once as one stream cut at `cuts`.
fn both_ways(
    name: ProtoName,
    opcode: Opcode,
    units: &[Vec<u8>],
    cuts: &[usize],
) -> (Vec<Unit>, Vec<Unit>) {
    let mut whole = Session::new(name);
    let mut one_each = Vec::new();
    for u in units {
        one_each.extend(whole.feed(Dir::C2s, opcode, u));
    }
    let stream: Vec<u8> = units.concat();
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut split = Session::new(name);
    let mut pieces = Vec::new();
    let mut at = 0;
    for c in cuts.into_iter().chain([stream.len()]) {
        if c > at {
            pieces.extend(split.feed(Dir::C2s, opcode, &stream[at..c]));
            at = c;
        }
    }
    (one_each, pieces)
}

fn mqtt_string(s: &str) -> Vec<u8> {
    let mut v = (s.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(s.as_bytes());
    v
}

fn mqtt_packet(first: u8, body: Vec<u8>) -> Vec<u8> {
    let mut v = vec![first];
    let mut n = body.len();
    loop {
        let b = (n % 128) as u8;
        n /= 128;
        v.push(if n > 0 { b | 0x80 } else { b });
        if n == 0 {
            break;
        }
    }
    v.extend(body);
    v
}

fn mqtt_unit(v5: bool) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (
            "[a-z/+#]{1,20}",
            0u8..3,
            any::<u16>(),
            proptest::collection::vec(any::<u8>(), 0..300)
        )
            .prop_map(move |(topic, qos, id, payload)| {
                let mut body = mqtt_string(&topic);
                if qos > 0 {
                    body.extend_from_slice(&id.max(1).to_be_bytes());
                }
                if v5 {
                    body.push(0);
                }
                body.extend(payload);
                mqtt_packet(0x30 | (qos << 1), body)
            }),
        any::<u16>().prop_map(|id| mqtt_packet(0x40, id.to_be_bytes().to_vec())),
        Just(mqtt_packet(0xc0, vec![])),
        ("[a-z/]{1,10}", any::<u16>()).prop_map(move |(t, id)| {
            let mut body = id.max(1).to_be_bytes().to_vec();
            if v5 {
                body.push(0);
            }
            body.extend(mqtt_string(&t));
            body.push(1);
            mqtt_packet(0x82, body)
        }),
    ]
}

fn stomp_unit() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        ("[A-Z]{3,8}", "[a-z/.]{1,12}", "[ -~]{0,40}").prop_map(|(cmd, dest, body)| {
            let body = body.replace('\0', "");
            format!("{cmd}\ndestination:{dest}\nx:a\\cb\n\n{body}\0").into_bytes()
        }),
        (
            "[a-z/.]{1,12}",
            proptest::collection::vec(any::<u8>(), 0..200)
        )
            .prop_map(|(dest, body)| {
                let mut v = format!(
                    "SEND\r\ndestination:{dest}\r\ncontent-length:{}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                v.extend(body);
                v.push(0);
                v
            }),
    ]
}

fn signalr_unit() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"{\"type\":6}\x1e".to_vec()),
        ("[a-zA-Z]{1,10}", 0u32..1000, "[ -~]{0,30}").prop_map(|(target, id, arg)| {
            let v = serde_json::json!({"type": 1, "invocationId": id.to_string(), "target": target, "arguments": [arg]});
            let mut b = serde_json::to_vec(&v).unwrap();
            b.push(0x1e);
            b
        }),
        (0u32..1000, any::<i64>()).prop_map(|(id, r)| {
            format!("{{\"type\":3,\"invocationId\":\"{id}\",\"result\":{r}}}\x1e").into_bytes()
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn mqtt_units_do_not_depend_on_message_boundaries(
        v5 in any::<bool>(),
        units in proptest::collection::vec(mqtt_unit(false), 1..12),
        units5 in proptest::collection::vec(mqtt_unit(true), 1..12),
        cuts in proptest::collection::vec(any::<usize>(), 0..20),
    ) {
        let connect = if v5 {
            b"\x10\x0d\x00\x04MQTT\x05\x02\x00\x3c\x00\x00\x00".to_vec()
        } else {
            b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00".to_vec()
        };
        let mut all = vec![connect];
        all.extend(if v5 { units5 } else { units });
        let (a, b) = both_ways(ProtoName::Mqtt, Opcode::Binary, &all, &cuts);
        prop_assert_eq!(a.len(), all.len());
        prop_assert!(a.iter().all(|u| u.anomaly.is_none()), "{:?}", a);
        prop_assert_eq!(essence(&a), essence(&b));
    }

    #[test]
    fn stomp_units_do_not_depend_on_message_boundaries(
        units in proptest::collection::vec(stomp_unit(), 1..12),
        cuts in proptest::collection::vec(any::<usize>(), 0..20),
        binary in any::<bool>(),
    ) {
        let opcode = if binary { Opcode::Binary } else { Opcode::Text };
        let (a, b) = both_ways(ProtoName::Stomp, opcode, &units, &cuts);
        prop_assert_eq!(a.len(), units.len());
        prop_assert_eq!(essence(&a), essence(&b));
    }

    #[test]
    fn signalr_units_do_not_depend_on_message_boundaries(
        units in proptest::collection::vec(signalr_unit(), 1..12),
        cuts in proptest::collection::vec(any::<usize>(), 0..20),
    ) {
        let mut all = vec![b"{\"protocol\":\"json\",\"version\":1}\x1e".to_vec()];
        all.extend(units);
        let (a, b) = both_ways(ProtoName::SignalR, Opcode::Text, &all, &cuts);
        prop_assert_eq!(a.len(), all.len());
        prop_assert!(a.iter().all(|u| u.anomaly.is_none()));
        prop_assert_eq!(essence(&a), essence(&b));
    }
}
