//! Differential oracle under capture disorder: a valid capture (one of a few real ones built
//! in), its TCP segments moved within a window, copied, split and coalesced by fuzzer-chosen
//! operations (sequence numbers follow), must decode to exactly the messages of the
//! undisturbed capture, per connection and direction, with the same `open`s. With segments
//! dropped as well, every message decoded must still be one of the truth's, in order, byte for
//! byte. So the fuzzer searches for divergences, not only crashes.
//!
//! Input: a byte choosing the capture, then 5-byte operations (`tests/common/disorder.rs`,
//! shared with the differential test).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/common/disorder.rs"]
mod disorder;

use disorder::{Decode, Op, Seg};

/// Captures without losses, small enough to decode thousands of times a second.
const CAPTURES: &[(&str, &[u8])] = &[
    (
        "py_basic_echo",
        include_bytes!("../../captures/py_basic_echo.pcap"),
    ),
    (
        "py_deflate_context_takeover",
        include_bytes!("../../captures/py_deflate_context_takeover.pcap"),
    ),
    (
        "py_http_then_upgrade",
        include_bytes!("../../captures/py_http_then_upgrade.pcap"),
    ),
    (
        "py_rejected_upgrade",
        include_bytes!("../../captures/py_rejected_upgrade.pcap"),
    ),
    (
        "py_control_frames",
        include_bytes!("../../captures/py_control_frames.pcap"),
    ),
    (
        "viol_deflate_error",
        include_bytes!("../../captures/adversarial/viol_deflate_error.pcap"),
    ),
    (
        "gen_seq_wrap",
        include_bytes!("../../captures/generated/gen_seq_wrap.pcap"),
    ),
    (
        "keepalive_first",
        include_bytes!("../../captures/disorder/keepalive_first.pcap"),
    ),
    (
        "late_request",
        include_bytes!("../../captures/disorder/late_request.pcap"),
    ),
    (
        "deflate_hole",
        include_bytes!("../../captures/disorder/deflate_hole.pcap"),
    ),
];

struct Base {
    segs: Vec<Seg>,
    truth: Decode,
    /// The capture itself has a loss: where decoding resumes after it depends on where
    /// segments begin, so only moves and copies keep the output.
    lossy: bool,
}

fn bases() -> &'static [Base] {
    static BASES: OnceLock<Vec<Base>> = OnceLock::new();
    BASES.get_or_init(|| {
        CAPTURES
            .iter()
            .map(|(_, bytes)| {
                let segs = disorder::segments(bytes);
                let truth = disorder::decode(&segs, &disorder::limits());
                let lossy = truth.anomaly_count() > 0
                    && truth
                        .anomalies
                        .values()
                        .flatten()
                        .any(|(_, k)| k == "tcp_gap");
                Base { segs, truth, lossy }
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let all = bases();
    let base = &all[usize::from(pick) % all.len()];
    let mut ops = disorder::ops_from_bytes(rest);
    if base.lossy {
        ops.retain(|op| matches!(op, Op::Move { .. } | Op::Dup { .. } | Op::Drop { .. }));
    }
    let drops = ops.iter().any(|op| matches!(op, Op::Drop { .. }));
    let segs = disorder::apply(&base.segs, &ops);
    let got = disorder::decode(&segs, &disorder::limits());
    let verdict = if drops {
        disorder::never_wrong(&base.truth, &got)
    } else {
        disorder::same_messages(&base.truth, &got)
    };
    if let Err(e) = verdict {
        panic!(
            "{} under {ops:?}: {e}",
            CAPTURES[usize::from(pick) % all.len()].0
        );
    }
});
