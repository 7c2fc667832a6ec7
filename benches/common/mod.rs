//! Inputs shared by the benches: the capture generator of `examples/gen_pcap` (compiled in,
//! so the benches need no files) and a few helpers.

use std::time::Duration;

use criterion::BenchmarkGroup;
use criterion::measurement::WallTime;

#[allow(dead_code, unused_imports)]
#[path = "../../examples/gen_pcap/wsgen/mod.rs"]
pub mod wsgen;

// Each bench uses its own subset.
#[allow(unused_imports)]
pub use wsgen::{frame::Deflater, frame::write_frame, payload::Pools, rng::Rng};

/// Keep every bench short: the whole suite should run in a few minutes on 2 cores.
pub fn short(group: &mut BenchmarkGroup<'_, WallTime>) {
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    group.sample_size(20);
}

/// A whole generated capture, in memory, optionally inside TLS: its bytes, the number of
/// messages in it and the key log (empty without TLS).
#[allow(dead_code)] // used by the engine bench only
pub fn capture_tls(
    size_mb: f64,
    conns: u32,
    deflate: bool,
    mix: &str,
    tls: Option<wsgen::tls::Mode>,
) -> (Vec<u8>, u64, String) {
    let cfg = wsgen::Config {
        size_mb,
        conns,
        seed: 1,
        deflate,
        mix: mix.into(),
        tls,
        ..wsgen::Config::default()
    };
    match wsgen::Generator::new(cfg, Vec::new(), None).and_then(|g| g.run_with_keys()) {
        Ok((bytes, summary, keys)) => (bytes, summary.int("messages_total"), keys),
        Err(e) => panic!("generating the bench capture: {e}"),
    }
}
