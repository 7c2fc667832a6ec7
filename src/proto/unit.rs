//! What the decoders produce: one [`Unit`] per protocol unit, and [`Unanswered`] requests at
//! the end of a connection.

use serde_json::{Map, Value};

use crate::event::{Anomaly, AnomalyKind, Dir, Timestamp};

/// One application-protocol unit (an MQTT packet, a STOMP frame or heart-beat, an Engine.IO or
/// Socket.IO packet, a JSON-RPC object, a GraphQL-over-WebSocket message, a SignalR message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    pub dir: Dir,
    /// Capture time of the message that completed the unit.
    pub ts: Timestamp,
    /// `mqtt`, `stomp`, `engineio`, `socketio`, `jsonrpc`, `graphql-ws` or `signalr`.
    pub proto: &'static str,
    /// The JSON `type`: the spec's name (MQTT `PUBLISH`; STOMP `SEND` or `heartbeat`;
    /// Socket.IO `EVENT`; Engine.IO `ping`; JSON-RPC `request`, `notification`, `response`,
    /// `error` or `invalid`; graphql `subscribe`; SignalR `Invocation`).
    pub kind: String,
    /// The spec's fields in snake_case, in a fixed order per type. Never one of the line's own
    /// names (`event`, `ts`, `conn`, `client`, `server`, `dir`, `proto`, `type`, `reply_to`,
    /// `latency_us`, `anomaly`, `messages`).
    pub fields: Map<String, Value>,
    /// One readable line for text output and the TUI list: `PUBLISH plant/7/temp q1 #12`.
    pub summary: String,
    /// For a reply: the `ts` of the request it answers.
    pub reply_to: Option<Timestamp>,
    /// For a reply: how long after its request it came (absent when the capture's clock ran
    /// backwards between them).
    pub latency_us: Option<u64>,
    /// A malformed unit (`proto_error`) or a bound reached on it (`proto_limit`).
    pub anomaly: Option<Anomaly>,
    /// How many WebSocket messages the unit spans (more than 1 when split).
    pub messages: u32,
}

/// A request that was never answered before its connection ended (or that was dropped to stay
/// within `max_pending_requests`, then reported by [`crate::proto::ProtoConn::finish`] too).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unanswered {
    pub dir: Dir,
    /// The request's `ts`.
    pub ts: Timestamp,
    pub proto: &'static str,
    /// The request's `type`.
    pub kind: String,
    /// What a reply would have named: packet id, receipt, ack id, JSON-RPC id, ...
    pub id: Value,
    pub summary: String,
}

/// Names a unit's `fields` may not use: the output line's own.
pub const RESERVED_NAMES: [&str; 12] = [
    "event",
    "ts",
    "conn",
    "client",
    "server",
    "dir",
    "proto",
    "type",
    "reply_to",
    "latency_us",
    "anomaly",
    "messages",
];

impl Unit {
    pub(crate) fn new(
        dir: Dir,
        ts: Timestamp,
        proto: &'static str,
        kind: impl Into<String>,
    ) -> Unit {
        Unit {
            dir,
            ts,
            proto,
            kind: kind.into(),
            fields: Map::new(),
            summary: String::new(),
            reply_to: None,
            latency_us: None,
            anomaly: None,
            messages: 1,
        }
    }

    /// Adds a field (in order of calls).
    pub(crate) fn set(&mut self, name: &str, value: impl Into<Value>) {
        debug_assert!(!RESERVED_NAMES.contains(&name), "field {name} is reserved");
        self.fields.insert(name.to_owned(), value.into());
    }

    /// Marks the unit malformed; the first problem found is the one reported.
    pub(crate) fn malformed(&mut self, detail: String) {
        if self.anomaly.is_none() {
            self.anomaly = Some(Anomaly::new(AnomalyKind::ProtoError, detail));
        }
    }

    /// Notes a bound reached on this unit (after any protocol error, which comes first).
    pub(crate) fn limited(&mut self, detail: String) {
        if self.anomaly.is_none() {
            self.anomaly = Some(Anomaly::new(AnomalyKind::ProtoLimit, detail));
        }
    }

    /// Pairs this reply with the request sent at `request`.
    pub(crate) fn answers(&mut self, request: Timestamp) {
        self.reply_to = Some(request);
        let nanos = |t: Timestamp| i128::from(t.secs) * 1_000_000_000 + i128::from(t.nanos);
        let diff = nanos(self.ts) - nanos(request);
        self.latency_us = u64::try_from(diff / 1000).ok();
    }

    /// The unit's members of its output line, written into `line` after the caller's own
    /// (`event`, `ts`, `conn`, `client`, `server`, `dir`): `proto`, `type`, the fields in
    /// order, `messages`, then `reply_to` (as `ts_value` writes times) and `latency_us` for a
    /// reply, and `anomaly` {`kind`, `detail`} for a malformed unit.
    pub fn write_json(&self, line: &mut Map<String, Value>, ts_value: impl Fn(Timestamp) -> Value) {
        line.insert("proto".into(), Value::from(self.proto));
        line.insert("type".into(), Value::from(self.kind.as_str()));
        for (k, v) in &self.fields {
            line.insert(k.clone(), v.clone());
        }
        line.insert("messages".into(), Value::from(self.messages));
        if let Some(request) = self.reply_to {
            line.insert("reply_to".into(), ts_value(request));
            line.insert(
                "latency_us".into(),
                self.latency_us.map_or(Value::Null, Value::from),
            );
        }
        if let Some(a) = &self.anomaly {
            let mut m = Map::new();
            m.insert("kind".into(), Value::from(a.kind.as_str()));
            m.insert("detail".into(), Value::from(a.detail.as_str()));
            line.insert("anomaly".into(), Value::Object(m));
        }
    }
}
