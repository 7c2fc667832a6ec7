//! The HTTP/2 layer (`http2::H2Conn`): DATA-heavy connections (the WebSocket-over-HTTP/2 case:
//! large and small DATA frames of interleaved streams, some padded) and header-heavy ones
//! (many small requests through HPACK with a dynamic table).
//!
//!     cargo bench --bench http2

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wsnoop::http2::{H2Config, H2Conn, H2Event, PREFACE};

const MSS: usize = 1448;

fn frame(out: &mut Vec<u8>, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
}

/// Literal with incremental indexing, new name (RFC 7541 §6.2.1), short strings only.
fn literal(out: &mut Vec<u8>, name: &str, value: &str) {
    literal_as(out, 0x40, name, value);
}

/// A literal with a new name: 0x40 incremental indexing, 0x00 without indexing.
fn literal_as(out: &mut Vec<u8>, first: u8, name: &str, value: &str) {
    out.push(first);
    out.push(name.len() as u8);
    out.extend_from_slice(name.as_bytes());
    out.push(value.len() as u8);
    out.extend_from_slice(value.as_bytes());
}

/// Client bytes: 8 streams opened, then `frames` DATA frames of `size` bytes round-robin over
/// them (every fourth padded). Returns the bytes and the DATA payload bytes in them.
fn data_stream(frames: usize, size: usize) -> (Vec<u8>, usize) {
    let mut out = PREFACE.to_vec();
    frame(&mut out, 0x4, 0, 0, &[]);
    for s in 0..8u32 {
        let mut block = vec![0x82, 0x86];
        literal(&mut block, ":path", &format!("/ws/{s}"));
        frame(&mut out, 0x1, 0x4, 1 + 2 * s, &block);
    }
    let payload: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
    let mut data = 0;
    for i in 0..frames {
        let stream = 1 + 2 * (i % 8) as u32;
        if i % 4 == 3 {
            // Padded: 1 + data + 16 within the 16384-byte maximum frame size.
            let d = &payload[..size.min(16384 - 17)];
            let mut p = vec![16u8];
            p.extend_from_slice(d);
            p.extend_from_slice(&[0; 16]);
            frame(&mut out, 0x0, 0x8, stream, &p);
            data += d.len();
        } else {
            frame(&mut out, 0x0, 0, stream, &payload);
            data += size;
        }
    }
    (out, data)
}

/// Client bytes: `n` requests of 8 fields each, four of them referring to the dynamic table.
fn header_stream(n: u32) -> Vec<u8> {
    let mut out = PREFACE.to_vec();
    frame(&mut out, 0x4, 0, 0, &[]);
    for i in 0..n {
        let mut block = vec![0x82, 0x87];
        if i == 0 {
            literal(&mut block, ":authority", "example.com");
            literal(&mut block, "user-agent", "bench/1.0 (x86_64)");
            literal(&mut block, "accept", "application/json");
            literal(&mut block, "x-client", "wsnoop-bench");
        } else {
            // The four entries inserted by the first request, now at 62..65 (plus the
            // per-request :path entries in front of them).
            let base = 62 + i.min(20) as u8;
            block.extend([
                0x80 | base,
                0x80 | (base + 1),
                0x80 | (base + 2),
                0x80 | (base + 3),
            ]);
        }
        literal(&mut block, ":path", &format!("/api/items/{i}"));
        literal(&mut block, "x-request-id", &format!("{i:016x}"));
        frame(&mut out, 0x1, 0x5, 1 + 2 * i, &block);
    }
    out
}

fn run(bytes: &[u8], chunk: usize) -> (usize, usize) {
    let mut conn = H2Conn::new(
        0,
        H2Config {
            max_streams: 1 << 20,
            ..H2Config::default()
        },
    );
    let mut data = 0;
    let mut headers = 0;
    for c in bytes.chunks(chunk) {
        conn.feed(0, c, &mut |e| match e {
            H2Event::Data { data: d, .. } => data += d.len(),
            H2Event::Headers { fields, .. } => headers += fields.len(),
            H2Event::Anomaly { anomaly, .. } => panic!("{anomaly:?}"),
            _ => {}
        });
    }
    (data, headers)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("http2_data");
    for (name, frames, size) in [
        ("16k_frames", 2048, 16384),
        ("1k_frames", 16384, 1024),
        ("100b_frames", 65536, 100),
    ] {
        let (bytes, payload) = data_stream(frames, size);
        assert_eq!(run(&bytes, MSS).0, payload);
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(format!("{name}_mss_chunks"), |b| {
            b.iter(|| black_box(run(black_box(&bytes), MSS)))
        });
        g.bench_function(format!("{name}_64k_chunks"), |b| {
            b.iter(|| black_box(run(black_box(&bytes), 65536)))
        });
    }
    g.finish();
    let mut g = c.benchmark_group("http2_headers");
    let n = 20_000;
    let bytes = header_stream(n);
    assert_eq!(run(&bytes, MSS).1, 8 * n as usize);
    g.throughput(Throughput::Elements(u64::from(n)));
    g.bench_function("requests_hpack", |b| {
        b.iter(|| black_box(run(black_box(&bytes), MSS)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
