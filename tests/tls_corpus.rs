//! Every wss:// capture of `captures/tls/` decodes through the engine exactly to its ground
//! truth, given the client's key log (or the secrets the pcapng carries in a Decryption
//! Secrets Block), with `tls_no_keys` where a connection's secrets are missing and no other
//! anomaly.

mod common;

use common::assert_decodes_in_process as assert_decodes;

#[test]
fn chromium_tls13_with_preconnects_and_resumption() {
    assert_decodes("tls/wss_chromium_tls13.pcap");
}

#[test]
fn tls12_aes128gcm() {
    assert_decodes("tls/wss_tls12_aes128gcm.pcap");
}

#[test]
fn tls13_aes128gcm() {
    assert_decodes("tls/wss_tls13_aes128gcm.pcap");
}

#[test]
fn tls13_aes256gcm() {
    assert_decodes("tls/wss_tls13_aes256gcm.pcap");
}

#[test]
fn tls13_chacha20() {
    assert_decodes("tls/wss_tls13_chacha20.pcap");
}

#[test]
fn tls13_keys_in_pcapng() {
    assert_decodes("tls/wss_tls13_keys_in_pcapng.pcapng");
}

#[test]
fn tls13_resumption() {
    assert_decodes("tls/wss_tls13_resumption.pcap");
}

#[test]
fn tls_missing_keys() {
    assert_decodes("tls/wss_tls_missing_keys.pcap");
}
