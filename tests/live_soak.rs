//! Soak: `wsnoop live` on `lo` while thousands of short WebSocket connections come and go
//! (some abandoned, left to the idle timeout). Memory must stay flat. Run as root with
//! `cargo test --release --features live --test live_soak -- --ignored --nocapture`;
//! `WSNOOP_SOAK_SECS` sets the duration (default 60).
#![cfg(feature = "live")]

mod live_util;

use std::collections::VecDeque;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use tungstenite::Message;

use live_util::{is_event, read_json_lines};

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[test]
#[ignore = "minutes long; run explicitly as root"]
fn memory_stays_flat_under_many_short_connections() {
    require_capture!();
    let secs: u64 = std::env::var("WSNOOP_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let dir = std::env::temp_dir().join(format!("wsnoop-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("soak.json");
    let port = live_util::free_port();
    let bpf = format!("tcp port {port}");
    let args = [
        "-f",
        &bpf,
        "--json",
        "-o",
        out.to_str().unwrap(),
        "--stats",
        "5",
        "--stats-event",
        "--idle-timeout",
        "3s",
        "--rotate-size",
        "64M",
        "--rotate-keep",
        "1",
    ];
    let Some(w) = live_util::start(&args) else {
        return;
    };
    let pid = w.child.id();
    let _server = live_util::echo_server(port, usize::MAX);
    let stop = Arc::new(AtomicBool::new(false));
    let conns = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..4)
        .map(|id| {
            let stop = Arc::clone(&stop);
            let conns = Arc::clone(&conns);
            thread::spawn(move || {
                let mut abandoned = VecDeque::new();
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let Ok(s) = TcpStream::connect(("127.0.0.1", port)) else {
                        continue;
                    };
                    let Ok((mut ws, _)) =
                        tungstenite::client(format!("ws://127.0.0.1:{port}/soak/{id}"), s)
                    else {
                        continue;
                    };
                    let text = format!(
                        "worker {id} connection {n} {}",
                        "x".repeat((n % 200) as usize)
                    );
                    if ws.send(Message::Text(text.into())).is_err() || ws.read().is_err() {
                        continue;
                    }
                    if n.is_multiple_of(20) {
                        // Left open and silent: only the idle timeout ends it in wsnoop.
                        abandoned.push_back(ws);
                        if abandoned.len() > 50 {
                            abandoned.pop_front();
                        }
                    } else {
                        let _ = ws.close(None);
                        while ws.read().is_ok() {}
                    }
                    conns.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let start = Instant::now();
    let mut samples = Vec::new();
    while start.elapsed() < Duration::from_secs(secs) {
        thread::sleep(Duration::from_secs(5).min(Duration::from_secs(secs)));
        let sample = (
            start.elapsed().as_secs(),
            conns.load(Ordering::Relaxed),
            rss_kib(pid),
        );
        eprintln!(
            "soak: t={}s connections={} wsnoop RSS={} KiB",
            sample.0, sample.1, sample.2
        );
        samples.push(sample);
    }
    stop.store(true, Ordering::Relaxed);
    for h in workers {
        h.join().unwrap();
    }
    // Let the idle timeout end the abandoned connections, then look at the last stats.
    thread::sleep(Duration::from_secs(6));
    let (status, _) = w.terminate();
    assert!(status.success());
    let events = read_json_lines(&out);
    let stats: Vec<_> = events.iter().filter(|v| is_event(v, "stats")).collect();
    for s in &stats {
        eprintln!("soak: {s}");
    }
    let total = conns.load(Ordering::Relaxed);
    eprintln!("soak: {total} connections in {secs} s");
    assert!(total > 1000, "only {total} connections");
    let drops = stats.last().unwrap()["kernel_drops"].as_u64().unwrap_or(0);
    eprintln!("soak: kernel drops {drops}");
    // Flat: after warm-up, RSS grows by no more than 8 MiB however long it runs.
    let warm = samples[samples.len() / 4].2;
    let last = samples.last().unwrap().2;
    assert!(
        last <= warm + 8 * 1024,
        "RSS grew from {warm} KiB to {last} KiB"
    );
    // Buffers stay small throughout: short connections free theirs as they end.
    let held = stats
        .iter()
        .filter_map(|s| s["memory_bytes"].as_u64())
        .max()
        .unwrap();
    eprintln!("soak: most memory held by buffers {held} bytes");
    assert!(held < 32 << 20, "{held} bytes held");
}
