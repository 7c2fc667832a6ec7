//! The TLS layer on the real wss:// captures of `captures/tls/` (Python websockets over
//! OpenSSL, headless Chromium; their clients' key logs): the capture reader, packet decoder and
//! TCP reassembly give each direction's bytes, `TlsConn` decrypts them, and every WebSocket
//! connection's plaintext must hold its HTTP/1.1 upgrade and 101 answer; the version, suite
//! and resumption must be what the endpoints reported (`NAME.meta.json`); `tls_no_keys` must
//! appear exactly where the capture expects it (once per direction) and nothing else anywhere.
//! No engine involved.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::net::SocketAddr;

use serde_json::Value;
use wsnoop::Limits;
use wsnoop::capture::CaptureReader;
use wsnoop::event::TlsInfo;
use wsnoop::packet::{Decoded, PacketDecoder};
use wsnoop::reassembly::{Chunk, HalfStream};
use wsnoop::tls::{KeyLog, TlsConfig, TlsConn, TlsEvent};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/tls");

/// One TCP connection as seen: side 0 is the endpoint that sent the first packet.
struct Conn {
    ends: [SocketAddr; 2],
    streams: [HalfStream; 2],
    tls: TlsConn,
    out: Out,
}

#[derive(Default)]
struct Out {
    plain: [Vec<u8>; 2],
    info: Option<TlsInfo>,
    anomalies: Vec<(Option<usize>, String, String)>,
    lost: Vec<(usize, u64)>,
}

impl Out {
    fn on(&mut self, e: TlsEvent<'_>) {
        match e {
            TlsEvent::Established(i) => self.info = Some(i.clone()),
            TlsEvent::Plaintext { side, data } => self.plain[side].extend_from_slice(data),
            TlsEvent::Lost { side, len } => self.lost.push((side, len)),
            TlsEvent::Closed { .. } => {}
            TlsEvent::Anomaly { side, anomaly } => {
                self.anomalies
                    .push((side, anomaly.kind.as_str().into(), anomaly.detail))
            }
        }
    }
}

fn chunk(conn: &mut Conn, side: usize, c: Chunk<'_>, keys: &KeyLog) {
    let Conn { tls, out, .. } = conn;
    match c {
        Chunk::Data { bytes, .. } => tls.feed(side, bytes, keys, &mut |e| out.on(e)),
        Chunk::Gap { len, .. } => tls.gap(side, len, keys, &mut |e| out.on(e)),
        _ => {}
    }
}

/// Decodes a capture: connections by their endpoints (client first when known).
fn decode(name: &str, keylog: Option<&str>) -> Vec<Conn> {
    let limits = Limits::default();
    let mut keys = KeyLog::new();
    if let Some(k) = keylog {
        let text = std::fs::read(format!("{DIR}/{k}")).unwrap();
        assert_eq!(keys.add_text(&text, 1), vec![]);
    }
    let file = BufReader::new(File::open(format!("{DIR}/{name}")).unwrap());
    let mut reader = CaptureReader::new(file, &limits).unwrap();
    let mut decoder = PacketDecoder::new(&limits);
    let mut conns: Vec<Conn> = Vec::new();
    let mut index: HashMap<(SocketAddr, SocketAddr), (usize, usize)> = HashMap::new();
    loop {
        let pkt = reader.next_packet().unwrap();
        let Some(pkt) = pkt else { break };
        let Decoded::Tcp(seg) = decoder.decode(&pkt) else {
            continue;
        };
        let key = (seg.src, seg.dst);
        let &mut (ci, side) = index.entry(key).or_insert_with(|| {
            conns.push(Conn {
                ends: [seg.src, seg.dst],
                streams: [
                    HalfStream::new(limits.max_ooo_bytes, limits.max_ooo_segments),
                    HalfStream::new(limits.max_ooo_bytes, limits.max_ooo_segments),
                ],
                tls: TlsConn::new(TlsConfig::default()),
                out: Out::default(),
            });
            (conns.len() - 1, 0)
        });
        index.entry((seg.dst, seg.src)).or_insert((ci, 1 - side));
        let conn = &mut conns[ci];
        let mut chunks = Vec::new();
        conn.streams[side].segment(seg.seq, seg.flags, seg.payload, seg.missing, 0, &mut |c| {
            chunks.push(match c {
                Chunk::Data { bytes, .. } => (Some(bytes.to_vec()), 0),
                Chunk::Gap { len, .. } => (None, len),
                _ => (None, 0),
            })
        });
        for secrets in reader.take_secrets() {
            assert_eq!(keys.add_text(&secrets, 1), vec![]);
        }
        for (data, gap) in chunks {
            match data {
                Some(d) => chunk(
                    conn,
                    side,
                    Chunk::Data {
                        bytes: &d,
                        packet: 0,
                    },
                    &keys,
                ),
                None if gap > 0 => chunk(
                    conn,
                    side,
                    Chunk::Gap {
                        len: gap,
                        reason: wsnoop::reassembly::GapReason::NeverFilled,
                    },
                    &keys,
                ),
                None => {}
            }
        }
    }
    for conn in &mut conns {
        for side in 0..2 {
            let mut chunks = Vec::new();
            conn.streams[side].finish(&mut |c| {
                if let Chunk::Gap { len, .. } = c {
                    chunks.push(len)
                }
            });
            for len in chunks {
                let Conn { tls, out, .. } = conn;
                tls.gap(side, len, &keys, &mut |e| out.on(e));
            }
        }
        let Conn { tls, out, .. } = conn;
        tls.finish(&keys, &mut |e| out.on(e));
        // Report from the client's view: swap so that side 0 is the ClientHello's sender.
        if tls.client_side() == Some(1) {
            conn.ends.swap(0, 1);
            conn.out.plain.swap(0, 1);
            for a in &mut conn.out.anomalies {
                a.0 = a.0.map(|s| 1 - s);
            }
        }
    }
    conns
}

fn lines(path: &str) -> Vec<Value> {
    std::fs::read_to_string(format!("{DIR}/{path}"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn check(name: &str, keylog: Option<&str>) {
    let stem = name.rsplit_once('.').unwrap().0;
    let conns = decode(name, keylog);
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{DIR}/{stem}.meta.json")).unwrap())
            .unwrap();
    let expected = lines(&format!("{stem}.expected.jsonl"));
    let pair = |v: &Value| {
        (
            v["client"].as_str().unwrap().to_owned(),
            v["server"].as_str().unwrap().to_owned(),
        )
    };
    let ws: std::collections::HashSet<_> = expected
        .iter()
        .filter(|v| v.get("opcode").is_some())
        .map(pair)
        .collect();
    let mut no_keys_expected = Vec::new();
    let mut allowed = Vec::new();
    for v in &expected {
        if v.get("expect_error").and_then(Value::as_str) == Some("tls_no_keys") {
            let dir = v["dir"].as_str().unwrap();
            no_keys_expected.push((pair(v), if dir == "c2s" { 0 } else { 1 }));
        }
        if v.get("allow_error").and_then(Value::as_str) == Some("tls_no_keys") {
            allowed.push(pair(v));
        }
    }
    let tls_meta = meta["tls"]["connections"].as_array().unwrap();
    let mut seen_ws = 0;
    let mut no_keys_seen = Vec::new();
    for conn in &conns {
        let ends = (conn.ends[0].to_string(), conn.ends[1].to_string());
        let what = format!("{name} {ends:?}");
        let m = tls_meta
            .iter()
            .find(|m| pair(m) == ends)
            .unwrap_or_else(|| panic!("{what}: not in meta"));
        for (side, kind, detail) in &conn.out.anomalies {
            if kind == "tls_no_keys" {
                let random = m["client_random"].as_str().unwrap();
                assert!(detail.contains(random), "{what}: {detail}");
                if allowed.contains(&ends) {
                    continue;
                }
                no_keys_seen.push((ends.clone(), side.unwrap()));
                continue;
            }
            panic!("{what}: unexpected {kind}: {detail}");
        }
        assert_eq!(conn.out.lost, vec![], "{what}");
        if m["keys_complete"].as_bool() == Some(true) {
            let info = conn
                .out
                .info
                .as_ref()
                .unwrap_or_else(|| panic!("{what}: not established"));
            let version = m["version"].as_str().unwrap().trim_start_matches("TLSv");
            assert_eq!(info.version, version, "{what}");
            assert_eq!(info.cipher, m["cipher_suite"].as_str().unwrap(), "{what}");
            assert_eq!(info.resumed, m["resumed"].as_bool().unwrap(), "{what}");
        }
        if ws.contains(&ends) {
            seen_ws += 1;
            let request = String::from_utf8_lossy(&conn.out.plain[0]).to_lowercase();
            let response = String::from_utf8_lossy(&conn.out.plain[1]);
            assert!(request.starts_with("get "), "{what}: {request:.80}");
            assert!(request.contains("upgrade: websocket"), "{what}");
            assert!(
                response.starts_with("HTTP/1.1 101"),
                "{what}: {response:.80}"
            );
        }
    }
    assert_eq!(
        seen_ws,
        ws.len(),
        "{name}: every WebSocket connection decoded"
    );
    no_keys_seen.sort();
    no_keys_expected.sort();
    assert_eq!(no_keys_seen, no_keys_expected, "{name}");
}

#[test]
fn wss_tls12_aes128gcm() {
    check("wss_tls12_aes128gcm.pcap", Some("wss_tls12_aes128gcm.keys"));
}

#[test]
fn wss_tls13_aes128gcm() {
    check("wss_tls13_aes128gcm.pcap", Some("wss_tls13_aes128gcm.keys"));
}

#[test]
fn wss_tls13_aes256gcm() {
    check("wss_tls13_aes256gcm.pcap", Some("wss_tls13_aes256gcm.keys"));
}

#[test]
fn wss_tls13_chacha20() {
    check("wss_tls13_chacha20.pcap", Some("wss_tls13_chacha20.keys"));
}

#[test]
fn wss_tls13_resumption() {
    check(
        "wss_tls13_resumption.pcap",
        Some("wss_tls13_resumption.keys"),
    );
}

#[test]
fn wss_chromium_tls13() {
    check("wss_chromium_tls13.pcap", Some("wss_chromium_tls13.keys"));
}

#[test]
fn wss_tls_missing_keys() {
    check(
        "wss_tls_missing_keys.pcap",
        Some("wss_tls_missing_keys.keys"),
    );
}

#[test]
fn wss_tls13_keys_in_pcapng() {
    check("wss_tls13_keys_in_pcapng.pcapng", None);
}

#[test]
fn pcapng_decryption_secrets_block_is_handed_out_once() {
    let limits = Limits::default();
    let file = File::open(format!("{DIR}/wss_tls13_keys_in_pcapng.pcapng")).unwrap();
    let mut reader = CaptureReader::new(BufReader::new(file), &limits).unwrap();
    let mut taken = Vec::new();
    while reader.next_packet().unwrap().is_some() {
        taken.extend(reader.take_secrets());
    }
    assert_eq!(taken.len(), 1);
    let mut keys = KeyLog::new();
    assert_eq!(keys.add_text(&taken[0], 1), vec![]);
    assert_eq!(keys.len(), 1);
    assert!(reader.take_secrets().is_empty());
    // A pcap has none.
    let file = File::open(format!("{DIR}/wss_tls13_aes128gcm.pcap")).unwrap();
    let mut reader = CaptureReader::new(BufReader::new(file), &limits).unwrap();
    while reader.next_packet().unwrap().is_some() {
        assert!(reader.take_secrets().is_empty());
    }
}
