//! Ping/pong pairing of one connection (RFC 6455 §5.5.2-3) and the round-trip samples it
//! yields, per direction of the side that pinged.

use std::collections::VecDeque;

use super::quantile::{RttStats, Samples};
use crate::event::{Dir, Timestamp};

/// RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less". A
/// longer ping (already an anomaly) is compared on this many first bytes and its length.
const KEY_BYTES: usize = 125;

/// What a ping is matched on: its source (a WebSocket ping never pairs with an application
/// heartbeat), its length and its first [`KEY_BYTES`] bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Key {
    app: bool,
    len: usize,
    head: Box<[u8]>,
}

impl Key {
    fn new(app: bool, payload: &[u8]) -> Key {
        Key {
            app,
            len: payload.len(),
            head: payload.iter().take(KEY_BYTES).copied().collect(),
        }
    }
}

/// Outstanding pings and round-trip samples, both directions.
#[derive(Clone, Debug)]
pub struct Rtt {
    max_outstanding: usize,
    /// Per direction of the pinger: pings not yet answered, oldest first.
    outstanding: [VecDeque<(Key, Timestamp)>; 2],
    samples: [Samples; 2],
}

impl Rtt {
    pub fn new(max_outstanding: usize, exact_samples: usize) -> Rtt {
        Rtt {
            max_outstanding,
            outstanding: Default::default(),
            samples: [Samples::new(exact_samples), Samples::new(exact_samples)],
        }
    }

    /// A ping (or heartbeat request) sent by `dir` at `ts`.
    pub fn ping(&mut self, dir: Dir, app: bool, payload: &[u8], ts: Timestamp) {
        let Some(queue) = self.outstanding.get_mut(dir.index()) else {
            return;
        };
        if self.max_outstanding == 0 {
            return;
        }
        // Bounded: a peer that pings and is never answered keeps only its latest pings (the
        // ones an answer is likeliest to still come for).
        while queue.len() >= self.max_outstanding {
            queue.pop_front();
        }
        queue.push_back((Key::new(app, payload), ts));
    }

    /// A pong (or heartbeat answer) sent by `dir` at `ts`: answers the oldest outstanding ping
    /// of the other side with the same payload (§5.5.3: "the Pong frame ... MUST have
    /// identical 'Application data' as found in the message body of the Ping frame being
    /// replied to"). Without one it is unsolicited (§5.5.3: "A Pong frame MAY be sent
    /// unsolicited ... serves as a unidirectional heartbeat"): no sample. Returns the round
    /// trip it measured, in microseconds.
    pub fn pong(&mut self, dir: Dir, app: bool, payload: &[u8], ts: Timestamp) -> Option<u64> {
        let pinger = dir.other();
        let queue = self.outstanding.get_mut(pinger.index())?;
        let key = Key::new(app, payload);
        let at = queue.iter().position(|(k, _)| *k == key)?;
        let (_, sent) = queue.remove(at)?;
        let rtt = micros_between(sent, ts);
        if let Some(samples) = self.samples.get_mut(pinger.index()) {
            samples.add(rtt);
        }
        Some(rtt)
    }

    /// RTT figures of the pings `dir` sent.
    pub fn stats(&self, dir: Dir) -> Option<RttStats> {
        self.samples.get(dir.index()).and_then(Samples::stats)
    }

    #[cfg(test)]
    pub fn outstanding(&self, dir: Dir) -> usize {
        self.outstanding.get(dir.index()).map_or(0, VecDeque::len)
    }
}

/// Whole microseconds from `a` to `b`, rounded down; 0 when `b` is not after `a` (a capture's
/// clock may step back).
pub fn micros_between(a: Timestamp, b: Timestamp) -> u64 {
    // Called for every message: the usual case (b a little after a) stays in 64 bits, where
    // dividing by 1000 is a multiplication; 128-bit division is a library call.
    const FAST_SECS: i64 = 9_000_000_000;
    if let Some(secs) = b.secs.checked_sub(a.secs)
        && (0..=FAST_SECS).contains(&secs)
    {
        // At most 9e18 + 2^32: within i64.
        let d = secs * 1_000_000_000 + i64::from(b.nanos) - i64::from(a.nanos);
        return u64::try_from(d).map_or(0, |d| d / 1000);
    }
    let nanos = |t: Timestamp| i128::from(t.secs) * 1_000_000_000 + i128::from(t.nanos);
    let d = nanos(b) - nanos(a);
    u64::try_from(d / 1000).unwrap_or(if d < 0 { 0 } else { u64::MAX })
}
