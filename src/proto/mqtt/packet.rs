//! One complete MQTT control packet → a unit's fields, summary and pairing.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::codes::{connack_return, packet_name, reason, suback_return};
use super::props;
use super::reader::{Reader, Res};
use crate::proto::text::{Line, put_bytes, size};
use crate::proto::unit::Unit;

/// Which MQTT the connection speaks, learnt from its CONNECT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Version {
    /// No CONNECT seen (picked up mid-stream): only what both versions share is decoded.
    Unknown,
    /// MQTT 3.1 (`MQIsdp`, level 3) or 3.1.1 (level 4).
    V3,
    /// MQTT 5.0 (level 5).
    V5,
}

/// What a packet does in a request/reply exchange: the class of exchange and the packet id.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Pairing {
    /// Answers a request of this class sent the other way.
    pub answers: Option<(&'static str, u16)>,
    /// Waits for a reply of this class.
    pub waits: Option<(&'static str, u16)>,
}

/// MQTT 5.0 §3.3.2.3.4: topic aliases, one mapping per direction.
#[derive(Default)]
pub(super) struct Aliases {
    map: HashMap<u16, String>,
    bytes: usize,
}

impl Aliases {
    pub fn clear(&mut self) {
        self.map.clear();
        self.bytes = 0;
    }
}

pub(super) struct Packet<'a> {
    pub kind: u8,
    pub flags: u8,
    pub body: &'a [u8],
}

/// Decodes `p` into `unit`; problems go on the unit as a `proto_error`.
pub(super) fn decode(
    p: &Packet<'_>,
    version: &mut Version,
    aliases: &mut Aliases,
    max_alias_bytes: usize,
    unit: &mut Unit,
) -> Pairing {
    let mut problems = Vec::new();
    // 3.1.1 §2.2.2 / 5.0 §2.1.3: the flags of every packet but PUBLISH are fixed.
    let want_flags = match p.kind {
        6 | 8 | 10 => Some(0b0010),
        3 => None,
        _ => Some(0),
    };
    if let Some(want) = want_flags
        && p.flags != want
    {
        problems.push(format!(
            "fixed header flags 0x{:x}, the specification requires 0x{want:x}",
            p.flags
        ));
    }
    let mut d = Decoder {
        r: Reader::new(p.body),
        unit,
        problems,
        version: *version,
        kind: p.kind,
    };
    let mut pairing = Pairing::default();
    let result = match p.kind {
        1 => {
            pairing.waits = Some(("connect", 0));
            d.connect(version)
        }
        2 => d.connack(&mut pairing),
        3 => d.publish(p.flags, aliases, max_alias_bytes, &mut pairing),
        4..=7 => d.ack(&mut pairing),
        8 => d.subscribe(&mut pairing),
        9 => d.suback(&mut pairing),
        10 => d.unsubscribe(&mut pairing),
        11 => d.unsuback(&mut pairing),
        12 => {
            pairing.waits = Some(("ping", 0));
            Ok(())
        }
        13 => {
            pairing.answers = Some(("ping", 0));
            Ok(())
        }
        14 | 15 => d.disconnect_or_auth(),
        _ => Err("packet type 0 is reserved".to_owned()),
    };
    let left = d.r.remaining();
    let mut problems = std::mem::take(&mut d.problems);
    let unit = d.unit;
    if unit.summary.is_empty() {
        unit.summary = packet_name(p.kind).to_owned();
    }
    match result {
        Err(e) => problems.insert(0, e),
        Ok(()) if left > 0 && *version != Version::Unknown => {
            problems.push(format!("{left} bytes after the packet's last field"));
        }
        Ok(()) => {}
    }
    if let Some(first) = problems.first() {
        let more = match problems.len() {
            1 => String::new(),
            n => format!(" (and {} more problems)", n - 1),
        };
        unit.malformed(format!("{}: {first}{more}", packet_name(p.kind)));
    }
    pairing
}

struct Decoder<'a, 'u> {
    r: Reader<'a>,
    unit: &'u mut Unit,
    problems: Vec<String>,
    version: Version,
    kind: u8,
}

impl Decoder<'_, '_> {
    fn string(&mut self, what: &str) -> Res<String> {
        let (s, bad) = self.r.string(what)?;
        self.problems.extend(bad);
        Ok(s)
    }

    fn properties(&mut self) -> Res<Option<Map<String, Value>>> {
        if self.version != Version::V5 {
            return Ok(None);
        }
        props::read(&mut self.r, &mut self.problems).map(Some)
    }

    fn put_properties(&mut self, props: Option<Map<String, Value>>) {
        if let Some(props) = props {
            self.unit.set("properties", Value::Object(props));
        }
    }

    /// 3.1.1 §3.1 / 5.0 §3.1 CONNECT.
    fn connect(&mut self, version: &mut Version) -> Res<()> {
        let name = self.string("protocol name")?;
        let level = self.r.u8("protocol level")?;
        // 3.1.1 §3.1.2.2: level 4; 3.1 used level 3 with the name MQIsdp; 5.0 §3.1.2.2: 5.
        self.version = match level {
            3 | 4 => Version::V3,
            5 => Version::V5,
            other => {
                *version = Version::Unknown;
                self.unit.set("protocol_name", name);
                self.unit.set("protocol_level", other);
                return Err(format!("unknown protocol level {other}"));
            }
        };
        *version = self.version;
        if !matches!(name.as_str(), "MQTT" | "MQIsdp") {
            self.problems.push(format!("protocol name {name:?}"));
        }
        let flags = self.r.u8("connect flags")?;
        let keepalive = self.r.u16("keep alive")?;
        let v5 = self.version == Version::V5;
        self.unit.set("protocol_name", name);
        self.unit.set("protocol_level", level);
        self.unit.set(
            if v5 { "clean_start" } else { "clean_session" },
            flags & 0x02 != 0,
        );
        self.unit.set("keepalive", keepalive);
        if flags & 0x01 != 0 {
            // §3.1.2.3: "the Server MUST validate that the reserved flag ... is set to 0".
            self.problems.push("reserved connect flag set".into());
        }
        let props = self.properties()?;
        self.put_properties(props);
        let client_id = self.string("client identifier")?;
        self.unit.set("client_id", client_id.as_str());
        if flags & 0x04 != 0 {
            let will_props = self.properties()?;
            let topic = self.string("will topic")?;
            let payload = self.r.binary("will payload")?;
            let mut will = Map::new();
            will.insert("topic".into(), Value::from(topic));
            will.insert("qos".into(), Value::from((flags >> 3) & 0x03));
            will.insert("retain".into(), Value::from(flags & 0x20 != 0));
            if let Some(p) = will_props {
                will.insert("properties".into(), Value::Object(p));
            }
            put_bytes(&mut will, "payload", payload);
            self.unit.set("will", Value::Object(will));
        } else if flags & 0x38 != 0 {
            self.problems
                .push("will QoS or retain set without the will flag".into());
        }
        let mut line = Line::new("CONNECT");
        line.piece(&client_id);
        line.fmt(format_args!(
            "{} keepalive {keepalive}",
            if v5 { "v5" } else { "v3.1.1" }
        ));
        if flags & 0x80 != 0 {
            let user = self.string("user name")?;
            line.fmt(format_args!("user")).piece(&user);
            self.unit.set("username", user);
        }
        if flags & 0x40 != 0 {
            let pw = self.r.binary("password")?;
            self.unit.set("password_b64", crate::proto::text::b64(pw));
        }
        self.unit.summary = line.finish();
        Ok(())
    }

    /// §3.2 CONNACK; it answers the CONNECT.
    fn connack(&mut self, pairing: &mut Pairing) -> Res<()> {
        pairing.answers = Some(("connect", 0));
        if self.version == Version::Unknown {
            let flags = self.r.u8("acknowledge flags")?;
            self.unit.set("session_present", flags & 1 != 0);
            self.r.rest();
            return Ok(());
        }
        let flags = self.r.u8("acknowledge flags")?;
        let code = self.r.u8("return code")?;
        self.unit.set("session_present", flags & 1 != 0);
        let name = self.code(code, "return_code", "reason_code");
        let props = self.properties()?;
        self.put_properties(props);
        self.unit.summary = Line::new("CONNACK")
            .fmt(format_args!("{code}"))
            .piece(name.unwrap_or("?"))
            .finish();
        Ok(())
    }

    /// Writes a 3.1.1 return code or a 5.0 reason code with its name.
    fn code(&mut self, code: u8, v3_name: &str, v5_name: &str) -> Option<&'static str> {
        let (field, name) = if self.version == Version::V5 {
            (v5_name, reason(code, self.kind))
        } else if self.kind == 2 {
            (v3_name, connack_return(code))
        } else {
            (v3_name, suback_return(code))
        };
        self.unit.set(field, code);
        match name {
            Some(n) => self.unit.set(&format!("{field}_name"), n),
            None => self.problems.push(format!(
                "{} 0x{code:02x} is not defined",
                field.replace('_', " ")
            )),
        }
        name
    }

    /// §3.3 PUBLISH.
    fn publish(
        &mut self,
        flags: u8,
        aliases: &mut Aliases,
        max_alias_bytes: usize,
        pairing: &mut Pairing,
    ) -> Res<()> {
        let dup = flags & 0x08 != 0;
        let qos = (flags >> 1) & 0x03;
        let retain = flags & 0x01 != 0;
        if qos == 3 {
            // §3.3.1.2: "A PUBLISH Packet MUST NOT have both QoS bits set to 1".
            self.problems.push("QoS 3".into());
        }
        if dup && qos == 0 {
            self.problems
                .push("DUP set on a QoS 0 message [MQTT-3.3.1-2]".into());
        }
        let wire_topic = self.string("topic name")?;
        let packet_id = if qos > 0 {
            Some(self.r.u16("packet identifier")?)
        } else {
            None
        };
        let props = self.properties()?;
        let alias = props
            .as_ref()
            .and_then(|p| p.get("topic_alias"))
            .and_then(Value::as_u64)
            .and_then(|a| u16::try_from(a).ok());
        let topic = match alias {
            Some(a) if wire_topic.is_empty() => match aliases.map.get(&a) {
                Some(t) => t.clone(),
                None => {
                    self.problems
                        .push(format!("topic alias {a} was never set in this direction"));
                    String::new()
                }
            },
            Some(a) => {
                let old = aliases.map.get(&a).map_or(0, String::len);
                if aliases.bytes - old + wire_topic.len() <= max_alias_bytes {
                    aliases.bytes = aliases.bytes - old + wire_topic.len();
                    aliases.map.insert(a, wire_topic.clone());
                }
                wire_topic
            }
            None => wire_topic,
        };
        self.unit.set("topic", topic.as_str());
        self.unit.set("qos", qos);
        self.unit.set("retain", retain);
        self.unit.set("dup", dup);
        if let Some(id) = packet_id {
            self.unit.set("packet_id", id);
            match qos {
                1 => pairing.waits = Some(("puback", id)),
                2 => pairing.waits = Some(("pubrec", id)),
                _ => {}
            }
        }
        if let Some(a) = alias {
            self.unit.set("topic_alias", a);
        }
        let mut line = Line::new("PUBLISH");
        line.piece(&topic).fmt(format_args!("q{qos}"));
        if let Some(id) = packet_id {
            line.fmt(format_args!("#{id}"));
        }
        if dup {
            line.piece("dup");
        }
        if retain {
            line.piece("retain");
        }
        self.put_properties(props);
        if self.version != Version::Unknown {
            let payload = self.r.rest();
            line.piece(&size(payload.len()));
            put_bytes(&mut self.unit.fields, "payload", payload);
        }
        self.unit.summary = line.finish();
        Ok(())
    }

    /// §3.4–§3.7 PUBACK, PUBREC, PUBREL, PUBCOMP: the QoS 1 and QoS 2 flows.
    fn ack(&mut self, pairing: &mut Pairing) -> Res<()> {
        let id = self.r.u16("packet identifier")?;
        self.unit.set("packet_id", id);
        let mut line = Line::new(packet_name(self.kind));
        line.fmt(format_args!("#{id}"));
        let mut code = 0;
        if self.version == Version::V5 {
            // 5.0 §3.4.2.1: the reason code may be left out when it is 0x00 (Success).
            if !self.r.is_empty() {
                code = self.r.u8("reason code")?;
            }
            let name = self.code(code, "return_code", "reason_code");
            if code != 0 {
                line.piece(name.unwrap_or("?"));
            }
            if !self.r.is_empty() {
                let props = self.properties()?;
                self.put_properties(props);
            }
        } else if self.version == Version::Unknown {
            self.r.rest();
        }
        // A reason code of 0x80 or more ends the QoS 2 flow (5.0 §4.3.3).
        let goes_on = code < 0x80;
        *pairing = match self.kind {
            4 => Pairing {
                answers: Some(("puback", id)),
                waits: None,
            },
            5 => Pairing {
                answers: Some(("pubrec", id)),
                waits: goes_on.then_some(("pubrel", id)),
            },
            6 => Pairing {
                answers: Some(("pubrel", id)),
                waits: goes_on.then_some(("pubcomp", id)),
            },
            _ => Pairing {
                answers: Some(("pubcomp", id)),
                waits: None,
            },
        };
        self.unit.summary = line.finish();
        Ok(())
    }

    /// §3.8 SUBSCRIBE.
    fn subscribe(&mut self, pairing: &mut Pairing) -> Res<()> {
        let id = self.r.u16("packet identifier")?;
        self.unit.set("packet_id", id);
        pairing.waits = Some(("suback", id));
        if self.version == Version::Unknown {
            self.r.rest();
            self.unit.summary = format!("SUBSCRIBE #{id}");
            return Ok(());
        }
        let props = self.properties()?;
        let mut subs = Vec::new();
        let mut line = Line::new("SUBSCRIBE");
        line.fmt(format_args!("#{id}"));
        while !self.r.is_empty() {
            let topic = self.string("topic filter")?;
            let options = self.r.u8("subscription options")?;
            let mut sub = Map::new();
            line.piece(&topic).fmt(format_args!("q{}", options & 3));
            sub.insert("topic".into(), Value::from(topic));
            sub.insert("qos".into(), Value::from(options & 0x03));
            if options & 0x03 == 3 {
                self.problems.push("subscription QoS 3".into());
            }
            if self.version == Version::V5 {
                sub.insert("no_local".into(), Value::from(options & 0x04 != 0));
                sub.insert(
                    "retain_as_published".into(),
                    Value::from(options & 0x08 != 0),
                );
                sub.insert("retain_handling".into(), Value::from((options >> 4) & 0x03));
                if options & 0xc0 != 0 {
                    self.problems
                        .push("reserved subscription option bits set".into());
                }
            } else if options & 0xfc != 0 {
                self.problems
                    .push("reserved subscription option bits set".into());
            }
            subs.push(Value::Object(sub));
        }
        if subs.is_empty() {
            // 3.1.1 §3.8.3 / 5.0 §3.8.3: at least one topic filter.
            self.problems.push("no topic filter".into());
        }
        self.unit.set("subscriptions", subs);
        self.put_properties(props);
        self.unit.summary = line.finish();
        Ok(())
    }

    /// §3.9 SUBACK.
    fn suback(&mut self, pairing: &mut Pairing) -> Res<()> {
        let id = self.r.u16("packet identifier")?;
        self.unit.set("packet_id", id);
        pairing.answers = Some(("suback", id));
        let mut line = Line::new("SUBACK");
        line.fmt(format_args!("#{id}"));
        if self.version == Version::Unknown {
            self.r.rest();
            self.unit.summary = line.finish();
            return Ok(());
        }
        let props = self.properties()?;
        self.codes("return_codes", "reason_codes", &mut line);
        self.put_properties(props);
        self.unit.summary = line.finish();
        Ok(())
    }

    /// The list of codes that ends SUBACK and 5.0 UNSUBACK, with their names.
    fn codes(&mut self, v3_name: &str, v5_name: &str, line: &mut Line) {
        let codes = self.r.rest();
        let v5 = self.version == Version::V5;
        let mut names = Vec::new();
        for &c in codes {
            let name = if v5 {
                reason(c, self.kind)
            } else {
                suback_return(c)
            };
            match name {
                Some(n) => names.push(Value::from(n)),
                None => {
                    self.problems.push(format!("code 0x{c:02x} is not defined"));
                    names.push(Value::Null);
                }
            }
        }
        line.fmt(format_args!("{codes:?}"));
        let field = if v5 { v5_name } else { v3_name };
        self.unit.set(field, codes.to_vec());
        self.unit
            .set(&format!("{}_names", field.trim_end_matches('s')), names);
    }

    /// §3.10 UNSUBSCRIBE.
    fn unsubscribe(&mut self, pairing: &mut Pairing) -> Res<()> {
        let id = self.r.u16("packet identifier")?;
        self.unit.set("packet_id", id);
        pairing.waits = Some(("unsuback", id));
        let mut line = Line::new("UNSUBSCRIBE");
        line.fmt(format_args!("#{id}"));
        if self.version == Version::Unknown {
            self.r.rest();
            self.unit.summary = line.finish();
            return Ok(());
        }
        let props = self.properties()?;
        let mut topics = Vec::new();
        while !self.r.is_empty() {
            let t = self.string("topic filter")?;
            line.piece(&t);
            topics.push(Value::from(t));
        }
        if topics.is_empty() {
            self.problems.push("no topic filter".into());
        }
        self.unit.set("topics", topics);
        self.put_properties(props);
        self.unit.summary = line.finish();
        Ok(())
    }

    /// §3.11 UNSUBACK (5.0 adds properties and a reason code per topic filter).
    fn unsuback(&mut self, pairing: &mut Pairing) -> Res<()> {
        let id = self.r.u16("packet identifier")?;
        self.unit.set("packet_id", id);
        pairing.answers = Some(("unsuback", id));
        let mut line = Line::new("UNSUBACK");
        line.fmt(format_args!("#{id}"));
        match self.version {
            Version::V5 => {
                let props = self.properties()?;
                self.codes("return_codes", "reason_codes", &mut line);
                self.put_properties(props);
            }
            Version::Unknown => {
                self.r.rest();
            }
            Version::V3 => {}
        }
        self.unit.summary = line.finish();
        Ok(())
    }

    /// 5.0 §3.14 DISCONNECT and §3.15 AUTH: an optional reason code and properties. In 3.1.1
    /// DISCONNECT has no variable header and type 15 is reserved.
    fn disconnect_or_auth(&mut self) -> Res<()> {
        let name = packet_name(self.kind);
        match self.version {
            Version::V5 => {
                let mut line = Line::new(name);
                let code = if self.r.is_empty() {
                    0
                } else {
                    self.r.u8("reason code")?
                };
                let text = self.code(code, "return_code", "reason_code");
                line.piece(text.unwrap_or("?"));
                if !self.r.is_empty() {
                    let props = self.properties()?;
                    self.put_properties(props);
                }
                self.unit.summary = line.finish();
                Ok(())
            }
            Version::V3 if self.kind == 15 => {
                Err("packet type 15 is reserved in MQTT 3.1.1".into())
            }
            Version::V3 => Ok(()),
            Version::Unknown => {
                self.r.rest();
                Ok(())
            }
        }
    }
}
