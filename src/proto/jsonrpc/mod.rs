//! JSON-RPC 2.0 (one object per message, or a batch array) and the Chrome DevTools Protocol,
//! which has the same shape without the `jsonrpc` member. Each message stands alone, so a
//! malformed one costs only itself.

#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

use super::MsgRef;
use super::conn::Cx;
use super::pairing::PairKey;
use super::text::{Line, brief};
use super::unit::Unit;
use crate::event::Opcode;

pub(crate) const PROTO: &str = "jsonrpc";

/// Longest `raw` text kept on an invalid unit.
const RAW_CHARS: usize = 4096;

/// The JSON-RPC decoder of one connection (it keeps no state of its own: pairing is the
/// connection's).
pub(crate) struct JsonRpc;

impl JsonRpc {
    pub fn new() -> JsonRpc {
        JsonRpc
    }

    pub fn message(&mut self, msg: &MsgRef<'_>, cx: &mut Cx<'_>, out: &mut Vec<Unit>) {
        if !matches!(msg.opcode, Opcode::Text | Opcode::Binary) {
            return;
        }
        match serde_json::from_slice::<Value>(msg.payload) {
            Ok(Value::Array(items)) if !items.is_empty() => {
                let size = items.len();
                for (index, item) in items.into_iter().enumerate() {
                    let mut u = object(item, msg, cx);
                    let mut batch = Map::new();
                    batch.insert("size".into(), Value::from(size));
                    batch.insert("index".into(), Value::from(index));
                    u.set("batch", batch);
                    u.summary = format!("{} [batch {}/{size}]", u.summary, index + 1);
                    out.push(u);
                }
            }
            // §6: "If the batch rpc call itself fails to be recognized as an valid JSON or as
            // an Array with at least one value, the response from the Server MUST be a single
            // Response object."
            Ok(Value::Array(_)) => out.push(invalid(msg, cx, "an empty batch")),
            Ok(v @ Value::Object(_)) => out.push(object(v, msg, cx)),
            Ok(_) => out.push(invalid(msg, cx, "neither an object nor a batch")),
            Err(e) => out.push(invalid(msg, cx, &format!("not JSON: {e}"))),
        }
    }
}

fn invalid(msg: &MsgRef<'_>, cx: &Cx<'_>, problem: &str) -> Unit {
    let mut u = Unit::new(msg.dir, msg.ts, PROTO, "invalid");
    let raw = String::from_utf8_lossy(msg.payload);
    let cut = raw.char_indices().nth(RAW_CHARS).map(|(i, _)| i);
    u.set(
        "raw",
        raw.get(..cut.unwrap_or(raw.len())).unwrap_or_default(),
    );
    if cut.is_some() {
        u.set("raw_truncated", true);
    }
    u.set("problem", problem);
    u.summary = Line::new("invalid").piece(problem).finish();
    u.malformed(format!(
        "jsonrpc {} message {}: {problem}",
        msg.dir.as_str(),
        cx.msg_no
    ));
    u
}

/// One request, notification or response object (§4, §5).
fn object(v: Value, msg: &MsgRef<'_>, cx: &mut Cx<'_>) -> Unit {
    let Value::Object(mut o) = v else {
        return invalid(msg, cx, "a batch member that is not an object");
    };
    let mut problems = Vec::new();
    match o.get("jsonrpc") {
        // The Chrome DevTools Protocol leaves it out.
        None => {}
        Some(Value::String(s)) if s == "2.0" => {}
        Some(other) => problems.push(format!("jsonrpc is {other}, not \"2.0\"")),
    }
    let session = o.remove("sessionId");
    let id = o.remove("id");
    let mut u = if let Some(method) = o.remove("method") {
        let Value::String(method) = method else {
            return invalid(msg, cx, "method is not a string");
        };
        // §4.1: "A Notification is a Request object without an "id" member."
        let kind = if id.is_some() {
            "request"
        } else {
            "notification"
        };
        let mut u = Unit::new(msg.dir, msg.ts, PROTO, kind);
        let mut line = Line::new(kind);
        line.piece(&method);
        u.set("method", method.as_str());
        if let Some(id) = &id {
            line.fmt(format_args!("#{}", brief(id)));
            u.set("id", id.clone());
        }
        if let Some(params) = o.remove("params") {
            if !matches!(params, Value::Object(_) | Value::Array(_)) {
                problems.push("params is neither an object nor an array".into());
            }
            line.piece(&brief(&params));
            u.set("params", params);
        }
        u.summary = line.finish();
        if let Some(id) = &id {
            cx.pairs.request_tagged(
                &mut u,
                PairKey::new(msg.dir, "rpc", id.to_string()),
                id.clone(),
                method,
            );
        }
        u
    } else if o.contains_key("result") || o.contains_key("error") {
        let result = o.remove("result");
        let error = o.remove("error");
        if result.is_some() && error.is_some() {
            // §5: "Either the result member or error member MUST be included, but both
            // members MUST NOT be included."
            problems.push("both result and error".into());
        }
        let kind = if error.is_some() { "error" } else { "response" };
        let mut u = Unit::new(msg.dir, msg.ts, PROTO, kind);
        let mut line = Line::new(kind);
        let id = match id {
            Some(id) => id,
            None => {
                problems.push("a response without an id".into());
                Value::Null
            }
        };
        line.fmt(format_args!("#{}", brief(&id)));
        u.set("id", id.clone());
        if let Some(r) = result {
            line.piece(&brief(&r));
            u.set("result", r);
        }
        if let Some(e) = error {
            match (e.get("code"), e.get("message")) {
                (Some(Value::Number(c)), Some(Value::String(m))) => {
                    line.fmt(format_args!("{c}")).piece(m);
                }
                _ => {
                    problems.push("error is not an object with a code and a message".into());
                    line.piece(&brief(&e));
                }
            }
            u.set("error", e);
        }
        // §5: an id of Null answers a request whose id could not be read: it answers none.
        if !id.is_null() {
            let key = PairKey::new(msg.dir.other(), "rpc", id.to_string());
            if let Some(Some(method)) = cx.pairs.answer_tag(&mut u, &key, true) {
                u.set("method_answered", method);
            }
        }
        u.summary = line.finish();
        u
    } else {
        let mut u = invalid(msg, cx, "neither a request nor a response");
        if let Some(id) = id {
            u.set("id", id);
        }
        return u;
    };
    if let Some(s) = session {
        u.set("session_id", s);
    }
    if let Some(first) = problems.first() {
        u.malformed(format!(
            "jsonrpc {} message {}: {first}",
            msg.dir.as_str(),
            cx.msg_no
        ));
    }
    u
}
