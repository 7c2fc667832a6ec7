//! WebSockets over HTTP/2 (RFC 8441) in the bundled captures decode through the engine
//! exactly, per stream: cleartext h2c with prior knowledge, and h2 inside TLS 1.3 from
//! Chromium (ALPN h2, key log given). Nothing comes out of the ordinary GET streams.

mod common;

fn assert_h2_capture(name: &str) {
    let dir = common::captures_dir().join("h2");
    let keys = std::fs::read(dir.join(format!("{name}.keys"))).ok();
    let actual = common::decode_in_process(&format!("h2/{name}.pcap"), keys.as_deref());
    let expected = common::parse_lines(
        &std::fs::read(dir.join(format!("{name}.expected.jsonl"))).expect("expected"),
    );
    let problems = common::check(&expected, &actual);
    assert!(
        problems.is_empty(),
        "{name}: {} problem(s):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

#[test]
fn h2c_prior_knowledge_three_websocket_streams() {
    assert_h2_capture("h2c_python_multi");
}

#[test]
fn h2_inside_tls13_from_chromium() {
    assert_h2_capture("h2_chromium_tls13");
}
