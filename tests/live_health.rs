//! Connection health live on `lo` against a real tungstenite peer, on the real clock: ping
//! round trips on the `end` line (count exact, figures within what the client measured, the
//! capture point lying between the peers), and `--silence-alarm` (one `silence` event once
//! the connection has said nothing for longer than the period, one with `"ended":true` just
//! before the message that breaks the silence, their durations within what the test
//! measured). Needs root: skipped with a printed reason otherwise.
#![cfg(feature = "live")]

mod live_util;

use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use tungstenite::Message;

use live_util::{describe, is_event};

/// The alarm period given to wsnoop.
const ALARM: Duration = Duration::from_millis(300);
/// Capture timestamps and this process's clock are read at slightly different moments.
const SLACK_US: u64 = 2_000;

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap()
}

fn silence(v: &Value, ended: bool) -> bool {
    is_event(v, "silence") && v["ended"] == ended
}

#[test]
fn a_silent_connection_raises_one_alarm_and_its_end() {
    require_capture!();
    let port = live_util::free_port();
    let bpf = format!("tcp port {port}");
    let Some(mut w) = live_util::start(&["-f", &bpf, "--json", "--silence-alarm", "300ms"]) else {
        return;
    };
    let server = live_util::echo_server(port, 1);
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_nodelay(true).unwrap();
    let (mut ws, _) = tungstenite::client(format!("ws://127.0.0.1:{port}/quiet"), stream).unwrap();
    let open = w.wait_for("open", |v| is_event(v, "open"));
    let conn = open["conn"].as_u64().unwrap();

    let t0 = Instant::now();
    ws.send(Message::Text("a".into())).unwrap();
    assert_eq!(ws.read().unwrap(), Message::Text("a".into()));
    // The echo was captured before it was read here: the silence starts before t1.
    let t1 = Instant::now();
    let alarm = w.wait_for("the alarm", |v| silence(v, false));
    let seen = Instant::now();
    assert_eq!(alarm["conn"], conn);
    assert_eq!(alarm["client"], open["client"]);
    assert_eq!(alarm["server"], format!("127.0.0.1:{port}"));
    let silent = alarm["silent_us"].as_u64().unwrap();
    assert!(silent > micros(ALARM), "{alarm}");
    // Measured from the echo (after t0) to the look that raised it (before it was seen).
    assert!(silent <= micros(seen - t0) + SLACK_US, "{alarm}");

    // Quiet a while longer, then speak: the silence ends just before that message.
    thread::sleep(Duration::from_millis(700).saturating_sub(t1.elapsed()));
    let t2 = Instant::now();
    ws.send(Message::Text("b".into())).unwrap();
    let t3 = Instant::now();
    assert_eq!(ws.read().unwrap(), Message::Text("b".into()));
    let resumed = w.wait_for("the end of the silence", |v| silence(v, true));
    assert_eq!(resumed["conn"], conn);
    let quiet = resumed["silent_us"].as_u64().unwrap();
    // From the echo of "a" (captured between t0 and t1) to "b" (between t2 and t3).
    assert!(
        quiet + SLACK_US >= micros(t2 - t1),
        "{resumed} vs {:?}",
        t2 - t1
    );
    assert!(
        quiet <= micros(t3 - t0) + SLACK_US,
        "{resumed} vs {:?}",
        t3 - t0
    );
    assert!(quiet > silent, "{resumed} after {alarm}");
    w.wait_for("b", |v| {
        is_event(v, "message") && v["conn"] == conn && describe(v) == "c2s text \"b\""
    });

    drop(ws);
    let (status, all) = w.terminate();
    assert!(status.success(), "{status}");
    server.join().unwrap();
    let mine: Vec<&Value> = all.iter().filter(|v| v["conn"] == conn).collect();
    // Exactly one alarm, then its end right before the message "b" (what comes after "b"
    // depends on how fast this test hangs up).
    let at = mine.iter().position(|v| silence(v, true)).unwrap();
    assert_eq!(mine[..at].iter().filter(|v| silence(v, false)).count(), 1);
    assert_eq!(describe(mine[at + 1]), "c2s text \"b\"");
    assert_eq!(mine[at]["ts"], mine[at + 1]["ts"]);
}

#[test]
fn ping_round_trips_lie_within_what_the_client_measured() {
    require_capture!();
    let port = live_util::free_port();
    let bpf = format!("tcp port {port}");
    let Some(mut w) = live_util::start(&["-f", &bpf, "--json"]) else {
        return;
    };
    let server = live_util::echo_server(port, 1);
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_nodelay(true).unwrap();
    let (mut ws, _) = tungstenite::client(format!("ws://127.0.0.1:{port}/ping"), stream).unwrap();
    let open = w.wait_for("open", |v| is_event(v, "open"));
    let conn = open["conn"].as_u64().unwrap();
    // The client's own round trips: from before the ping is sent to after its pong is read.
    // The capture sees the ping after it left and the pong before it arrived.
    let mut measured = Vec::new();
    for i in 0..5 {
        let payload = format!("ping {i}");
        let t = Instant::now();
        ws.send(Message::Ping(payload.clone().into_bytes().into()))
            .unwrap();
        assert_eq!(
            ws.read().unwrap(),
            Message::Pong(payload.into_bytes().into())
        );
        measured.push(micros(t.elapsed()));
        thread::sleep(Duration::from_millis(20));
    }
    ws.close(None).unwrap();
    while ws.read().is_ok() {}
    drop(ws);
    server.join().unwrap();
    let end = w.wait_for("end", |v| is_event(v, "end") && v["conn"] == conn);
    let rtt = &end["rtt_us"]["c2s"];
    assert_eq!(rtt["count"], 5, "{end}");
    assert_eq!(end["rtt_us"]["s2c"], Value::Null, "{end}");
    let get = |k: &str| rtt[k].as_u64().unwrap();
    let (min, median, p99, max) = (get("min"), get("median"), get("p99"), get("max"));
    assert!(min <= median && median <= p99 && p99 == max, "{end}");
    let mut sorted = measured.clone();
    sorted.sort_unstable();
    // Each captured round trip is within the client's for the same ping.
    assert!(max <= sorted[4] + SLACK_US, "{end} vs {measured:?}");
    assert!(median <= sorted[4] + SLACK_US, "{end} vs {measured:?}");
    assert!(min <= sorted[0] + SLACK_US, "{end} vs {measured:?}");
    let close = &end["close"];
    assert_eq!(close["initiator"], "c2s", "{end}");
    assert_eq!(close["answered"], true, "{end}");
    assert_eq!(close["verdict"], "clean", "{end}");
    assert_eq!(close["tcp_end"], "fin", "{end}");
    let (status, _) = w.terminate();
    assert!(status.success(), "{status}");
}
