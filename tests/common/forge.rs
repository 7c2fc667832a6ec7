//! Hand-forged captures for fault shapes: WebSocket frames, handshakes and deflate blocks as
//! bytes, TCP segments with explicit sequence numbers (so tests can reorder, drop, overlap or
//! wrap them), and link layers the bundled corpus does not use. Deterministic: same calls, same
//! bytes.
#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr};

use etherparse::PacketBuilder;
use flate2::{Compress, Compression, FlushCompress};
use serde_json::{Value, json};

/// RFC 6455 §1.3's example key and the accept value it implies.
pub const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
pub const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
pub const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// Length encodings of RFC 6455 §5.2.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum LenForm {
    Minimal,
    Ext16,
    Ext64,
}

/// A frame header declaring `len` payload bytes (payload not included).
pub fn header(b0: u8, mask: Option<[u8; 4]>, len: u64, form: LenForm) -> Vec<u8> {
    let m = if mask.is_some() { 0x80 } else { 0 };
    let mut out = vec![b0];
    let form = match form {
        LenForm::Minimal if len < 126 => LenForm::Minimal,
        LenForm::Minimal if len <= 0xffff => LenForm::Ext16,
        LenForm::Minimal => LenForm::Ext64,
        f => f,
    };
    match form {
        LenForm::Minimal => out.push(m | len as u8),
        LenForm::Ext16 => {
            out.push(m | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        LenForm::Ext64 => {
            out.push(m | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    if let Some(k) = mask {
        out.extend_from_slice(&k);
    }
    out
}

/// A whole frame; the payload is masked when `mask` is given.
pub fn frame_with(b0: u8, mask: Option<[u8; 4]>, payload: &[u8], form: LenForm) -> Vec<u8> {
    let mut out = header(b0, mask, payload.len() as u64, form);
    match mask {
        Some(k) => out.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4])),
        None => out.extend_from_slice(payload),
    }
    out
}

/// A minimal-length frame; client frames (side 0) masked, server frames not. Each client frame
/// gets a key of its own (RFC 6455 §5.3), derived from its content so that the same calls give
/// the same bytes.
pub fn frame(side: usize, b0: u8, payload: &[u8]) -> Vec<u8> {
    let mask = (side == 0).then(|| key_for(b0, payload));
    frame_with(b0, mask, payload, LenForm::Minimal)
}

/// A masking key from a frame's first byte and payload (FNV-1a).
pub fn key_for(b0: u8, payload: &[u8]) -> [u8; 4] {
    let mut h: u32 = 0x811c_9dc5;
    for &b in std::iter::once(&b0).chain(payload) {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    h.to_be_bytes()
}

pub fn text(side: usize, s: &str) -> Vec<u8> {
    frame(side, 0x81, s.as_bytes())
}

/// Upgrade request and 101 response, optionally negotiating an extension.
pub fn upgrade(ext: Option<&str>) -> (Vec<u8>, Vec<u8>) {
    upgrade_with_accept(ext, ACCEPT)
}

pub fn upgrade_with_accept(ext: Option<&str>, accept: &str) -> (Vec<u8>, Vec<u8>) {
    let ext_line = ext
        .map(|e| format!("Sec-WebSocket-Extensions: {e}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "GET /chat HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{ext_line}\r\n"
    );
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n{ext_line}\r\n"
    );
    (req.into_bytes(), resp.into_bytes())
}

/// One direction's permessage-deflate compressor (RFC 7692 §7.2.1: raw DEFLATE, sync flush,
/// trailing 00 00 ff ff removed). Keep it across messages for context takeover.
pub struct Deflater(Compress);

impl Default for Deflater {
    fn default() -> Self {
        Deflater(Compress::new(Compression::new(6), false))
    }
}

impl Deflater {
    pub fn message(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let mut input = data;
        loop {
            out.reserve(64 * 1024);
            let before = self.0.total_in();
            self.0
                .compress_vec(input, &mut out, FlushCompress::Sync)
                .expect("deflate");
            let used = (self.0.total_in() - before) as usize;
            input = &input[used..];
            if input.is_empty() && out.len() < out.capacity() {
                break;
            }
        }
        if data.is_empty() && out.is_empty() {
            // zlib does not flush twice in a row without input: an empty message right after
            // another is sent as one empty stored block (RFC 7692 §7.2.3.6 allows a lone 00).
            return vec![0x00];
        }
        assert!(out.ends_with(&[0, 0, 0xff, 0xff]), "sync flush marker");
        out.truncate(out.len() - 4);
        out
    }
}

/// Link layers to wrap IP packets in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Link {
    Ethernet,
    Vlan,
    QinQ,
    /// Linux cooked capture v1 (LINKTYPE_LINUX_SLL).
    Sll,
    /// BSD loopback (LINKTYPE_NULL, host-order address family).
    Null,
    /// LINKTYPE_RAW: the IP header first.
    Raw,
}

impl Link {
    pub fn linktype(self) -> u32 {
        match self {
            Link::Ethernet | Link::Vlan | Link::QinQ => 1,
            Link::Sll => 113,
            Link::Null => 0,
            Link::Raw => 101,
        }
    }

    /// `ip` (a whole IPv4 or IPv6 packet) with this link layer's header in front.
    pub fn wrap(self, ip: &[u8]) -> Vec<u8> {
        let v6 = ip.first().is_some_and(|b| b >> 4 == 6);
        let ether_type: u16 = if v6 { 0x86dd } else { 0x0800 };
        let mut out = Vec::with_capacity(ip.len() + 24);
        let macs = [2u8, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
        match self {
            Link::Ethernet => out.extend_from_slice(&macs),
            Link::Vlan => {
                out.extend_from_slice(&macs);
                out.extend_from_slice(&[0x81, 0x00, 0x00, 0x64]);
            }
            Link::QinQ => {
                out.extend_from_slice(&macs);
                out.extend_from_slice(&[0x88, 0xa8, 0x00, 0xc8, 0x81, 0x00, 0x00, 0x64]);
            }
            Link::Sll => {
                out.extend_from_slice(&[0, 0, 0x03, 0x04, 0, 6]);
                out.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0, 0]);
            }
            Link::Null => {
                let family: u32 = if v6 { 30 } else { 2 };
                out.extend_from_slice(&family.to_le_bytes());
            }
            Link::Raw => {}
        }
        if matches!(self, Link::Ethernet | Link::Vlan | Link::QinQ | Link::Sll) {
            out.extend_from_slice(&ether_type.to_be_bytes());
        }
        out.extend_from_slice(ip);
        out
    }
}

/// One TCP segment, not yet written.
#[derive(Clone)]
pub struct Seg {
    pub side: usize,
    pub seq: u32,
    pub flags: &'static str,
    pub payload: Vec<u8>,
}

/// One TCP connection: hands out segments with the right sequence numbers.
pub struct Tcp {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub next: [u32; 2],
}

impl Tcp {
    pub fn new(client: &str, server: &str, isn: [u32; 2]) -> Tcp {
        Tcp {
            client: client.parse().expect("client addr"),
            server: server.parse().expect("server addr"),
            next: isn,
        }
    }

    /// The next segment from `side`; advances that side's sequence number.
    pub fn seg(&mut self, side: usize, flags: &'static str, payload: &[u8]) -> Seg {
        let seq = self.next[side];
        let used =
            payload.len() as u32 + u32::from(flags.contains('S')) + u32::from(flags.contains('F'));
        self.next[side] = seq.wrapping_add(used);
        Seg {
            side,
            seq,
            flags,
            payload: payload.to_vec(),
        }
    }

    /// `data` from `side` cut into segments of at most `mss` bytes.
    pub fn segs(&mut self, side: usize, data: &[u8], mss: usize) -> Vec<Seg> {
        data.chunks(mss.max(1))
            .map(|c| self.seg(side, "PA", c))
            .collect()
    }

    pub fn syn(&mut self) -> Vec<Seg> {
        vec![
            self.seg(0, "S", &[]),
            self.seg(1, "SA", &[]),
            self.seg(0, "A", &[]),
        ]
    }

    pub fn fin(&mut self) -> Vec<Seg> {
        vec![
            self.seg(0, "FA", &[]),
            self.seg(1, "FA", &[]),
            self.seg(0, "A", &[]),
        ]
    }

    /// The IP packet (IPv4 or IPv6 by the addresses) carrying `s`.
    pub fn ip_packet(&self, s: &Seg) -> Vec<u8> {
        let (src, dst) = if s.side == 0 {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        let ack = self.next[1 - s.side];
        let b = match (src.ip(), dst.ip()) {
            (IpAddr::V4(a), IpAddr::V4(b)) => PacketBuilder::ipv4(a.octets(), b.octets(), 64),
            (IpAddr::V6(a), IpAddr::V6(b)) => PacketBuilder::ipv6(a.octets(), b.octets(), 64),
            _ => panic!("mixed address families"),
        };
        let mut b = b.tcp(src.port(), dst.port(), s.seq, 65535);
        if s.flags.contains('S') {
            b = b.syn();
        }
        if s.flags.contains('A') {
            b = b.ack(ack);
        }
        if s.flags.contains('F') {
            b = b.fin();
        }
        if s.flags.contains('R') {
            b = b.rst();
        }
        if s.flags.contains('P') {
            b = b.psh();
        }
        let mut out = Vec::with_capacity(s.payload.len() + 60);
        b.write(&mut out, &s.payload).expect("build packet");
        out
    }
}

/// IPv4 fragments of `ip` (an unfragmented IPv4 packet with a 20-byte header), each carrying
/// at most `size` payload bytes (rounded down to a multiple of 8), in offset order.
pub fn ipv4_fragments(ip: &[u8], size: usize, id: u16) -> Vec<Vec<u8>> {
    let body = &ip[20..];
    let step = (size / 8).max(1) * 8;
    let mut out = Vec::new();
    let mut off = 0;
    while off < body.len() {
        let end = (off + step).min(body.len());
        let more = end < body.len();
        let mut h = ip[..20].to_vec();
        h[2..4].copy_from_slice(&((20 + end - off) as u16).to_be_bytes());
        h[4..6].copy_from_slice(&id.to_be_bytes());
        let flags_off = ((off / 8) as u16) | if more { 0x2000 } else { 0 };
        h[6..8].copy_from_slice(&flags_off.to_be_bytes());
        h[10..12].copy_from_slice(&[0, 0]);
        let sum = ipv4_checksum(&h);
        h[10..12].copy_from_slice(&sum.to_be_bytes());
        h.extend_from_slice(&body[off..end]);
        out.push(h);
        off = end;
    }
    out
}

pub fn ipv4_checksum(h: &[u8]) -> u16 {
    let mut sum: u32 = h
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A capture being written: link-layer packets with timestamps.
pub struct Cap {
    pub link: Link,
    pub packets: Vec<(u64, Vec<u8>)>,
    clock: u64,
}

impl Cap {
    pub fn new(link: Link) -> Cap {
        Cap {
            link,
            packets: Vec::new(),
            clock: 0,
        }
    }

    /// One IP packet, wrapped in the link layer.
    pub fn ip(&mut self, ip: &[u8]) {
        self.clock += 10;
        self.packets.push((self.clock, self.link.wrap(ip)));
    }

    pub fn put(&mut self, tcp: &Tcp, segs: &[Seg]) {
        for s in segs {
            let p = tcp.ip_packet(s);
            self.ip(&p);
        }
    }

    /// Classic little-endian pcap, microseconds, snaplen 256 KiB.
    pub fn pcap(&self) -> Vec<u8> {
        let mut out = pcap_header(self.link.linktype(), 262_144);
        for (micros, data) in &self.packets {
            pcap_record(&mut out, *micros, data);
        }
        out
    }
}

pub fn pcap_header(linktype: u32, snaplen: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(24);
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&snaplen.to_le_bytes());
    out.extend_from_slice(&linktype.to_le_bytes());
    out
}

pub fn pcap_record(out: &mut Vec<u8>, micros: u64, data: &[u8]) {
    let secs = 1_700_000_000 + micros / 1_000_000;
    out.extend_from_slice(&(secs as u32).to_le_bytes());
    out.extend_from_slice(&((micros % 1_000_000) as u32).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
}

/// Ground truth lines in the corpus format (`captures/FORMAT.md`).
#[derive(Default)]
pub struct Expect(pub Vec<Value>);

impl Expect {
    pub fn msg(&mut self, tcp: &Tcp, side: usize, opcode: &str, payload: &[u8]) -> &mut Self {
        self.0.push(json!({
            "client": tcp.client.to_string(),
            "server": tcp.server.to_string(),
            "dir": if side == 0 { "c2s" } else { "s2c" },
            "opcode": opcode,
            "payload_b64": base64_simd::STANDARD.encode_to_string(payload),
        }));
        self
    }

    pub fn text(&mut self, tcp: &Tcp, side: usize, s: &str) -> &mut Self {
        self.msg(tcp, side, "text", s.as_bytes())
    }

    pub fn error(&mut self, tcp: Option<&Tcp>, side: Option<usize>, kind: &str) -> &mut Self {
        self.0.push(json!({
            "expect_error": kind,
            "client": tcp.map(|t| t.client.to_string()),
            "server": tcp.map(|t| t.server.to_string()),
            "dir": side.map(|s| if s == 0 { "c2s" } else { "s2c" }),
        }));
        self
    }

    /// One line per value, keys sorted (whatever order serde_json's maps keep).
    pub fn jsonl(&self) -> String {
        self.0.iter().map(|v| format!("{}\n", sorted(v))).collect()
    }
}

/// `v` with every object's keys in sorted order.
fn sorted(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            serde_json::Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Handshake (SYN and Upgrade) of `t`, written in order.
pub fn open(cap: &mut Cap, t: &mut Tcp, ext: Option<&str>) {
    let (req, resp) = upgrade(ext);
    let mut s = t.syn();
    s.push(t.seg(0, "PA", &req));
    s.push(t.seg(1, "PA", &resp));
    cap.put(t, &s);
}

/// `bytes` from `side` in 1400-byte segments, written in order.
pub fn send(cap: &mut Cap, t: &mut Tcp, side: usize, bytes: &[u8]) {
    let s = t.segs(side, bytes, 1400);
    cap.put(t, &s);
}
