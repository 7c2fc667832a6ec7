//! The application-protocol decoders on the real captures of `captures/subproto/`: every unit
//! of each `NAME.proto.jsonl` (the peers' own logs), compared as `check_proto.py` compares
//! them — per connection direction, in order, (proto, type, key) — and every reply paired
//! with the request the ground truth names.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::protorun::{self, ProtoRun};
use serde_json::Value;
use wsnoop::event::{ConnRef, Timestamp};
use wsnoop::proto::{ProtoChoice, ProtoConfig, Unit};

fn dir() -> PathBuf {
    common::captures_dir().join("subproto")
}

fn load(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(dir().join(name)).expect("ground truth");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect()
}

fn header<'a>(headers: &'a Value, name: &str) -> Option<&'a Value> {
    match headers {
        Value::Object(m) => m.get(name),
        Value::Array(pairs) => pairs.iter().find_map(|p| match p.as_array()?.as_slice() {
            [n, v] if n == name => Some(v),
            _ => None,
        }),
        _ => None,
    }
}

/// check_proto.py's `key_of`.
fn key_of(proto: &str, u: &Value, event_field: &str) -> Value {
    let get = |f: &str| u.get(f).filter(|v| !v.is_null()).cloned();
    match proto {
        "mqtt" => ["topic_resolved", "topic", "packet_id"]
            .iter()
            .find_map(|f| get(f).filter(|v| v != ""))
            .unwrap_or(Value::Null),
        "stomp" => u
            .get("headers")
            .and_then(|h| header(h, "destination"))
            .cloned()
            .unwrap_or(Value::Null),
        "socketio" => get(event_field)
            .or_else(|| get("namespace"))
            .unwrap_or(Value::Null),
        "jsonrpc" => get("method").or_else(|| get("id")).unwrap_or(Value::Null),
        "graphql-ws" => get("id").unwrap_or(Value::Null),
        "signalr" => get("invocation_id").unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// check_proto.py's `truth_unit`: (proto, type) of a ground-truth line that travelled in
/// WebSocket messages.
fn truth_unit(u: &Value) -> Option<(String, String)> {
    let s = |f: &str| u.get(f).and_then(Value::as_str).map(str::to_owned);
    if u.get("ws_msgs")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
    {
        return None;
    }
    Some(if let Some(p) = s("packet") {
        ("mqtt".into(), p)
    } else if u.get("command").is_some() || s("type").as_deref() == Some("heartbeat") {
        (
            "stomp".into(),
            s("command").unwrap_or_else(|| "heartbeat".into()),
        )
    } else if let Some(e) = s("engineio_type") {
        match s("socketio_type") {
            Some(t) => ("socketio".into(), t),
            None => ("engineio".into(), e),
        }
    } else if u.get("kind").is_some() && u.get("batch").is_some() {
        let k = s("kind").expect("kind");
        (
            "jsonrpc".into(),
            if k == "error_response" {
                "error".into()
            } else {
                k
            },
        )
    } else if let Some(t) = s("type_name") {
        ("signalr".into(), t)
    } else {
        ("graphql-ws".into(), s("type").expect("type"))
    })
}

type Dirkey = (String, String, String);

fn dirkey(v: &Value) -> Dirkey {
    let s = |f: &str| v[f].as_str().expect("string").to_owned();
    (s("client"), s("server"), s("dir"))
}

struct Decoded {
    run: ProtoRun,
    /// Ground-truth line number → the unit decoded for it.
    of_line: BTreeMap<usize, (ConnRef, Unit)>,
    truth: Vec<Value>,
}

/// Runs one capture, compares it with its ground truth as check_proto.py does (exactly:
/// nothing missing, nothing extra, same order), and maps each ground-truth line to its unit.
fn decode(name: &str) -> Decoded {
    let truth = load(&format!("{name}.proto.jsonl"));
    let run = protorun::run(
        &dir().join(format!("{name}.pcap")),
        ProtoChoice::Auto,
        &ProtoConfig::default(),
    );
    let mut want: BTreeMap<Dirkey, Vec<(usize, Value)>> = BTreeMap::new();
    for (n, u) in truth.iter().enumerate() {
        if let Some((proto, kind)) = truth_unit(u) {
            let key = key_of(&proto, u, "event");
            want.entry(dirkey(u))
                .or_default()
                .push((n, serde_json::json!([proto, kind, key])));
        }
    }
    let mut got: BTreeMap<Dirkey, Vec<(ConnRef, Unit, Value)>> = BTreeMap::new();
    for (conn, unit) in &run.units {
        let line = protorun::line(conn, unit);
        let proto = line["proto"].as_str().expect("proto").to_owned();
        let key = key_of(&proto, &line, "event_name");
        got.entry(dirkey(&line)).or_default().push((
            *conn,
            unit.clone(),
            serde_json::json!([proto, line["type"], key]),
        ));
    }
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>(),
        "{name}: connection directions"
    );
    let mut of_line = BTreeMap::new();
    for (k, w) in &want {
        let g = &got[k];
        let w_keys: Vec<&Value> = w.iter().map(|(_, v)| v).collect();
        let g_keys: Vec<&Value> = g.iter().map(|(_, _, v)| v).collect();
        assert_eq!(w_keys, g_keys, "{name} {k:?}: units differ");
        for ((n, _), (conn, unit, _)) in w.iter().zip(g) {
            of_line.insert(*n, (*conn, unit.clone()));
        }
    }
    Decoded {
        run,
        of_line,
        truth,
    }
}

impl Decoded {
    fn unit(&self, line: usize) -> &Unit {
        &self
            .of_line
            .get(&line)
            .unwrap_or_else(|| panic!("line {line} decoded"))
            .1
    }

    /// Asserts that the unit of `reply` answers the unit of `request`.
    fn assert_pair(&self, reply: usize, request: Option<usize>) {
        let got = self.unit(reply).reply_to;
        let want = request.map(|r| self.unit(r).ts);
        assert_eq!(got, want, "line {reply} should answer line {request:?}");
        if let Some(w) = want {
            let lat = self.unit(reply).latency_us.expect("latency");
            let ts = self.unit(reply).ts;
            let nanos = |t: Timestamp| t.secs as i128 * 1_000_000_000 + t.nanos as i128;
            assert_eq!(lat as i128, (nanos(ts) - nanos(w)) / 1000);
        }
    }

    /// Every unit that says it answers something names the ts of a unit of its connection
    /// that went the other way or (streams, cancels) the same way, and no two units share a
    /// ts in a way that makes that ambiguous.
    fn assert_replies_point_at_units(&self) {
        for (conn, u) in &self.run.units {
            if let Some(r) = u.reply_to {
                assert!(
                    self.run.units.iter().any(|(c, q)| c.id == conn.id
                        && q.ts == r
                        && q.reply_to.is_none_or(|_| true)),
                    "{} answers nothing decoded",
                    u.summary
                );
            }
        }
    }

    fn anomalies(&self) -> Vec<String> {
        self.run
            .units
            .iter()
            .filter_map(|(_, u)| {
                u.anomaly
                    .as_ref()
                    .map(|a| format!("{}: {}", a.kind.as_str(), a.detail))
            })
            .collect()
    }
}

fn line_of(v: &Value, field: &str) -> Option<Option<usize>> {
    v.get(field).map(|x| x.as_u64().map(|n| n as usize))
}

#[test]
fn jsonrpc_node() {
    let d = decode("jsonrpc_node");
    let mut answers = 0;
    for (n, t) in d.truth.iter().enumerate() {
        if let Some(request) = line_of(t, "answers") {
            d.assert_pair(n, request);
            answers += 1;
        }
        if let Some(Some(reply)) = line_of(t, "answered_by") {
            d.assert_pair(reply, Some(n));
        }
        if let Some(m) = t.get("method_answered") {
            assert_eq!(d.unit(n).fields.get("method_answered"), Some(m), "line {n}");
        }
    }
    assert_eq!(answers, 12);
    // The one message that is not JSON is reported, and nothing else.
    assert_eq!(
        d.anomalies(),
        [
            "proto_error: jsonrpc c2s message 9: not JSON: EOF while parsing a list at line 1 column 50"
        ]
    );
    assert!(d.run.unanswered.is_empty(), "{:?}", d.run.unanswered);
    // Batch positions and exact values.
    let u = d.unit(15);
    assert_eq!(
        u.fields["batch"],
        serde_json::json!({"size": 4, "index": 2})
    );
    assert_eq!(u.fields["params"], serde_json::json!([10, 4]));
    assert_eq!(u.fields["id"], "b-2");
    d.assert_replies_point_at_units();
}

#[test]
fn signalr_json_node() {
    let d = decode("signalr_json_node");
    let mut refs = 0;
    for (n, t) in d.truth.iter().enumerate() {
        if let Some(request) = line_of(t, "refers_to_line") {
            d.assert_pair(n, request);
            refs += 1;
        }
    }
    assert_eq!(refs, 23);
    d.assert_pair(1, Some(0)); // the handshake response answers the request
    assert!(d.anomalies().is_empty(), "{:?}", d.anomalies());
    assert!(d.run.unanswered.is_empty(), "{:?}", d.run.unanswered);
    let u = d.unit(31);
    assert_eq!(u.fields["stream_ids"], serde_json::json!(["8"]));
    assert_eq!(u.fields["target"], "UploadReadings");
    assert_eq!(d.unit(7).messages, 1);
    d.assert_replies_point_at_units();
}

#[test]
fn socketio_node() {
    let d = decode("socketio_node");
    let mut acks = 0;
    for (n, t) in d.truth.iter().enumerate() {
        if let Some(event) = line_of(t, "ack_for_line") {
            d.assert_pair(n, event);
            acks += 1;
        }
    }
    assert_eq!(acks, 5);
    // Binary attachments folded in: exact bytes, and the messages they took.
    for (n, t) in d.truth.iter().enumerate() {
        if t.get("ws_msgs").is_none() {
            continue;
        }
        let u = d.unit(n);
        assert_eq!(
            u.messages as usize,
            t["ws_msgs"].as_array().unwrap().len(),
            "line {n}"
        );
        if let Some(args) = t.get("args") {
            assert_eq!(u.fields.get("args"), Some(args), "line {n}");
        }
        if let Some(id) = t.get("ack_id").filter(|v| !v.is_null()) {
            assert_eq!(u.fields.get("ack_id"), Some(id), "line {n}");
        }
    }
    assert!(d.anomalies().is_empty(), "{:?}", d.anomalies());
    assert!(d.run.unanswered.is_empty(), "{:?}", d.run.unanswered);
    d.assert_replies_point_at_units();
}

/// MQTT's ground truth names no pairs: they follow from the packets (3.1.1 §4.3): a PUBACK
/// answers the QoS 1 PUBLISH with its packet id sent the other way, PUBREC the QoS 2 one,
/// PUBREL the PUBREC, PUBCOMP the PUBREL, SUBACK/UNSUBACK their (UN)SUBSCRIBE, PINGRESP the
/// PINGREQ, CONNACK the CONNECT.
#[test]
fn mqtt311_mosquitto_paho() {
    let d = decode("mqtt311_mosquitto_paho");
    let mut waiting: Vec<(usize, Dirkey, &str, Value)> = Vec::new();
    let mut pairs = 0;
    for (n, t) in d.truth.iter().enumerate() {
        let packet = t["packet"].as_str().unwrap();
        let (c, s, dir) = dirkey(t);
        let other = if dir == "c2s" { "s2c" } else { "c2s" }.to_owned();
        let id = t.get("packet_id").cloned().unwrap_or(Value::Null);
        let answers = match packet {
            "PUBACK" | "PUBREC" => Some(if packet == "PUBACK" {
                "PUBLISH1"
            } else {
                "PUBLISH2"
            }),
            "PUBREL" => Some("PUBREC"),
            "PUBCOMP" => Some("PUBREL"),
            "SUBACK" => Some("SUBSCRIBE"),
            "UNSUBACK" => Some("UNSUBSCRIBE"),
            "PINGRESP" => Some("PINGREQ"),
            "CONNACK" => Some("CONNECT"),
            _ => None,
        };
        if let Some(req) = answers {
            let at = waiting
                .iter()
                .position(|(_, k, p, i)| {
                    *k == (c.clone(), s.clone(), other.clone()) && *p == req && *i == id
                })
                .unwrap_or_else(|| panic!("line {n}: nothing for {packet} to answer"));
            let (q, ..) = waiting.remove(at);
            d.assert_pair(n, Some(q));
            pairs += 1;
        } else {
            d.assert_pair(n, None);
        }
        let as_request = match (packet, t.get("qos").and_then(Value::as_u64)) {
            ("PUBLISH", Some(1)) => Some("PUBLISH1"),
            ("PUBLISH", Some(2)) => Some("PUBLISH2"),
            ("PUBREC", _) => Some("PUBREC"),
            ("PUBREL", _) => Some("PUBREL"),
            ("SUBSCRIBE" | "UNSUBSCRIBE" | "PINGREQ" | "CONNECT", _) => Some(packet),
            _ => None,
        };
        if let Some(r) = as_request {
            waiting.push((n, (c, s, dir), r, id));
        }
    }
    assert_eq!(pairs, 48);
    assert!(waiting.is_empty());
    assert!(d.run.unanswered.is_empty(), "{:?}", d.run.unanswered);
    assert!(d.anomalies().is_empty(), "{:?}", d.anomalies());
    // Exact values, and units spanning messages or sharing one.
    for (n, t) in d.truth.iter().enumerate() {
        let u = d.unit(n);
        assert_eq!(
            u.messages as usize,
            t["ws_msgs"].as_array().unwrap().len(),
            "line {n}"
        );
        for f in [
            "packet_id",
            "qos",
            "retain",
            "dup",
            "topic",
            "client_id",
            "username",
            "password_b64",
            "payload_b64",
            "keepalive",
            "clean_session",
            "session_present",
            "return_code",
            "return_codes",
            "subscriptions",
            "topics",
        ] {
            if let Some(v) = t.get(f).filter(|v| !v.is_null()) {
                assert_eq!(u.fields.get(f), Some(v), "line {n} field {f}");
            }
        }
        if let Some(will) = t.get("will").filter(|v| !v.is_null()) {
            for f in ["topic", "qos", "retain", "payload_b64"] {
                assert_eq!(u.fields["will"].get(f), will.get(f), "line {n} will {f}");
            }
        }
    }
    d.assert_replies_point_at_units();
}

/// STOMP's pairs: RECEIPT answers the frame whose `receipt` it names; CONNECTED the CONNECT.
#[test]
fn stomp_rabbitmq_stompjs() {
    let d = decode("stomp_rabbitmq_stompjs");
    let mut waiting: Vec<(usize, String, String)> = Vec::new();
    let mut pairs = 0;
    for (n, t) in d.truth.iter().enumerate() {
        let client = t["client"].as_str().unwrap().to_owned();
        let command = t
            .get("command")
            .and_then(Value::as_str)
            .unwrap_or("heartbeat");
        let h = |name: &str| {
            t.get("headers")
                .and_then(|hs| header(hs, name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let answers = match command {
            "CONNECTED" => Some("CONNECT".to_owned()),
            "RECEIPT" => h("receipt-id"),
            _ => None,
        };
        match answers {
            Some(what) => {
                let at = waiting
                    .iter()
                    .position(|(_, c, w)| *c == client && *w == what)
                    .expect("request");
                let (q, ..) = waiting.remove(at);
                d.assert_pair(n, Some(q));
                pairs += 1;
            }
            None => d.assert_pair(n, None),
        }
        if command == "CONNECT" {
            waiting.push((n, client.clone(), "CONNECT".into()));
        }
        if t["dir"] == "c2s"
            && let Some(r) = h("receipt")
        {
            waiting.push((n, client.clone(), r));
        }
        let u = d.unit(n);
        assert_eq!(
            u.messages as usize,
            t["ws_msgs"].as_array().unwrap().len(),
            "line {n}"
        );
        if let Some(hs) = t.get("headers") {
            assert_eq!(u.fields.get("headers"), Some(hs), "line {n}");
            assert_eq!(
                u.fields.get("body_b64"),
                t.get("body_b64").or(Some(&u.fields["body_b64"])),
                "line {n}"
            );
            assert_eq!(
                u.fields.get("body_text"),
                t.get("body_text").filter(|v| !v.is_null()),
                "line {n}"
            );
        }
        if let Some(eol) = t.get("eol") {
            assert_eq!(u.fields.get("eol"), Some(eol), "line {n}");
        }
    }
    assert_eq!(pairs, 4);
    // The DISCONNECTs whose RECEIPT never came (the broker closed first, or the capture ended).
    let left: Vec<(u64, String)> = d
        .run
        .unanswered
        .iter()
        .map(|(c, u)| (c.id, format!("{} {}", u.kind, u.id)))
        .collect();
    let want: Vec<(u64, String)> = waiting
        .iter()
        .map(|(n, ..)| {
            (
                d.of_line[n].0.id,
                format!("DISCONNECT {}", d.unit(*n).fields["headers"][0][1]),
            )
        })
        .collect();
    assert_eq!(left.len(), want.len());
    for w in &want {
        assert!(
            left.iter()
                .any(|l| l.0 == w.0 && l.1.replace('"', "") == w.1.replace('"', "")),
            "{w:?} in {left:?}"
        );
    }
    assert!(d.anomalies().is_empty(), "{:?}", d.anomalies());
    d.assert_replies_point_at_units();
}

/// `--proto none` decodes nothing; forcing the wrong protocol reports what does not fit and
/// never panics.
#[test]
fn choices() {
    let path = dir().join("mqtt311_mosquitto_paho.pcap");
    let none = protorun::run(&path, ProtoChoice::None, &ProtoConfig::default());
    assert!(none.units.is_empty());
    assert!(none.messages > 100);
    let forced = protorun::run(
        &path,
        ProtoChoice::Force(wsnoop::proto::ProtoName::JsonRpc),
        &ProtoConfig::default(),
    );
    assert!(!forced.units.is_empty());
    assert!(
        forced
            .units
            .iter()
            .all(|(_, u)| u.kind == "invalid" && u.anomaly.is_some())
    );
}
