//! The application decoders' cost: MQTT units per second on a stream of typical PUBLISH
//! messages (QoS 0 telemetry and QoS 1 with its PUBACK, one packet per WebSocket message as
//! brokers send them, and MQTT.js-style packets in pieces), JSON-RPC request/response pairs,
//! and a connection with no protocol once probing has given up.
//!
//!     cargo bench --bench proto

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wsnoop::event::{Dir, Opcode, Timestamp};
use wsnoop::proto::{MsgRef, ProtoChoice, ProtoConfig, ProtoConn, ProtoHints, ProtoName};

const UNITS: usize = 10_000;

fn packet(first: u8, body: Vec<u8>) -> Vec<u8> {
    let mut v = vec![first];
    let mut n = body.len();
    loop {
        let b = (n % 128) as u8;
        n /= 128;
        v.push(if n > 0 { b | 0x80 } else { b });
        if n == 0 {
            break;
        }
    }
    v.extend(body);
    v
}

/// (direction, payload) of each message: a CONNECT/CONNACK, then PUBLISHes of 60-100 byte
/// JSON readings on `plant/N/temperature`, every fourth one QoS 1 answered by a PUBACK.
fn mqtt_messages() -> Vec<(Dir, Vec<u8>)> {
    let mut msgs = vec![
        (
            Dir::C2s,
            b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00".to_vec(),
        ),
        (Dir::S2c, b"\x20\x02\x00\x00".to_vec()),
    ];
    for i in 0..UNITS {
        let topic = format!("plant/{}/temperature", i % 50);
        let payload = format!(
            "{{\"device\":\"sensor-{}\",\"seq\":{i},\"ts\":{},\"temp_c\":{}.{}}}",
            i % 50,
            1_700_000_000 + i,
            20 + i % 10,
            i % 100
        );
        let qos1 = i % 4 == 0;
        let id = (i % 65_000 + 1) as u16;
        let mut body = (topic.len() as u16).to_be_bytes().to_vec();
        body.extend_from_slice(topic.as_bytes());
        if qos1 {
            body.extend_from_slice(&id.to_be_bytes());
        }
        body.extend_from_slice(payload.as_bytes());
        msgs.push((Dir::C2s, packet(if qos1 { 0x32 } else { 0x30 }, body)));
        if qos1 {
            msgs.push((Dir::S2c, packet(0x40, id.to_be_bytes().to_vec())));
        }
    }
    msgs
}

fn run(choice: ProtoChoice, msgs: &[(Dir, Vec<u8>)], opcode: Opcode) -> usize {
    let mut conn =
        ProtoConn::new(&ProtoHints::default(), choice, ProtoConfig::default()).expect("a decoder");
    let mut out = Vec::new();
    let mut units = 0;
    for (i, (dir, payload)) in msgs.iter().enumerate() {
        conn.message(
            &MsgRef {
                dir: *dir,
                ts: Timestamp::new(1_700_000_000, i as u32),
                opcode,
                payload,
            },
            &mut out,
        );
        units += out.len();
        black_box(&out);
        out.clear();
    }
    units
}

fn mqtt(c: &mut Criterion) {
    let msgs = mqtt_messages();
    let units = run(ProtoChoice::Force(ProtoName::Mqtt), &msgs, Opcode::Binary);
    assert_eq!(units, msgs.len());
    let mut g = c.benchmark_group("proto");
    g.throughput(Throughput::Elements(units as u64));
    g.bench_function("mqtt_publish_units", |b| {
        b.iter(|| run(ProtoChoice::Force(ProtoName::Mqtt), &msgs, Opcode::Binary))
    });
    // MQTT.js writes a packet in pieces: header, length, topic, payload.
    let pieces: Vec<(Dir, Vec<u8>)> = msgs
        .iter()
        .flat_map(|(d, p)| {
            let cut = [1, 2, p.len() / 2];
            let mut out = Vec::new();
            let mut at = 0;
            for c in cut.into_iter().chain([p.len()]) {
                if c > at && c <= p.len() {
                    out.push((*d, p[at..c].to_vec()));
                    at = c;
                }
            }
            out
        })
        .collect();
    g.bench_function("mqtt_publish_units_in_pieces", |b| {
        b.iter(|| run(ProtoChoice::Force(ProtoName::Mqtt), &pieces, Opcode::Binary))
    });
    let rpc: Vec<(Dir, Vec<u8>)> = (0..UNITS / 2)
        .flat_map(|i| {
            [
                (
                    Dir::C2s,
                    format!("{{\"jsonrpc\":\"2.0\",\"id\":{i},\"method\":\"db.query\",\"params\":{{\"sql\":\"SELECT 1\",\"n\":{i}}}}}").into_bytes(),
                ),
                (
                    Dir::S2c,
                    format!("{{\"jsonrpc\":\"2.0\",\"id\":{i},\"result\":{{\"rows\":[[1]],\"ms\":3}}}}").into_bytes(),
                ),
            ]
        })
        .collect();
    g.bench_function("jsonrpc_units", |b| {
        b.iter(|| run(ProtoChoice::Force(ProtoName::JsonRpc), &rpc, Opcode::Text))
    });
    let plain: Vec<(Dir, Vec<u8>)> = (0..UNITS)
        .map(|i| {
            (
                Dir::S2c,
                format!("{{\"type\":\"telemetry\",\"seq\":{i},\"values\":[20.3,28.2]}}")
                    .into_bytes(),
            )
        })
        .collect();
    assert_eq!(run(ProtoChoice::Auto, &plain, Opcode::Text), 0);
    g.throughput(Throughput::Elements(plain.len() as u64));
    g.bench_function("no_protocol_messages_after_probing", |b| {
        b.iter(|| run(ProtoChoice::Auto, &plain, Opcode::Text))
    });
    g.finish();
}

criterion_group!(benches, mqtt);
criterion_main!(benches);
