//! Live packets delivered through a channel by a capture thread. libpcap's read timeout
//! cannot be relied on (on Linux with TPACKET_V3 a read blocks until a packet comes), so
//! the thread may block as long as it likes while the consumer waits with its own timeout
//! and stays free to flush output, print stats and look at signals.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};

use super::{KernelStats, LiveCapture};
use crate::event::Timestamp;
use crate::packet::{LinkType, RawPacket};

/// Packets in flight between the threads. When the consumer falls behind, the capture thread
/// waits, the kernel buffer fills and the kernel counts drops: memory stays bounded.
const IN_FLIGHT: usize = 4096;
/// How often the capture thread reads the kernel counters (while packets come).
const STATS_EVERY: Duration = Duration::from_millis(500);

/// One captured packet, owning its bytes (the buffer is recycled via [`PacketFeed::recycle`]).
pub struct OwnedPacket {
    pub ts: Timestamp,
    pub orig_len: u32,
    pub data: Vec<u8>,
}

impl OwnedPacket {
    pub fn raw(&self, link: LinkType) -> RawPacket<'_> {
        RawPacket {
            ts: self.ts,
            link,
            data: &self.data,
            orig_len: self.orig_len,
        }
    }
}

/// What [`PacketFeed::next`] found.
pub enum Next {
    Packet(OwnedPacket),
    /// Nothing within the timeout.
    Idle,
    /// Capture failed (the message says why); no more packets will come.
    Ended(String),
}

/// The consumer's end.
pub struct PacketFeed {
    rx: Receiver<Result<OwnedPacket, String>>,
    free: SyncSender<Vec<u8>>,
    link: LinkType,
    linktype: u32,
    received: Arc<AtomicU64>,
    dropped: Arc<AtomicU64>,
    stats_known: Arc<AtomicU64>,
    _thread: JoinHandle<()>,
}

impl PacketFeed {
    /// Moves the capture to a thread named `name` and starts reading.
    pub fn start(mut cap: LiveCapture, name: &str) -> std::io::Result<PacketFeed> {
        let (tx, rx) = sync_channel(IN_FLIGHT);
        let (free, free_rx) = sync_channel::<Vec<u8>>(IN_FLIGHT);
        let received = Arc::new(AtomicU64::new(0));
        let dropped = Arc::new(AtomicU64::new(0));
        let stats_known = Arc::new(AtomicU64::new(0));
        let link = cap.link;
        let linktype = cap.linktype;
        let counters = (
            Arc::clone(&received),
            Arc::clone(&dropped),
            Arc::clone(&stats_known),
        );
        let thread = thread::Builder::new().name(name.into()).spawn(move || {
            let mut last_stats: Option<Instant> = None;
            loop {
                if last_stats.is_none_or(|t| t.elapsed() >= STATS_EVERY) {
                    if let Some(k) = cap.stats() {
                        counters.0.store(k.received, Ordering::Relaxed);
                        counters.1.store(k.dropped, Ordering::Relaxed);
                        counters.2.store(1, Ordering::Relaxed);
                    }
                    last_stats = Some(Instant::now());
                }
                let item = match cap.next_packet() {
                    Ok(Some(p)) => {
                        let mut data = free_rx.try_recv().unwrap_or_default();
                        data.clear();
                        data.extend_from_slice(p.data);
                        Ok(OwnedPacket {
                            ts: p.ts,
                            orig_len: p.orig_len,
                            data,
                        })
                    }
                    Ok(None) => continue,
                    Err(e) => Err(e.to_string()),
                };
                let failed = item.is_err();
                // The consumer has gone: nothing left to capture for.
                if tx.send(item).is_err() || failed {
                    return;
                }
            }
        })?;
        Ok(PacketFeed {
            rx,
            free,
            link,
            linktype,
            received,
            dropped,
            stats_known,
            _thread: thread,
        })
    }

    pub fn link(&self) -> LinkType {
        self.link
    }

    /// The interface's LINKTYPE_* value.
    pub fn linktype(&self) -> u32 {
        self.linktype
    }

    /// The next packet, waiting at most `timeout`.
    pub fn next(&self, timeout: Duration) -> Next {
        match self.rx.recv_timeout(timeout) {
            Ok(Ok(p)) => Next::Packet(p),
            Ok(Err(e)) => Next::Ended(e),
            Err(RecvTimeoutError::Timeout) => Next::Idle,
            Err(RecvTimeoutError::Disconnected) => Next::Ended("capture thread stopped".into()),
        }
    }

    /// Hand a packet's buffer back for reuse.
    pub fn recycle(&self, p: OwnedPacket) {
        let _ = self.free.try_send(p.data);
    }

    /// Kernel counters as last read by the capture thread (`None` before the first read or
    /// when libpcap has none).
    pub fn kernel_stats(&self) -> Option<KernelStats> {
        (self.stats_known.load(Ordering::Relaxed) == 1).then(|| KernelStats {
            received: self.received.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        })
    }
}
