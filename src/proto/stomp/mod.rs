//! STOMP 1.0–1.2 over WebSocket, and inside SockJS frames (as Spring serves it). Each
//! direction's payloads (text or binary) form one byte stream: a frame may span messages, a
//! message may hold several frames, and an EOL between frames is a heart-beat (STOMP 1.2
//! §"Heart-beating": "an end-of-line (EOL)").

mod frame;
mod sockjs;
#[cfg(test)]
mod tests;

use serde_json::Value;

use super::MsgRef;
use super::conn::Cx;
use super::pairing::PairKey;
use super::stream::Held;
use super::text::{Line, put_bytes, size};
use super::unit::Unit;
use crate::event::{Dir, Opcode};
pub(crate) use frame::StompVersion;
use frame::{Frame, Parse, unescape};

pub(crate) const PROTO: &str = "stomp";

/// STOMP 1.2 §"Client Frames" and §"Server Frames".
const CLIENT_COMMANDS: [&str; 11] = [
    "SEND",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "BEGIN",
    "COMMIT",
    "ABORT",
    "ACK",
    "NACK",
    "DISCONNECT",
    "CONNECT",
    "STOMP",
];
const SERVER_COMMANDS: [&str; 4] = ["CONNECTED", "MESSAGE", "RECEIPT", "ERROR"];

/// The STOMP decoder of one connection.
pub(crate) struct Stomp {
    /// From the subprotocol, else from CONNECTED's `version`; unknown means 1.2 escaping.
    version: Option<StompVersion>,
    /// Messages are SockJS frames; `None` until the first data message tells.
    sockjs: Option<bool>,
    dirs: [Side; 2],
}

#[derive(Default)]
struct Side {
    held: Held,
    /// Bytes still to pass over of a frame larger than `max_unit_bytes` (its length known).
    skip: u64,
    /// Passing over a frame larger than `max_unit_bytes` up to its NUL.
    to_nul: bool,
}

impl Stomp {
    pub fn new(version: Option<StompVersion>, sockjs: bool) -> Stomp {
        Stomp {
            version,
            sockjs: sockjs.then_some(true),
            dirs: [Side::default(), Side::default()],
        }
    }

    pub fn message(&mut self, msg: &MsgRef<'_>, cx: &mut Cx<'_>, out: &mut Vec<Unit>) {
        if !matches!(msg.opcode, Opcode::Text | Opcode::Binary) {
            return;
        }
        let sockjs = *self
            .sockjs
            .get_or_insert_with(|| sockjs::looks_like(msg.payload));
        if sockjs {
            match sockjs::peel(msg.payload) {
                Ok(Some(inner)) => self.stream(msg, &inner, cx, out),
                Ok(None) => {}
                Err(e) => {
                    let mut u = Unit::new(msg.dir, msg.ts, PROTO, "invalid");
                    u.summary = "invalid SockJS frame".into();
                    u.malformed(format!(
                        "stomp {} message {}: {e}",
                        msg.dir.as_str(),
                        cx.msg_no
                    ));
                    out.push(u);
                }
            }
        } else {
            self.stream(msg, msg.payload, cx, out);
        }
    }

    fn stream(
        &mut self,
        msg: &MsgRef<'_>,
        mut payload: &[u8],
        cx: &mut Cx<'_>,
        out: &mut Vec<Unit>,
    ) {
        let Some(side) = self.dirs.get_mut(msg.dir.index()) else {
            return;
        };
        if side.skip > 0 {
            let n = usize::try_from(side.skip)
                .unwrap_or(usize::MAX)
                .min(payload.len());
            side.skip -= n as u64;
            payload = payload.get(n..).unwrap_or_default();
        }
        if side.to_nul {
            match memchr::memchr(0, payload) {
                Some(end) => {
                    side.to_nul = false;
                    payload = payload.get(end + 1..).unwrap_or_default();
                }
                None => return,
            }
        }
        if payload.is_empty() {
            return;
        }
        let version = &mut self.version;
        let Side { held, skip, to_nul } = side;
        held.feed(payload, |data, spans| {
            let mut at = 0;
            while let Some(rest) = data.get(at..).filter(|r| !r.is_empty()) {
                let messages = if at == 0 { spans } else { 1 };
                let eol = match rest {
                    [b'\n', ..] => Some(1),
                    [b'\r', b'\n', ..] => Some(2),
                    [b'\r'] => break,
                    _ => None,
                };
                if let Some(n) = eol {
                    let mut u = Unit::new(msg.dir, msg.ts, PROTO, "heartbeat");
                    u.set("eol", if n == 1 { "\n" } else { "\r\n" });
                    u.summary = "heartbeat".into();
                    u.messages = messages;
                    out.push(u);
                    at += n;
                    continue;
                }
                match frame::parse(rest) {
                    Parse::Frame(f, used) => {
                        let mut u = Unit::new(msg.dir, msg.ts, PROTO, "");
                        u.messages = messages;
                        frame_unit(&f, version, &mut u, cx, msg);
                        out.push(u);
                        at += used;
                    }
                    Parse::NeedBody {
                        header_len,
                        content_length: Some(n),
                    } if n > cx.cfg.max_unit_bytes as u64 => {
                        let whole = header_len as u64 + n + 1;
                        out.push(too_large(msg, cx, rest, messages));
                        *skip = whole - (rest.len() as u64).min(whole);
                        return data.len();
                    }
                    Parse::NeedBody { .. } | Parse::NeedHead
                        if rest.len() > cx.cfg.max_unit_bytes =>
                    {
                        out.push(too_large(msg, cx, rest, messages));
                        *to_nul = memchr::memchr(0, rest).is_none();
                        return data.len();
                    }
                    Parse::NeedBody { .. } | Parse::NeedHead => break,
                }
            }
            at
        });
    }

    /// Messages were lost in `dir`: what was held is dropped; decoding resumes at the next
    /// message.
    pub fn lost(&mut self, dir: Dir) {
        if let Some(side) = self.dirs.get_mut(dir.index()) {
            side.held.clear();
            side.skip = 0;
            side.to_nul = false;
        }
    }
}

fn too_large(msg: &MsgRef<'_>, cx: &Cx<'_>, rest: &[u8], messages: u32) -> Unit {
    let command = rest
        .split(|&b| b == b'\n')
        .next()
        .map(|c| String::from_utf8_lossy(c.strip_suffix(b"\r").unwrap_or(c)).into_owned())
        .unwrap_or_default();
    let mut u = Unit::new(msg.dir, msg.ts, PROTO, command.as_str());
    u.messages = messages;
    u.summary = Line::new(&command).piece("(too large, skipped)").finish();
    u.limited(format!(
        "stomp {} message {}: a {command} frame larger than max_unit_bytes ({}): skipped",
        msg.dir.as_str(),
        cx.msg_no,
        cx.cfg.max_unit_bytes
    ));
    u
}

/// Fills a frame's unit: fields, summary, pairing.
fn frame_unit(
    f: &Frame<'_>,
    version: &mut Option<StompVersion>,
    u: &mut Unit,
    cx: &mut Cx<'_>,
    msg: &MsgRef<'_>,
) {
    let mut problems: Vec<String> = f.problem.iter().cloned().collect();
    let command = match std::str::from_utf8(f.command) {
        Ok(c) => c.to_owned(),
        Err(_) => {
            problems.push("command is not UTF-8".into());
            String::from_utf8_lossy(f.command).into_owned()
        }
    };
    if !CLIENT_COMMANDS.contains(&command.as_str()) && !SERVER_COMMANDS.contains(&command.as_str())
    {
        problems.push(format!("unknown command {command:?}"));
    }
    // 1.2 §"Value Encoding": "CONNECT and CONNECTED frames do not escape ... in order to be
    // backward compatible with STOMP 1.0".
    let escaped = !matches!(command.as_str(), "CONNECT" | "CONNECTED" | "STOMP");
    let mut headers = Vec::with_capacity(f.headers.len());
    for (n, v) in &f.headers {
        let mut text = |b: &[u8]| match std::str::from_utf8(b) {
            Ok(s) => s.to_owned(),
            Err(_) => {
                problems.push("a header is not UTF-8".into());
                String::from_utf8_lossy(b).into_owned()
            }
        };
        let (name, value) = (text(n), text(v));
        let (name, value) = if escaped {
            let ver = version.unwrap_or(StompVersion::V12);
            let decode = |s: String, problems: &mut Vec<String>| match unescape(&s, ver) {
                Ok(d) => d,
                Err(e) => {
                    problems.push(e);
                    s
                }
            };
            let name = decode(name, &mut problems);
            (name, decode(value, &mut problems))
        } else {
            (name, value)
        };
        headers.push((name, value));
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    if command == "CONNECTED"
        && version.is_none()
        && let Some(v) = header("version")
    {
        *version = match v.trim() {
            "1.0" => Some(StompVersion::V10),
            "1.1" => Some(StompVersion::V11),
            "1.2" => Some(StompVersion::V12),
            _ => None,
        };
    }
    let mut line = Line::new(&command);
    for name in [
        "destination",
        "id",
        "subscription",
        "transaction",
        "receipt",
        "receipt-id",
        "message",
        "version",
        "heart-beat",
    ] {
        if let Some(v) = header(name) {
            if !matches!(name, "destination" | "receipt-id") {
                line.piece(name);
            }
            line.piece(v);
        }
    }
    if !f.body.is_empty() {
        line.piece(&size(f.body.len()));
    }
    u.kind = command.clone();
    u.summary = line.finish();
    let receipt = header("receipt").map(str::to_owned);
    let receipt_id = header("receipt-id").map(str::to_owned);
    u.set("command", command.as_str());
    u.set(
        "headers",
        headers
            .into_iter()
            .map(|(n, v)| Value::Array(vec![Value::from(n), Value::from(v)]))
            .collect::<Vec<_>>(),
    );
    put_bytes(&mut u.fields, "body", f.body);
    if let Some(first) = problems.first() {
        u.malformed(format!(
            "stomp {} message {}: {command}: {first}",
            msg.dir.as_str(),
            cx.msg_no
        ));
    }
    pair(&command, receipt, receipt_id, u, cx, msg.dir);
}

/// RECEIPT answers the frame whose `receipt` it names (1.2 §"RECEIPT"); ERROR may too
/// (§"ERROR": "it SHOULD contain a receipt-id header"); CONNECTED answers CONNECT.
fn pair(
    command: &str,
    receipt: Option<String>,
    receipt_id: Option<String>,
    u: &mut Unit,
    cx: &mut Cx<'_>,
    dir: Dir,
) {
    let other = dir.other();
    match command {
        "CONNECTED" => {
            cx.pairs
                .answer(u, &PairKey::new(other, "connect", ""), true);
        }
        "RECEIPT" | "ERROR" => {
            let by_receipt = receipt_id.is_some_and(|id| {
                cx.pairs
                    .answer(u, &PairKey::new(other, "receipt", id), true)
            });
            if !by_receipt && command == "ERROR" {
                cx.pairs
                    .answer(u, &PairKey::new(other, "connect", ""), true);
            }
        }
        "MESSAGE" => {}
        _ => {
            if matches!(command, "CONNECT" | "STOMP") {
                cx.pairs
                    .request(u, PairKey::new(dir, "connect", ""), Value::Null);
            }
            if let Some(r) = receipt {
                cx.pairs
                    .request(u, PairKey::new(dir, "receipt", r.clone()), Value::from(r));
            }
        }
    }
}
