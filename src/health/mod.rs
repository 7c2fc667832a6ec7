//! Connection health, sans-IO: ping round trips, the closing handshake and liveness of one
//! WebSocket connection, from what the engine saw of it (messages, heartbeats decoded from
//! them, TCP ends) — all times are capture times.
//!
//! Definitions (the figures of [`HealthReport`]):
//! - **RTT**: each pong is paired with the oldest outstanding ping of the other side that has
//!   the same payload (FIFO among equal payloads); the sample is pong time − ping time and is
//!   counted for the side that pinged (`c2s` = the client measured it). A pong matching no
//!   outstanding ping is a heartbeat, not a sample. Application heartbeats
//!   ([`Health::heartbeat`]) pair the same way among themselves, never with WebSocket pings.
//!   Times are those of the packets that completed the frames *at the capture point*: a
//!   sniffer next to the client sees the client's RTT, one next to the server sees a shorter
//!   one for the client's pings.
//! - **Silence** of a direction: the longest gap between consecutive messages it sent (data or
//!   control, any opcode), counting from the connection's open (the `open` event's time) to
//!   its first message, and from its last message to its end — the FIN that ended that
//!   direction, a reset, or else the report's end time. A direction that sent nothing is
//!   silent from open to end. Times that step back count as no gap.
//! - **Close** and **verdict**: see [`CloseReport`] and [`Verdict`].
//!
//! Memory per connection is bounded by [`HealthLimits`] whatever the peers send.

mod close;
mod quantile;
mod report;
pub(crate) mod rtt;
#[cfg(test)]
mod tests;

pub use close::{CloseReport, TcpEnd, Verdict};
pub use quantile::RttStats;
pub use report::HealthReport;

use crate::event::{Dir, EndHow, Message, Opcode, Timestamp};
use close::Closing;
use rtt::{Rtt, micros_between};

/// Bounds of one connection's tracker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthLimits {
    /// Pings (and heartbeat requests) awaiting an answer kept per direction; past it the
    /// oldest is forgotten (its pong, if it ever comes, counts as unsolicited).
    pub max_outstanding_pings: usize,
    /// RTT samples kept exactly per direction; past it median and p99 come from a
    /// log-linear histogram (at most 1,920 buckets) within 1.6 % of the exact figure, while
    /// min, max and count stay exact.
    pub exact_rtt_samples: usize,
}

impl Default for HealthLimits {
    fn default() -> Self {
        HealthLimits {
            max_outstanding_pings: 32,
            exact_rtt_samples: quantile::DEFAULT_EXACT_SAMPLES,
        }
    }
}

/// An application-level heartbeat decoded from a message (MQTT PINGREQ/PINGRESP, Engine.IO
/// ping/pong, graphql-ws ping/pong). `key` pairs a request with its answer: the payload that
/// must come back (empty where the protocol has none, as MQTT's). One-way keepalives that
/// nobody answers (SignalR's Ping, sent by each side on its own timer) give no round trip and
/// are not heartbeats here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Beat<'a> {
    Request { key: &'a [u8] },
    Answer { key: &'a [u8] },
}

/// The health tracker of one WebSocket connection.
#[derive(Clone, Debug)]
pub struct Health {
    open_ts: Timestamp,
    /// Per direction: time of its latest message (the open's time before any).
    last: [Timestamp; 2],
    longest_silence_us: [u64; 2],
    rtt: Rtt,
    closing: Closing,
}

impl Health {
    pub fn new(open_ts: Timestamp) -> Health {
        Health::with_limits(open_ts, HealthLimits::default())
    }

    pub fn with_limits(open_ts: Timestamp, limits: HealthLimits) -> Health {
        Health {
            open_ts,
            last: [open_ts; 2],
            longest_silence_us: [0; 2],
            rtt: Rtt::new(limits.max_outstanding_pings, limits.exact_rtt_samples),
            closing: Closing::default(),
        }
    }

    /// Every message of the connection in capture order (data and control).
    #[inline]
    pub fn message(&mut self, dir: Dir, ts: Timestamp, msg: &Message) {
        if let (Some(last), Some(longest)) = (
            self.last.get_mut(dir.index()),
            self.longest_silence_us.get_mut(dir.index()),
        ) {
            *longest = (*longest).max(micros_between(*last, ts));
            *last = (*last).max(ts);
        }
        match msg.opcode {
            Opcode::Ping => self.rtt.ping(dir, false, &msg.payload, ts),
            Opcode::Pong => {
                self.rtt.pong(dir, false, &msg.payload, ts);
            }
            _ => {}
        }
        self.closing.message(dir, ts, msg);
    }

    /// An application-level heartbeat: counted like WebSocket ping/pong. The message that
    /// carried it is given to [`Health::message`] as well (that is what counts for silence).
    pub fn heartbeat(&mut self, dir: Dir, ts: Timestamp, kind: Beat<'_>) {
        match kind {
            Beat::Request { key } => self.rtt.ping(dir, true, key, ts),
            Beat::Answer { key } => {
                self.rtt.pong(dir, true, key, ts);
            }
        }
    }

    /// A TCP direction ended at `ts`: `dir`'s FIN, or a reset (which ends both). Other
    /// [`EndHow`]s (input ended, eviction, idle) are not TCP ends and are ignored.
    pub fn tcp_end(&mut self, dir: Dir, how: EndHow, ts: Timestamp) {
        self.closing.tcp_end(dir, how, ts);
    }

    /// For live silence alarms: the time of `dir`'s latest message (the open's time before
    /// any). `dir` has been silent for `now - silent_since(dir)`.
    pub fn silent_since(&self, dir: Dir) -> Timestamp {
        self.last.get(dir.index()).copied().unwrap_or(self.open_ts)
    }

    /// How long `dir` has been silent at `now`, in microseconds (0 if `now` is not later):
    /// a live alarm fires once when this passes its threshold, and re-arms when `dir` speaks.
    pub fn silent_for(&self, dir: Dir, now: Timestamp) -> u64 {
        micros_between(self.silent_since(dir), now)
    }

    /// The report for the connection's `end` at `end_ts` (may be asked at any time: the
    /// figures so far, with `end_ts` as the end).
    pub fn report(&self, end_ts: Timestamp) -> HealthReport {
        let silence = |dir: Dir| {
            let seen = self.longest_silence_us.get(dir.index()).copied();
            let end = self.closing.tcp_ended(dir).unwrap_or(end_ts);
            let trailing = micros_between(self.silent_since(dir), end);
            seen.unwrap_or(0).max(trailing)
        };
        HealthReport {
            rtt_us: Dir::BOTH.map(|d| self.rtt.stats(d)),
            close: self.closing.report(),
            longest_silence_us: Dir::BOTH.map(silence),
        }
    }
}
