//! WebSockets over HTTP/2 (RFC 8441) in the bundled captures decode through the engine
//! exactly, per stream: cleartext h2c with prior knowledge, and h2 inside TLS 1.3 from
//! Chromium (ALPN h2, key log given). Nothing comes out of the ordinary GET streams.

mod common;

#[test]
fn h2c_prior_knowledge_three_websocket_streams() {
    common::assert_decodes_in_process("h2/h2c_python_multi.pcap");
}

#[test]
fn h2_inside_tls13_from_chromium() {
    common::assert_decodes_in_process("h2/h2_chromium_tls13.pcap");
}
