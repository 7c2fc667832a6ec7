//! TCP header (RFC 9293 §3.1) through etherparse: ports, sequence number, flags; options
//! skipped, checksum not verified (offload makes it wrong on the capturing host).

use std::net::{IpAddr, SocketAddr};

use super::{TcpFlags, TcpSegment};
use crate::bytes::within;

/// `payload` is the captured IP payload, `missing` the announced bytes that were not
/// captured: a header cut short is told apart from one the IP length itself cuts.
pub(super) fn parse(
    src: IpAddr,
    dst: IpAddr,
    payload: &[u8],
    missing: u32,
) -> Result<TcpSegment<'_>, &'static str> {
    use etherparse::err::tcp::HeaderSliceError;
    let announced = payload.len() as u64 + u64::from(missing);
    let header = match etherparse::TcpHeaderSlice::from_slice(payload) {
        Ok(h) => h,
        Err(HeaderSliceError::Content(_)) => return Err("TCP data offset below 5 words"),
        Err(HeaderSliceError::Len(e)) => {
            return Err(if announced >= e.required_len as u64 {
                "TCP header cut by snap length"
            } else {
                "TCP header longer than its IP payload"
            });
        }
    };
    let data = within(payload, header.slice().len()..);
    Ok(TcpSegment {
        src: SocketAddr::new(src, header.source_port()),
        dst: SocketAddr::new(dst, header.destination_port()),
        seq: header.sequence_number(),
        flags: TcpFlags {
            syn: header.syn(),
            ack: header.ack(),
            fin: header.fin(),
            rst: header.rst(),
        },
        payload: data,
        missing,
    })
}
