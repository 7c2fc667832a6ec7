//! Writing pcap files (nanosecond resolution, little-endian): the counterpart of the readers,
//! for saving packets (`wsnoop live -w`).

use std::io::{self, Write};

use crate::event::Timestamp;

/// Size of the pcap file header.
const FILE_HEADER: usize = 24;
/// Size of a pcap record header.
const RECORD_HEADER: usize = 16;
/// The magic number of nanosecond-resolution pcap.
const MAGIC_NANOS: u32 = 0xa1b2_3c4d;

/// A pcap (nanosecond) file writer.
pub struct PcapWriter<W: Write> {
    out: W,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header: pcap 2.4, nanosecond timestamps, little-endian.
    pub fn new(mut out: W, linktype: u32, snaplen: u32) -> io::Result<Self> {
        let mut h = [0u8; FILE_HEADER];
        let fields: [(usize, &[u8]); 5] = [
            (0, &MAGIC_NANOS.to_le_bytes()),
            (4, &2u16.to_le_bytes()),
            (6, &4u16.to_le_bytes()),
            (16, &snaplen.to_le_bytes()),
            (20, &linktype.to_le_bytes()),
        ];
        put(&mut h, &fields);
        out.write_all(&h)?;
        Ok(PcapWriter { out })
    }

    /// One packet: `data` as captured, `orig_len` its length on the wire.
    pub fn record(&mut self, ts: Timestamp, data: &[u8], orig_len: u32) -> io::Result<()> {
        // pcap holds unsigned 32-bit seconds; times outside it are clamped, not wrapped.
        let secs = u32::try_from(ts.secs.max(0)).unwrap_or(u32::MAX);
        let caplen = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let mut h = [0u8; RECORD_HEADER];
        let fields: [(usize, &[u8]); 4] = [
            (0, &secs.to_le_bytes()),
            (4, &ts.nanos.min(999_999_999).to_le_bytes()),
            (8, &caplen.to_le_bytes()),
            (12, &orig_len.max(caplen).to_le_bytes()),
        ];
        put(&mut h, &fields);
        self.out.write_all(&h)?;
        self.out.write_all(data)
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

/// Puts each field's bytes at its offset.
fn put(header: &mut [u8], fields: &[(usize, &[u8])]) {
    for (at, bytes) in fields {
        if let Some(dst) = header.get_mut(*at..at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::LinkType;

    #[test]
    fn header_and_record_bytes() {
        let mut w = PcapWriter::new(Vec::new(), 101, 65535).unwrap();
        w.record(Timestamp::new(1, 2), b"ab", 60).unwrap();
        assert_eq!(
            w.into_inner(),
            [
                0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 101,
                0, 0, 0, // file header
                1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 60, 0, 0, 0, b'a', b'b'
            ]
        );
    }

    #[test]
    fn the_file_reads_back() {
        let mut w = PcapWriter::new(Vec::new(), 228, 1500).unwrap();
        w.record(Timestamp::new(7, 123_456_789), &[0x45, 1, 2], 3)
            .unwrap();
        let bytes = w.into_inner();
        let mut r =
            super::super::CaptureReader::new(&bytes[..], &crate::Limits::default()).unwrap();
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(p.ts, Timestamp::new(7, 123_456_789));
        assert_eq!(p.link, LinkType::Ipv4);
        assert_eq!(p.data, &[0x45, 1, 2]);
    }
}
