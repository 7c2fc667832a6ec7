//! The HTTP phase on the bundled real captures: every connection of each Ethernet pcap is
//! reassembled naively here (test-only, independent of the `reassembly` module) and fed in
//! capture order; the upgrades found must be exactly the capture's WebSocket connections.

use super::{HttpPhase, HttpStatus};
use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

struct Stream {
    /// Next expected sequence number.
    next: Option<u32>,
    ooo: BTreeMap<u32, Vec<u8>>,
}

struct Conn {
    addrs: [SocketAddr; 2],
    streams: [Stream; 2],
    phase: HttpPhase,
    decided: Option<HttpStatus>,
}

/// What a connection became: client address, uri, extensions (upgrades); `None` otherwise.
type Found = Option<(String, String, Option<String>)>;

fn run_capture(path: &str) -> Vec<Found> {
    let bytes = std::fs::read(path).unwrap();
    let (_, cap) = pcap_parser::pcap::parse_pcap(&bytes).unwrap();
    let mut conns: Vec<Conn> = Vec::new();
    let mut index: HashMap<(SocketAddr, SocketAddr), (usize, usize)> = HashMap::new();
    for block in &cap.blocks {
        let Ok(pkt) = SlicedPacket::from_ethernet(block.data) else {
            continue;
        };
        let (Some(net), Some(TransportSlice::Tcp(tcp))) = (&pkt.net, &pkt.transport) else {
            continue;
        };
        let (src, dst) = match net {
            NetSlice::Ipv4(ip) => (
                ip.header().source_addr().into(),
                ip.header().destination_addr().into(),
            ),
            NetSlice::Ipv6(ip) => (
                ip.header().source_addr().into(),
                ip.header().destination_addr().into(),
            ),
            _ => continue,
        };
        let src = SocketAddr::new(src, tcp.source_port());
        let dst = SocketAddr::new(dst, tcp.destination_port());
        let (ci, side) = match index.get(&(src, dst)) {
            Some(&found) if !tcp.syn() || tcp.ack() => found,
            _ => {
                conns.push(Conn {
                    addrs: [src, dst],
                    streams: [
                        Stream {
                            next: None,
                            ooo: BTreeMap::new(),
                        },
                        Stream {
                            next: None,
                            ooo: BTreeMap::new(),
                        },
                    ],
                    phase: HttpPhase::new(64 << 10),
                    decided: None,
                });
                index.insert((src, dst), (conns.len() - 1, 0));
                index.insert((dst, src), (conns.len() - 1, 1));
                (conns.len() - 1, 0)
            }
        };
        let conn = &mut conns[ci];
        let stream = &mut conn.streams[side];
        if tcp.syn() {
            stream.next = Some(tcp.sequence_number().wrapping_add(1));
            continue;
        }
        let payload = tcp.payload();
        if payload.is_empty() || conn.decided.is_some() {
            continue;
        }
        let next = *stream.next.get_or_insert(tcp.sequence_number());
        stream
            .ooo
            .entry(tcp.sequence_number().wrapping_sub(next).wrapping_add(next))
            .or_insert_with(|| payload.to_vec());
        // Deliver what is contiguous (retransmitted or overlapping bytes trimmed).
        while let Some((&seq, _)) = stream.ooo.first_key_value() {
            let next = stream.next.unwrap();
            let behind = next.wrapping_sub(seq);
            if (behind as i32) < 0 {
                break;
            }
            let data = stream.ooo.pop_first().unwrap().1;
            if let Some(fresh) = data.get(behind as usize..).filter(|f| !f.is_empty()) {
                stream.next = Some(next.wrapping_add(fresh.len() as u32));
                if conn.decided.is_none() {
                    match conn.phase.feed(side, fresh) {
                        HttpStatus::Pending => {}
                        st => conn.decided = Some(st),
                    }
                }
            }
        }
    }
    conns
        .into_iter()
        .map(|c| match c.decided {
            // An h2c upgrade goes on as HTTP/2: no WebSocket by itself.
            Some(HttpStatus::Upgraded(up)) if !up.h2c => Some((
                c.addrs[up.client_side].to_string(),
                up.info.uri.unwrap_or_default(),
                up.info.extensions,
            )),
            _ => None,
        })
        .collect()
}

fn upgrades(path: &str) -> Vec<(String, String, Option<String>)> {
    run_capture(path).into_iter().flatten().collect()
}

fn meta_connections(meta: &str) -> Vec<(String, String, Option<String>)> {
    let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(meta).unwrap()).unwrap();
    meta["websocket_connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["client"].as_str().unwrap().to_owned(),
                c["path"].as_str().unwrap().to_owned(),
                c["extensions_accepted"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

#[test]
fn python_captures_upgrade_exactly_their_websocket_connections() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/captures");
    for name in [
        "py_basic_echo",
        "py_coalesced_frames",
        "py_concurrent_clients",
        "py_control_frames",
        "py_deflate_context_takeover",
        "py_deflate_no_context_takeover",
        "py_fragmented",
        "py_http_then_upgrade",
        "py_ipv6_loopback",
        "py_length_boundaries",
        "py_nsec",
        "py_rejected_upgrade",
        "py_subprotocol",
    ] {
        let mut found = upgrades(&format!("{dir}/{name}.pcap"));
        let mut expected = meta_connections(&format!("{dir}/{name}.meta.json"));
        found.sort();
        expected.sort();
        assert_eq!(found, expected, "{name}");
    }
}

#[test]
fn http_then_upgrade_plain_connections_are_not_websocket() {
    let all = run_capture(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/captures/py_http_then_upgrade.pcap"
    ));
    // Five plain HTTP connections, one upgrade.
    assert_eq!(all.len(), 6);
    assert_eq!(all.iter().filter(|f| f.is_some()).count(), 1);
}

#[test]
fn adversarial_handshakes() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/adversarial");
    for name in [
        "seg_one_byte",
        "seg_coalesced_ipv6",
        "clean_base",
        "tx_out_of_order",
        "tx_vlan",
        "mixed_traffic",
    ] {
        let found = upgrades(&format!("{dir}/{name}.pcap"));
        let expected = std::fs::read_to_string(format!("{dir}/{name}.expected.jsonl")).unwrap();
        let mut clients: Vec<String> = expected
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["client"].as_str().map(str::to_owned))
            .collect();
        clients.sort();
        clients.dedup();
        let mut got: Vec<String> = found.into_iter().map(|f| f.0).collect();
        got.sort();
        assert!(!clients.is_empty(), "{name}");
        assert_eq!(got, clients, "{name}");
    }
}
