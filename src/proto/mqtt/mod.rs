//! MQTT 3.1.1 and 5.0 over WebSocket. MQTT 5.0 §6.0: "the Client MUST use WebSocket binary
//! data frames"; "a single WebSocket data frame can contain multiple or partial MQTT Control
//! Packets": each direction's payloads form one byte stream.

mod codes;
mod packet;
mod props;
mod reader;
#[cfg(test)]
mod tests;

use serde_json::Value;

use super::conn::Cx;
use super::pairing::PairKey;
use super::stream::Held;
use super::unit::Unit;
use crate::event::{Dir, Opcode};
use codes::packet_name;
use packet::{Aliases, Packet, Version};
use reader::{Varint, varint};

pub(crate) const PROTO: &str = "mqtt";

/// Longest fixed header: one type byte and a four-byte remaining length.
const MAX_FIXED_HEADER: usize = 5;

/// The MQTT decoder of one connection.
pub(crate) struct Mqtt {
    version: Version,
    dirs: [Side; 2],
}

#[derive(Default)]
struct Side {
    held: Held,
    /// Bytes still to pass over of a packet larger than `max_unit_bytes`.
    skip: u64,
    /// A corrupt remaining length: where the next packet starts is unknown, so this direction
    /// is given up (reported once).
    dead: bool,
    aliases: Aliases,
}

impl Mqtt {
    pub fn new() -> Mqtt {
        Mqtt {
            version: Version::Unknown,
            dirs: [Side::default(), Side::default()],
        }
    }

    pub fn message(&mut self, msg: &super::MsgRef<'_>, cx: &mut Cx<'_>, out: &mut Vec<Unit>) {
        if !matches!(msg.opcode, Opcode::Text | Opcode::Binary) {
            return;
        }
        let Some(side) = self.dirs.get_mut(msg.dir.index()) else {
            return;
        };
        if side.dead {
            return;
        }
        let mut payload = msg.payload;
        if side.skip > 0 {
            let n = usize::try_from(side.skip)
                .unwrap_or(usize::MAX)
                .min(payload.len());
            side.skip -= n as u64;
            payload = payload.get(n..).unwrap_or_default();
            if payload.is_empty() {
                return;
            }
        }
        let text = msg.opcode == Opcode::Text;
        let first_out = out.len();
        let version = &mut self.version;
        let Side {
            held,
            skip,
            dead,
            aliases,
        } = side;
        held.feed(payload, |data, spans| {
            let mut at = 0;
            while let Some(rest) = data.get(at..) {
                let [first, len_bytes @ ..] = rest else { break };
                let kind = first >> 4;
                let mut unit = Unit::new(msg.dir, msg.ts, PROTO, packet_name(kind));
                unit.messages = if at == 0 { spans } else { 1 };
                let (remaining, header) = match varint(len_bytes) {
                    Varint::Done(v, n) => (v, n + 1),
                    Varint::Short if len_bytes.len() < MAX_FIXED_HEADER - 1 => break,
                    _ => {
                        unit.summary = format!("{} (corrupt length)", packet_name(kind));
                        unit.malformed(format!(
                            "mqtt {} message {}: remaining length longer than 4 bytes; the \
                             rest of this direction is not decoded",
                            msg.dir.as_str(),
                            cx.msg_no
                        ));
                        out.push(unit);
                        *dead = true;
                        return data.len();
                    }
                };
                let total = header + remaining as usize;
                if remaining as usize > cx.cfg.max_unit_bytes {
                    unit.set("remaining_length", remaining);
                    unit.summary = format!("{} ({remaining} bytes, skipped)", packet_name(kind));
                    unit.limited(format!(
                        "mqtt {} message {}: a {} of {remaining} bytes is larger than \
                         max_unit_bytes ({}): skipped",
                        msg.dir.as_str(),
                        cx.msg_no,
                        packet_name(kind),
                        cx.cfg.max_unit_bytes
                    ));
                    out.push(unit);
                    if rest.len() >= total {
                        at += total;
                        continue;
                    }
                    *skip = (total - rest.len()) as u64;
                    return data.len();
                }
                let Some(bytes) = rest.get(header..total) else {
                    break;
                };
                let p = Packet {
                    kind,
                    flags: first & 0x0f,
                    body: bytes,
                };
                let pairing = packet::decode(
                    &p,
                    version,
                    aliases,
                    cx.cfg.max_topic_alias_bytes,
                    &mut unit,
                );
                if let Some(a) = unit.anomaly.as_mut()
                    && a.kind == crate::event::AnomalyKind::ProtoError
                {
                    a.detail = format!(
                        "mqtt {} message {}: {}",
                        msg.dir.as_str(),
                        cx.msg_no,
                        a.detail
                    );
                }
                if let Some((class, id)) = pairing.answers {
                    let key = PairKey::new(msg.dir.other(), class, id_text(id));
                    cx.pairs.answer(&mut unit, &key, true);
                }
                if let Some((class, id)) = pairing.waits {
                    let key = PairKey::new(msg.dir, class, id_text(id));
                    let shown = if class == "ping" || class == "connect" {
                        Value::Null
                    } else {
                        Value::from(id)
                    };
                    cx.pairs.request(&mut unit, key, shown);
                }
                out.push(unit);
                at += total;
            }
            at
        });
        if text && let Some(u) = out.get_mut(first_out) {
            // MQTT 5.0 §6.0 [MQTT-6.0.0-1]: MQTT travels in binary data frames only.
            u.malformed(format!(
                "mqtt {} message {}: MQTT sent in a text message [MQTT-6.0.0-1]",
                msg.dir.as_str(),
                cx.msg_no
            ));
        }
    }

    /// Messages were lost in `dir`: the stream position is unknown, so what is held is
    /// dropped and decoding resumes at the next message (senders start a message with a
    /// packet, except when one packet is written in pieces: then the pieces up to the next
    /// packet are reported malformed). The lost messages may have set topic aliases: they are
    /// forgotten, so that a later use is reported unresolved rather than shown stale.
    pub fn lost(&mut self, dir: Dir) {
        if let Some(side) = self.dirs.get_mut(dir.index()) {
            side.held.clear();
            side.skip = 0;
            side.aliases.clear();
        }
    }
}

fn id_text(id: u16) -> String {
    id.to_string()
}
