use std::net::SocketAddr;

use etherparse::PacketBuilder;
use proptest::prelude::*;

use super::*;
use crate::event::Timestamp;

const PAYLOAD: &[u8] = b"hello, websocket";

fn v4_tcp(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(40000, 8080, 0xdead_beef, 65535)
        .ack(7)
        .psh()
        .write(&mut out, payload)
        .unwrap();
    out
}

fn v6_tcp(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut src = [0; 16];
    src[15] = 1;
    let mut dst = [0; 16];
    dst[0] = 0xfe;
    dst[1] = 0x80;
    dst[15] = 2;
    PacketBuilder::ipv6(src, dst, 64)
        .tcp(40000, 8080, 1, 65535)
        .syn()
        .write(&mut out, payload)
        .unwrap();
    out
}

fn ethernet(ether_type: u16, rest: &[u8]) -> Vec<u8> {
    let mut out = vec![0; 12];
    out.extend(ether_type.to_be_bytes());
    out.extend_from_slice(rest);
    out
}

fn pkt(link: LinkType, data: &[u8]) -> RawPacket<'_> {
    RawPacket {
        ts: Timestamp::new(1, 2),
        link,
        data,
        orig_len: data.len() as u32,
    }
}

/// (src, dst, seq, flags, payload, missing) of a TCP result, or the non-TCP outcome.
#[derive(Debug, PartialEq)]
enum Out {
    Tcp(SocketAddr, SocketAddr, u32, TcpFlags, Vec<u8>, u32),
    NotTcp,
    Fragment,
    Malformed(&'static str),
    Dropped(String),
}

fn decode(d: &mut PacketDecoder, link: LinkType, data: &[u8]) -> Out {
    match d.decode(&pkt(link, data)) {
        Decoded::Tcp(s) => Out::Tcp(s.src, s.dst, s.seq, s.flags, s.payload.to_vec(), s.missing),
        Decoded::NotTcp => Out::NotTcp,
        Decoded::Fragment => Out::Fragment,
        Decoded::Malformed(why) => Out::Malformed(why),
        Decoded::FragmentDropped(what) => Out::Dropped(what),
    }
}

fn decoder() -> PacketDecoder {
    PacketDecoder::new(&Limits::default())
}

fn v4_expected(payload: &[u8], missing: u32) -> Out {
    Out::Tcp(
        "10.0.0.1:40000".parse().unwrap(),
        "10.0.0.2:8080".parse().unwrap(),
        0xdead_beef,
        TcpFlags {
            ack: true,
            ..TcpFlags::default()
        },
        payload.to_vec(),
        missing,
    )
}

fn v6_expected(payload: &[u8]) -> Out {
    Out::Tcp(
        "[::1]:40000".parse().unwrap(),
        "[fe80::2]:8080".parse().unwrap(),
        1,
        TcpFlags {
            syn: true,
            ..TcpFlags::default()
        },
        payload.to_vec(),
        0,
    )
}

#[test]
fn link_type_numbers() {
    let cases = [
        (0, LinkType::Null),
        (1, LinkType::Ethernet),
        (12, LinkType::Raw),
        (14, LinkType::Raw),
        (101, LinkType::Raw),
        (108, LinkType::Loop),
        (113, LinkType::LinuxSll),
        (228, LinkType::Ipv4),
        (229, LinkType::Ipv6),
        (276, LinkType::LinuxSll2),
        (147, LinkType::Other(147)),
    ];
    for (n, want) in cases {
        assert_eq!(LinkType::from_linktype(n), want, "{n}");
    }
}

#[test]
fn ethernet_ipv4_and_ipv6() {
    let mut d = decoder();
    let frame = ethernet(0x0800, &v4_tcp(PAYLOAD));
    assert_eq!(
        decode(&mut d, LinkType::Ethernet, &frame),
        v4_expected(PAYLOAD, 0)
    );
    let frame = ethernet(0x86dd, &v6_tcp(PAYLOAD));
    assert_eq!(
        decode(&mut d, LinkType::Ethernet, &frame),
        v6_expected(PAYLOAD)
    );
}

#[test]
fn ethernet_built_by_etherparse_with_vlan_and_qinq() {
    let mut d = decoder();
    let vid = etherparse::VlanId::try_new(100).unwrap();
    let mut single = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .single_vlan(vid)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(40000, 8080, 0xdead_beef, 65535)
        .ack(7)
        .write(&mut single, PAYLOAD)
        .unwrap();
    assert_eq!(single.get(12..14), Some(&[0x81, 0x00][..]));
    assert_eq!(
        decode(&mut d, LinkType::Ethernet, &single),
        v4_expected(PAYLOAD, 0)
    );

    let mut double = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .double_vlan(vid, vid)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(40000, 8080, 0xdead_beef, 65535)
        .ack(7)
        .write(&mut double, PAYLOAD)
        .unwrap();
    assert_eq!(
        decode(&mut d, LinkType::Ethernet, &double),
        v4_expected(PAYLOAD, 0)
    );
}

#[test]
fn any_number_of_vlan_tags() {
    let mut d = decoder();
    // 802.1ad, legacy 0x9100, and four 802.1Q tags: more than etherparse's three.
    let mut frame = vec![0; 12];
    for tpid in [0x88a8u16, 0x9100, 0x8100, 0x8100, 0x8100, 0x8100] {
        frame.extend(tpid.to_be_bytes());
        frame.extend([0x00, 0x64]);
    }
    frame.extend(0x0800u16.to_be_bytes());
    frame.extend(v4_tcp(PAYLOAD));
    assert_eq!(
        decode(&mut d, LinkType::Ethernet, &frame),
        v4_expected(PAYLOAD, 0)
    );
    // A tag cut off by the snap length.
    let cut = &frame[..12 + 4 * 3 + 2];
    assert_eq!(
        decode(&mut d, LinkType::Ethernet, cut),
        Out::Malformed("VLAN tag cut by snap length")
    );
}

#[test]
fn linux_cooked_v1_and_v2() {
    let mut d = decoder();
    let mut sll = Vec::new();
    PacketBuilder::linux_sll(etherparse::LinuxSllPacketType::OUTGOING, 6, [3; 8])
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(40000, 8080, 0xdead_beef, 65535)
        .ack(7)
        .write(&mut sll, PAYLOAD)
        .unwrap();
    assert_eq!(sll.get(14..16), Some(&[0x08, 0x00][..]));
    assert_eq!(
        decode(&mut d, LinkType::LinuxSll, &sll),
        v4_expected(PAYLOAD, 0)
    );

    // SLL2: protocol, reserved, ifindex, ARPHRD, packet type, address length, address.
    let mut sll2 = vec![0x86, 0xdd, 0, 0, 0, 0, 0, 1, 0, 1, 4, 6];
    sll2.extend([9; 8]);
    sll2.extend(v6_tcp(PAYLOAD));
    assert_eq!(
        decode(&mut d, LinkType::LinuxSll2, &sll2),
        v6_expected(PAYLOAD)
    );
    assert_eq!(
        decode(&mut d, LinkType::LinuxSll2, &sll2[..19]),
        Out::Malformed("Linux cooked (SLL2) header cut by snap length")
    );
    // SLL2 carrying ARP.
    sll2[0..2].copy_from_slice(&[0x08, 0x06]);
    assert_eq!(decode(&mut d, LinkType::LinuxSll2, &sll2), Out::NotTcp);
}

#[test]
fn null_and_loop_in_either_byte_order() {
    let mut d = decoder();
    for link in [LinkType::Null, LinkType::Loop] {
        for (af, v6) in [
            (2u32.to_le_bytes(), false),
            (2u32.to_be_bytes(), false),
            (24u32.to_le_bytes(), true),
            (28u32.to_be_bytes(), true),
            (30u32.to_le_bytes(), true),
        ] {
            let mut frame = af.to_vec();
            if v6 {
                frame.extend(v6_tcp(PAYLOAD));
                assert_eq!(decode(&mut d, link, &frame), v6_expected(PAYLOAD));
            } else {
                frame.extend(v4_tcp(PAYLOAD));
                assert_eq!(decode(&mut d, link, &frame), v4_expected(PAYLOAD, 0));
            }
        }
        let mut other = 17u32.to_le_bytes().to_vec();
        other.extend(v4_tcp(PAYLOAD));
        assert_eq!(decode(&mut d, link, &other), Out::NotTcp);
    }
}

#[test]
fn raw_ip_link_types() {
    let mut d = decoder();
    let v4 = v4_tcp(PAYLOAD);
    let v6 = v6_tcp(PAYLOAD);
    assert_eq!(decode(&mut d, LinkType::Raw, &v4), v4_expected(PAYLOAD, 0));
    assert_eq!(decode(&mut d, LinkType::Raw, &v6), v6_expected(PAYLOAD));
    assert_eq!(decode(&mut d, LinkType::Ipv4, &v4), v4_expected(PAYLOAD, 0));
    assert_eq!(decode(&mut d, LinkType::Ipv6, &v6), v6_expected(PAYLOAD));
    assert_eq!(
        decode(&mut d, LinkType::Ipv4, &v6),
        Out::Malformed("IPv4 packet with another IP version")
    );
    assert_eq!(
        decode(&mut d, LinkType::Raw, &[0x10; 40]),
        Out::Malformed("raw packet is neither IPv4 nor IPv6")
    );
    assert_eq!(decode(&mut d, LinkType::Other(147), &v4), Out::NotTcp);
}

#[test]
fn not_tcp() {
    let mut d = decoder();
    let mut udp = Vec::new();
    PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .udp(1, 2)
        .write(&mut udp, PAYLOAD)
        .unwrap();
    assert_eq!(decode(&mut d, LinkType::Raw, &udp), Out::NotTcp);
    assert_eq!(
        decode(&mut d, LinkType::Ethernet, &ethernet(0x0806, &[0; 28])),
        Out::NotTcp
    );
}

#[test]
fn ipv6_extension_headers_are_skipped() {
    let mut d = decoder();
    let plain = v6_tcp(PAYLOAD);
    // Hop-by-hop (8 bytes, PadN) then destination options (16 bytes), then TCP.
    let mut p = plain[..40].to_vec();
    p[6] = 0; // next header: hop-by-hop
    p.extend([60, 0, 1, 4, 0, 0, 0, 0]);
    p.extend([6, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    p.extend_from_slice(&plain[40..]);
    let len = (p.len() - 40) as u16;
    p[4..6].copy_from_slice(&len.to_be_bytes());
    assert_eq!(decode(&mut d, LinkType::Raw, &p), v6_expected(PAYLOAD));
    assert_eq!(
        decode(&mut d, LinkType::Raw, &p[..50]),
        Out::Malformed("IPv6 extension header cut by snap length")
    );
}

#[test]
fn ipv4_options_are_skipped() {
    let mut d = decoder();
    let plain = v4_tcp(PAYLOAD);
    let mut p = plain[..20].to_vec();
    p[0] = 0x46; // 24-byte header
    p.extend([1, 1, 1, 0]); // NOP NOP NOP EOL
    p.extend_from_slice(&plain[20..]);
    let total = p.len() as u16;
    p[2..4].copy_from_slice(&total.to_be_bytes());
    assert_eq!(decode(&mut d, LinkType::Raw, &p), v4_expected(PAYLOAD, 0));
}

#[test]
fn snap_length_cut_payload_counts_missing_bytes() {
    let mut d = decoder();
    let frame = ethernet(0x0800, &v4_tcp(PAYLOAD));
    // 14 + 20 + 20 + 5 captured of 14 + 20 + 20 + 16.
    let cut = &frame[..59];
    let raw = RawPacket {
        orig_len: frame.len() as u32,
        ..pkt(LinkType::Ethernet, cut)
    };
    match d.decode(&raw) {
        Decoded::Tcp(s) => {
            assert_eq!(s.payload, &PAYLOAD[..5]);
            assert_eq!(s.missing, 11);
        }
        other => panic!("{other:?}"),
    }
    let v6 = v6_tcp(PAYLOAD);
    match decode(&mut d, LinkType::Raw, &v6[..60 + 3]) {
        Out::Tcp(.., payload, missing) => {
            assert_eq!((payload, missing), (PAYLOAD[..3].to_vec(), 13))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn snap_length_cutting_the_tcp_header() {
    let mut d = decoder();
    let v4 = v4_tcp(PAYLOAD);
    for len in [20, 21, 33, 39] {
        assert_eq!(
            decode(&mut d, LinkType::Raw, &v4[..len]),
            Out::Malformed("TCP header cut by snap length"),
            "{len}"
        );
    }
    assert_eq!(
        decode(&mut d, LinkType::Raw, &v4[..19]),
        Out::Malformed("IPv4 header cut by snap length")
    );
}

#[test]
fn ethernet_padding_is_ignored() {
    let mut d = decoder();
    // A bare ACK: 40 bytes of IP padded to the 46-byte Ethernet minimum.
    let mut frame = ethernet(0x0800, &v4_tcp(b""));
    frame.extend([0xee; 6]);
    assert_eq!(
        decode(&mut d, LinkType::Ethernet, &frame),
        v4_expected(b"", 0)
    );
}

#[test]
fn offloaded_zero_total_length_uses_the_frame() {
    let mut d = decoder();
    let mut p = v4_tcp(PAYLOAD);
    p[2..4].copy_from_slice(&[0, 0]);
    assert_eq!(decode(&mut d, LinkType::Raw, &p), v4_expected(PAYLOAD, 0));
}

#[test]
fn malformed_headers() {
    let mut d = decoder();
    let mut p = v4_tcp(PAYLOAD);
    p[0] = 0x44;
    assert_eq!(
        decode(&mut d, LinkType::Raw, &p),
        Out::Malformed("IPv4 header length below 20 bytes")
    );
    let mut p = v4_tcp(PAYLOAD);
    p[2..4].copy_from_slice(&10u16.to_be_bytes());
    assert_eq!(
        decode(&mut d, LinkType::Raw, &p),
        Out::Malformed("IPv4 total length shorter than its header")
    );
    let mut p = v4_tcp(PAYLOAD);
    p[32] = 0x40; // data offset 4 words
    assert_eq!(
        decode(&mut d, LinkType::Raw, &p),
        Out::Malformed("TCP data offset below 5 words")
    );
    let mut p = v4_tcp(PAYLOAD);
    p[32] = 0xf0; // 60-byte TCP header, but the datagram has 36 bytes after IP
    assert_eq!(
        decode(&mut d, LinkType::Raw, &p),
        Out::Malformed("TCP header longer than its IP payload")
    );
    assert_eq!(
        decode(&mut d, LinkType::Ethernet, &[0; 13]),
        Out::Malformed("Ethernet header cut by snap length")
    );
}

// ---- IP fragments ----

/// Splits an IPv4 packet's payload into fragments at the given payload offsets
/// (multiples of 8).
fn v4_fragments(packet: &[u8], cuts: &[usize], id: u16) -> Vec<Vec<u8>> {
    let payload = &packet[20..];
    let mut bounds = vec![0];
    bounds.extend_from_slice(cuts);
    bounds.push(payload.len());
    bounds
        .windows(2)
        .map(|w| {
            let mut f = packet[..20].to_vec();
            let more = w[1] < payload.len();
            let field = (w[0] / 8) as u16 | if more { 0x2000 } else { 0 };
            f[2..4].copy_from_slice(&((20 + w[1] - w[0]) as u16).to_be_bytes());
            f[4..6].copy_from_slice(&id.to_be_bytes());
            f[6..8].copy_from_slice(&field.to_be_bytes());
            f.extend_from_slice(&payload[w[0]..w[1]]);
            f
        })
        .collect()
}

/// Same for IPv6: a Fragment header after the fixed header.
fn v6_fragments(packet: &[u8], cuts: &[usize], id: u32) -> Vec<Vec<u8>> {
    let payload = &packet[40..];
    let mut bounds = vec![0];
    bounds.extend_from_slice(cuts);
    bounds.push(payload.len());
    bounds
        .windows(2)
        .map(|w| {
            let mut f = packet[..40].to_vec();
            f[6] = 44;
            f[4..6].copy_from_slice(&((8 + w[1] - w[0]) as u16).to_be_bytes());
            let more = u16::from(w[1] < payload.len());
            f.push(packet[6]);
            f.push(0);
            f.extend((w[0] as u16 | more).to_be_bytes());
            f.extend(id.to_be_bytes());
            f.extend_from_slice(&payload[w[0]..w[1]]);
            f
        })
        .collect()
}

fn big_payload() -> Vec<u8> {
    (0..200u8).collect()
}

#[test]
fn ipv4_fragments_in_order_and_reversed() {
    let payload = big_payload();
    let whole = v4_tcp(&payload);
    for reverse in [false, true] {
        let mut d = decoder();
        let mut frags = v4_fragments(&whole, &[64, 128], 0x1234);
        if reverse {
            frags.reverse();
        }
        assert_eq!(decode(&mut d, LinkType::Raw, &frags[0]), Out::Fragment);
        assert_eq!(decode(&mut d, LinkType::Raw, &frags[1]), Out::Fragment);
        assert!(d.held_bytes() > 0);
        assert_eq!(
            decode(&mut d, LinkType::Raw, &frags[2]),
            v4_expected(&payload, 0)
        );
        assert_eq!(d.held_bytes(), 0);
    }
}

#[test]
fn ipv6_fragments_reassemble() {
    let payload = big_payload();
    let whole = v6_tcp(&payload);
    let mut d = decoder();
    let frags = v6_fragments(&whole, &[8, 120], 0xabcd_0001);
    assert_eq!(decode(&mut d, LinkType::Raw, &frags[2]), Out::Fragment);
    assert_eq!(decode(&mut d, LinkType::Raw, &frags[0]), Out::Fragment);
    assert_eq!(
        decode(&mut d, LinkType::Raw, &frags[1]),
        v6_expected(&payload)
    );
}

#[test]
fn overlapping_fragments_first_copy_wins() {
    let payload = big_payload();
    let whole = v4_tcp(&payload);
    let mut d = decoder();
    let frags = v4_fragments(&whole, &[64, 128], 7);
    // A forged fragment over [56, 136) with different bytes arrives after the first.
    let mut forged = v4_fragments(&v4_tcp(&[0xff; 200]), &[56, 136], 7).remove(1);
    forged[6..8].copy_from_slice(&(0x2000u16 | 7).to_be_bytes());
    assert_eq!(decode(&mut d, LinkType::Raw, &frags[0]), Out::Fragment);
    assert_eq!(decode(&mut d, LinkType::Raw, &forged), Out::Fragment);
    // The forged bytes filled [64, 136); the genuine middle only adds nothing new there.
    assert_eq!(decode(&mut d, LinkType::Raw, &frags[1]), Out::Fragment);
    let mut expected = payload.clone();
    // TCP payload offset = IP payload offset - 20.
    for b in &mut expected[64 - 20..136 - 20] {
        *b = 0xff;
    }
    assert_eq!(
        decode(&mut d, LinkType::Raw, &frags[2]),
        v4_expected(&expected, 0)
    );
}

#[test]
fn duplicate_fragment_is_harmless() {
    let payload = big_payload();
    let whole = v4_tcp(&payload);
    let mut d = decoder();
    let frags = v4_fragments(&whole, &[64], 9);
    assert_eq!(decode(&mut d, LinkType::Raw, &frags[0]), Out::Fragment);
    let held = d.held_bytes();
    assert_eq!(decode(&mut d, LinkType::Raw, &frags[0]), Out::Fragment);
    assert_eq!(d.held_bytes(), held);
    assert_eq!(
        decode(&mut d, LinkType::Raw, &frags[1]),
        v4_expected(&payload, 0)
    );
}

#[test]
fn fragment_pool_byte_limit_drops_the_oldest() {
    let payload = big_payload();
    let whole = v4_tcp(&payload);
    let limits = Limits {
        max_ip_frag_bytes: 200,
        ..Limits::default()
    };
    let mut d = PacketDecoder::new(&limits);
    let first = v4_fragments(&whole, &[64, 128], 1);
    let second = v4_fragments(&whole, &[64, 128], 2);
    assert_eq!(decode(&mut d, LinkType::Raw, &first[0]), Out::Fragment);
    assert_eq!(decode(&mut d, LinkType::Raw, &first[1]), Out::Fragment);
    assert_eq!(d.held_bytes(), 128 + 2 * 12);
    assert_eq!(
        decode(&mut d, LinkType::Raw, &second[0]),
        Out::Dropped(
            "IPv4 datagram 10.0.0.1→10.0.0.2 id 0x1 (protocol 6): 128 bytes of fragments dropped"
                .into()
        )
    );
    assert_eq!(d.held_bytes(), 64 + 12);
    // The dropped datagram's last fragment no longer completes anything.
    assert_eq!(decode(&mut d, LinkType::Raw, &first[2]), Out::Fragment);
    // A fragment bigger than the whole pool cannot be kept at all.
    let huge = v4_fragments(&v4_tcp(&[0; 300]), &[8], 3);
    assert_eq!(
        decode(&mut d, LinkType::Raw, &huge[1]),
        Out::Dropped(
            "IPv4 datagram 10.0.0.1→10.0.0.2 id 0x2 (protocol 6): 64 bytes of fragments dropped \
             (and 2 more datagrams)"
                .into()
        )
    );
    assert_eq!(d.held_bytes(), 0);
}

#[test]
fn fragment_pool_datagram_limit() {
    let whole = v4_tcp(&big_payload());
    let limits = Limits {
        max_ip_frag_datagrams: 2,
        ..Limits::default()
    };
    let mut d = PacketDecoder::new(&limits);
    for id in [1, 2] {
        assert_eq!(
            decode(&mut d, LinkType::Raw, &v4_fragments(&whole, &[64], id)[0]),
            Out::Fragment
        );
    }
    match decode(&mut d, LinkType::Raw, &v4_fragments(&whole, &[64], 3)[0]) {
        Out::Dropped(what) => assert!(what.contains("id 0x1 "), "{what}"),
        other => panic!("{other:?}"),
    }
    // Datagrams 2 and 3 still complete.
    for id in [2, 3] {
        let last = v4_fragments(&whole, &[64], id).remove(1);
        assert_eq!(
            decode(&mut d, LinkType::Raw, &last),
            v4_expected(&big_payload(), 0)
        );
    }
}

#[test]
fn fragment_at_the_highest_offset() {
    let mut d = decoder();
    let mut f = v4_tcp(b"")[..20].to_vec();
    f[2..4].copy_from_slice(&28u16.to_be_bytes());
    f[6..8].copy_from_slice(&(8184u16 | 0x2000).to_be_bytes()); // offset 65472
    f.extend([0; 8]);
    assert_eq!(decode(&mut d, LinkType::Raw, &f), Out::Fragment);
    assert_eq!(d.held_bytes(), 8 + 12);
    // Offset 65528 plus 8 bytes passes 65535 - 20.
    f[6..8].copy_from_slice(&(8191u16 | 0x2000).to_be_bytes());
    assert_eq!(
        decode(&mut d, LinkType::Raw, &f),
        Out::Malformed("IP fragment reaches past the 65535-byte datagram limit")
    );
}

#[test]
fn non_tcp_fragments_are_not_held() {
    let mut d = decoder();
    let mut udp = Vec::new();
    PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .udp(1, 2)
        .write(&mut udp, &big_payload())
        .unwrap();
    let frags = v4_fragments(&udp, &[64], 5);
    assert_eq!(decode(&mut d, LinkType::Raw, &frags[0]), Out::NotTcp);
    assert_eq!(d.held_bytes(), 0);
}

#[test]
fn reassembled_ipv6_with_non_tcp_inside_is_not_tcp() {
    // Fragment header followed by a destination-options header, then UDP (17).
    let mut d = decoder();
    let mut inner = vec![17, 0, 1, 4, 0, 0, 0, 0];
    inner.extend([0; 16]);
    let mut whole = v6_tcp(b"")[..40].to_vec();
    whole[6] = 60;
    whole.extend(&inner);
    let frags = v6_fragments(&whole, &[8], 3);
    assert_eq!(decode(&mut d, LinkType::Raw, &frags[0]), Out::Fragment);
    assert_eq!(decode(&mut d, LinkType::Raw, &frags[1]), Out::NotTcp);
}

#[test]
fn snap_cut_fragment_is_not_held() {
    let mut d = decoder();
    let frags = v4_fragments(&v4_tcp(&big_payload()), &[64], 8);
    assert_eq!(
        decode(&mut d, LinkType::Raw, &frags[0][..50]),
        Out::Malformed("IP fragment cut by snap length")
    );
    assert_eq!(d.held_bytes(), 0);
}

// ---- bundled captures ----

fn decode_capture(name: &str) -> Vec<Out> {
    let path = format!("{}/captures/{name}", env!("CARGO_MANIFEST_DIR"));
    let file = std::fs::File::open(path).unwrap();
    let mut r = crate::capture::CaptureReader::new(file, &Limits::default()).unwrap();
    let mut d = decoder();
    let mut out = Vec::new();
    while let Some(p) = r.next_packet().unwrap() {
        out.push(match d.decode(&p) {
            Decoded::Tcp(s) => {
                Out::Tcp(s.src, s.dst, s.seq, s.flags, s.payload.to_vec(), s.missing)
            }
            Decoded::NotTcp => Out::NotTcp,
            Decoded::Fragment => Out::Fragment,
            Decoded::Malformed(why) => Out::Malformed(why),
            Decoded::FragmentDropped(what) => Out::Dropped(what),
        });
    }
    out
}

#[test]
fn bundled_captures_decode_to_tcp() {
    for name in [
        "py_basic_echo.pcap",
        "py_linktype_sll2.pcap",
        "py_pcapng.pcapng",
        "py_ipv6_loopback.pcap",
        "adversarial/tx_vlan.pcap",
        "adversarial/clean_base.pcap",
    ] {
        let out = decode_capture(name);
        assert!(out.iter().all(|o| matches!(o, Out::Tcp(..))), "{name}");
    }
    // The VLAN copy carries exactly the same segments as the original.
    assert_eq!(
        decode_capture("adversarial/tx_vlan.pcap"),
        decode_capture("adversarial/clean_base.pcap")
    );
}

#[test]
fn snaplen_capture_reports_missing_bytes() {
    let cut = decode_capture("adversarial/tx_snaplen128.pcap");
    let full = decode_capture("adversarial/clean_base.pcap");
    assert_eq!(cut.len(), full.len());
    let mut truncated = 0;
    for (c, f) in cut.iter().zip(&full) {
        let (Out::Tcp(_, _, cseq, _, cp, cm), Out::Tcp(_, _, fseq, _, fp, 0)) = (c, f) else {
            panic!("{c:?} / {f:?}");
        };
        assert_eq!(cseq, fseq);
        assert_eq!(cp[..], fp[..cp.len()]);
        assert_eq!(cp.len() + *cm as usize, fp.len());
        truncated += usize::from(*cm > 0);
    }
    assert!(truncated > 0);
}

proptest! {
    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200), link in 0u32..300) {
        let mut d = decoder();
        let _ = d.decode(&pkt(LinkType::from_linktype(link), &data));
    }

    #[test]
    fn mutated_packets_never_panic(pos in 0usize..80, byte in any::<u8>(), cut in 0usize..80) {
        let mut d = decoder();
        for base in [ethernet(0x0800, &v4_tcp(PAYLOAD)), ethernet(0x86dd, &v6_tcp(PAYLOAD))] {
            let mut p = base.clone();
            if let Some(b) = p.get_mut(pos) { *b = byte; }
            p.truncate(cut.max(1) + 13);
            let _ = d.decode(&pkt(LinkType::Ethernet, &p));
        }
    }

    #[test]
    fn fragments_in_any_order_reassemble(order in Just((0..5usize).collect::<Vec<_>>()).prop_shuffle()) {
        let payload = big_payload();
        let whole = v4_tcp(&payload);
        let frags = v4_fragments(&whole, &[40, 80, 120, 160], 77);
        let mut d = decoder();
        let mut result = None;
        for &i in &order {
            result = Some(decode(&mut d, LinkType::Raw, &frags[i]));
        }
        prop_assert_eq!(result, Some(v4_expected(&payload, 0)));
        prop_assert_eq!(d.held_bytes(), 0);
    }
}

/// Throughput of reading and decoding (run with `--release -- --ignored --nocapture`).
#[test]
#[ignore]
fn throughput() {
    let frame = ethernet(0x0800, &v4_tcp(&[0x5a; 1400]));
    let mut file = Vec::new();
    file.extend(0xa1b2_c3d4u32.to_le_bytes());
    file.extend([2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    file.extend(262_144u32.to_le_bytes());
    file.extend(1u32.to_le_bytes());
    for i in 0..200_000u32 {
        for x in [i, 0, frame.len() as u32, frame.len() as u32] {
            file.extend(x.to_le_bytes());
        }
        file.extend_from_slice(&frame);
    }
    let size = file.len();
    let start = std::time::Instant::now();
    let mut r =
        crate::capture::CaptureReader::new(std::io::Cursor::new(file), &Limits::default()).unwrap();
    let mut d = decoder();
    let mut bytes = 0usize;
    while let Some(p) = r.next_packet().unwrap() {
        if let Decoded::Tcp(s) = d.decode(&p) {
            bytes += s.payload.len();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{size} bytes in {secs:.3}s: {:.2} GB/s ({bytes} payload bytes)",
        size as f64 / secs / 1e9
    );
}
