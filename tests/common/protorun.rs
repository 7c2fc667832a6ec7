//! Runs a capture through the engine and feeds each WebSocket connection's messages to a
//! [`ProtoConn`], writing the units as the JSON lines `wsnoop read --json` will write them
//! (`{"event":"proto","ts","conn","client","server","dir",...unit}`). Shared by the capture
//! tests and `examples/proto_lines.rs`.
#![allow(dead_code)]

use std::path::Path;

use serde_json::{Map, Value};
use wsnoop::capture::CaptureReader;
use wsnoop::event::{ConnRef, EventKind, Timestamp};
use wsnoop::proto::{ProtoChoice, ProtoConfig, Unanswered, Unit};
use wsnoop::{Engine, Limits};

/// What a capture yields: each unit with its connection, in output order, and what was left
/// unanswered per connection.
pub struct ProtoRun {
    pub units: Vec<(ConnRef, Unit)>,
    pub unanswered: Vec<(ConnRef, Unanswered)>,
    /// The engine's own JSON-free view: (conn, dir, opcode, payload) per message.
    pub messages: usize,
}

pub fn ts_text(ts: Timestamp) -> String {
    let mut v = Vec::new();
    wsnoop::sink::write_rfc3339_micros(&mut v, ts).expect("format time");
    String::from_utf8(v).expect("ASCII")
}

/// The engine's own protocol units and unanswered requests for the capture at `path`,
/// decoding as `choice` says with `config`'s bounds.
pub fn run(path: &Path, choice: ProtoChoice, config: &ProtoConfig) -> ProtoRun {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let limits = Limits {
        max_proto_unit_bytes: config.max_unit_bytes,
        max_proto_pending_requests: config.max_pending_requests,
        ..Limits::default()
    };
    let mut reader = CaptureReader::new(std::io::BufReader::new(file), &limits).expect("capture");
    let mut engine = Engine::new(limits);
    engine.set_proto(choice);
    let mut events = Vec::new();
    let mut out = ProtoRun {
        units: Vec::new(),
        unanswered: Vec::new(),
        messages: 0,
    };
    let mut done = false;
    while !done {
        match reader.next_packet().expect("readable capture") {
            Some(pkt) => {
                engine.packet(&pkt, &mut events);
            }
            None => {
                engine.finish(&mut events);
                done = true;
            }
        }
        for ev in events.drain(..) {
            let Some(conn) = ev.conn else { continue };
            match ev.kind {
                EventKind::Message { .. } => out.messages += 1,
                EventKind::Proto(unit) => out.units.push((conn, *unit)),
                EventKind::End {
                    report: Some(report),
                    ..
                } => out
                    .unanswered
                    .extend(report.unanswered.into_iter().map(|u| (conn, u))),
                _ => {}
            }
        }
    }
    out
}

/// The unit's output line.
pub fn line(conn: &ConnRef, unit: &Unit) -> Value {
    let mut m = Map::new();
    m.insert("event".into(), Value::from("proto"));
    m.insert("ts".into(), Value::from(ts_text(unit.ts)));
    m.insert("conn".into(), Value::from(conn.id));
    m.insert("client".into(), Value::from(conn.client.to_string()));
    m.insert("server".into(), Value::from(conn.server.to_string()));
    m.insert("dir".into(), Value::from(unit.dir.as_str()));
    unit.write_json(&mut m, |t| Value::from(ts_text(t)));
    Value::Object(m)
}
