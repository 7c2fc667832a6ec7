//! What a driver sees of a run besides the events: progress, failures, periodic stats, and the
//! hooks for its own work between packets (stopping on a signal, saving packets, reopening
//! files on SIGHUP). Every method has a default that does nothing.

use std::io::{self, Write};

use super::Failure;
use crate::engine::PacketFate;
use crate::event::Timestamp;
use crate::packet::RawPacket;
use crate::sink::write_rfc3339_micros;

/// How far the current input has been read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Input bytes read so far (a live input: captured bytes).
    pub offset: u64,
    /// Input size when known.
    pub size: Option<u64>,
    pub packets: u64,
    /// Captured bytes of all packets.
    pub bytes: u64,
    /// The last report for this input: it has been read to its end (or to an error).
    pub done: bool,
}

/// The driver's view of a run. All calls come from the thread that called
/// [`super::Pipeline::run`], between packets.
pub trait Watch {
    /// Every few thousand packets (and at each flush interval, when there is one), and once
    /// with `done` at the end of each input.
    fn progress(&mut self, progress: &Progress) {
        let _ = progress;
    }

    /// Something went wrong (an input, the live capture, the output), as it happens.
    fn failure(&mut self, failure: &Failure) {
        let _ = failure;
    }

    /// Asked between packets (on a live input at least every [`super::Options::flush_every`]):
    /// `true` ends the run as the end of the input would (a live input is drained for up to
    /// [`super::DRAIN_FOR`] first).
    fn stop(&mut self) -> bool {
        false
    }

    /// Between packets, about every [`super::Options::flush_every`] (live runs): the driver's
    /// own periodic work, e.g. reopening its files after a SIGHUP.
    fn tick(&mut self) {}

    /// Every [`super::Options::stats_every`], and once at the end of a live run.
    fn stats(&mut self, stats: &RunStats) -> io::Result<()> {
        let _ = stats;
        Ok(())
    }

    /// One-thread runs: every packet and what became of it (e.g. to save the packets of
    /// WebSocket connections). An error stops the run like an output error.
    fn packet(&mut self, pkt: &RawPacket<'_>, fate: PacketFate) -> io::Result<()> {
        let _ = (pkt, fate);
        Ok(())
    }

    /// Connections with no packet since `before` were ended as idle: let go of what is held
    /// for them.
    fn swept(&mut self, before: Timestamp) {
        let _ = before;
    }

    /// TLS key log text the engine was just given (from a key log file, at the start or as it
    /// grew): e.g. to save it beside the packets.
    fn keys(&mut self, keylog: &[u8]) {
        let _ = keylog;
    }

    /// Something worth telling that is no failure (a key log line that is not understood and
    /// was skipped), one line.
    fn notice(&mut self, text: &str) {
        let _ = text;
    }

    /// The run is over (the sink finished and flushed): what it went through.
    fn finished(&mut self, totals: &RunTotals) {
        let _ = totals;
    }

    /// The sink was just flushed: flush what the driver writes besides (e.g. a pcap file).
    fn flushed(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What a run went through, told once at its end ([`Watch::finished`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunTotals {
    /// Packets read.
    pub packets: u64,
    /// TCP connections tracked.
    pub tcp_conns: u64,
    /// Connections (TLS ones by their plaintext) that carried HTTP/1.x or HTTP/2.
    pub http_conns: u64,
    /// Connections that carried TLS, and of those, the ones with records not decrypted for
    /// want of keys.
    pub tls_conns: u64,
    pub tls_no_keys: u64,
    /// WebSocket connections (numbered).
    pub websocket_conns: u64,
    /// Messages and anomalies, before any filter.
    pub messages: u64,
    pub anomalies: u64,
}

impl RunTotals {
    /// Adds another part's totals (an engine's, a thread's, an input's).
    pub fn absorb(&mut self, other: &RunTotals) {
        self.packets += other.packets;
        self.tcp_conns += other.tcp_conns;
        self.http_conns += other.http_conns;
        self.tls_conns += other.tls_conns;
        self.tls_no_keys += other.tls_no_keys;
        self.websocket_conns += other.websocket_conns;
        self.messages += other.messages;
        self.anomalies += other.anomalies;
    }

    /// Adds what an engine counted.
    pub fn add_engine(&mut self, s: &crate::engine::Stats) {
        self.packets += s.packets;
        self.tcp_conns += s.tcp_conns;
        self.http_conns += s.http_conns;
        self.tls_conns += s.tls_conns;
        self.tls_no_keys += s.tls_no_keys;
        self.websocket_conns += s.websocket_conns;
    }
}

/// A watch that wants nothing.
impl Watch for () {}

/// The counters of a running (live) capture, as the periodic stats report them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    pub packets: u64,
    pub bytes: u64,
    /// Packets the kernel dropped (`None`: not known).
    pub kernel_drops: Option<u64>,
    /// TCP connections tracked now (WebSocket or undecided).
    pub conns_open: usize,
    /// WebSocket connections numbered so far in the run.
    pub websocket_conns: u64,
    pub messages: u64,
    pub anomalies: u64,
    /// Approximate bytes held by the engine's buffers (a driver adds what it holds itself).
    pub memory: usize,
}

impl RunStats {
    /// `{"event":"stats","ts":"...","packets":N,...}` (one line, newline included).
    pub fn write_json(&self, w: &mut impl Write, ts: Timestamp) -> io::Result<()> {
        w.write_all(b"{\"event\":\"stats\",\"ts\":\"")?;
        write_rfc3339_micros(&mut *w, ts)?;
        write!(
            w,
            "\",\"packets\":{},\"bytes\":{},\"kernel_drops\":",
            self.packets, self.bytes
        )?;
        match self.kernel_drops {
            Some(d) => write!(w, "{d}")?,
            None => w.write_all(b"null")?,
        }
        writeln!(
            w,
            ",\"conns_open\":{},\"websocket_conns\":{},\"messages\":{},\"anomalies\":{},\
             \"memory_bytes\":{}}}",
            self.conns_open, self.websocket_conns, self.messages, self.anomalies, self.memory
        )
    }

    /// The readable line (`stats packets=N ...`).
    pub fn line(&self) -> String {
        let drops = self
            .kernel_drops
            .map_or_else(|| "?".to_string(), |d| d.to_string());
        format!(
            "stats packets={} bytes={} kernel_drops={drops} conns_open={} \
             websocket_conns={} messages={} anomalies={} memory={}",
            self.packets,
            self.bytes,
            self.conns_open,
            self.websocket_conns,
            self.messages,
            self.anomalies,
            self.memory
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_json_and_line() {
        let s = RunStats {
            packets: 10,
            bytes: 1500,
            kernel_drops: Some(2),
            conns_open: 3,
            websocket_conns: 4,
            messages: 5,
            anomalies: 6,
            memory: 7000,
        };
        let mut v = Vec::new();
        s.write_json(&mut v, Timestamp::new(0, 1_000)).unwrap();
        assert_eq!(
            String::from_utf8(v).unwrap(),
            "{\"event\":\"stats\",\"ts\":\"1970-01-01T00:00:00.000001Z\",\"packets\":10,\
             \"bytes\":1500,\"kernel_drops\":2,\"conns_open\":3,\"websocket_conns\":4,\
             \"messages\":5,\"anomalies\":6,\"memory_bytes\":7000}\n"
        );
        let none = RunStats::default();
        assert_eq!(
            none.line(),
            "stats packets=0 bytes=0 kernel_drops=? conns_open=0 websocket_conns=0 \
             messages=0 anomalies=0 memory=0"
        );
    }
}
