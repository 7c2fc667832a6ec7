//! Generated fault shapes (`captures/generated/`, written by `tests/common/scenarios.rs`):
//! each decoded by the real binary and checked like the corpus's `check.py`.
//!
//! Regenerate after changing a scenario:
//! `WSNOOP_REGENERATE=1 cargo test --test generated regenerate -- --ignored`.

mod common;

use std::path::PathBuf;

fn dir() -> PathBuf {
    common::captures_dir().join("generated")
}

#[test]
#[ignore = "writes captures/generated/; run with WSNOOP_REGENERATE=1 after changing a scenario"]
fn regenerate() {
    if std::env::var_os("WSNOOP_REGENERATE").is_none() {
        return;
    }
    std::fs::create_dir_all(dir()).expect("mkdir");
    for s in common::scenarios::all() {
        std::fs::write(dir().join(format!("{}.pcap", s.name)), s.cap.pcap()).expect("write");
        std::fs::write(
            dir().join(format!("{}.expected.jsonl", s.name)),
            s.expect.jsonl(),
        )
        .expect("write");
        println!("| {}.pcap | {} |", s.name, s.fault);
    }
}

/// The committed fixtures are exactly what the generator writes (so the code documents them).
#[test]
fn fixtures_are_current() {
    for s in common::scenarios::all() {
        let pcap = std::fs::read(dir().join(format!("{}.pcap", s.name))).expect(s.name);
        assert!(
            pcap == s.cap.pcap(),
            "{}.pcap differs from its generator",
            s.name
        );
        let exp = std::fs::read_to_string(dir().join(format!("{}.expected.jsonl", s.name)))
            .expect(s.name);
        assert_eq!(exp, s.expect.jsonl(), "{}.expected.jsonl", s.name);
    }
}

macro_rules! capture_tests {
    ($($name:ident,)*) => {
        $(
            #[test]
            fn $name() {
                common::assert_capture(concat!("generated/gen_", stringify!($name), ".pcap"));
            }
        )*
    };
}

capture_tests! {
    s2c_masked_frame,
    s2c_fragmented_control,
    nonminimal_lengths,
    sll_gap,
    null_out_of_order,
    raw_ipv6_gap_reordered,
    ipv4_fragments_reversed,
    qinq,
    seq_wrap,
    tcp_conflict,
    data_after_close,
    data_interleaved,
    invalid_close_payload,
    bad_accept,
    deflate_rsv1_control,
    deflate_gap_takeover,
}
