//! Every bundled real capture decodes exactly to its ground truth (the peers' own logs):
//! same client, server, direction, opcode and payload bytes, in order per direction, nothing
//! extra and no false alarm.

mod common;

macro_rules! capture_tests {
    ($($name:ident => $file:expr,)*) => {
        $(
            #[test]
            fn $name() {
                common::assert_capture($file);
            }
        )*
    };
}

capture_tests! {
    basic_echo => "py_basic_echo.pcap",
    coalesced_frames => "py_coalesced_frames.pcap",
    concurrent_clients => "py_concurrent_clients.pcap",
    control_frames => "py_control_frames.pcap",
    deflate_context_takeover => "py_deflate_context_takeover.pcap",
    deflate_no_context_takeover => "py_deflate_no_context_takeover.pcap",
    fragmented => "py_fragmented.pcap",
    http_then_upgrade => "py_http_then_upgrade.pcap",
    ipv6_loopback => "py_ipv6_loopback.pcap",
    length_boundaries => "py_length_boundaries.pcap",
    linktype_sll2 => "py_linktype_sll2.pcap",
    nsec => "py_nsec.pcap",
    pcapng => "py_pcapng.pcapng",
    rejected_upgrade => "py_rejected_upgrade.pcap",
    subprotocol => "py_subprotocol.pcap",
}
