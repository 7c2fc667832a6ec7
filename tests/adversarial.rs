//! Faulty and hostile captures: every expected message decoded, nothing extra, every expected
//! anomaly reported (the conventions of `captures/adversarial/README.md`).

mod common;

macro_rules! capture_tests {
    ($($name:ident => $file:expr,)*) => {
        $(
            #[test]
            fn $name() {
                common::assert_capture(concat!("adversarial/", $file));
            }
        )*
    };
}

capture_tests! {
    bomb_deflate_1gib => "bomb_deflate_1gib.pcap",
    clean_base => "clean_base.pcap",
    corrupt_record => "corrupt_record.pcap",
    mixed_traffic => "mixed_traffic.pcap",
    seg_coalesced_ipv6 => "seg_coalesced_ipv6.pcap",
    seg_one_byte => "seg_one_byte.pcap",
    tx_gap => "tx_gap.pcap",
    tx_midstream => "tx_midstream.pcap",
    tx_out_of_order => "tx_out_of_order.pcap",
    tx_snaplen128 => "tx_snaplen128.pcap",
    tx_vlan => "tx_vlan.pcap",
    viol_continuation_without_start => "viol_continuation_without_start.pcap",
    viol_control_too_long => "viol_control_too_long.pcap",
    viol_deflate_error => "viol_deflate_error.pcap",
    viol_fragmented_control => "viol_fragmented_control.pcap",
    viol_invalid_close_code => "viol_invalid_close_code.pcap",
    viol_invalid_utf8 => "viol_invalid_utf8.pcap",
    viol_length_msb_set => "viol_length_msb_set.pcap",
    viol_nonminimal_length => "viol_nonminimal_length.pcap",
    viol_reserved_opcode => "viol_reserved_opcode.pcap",
    viol_rsv_without_extension => "viol_rsv_without_extension.pcap",
    viol_unmasked_client_frame => "viol_unmasked_client_frame.pcap",
}
