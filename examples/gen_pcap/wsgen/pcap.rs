//! Classic pcap output (Ethernet, IPv4, TCP with timestamps) with correct checksums,
//! streamed: one record at a time into any writer.

use std::io::{self, Write};

const ETH_HDR: [u8; 14] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00];
pub const SNAPLEN: u32 = 262_144;

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

pub struct PcapWriter<W: Write> {
    out: W,
    /// Bytes written so far (header included).
    pub bytes: u64,
    pub packets: u64,
    pub tcp_payload: u64,
}

impl<W: Write> PcapWriter<W> {
    pub fn new(mut out: W) -> io::Result<Self> {
        let mut hdr = [0u8; 24];
        hdr[0..4].copy_from_slice(&0xA1B2_C3D4u32.to_le_bytes());
        hdr[4..6].copy_from_slice(&2u16.to_le_bytes());
        hdr[6..8].copy_from_slice(&4u16.to_le_bytes());
        hdr[16..20].copy_from_slice(&SNAPLEN.to_le_bytes());
        hdr[20..24].copy_from_slice(&1u32.to_le_bytes()); // LINKTYPE_ETHERNET
        out.write_all(&hdr)?;
        Ok(PcapWriter {
            out,
            bytes: 24,
            packets: 0,
            tcp_payload: 0,
        })
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// One record: Ethernet + the given IPv4/TCP headers + payload.
    fn record(&mut self, ts_us: u64, headers: &[u8], payload: &[u8]) -> io::Result<()> {
        let n = (ETH_HDR.len() + headers.len() + payload.len()) as u32;
        let mut rec = [0u8; 16];
        rec[0..4].copy_from_slice(&((ts_us / 1_000_000) as u32).to_le_bytes());
        rec[4..8].copy_from_slice(&((ts_us % 1_000_000) as u32).to_le_bytes());
        rec[8..12].copy_from_slice(&n.to_le_bytes());
        rec[12..16].copy_from_slice(&n.to_le_bytes());
        self.out.write_all(&rec)?;
        self.out.write_all(&ETH_HDR)?;
        self.out.write_all(headers)?;
        self.out.write_all(payload)?;
        self.bytes += 16 + u64::from(n);
        self.packets += 1;
        self.tcp_payload += payload.len() as u64;
        Ok(())
    }
}

/// TCP state of one endpoint.
pub struct Endpoint {
    pub ip: [u8; 4],
    pub port: u16,
    /// Next sequence number this side sends.
    pub nxt: u32,
    pub ipid: u16,
    pub ts_off: u32,
    pub last_tsval: u32,
    /// Segments received from the peer since this side last sent an ACK.
    pub unacked_segs: u32,
}

impl Endpoint {
    pub fn tsval(&self, now_us: u64) -> u32 {
        self.ts_off.wrapping_add((now_us / 1000) as u32)
    }
}

/// Options of a SYN / SYN-ACK: MSS 1460, SACK permitted, timestamps, window scale 7.
pub fn syn_options(tsval: u32, peer_ts: u32) -> [u8; 20] {
    let mut o = [0u8; 20];
    o[0..4].copy_from_slice(&[2, 4, 0x05, 0xB4]);
    o[4..6].copy_from_slice(&[4, 2]);
    o[6..8].copy_from_slice(&[8, 10]);
    o[8..12].copy_from_slice(&tsval.to_be_bytes());
    o[12..16].copy_from_slice(&peer_ts.to_be_bytes());
    o[16..20].copy_from_slice(&[1, 3, 3, 7]);
    o
}

/// Writes one segment from `src` to `dst` and advances `src.nxt`. `opts` defaults to
/// NOP NOP Timestamps.
pub fn emit<W: Write>(
    w: &mut PcapWriter<W>,
    now_us: u64,
    src: &mut Endpoint,
    dst: &Endpoint,
    flags: u8,
    payload: &[u8],
    opts: Option<&[u8]>,
) -> io::Result<()> {
    let tsval = src.tsval(now_us);
    src.last_tsval = tsval;
    let mut ts_opts = [1u8, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0];
    ts_opts[4..8].copy_from_slice(&tsval.to_be_bytes());
    ts_opts[8..12].copy_from_slice(&dst.last_tsval.to_be_bytes());
    let opts = opts.unwrap_or(&ts_opts);
    let thl = 20 + opts.len();
    let ack = if flags & ACK != 0 { dst.nxt } else { 0 };
    let plen = payload.len();
    let tot = (20 + thl + plen) as u16;
    src.ipid = src.ipid.wrapping_add(1);

    let mut h = [0u8; 20 + 60];
    let ip = &mut h[..20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&tot.to_be_bytes());
    ip[4..6].copy_from_slice(&src.ipid.to_be_bytes());
    ip[6..8].copy_from_slice(&0x4000u16.to_be_bytes()); // DF
    ip[8] = 64;
    ip[9] = 6;
    ip[12..16].copy_from_slice(&src.ip);
    ip[16..20].copy_from_slice(&dst.ip);
    let c = fold(sum16(ip));
    ip[10..12].copy_from_slice(&c.to_be_bytes());

    let tcp = &mut h[20..20 + thl];
    tcp[0..2].copy_from_slice(&src.port.to_be_bytes());
    tcp[2..4].copy_from_slice(&dst.port.to_be_bytes());
    tcp[4..8].copy_from_slice(&src.nxt.to_be_bytes());
    tcp[8..12].copy_from_slice(&ack.to_be_bytes());
    tcp[12] = ((thl / 4) as u8) << 4;
    tcp[13] = flags;
    let win: u16 = if flags & SYN != 0 { 65495 } else { 512 };
    tcp[14..16].copy_from_slice(&win.to_be_bytes());
    tcp[20..].copy_from_slice(opts);
    let mut pseudo = [0u8; 12];
    pseudo[0..4].copy_from_slice(&src.ip);
    pseudo[4..8].copy_from_slice(&dst.ip);
    pseudo[9] = 6;
    pseudo[10..12].copy_from_slice(&((thl + plen) as u16).to_be_bytes());
    let c = fold(sum16(&pseudo) + sum16(tcp) + sum16(payload));
    tcp[16..18].copy_from_slice(&c.to_be_bytes());

    w.record(now_us, &h[..20 + thl], payload)?;
    let adv = plen as u32 + u32::from(flags & (SYN | FIN) != 0);
    src.nxt = src.nxt.wrapping_add(adv);
    if flags & ACK != 0 {
        src.unacked_segs = 0;
    }
    Ok(())
}

/// Sum of big-endian 16-bit words (odd length zero-padded), not yet folded. Summing 32-bit
/// words is equivalent modulo 0xFFFF, since 0x10000 ≡ 1.
fn sum16(data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(4);
    let mut s: u64 = chunks
        .by_ref()
        .map(|c| u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
        .sum();
    let mut tail = [0u8; 4];
    let rest = chunks.remainder();
    tail[..rest.len()].copy_from_slice(rest);
    s += u64::from(u32::from_be_bytes(tail));
    s
}

/// Ones'-complement checksum (RFC 1071) of a sum from `sum16`.
fn fold(s: u64) -> u16 {
    let r = (s % 0xFFFF) as u16;
    if r == 0 { 0xFFFF } else { 0xFFFF - r }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_rfc1071_example() {
        // RFC 1071 §3: words 0001 f203 f4f5 f6f7 sum (folded) to ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum16(&data)), !0xddf2);
        // The odd byte is the high half of a zero-padded word.
        assert_eq!(sum16(&[0x12]), 0x1200_0000);
        assert_eq!(fold(0x1200_0000), !0x1200);
    }

    #[test]
    fn ipv4_header_checksum_verifies() {
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        let mut a = Endpoint {
            ip: [127, 0, 0, 1],
            port: 40000,
            nxt: 0xFFFF_FFFF,
            ipid: 7,
            ts_off: 1,
            last_tsval: 0,
            unacked_segs: 3,
        };
        let b = Endpoint {
            ip: [127, 0, 0, 1],
            port: 80,
            nxt: 99,
            ipid: 0,
            ts_off: 0,
            last_tsval: 0,
            unacked_segs: 0,
        };
        emit(&mut w, 1_000_000, &mut a, &b, ACK | PSH, b"abc", None).unwrap();
        assert_eq!(a.nxt, 2, "sequence numbers wrap");
        assert_eq!(a.unacked_segs, 0);
        let bytes = w.into_inner();
        assert_eq!(bytes.len(), 24 + 16 + 14 + 20 + 32 + 3);
        let ip = &bytes[24 + 16 + 14..][..20];
        assert_eq!(
            fold(sum16(ip)),
            0xFFFF,
            "a correct header sums to 0 (shown as FFFF)"
        );
        let tcp = &bytes[24 + 16 + 14 + 20..];
        assert_eq!(&tcp[8..12], &99u32.to_be_bytes(), "ack = peer's next");
        let mut pseudo = [0u8; 12];
        pseudo[0..4].copy_from_slice(&a.ip);
        pseudo[4..8].copy_from_slice(&b.ip);
        pseudo[9] = 6;
        pseudo[10..12].copy_from_slice(&35u16.to_be_bytes());
        assert_eq!(fold(sum16(&pseudo) + sum16(tcp)), 0xFFFF);
    }
}
