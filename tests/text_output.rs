//! `wsnoop read`'s text output as a tshark user meets it on day one: `-t` time formats (the
//! same on one engine and on several threads), the stderr line of a capture with no
//! WebSocket, named close codes and ping payloads shown as text.

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
                "  0.005187  #1   127.0.0.1:51754 → 127.0.0.1:9004  ping         12  ping-1 hello",
                "  0.005477  #1   127.0.0.1:51754 ← 127.0.0.1:9004  pong         12  ping-1 hello",
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
                "  0.001666  #1   127.0.0.1:51754 → 127.0.0.1:9004  ping         12  ping-1 hello",
                "  0.000290  #1   127.0.0.1:51754 ← 127.0.0.1:9004  pong         12  ping-1 hello",
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
         ping-1 hello"
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
        "  0.006708  #1   127.0.0.1:51754 ← 127.0.0.1:9004  pong          0"
    );
    assert_eq!(
        at(11),
        "  0.007990  #1   127.0.0.1:51754 ← 127.0.0.1:9004  ping         14  \
         73 65 72 76 65 72 2d 70 69 6e 67 20 00 ff"
    );
    assert_eq!(
        at(20),
        "  0.212384  #1   127.0.0.1:51754 → 127.0.0.1:9004  close        28  1000 Normal \
         Closure \"normal closure from client\""
    );
    assert_eq!(
        at(22),
        "  0.213132  #1   127.0.0.1:51754 → 127.0.0.1:9004  end (fin) 21 messages, 516 bytes, \
         close clean, c2s ping rtt median 155 µs (4 samples), s2c ping rtt median 218 µs (1 \
         sample)"
    );
    assert_eq!(
        at(44),
        "  0.231719  #5   127.0.0.1:51790 → 127.0.0.1:9004  close         2  1001 Going Away"
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
