//! Micro-benchmarks of the hot paths, through the public API: unmasking, frame parsing,
//! UTF-8 validation and inflating (all via `WsDecoder`), TCP reassembly (`HalfStream`) and
//! JSON writing (`JsonSink`).
//!
//!     cargo bench --bench micro               # all
//!     cargo bench --bench micro -- inflate    # one group

mod common;

use std::hint::black_box;
use std::io;
use std::net::SocketAddr;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

use common::{Deflater, Pools, Rng, short, write_frame};
use wsnoop::Limits;
use wsnoop::event::{ConnRef, Dir, DirEvent, Event, EventKind, Message, Opcode, Timestamp};
use wsnoop::message::{DirConfig, DirDeflate, Sender, WsDecoder};
use wsnoop::packet::TcpFlags;
use wsnoop::reassembly::{Chunk, HalfStream};
use wsnoop::sink::{JsonSink, Sink};

const MSS: usize = 1448;

fn decoder(sender: Sender, deflate: bool) -> WsDecoder {
    let d = deflate.then_some(DirDeflate {
        no_context_takeover: false,
        max_window_bits: 15,
    });
    WsDecoder::new(DirConfig::new(sender, d, &Limits::default()))
}

/// Feeds `stream` in MSS-sized chunks (as reassembly delivers it); returns payload bytes seen.
fn feed(dec: &mut WsDecoder, stream: &[u8], out: &mut Vec<DirEvent>) -> usize {
    let mut n = 0;
    for chunk in stream.chunks(MSS) {
        dec.feed(chunk, out);
        for ev in out.drain(..) {
            if let DirEvent::Message(m) = ev {
                n += m.payload.len();
            }
        }
    }
    n
}

/// Decodes `stream` once and checks that exactly `msgs` messages carrying `bytes` payload
/// bytes came out, all valid (so the bench measures real decoding, not an error path).
fn check(sender: Sender, deflate: bool, stream: &[u8], msgs: usize, bytes: usize) {
    let mut dec = decoder(sender, deflate);
    let mut out = Vec::new();
    dec.feed(stream, &mut out);
    let (mut n, mut b) = (0, 0);
    for ev in &out {
        match ev {
            DirEvent::Message(m) => {
                assert!(
                    m.opcode != Opcode::Text || m.utf8_valid,
                    "text is valid UTF-8"
                );
                n += 1;
                b += m.payload.len();
            }
            DirEvent::Anomaly(a) => panic!("bench input raised {a:?}"),
        }
    }
    assert_eq!((n, b), (msgs, bytes));
}

fn frames(msgs: &[Vec<u8>], opcode: u8, masked: bool) -> Vec<u8> {
    let mut rng = Rng::new(9);
    let mut s = Vec::new();
    for m in msgs {
        write_frame(&mut s, &mut rng, true, false, opcode, m, masked);
    }
    s
}

fn unmask(c: &mut Criterion) {
    let mut g = c.benchmark_group("unmask");
    short(&mut g);
    let mut rng = Rng::new(1);
    let mut big = vec![0u8; 1 << 20];
    rng.fill(&mut big);
    for (name, masked) in [("client_1MiB_masked", true), ("server_1MiB_plain", false)] {
        let stream = frames(std::slice::from_ref(&big), 2, masked);
        let sender = if masked {
            Sender::Client
        } else {
            Sender::Server
        };
        g.throughput(Throughput::Bytes(big.len() as u64));
        g.bench_function(name, |b| {
            check(sender, false, &stream, 1, big.len());
            let (mut dec, mut out) = (decoder(sender, false), Vec::new());
            b.iter(|| black_box(feed(&mut dec, &stream, &mut out)))
        });
    }
    g.finish();
}

fn frame_parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("frame_parse");
    short(&mut g);
    let mut rng = Rng::new(2);
    let msgs: Vec<Vec<u8>> = (0..10_000)
        .map(|_| {
            let mut m = vec![0u8; rng.range(8, 40) as usize];
            rng.fill(&mut m);
            m
        })
        .collect();
    for (name, masked) in [("small_binary_masked", true), ("small_binary_plain", false)] {
        let stream = frames(&msgs, 2, masked);
        let sender = if masked {
            Sender::Client
        } else {
            Sender::Server
        };
        g.throughput(Throughput::Elements(msgs.len() as u64));
        g.bench_function(name, |b| {
            check(
                sender,
                false,
                &stream,
                msgs.len(),
                msgs.iter().map(Vec::len).sum(),
            );
            let (mut dec, mut out) = (decoder(sender, false), Vec::new());
            b.iter(|| black_box(feed(&mut dec, &stream, &mut out)))
        });
    }
    g.finish();
}

fn utf8(c: &mut Criterion) {
    let mut g = c.benchmark_group("utf8");
    short(&mut g);
    let pools = Pools::new(1);
    let mut rng = Rng::new(3);
    // Long text: non-ASCII words (tiny_text's vocabulary) concatenated to 64 KiB.
    let mut words = Vec::new();
    while words.len() < 64 << 10 {
        pools.tiny_text(&mut rng, 200, &mut words);
    }
    let mut ascii = Vec::new();
    while ascii.len() < 64 << 10 {
        pools.medium_text(&mut rng, 16 << 10, &mut ascii);
    }
    for (name, text) in [
        ("text_64KiB_mixed", words),
        ("json_64KiB_mostly_ascii", ascii),
    ] {
        let stream = frames(std::slice::from_ref(&text), 1, false);
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(name, |b| {
            check(Sender::Server, false, &stream, 1, text.len());
            let (mut dec, mut out) = (decoder(Sender::Server, false), Vec::new());
            b.iter(|| black_box(feed(&mut dec, &stream, &mut out)))
        });
    }
    g.finish();
}

fn inflate(c: &mut Criterion) {
    let mut g = c.benchmark_group("inflate");
    short(&mut g);
    let pools = Pools::new(1);
    let mut rng = Rng::new(4);
    let mut tiny = Vec::new();
    for _ in 0..2000 {
        let mut m = Vec::new();
        let n = rng.range(20, 200) as usize;
        pools.tiny_text(&mut rng, n, &mut m);
        tiny.push(m);
    }
    let mut medium = Vec::new();
    for _ in 0..32 {
        let mut m = Vec::new();
        pools.medium_text(&mut rng, 64 << 10, &mut m);
        medium.push(m);
    }
    for (name, msgs) in [("tiny_json_context_takeover", tiny), ("json_64KiB", medium)] {
        // One compressed stream (context taken over from message to message), decoded from the
        // start by a fresh decoder each iteration.
        let mut comp = Deflater::new(6);
        let mut rng = Rng::new(5);
        let mut stream = Vec::new();
        let mut wire = Vec::new();
        for m in &msgs {
            comp.compress(m, &mut wire);
            write_frame(&mut stream, &mut rng, true, true, 1, &wire, false);
        }
        let total: usize = msgs.iter().map(Vec::len).sum();
        g.throughput(Throughput::Bytes(total as u64));
        g.bench_function(name, |b| {
            check(Sender::Server, true, &stream, msgs.len(), total);
            b.iter_batched_ref(
                || (decoder(Sender::Server, true), Vec::new()),
                |(dec, out)| {
                    let n = feed(dec, &stream, out);
                    assert_eq!(n, total, "every message inflated");
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

fn reassembly(c: &mut Criterion) {
    let mut g = c.benchmark_group("reassembly");
    short(&mut g);
    let data = vec![0x5Au8; 4 << 20];
    let isn: u32 = 0xFFFF_0000; // wraps inside the stream
    let segs: Vec<(u32, &[u8])> = data
        .chunks(MSS)
        .enumerate()
        .map(|(i, s)| (isn.wrapping_add(1).wrapping_add((i * MSS) as u32), s))
        .collect();
    let mut swapped = segs.clone();
    for pair in swapped.chunks_mut(2) {
        pair.reverse();
    }
    let ack = TcpFlags {
        ack: true,
        ..TcpFlags::default()
    };
    let syn = TcpFlags {
        syn: true,
        ..TcpFlags::default()
    };
    g.throughput(Throughput::Bytes(data.len() as u64));
    for (name, order) in [("in_order_4MiB", &segs), ("pairs_swapped_4MiB", &swapped)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let lim = Limits::default();
                let mut hs = HalfStream::new(lim.max_ooo_bytes, lim.max_ooo_segments);
                let mut got = 0usize;
                let mut sink = |c: Chunk<'_>| {
                    if let Chunk::Data { bytes, .. } = c {
                        got += bytes.len();
                    }
                };
                hs.segment(isn, syn, &[], 0, 0, &mut sink);
                for (seq, payload) in order.iter() {
                    hs.segment(*seq, ack, payload, 0, 0, &mut sink);
                }
                assert_eq!(got, data.len());
            })
        });
    }
    g.finish();
}

fn json(c: &mut Criterion) {
    let mut g = c.benchmark_group("json");
    short(&mut g);
    let pools = Pools::new(1);
    let mut rng = Rng::new(6);
    let conn = ConnRef {
        id: 7,
        client: SocketAddr::from(([127, 0, 0, 1], 40_000)),
        server: SocketAddr::from(([127, 0, 0, 1], 8080)),
        stream: None,
    };
    let event = |opcode: Opcode, payload: Vec<u8>| Event {
        ts: Timestamp::new(1_700_000_000, 123_456_000),
        conn: Some(conn),
        kind: EventKind::Message {
            dir: Dir::S2c,
            msg: Message {
                opcode,
                wire_len: payload.len() as u64,
                payload,
                frames: 1,
                compressed: false,
                utf8_valid: true,
                frame_detail: Vec::new(),
                packets: None,
                truncated: false,
            },
        },
    };
    let tiny: Vec<Event> = (0..1000)
        .map(|_| {
            let mut m = Vec::new();
            let n = rng.range(20, 200) as usize;
            pools.tiny_text(&mut rng, n, &mut m);
            event(Opcode::Text, m)
        })
        .collect();
    let binary: Vec<Event> = (0..64)
        .map(|_| {
            let mut m = Vec::new();
            pools.binary(&mut rng, 16 << 10, &mut m);
            event(Opcode::Binary, m)
        })
        .collect();
    for (name, events) in [
        ("tiny_text_messages", tiny),
        ("binary_16KiB_base64", binary),
    ] {
        let bytes: usize = events
            .iter()
            .map(|e| match &e.kind {
                EventKind::Message { msg, .. } => msg.payload.len(),
                _ => 0,
            })
            .sum();
        g.throughput(Throughput::Bytes(bytes as u64));
        let mut sink = JsonSink::new(io::sink());
        g.bench_function(name, |b| {
            b.iter(|| {
                for e in &events {
                    sink.event(e).ok();
                }
                sink.flush().ok();
            })
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    unmask,
    frame_parse,
    utf8,
    inflate,
    reassembly,
    json
);
criterion_main!(benches);
