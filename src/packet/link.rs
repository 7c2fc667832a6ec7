//! Link layers: strip whatever precedes the IP header.

use super::LinkType;

/// The network-layer bytes of a frame.
pub(super) enum Net<'a> {
    V4(&'a [u8]),
    V6(&'a [u8]),
}

pub(super) enum LinkOut<'a> {
    Net(Net<'a>),
    /// A valid frame carrying something other than IP (ARP, LLC, unknown link type ...).
    NotIp,
    Bad(&'static str),
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
/// IEEE 802.1Q customer tag.
const ETHERTYPE_VLAN: u16 = 0x8100;
/// IEEE 802.1ad service tag (QinQ outer tag).
const ETHERTYPE_QINQ: u16 = 0x88a8;
/// Pre-standard QinQ outer tag still emitted by some switches.
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;

const ETHERNET_HEADER: usize = 14;
const VLAN_TAG: usize = 4;
/// LINKTYPE_LINUX_SLL: packet type, ARPHRD, address length, 8-byte address, protocol.
const SLL_HEADER: usize = 16;
const SLL_PROTOCOL_AT: usize = 14;
/// LINKTYPE_LINUX_SLL2: protocol, reserved, ifindex, ARPHRD, packet type, address length,
/// 8-byte address.
const SLL2_HEADER: usize = 20;
const NULL_HEADER: usize = 4;

/// BSD address families: AF_INET is 2 everywhere; AF_INET6 differs per OS (24 NetBSD/OpenBSD,
/// 28 FreeBSD, 30 macOS).
const AF_INET: u32 = 2;
const AF_INET6: [u32; 3] = [24, 28, 30];

pub(super) fn strip(link: LinkType, data: &[u8]) -> LinkOut<'_> {
    match link {
        LinkType::Ethernet => match (be16_at(data, 12), data.get(ETHERNET_HEADER..)) {
            (Some(ether_type), Some(rest)) => by_ether_type(ether_type, rest),
            _ => LinkOut::Bad("Ethernet header cut by snap length"),
        },
        LinkType::LinuxSll => match (be16_at(data, SLL_PROTOCOL_AT), data.get(SLL_HEADER..)) {
            (Some(proto), Some(rest)) => by_ether_type(proto, rest),
            _ => LinkOut::Bad("Linux cooked (SLL) header cut by snap length"),
        },
        LinkType::LinuxSll2 => match (be16_at(data, 0), data.get(SLL2_HEADER..)) {
            (Some(proto), Some(rest)) => by_ether_type(proto, rest),
            _ => LinkOut::Bad("Linux cooked (SLL2) header cut by snap length"),
        },
        LinkType::Null | LinkType::Loop => match (data.get(..NULL_HEADER), data.get(NULL_HEADER..))
        {
            (Some(&[a, b, c, d]), Some(rest)) => by_address_family([a, b, c, d], rest),
            _ => LinkOut::Bad("loopback header cut by snap length"),
        },
        LinkType::Raw => match data.first().map(|b| b >> 4) {
            Some(4) => LinkOut::Net(Net::V4(data)),
            Some(6) => LinkOut::Net(Net::V6(data)),
            Some(_) => LinkOut::Bad("raw packet is neither IPv4 nor IPv6"),
            None => LinkOut::Bad("empty packet"),
        },
        LinkType::Ipv4 => LinkOut::Net(Net::V4(data)),
        LinkType::Ipv6 => LinkOut::Net(Net::V6(data)),
        LinkType::Other(_) => LinkOut::NotIp,
    }
}

/// Follows any number of VLAN tags (each consumes 4 bytes, so the loop ends with the data).
fn by_ether_type(mut ether_type: u16, mut rest: &[u8]) -> LinkOut<'_> {
    loop {
        match ether_type {
            ETHERTYPE_IPV4 => return LinkOut::Net(Net::V4(rest)),
            ETHERTYPE_IPV6 => return LinkOut::Net(Net::V6(rest)),
            ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD => {
                match (be16_at(rest, 2), rest.get(VLAN_TAG..)) {
                    (Some(inner), Some(after)) => {
                        ether_type = inner;
                        rest = after;
                    }
                    _ => return LinkOut::Bad("VLAN tag cut by snap length"),
                }
            }
            _ => return LinkOut::NotIp,
        }
    }
}

/// NULL carries the family in the capturing host's byte order, LOOP in network order; a
/// file does not say which host wrote it, so both readings are tried (the valid values
/// are small, so the two readings never collide).
fn by_address_family(af: [u8; 4], rest: &[u8]) -> LinkOut<'_> {
    let le = u32::from_le_bytes(af);
    let be = u32::from_be_bytes(af);
    if le == AF_INET || be == AF_INET {
        LinkOut::Net(Net::V4(rest))
    } else if AF_INET6.contains(&le) || AF_INET6.contains(&be) {
        LinkOut::Net(Net::V6(rest))
    } else {
        LinkOut::NotIp
    }
}

pub(super) fn be16_at(data: &[u8], at: usize) -> Option<u16> {
    match data.get(at..at.checked_add(2)?) {
        Some(&[a, b]) => Some(u16::from_be_bytes([a, b])),
        _ => None,
    }
}
