//! Saving and replaying failing rounds of the differential test (JSON lines of segments),
//! apart from `disorder.rs` so that the fuzz target that includes that file needs no JSON.
#![allow(dead_code)]

use wsnoop::Limits;
use wsnoop::event::{EventKind, Timestamp};
use wsnoop::packet::TcpFlags;

use super::disorder::Seg;

/// Segments as one JSON line each (for saving a failing round: generated sessions with real
/// peers are not reproducible from their seed, the peers' writes interleave as threads run).
pub fn segs_to_json(segs: &[Seg]) -> String {
    let mut out = String::new();
    for s in segs {
        let v = serde_json::json!({
            "src": s.src.to_string(),
            "dst": s.dst.to_string(),
            "seq": s.seq,
            "flags": [s.flags.syn, s.flags.ack, s.flags.fin, s.flags.rst],
            "payload": base64_simd::STANDARD.encode_to_string(&s.payload),
            "missing": s.missing,
            "ts": [s.ts.secs, s.ts.nanos],
            "id": s.id,
        });
        out.push_str(&v.to_string());
        out.push('\n');
    }
    out
}

/// The segments [`segs_to_json`] wrote.
pub fn segs_from_json(text: &str) -> Vec<Seg> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON");
            let flag = |i: usize| v["flags"][i].as_bool().expect("flag");
            Seg {
                src: v["src"].as_str().expect("src").parse().expect("addr"),
                dst: v["dst"].as_str().expect("dst").parse().expect("addr"),
                seq: v["seq"].as_u64().expect("seq") as u32,
                flags: TcpFlags {
                    syn: flag(0),
                    ack: flag(1),
                    fin: flag(2),
                    rst: flag(3),
                },
                payload: base64_simd::STANDARD
                    .decode_to_vec(v["payload"].as_str().expect("payload"))
                    .expect("base64"),
                missing: v["missing"].as_u64().expect("missing") as u32,
                ts: Timestamp::new(
                    v["ts"][0].as_i64().expect("secs"),
                    v["ts"][1].as_u64().expect("nanos") as u32,
                ),
                id: v["id"].as_u64().expect("id") as usize,
            }
        })
        .collect()
}

/// Prints every event of a decode, one line each (messages by opcode, length and a prefix;
/// anomalies with their detail): for looking at a saved failing round.
pub fn print_events(segs: &[Seg], limits: &Limits) {
    let events = super::disorder::events(segs, limits);
    for ev in &events {
        let conn = ev.conn.map(|c| c.id).unwrap_or_default();
        match &ev.kind {
            EventKind::Message { dir, msg } => eprintln!(
                "#{conn} {} {} {} {:?}",
                dir_name(*dir),
                msg.opcode.as_str(),
                msg.payload.len(),
                String::from_utf8_lossy(&msg.payload[..msg.payload.len().min(60)])
            ),
            EventKind::Anomaly { dir, anomaly } => eprintln!(
                "#{conn} {} ANOMALY {}: {}",
                dir.map_or("-", dir_name),
                anomaly.kind.as_str(),
                anomaly.detail
            ),
            _ => {}
        }
    }
}

fn dir_name(d: wsnoop::event::Dir) -> &'static str {
    d.as_str()
}
