//! Engine.IO 3 and 4 with Socket.IO 4 and 5 on top, over the WebSocket transport: one
//! Engine.IO packet per message (engine.io-protocol §"Transports / WebSocket"); a Socket.IO
//! BINARY_EVENT or BINARY_ACK is followed by its attachments as binary messages, folded into
//! its unit.

mod packet;
#[cfg(test)]
mod tests;

use serde_json::Value;

use super::MsgRef;
use super::conn::Cx;
use super::pairing::PairKey;
use super::text::{Line, b64, brief};
use super::unit::Unit;
use crate::event::{Dir, Opcode};
use packet::{Packet, fill_placeholders, type_name};

pub(crate) const PROTO: &str = "socketio";
pub(crate) const ENGINE: &str = "engineio";

/// engine.io-protocol §"Packet types".
fn engine_type(t: u8) -> Option<&'static str> {
    Some(match t {
        b'0' => "open",
        b'1' => "close",
        b'2' => "ping",
        b'3' => "pong",
        b'4' => "message",
        b'5' => "upgrade",
        b'6' => "noop",
        _ => return None,
    })
}

/// The Engine.IO / Socket.IO decoder of one connection.
pub(crate) struct SocketIo {
    /// Engine.IO protocol version (3 or 4).
    eio: u8,
    dirs: [Side; 2],
}

#[derive(Default)]
struct Side {
    /// A binary packet waiting for its attachments.
    waiting: Option<Waiting>,
}

struct Waiting {
    unit: Unit,
    packet: Packet,
    want: u32,
    got: Vec<Vec<u8>>,
    bytes: usize,
    /// Messages were lost while waiting.
    lost: bool,
}

impl SocketIo {
    pub fn new(eio: u8) -> SocketIo {
        SocketIo {
            eio,
            dirs: [Side::default(), Side::default()],
        }
    }

    pub fn message(&mut self, msg: &MsgRef<'_>, cx: &mut Cx<'_>, out: &mut Vec<Unit>) {
        let Some(side) = self.dirs.get_mut(msg.dir.index()) else {
            return;
        };
        match msg.opcode {
            Opcode::Binary => {
                if let Some(w) = side.waiting.as_mut().filter(|w| !w.lost) {
                    // Engine.IO 3 prefixes a binary message with its packet type as a byte
                    // (4, message); Engine.IO 4 sends the attachment bare.
                    let body = match (self.eio, msg.payload) {
                        (3, [4, rest @ ..]) => rest,
                        (_, p) => p,
                    };
                    w.bytes += body.len();
                    w.got.push(body.to_vec());
                    w.unit.messages += 1;
                    w.unit.ts = msg.ts;
                    if w.bytes > cx.cfg.max_unit_bytes {
                        w.unit.limited(format!(
                            "socketio {} message {}: attachments larger than max_unit_bytes ({}): the packet is shown without the rest",
                            msg.dir.as_str(),
                            cx.msg_no,
                            cx.cfg.max_unit_bytes
                        ));
                        w.got.pop();
                        w.want = 0;
                    }
                    if w.got.len() as u32 >= w.want
                        && let Some(w) = side.waiting.take()
                    {
                        out.push(finish_binary(w, cx, msg));
                    }
                    return;
                }
                flush_waiting(side, cx, msg, out);
                let body = match (self.eio, msg.payload) {
                    (3, [4, rest @ ..]) => rest,
                    (_, p) => p,
                };
                let mut u = Unit::new(msg.dir, msg.ts, ENGINE, "message");
                u.set("data_b64", b64(body));
                u.summary = format!("message binary {}", super::text::size(body.len()));
                out.push(u);
            }
            Opcode::Text => {
                flush_waiting(side, cx, msg, out);
                let text = match std::str::from_utf8(msg.payload) {
                    Ok(t) => t,
                    Err(_) => {
                        debug_assert!(
                            false,
                            "a text message that is not UTF-8 reached the decoder"
                        );
                        return;
                    }
                };
                if let Some(u) = engine_packet(text, msg, cx, side) {
                    out.push(u);
                }
            }
            _ => {}
        }
    }
}

/// One Engine.IO packet; `None` when it is a binary Socket.IO packet now waiting for its
/// attachments.
fn engine_packet(text: &str, msg: &MsgRef<'_>, cx: &mut Cx<'_>, side: &mut Side) -> Option<Unit> {
    let first = text.as_bytes().first().copied();
    let data = text.get(1..).unwrap_or_default();
    let Some(kind) = first.and_then(engine_type) else {
        let mut u = Unit::new(msg.dir, msg.ts, ENGINE, "invalid");
        u.set("data", text);
        u.summary = Line::new("invalid").piece(text).finish();
        u.malformed(format!(
            "engineio {} message {}: not an Engine.IO packet (type {:?})",
            msg.dir.as_str(),
            cx.msg_no,
            first.map(char::from)
        ));
        return Some(u);
    };
    if kind != "message" {
        let mut u = Unit::new(msg.dir, msg.ts, ENGINE, kind);
        let mut line = Line::new(kind);
        if kind == "open" {
            match serde_json::from_str::<Value>(data) {
                Ok(v) => {
                    for k in ["sid", "pingInterval", "pingTimeout"] {
                        if let Some(x) = v.get(k) {
                            line.piece(k).piece(&brief(x));
                        }
                    }
                    u.set("data", v);
                }
                Err(e) => {
                    u.set("data", data);
                    u.malformed(format!(
                        "engineio {} message {}: open packet data is not JSON: {e}",
                        msg.dir.as_str(),
                        cx.msg_no
                    ));
                }
            }
        } else if !data.is_empty() {
            u.set("data", data);
            line.piece(data);
        }
        u.summary = line.finish();
        // Engine.IO heart-beat: a pong answers the ping sent the other way (v3: the
        // client pings; v4: the server does); `probe` pairs the upgrade check.
        match kind {
            "ping" => cx.pairs.request(
                &mut u,
                PairKey::new(msg.dir, "ping", data),
                Value::from(data),
            ),
            "pong" => {
                cx.pairs
                    .answer(&mut u, &PairKey::new(msg.dir.other(), "ping", data), true);
            }
            _ => {}
        }
        return Some(u);
    }
    let mut u = Unit::new(msg.dir, msg.ts, PROTO, "");
    match packet::parse(data) {
        Ok(p) => {
            u.kind = type_name(p.kind).unwrap_or("?").to_owned();
            if let Some(n) = p.attachments.filter(|&n| n > 0) {
                if n > cx.cfg.max_attachments {
                    u.limited(format!(
                            "socketio {} message {}: {n} attachments announced, more than max_attachments ({}): shown without them",
                            msg.dir.as_str(),
                            cx.msg_no,
                            cx.cfg.max_attachments
                        ));
                } else {
                    side.waiting = Some(Waiting {
                        unit: u,
                        packet: p,
                        want: n,
                        got: Vec::new(),
                        bytes: 0,
                        lost: false,
                    });
                    return None;
                }
            }
            fill(&mut u, p, &[], cx, msg);
            Some(u)
        }
        Err(e) => {
            // A plain Engine.IO message (no Socket.IO on top) is data, not an error.
            let looks_socketio = data
                .as_bytes()
                .first()
                .is_some_and(|b| (b'0'..=b'6').contains(b));
            let mut u = Unit::new(msg.dir, msg.ts, ENGINE, "message");
            u.set("data", data);
            u.summary = Line::new("message").piece(data).finish();
            if looks_socketio {
                u.malformed(format!(
                    "socketio {} message {}: {e}",
                    msg.dir.as_str(),
                    cx.msg_no
                ));
            }
            Some(u)
        }
    }
}

impl SocketIo {
    /// Messages were lost in `dir`: a packet waiting for attachments is reported incomplete
    /// with the next message.
    pub fn lost(&mut self, dir: Dir) {
        if let Some(w) = self
            .dirs
            .get_mut(dir.index())
            .and_then(|s| s.waiting.as_mut())
        {
            w.lost = true;
        }
    }
}

/// A waiting binary packet that the next message shows will get no more attachments.
fn flush_waiting(side: &mut Side, cx: &mut Cx<'_>, msg: &MsgRef<'_>, out: &mut Vec<Unit>) {
    if let Some(w) = side.waiting.take() {
        let mut w = w;
        let detail = format!(
            "socketio {} message {}: {} of {} attachments{}",
            msg.dir.as_str(),
            cx.msg_no,
            w.got.len(),
            w.want,
            if w.lost {
                " (messages were lost)"
            } else {
                " before the next packet"
            }
        );
        w.unit.malformed(detail);
        out.push(finish_binary(w, cx, msg));
    }
}

fn finish_binary(w: Waiting, cx: &mut Cx<'_>, msg: &MsgRef<'_>) -> Unit {
    let Waiting {
        mut unit,
        packet,
        got,
        ..
    } = w;
    fill(&mut unit, packet, &got, cx, msg);
    unit
}

/// A Socket.IO packet's fields, summary and pairing.
fn fill(u: &mut Unit, p: Packet, attachments: &[Vec<u8>], cx: &mut Cx<'_>, msg: &MsgRef<'_>) {
    let Packet {
        kind,
        attachments: count,
        namespace,
        ack_id,
        payload,
    } = p;
    let mut line = Line::new(&u.kind);
    if namespace != "/" {
        line.piece(&namespace);
    }
    u.set("namespace", namespace.as_str());
    let mut missing = Vec::new();
    match (kind, payload) {
        (2 | 5, Some(Value::Array(mut items))) => {
            let name = if items.is_empty() {
                Value::Null
            } else {
                items.remove(0)
            };
            let mut args = Value::Array(items);
            fill_placeholders(&mut args, attachments, &mut missing);
            line.piece(&brief(&name));
            u.set("event_name", name);
            if let Some(id) = ack_id {
                u.set("ack_id", id);
                line.fmt(format_args!("ack #{id}"));
            }
            line.piece(&brief(&args));
            u.set("args", args);
        }
        (3 | 6, Some(mut args)) => {
            fill_placeholders(&mut args, attachments, &mut missing);
            if let Some(id) = ack_id {
                u.set("ack_id", id);
                line.fmt(format_args!("#{id}"));
            }
            line.piece(&brief(&args));
            u.set("args", args);
        }
        (_, data) => {
            if let Some(d) = &data {
                line.piece(&brief(d));
            }
            u.set("data", data.unwrap_or(Value::Null));
        }
    }
    if let Some(n) = count {
        u.set("attachments", n);
    }
    if !missing.is_empty() {
        u.malformed(format!(
            "socketio {} message {}: placeholders {missing:?} have no attachment",
            msg.dir.as_str(),
            cx.msg_no
        ));
    }
    u.summary = line.finish();
    let ack_key = |dir: Dir| ack_id.map(|id| PairKey::new(dir, "ack", format!("{namespace}#{id}")));
    match kind {
        2 | 5 => {
            if let Some(key) = ack_key(msg.dir) {
                cx.pairs.request(u, key, Value::from(ack_id));
            }
        }
        3 | 6 => {
            if let Some(key) = ack_key(msg.dir.other()) {
                cx.pairs.answer(u, &key, true);
            }
        }
        // The client connects to a namespace; the server's CONNECT or CONNECT_ERROR answers.
        0 if msg.dir == Dir::C2s => {
            cx.pairs.request(
                u,
                PairKey::new(msg.dir, "connect", namespace.clone()),
                Value::from(namespace),
            );
        }
        0 | 4 if msg.dir == Dir::S2c => {
            cx.pairs
                .answer(u, &PairKey::new(Dir::C2s, "connect", namespace), true);
        }
        _ => {}
    }
}
