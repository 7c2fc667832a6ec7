//! GraphQL over WebSocket: graphql-transport-ws (graphql-ws's PROTOCOL.md: connection_init,
//! connection_ack, ping, pong, subscribe, next, error, complete) and the legacy graphql-ws of
//! subscriptions-transport-ws (connection_init, connection_ack, connection_error, ka,
//! connection_terminate, start, data, error, complete, stop). One JSON object per message.

mod op;
#[cfg(test)]
mod tests;

use serde_json::Value;

use super::MsgRef;
use super::conn::Cx;
use super::pairing::PairKey;
use super::text::{Line, brief};
use super::unit::Unit;
use crate::event::{Dir, Opcode};

pub(crate) const PROTO: &str = "graphql-ws";

const TYPES: [&str; 14] = [
    "connection_init",
    "connection_ack",
    "ping",
    "pong",
    "subscribe",
    "next",
    "error",
    "complete",
    "connection_error",
    "ka",
    "connection_terminate",
    "start",
    "data",
    "stop",
];

/// The GraphQL-over-WebSocket decoder of one connection.
pub(crate) struct Graphql;

impl Graphql {
    pub fn new() -> Graphql {
        Graphql
    }

    pub fn message(&mut self, msg: &MsgRef<'_>, cx: &mut Cx<'_>, out: &mut Vec<Unit>) {
        if !matches!(msg.opcode, Opcode::Text | Opcode::Binary) {
            return;
        }
        let bad = |kind: &str, problem: String| {
            let mut u = Unit::new(msg.dir, msg.ts, PROTO, kind);
            u.summary = Line::new(kind).piece(&problem).finish();
            u.malformed(format!(
                "graphql-ws {} message {}: {problem}",
                msg.dir.as_str(),
                cx.msg_no
            ));
            u
        };
        let mut o = match serde_json::from_slice::<Value>(msg.payload) {
            Ok(Value::Object(o)) => o,
            Ok(_) => return out.push(bad("invalid", "not a JSON object".into())),
            Err(e) => return out.push(bad("invalid", format!("not JSON: {e}"))),
        };
        let Some(Value::String(kind)) = o.remove("type") else {
            return out.push(bad("invalid", "no type".into()));
        };
        let mut u = Unit::new(msg.dir, msg.ts, PROTO, kind.as_str());
        let mut line = Line::new(&kind);
        let id = o.remove("id");
        if let Some(id) = &id {
            line.piece(&brief(id));
            u.set("id", id.clone());
        }
        let payload = o.remove("payload");
        if matches!(kind.as_str(), "subscribe" | "start") {
            let p = payload.as_ref();
            let query = p.and_then(|p| p.get("query")).and_then(Value::as_str);
            let named = p
                .and_then(|p| p.get("operationName"))
                .and_then(Value::as_str);
            match query.and_then(|q| op::operation(q, named)) {
                Some((ty, name)) => {
                    let name = named.map(str::to_owned).or(name);
                    line.piece(ty);
                    if let Some(n) = &name {
                        line.piece(n);
                    }
                    u.set("operation_name", name.map_or(Value::Null, Value::from));
                    u.set("operation_type", ty);
                }
                None => {
                    u.set("operation_name", named.map_or(Value::Null, Value::from));
                    if query.is_none() {
                        u.malformed(format!(
                            "graphql-ws {} message {}: {kind} without a query",
                            msg.dir.as_str(),
                            cx.msg_no
                        ));
                    }
                }
            }
        } else if let Some(p) = &payload {
            line.piece(&brief(p));
        }
        if let Some(p) = payload {
            u.set("payload", p);
        }
        u.summary = line.finish();
        if !TYPES.contains(&kind.as_str()) {
            u.malformed(format!(
                "graphql-ws {} message {}: unknown message type {kind:?}",
                msg.dir.as_str(),
                cx.msg_no
            ));
        }
        pair(&kind, id.as_ref(), &mut u, cx, msg.dir);
        out.push(u);
    }
}

fn pair(kind: &str, id: Option<&Value>, u: &mut Unit, cx: &mut Cx<'_>, dir: Dir) {
    let other = dir.other();
    let op = |d: Dir| id.map(|id| PairKey::new(d, "op", brief(id)));
    match kind {
        "connection_init" => cx
            .pairs
            .request(u, PairKey::new(dir, "init", ""), Value::Null),
        "connection_ack" | "connection_error" => {
            cx.pairs.answer(u, &PairKey::new(other, "init", ""), true);
        }
        "ping" => cx
            .pairs
            .request(u, PairKey::new(dir, "ping", ""), Value::Null),
        "pong" => {
            cx.pairs.answer(u, &PairKey::new(other, "ping", ""), true);
        }
        "subscribe" | "start" => {
            if let Some(key) = op(dir) {
                cx.pairs.request(u, key, id.cloned().unwrap_or(Value::Null));
            }
        }
        "next" | "data" => {
            if let Some(key) = op(other) {
                cx.pairs.answer(u, &key, false);
            }
        }
        // The server ends an operation with error or complete; the client ends its own with
        // complete (graphql-transport-ws) or stop (legacy).
        "error" | "complete" | "stop" => {
            let answered =
                kind != "stop" && op(other).is_some_and(|k| cx.pairs.answer(u, &k, true));
            if !answered && let Some(key) = op(dir) {
                cx.pairs.answer(u, &key, true);
            }
        }
        _ => {}
    }
}
