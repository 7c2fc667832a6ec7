//! Terms about the endpoints: `host:`, `port:`, `client:`, `server:`.

use std::net::{IpAddr, SocketAddr};

use super::{Arg, TermError};
use crate::filter::expr::Term;
use crate::filter::value;

/// An address or a network (`10.0.0.0/8`, `2001:db8::/32`). IPv4 is held as IPv4-mapped
/// IPv6 (`::ffff:10.0.0.0/104`), so an address is the same written either way and an IPv4
/// connection seen as mapped IPv6 (dual-stack sockets) is matched by its IPv4 address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Net {
    addr: u128,
    mask: u128,
}

impl Net {
    /// `ADDR`, `ADDR/BITS` or `[ADDR]` (IPv6 in brackets, as in URLs). Host bits set in a
    /// network are ignored, as tshark does.
    pub fn parse(s: &str) -> Option<Net> {
        let (addr, bits) = match s.split_once('/') {
            Some((a, b)) => (a, Some(value::number(b)?)),
            None => (s, None),
        };
        let addr = addr
            .strip_prefix('[')
            .and_then(|a| a.strip_suffix(']'))
            .unwrap_or(addr);
        let (addr, max): (IpAddr, u64) = match addr.parse().ok()? {
            IpAddr::V4(v4) => (IpAddr::V6(v4.to_ipv6_mapped()), 32),
            v6 => (v6, 128),
        };
        let bits = bits.unwrap_or(max);
        if bits > max {
            return None;
        }
        // An IPv4 prefix is 96 bits further in the mapped form.
        let bits = u32::try_from(bits + (128 - max)).ok()?;
        let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
        Some(Net {
            addr: wide(addr) & mask,
            mask,
        })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        wide(ip) & self.mask == self.addr
    }
}

fn wide(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// One endpoint: an address or network, and maybe a port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Endpoint {
    net: Net,
    port: Option<u16>,
}

impl Endpoint {
    fn parse(s: &str) -> Option<Endpoint> {
        if let Ok(sa) = s.parse::<SocketAddr>() {
            return Some(Endpoint {
                net: Net::parse(&sa.ip().to_string())?,
                port: Some(sa.port()),
            });
        }
        Net::parse(s).map(|net| Endpoint { net, port: None })
    }

    fn matches(&self, addr: SocketAddr) -> bool {
        self.net.contains(addr.ip()) && self.port.is_none_or(|p| p == addr.port())
    }
}

pub fn host(arg: Arg<'_>) -> Result<Term, TermError> {
    let v = arg.value("host:ADDR, e.g. host:10.0.0.1 or host:10.0.0.0/8")?;
    let net = Net::parse(v).ok_or_else(|| {
        TermError::value(format!(
            "'{v}' is not an IP address or network: expected e.g. host:10.0.0.1, \
             host:10.0.0.0/8, host:::1 or host:2001:db8::/32"
        ))
    })?;
    Ok(Term::new(move |s| {
        s.transport
            .is_some_and(|t| net.contains(t.client.ip()) || net.contains(t.server.ip()))
    }))
}

pub fn port(arg: Arg<'_>) -> Result<Term, TermError> {
    let v = arg.value("port:N, e.g. port:443")?;
    let port = value::number(v)
        .and_then(|n| u16::try_from(n).ok())
        .ok_or_else(|| {
            TermError::value(format!(
                "'{v}' is not a port number: expected 0 to 65535, e.g. port:443"
            ))
        })?;
    Ok(Term::new(move |s| {
        s.transport
            .is_some_and(|t| t.client.port() == port || t.server.port() == port)
    }))
}

pub fn client(arg: Arg<'_>) -> Result<Term, TermError> {
    let want = endpoint(arg, "client")?;
    Ok(Term::new(move |s| {
        s.transport.is_some_and(|t| want.matches(t.client))
    }))
}

pub fn server(arg: Arg<'_>) -> Result<Term, TermError> {
    let want = endpoint(arg, "server")?;
    Ok(Term::new(move |s| {
        s.transport.is_some_and(|t| want.matches(t.server))
    }))
}

fn endpoint(arg: Arg<'_>, name: &str) -> Result<Endpoint, TermError> {
    let v = arg.value(&format!(
        "{name}:IP or {name}:IP:PORT, e.g. {name}:10.0.0.1:5000"
    ))?;
    Endpoint::parse(v).ok_or_else(|| {
        TermError::value(format!(
            "'{v}' is not an endpoint: expected an IP, a network or IP:PORT, e.g. \
             {name}:10.0.0.1, {name}:10.0.0.0/8, {name}:10.0.0.1:5000 or {name}:[::1]:5000"
        ))
    })
}
