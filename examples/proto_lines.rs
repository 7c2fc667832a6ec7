//! Prints the application-protocol units of a capture as JSON lines, the way `wsnoop read
//! --json` will (for checking by hand: `cargo run --example proto_lines -- FILE.pcap >
//! out.jsonl; python3 check_proto.py FILE.proto.jsonl out.jsonl`; with `TEXT=1` one summary
//! line per unit). Units never answered are printed last as `{"event":"unanswered",...}`.

#[path = "../tests/common/protorun.rs"]
mod protorun;

use std::io::Write;

use serde_json::Value;
use wsnoop::proto::{ProtoChoice, ProtoConfig};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: proto_lines FILE.pcap [PROTO]");
        std::process::exit(2);
    };
    let choice = std::env::args().nth(2).map_or(ProtoChoice::Auto, |p| {
        p.parse().expect("auto, none or a protocol name")
    });
    let run = protorun::run(path.as_ref(), choice, &ProtoConfig::default());
    let mut out = std::io::stdout().lock();
    let text = std::env::var_os("TEXT").is_some();
    for (conn, unit) in &run.units {
        if text {
            let paired = unit
                .latency_us
                .map(|l| format!("  (reply after {l} µs)"))
                .unwrap_or_default();
            let bad = unit
                .anomaly
                .as_ref()
                .map(|a| format!("  !! {}: {}", a.kind.as_str(), a.detail))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{} {} {:8} {}{paired}{bad}",
                conn.id,
                unit.dir.as_str(),
                unit.proto,
                unit.summary
            );
        } else {
            let _ = writeln!(out, "{}", protorun::line(conn, unit));
        }
    }
    for (conn, u) in &run.unanswered {
        let line = serde_json::json!({
            "event": "unanswered", "ts": protorun::ts_text(u.ts), "conn": conn.id,
            "client": conn.client.to_string(), "server": conn.server.to_string(),
            "dir": u.dir.as_str(), "proto": u.proto, "type": u.kind, "id": u.id,
            "summary": Value::from(u.summary.as_str()),
        });
        let _ = writeln!(out, "{line}");
    }
}
