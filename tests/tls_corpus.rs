//! Every wss:// capture of `captures/tls/` decodes through the engine exactly to its ground
//! truth, given the client's key log (or the secrets the pcapng carries in a Decryption
//! Secrets Block), with `tls_no_keys` where a connection's secrets are missing and no other
//! anomaly.

mod common;

fn assert_tls_capture(name: &str, ext: &str, with_keys: bool) {
    let dir = common::captures_dir().join("tls");
    let keys = with_keys.then(|| std::fs::read(dir.join(format!("{name}.keys"))).expect("keys"));
    let actual = common::decode_in_process(&format!("tls/{name}.{ext}"), keys.as_deref());
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
fn chromium_tls13_with_preconnects_and_resumption() {
    assert_tls_capture("wss_chromium_tls13", "pcap", true);
}

#[test]
fn tls12_aes128gcm() {
    assert_tls_capture("wss_tls12_aes128gcm", "pcap", true);
}

#[test]
fn tls13_aes128gcm() {
    assert_tls_capture("wss_tls13_aes128gcm", "pcap", true);
}

#[test]
fn tls13_aes256gcm() {
    assert_tls_capture("wss_tls13_aes256gcm", "pcap", true);
}

#[test]
fn tls13_chacha20() {
    assert_tls_capture("wss_tls13_chacha20", "pcap", true);
}

#[test]
fn tls13_keys_in_pcapng() {
    assert_tls_capture("wss_tls13_keys_in_pcapng", "pcapng", false);
}

#[test]
fn tls13_resumption() {
    assert_tls_capture("wss_tls13_resumption", "pcap", true);
}

#[test]
fn tls_missing_keys() {
    assert_tls_capture("wss_tls_missing_keys", "pcap", true);
}
