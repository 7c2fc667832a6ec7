//! Live capture from a network interface through libpcap (feature `live`). The packets come
//! out as the same [`RawPacket`]s the file reader gives, so the engine cannot tell them apart.

mod feed;

use std::fmt;

use pcap::{Active, Capture, Device};

use crate::event::Timestamp;
use crate::packet::{LinkType, RawPacket};
pub use feed::{Next, OwnedPacket, PacketFeed};

/// Default kernel buffer. libpcap's 2 MiB ring holds only a few dozen packets on a
/// loopback interface (its frames are sized for the 64 KiB MTU), so bursts were dropped.
pub const DEFAULT_BUFFER: i32 = 32 << 20;

/// How to open the interface.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Interface name (`any` for all of them on Linux).
    pub interface: String,
    /// BPF filter expression (tcpdump syntax).
    pub bpf: String,
    /// Bytes kept of each packet.
    pub snaplen: i32,
    pub promisc: bool,
    /// Deliver each packet as it arrives instead of in kernel batches.
    pub immediate: bool,
    /// Kernel buffer size in bytes; `None` keeps libpcap's default (2 MiB on Linux).
    pub buffer_size: Option<i32>,
    /// libpcap's read timeout (ms): how long the kernel may batch packets when not in
    /// immediate mode. Not relied on to wake a reader when no packets come.
    pub timeout_ms: i32,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            interface: String::new(),
            bpf: "tcp".into(),
            snaplen: 262_144,
            promisc: true,
            immediate: true,
            buffer_size: Some(DEFAULT_BUFFER),
            timeout_ms: 100,
        }
    }
}

/// Why live capture failed, worded for the person who ran the command.
#[derive(Debug)]
pub enum LiveError {
    /// Not allowed to capture: needs root or the capture capabilities.
    Permission(String),
    /// The interface does not exist or cannot capture.
    Device(String),
    /// The BPF filter does not compile.
    Filter(String),
    Other(String),
}

impl fmt::Display for LiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LiveError::Permission(e) => write!(
                f,
                "no permission to capture ({e}); run as root, or give the binary the capture \
                 capabilities: sudo setcap cap_net_raw,cap_net_admin=eip $(command -v wsnoop)"
            ),
            LiveError::Device(e) => write!(f, "{e} (`wsnoop live -D` lists the interfaces)"),
            LiveError::Filter(e) => write!(f, "bad capture filter: {e}"),
            LiveError::Other(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for LiveError {}

fn classify(e: pcap::Error, interface: &str) -> LiveError {
    let text = e.to_string();
    let lower = text.to_ascii_lowercase();
    if lower.contains("permission") || lower.contains("not permitted") {
        LiveError::Permission(text)
    } else if lower.contains("no such device")
        || lower.contains("doesn't exist")
        || lower.contains("no such file")
    {
        LiveError::Device(format!("{interface}: no such interface"))
    } else {
        LiveError::Other(format!("{interface}: {text}"))
    }
}

/// Packet counts from the kernel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelStats {
    pub received: u64,
    /// Dropped for lack of buffer space (the reader was too slow) plus by the interface.
    pub dropped: u64,
}

/// An open interface.
pub struct LiveCapture {
    cap: Capture<Active>,
    link: LinkType,
    linktype: u32,
}

impl LiveCapture {
    pub fn open(opts: &LiveOptions) -> Result<LiveCapture, LiveError> {
        let name = opts.interface.as_str();
        let mut inactive = Capture::from_device(name)
            .map_err(|e| classify(e, name))?
            .snaplen(opts.snaplen)
            .promisc(opts.promisc)
            .immediate_mode(opts.immediate)
            .timeout(opts.timeout_ms);
        if let Some(size) = opts.buffer_size {
            inactive = inactive.buffer_size(size);
        }
        let mut cap = inactive.open().map_err(|e| classify(e, name))?;
        cap.filter(&opts.bpf, true)
            .map_err(|e| LiveError::Filter(format!("'{}': {e}", opts.bpf)))?;
        let linktype = u32::try_from(cap.get_datalink().0).unwrap_or(u32::MAX);
        Ok(LiveCapture {
            cap,
            link: LinkType::from_linktype(linktype),
            linktype,
        })
    }

    /// The interface's LINKTYPE_* value (for writing a pcap file of its packets).
    pub fn linktype(&self) -> u32 {
        self.linktype
    }

    /// The next packet, or `Ok(None)` when none came within the timeout.
    pub fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, LiveError> {
        let link = self.link;
        match self.cap.next_packet() {
            Ok(p) => {
                // time_t and suseconds_t are narrower than i64 on some targets.
                #[allow(clippy::useless_conversion)]
                let ts = timeval_to_ts(p.header.ts.tv_sec.into(), p.header.ts.tv_usec.into());
                Ok(Some(RawPacket {
                    ts,
                    link,
                    data: p.data,
                    orig_len: p.header.len,
                }))
            }
            Err(pcap::Error::TimeoutExpired) => Ok(None),
            Err(e) => Err(LiveError::Other(format!("capture failed: {e}"))),
        }
    }

    /// Kernel counters since the capture was opened (`None` when libpcap has none).
    pub fn stats(&mut self) -> Option<KernelStats> {
        let s = self.cap.stats().ok()?;
        Some(KernelStats {
            received: u64::from(s.received),
            dropped: u64::from(s.dropped) + u64::from(s.if_dropped),
        })
    }
}

/// A `timeval` (microseconds) as a [`Timestamp`]; out-of-range microseconds are folded in.
fn timeval_to_ts(sec: i64, usec: i64) -> Timestamp {
    let secs = sec.saturating_add(usec.div_euclid(1_000_000));
    let micros = usec.rem_euclid(1_000_000);
    // rem_euclid keeps it in 0..1_000_000, so the product fits in u32.
    Timestamp::new(secs, u32::try_from(micros * 1000).unwrap_or(0))
}

/// One interface, as `wsnoop live -D` lists it.
#[derive(Clone, Debug)]
pub struct InterfaceInfo {
    pub name: String,
    pub description: Option<String>,
    pub addresses: Vec<std::net::IpAddr>,
    pub up: bool,
    pub loopback: bool,
}

/// The interfaces libpcap can capture on.
pub fn list_interfaces() -> Result<Vec<InterfaceInfo>, LiveError> {
    let devices = Device::list().map_err(|e| classify(e, "interfaces"))?;
    Ok(devices
        .into_iter()
        .map(|d| InterfaceInfo {
            up: d.flags.is_up(),
            loopback: d.flags.is_loopback(),
            addresses: d.addresses.iter().map(|a| a.addr).collect(),
            description: d.desc,
            name: d.name,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timevals() {
        assert_eq!(timeval_to_ts(5, 250_000), Timestamp::new(5, 250_000_000));
        assert_eq!(timeval_to_ts(5, 1_000_001), Timestamp::new(6, 1_000));
        assert_eq!(timeval_to_ts(5, -1), Timestamp::new(4, 999_999_000));
    }

    #[test]
    fn permission_errors_name_the_fix() {
        let e = classify(
            pcap::Error::PcapError("socket: Operation not permitted".into()),
            "eth0",
        );
        let text = e.to_string();
        assert!(matches!(e, LiveError::Permission(_)));
        assert!(text.contains("root"), "{text}");
        assert!(
            text.contains("setcap cap_net_raw,cap_net_admin=eip"),
            "{text}"
        );
        let e = classify(
            pcap::Error::PcapError("nosuch: No such device exists".into()),
            "nosuch",
        );
        assert_eq!(
            e.to_string(),
            "nosuch: no such interface (`wsnoop live -D` lists the interfaces)"
        );
    }
}
