//! IPv4 (RFC 791) and IPv6 (RFC 8200) headers, read with etherparse's header slices:
//! addresses, upper protocol, the captured payload and how much of the announced payload the
//! capture cut off. The IPv6 extension-header walk is our own: it must stop at a Fragment
//! header (what follows is fragment data, which etherparse's walker would parse on) and tell a
//! header cut by the snap length from one cut by the IP length.

use std::net::IpAddr;

use super::link::be16_at;
use crate::bytes::within;

pub(super) const PROTO_TCP: u8 = 6;
const IPV6_HOP_BY_HOP: u8 = 0;
const IPV6_ROUTING: u8 = 43;
const IPV6_FRAGMENT: u8 = 44;
const IPV6_AUTH: u8 = 51;
const IPV6_DEST_OPTS: u8 = 60;

const IPV6_HEADER: usize = 40;
const IPV6_FRAG_HEADER: usize = 8;

/// RFC 791 §3.1: the total length field is 16 bits, so no datagram exceeds this.
pub(super) const MAX_DATAGRAM: u32 = 65_535;

/// One IP packet's view.
pub(super) struct Ip<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// Upper-layer protocol (for a fragment: of the whole datagram).
    pub proto: u8,
    /// Captured payload bytes (after any extension headers; Ethernet padding excluded).
    pub payload: &'a [u8],
    /// Payload bytes announced by the header but not captured.
    pub missing: u32,
    pub frag: Option<Frag>,
}

/// Where a fragment sits in its datagram.
#[derive(Clone, Copy, Debug)]
pub(super) struct Frag {
    pub id: u32,
    /// Byte offset of this fragment's data in the reassembled payload.
    pub offset: u32,
    /// More fragments follow (MF flag / M bit).
    pub more: bool,
    /// Largest payload end allowed for this datagram.
    pub max_end: u32,
}

/// RFC 791 §3.1. A total length of 0 is what TCP segmentation offload leaves in captures
/// taken on the sending host: the frame length is then the only length there is.
pub(super) fn parse_v4(data: &[u8]) -> Result<Ip<'_>, &'static str> {
    use etherparse::err::ipv4::{HeaderError, HeaderSliceError};
    let header = match etherparse::Ipv4HeaderSlice::from_slice(data) {
        Ok(h) => h,
        Err(HeaderSliceError::Len(_)) => return Err("IPv4 header cut by snap length"),
        Err(HeaderSliceError::Content(HeaderError::UnexpectedVersion { .. })) => {
            return Err("IPv4 packet with another IP version");
        }
        Err(HeaderSliceError::Content(_)) => return Err("IPv4 header length below 20 bytes"),
    };
    let header_len = header.slice().len();
    let total = match header.total_len() {
        0 => data.len(),
        n => usize::from(n),
    };
    if total < header_len {
        return Err("IPv4 total length shorter than its header");
    }
    let (src, dst, proto) = (
        header.source_addr(),
        header.destination_addr(),
        header.protocol().0,
    );
    let more = header.more_fragments();
    let offset = u32::from(header.fragments_offset().value()) * 8;
    let id = header.identification();
    let captured_end = total.min(data.len());
    let payload = data.get(header_len..captured_end).unwrap_or_default();
    let missing = u32::try_from(total - captured_end).unwrap_or(u32::MAX);
    let frag = (more || offset != 0).then(|| Frag {
        id: u32::from(id),
        offset,
        more,
        max_end: MAX_DATAGRAM.saturating_sub(header_len as u32),
    });
    Ok(Ip {
        src: IpAddr::V4(src),
        dst: IpAddr::V4(dst),
        proto,
        payload,
        missing,
        frag,
    })
}

/// RFC 8200 §3-§4. A payload length of 0 (jumbogram, or offload on the capturing host)
/// means the frame length is the only length there is.
pub(super) fn parse_v6(data: &[u8]) -> Result<Ip<'_>, &'static str> {
    use etherparse::err::ipv6::{HeaderError, HeaderSliceError};
    let header = match etherparse::Ipv6HeaderSlice::from_slice(data) {
        Ok(h) => h,
        Err(HeaderSliceError::Len(_)) => return Err("IPv6 header cut by snap length"),
        Err(HeaderSliceError::Content(HeaderError::UnexpectedVersion { .. })) => {
            return Err("IPv6 packet with another IP version");
        }
    };
    let body = within(data, IPV6_HEADER..);
    let (payload_len, next, src, dst) = (
        header.payload_length(),
        header.next_header().0,
        header.source_addr(),
        header.destination_addr(),
    );
    let announced = if payload_len == 0 {
        body.len()
    } else {
        usize::from(payload_len)
    };
    let captured = body.get(..announced).unwrap_or(body);
    let missing = u32::try_from(announced - captured.len()).unwrap_or(u32::MAX);
    let (proto, payload, frag) = walk_ipv6_exts(next, captured, true)?;
    Ok(Ip {
        src: IpAddr::V6(src),
        dst: IpAddr::V6(dst),
        proto,
        payload,
        missing,
        frag,
    })
}

/// RFC 8200 §4: skips extension headers up to the upper-layer header. At a Fragment header
/// the walk stops: what follows is fragment data (its own headers, if any, are walked again
/// after reassembly, with `allow_fragment` false since fragments do not nest).
pub(super) fn walk_ipv6_exts(
    mut next: u8,
    mut rest: &[u8],
    allow_fragment: bool,
) -> Result<(u8, &[u8], Option<Frag>), &'static str> {
    loop {
        let ext_len = match next {
            IPV6_HOP_BY_HOP | IPV6_ROUTING | IPV6_DEST_OPTS => {
                rest.get(1).map(|&n| (usize::from(n) + 1) * 8)
            }
            // RFC 4302 §2.2: AH length is in 4-byte units, minus 2.
            IPV6_AUTH => rest.get(1).map(|&n| (usize::from(n) + 2) * 4),
            IPV6_FRAGMENT if allow_fragment => {
                let (Some(header), Some(data)) =
                    (rest.get(..IPV6_FRAG_HEADER), rest.get(IPV6_FRAG_HEADER..))
                else {
                    return Err("IPv6 fragment header cut by snap length");
                };
                let (Some(&inner), Some(off_flags), Some(id_hi), Some(id_lo)) = (
                    header.first(),
                    be16_at(header, 2),
                    be16_at(header, 4),
                    be16_at(header, 6),
                ) else {
                    return Err("IPv6 fragment header cut by snap length");
                };
                let frag = Frag {
                    id: (u32::from(id_hi) << 16) | u32::from(id_lo),
                    offset: u32::from(off_flags & 0xfff8),
                    more: off_flags & 1 != 0,
                    max_end: MAX_DATAGRAM,
                };
                // RFC 8200 §4.5: offset 0 without M is an atomic fragment, a whole packet.
                let frag = (frag.more || frag.offset != 0).then_some(frag);
                if frag.is_none() {
                    next = inner;
                    rest = data;
                    continue;
                }
                return Ok((inner, data, frag));
            }
            IPV6_FRAGMENT => return Err("IPv6 fragment header inside a reassembled datagram"),
            upper => return Ok((upper, rest, None)),
        };
        let (Some(ext_len), Some(&inner)) = (ext_len, rest.first()) else {
            return Err("IPv6 extension header cut by snap length");
        };
        let Some(after) = rest.get(ext_len..) else {
            return Err("IPv6 extension header cut by snap length");
        };
        next = inner;
        rest = after;
    }
}

/// RFC 8200 §4: the extension headers this walker knows how to skip.
pub(super) fn is_ipv6_extension(next: u8) -> bool {
    matches!(
        next,
        IPV6_HOP_BY_HOP | IPV6_ROUTING | IPV6_FRAGMENT | IPV6_AUTH | IPV6_DEST_OPTS
    )
}
