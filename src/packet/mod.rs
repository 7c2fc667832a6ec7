//! Link, IP and TCP layers: one captured packet in, a view of its TCP segment out.

mod ip;
mod ipfrag;
mod link;
mod tcp;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;

use ip::{Ip, PROTO_TCP};
use ipfrag::{FragKey, FragPool, Insert};
use link::{LinkOut, Net};

use crate::event::Timestamp;
use crate::limits::Limits;

/// Link-layer header types (tcpdump.org LINKTYPE_* values) that wsnoop understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// 0: BSD loopback (4-byte address family in host byte order).
    Null,
    /// 1: Ethernet, with any 802.1Q / 802.1ad tags.
    Ethernet,
    /// 101 (and DLT_RAW 12/14 on some systems): raw IPv4 or IPv6.
    Raw,
    /// 108: OpenBSD loopback (4-byte address family in network byte order).
    Loop,
    /// 113: Linux cooked capture v1.
    LinuxSll,
    /// 228: raw IPv4.
    Ipv4,
    /// 229: raw IPv6.
    Ipv6,
    /// 276: Linux cooked capture v2.
    LinuxSll2,
    /// Anything else: packets are counted and skipped.
    Other(u32),
}

impl LinkType {
    pub fn from_linktype(value: u32) -> LinkType {
        match value {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            12 | 14 | 101 => LinkType::Raw,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            276 => LinkType::LinuxSll2,
            other => LinkType::Other(other),
        }
    }
}

/// One captured packet as it came from the capture source.
#[derive(Clone, Copy, Debug)]
pub struct RawPacket<'a> {
    pub ts: Timestamp,
    pub link: LinkType,
    /// The captured bytes (`caplen` of them).
    pub data: &'a [u8],
    /// The packet's length on the wire; more than `data.len()` when the snap length cut it.
    pub orig_len: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpFlags {
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
}

/// The TCP part of a packet.
#[derive(Clone, Copy, Debug)]
pub struct TcpSegment<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub flags: TcpFlags,
    /// The captured TCP payload bytes (never past caplen).
    pub payload: &'a [u8],
    /// Payload bytes the IP header announces but the capture cut off (caplen < len): they
    /// follow `payload` in sequence space and are lost.
    pub missing: u32,
}

/// What one packet turned out to be.
#[derive(Debug)]
pub enum Decoded<'a> {
    Tcp(TcpSegment<'a>),
    /// Not TCP over IP (ARP, UDP, ICMP, unknown link type ...): nothing for wsnoop.
    NotTcp,
    /// An IP fragment, held until its datagram is complete.
    Fragment,
    /// Too damaged to read: `reason` says what was wrong (e.g. "TCP header cut by snap length").
    Malformed(&'static str),
    /// A fragment could not be kept within the IP fragment limits; `detail` says what was dropped.
    FragmentDropped(String),
}

/// Decodes link/IP/TCP, reassembling IP fragments in a bounded pool.
pub struct PacketDecoder {
    frags: FragPool,
}

impl PacketDecoder {
    pub fn new(limits: &Limits) -> Self {
        PacketDecoder {
            frags: FragPool::new(limits.max_ip_frag_bytes, limits.max_ip_frag_datagrams),
        }
    }

    /// Decode one packet. The returned segment borrows either the packet or, for a
    /// reassembled IP datagram, the decoder's own buffer.
    pub fn decode<'a>(&'a mut self, pkt: &RawPacket<'a>) -> Decoded<'a> {
        let parsed = match link::strip(pkt.link, pkt.data) {
            LinkOut::Net(Net::V4(bytes)) => ip::parse_v4(bytes),
            LinkOut::Net(Net::V6(bytes)) => ip::parse_v6(bytes),
            LinkOut::NotIp => return Decoded::NotTcp,
            LinkOut::Bad(why) => return Decoded::Malformed(why),
        };
        let ip = match parsed {
            Ok(ip) => ip,
            Err(why) => return Decoded::Malformed(why),
        };
        match ip.frag {
            None if ip.proto == PROTO_TCP => {
                to_decoded(tcp::parse(ip.src, ip.dst, ip.payload, ip.missing))
            }
            None => Decoded::NotTcp,
            Some(frag) => self.fragment(ip, frag),
        }
    }

    /// Bytes currently held for incomplete IP datagrams (fragment data plus per-piece
    /// bookkeeping).
    pub fn held_bytes(&self) -> usize {
        self.frags.held_bytes()
    }

    fn fragment<'a>(&'a mut self, ip: Ip<'_>, frag: ip::Frag) -> Decoded<'a> {
        let v6 = ip.src.is_ipv6();
        // Only datagrams that can turn out to be TCP are worth pool space: for IPv6 the
        // fragment header may be followed by more extension headers.
        if ip.proto != PROTO_TCP && !(v6 && ip::is_ipv6_extension(ip.proto)) {
            return Decoded::NotTcp;
        }
        if ip.missing > 0 {
            return Decoded::Malformed("IP fragment cut by snap length");
        }
        let key = FragKey {
            src: ip.src,
            dst: ip.dst,
            proto: ip.proto,
            id: frag.id,
        };
        match self.frags.insert(key, frag, ip.payload) {
            Err(why) => Decoded::Malformed(why),
            Ok(Insert::Held) => Decoded::Fragment,
            Ok(Insert::Dropped(what)) => Decoded::FragmentDropped(what),
            Ok(Insert::Complete) => {
                let datagram = self.frags.datagram.as_slice();
                let (proto, payload) = if v6 {
                    match ip::walk_ipv6_exts(ip.proto, datagram, false) {
                        Ok((proto, payload, _)) => (proto, payload),
                        Err(why) => return Decoded::Malformed(why),
                    }
                } else {
                    (ip.proto, datagram)
                };
                if proto != PROTO_TCP {
                    return Decoded::NotTcp;
                }
                to_decoded(tcp::parse(ip.src, ip.dst, payload, 0))
            }
        }
    }
}

fn to_decoded<'a>(parsed: Result<TcpSegment<'a>, &'static str>) -> Decoded<'a> {
    match parsed {
        Ok(segment) => Decoded::Tcp(segment),
        Err(why) => Decoded::Malformed(why),
    }
}
