//! Connection health from real peers: tungstenite client and server over 127.0.0.1, on a
//! virtual clock (`common::timed`) so that every time in the capture is known. The engine
//! decodes the capture, a tracker is fed from its events, and the reports are asserted
//! exactly: RTT figures from pings answered after known delays, the close handshake (clean,
//! never answered, data after close), a reset mid-stream, silences. The same captures through
//! the `wsnoop` binary: the JSON `end` line, the `rtt` and `close:` filter terms, `--summary`.

mod common;

use std::net::{TcpListener, TcpStream};
use std::thread;

use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Bytes, Message, WebSocket};
use wsnoop::event::{AnomalyKind, Dir, Event, EventKind, Timestamp};
use wsnoop::health::{CloseReport, HealthReport, RttStats, TcpEnd, Verdict};

use common::timed::{Recorder, Shared, Teardown, advance, capture, decode, wire};

/// When the peers start (µs after the capture's SYN): the `open` event's time.
const T0: u64 = 1000;

/// A connected pair: runs `server` on the accepted socket in a thread and `client` here;
/// returns the wire log once both are done.
fn run(
    server: impl FnOnce(WebSocket<Recorder>, Shared) + Send + 'static,
    client: impl FnOnce(WebSocket<Recorder>, Shared),
) -> Vec<(u64, usize, Vec<u8>)> {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    let w = wire(T0);
    let sw = w.clone();
    let srv = thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        let rec = Recorder {
            inner: stream,
            side: 1,
            wire: sw.clone(),
        };
        let ws = tungstenite::accept(rec).expect("server handshake");
        server(ws, sw);
    });
    let rec = Recorder {
        inner: TcpStream::connect(addr).expect("connect"),
        side: 0,
        wire: w.clone(),
    };
    let (ws, _) =
        tungstenite::client::client(format!("ws://{addr}/feed"), rec).expect("client handshake");
    client(ws, w.clone());
    srv.join().expect("server thread");
    std::mem::take(&mut w.lock().expect("wire").log)
}

/// The health report of every connection, as the engine gives it on the `end` event.
fn reports(events: &[Event]) -> Vec<HealthReport> {
    events
        .iter()
        .filter_map(|ev| match &ev.kind {
            EventKind::End { report, .. } => {
                Some(report.as_ref().expect("the engine reports").health.clone())
            }
            _ => None,
        })
        .collect()
}

fn anomalies(events: &[Event]) -> Vec<&'static str> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Anomaly { anomaly, .. } => Some(anomaly.kind.as_str()),
            _ => None,
        })
        .collect()
}

fn one_report(pcap: &[u8]) -> (HealthReport, Vec<Event>) {
    let events = decode(pcap);
    let mut r = reports(&events);
    assert_eq!(r.len(), 1, "one connection");
    (r.remove(0), events)
}

fn at(us: u64) -> Timestamp {
    Timestamp::new(
        1_700_000_000 + (us / 1_000_000) as i64,
        (us % 1_000_000) as u32 * 1000,
    )
}

fn close_frame(code: CloseCode, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// (idle before the ping, the server's delay before its pong), µs.
const PINGS: [(u64, u64); 5] = [
    (50_000, 3_000),
    (20_000, 7_000),
    (100_000, 1_000),
    (10_000, 12_000),
    (30_000, 5_000),
];

/// Five client pings answered after known delays, one server ping, an unsolicited pong, a
/// clean close (see the timeline in the test below).
fn pings_capture() -> Vec<u8> {
    let log = run(
        |mut ws, w| {
            for (_, delay) in PINGS {
                assert!(matches!(ws.read().expect("ping"), Message::Ping(_)));
                // tungstenite queued the pong; it leaves with the next flush.
                advance(&w, delay);
                ws.flush().expect("pong");
            }
            assert_eq!(ws.read().expect("text"), Message::text("ping me"));
            ws.send(Message::Ping(Bytes::from_static(b"srv")))
                .expect("server ping");
            assert_eq!(
                ws.read().expect("pong"),
                Message::Pong(Bytes::from_static(b"srv"))
            );
            assert_eq!(
                ws.read().expect("unsolicited"),
                Message::Pong(Bytes::from_static(b"beat"))
            );
            assert!(matches!(ws.read().expect("close"), Message::Close(_)));
            advance(&w, 4_000);
            // Sends the queued close reply; the handshake is then complete.
            assert!(matches!(
                ws.read(),
                Err(tungstenite::Error::ConnectionClosed)
            ));
        },
        |mut ws, w| {
            for (i, (idle, _)) in PINGS.into_iter().enumerate() {
                advance(&w, idle);
                let p = Bytes::from(format!("p{i}"));
                ws.send(Message::Ping(p.clone())).expect("ping");
                assert_eq!(ws.read().expect("pong"), Message::Pong(p));
            }
            advance(&w, 40_000);
            ws.send(Message::text("ping me")).expect("text");
            assert!(matches!(ws.read().expect("server ping"), Message::Ping(_)));
            advance(&w, 2_500);
            ws.flush().expect("pong");
            advance(&w, 1_000);
            ws.send(Message::Pong(Bytes::from_static(b"beat")))
                .expect("unsolicited pong");
            advance(&w, 10_000);
            ws.send(close_frame(CloseCode::Normal, "done"))
                .expect("close");
            assert!(matches!(ws.read().expect("close reply"), Message::Close(_)));
        },
    );
    // Timeline (µs): pings at 51,000 74,000 181,000 192,000 234,000, pongs 3,000 7,000 1,000
    // 12,000 5,000 later; "ping me" and the server's ping at 279,000, its pong at 281,500;
    // the unsolicited pong at 282,500; close at 292,500, answered at 296,500.
    let last = log.last().expect("log").0;
    assert_eq!(last, 296_500, "the clock as the test computed it");
    capture(
        &log,
        "127.0.0.1:40001",
        "127.0.0.1:9001",
        Teardown::Fin {
            first: 1,
            at: 298_500,
            second_at: 298_800,
        },
    )
}

#[test]
fn pings_with_known_delays_and_a_clean_close() {
    let pcap = pings_capture();
    let (r, events) = one_report(&pcap);
    assert_eq!(anomalies(&events), Vec::<&str>::new());
    assert_eq!(events.first().map(|e| e.ts), Some(at(T0)));
    assert_eq!(
        r,
        HealthReport {
            rtt_us: [
                Some(RttStats {
                    min: 1_000,
                    median: 5_000,
                    p99: 12_000,
                    max: 12_000,
                    count: 5
                }),
                Some(RttStats {
                    min: 2_500,
                    median: 2_500,
                    p99: 2_500,
                    max: 2_500,
                    count: 1
                }),
            ],
            close: CloseReport {
                initiator: Some(Dir::C2s),
                code: Some(1000),
                reason: Some("done".into()),
                answered: true,
                close_to_answer_us: Some(4_000),
                tcp_end: Some(TcpEnd::Fin),
                // To the first FIN (the server's): 298,500 - 292,500.
                close_to_tcp_end_us: Some(6_000),
                verdict: Verdict::Clean,
            },
            // c2s: 74,000 → 181,000; s2c: the pong at 81,000 → the pong at 182,000.
            longest_silence_us: [107_000, 101_000],
        }
    );
    let mut json = Vec::new();
    r.write_json(&mut json).expect("json");
    assert_eq!(
        String::from_utf8(json).expect("utf8"),
        ",\"rtt_us\":{\"c2s\":{\"min\":1000,\"median\":5000,\"p99\":12000,\"max\":12000,\
         \"count\":5},\"s2c\":{\"min\":2500,\"median\":2500,\"p99\":2500,\"max\":2500,\
         \"count\":1}},\"close\":{\"initiator\":\"c2s\",\"code\":1000,\"reason\":\"done\",\
         \"answered\":true,\"close_to_answer_us\":4000,\"tcp_end\":\"fin\",\
         \"close_to_tcp_end_us\":6000,\"verdict\":\"clean\"},\
         \"longest_silence_us\":{\"c2s\":107000,\"s2c\":101000}"
    );
}

/// The client's close is never answered: the server hangs up without its close frame.
fn half_closed_capture() -> Vec<u8> {
    let log = run(
        |mut ws, _| {
            assert_eq!(ws.read().expect("text"), Message::text("hi"));
            assert!(matches!(ws.read().expect("close"), Message::Close(_)));
            // Hangs up without flushing the close reply tungstenite queued.
            drop(ws);
        },
        |mut ws, w| {
            advance(&w, 5_000);
            ws.send(Message::text("hi")).expect("text");
            advance(&w, 10_000);
            ws.send(close_frame(CloseCode::Away, "bye")).expect("close");
            // The server's socket closes without a close frame.
            assert!(ws.read().is_err());
        },
    );
    assert_eq!(log.last().expect("log").0, 16_000);
    capture(
        &log,
        "127.0.0.1:40002",
        "127.0.0.1:9002",
        Teardown::Fin {
            first: 1,
            at: 5_016_000,
            second_at: 5_016_100,
        },
    )
}

#[test]
fn server_never_answers_the_close() {
    let pcap = half_closed_capture();
    let (r, events) = one_report(&pcap);
    assert_eq!(anomalies(&events), Vec::<&str>::new());
    assert_eq!(
        r,
        HealthReport {
            rtt_us: [None, None],
            close: CloseReport {
                initiator: Some(Dir::C2s),
                code: Some(1001),
                reason: Some("bye".into()),
                answered: false,
                close_to_answer_us: None,
                tcp_end: Some(TcpEnd::Fin),
                // To the first FIN (the server's at 5,016,000).
                close_to_tcp_end_us: Some(5_000_000),
                verdict: Verdict::HalfClosed,
            },
            // c2s: the close at 16,000 to its FIN at 5,016,100; s2c never spoke: from the
            // open at 1,000 to its FIN at 5,016,000.
            longest_silence_us: [5_000_100, 5_015_000],
        }
    );
}

/// Three echoes, then the server crashes on the fourth message: a reset, no close frame.
fn reset_capture() -> Vec<u8> {
    let log = run(
        |mut ws, w| {
            for _ in 0..3 {
                let m = ws.read().expect("text");
                advance(&w, 500);
                ws.send(m).expect("echo");
            }
            assert_eq!(ws.read().expect("text"), Message::text("d"));
            // Crashes here: the capture shows its reset.
        },
        |mut ws, w| {
            for t in ["a", "b", "c"] {
                advance(&w, 1_000);
                ws.send(Message::text(t)).expect("text");
                assert_eq!(ws.read().expect("echo"), Message::text(t));
            }
            advance(&w, 2_000);
            ws.send(Message::text("d")).expect("text");
            assert!(ws.read().is_err());
        },
    );
    assert_eq!(log.last().expect("log").0, 7_500);
    capture(
        &log,
        "127.0.0.1:40003",
        "127.0.0.1:9003",
        Teardown::Rst { side: 1, at: 8_300 },
    )
}

#[test]
fn connection_reset_mid_stream() {
    let pcap = reset_capture();
    let (r, events) = one_report(&pcap);
    assert_eq!(anomalies(&events), Vec::<&str>::new());
    assert!(matches!(
        events.last().map(|e| &e.kind),
        Some(EventKind::End {
            how: wsnoop::event::EndHow::Rst,
            messages: 7,
            ..
        })
    ));
    assert_eq!(
        r,
        HealthReport {
            rtt_us: [None, None],
            close: CloseReport {
                initiator: None,
                code: None,
                reason: None,
                answered: false,
                close_to_answer_us: None,
                tcp_end: Some(TcpEnd::Rst),
                close_to_tcp_end_us: None,
                verdict: Verdict::Abnormal,
            },
            // c2s: "c" at 5,000 → "d" at 7,500; s2c: the last echo at 5,500 → the reset.
            longest_silence_us: [2_500, 2_800],
        }
    );
}

/// A masked text frame written straight to the socket: tungstenite itself refuses to send
/// data after its close.
fn raw_text(s: &str) -> Vec<u8> {
    let key = [0x11, 0x22, 0x33, 0x44];
    let mut f = vec![0x81, 0x80 | s.len() as u8];
    f.extend_from_slice(&key);
    f.extend(s.bytes().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

#[test]
fn data_after_close() {
    let log = run(
        |mut ws, w| {
            assert!(matches!(ws.read().expect("close"), Message::Close(_)));
            advance(&w, 1_000);
            assert!(matches!(
                ws.read(),
                Err(tungstenite::Error::ConnectionClosed)
            ));
        },
        |mut ws, w| {
            advance(&w, 2_000);
            ws.send(close_frame(CloseCode::Normal, "")).expect("close");
            assert!(matches!(ws.read().expect("close reply"), Message::Close(_)));
            advance(&w, 500);
            use std::io::Write;
            ws.get_mut()
                .write_all(&raw_text("late"))
                .expect("raw frame");
        },
    );
    assert_eq!(log.last().expect("log").0, 4_500);
    let pcap = capture(
        &log,
        "127.0.0.1:40004",
        "127.0.0.1:9004",
        Teardown::Fin {
            first: 1,
            at: 6_000,
            second_at: 6_000,
        },
    );
    let (r, events) = one_report(&pcap);
    assert_eq!(
        anomalies(&events),
        vec![AnomalyKind::DataAfterClose.as_str()]
    );
    assert_eq!(
        r.close,
        CloseReport {
            initiator: Some(Dir::C2s),
            code: Some(1000),
            reason: Some(String::new()),
            answered: true,
            close_to_answer_us: Some(1_000),
            tcp_end: Some(TcpEnd::Fin),
            close_to_tcp_end_us: Some(3_000),
            verdict: Verdict::AfterClose,
        }
    );
    assert_eq!(r.longest_silence_us, [2_000, 3_000]);
}

#[test]
fn server_initiated_clean_close() {
    let log = run(
        |mut ws, w| {
            assert_eq!(ws.read().expect("text"), Message::text("bye please"));
            advance(&w, 1_000);
            ws.close(Some(CloseFrame {
                code: CloseCode::Away,
                reason: "maintenance".into(),
            }))
            .expect("close");
            assert!(matches!(ws.read().expect("close reply"), Message::Close(_)));
            assert!(matches!(
                ws.read(),
                Err(tungstenite::Error::ConnectionClosed)
            ));
        },
        |mut ws, w| {
            advance(&w, 3_000);
            ws.send(Message::text("bye please")).expect("text");
            assert!(matches!(ws.read().expect("close"), Message::Close(_)));
            advance(&w, 2_000);
            ws.flush().expect("close reply");
            assert!(matches!(
                ws.read(),
                Err(tungstenite::Error::ConnectionClosed)
            ));
        },
    );
    assert_eq!(log.last().expect("log").0, 7_000);
    let pcap = capture(
        &log,
        "127.0.0.1:40005",
        "127.0.0.1:9005",
        Teardown::Fin {
            first: 1,
            at: 8_500,
            second_at: 8_700,
        },
    );
    let (r, events) = one_report(&pcap);
    assert_eq!(anomalies(&events), Vec::<&str>::new());
    assert_eq!(
        r,
        HealthReport {
            rtt_us: [None, None],
            close: CloseReport {
                initiator: Some(Dir::S2c),
                code: Some(1001),
                reason: Some("maintenance".into()),
                answered: true,
                close_to_answer_us: Some(2_000),
                tcp_end: Some(TcpEnd::Fin),
                // To the first FIN (the server's at 8,500).
                close_to_tcp_end_us: Some(3_500),
                verdict: Verdict::Clean,
            },
            longest_silence_us: [3_000, 4_000],
        }
    );
}

#[test]
fn capture_stopping_with_the_connection_open() {
    let log = run(
        |mut ws, _| {
            assert_eq!(ws.read().expect("text"), Message::text("x"));
        },
        |mut ws, w| {
            advance(&w, 700);
            ws.send(Message::text("x")).expect("text");
        },
    );
    let pcap = capture(&log, "127.0.0.1:40006", "127.0.0.1:9006", Teardown::None);
    let (r, _) = one_report(&pcap);
    assert_eq!(r.close.verdict, Verdict::Open);
    assert_eq!(r.close.tcp_end, None);
    // The end event comes at the last packet's time (1,700).
    assert_eq!(r.longest_silence_us, [700, 700]);
}

/// `wsnoop` on the three captures above, one file each.
fn wsnoop(args: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut files = Vec::new();
    for (name, pcap) in [
        ("pings.pcap", pings_capture()),
        ("half_closed.pcap", half_closed_capture()),
        ("reset.pcap", reset_capture()),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, pcap).expect("write capture");
        files.push(path);
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wsnoop"))
        .arg("read")
        .args(&files)
        .args(args)
        .output()
        .expect("run wsnoop");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}

fn json_lines(args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    wsnoop(&all)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// `(event, conn)` of each line.
fn events_of(lines: &[serde_json::Value]) -> Vec<(String, u64)> {
    lines
        .iter()
        .map(|v| {
            (
                v["event"].as_str().unwrap_or("?").to_string(),
                v["conn"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn the_json_end_line_carries_the_health_report() {
    use serde_json::json;
    let lines = json_lines(&[]);
    let ends: Vec<&serde_json::Value> = lines.iter().filter(|v| v["event"] == "end").collect();
    assert_eq!(ends.len(), 3);
    assert_eq!(
        ends[0]["rtt_us"],
        json!({"c2s": {"min": 1000, "median": 5000, "p99": 12000, "max": 12000, "count": 5},
               "s2c": {"min": 2500, "median": 2500, "p99": 2500, "max": 2500, "count": 1}})
    );
    assert_eq!(
        ends[0]["close"],
        json!({"initiator": "c2s", "code": 1000, "reason": "done", "answered": true,
               "close_to_answer_us": 4000, "tcp_end": "fin", "close_to_tcp_end_us": 6000,
               "verdict": "clean"})
    );
    assert_eq!(
        ends[0]["longest_silence_us"],
        json!({"c2s": 107_000, "s2c": 101_000})
    );
    assert_eq!(ends[1]["rtt_us"], json!({"c2s": null, "s2c": null}));
    assert_eq!(
        ends[1]["close"],
        json!({"initiator": "c2s", "code": 1001, "reason": "bye", "answered": false,
               "close_to_answer_us": null, "tcp_end": "fin", "close_to_tcp_end_us": 5_000_000,
               "verdict": "half_closed"})
    );
    assert_eq!(
        ends[1]["longest_silence_us"],
        json!({"c2s": 5_000_100, "s2c": 5_015_000})
    );
    assert_eq!(
        ends[2]["close"],
        json!({"initiator": null, "code": null, "reason": null, "answered": false,
               "close_to_answer_us": null, "tcp_end": "rst", "close_to_tcp_end_us": null,
               "verdict": "abnormal"})
    );
    assert_eq!(ends[2]["how"], "rst");
}

#[test]
fn health_filter_terms_select_the_open_and_end_of_their_connections() {
    let pair = |conn: u64| vec![("open".to_string(), conn), ("end".to_string(), conn)];
    // Connection 1's RTT is its client's median, 5 ms (5 pings against the server's 1).
    assert_eq!(events_of(&json_lines(&["--filter", "rtt>=5ms"])), pair(1));
    assert_eq!(events_of(&json_lines(&["--filter", "rtt=5000us"])), pair(1));
    assert_eq!(events_of(&json_lines(&["--filter", "rtt>5ms"])), vec![]);
    assert_eq!(events_of(&json_lines(&["--filter", "rtt<0.006s"])), pair(1));
    assert_eq!(
        events_of(&json_lines(&["--filter", "close:clean"])),
        pair(1)
    );
    assert_eq!(
        events_of(&json_lines(&["--filter", "close:half_closed"])),
        pair(2)
    );
    assert_eq!(
        events_of(&json_lines(&["--filter", "close:abnormal"])),
        pair(3)
    );
    assert_eq!(
        events_of(&json_lines(&["--filter", "close:after_close"])),
        vec![]
    );
    let mut both = pair(2);
    both.extend(pair(3));
    assert_eq!(
        events_of(&json_lines(&[
            "--filter",
            "close:abnormal or close:half_closed"
        ])),
        both
    );
    // A message selected on its own (its connection's end follows it), and the end line of
    // an abnormal connection.
    let lines = json_lines(&["--filter", "\"hi\" or close:abnormal"]);
    let mut want = vec![
        ("open".to_string(), 2),
        ("message".to_string(), 2),
        ("end".to_string(), 2),
    ];
    want.extend(pair(3));
    assert_eq!(events_of(&lines), want);
    assert_eq!(lines[1]["text"], "hi");
}

#[test]
fn the_summary_shows_rtt_median_and_close_verdict() {
    let text = wsnoop(&["--summary", "--filter", "conn:0"]);
    let rows: Vec<Vec<&str>> = text
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 3, "{text}");
    // … anomalies, rtt (two words: value and unit, or "-"), close, end.
    assert_eq!(rows[0][rows[0].len() - 4..], ["5.0", "ms", "clean", "fin"]);
    assert_eq!(rows[1][rows[1].len() - 3..], ["-", "half_closed", "fin"]);
    assert_eq!(rows[2][rows[2].len() - 3..], ["-", "abnormal", "rst"]);
    let header = text
        .lines()
        .find(|l| l.starts_with("conn"))
        .expect("header");
    assert!(
        header.contains(" rtt ") && header.contains(" close "),
        "{header}"
    );

    let lines = json_lines(&["--summary", "--filter", "conn:0"]);
    let sums: Vec<_> = lines
        .iter()
        .filter(|v| v["event"] == "summary")
        .map(|v| {
            (
                v["rtt_median_us"].clone(),
                v["close"].clone(),
                v["silences"].clone(),
            )
        })
        .collect();
    assert_eq!(
        sums,
        vec![
            (5000.into(), "clean".into(), 0.into()),
            (serde_json::Value::Null, "half_closed".into(), 0.into()),
            (serde_json::Value::Null, "abnormal".into(), 0.into()),
        ]
    );
}

#[test]
fn the_health_limits_through_their_flags() {
    let end = |args: &[&str]| {
        json_lines(args)
            .into_iter()
            .find(|v| v["event"] == "end")
            .expect("an end line")
    };
    // No sample kept exactly: the median (5,000) is its histogram bucket's midpoint, [4,992,
    // 5,120) (width 4,096 / 32); min, max and count stay exact.
    let e = end(&["--exact-rtt-samples", "0"]);
    let c2s = &e["rtt_us"]["c2s"];
    assert_eq!(
        (&c2s["count"], &c2s["min"], &c2s["median"], &c2s["max"]),
        (&5.into(), &1000.into(), &5056.into(), &12000.into())
    );
    // No ping kept waiting for its pong: no sample at all.
    let e = end(&["--max-outstanding-pings", "0"]);
    assert_eq!(e["rtt_us"], serde_json::json!({"c2s": null, "s2c": null}));
}
