//! TCP header (RFC 9293 §3.1): ports, sequence number, flags; options skipped, checksum not
//! verified (offload makes it wrong on the capturing host).

use std::net::{IpAddr, SocketAddr};

use super::link::be16_at;
use super::{TcpFlags, TcpSegment};

const TCP_MIN_HEADER: usize = 20;
const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;

/// `payload` is the captured IP payload, `missing` the announced bytes that were not
/// captured: a header cut short is told apart from one the IP length itself cuts.
pub(super) fn parse(
    src: IpAddr,
    dst: IpAddr,
    payload: &[u8],
    missing: u32,
) -> Result<TcpSegment<'_>, &'static str> {
    let announced = payload.len() as u64 + u64::from(missing);
    let header_len = match payload.get(12) {
        Some(&b) => usize::from(b >> 4) * 4,
        None => TCP_MIN_HEADER,
    };
    if header_len < TCP_MIN_HEADER {
        return Err("TCP data offset below 5 words");
    }
    let (Some(header), Some(data)) = (payload.get(..header_len), payload.get(header_len..)) else {
        return Err(if announced >= header_len as u64 {
            "TCP header cut by snap length"
        } else {
            "TCP header longer than its IP payload"
        });
    };
    let (Some(sport), Some(dport), Some(seq_hi), Some(seq_lo), Some(&flags)) = (
        be16_at(header, 0),
        be16_at(header, 2),
        be16_at(header, 4),
        be16_at(header, 6),
        header.get(13),
    ) else {
        return Err("TCP header cut by snap length");
    };
    Ok(TcpSegment {
        src: SocketAddr::new(src, sport),
        dst: SocketAddr::new(dst, dport),
        seq: (u32::from(seq_hi) << 16) | u32::from(seq_lo),
        flags: TcpFlags {
            syn: flags & SYN != 0,
            ack: flags & ACK != 0,
            fin: flags & FIN != 0,
            rst: flags & RST != 0,
        },
        payload: data,
        missing,
    })
}
