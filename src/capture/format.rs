//! What distinguishes pcap from pcapng: recognising the file header, the per-file or
//! per-section state needed to read records (link types, timestamp units, byte order), and
//! reading a block's claimed length before the block has arrived.

use std::io::Read;

use pcap_parser::{Block as NgBlock, OptionCode, PcapBlockOwned, SecretsType};

use super::source::fill_to;
use super::ts;
use super::{CaptureError, CaptureErrorKind};
use crate::event::Timestamp;
use crate::packet::LinkType;

/// Block bytes allowed beyond `max_record_bytes` of packet data (headers, options).
pub(super) const RECORD_SLACK: usize = 64 << 10;
/// Interfaces per pcapng section: each costs memory, and real files have a handful.
const MAX_INTERFACES: usize = 65_536;
/// Key log bytes from Decryption Secrets Blocks held until the caller takes them: a file's
/// secrets are a few hundred bytes per TLS connection, and a caller that never takes them
/// must not make the reader grow without bound.
const MAX_HELD_SECRETS: usize = 16 << 20;

const PCAP_HEADER: usize = 24;
const PCAP_RECORD_HEADER: usize = 16;
/// Kuznetzov's modified pcap (magic 0xa1b2cd34) adds ifindex, protocol, packet type, pad.
const PCAP_MODIFIED_RECORD_HEADER: usize = 24;
const NG_SHB_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
const NG_BOM_LE: [u8; 4] = [0x4d, 0x3c, 0x2b, 0x1a];
const NG_BOM_BE: [u8; 4] = [0x1a, 0x2b, 0x3c, 0x4d];
/// Smallest section header block: type, length, BOM, versions, section length, length.
const NG_SHB_MIN: u32 = 28;
/// Offset of packet data in an enhanced packet block (type, length, interface, timestamp
/// high and low, captured and original lengths).
const NG_EPB_DATA_AT: usize = 28;
/// Offset of packet data in a simple packet block (type, length, original length).
const NG_SPB_DATA_AT: usize = 12;

/// Where a packet's bytes are in its block, and what they are.
pub(super) struct Meta {
    pub ts: Timestamp,
    pub link: LinkType,
    pub data_at: usize,
    pub caplen: usize,
    pub orig_len: u32,
    pub block_len: usize,
}

pub(super) enum Block {
    Packet(Meta),
    /// The pcap file header (not a record).
    Header,
    /// A record or block with no packet in it.
    Other,
}

/// Lengths read from a block header whose body has not arrived yet.
#[derive(Clone, Copy)]
pub(super) struct Claim {
    /// The whole block, header included.
    pub total: u64,
    /// Captured packet bytes (pcap), or the block length (pcapng).
    pub data: u64,
}

pub(super) enum Format {
    Legacy(Legacy),
    Ng(Ng),
}

pub(super) struct Legacy {
    link: LinkType,
    nanos: bool,
    big_endian: bool,
    record_header: usize,
}

pub(super) struct Ng {
    big_endian: bool,
    interfaces: Vec<Interface>,
    /// TLS key log text from Decryption Secrets Blocks, in capture order, not taken yet.
    pub secrets: Vec<Vec<u8>>,
    secrets_bytes: usize,
}

struct Interface {
    link: LinkType,
    snaplen: u32,
    tsresol: u8,
    tsoffset: i64,
}

pub(super) struct Probe {
    /// The bytes read to recognise the format (the whole file header), to be parsed again.
    pub bytes: Vec<u8>,
    pub format: Format,
}

/// Reads the file header: a pcap header (any of its magics) or a whole first pcapng section
/// header block.
pub(super) fn probe<R: Read>(reader: &mut R, max_record: usize) -> Result<Probe, CaptureError> {
    let mut bytes = Vec::with_capacity(PCAP_HEADER);
    read(reader, &mut bytes, 4)?;
    let magic: [u8; 4] = match bytes.get(..4).map(<[u8; 4]>::try_from) {
        Some(Ok(magic)) => magic,
        _ => return Err(not_a_capture()),
    };
    if magic == NG_SHB_MAGIC {
        read(reader, &mut bytes, 12)?;
        let (Some(len), Some(bom)) = (bytes.get(4..8), bytes.get(8..12)) else {
            return Err(header_cut());
        };
        let big_endian = match bom {
            b if b == NG_BOM_LE => false,
            b if b == NG_BOM_BE => true,
            _ => return Err(not_a_capture()),
        };
        let len = read_u32(len, big_endian);
        if len < NG_SHB_MIN || len as usize > max_record.saturating_add(RECORD_SLACK) {
            return Err(CaptureError {
                offset: 0,
                kind: CaptureErrorKind::Corrupt(format!("section header block claims {len} bytes")),
            });
        }
        read(reader, &mut bytes, len as usize)?;
        if bytes.len() < len as usize {
            return Err(header_cut());
        }
        let format = Format::Ng(Ng {
            big_endian,
            interfaces: Vec::new(),
            secrets: Vec::new(),
            secrets_bytes: 0,
        });
        return Ok(Probe { bytes, format });
    }
    // tcpdump.org pcap: the magic gives byte order and timestamp unit.
    let (big_endian, nanos, modified) = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] => (false, false, false),
        [0xa1, 0xb2, 0xc3, 0xd4] => (true, false, false),
        [0x4d, 0x3c, 0xb2, 0xa1] => (false, true, false),
        [0xa1, 0xb2, 0x3c, 0x4d] => (true, true, false),
        [0x34, 0xcd, 0xb2, 0xa1] => (false, false, true),
        _ => return Err(not_a_capture()),
    };
    read(reader, &mut bytes, PCAP_HEADER)?;
    let Some(link) = bytes.get(20..24) else {
        return Err(header_cut());
    };
    // The upper bits of the link-type field carry FCS information, not the type.
    let link = LinkType::from_linktype(read_u32(link, big_endian) & 0xffff);
    let format = Format::Legacy(Legacy {
        link,
        nanos,
        big_endian,
        record_header: if modified {
            PCAP_MODIFIED_RECORD_HEADER
        } else {
            PCAP_RECORD_HEADER
        },
    });
    Ok(Probe { bytes, format })
}

impl Format {
    /// Interprets one parsed block; `len` is its size in the file, `record` its number.
    pub fn block(
        &mut self,
        block: PcapBlockOwned<'_>,
        len: usize,
        max_record: usize,
        record: u64,
    ) -> Result<Block, String> {
        match (self, block) {
            (_, PcapBlockOwned::LegacyHeader(_)) => Ok(Block::Header),
            (Format::Legacy(l), PcapBlockOwned::Legacy(b)) => {
                if b.caplen as usize > max_record {
                    return Err(over_limit("record", record, b.caplen.into(), max_record));
                }
                Ok(Block::Packet(Meta {
                    ts: ts::from_pcap(b.ts_sec, b.ts_usec, l.nanos),
                    link: l.link,
                    data_at: l.record_header,
                    caplen: b.data.len(),
                    orig_len: b.origlen,
                    block_len: len,
                }))
            }
            (Format::Ng(n), PcapBlockOwned::NG(b)) => n.block(b, len, max_record, record),
            _ => Err(format!("record #{record} does not match the file format")),
        }
    }

    /// The length a block claims, from the header bytes at the start of `data`.
    pub fn claimed_len(&self, data: &[u8]) -> Option<Claim> {
        match self {
            Format::Legacy(l) => {
                let caplen = u64::from(read_u32(data.get(8..12)?, l.big_endian));
                Some(Claim {
                    total: l.record_header as u64 + caplen,
                    data: caplen,
                })
            }
            Format::Ng(n) => {
                // A new section may switch byte order: its BOM decides.
                let big_endian = if data.get(..4)? == NG_SHB_MAGIC {
                    data.get(8..12)? == NG_BOM_BE
                } else {
                    n.big_endian
                };
                let total = u64::from(read_u32(data.get(4..8)?, big_endian));
                Some(Claim { total, data: total })
            }
        }
    }

    /// Why a claimed length is unacceptable, if it is.
    pub fn check_claim(&self, claim: Claim, max_record: usize, record: u64) -> Option<String> {
        match self {
            Format::Legacy(_) if claim.data > max_record as u64 => {
                Some(over_limit("record", record, claim.data, max_record))
            }
            Format::Ng(_) if claim.data > max_record.saturating_add(RECORD_SLACK) as u64 => {
                Some(over_limit("block", record, claim.data, max_record))
            }
            _ => None,
        }
    }
}

impl Ng {
    fn block(
        &mut self,
        block: NgBlock<'_>,
        len: usize,
        max_record: usize,
        record: u64,
    ) -> Result<Block, String> {
        match block {
            NgBlock::SectionHeader(shb) => {
                // Interface ids are per section.
                self.big_endian = shb.big_endian();
                self.interfaces.clear();
                Ok(Block::Other)
            }
            NgBlock::InterfaceDescription(idb) => {
                if self.interfaces.len() >= MAX_INTERFACES {
                    return Err(format!(
                        "block #{record}: more than {MAX_INTERFACES} interfaces in one section"
                    ));
                }
                // pcap-parser reads if_tsoffset as little-endian whatever the section's
                // byte order, so it is read again here.
                let tsoffset = idb
                    .options
                    .iter()
                    .find(|o| o.code == OptionCode::IfTsoffset)
                    .and_then(|o| o.as_bytes().ok()?.get(..8))
                    .map_or(0, |b| read_i64(b, self.big_endian));
                self.interfaces.push(Interface {
                    link: LinkType::from_linktype(idb.linktype.0 as u32 & 0xffff),
                    snaplen: idb.snaplen,
                    tsresol: idb.if_tsresol,
                    tsoffset,
                });
                Ok(Block::Other)
            }
            NgBlock::EnhancedPacket(epb) => {
                let Some(iface) = self.interfaces.get(epb.if_id as usize) else {
                    return Err(self.unknown_interface(record, epb.if_id));
                };
                if epb.caplen as usize > max_record {
                    return Err(over_limit("block", record, epb.caplen.into(), max_record));
                }
                let units = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                Ok(Block::Packet(Meta {
                    ts: ts::from_pcapng(units, iface.tsresol, iface.tsoffset),
                    link: iface.link,
                    data_at: NG_EPB_DATA_AT,
                    caplen: (epb.caplen as usize).min(epb.data.len()),
                    orig_len: epb.origlen,
                    block_len: len,
                }))
            }
            NgBlock::SimplePacket(spb) => {
                // A simple packet block belongs to interface 0 and has no timestamp.
                let Some(iface) = self.interfaces.first() else {
                    return Err(self.unknown_interface(record, 0));
                };
                let mut caplen = (spb.origlen as usize).min(spb.data.len());
                if iface.snaplen > 0 {
                    caplen = caplen.min(iface.snaplen as usize);
                }
                Ok(Block::Packet(Meta {
                    ts: Timestamp::default(),
                    link: iface.link,
                    data_at: NG_SPB_DATA_AT,
                    caplen,
                    orig_len: spb.origlen,
                    block_len: len,
                }))
            }
            // pcapng §4.7: a Decryption Secrets Block of type TLSK holds NSS key log text.
            NgBlock::DecryptionSecrets(dsb) if dsb.secrets_type == SecretsType::TlsKeyLog => {
                let len = (dsb.secrets_len as usize).min(dsb.data.len());
                let data = dsb.data.get(..len).unwrap_or_default();
                if self.secrets_bytes + data.len() <= MAX_HELD_SECRETS {
                    self.secrets_bytes += data.len();
                    self.secrets.push(data.to_vec());
                }
                Ok(Block::Other)
            }
            _ => Ok(Block::Other),
        }
    }

    /// The key log text seen since the last call.
    pub fn take_secrets(&mut self) -> Vec<Vec<u8>> {
        self.secrets_bytes = 0;
        std::mem::take(&mut self.secrets)
    }

    fn unknown_interface(&self, record: u64, id: u32) -> String {
        format!(
            "block #{record} names interface {id}, but the section describes {}",
            self.interfaces.len()
        )
    }
}

fn over_limit(what: &str, record: u64, claimed: u64, max_record: usize) -> String {
    format!("{what} #{record} claims {claimed} bytes, over the {max_record}-byte record limit")
}

fn read<R: Read>(reader: &mut R, bytes: &mut Vec<u8>, want: usize) -> Result<(), CaptureError> {
    fill_to(reader, bytes, want).map_err(|e| CaptureError {
        offset: bytes.len() as u64,
        kind: CaptureErrorKind::Io(e),
    })
}

fn not_a_capture() -> CaptureError {
    CaptureError {
        offset: 0,
        kind: CaptureErrorKind::NotACapture,
    }
}

fn header_cut() -> CaptureError {
    CaptureError {
        offset: 0,
        kind: CaptureErrorKind::Corrupt("file ends inside the file header".into()),
    }
}

fn read_u32(bytes: &[u8], big_endian: bool) -> u32 {
    let b: [u8; 4] = bytes
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .unwrap_or_default();
    if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    }
}

fn read_i64(bytes: &[u8], big_endian: bool) -> i64 {
    let b: [u8; 8] = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .unwrap_or_default();
    if big_endian {
        i64::from_be_bytes(b)
    } else {
        i64::from_le_bytes(b)
    }
}
