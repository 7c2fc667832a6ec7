//! The whole engine (capture reader → packets → reassembly → WebSocket → JSON lines to a
//! null writer) on benchmark captures generated in memory with `examples/gen_pcap`'s model,
//! cleartext and (with the generator's key log) TLS 1.3 and TLS 1.2.
//!
//!     cargo bench --bench engine

mod common;

use std::io;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use common::short;
use common::wsgen::tls::Mode;
use wsnoop::capture::CaptureReader;
use wsnoop::sink::{JsonSink, Sink};
use wsnoop::{Engine, Event, EventKind, Limits};

/// Where the JSON lines go: a buffer in front of a writer that drops them, as a file or a pipe
/// has one. With `io::sink()` alone, each `write_all` costs nothing, so a sink that hands a line
/// over in pieces would hide the cost of putting it together; the buffer makes every sink pay
/// for its bytes as it would writing to a file.
type Out = io::BufWriter<io::Sink>;

fn out() -> Out {
    io::BufWriter::with_capacity(64 << 10, io::sink())
}

/// Decodes a whole capture (with the key log `keys`) to JSON lines; returns the number of
/// messages.
fn decode(capture: &[u8], keys: &str, sink: &mut JsonSink<Out>) -> u64 {
    let limits = Limits::default();
    let mut reader = match CaptureReader::new(capture, &limits) {
        Ok(r) => r,
        Err(e) => panic!("bench capture unreadable: {e}"),
    };
    let mut engine = Engine::new(limits.clone());
    if !engine.add_keys(keys.as_bytes(), 1).is_empty() {
        panic!("the generator's key log does not parse");
    }
    let mut events: Vec<Event> = Vec::new();
    let mut n = 0u64;
    while let Ok(Some(pkt)) = reader.next_packet() {
        engine.packet(&pkt, &mut events);
        for ev in events.drain(..) {
            sink.event(&ev).ok();
            n += u64::from(matches!(ev.kind, EventKind::Message { .. }));
        }
    }
    engine.finish(&mut events);
    for ev in events.drain(..) {
        sink.event(&ev).ok();
        n += u64::from(matches!(ev.kind, EventKind::Message { .. }));
    }
    sink.flush().ok();
    n
}

fn engine(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    short(&mut g);
    g.sample_size(10);
    let mixed = "60,30,10";
    let inputs = [
        (
            "mixed_32MiB",
            common::capture_tls(32.0, 16, false, mixed, None),
        ),
        (
            "deflate_16MiB",
            common::capture_tls(16.0, 16, true, mixed, None),
        ),
        (
            "tiny_16MiB",
            common::capture_tls(16.0, 16, false, "100,0,0", None),
        ),
        (
            "wss13_mixed_32MiB",
            common::capture_tls(32.0, 16, false, mixed, Some(Mode::Tls13Aes128Gcm)),
        ),
        (
            "wss12_chacha_mixed_32MiB",
            common::capture_tls(32.0, 16, false, mixed, Some(Mode::Tls12Chacha20)),
        ),
    ];
    for (name, (cap, messages, keys)) in &inputs {
        g.throughput(Throughput::Bytes(cap.len() as u64));
        let mut sink = JsonSink::new(out());
        // Measure a decoder that decodes: every generated message comes out.
        assert_eq!(
            decode(cap, keys, &mut sink),
            *messages,
            "{name}: messages decoded"
        );
        g.bench_function(*name, |b| b.iter(|| decode(cap, keys, &mut sink)));
    }
    g.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
