//! Writing pcapng files (one section, one interface, nanosecond timestamps, little-endian):
//! what `live -w FILE.pcapng` saves, so that the TLS secrets used can travel inside the file as
//! Decryption Secrets Blocks (pcapng §4.7) and the file decrypts on its own, in wsnoop and in
//! Wireshark.

use std::io::{self, Write};

use crate::event::Timestamp;

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 0x0000_0001;
const EPB: u32 = 0x0000_0006;
const DSB: u32 = 0x0000_000A;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// Secrets type of a DSB holding NSS key log text ("TLSK").
const TLS_KEY_LOG: u32 = 0x544C_534B;
/// `if_tsresol` option: timestamps in units of 10^-9 s.
const OPT_TSRESOL: u16 = 9;

/// A pcapng file writer.
pub struct PcapngWriter<W: Write> {
    out: W,
}

impl<W: Write> PcapngWriter<W> {
    /// Writes the Section Header Block and the one Interface Description Block.
    pub fn new(mut out: W, linktype: u32, snaplen: u32) -> io::Result<Self> {
        let mut shb = Vec::with_capacity(16);
        shb.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        shb.extend_from_slice(&1u16.to_le_bytes());
        shb.extend_from_slice(&0u16.to_le_bytes());
        // Section length not given (-1): the file is written as a stream.
        shb.extend_from_slice(&(-1i64).to_le_bytes());
        block(&mut out, SHB, &shb)?;
        let mut idb = Vec::with_capacity(20);
        // pcapng's link type field is 16 bits; every LINKTYPE in use fits.
        idb.extend_from_slice(&u16::try_from(linktype).unwrap_or(u16::MAX).to_le_bytes());
        idb.extend_from_slice(&0u16.to_le_bytes());
        idb.extend_from_slice(&snaplen.to_le_bytes());
        idb.extend_from_slice(&OPT_TSRESOL.to_le_bytes());
        idb.extend_from_slice(&1u16.to_le_bytes());
        idb.extend_from_slice(&[9, 0, 0, 0]);
        // opt_endofopt
        idb.extend_from_slice(&[0, 0, 0, 0]);
        block(&mut out, IDB, &idb)?;
        Ok(PcapngWriter { out })
    }

    /// One packet (an Enhanced Packet Block): `data` as captured, `orig_len` on the wire.
    pub fn record(&mut self, ts: Timestamp, data: &[u8], orig_len: u32) -> io::Result<()> {
        let nanos = u64::try_from(ts.secs.max(0))
            .unwrap_or(0)
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::from(ts.nanos.min(999_999_999)));
        let caplen = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let mut head = [0u8; 20];
        let fields: [&[u8]; 5] = [
            &0u32.to_le_bytes(),
            &((nanos >> 32) as u32).to_le_bytes(),
            &(nanos as u32).to_le_bytes(),
            &caplen.to_le_bytes(),
            &orig_len.max(caplen).to_le_bytes(),
        ];
        for (i, f) in fields.iter().enumerate() {
            if let Some(dst) = head.get_mut(i * 4..i * 4 + 4) {
                dst.copy_from_slice(f);
            }
        }
        block_parts(&mut self.out, EPB, &head, data)
    }

    /// NSS key log text, as a Decryption Secrets Block: packets after it can be decrypted
    /// with it (and, by readers that look ahead such as Wireshark, those before it).
    pub fn secrets(&mut self, keylog: &[u8]) -> io::Result<()> {
        let len = u32::try_from(keylog.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "key log over 4 GiB"))?;
        let mut head = [0u8; 8];
        head[..4].copy_from_slice(&TLS_KEY_LOG.to_le_bytes());
        head[4..].copy_from_slice(&len.to_le_bytes());
        block_parts(&mut self.out, DSB, &head, keylog)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn get_ref(&self) -> &W {
        &self.out
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

fn block(out: &mut impl Write, kind: u32, body: &[u8]) -> io::Result<()> {
    block_parts(out, kind, body, &[])
}

/// A block: type, total length, `head` then `data` padded to 32 bits, total length again.
fn block_parts(out: &mut impl Write, kind: u32, head: &[u8], data: &[u8]) -> io::Result<()> {
    let pad = (4 - data.len() % 4) % 4;
    let total = 12 + head.len() + data.len() + pad;
    let total = u32::try_from(total)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pcapng block over 4 GiB"))?;
    out.write_all(&kind.to_le_bytes())?;
    out.write_all(&total.to_le_bytes())?;
    out.write_all(head)?;
    out.write_all(data)?;
    out.write_all([0u8; 3].get(..pad).unwrap_or_default())?;
    out.write_all(&total.to_le_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::LinkType;

    #[test]
    fn packets_and_secrets_read_back() {
        let mut w = PcapngWriter::new(Vec::new(), 228, 1500).unwrap();
        w.secrets(b"CLIENT_RANDOM 00 11\n").unwrap();
        w.record(Timestamp::new(7, 123_456_789), &[0x45, 1, 2], 60)
            .unwrap();
        w.record(Timestamp::new(8, 5), &[0x45, 9, 9, 9, 9], 5)
            .unwrap();
        let bytes = w.into_inner();
        assert_eq!(bytes.len() % 4, 0);
        let mut r =
            super::super::CaptureReader::new(&bytes[..], &crate::Limits::default()).unwrap();
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(p.ts, Timestamp::new(7, 123_456_789));
        assert_eq!(p.link, LinkType::Ipv4);
        assert_eq!(p.data, &[0x45, 1, 2]);
        assert_eq!(p.orig_len, 60);
        assert_eq!(r.take_secrets(), vec![b"CLIENT_RANDOM 00 11\n".to_vec()]);
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(p.ts, Timestamp::new(8, 5));
        assert_eq!(p.data, &[0x45, 9, 9, 9, 9]);
        assert!(r.next_packet().unwrap().is_none());
    }
}
