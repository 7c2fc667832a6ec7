//! `wsnoop read`'s text output as a tshark user meets it on day one: `-t` time formats (the
//! same on one engine and on several threads), the stderr line of a capture with no
//! WebSocket, named close codes and ping payloads shown as text. Packet numbers (`#N` after
//! the length) are tshark's frame numbers for these messages (`tshark -r FILE -Y websocket`).

use std::process::{Command, Output};

fn wsnoop(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wsnoop"))
        .args(args)
        .env_remove("SSLKEYLOGFILE")
        .output()
        .expect("run wsnoop")
}

fn capture(name: &str) -> String {
    format!("{}/captures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn lines(out: &Output, n: usize) -> Vec<String> {
    String::from_utf8(out.stdout.clone())
        .expect("UTF-8 output")
        .lines()
        .take(n)
        .map(str::to_owned)
        .collect()
}

const CONTROL: &str = "py_control_frames.pcap";

#[test]
fn relative_times_count_from_the_first_packet() {
    for threads in ["1", "3"] {
        let out = wsnoop(&["read", "--threads", threads, "-t", "rel", &capture(CONTROL)]);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(
            lines(&out, 3),
            [
                "  0.003521  #1   127.0.0.1:51754 → 127.0.0.1:9004  open GET \
                 ws://127.0.0.1:9004/echo?ping_after=2&ping=7365727665722d70696e672000ff",
                "  0.005187  #1   127.0.0.1:51754 → 127.0.0.1:9004  ping         12  #8  ping-1 hello",
                "  0.005477  #1   127.0.0.1:51754 ← 127.0.0.1:9004  pong         12  #9  ping-1 hello",
            ],
            "--threads {threads}"
        );
    }
}

#[test]
fn delta_times_count_from_the_previous_line() {
    for threads in ["1", "3"] {
        let out = wsnoop(&[
            "read",
            "--threads",
            threads,
            "--time-format",
            "delta",
            &capture(CONTROL),
        ]);
        assert_eq!(
            lines(&out, 3),
            [
                "  0.000000  #1   127.0.0.1:51754 → 127.0.0.1:9004  open GET \
                 ws://127.0.0.1:9004/echo?ping_after=2&ping=7365727665722d70696e672000ff",
                "  0.001666  #1   127.0.0.1:51754 → 127.0.0.1:9004  ping         12  #8  ping-1 hello",
                "  0.000290  #1   127.0.0.1:51754 ← 127.0.0.1:9004  pong         12  #9  ping-1 hello",
            ],
            "--threads {threads}"
        );
    }
}

#[test]
fn absolute_times_by_default_and_json_keeps_rfc3339() {
    let out = wsnoop(&["read", &capture(CONTROL)]);
    assert_eq!(
        lines(&out, 2)[1],
        "2026-11-22T19:10:33.489406Z  #1   127.0.0.1:51754 → 127.0.0.1:9004  ping         12  \
         #8  ping-1 hello"
    );
    let out = wsnoop(&["read", "--json", "-t", "rel", &capture(CONTROL)]);
    assert!(
        lines(&out, 1)[0].contains("\"ts\":\"2026-11-22T19:10:33.487740Z\""),
        "{:?}",
        lines(&out, 1)
    );
}

#[test]
fn close_codes_named_pings_as_text_empty_payloads_without_trailing_blanks() {
    let out = wsnoop(&["read", "-t", "rel", &capture(CONTROL)]);
    let all = lines(&out, usize::MAX);
    let at = |n: usize| all[n].as_str();
    assert_eq!(
        at(8),
        "  0.006708  #1   127.0.0.1:51754 ← 127.0.0.1:9004  pong          0  #15"
    );
    assert_eq!(
        at(11),
        "  0.007990  #1   127.0.0.1:51754 ← 127.0.0.1:9004  ping         14  \
         #18  73 65 72 76 65 72 2d 70 69 6e 67 20 00 ff"
    );
    assert_eq!(
        at(20),
        "  0.212384  #1   127.0.0.1:51754 → 127.0.0.1:9004  close        28  #31  1000 \
         Normal Closure \"normal closure from client\""
    );
    assert_eq!(
        at(22),
        "  0.213132  #1   127.0.0.1:51754 → 127.0.0.1:9004  end (fin) 21 messages, 516 bytes, \
         close clean, c2s ping rtt median 155 µs (4 samples), s2c ping rtt median 218 µs (1 \
         sample)"
    );
    assert_eq!(
        at(44),
        "  0.231719  #5   127.0.0.1:51790 → 127.0.0.1:9004  close         2  #89  1001 Going Away"
    );
}

#[test]
fn a_capture_without_websocket_says_what_it_saw() {
    let cases = [
        (
            "tls/wss_tls13_aes128gcm.pcap",
            "wsnoop: no WebSocket found: 122 packets, 2 TCP connections (2 TLS); 2 TLS \
             connections had no keys: give --keylog FILE or set SSLKEYLOGFILE\n",
        ),
        (
            "py_rejected_upgrade.pcap",
            "wsnoop: no WebSocket found: 20 packets, 2 TCP connections (2 HTTP)\n",
        ),
    ];
    for (name, want) in cases {
        for threads in ["1", "2"] {
            let out = wsnoop(&["read", "--threads", threads, &capture(name)]);
            assert_eq!(out.status.code(), Some(0), "{name}");
            assert_eq!(
                String::from_utf8_lossy(&out.stderr),
                want,
                "{name} --threads {threads}"
            );
        }
    }
    // With a WebSocket (or the keys to find it), nothing on stderr.
    let keys = capture("tls/wss_tls13_aes128gcm.keys");
    let tls = capture("tls/wss_tls13_aes128gcm.pcap");
    for args in [
        vec!["read", tls.as_str(), "--keylog", keys.as_str()],
        vec!["read", "--json", &capture(CONTROL)],
    ] {
        let out = wsnoop(&args);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{args:?}");
    }
}

/// `--truncated`: the messages `tx_snaplen128` cuts (every record cut to 128 bytes) are
/// listed with the bytes captured, marked, each a strict prefix of the message the uncut
/// capture (`clean_base`) carries; without it they are only reported, as before.
#[test]
fn truncated_messages_are_listed_only_when_asked_and_marked() {
    let b64 = |s: &str| base64_simd::STANDARD.decode_to_vec(s).expect("base64");
    let json = |line: &str| serde_json::from_str::<serde_json::Value>(line).expect("JSON");
    let payload = |m: &serde_json::Value| match (m["data_b64"].as_str(), m["text"].as_str()) {
        (Some(b), _) => b64(b),
        (None, Some(t)) => t.as_bytes().to_vec(),
        _ => Vec::new(),
    };
    let whole: Vec<serde_json::Value> =
        std::fs::read_to_string(capture("adversarial/clean_base.expected.jsonl"))
            .expect("ground truth")
            .lines()
            .map(json)
            .filter(|e| e.get("opcode").is_some())
            .collect();
    let snapped = capture("adversarial/tx_snaplen128.pcap");
    for threads in ["1", "2"] {
        let with = wsnoop(&[
            "read",
            "--json",
            "--truncated",
            "--threads",
            threads,
            &snapped,
        ]);
        let without = wsnoop(&["read", "--json", "--threads", threads, &snapped]);
        let with: Vec<serde_json::Value> = String::from_utf8_lossy(&with.stdout)
            .lines()
            .map(json)
            .collect();
        let without: Vec<serde_json::Value> = String::from_utf8_lossy(&without.stdout)
            .lines()
            .map(json)
            .collect();
        let cut: Vec<&serde_json::Value> = with.iter().filter(|e| e["truncated"] == true).collect();
        let lens: Vec<(String, u64, u64)> = cut
            .iter()
            .map(|m| {
                (
                    format!(
                        "{} {}",
                        m["dir"].as_str().unwrap(),
                        m["opcode"].as_str().unwrap()
                    ),
                    m["len"].as_u64().unwrap(),
                    m["wire_len"].as_u64().unwrap(),
                )
            })
            .collect();
        let want = [
            ("s2c binary", 52, 150000),
            ("s2c text", 60, 92),
            ("s2c text", 60, 103),
            ("s2c text", 60, 114),
            ("s2c text", 60, 125),
            ("s2c text", 58, 137),
            ("s2c text", 58, 148),
            ("s2c text", 58, 159),
            ("s2c text", 58, 170),
            ("c2s binary", 54, 3000),
            ("s2c binary", 58, 5000),
        ]
        .map(|(k, l, w)| (k.to_owned(), l, w));
        assert_eq!(lens, want, "--threads {threads}");
        for m in &cut {
            let p = payload(m);
            let of = whole.iter().filter(|e| {
                e["dir"] == m["dir"] && e["opcode"] == m["opcode"] && {
                    let w = b64(e["payload_b64"].as_str().unwrap());
                    w.len() > p.len() && w.starts_with(&p)
                }
            });
            assert_eq!(of.count(), 1, "{m}");
        }
        // Everything else is what the default run gives.
        let rest: Vec<&serde_json::Value> =
            with.iter().filter(|e| e["truncated"] != true).collect();
        let listed_as = |e: &serde_json::Value| {
            let mut e = e.clone();
            if let Some(d) = e.get_mut("detail") {
                *d = serde_json::Value::String(d.as_str().unwrap().replace(
                    "listed truncated (the bytes captured before the cut)",
                    "dropped",
                ));
            }
            e
        };
        assert_eq!(
            rest.iter()
                .filter(|e| e["event"] != "end")
                .map(|e| listed_as(e))
                .collect::<Vec<_>>(),
            without
                .iter()
                .filter(|e| e["event"] != "end")
                .cloned()
                .collect::<Vec<_>>(),
            "--threads {threads}"
        );
        // The connection's totals count what was listed.
        let end = |v: &[serde_json::Value]| {
            let e = v.iter().find(|e| e["event"] == "end").expect("end");
            (
                e["messages"].as_u64().unwrap(),
                e["bytes"].as_u64().unwrap(),
            )
        };
        assert_eq!((end(&without), end(&with)), ((45, 930), (56, 1566)));
        assert!(without.iter().all(|e| e.get("truncated").is_none()));
    }
    let text = wsnoop(&["read", "--truncated", "-t", "rel", &snapped]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert_eq!(
        text.lines()
            .find(|l| l.contains("(truncated) server message 6")),
        Some(
            "  0.216792  #1   127.0.0.1:23015 ← 127.0.0.1:17015  text         60  (truncated) \
             server message 6 éè ✓ zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
        )
    );
}

/// The TUI has no mark for a cut message: it refuses `--truncated` rather than show one as
/// whole.
#[test]
fn the_tui_refuses_truncated() {
    let out = wsnoop(&["tui", &capture(CONTROL), "--truncated"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "wsnoop: --truncated is for read and live; the TUI lists whole messages only\n"
    );
}

/// `--summary` ends with what the whole run saw, TLS connections decrypted or not included.
#[test]
fn the_summary_counts_tls_connections_decrypted_and_without_keys() {
    let tls = format!(
        "{}/captures/tls/wss_tls13_aes128gcm",
        env!("CARGO_MANIFEST_DIR")
    );
    let pcap = format!("{tls}.pcap");
    let keys = format!("{tls}.keys");
    let last = |out: &Output| {
        String::from_utf8(out.stdout.clone())
            .expect("UTF-8 output")
            .lines()
            .last()
            .map(str::to_owned)
    };
    let out = wsnoop(&["read", "--summary", &pcap]);
    assert_eq!(
        last(&out).as_deref(),
        Some(
            "122 packets, 2 TCP connections, 0 WebSockets; 2 TLS connections: 0 decrypted, 2 \
             without keys"
        )
    );
    let out = wsnoop(&["read", "--summary", "--keylog", &keys, &pcap]);
    assert_eq!(
        last(&out).as_deref(),
        Some(
            "122 packets, 2 TCP connections, 2 WebSockets; 2 TLS connections: 2 decrypted, 0 \
             without keys"
        )
    );
    let out = wsnoop(&["read", "--summary", "--json", "--keylog", &keys, &pcap]);
    assert_eq!(
        last(&out).as_deref(),
        Some(
            "{\"event\":\"totals\",\"packets\":122,\"tcp_conns\":2,\"websocket_conns\":2,\
             \"tls_conns\":2,\"tls_decrypted\":2,\"tls_no_keys\":0,\"input_anomalies\":0}"
        )
    );
    let out = wsnoop(&["read", "--summary", &capture("py_basic_echo.pcap")]);
    assert_eq!(
        last(&out).as_deref(),
        Some("56 packets, 2 TCP connections, 2 WebSockets")
    );
}
