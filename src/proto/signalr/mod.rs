//! The SignalR JSON hub protocol (ASP.NET Core's HubProtocol.md): JSON records, each ended by
//! the record separator 0x1E; the first record each way is the handshake. Each direction's
//! messages form one stream of records.

#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

use super::MsgRef;
use super::conn::Cx;
use super::pairing::PairKey;
use super::stream::Held;
use super::text::{Line, brief};
use super::unit::Unit;
use crate::event::{Dir, Opcode};

pub(crate) const PROTO: &str = "signalr";

/// HubProtocol.md §"Record Separator".
const RS: u8 = 0x1e;

/// HubProtocol.md §"Message Types" (7 and below), and 8, 9 of stateful reconnect.
fn type_name(t: u64) -> Option<&'static str> {
    Some(match t {
        1 => "Invocation",
        2 => "StreamItem",
        3 => "Completion",
        4 => "StreamInvocation",
        5 => "CancelInvocation",
        6 => "Ping",
        7 => "Close",
        8 => "Ack",
        9 => "Sequence",
        _ => return None,
    })
}

/// The SignalR decoder of one connection.
pub(crate) struct SignalR {
    dirs: [Side; 2],
}

#[derive(Default)]
struct Side {
    held: Held,
    /// The handshake record has been seen.
    handshaken: bool,
    /// Passing over a record larger than `max_unit_bytes` up to its separator.
    to_rs: bool,
}

impl SignalR {
    pub fn new() -> SignalR {
        SignalR {
            dirs: [Side::default(), Side::default()],
        }
    }

    pub fn message(&mut self, msg: &MsgRef<'_>, cx: &mut Cx<'_>, out: &mut Vec<Unit>) {
        if !matches!(msg.opcode, Opcode::Text | Opcode::Binary) {
            return;
        }
        let Some(side) = self.dirs.get_mut(msg.dir.index()) else {
            return;
        };
        let mut payload = msg.payload;
        if side.to_rs {
            match memchr::memchr(RS, payload) {
                Some(end) => {
                    side.to_rs = false;
                    payload = payload.get(end + 1..).unwrap_or_default();
                }
                None => return,
            }
        }
        let Side {
            held,
            handshaken,
            to_rs,
        } = side;
        held.feed(payload, |data, spans| {
            let mut at = 0;
            while let Some(rest) = data.get(at..).filter(|r| !r.is_empty()) {
                let messages = if at == 0 { spans } else { 1 };
                let Some(end) = memchr::memchr(RS, rest) else {
                    if rest.len() > cx.cfg.max_unit_bytes {
                        let mut u = Unit::new(msg.dir, msg.ts, PROTO, "invalid");
                        u.messages = messages;
                        u.summary = "record too large, skipped".into();
                        u.limited(format!(
                            "signalr {} message {}: a record larger than max_unit_bytes ({}): skipped",
                            msg.dir.as_str(),
                            cx.msg_no,
                            cx.cfg.max_unit_bytes
                        ));
                        out.push(u);
                        *to_rs = true;
                        return data.len();
                    }
                    break;
                };
                let record = rest.get(..end).unwrap_or_default();
                // A connection picked up after its handshake starts with hub messages, which
                // all have a `type`.
                let is_handshake =
                    !*handshaken && memchr::memmem::find(record, b"\"type\"").is_none();
                *handshaken = true;
                let mut u = if is_handshake {
                    handshake(record, msg, cx)
                } else {
                    hub_message(record, msg, cx)
                };
                u.messages = messages;
                out.push(u);
                at += end + 1;
            }
            at
        });
    }

    /// Messages were lost in `dir`: a partial record is dropped; decoding resumes at the next
    /// message (senders start each message with a record).
    pub fn lost(&mut self, dir: Dir) {
        if let Some(side) = self.dirs.get_mut(dir.index()) {
            side.held.clear();
            side.to_rs = false;
        }
    }
}

fn parse(record: &[u8], msg: &MsgRef<'_>, cx: &Cx<'_>, u: &mut Unit) -> Option<Map<String, Value>> {
    match serde_json::from_slice::<Value>(record) {
        Ok(Value::Object(o)) => Some(o),
        Ok(_) => {
            u.malformed(format!(
                "signalr {} message {}: a record that is not a JSON object",
                msg.dir.as_str(),
                cx.msg_no
            ));
            None
        }
        Err(e) => {
            u.malformed(format!(
                "signalr {} message {}: a record that is not JSON: {e}",
                msg.dir.as_str(),
                cx.msg_no
            ));
            None
        }
    }
}

/// HubProtocol.md §"Overview"/TransportProtocols.md: the client's `{"protocol","version"}`,
/// the server's `{}` or `{"error"}`.
fn handshake(record: &[u8], msg: &MsgRef<'_>, cx: &mut Cx<'_>) -> Unit {
    let (kind, other) = match msg.dir {
        Dir::C2s => ("HandshakeRequest", Dir::C2s),
        Dir::S2c => ("HandshakeResponse", Dir::C2s),
    };
    let mut u = Unit::new(msg.dir, msg.ts, PROTO, kind);
    let mut line = Line::new(kind);
    if let Some(mut o) = parse(record, msg, cx, &mut u) {
        for (name, field) in [
            ("protocol", "protocol"),
            ("version", "version"),
            ("error", "error"),
        ] {
            if let Some(v) = o.remove(name) {
                line.piece(&brief(&v));
                u.set(field, v);
            }
        }
    }
    u.summary = line.finish();
    match msg.dir {
        Dir::C2s => cx
            .pairs
            .request(&mut u, PairKey::new(other, "handshake", ""), Value::Null),
        Dir::S2c => {
            cx.pairs
                .answer(&mut u, &PairKey::new(other, "handshake", ""), true);
        }
    }
    u
}

fn hub_message(record: &[u8], msg: &MsgRef<'_>, cx: &mut Cx<'_>) -> Unit {
    let mut u = Unit::new(msg.dir, msg.ts, PROTO, "invalid");
    let Some(mut o) = parse(record, msg, cx, &mut u) else {
        u.set("raw", String::from_utf8_lossy(record).into_owned());
        u.summary = "invalid record".into();
        return u;
    };
    let t = o.remove("type");
    let Some(kind) = t.as_ref().and_then(Value::as_u64).and_then(type_name) else {
        u.malformed(format!(
            "signalr {} message {}: unknown message type {}",
            msg.dir.as_str(),
            cx.msg_no,
            t.as_ref().map_or("(none)".to_owned(), |t| t.to_string())
        ));
        u.set("message", Value::Object(o));
        u.summary = "invalid (unknown type)".into();
        return u;
    };
    u.kind = kind.to_owned();
    let mut line = Line::new(kind);
    let id = o.remove("invocationId");
    let id_text = id.as_ref().map(brief);
    for (name, field) in [
        ("target", "target"),
        ("arguments", "arguments"),
        ("streamIds", "stream_ids"),
        ("item", "item"),
        ("result", "result"),
        ("error", "error"),
        ("allowReconnect", "allow_reconnect"),
        ("sequenceId", "sequence_id"),
        ("headers", "headers"),
    ] {
        if name == "target"
            && let Some(id) = &id
        {
            u.set("invocation_id", id.clone());
        }
        if let Some(v) = o.remove(name) {
            if name != "headers" && name != "streamIds" {
                line.piece(&brief(&v));
            }
            u.set(field, v);
        }
        if name == "target"
            && let Some(id) = &id_text
        {
            line.fmt(format_args!("#{id}"));
        }
    }
    u.summary = line.finish();
    let needs_id = matches!(
        kind,
        "StreamItem" | "Completion" | "StreamInvocation" | "CancelInvocation"
    );
    if needs_id && id.is_none() {
        u.malformed(format!(
            "signalr {} message {}: {kind} without an invocationId",
            msg.dir.as_str(),
            cx.msg_no
        ));
    }
    pair(kind, id_text, &mut u, cx, msg.dir);
    u
}

/// Completion and StreamItem answer the invocation sent the other way, or continue an upload
/// stream the same way (announced by `streamIds`); CancelInvocation ends the sender's own
/// stream invocation.
fn pair(kind: &str, id: Option<String>, u: &mut Unit, cx: &mut Cx<'_>, dir: Dir) {
    let Some(id) = id else {
        return;
    };
    match kind {
        "Invocation" | "StreamInvocation" => {
            let streams: Vec<String> = u
                .fields
                .get("stream_ids")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(brief).collect())
                .unwrap_or_default();
            let tag = u.fields.get("target").map(brief).unwrap_or_default();
            cx.pairs.request_tagged(
                u,
                PairKey::new(dir, "inv", id.clone()),
                Value::from(id),
                tag,
            );
            for s in streams {
                cx.pairs.hold_silent(u, PairKey::new(dir, "upload", s));
            }
        }
        "StreamItem" | "Completion" => {
            let done = kind == "Completion";
            let upload = PairKey::new(dir, "upload", id.clone());
            if cx.pairs.waiting(&upload) {
                cx.pairs.answer(u, &upload, done);
            } else {
                cx.pairs
                    .answer(u, &PairKey::new(dir.other(), "inv", id), done);
            }
        }
        "CancelInvocation" => {
            cx.pairs.answer(u, &PairKey::new(dir, "inv", id), true);
        }
        _ => {}
    }
}
