//! The real h2c capture (captures/h2/h2c_python_multi.pcap: Python h2 + wsproto client,
//! Hypercorn server, prior knowledge): each TCP direction reassembled with the engine's own
//! layers, fed to `H2Conn`; the extended CONNECT streams 1, 3 and 7 are seen with
//! `:protocol websocket` and answered 200, and each WebSocket stream's DATA, decoded by the
//! existing WebSocket decoder with the deflate parameters of its response, gives exactly the
//! messages of the capture's ground truth, per stream and direction.

mod h2util;

use std::collections::BTreeMap;
use std::fs::File;
use std::net::SocketAddr;
use std::path::Path;

use base64_simd::STANDARD;
use h2util::Seen;
use serde_json::Value;
use wsnoop::Limits;
use wsnoop::capture::CaptureReader;
use wsnoop::event::DirEvent;
use wsnoop::handshake::deflate_params;
use wsnoop::http2::{H2Config, H2Conn, WebSocketVerdict, classify};
use wsnoop::message::{DirConfig, DirDeflate, Sender, WsDecoder};
use wsnoop::packet::{Decoded, PacketDecoder};
use wsnoop::reassembly::{Chunk, HalfStream};

const CLIENT: usize = 0;
const SERVER: usize = 1;

fn capture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures/h2")
        .join(name)
}

/// Reassemble both directions of the one TCP connection and decode them as HTTP/2.
fn decode_h2c() -> (Seen, H2Conn) {
    let limits = Limits::default();
    let file = File::open(capture("h2c_python_multi.pcap")).unwrap();
    let mut reader = CaptureReader::new(file, &limits).unwrap();
    let mut packets = PacketDecoder::new(&limits);
    let mut halves = [
        HalfStream::new(limits.max_ooo_bytes, limits.max_ooo_segments),
        HalfStream::new(limits.max_ooo_bytes, limits.max_ooo_segments),
    ];
    let server: SocketAddr = "127.0.0.1:8451".parse().unwrap();
    let mut conn = H2Conn::new(CLIENT, H2Config::default());
    let mut seen = Seen::default();
    let mut segments = 0;
    while let Some(pkt) = reader.next_packet().unwrap() {
        let Decoded::Tcp(seg) = packets.decode(&pkt) else {
            continue;
        };
        let side = if seg.dst == server { CLIENT } else { SERVER };
        segments += 1;
        halves[side].segment(
            seg.seq,
            seg.flags,
            seg.payload,
            seg.missing,
            0,
            &mut |chunk| match chunk {
                Chunk::Data { bytes, .. } => conn.feed(side, bytes, &mut |e| seen.take(e)),
                Chunk::Gap { len, .. } => conn.gap(side, len, &mut |e| seen.take(e)),
                _ => {}
            },
        );
    }
    for (side, half) in halves.iter_mut().enumerate() {
        half.finish(&mut |chunk| {
            if let Chunk::Data { bytes, .. } = chunk {
                conn.feed(side, bytes, &mut |e| seen.take(e));
            }
        });
    }
    conn.finish(&mut |e| seen.take(e));
    assert_eq!(segments, 101);
    (seen, conn)
}

/// Messages (opcode, payload) per (stream, dir).
type Messages = BTreeMap<(u32, String), Vec<(String, Vec<u8>)>>;

/// The capture's ground truth.
fn expected() -> Messages {
    let text = std::fs::read_to_string(capture("h2c_python_multi.expected.jsonl")).unwrap();
    let mut map = Messages::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["client"], "127.0.0.1:41794");
        assert_eq!(v["server"], "127.0.0.1:8451");
        let stream = v["stream"].as_u64().unwrap() as u32;
        let dir = v["dir"].as_str().unwrap().to_string();
        let payload = STANDARD
            .decode_to_vec(v["payload_b64"].as_str().unwrap())
            .unwrap();
        map.entry((stream, dir))
            .or_default()
            .push((v["opcode"].as_str().unwrap().to_string(), payload));
    }
    map
}

#[test]
fn h2c_streams_and_messages_exactly() {
    let (seen, conn) = decode_h2c();
    assert!(seen.anomalies.is_empty(), "{:?}", seen.anomalies);
    assert!(seen.lost.is_empty() && seen.data_lost.is_empty());
    // Hypercorn enables extended CONNECT (RFC 8441 §3).
    assert!(
        seen.settings
            .iter()
            .any(|s| s.0 == SERVER && s.1 == Some(true))
    );
    // Hypercorn never ends streams 1 and 7 (meta.json: END_STREAM sent by the client only):
    // they are still open when the TCP connection closes.
    assert_eq!(conn.open_streams(), 2);
    assert!(seen.resets.is_empty());

    let expected = expected();
    let limits = Limits::default();
    let mut checked = 0;
    for (stream, path) in [
        (1u32, "/echo?s=A"),
        (
            3,
            "/echo?s=B&close_after=5&code=4001&reason=server%20closes%20stream%20B",
        ),
        (7, "/echo?s=C"),
    ] {
        let req = classify(seen.headers(CLIENT, stream)[0]);
        assert_eq!(
            req.websocket_request(),
            WebSocketVerdict::Yes,
            "stream {stream}"
        );
        assert_eq!(req.protocol.as_deref(), Some("websocket"));
        assert_eq!(req.path.as_deref(), Some(path));
        assert_eq!(
            req.header("user-agent"),
            Some("corpus-h2-client (python h2 + wsproto)")
        );
        let resp = classify(seen.headers(SERVER, stream)[0]);
        assert_eq!(resp.status, Some(200), "stream {stream}");
        assert_eq!(resp.websocket_accepted(), WebSocketVerdict::Yes);
        let deflate = resp
            .header("sec-websocket-extensions")
            .and_then(deflate_params);
        for (side, sender, dir) in [
            (CLIENT, Sender::Client, "c2s"),
            (SERVER, Sender::Server, "s2c"),
        ] {
            let dir_deflate = deflate.map(|p| DirDeflate::for_sender(&p, sender));
            let mut ws = WsDecoder::new(DirConfig::new(sender, dir_deflate, &limits));
            let mut events = Vec::new();
            ws.feed(&seen.data(side, stream), &mut events);
            ws.finish(&mut events);
            let got: Vec<(String, Vec<u8>)> = events
                .into_iter()
                .map(|e| match e {
                    DirEvent::Message(m) => (m.opcode.as_str().to_string(), m.payload),
                    DirEvent::Anomaly(a) => panic!("stream {stream} {dir}: {a:?}"),
                })
                .collect();
            let want = &expected[&(stream, dir.to_string())];
            assert_eq!(got.len(), want.len(), "stream {stream} {dir}");
            assert_eq!(&got, want, "stream {stream} {dir}");
            checked += got.len();
            let ends = side == CLIENT || stream == 3;
            assert_eq!(seen.ended(side, stream), ends, "stream {stream} {dir}");
        }
    }
    assert_eq!(checked, 52);
    // Stream 5 is a GET whose body looks like WebSocket frames: seen, and not a WebSocket.
    let get = classify(seen.headers(CLIENT, 5)[0]);
    assert_eq!(get.method.as_deref(), Some("GET"));
    assert_eq!(get.path.as_deref(), Some("/blob"));
    assert_eq!(get.websocket_request(), WebSocketVerdict::No);
    assert!(!seen.data(SERVER, 5).is_empty());
    // Stream 7's deflate parameters: client_no_context_takeover, server window 10.
    let resp7 = classify(seen.headers(SERVER, 7)[0]);
    let p = resp7
        .header("sec-websocket-extensions")
        .and_then(deflate_params)
        .unwrap();
    assert!(p.client_no_context_takeover);
    assert_eq!(p.server_max_window_bits, 10);
}
