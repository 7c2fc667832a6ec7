//! Property: a WebSocket conversation cut into random TCP segments, locally reordered and
//! partly duplicated, decodes to exactly the messages that were sent, in order, with no
//! anomaly.

mod common;

use std::net::SocketAddrV4;

use proptest::prelude::*;
use wsnoop::event::{Dir, EventKind, Opcode};
use wsnoop::packet::{LinkType, RawPacket};
use wsnoop::{Engine, Event, Limits};

use common::forge::{self, LenForm};
use common::synth::Conv;

const REQUEST: &[u8] = b"GET /feed HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";
const RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

/// One frame, minimal length encoding (RFC 6455 §5.2), masked with `key` when given.
fn frame(fin: bool, opcode: u8, payload: &[u8], key: Option<[u8; 4]>) -> Vec<u8> {
    forge::frame_with(u8::from(fin) << 7 | opcode, key, payload, LenForm::Minimal)
}

/// A message as sent: opcode (1 text, 2 binary, 9 ping), payload, fragment count.
type Sent = (u8, Vec<u8>, usize);

fn message() -> impl Strategy<Value = Sent> {
    prop_oneof![
        ("[a-zA-Z0-9 éü🚀]{0,300}", 1..4usize).prop_map(|(s, f)| (1u8, s.into_bytes(), f)),
        (proptest::collection::vec(any::<u8>(), 0..3000), 1..4usize).prop_map(|(b, f)| (2u8, b, f)),
        proptest::collection::vec(any::<u8>(), 0..125).prop_map(|b| (9u8, b, 1)),
    ]
}

/// The wire bytes of `msgs`, fragmented as asked.
fn wire(msgs: &[Sent], key: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = Vec::new();
    for (op, payload, frags) in msgs {
        if *op >= 8 {
            out.extend(frame(true, *op, payload, key));
            continue;
        }
        let step = payload.len().div_ceil(*frags).max(1);
        let pieces: Vec<&[u8]> = if payload.is_empty() {
            vec![&[]]
        } else {
            payload.chunks(step).collect()
        };
        for (i, piece) in pieces.iter().enumerate() {
            let opcode = if i == 0 { *op } else { 0 };
            out.extend(frame(i + 1 == pieces.len(), opcode, piece, key));
        }
    }
    out
}

fn opcode(op: u8) -> Opcode {
    Opcode::from_u8(op)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_segmentation_order_and_duplication_decodes_the_same(
        c2s in proptest::collection::vec(message(), 0..12),
        s2c in proptest::collection::vec(message(), 0..12),
        mss in 1usize..1500,
        isn in any::<[u32; 2]>(),
        swaps in proptest::collection::vec((any::<usize>(), 1usize..6), 0..40),
        dups in proptest::collection::vec(any::<usize>(), 0..20),
    ) {
        let client: SocketAddrV4 = "10.0.0.1:40000".parse().unwrap();
        let server: SocketAddrV4 = "10.0.0.2:8080".parse().unwrap();
        let mut conv = Conv::new(client, server, isn);
        conv.mss = mss;
        conv.handshake();
        conv.send(0, REQUEST);
        conv.send(1, RESPONSE);
        let handshake_packets = conv.packets.len();
        conv.send(0, &wire(&c2s, Some([1, 2, 3, 4])));
        conv.send(1, &wire(&s2c, None));
        conv.close();

        // Reorder locally (never before the handshake) and duplicate some packets.
        let mut packets = conv.packets.clone();
        let n = packets.len();
        for (at, dist) in &swaps {
            if n > handshake_packets + 1 {
                let i = handshake_packets + at % (n - handshake_packets);
                let j = (i + dist).min(n - 1);
                packets.swap(i, j);
            }
        }
        for at in &dups {
            if n > handshake_packets {
                let i = handshake_packets + at % (n - handshake_packets);
                let copy = packets[i].clone();
                let to = (i + 1 + at % 3).min(packets.len());
                packets.insert(to, copy);
            }
        }

        let mut engine = Engine::new(Limits::default());
        let mut events: Vec<Event> = Vec::new();
        for (micros, data) in &packets {
            let pkt = RawPacket {
                ts: wsnoop::event::Timestamp::new(1_700_000_000, (*micros as u32) * 1000),
                link: LinkType::Ethernet,
                data,
                orig_len: data.len() as u32,
            };
            engine.packet(&pkt, &mut events);
        }
        engine.finish(&mut events);

        let mut got: [Vec<(Opcode, Vec<u8>)>; 2] = Default::default();
        for ev in &events {
            match &ev.kind {
                EventKind::Message { dir, msg } => got[dir.index()].push((msg.opcode, msg.payload.clone())),
                EventKind::Anomaly { anomaly, .. } => prop_assert!(false, "anomaly {:?}", anomaly),
                _ => {}
            }
        }
        let want = |msgs: &[Sent]| msgs.iter().map(|(op, p, _)| (opcode(*op), p.clone())).collect::<Vec<_>>();
        prop_assert_eq!(&got[Dir::C2s.index()], &want(&c2s));
        prop_assert_eq!(&got[Dir::S2c.index()], &want(&s2c));
    }
}
