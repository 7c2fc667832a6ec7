//! Ping round trips of one connection over time, for the small chart on the connection page:
//! each WebSocket pong paired with its ping by the same rule as the `end` event's RTT figures
//! (`health::rtt`), as messages arrive. Application heartbeats (MQTT PINGREQ and the like)
//! count in those figures but are not drawn: the chart is of WebSocket pings.

use crate::event::{Dir, Timestamp};
use crate::health::HealthLimits;
use crate::health::rtt::Rtt;

/// Samples kept per connection; past it every other one goes and from then on only every
/// second (fourth, ...) is kept, so the chart still spans the whole connection.
const MAX_SAMPLES: usize = 1024;

/// Block characters from low to high.
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

#[derive(Clone, Debug)]
pub struct RttSeries {
    pairing: Rtt,
    /// (time of the pong, round trip in microseconds), in arrival order.
    pub samples: Vec<(Timestamp, u64)>,
    /// Keep one sample in `stride`; `seen` counts them all.
    stride: u64,
    seen: u64,
    /// Lowest and highest round trip of all pongs, kept or not.
    range: (u64, u64),
}

impl RttSeries {
    pub fn new() -> RttSeries {
        let limits = HealthLimits::default();
        RttSeries {
            // Only the pairing is wanted: the figures come from the `end` event.
            pairing: Rtt::new(limits.max_outstanding_pings, 0),
            samples: Vec::new(),
            stride: 1,
            seen: 0,
            range: (u64::MAX, 0),
        }
    }

    pub fn ping(&mut self, dir: Dir, payload: &[u8], ts: Timestamp) {
        self.pairing.ping(dir, false, payload, ts);
    }

    pub fn pong(&mut self, dir: Dir, payload: &[u8], ts: Timestamp) {
        let Some(us) = self.pairing.pong(dir, false, payload, ts) else {
            return;
        };
        self.seen += 1;
        self.range = (self.range.0.min(us), self.range.1.max(us));
        if !(self.seen - 1).is_multiple_of(self.stride) {
            return;
        }
        if self.samples.len() >= MAX_SAMPLES {
            let mut i = 0;
            self.samples.retain(|_| {
                i += 1;
                i % 2 == 1
            });
            self.stride *= 2;
            if !(self.seen - 1).is_multiple_of(self.stride) {
                return;
            }
        }
        self.samples.push((ts, us));
    }

    /// Pongs that answered a ping, kept or not.
    pub fn answered(&self) -> u64 {
        self.seen
    }

    /// The lowest and highest round trip over every pong (the chart may have dropped some).
    pub fn range(&self) -> Option<(u64, u64)> {
        (self.seen > 0).then_some(self.range)
    }
}

impl Default for RttSeries {
    fn default() -> Self {
        RttSeries::new()
    }
}

/// The round trips as bars in at most `width` columns (each column the highest of the
/// samples it stands for), scaled from the lowest column to the highest; `None` with fewer
/// than two samples (nothing over time to show).
pub fn sparkline(samples: &[(Timestamp, u64)], width: usize) -> Option<String> {
    if samples.len() < 2 || width == 0 {
        return None;
    }
    let cols = samples.len().min(width);
    let column = |c: usize| {
        let from = c * samples.len() / cols;
        let to = ((c + 1) * samples.len() / cols).max(from + 1);
        samples
            .get(from..to)
            .unwrap_or_default()
            .iter()
            .map(|&(_, us)| us)
            .max()
            .unwrap_or(0)
    };
    let values: Vec<u64> = (0..cols).map(column).collect();
    let lo = values.iter().copied().min().unwrap_or(0);
    let hi = values.iter().copied().max().unwrap_or(0);
    let top = BARS.len() - 1;
    Some(
        values
            .iter()
            .map(|&v| {
                let level = if hi == lo {
                    top / 2
                } else {
                    let scaled = u128::from(v - lo) * top as u128 / u128::from(hi - lo);
                    usize::try_from(scaled).unwrap_or(top)
                };
                BARS.get(level).copied().unwrap_or('█')
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: i64) -> Timestamp {
        Timestamp::new(100 + ms / 1000, (ms % 1000) as u32 * 1_000_000)
    }

    #[test]
    fn pongs_pair_with_the_other_sides_pings_by_payload() {
        let mut s = RttSeries::new();
        s.ping(Dir::C2s, b"a", t(0));
        s.ping(Dir::C2s, b"b", t(10));
        // Unsolicited (no ping of the client with this payload): no sample.
        s.pong(Dir::S2c, b"x", t(15));
        s.pong(Dir::S2c, b"b", t(40));
        s.pong(Dir::S2c, b"a", t(50));
        // A pong from the side that pinged answers nothing.
        s.ping(Dir::S2c, b"c", t(60));
        s.pong(Dir::S2c, b"c", t(61));
        s.pong(Dir::C2s, b"c", t(64));
        assert_eq!(
            s.samples,
            [(t(40), 30_000), (t(50), 50_000), (t(64), 4_000)]
        );
    }

    #[test]
    fn a_long_series_keeps_its_whole_span() {
        let mut s = RttSeries::new();
        for i in 0..5000i64 {
            s.ping(Dir::C2s, &i.to_be_bytes(), t(i * 10));
            s.pong(Dir::S2c, &i.to_be_bytes(), t(i * 10 + 1));
        }
        assert!(s.samples.len() <= MAX_SAMPLES, "{}", s.samples.len());
        assert!(s.samples.len() > MAX_SAMPLES / 2, "{}", s.samples.len());
        let ms = |ts: Timestamp| (ts.secs - 100) * 1000 + i64::from(ts.nanos) / 1_000_000;
        assert_eq!(s.samples.first().map(|x| ms(x.0)), Some(1));
        // Evenly spread: consecutive kept samples are the same distance apart, one in
        // `stride` pongs; the last kept is among the last `stride`.
        let gaps: std::collections::BTreeSet<i64> = s
            .samples
            .windows(2)
            .map(|w| ms(w[1].0) - ms(w[0].0))
            .collect();
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        let stride = gaps.first().copied().unwrap_or(0) / 10;
        assert!(stride >= 4, "{stride}");
        let last = s.samples.last().map_or(0, |x| ms(x.0));
        assert!(last > (5000 - stride) * 10, "{last} {stride}");
        assert_eq!(s.answered(), 5000);
    }

    #[test]
    fn the_range_counts_pongs_the_chart_dropped() {
        let mut s = RttSeries::new();
        assert_eq!(s.range(), None);
        // 1,025 pongs: the 1,025th forces the halving, and the lowest (the second pong, 1 ms)
        // is among those dropped.
        for i in 0..1025i64 {
            let rtt = match i {
                1 => 1,
                _ => 5,
            };
            s.ping(Dir::C2s, &i.to_be_bytes(), t(i * 10));
            s.pong(Dir::S2c, &i.to_be_bytes(), t(i * 10 + rtt));
        }
        assert!(s.samples.iter().all(|&(_, us)| us == 5_000));
        assert_eq!(s.range(), Some((1_000, 5_000)));
    }

    #[test]
    fn sparkline_scales_columns_between_the_lowest_and_highest() {
        let s = |v: &[u64]| -> Vec<(Timestamp, u64)> { v.iter().map(|&x| (t(0), x)).collect() };
        assert_eq!(sparkline(&s(&[10]), 10), None);
        assert_eq!(
            sparkline(&s(&[0, 1, 2, 3, 4, 5, 6, 7]), 20).as_deref(),
            Some("▁▂▃▄▅▆▇█")
        );
        // Two samples a column: the higher of each pair.
        assert_eq!(
            sparkline(&s(&[0, 7, 1, 1, 7, 0, 3, 0]), 4).as_deref(),
            Some("█▁█▃")
        );
        assert_eq!(sparkline(&s(&[5, 5, 5]), 10).as_deref(), Some("▄▄▄"));
    }
}
