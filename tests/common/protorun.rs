//! Runs a capture through the engine and feeds each WebSocket connection's messages to a
//! [`ProtoConn`], writing the units as the JSON lines `wsnoop read --json` will write them
//! (`{"event":"proto","ts","conn","client","server","dir",...unit}`). Shared by the capture
//! tests and `examples/proto_lines.rs`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Value};
use wsnoop::capture::CaptureReader;
use wsnoop::event::{ConnRef, EventKind, Timestamp};
use wsnoop::proto::{MsgRef, ProtoChoice, ProtoConfig, ProtoConn, ProtoHints, Unanswered, Unit};
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

pub fn run(path: &Path, choice: ProtoChoice, config: &ProtoConfig) -> ProtoRun {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let limits = Limits::default();
    let mut reader = CaptureReader::new(std::io::BufReader::new(file), &limits).expect("capture");
    let mut engine = Engine::new(limits.clone());
    let mut events = Vec::new();
    let mut conns: HashMap<u64, (ConnRef, Option<ProtoConn>)> = HashMap::new();
    let mut out = ProtoRun {
        units: Vec::new(),
        unanswered: Vec::new(),
        messages: 0,
    };
    let mut scratch = Vec::new();
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
                EventKind::Open(info) => {
                    let hints = ProtoHints {
                        subprotocol: info.subprotocol.as_deref(),
                        uri: info.uri.as_deref(),
                    };
                    conns.insert(
                        conn.id,
                        (conn, ProtoConn::new(&hints, choice, config.clone())),
                    );
                }
                EventKind::Message { dir, msg } => {
                    out.messages += 1;
                    let Some((_, Some(pc))) = conns.get_mut(&conn.id) else {
                        continue;
                    };
                    pc.message(
                        &MsgRef {
                            dir,
                            ts: ev.ts,
                            opcode: msg.opcode,
                            payload: &msg.payload,
                        },
                        &mut scratch,
                    );
                    out.units.extend(scratch.drain(..).map(|u| (conn, u)));
                }
                EventKind::End { .. } => {
                    if let Some((c, Some(mut pc))) = conns.remove(&conn.id) {
                        out.unanswered
                            .extend(pc.finish().into_iter().map(|u| (c, u)));
                    }
                }
                EventKind::Anomaly { .. } => {}
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
