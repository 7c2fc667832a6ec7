//! Round-trip samples of one direction, bounded: exact while few, then a log-linear histogram.
//!
//! Why not a reservoir: a random subset gives quantiles with a statistical error and needs a
//! random source (this crate's core takes none); a histogram is deterministic and its error has
//! a hard bound. Why exact first: most connections ping a few times, and a few samples should
//! come out exactly as captured.

/// Values below this are their own bucket (exact); above, each power of two is cut into
/// [`SUB_BUCKETS`] equal parts.
const LINEAR: u64 = 64;
/// Buckets per power of two above [`LINEAR`]: bucket width / lower bound ≤ 1/32, so the
/// bucket's midpoint is within 1/64 (1.6 %) of any value in it.
const SUB_BUCKETS: u64 = 32;
/// log2(SUB_BUCKETS).
const SUB_BITS: u32 = 5;
/// log2(LINEAR).
const LINEAR_BITS: u32 = 6;

/// Samples kept one by one before switching to the histogram (see [`Samples::new`]).
pub const DEFAULT_EXACT_SAMPLES: usize = 256;

/// Bucket count of the histogram: the linear part plus 32 per power of two from 2^6 to 2^63.
const BUCKETS: usize = (LINEAR + (64 - LINEAR_BITS as u64) * SUB_BUCKETS) as usize;

/// Samples of one direction with min, max and count exact and quantiles by nearest rank.
#[derive(Clone, Debug)]
pub struct Samples {
    exact_limit: usize,
    /// Every sample, while there are at most `exact_limit`.
    exact: Vec<u64>,
    /// Past `exact_limit`: (bucket, count), sorted by bucket; at most [`BUCKETS`] entries.
    hist: Option<Vec<(u16, u64)>>,
    min: u64,
    max: u64,
    count: u64,
}

/// min / median / p99 / max of one direction's samples, and how many there were.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RttStats {
    pub min: u64,
    pub median: u64,
    pub p99: u64,
    pub max: u64,
    pub count: u64,
}

impl Samples {
    /// Keeps up to `exact_limit` samples exactly; past it quantiles carry at most 1.6 %
    /// relative error (values below 64 stay exact).
    pub fn new(exact_limit: usize) -> Samples {
        Samples {
            exact_limit,
            exact: Vec::new(),
            hist: None,
            min: u64::MAX,
            max: 0,
            count: 0,
        }
    }

    pub fn add(&mut self, v: u64) {
        self.count = self.count.saturating_add(1);
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        if let Some(hist) = self.hist.as_mut() {
            bump(hist, v);
        } else if self.exact.len() < self.exact_limit {
            self.exact.push(v);
        } else {
            let mut hist = Vec::new();
            for old in self.exact.drain(..) {
                bump(&mut hist, old);
            }
            bump(&mut hist, v);
            self.exact = Vec::new();
            self.hist = Some(hist);
        }
    }

    /// The summary, or `None` without samples.
    pub fn stats(&self) -> Option<RttStats> {
        if self.count == 0 {
            return None;
        }
        let (median, p99) = match &self.hist {
            Some(hist) => (
                hist_rank(hist, rank(self.count, 50)),
                hist_rank(hist, rank(self.count, 99)),
            ),
            None => {
                let mut sorted = self.exact.clone();
                sorted.sort_unstable();
                let at = |r: u64| {
                    usize::try_from(r - 1)
                        .ok()
                        .and_then(|i| sorted.get(i).copied())
                };
                (at(rank(self.count, 50)), at(rank(self.count, 99)))
            }
        };
        debug_assert!(median.is_some() && p99.is_some(), "rank within the samples");
        let clamp = |v: Option<u64>| v.unwrap_or(self.max).clamp(self.min, self.max);
        Some(RttStats {
            min: self.min,
            median: clamp(median),
            p99: clamp(p99),
            max: self.max,
            count: self.count,
        })
    }
}

/// Nearest rank (1-based) of the `pct`th percentile among `n` samples: the smallest sample
/// with at least `pct` % of the samples at or below it. With few samples p99 is the maximum
/// and the median of an even count is the lower middle one — always a value that was seen.
fn rank(n: u64, pct: u64) -> u64 {
    let r = (u128::from(n) * u128::from(pct)).div_ceil(100);
    u64::try_from(r).unwrap_or(n).clamp(1, n)
}

fn bucket(v: u64) -> u16 {
    let idx = if v < LINEAR {
        v
    } else {
        let e = 63 - u64::from(v.leading_zeros());
        let sub = (v >> (e - u64::from(SUB_BITS))) & (SUB_BUCKETS - 1);
        LINEAR + (e - u64::from(LINEAR_BITS)) * SUB_BUCKETS + sub
    };
    debug_assert!(idx < BUCKETS as u64);
    u16::try_from(idx).unwrap_or(u16::MAX)
}

/// The midpoint of bucket `b` (its value, in the linear part).
fn midpoint(b: u16) -> u64 {
    let b = u64::from(b);
    if b < LINEAR {
        return b;
    }
    let e = (b - LINEAR) / SUB_BUCKETS + u64::from(LINEAR_BITS);
    let sub = (b - LINEAR) % SUB_BUCKETS;
    let width = 1u64 << (e - u64::from(SUB_BITS));
    let lo = (1u64 << e) + sub * width;
    lo + width / 2
}

fn bump(hist: &mut Vec<(u16, u64)>, v: u64) {
    let b = bucket(v);
    match hist.binary_search_by_key(&b, |&(k, _)| k) {
        Ok(i) => {
            if let Some((_, n)) = hist.get_mut(i) {
                *n = n.saturating_add(1);
            }
        }
        Err(i) => hist.insert(i, (b, 1)),
    }
}

fn hist_rank(hist: &[(u16, u64)], r: u64) -> Option<u64> {
    let mut seen = 0u64;
    for &(b, n) in hist {
        seen = seen.saturating_add(n);
        if seen >= r {
            return Some(midpoint(b));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats_of(limit: usize, values: &[u64]) -> RttStats {
        let mut s = Samples::new(limit);
        for &v in values {
            s.add(v);
        }
        s.stats().unwrap()
    }

    #[test]
    fn no_samples_no_stats() {
        assert_eq!(Samples::new(4).stats(), None);
    }

    #[test]
    fn one_sample_is_every_figure() {
        let s = stats_of(4, &[1234]);
        assert_eq!(
            s,
            RttStats {
                min: 1234,
                median: 1234,
                p99: 1234,
                max: 1234,
                count: 1
            }
        );
    }

    #[test]
    fn nearest_rank_when_exact() {
        // Sorted: 1000 3000 5000 7000 12000: median is the 3rd, p99 the 5th.
        let s = stats_of(256, &[3000, 7000, 1000, 12000, 5000]);
        assert_eq!(
            (s.min, s.median, s.p99, s.max, s.count),
            (1000, 5000, 12000, 12000, 5)
        );
        // Even count: the lower middle one (rank ceil(4 * 0.5) = 2).
        let s = stats_of(256, &[40, 10, 30, 20]);
        assert_eq!((s.median, s.p99), (20, 40));
        // 200 samples 1..=200: p99 is rank 198, the median rank 100.
        let v: Vec<u64> = (1..=200).rev().collect();
        let s = stats_of(256, &v);
        assert_eq!((s.min, s.median, s.p99, s.max), (1, 100, 198, 200));
    }

    #[test]
    fn rank_rounds_up_and_stays_in_range() {
        assert_eq!(rank(1, 50), 1);
        assert_eq!(rank(1, 99), 1);
        assert_eq!(rank(2, 50), 1);
        assert_eq!(rank(3, 50), 2);
        assert_eq!(rank(100, 99), 99);
        assert_eq!(rank(101, 99), 100);
        assert_eq!(rank(u64::MAX, 99), u64::MAX - u64::MAX / 100);
    }

    #[test]
    fn buckets_cover_every_value_in_order() {
        let mut last = 0;
        for v in (0..5000).chain([u64::MAX / 3, u64::MAX - 1, u64::MAX]) {
            let b = bucket(v);
            assert!(b >= last, "bucket order at {v}");
            assert!((b as usize) < BUCKETS);
            last = b;
        }
        assert_eq!(bucket(63), 63);
        assert_eq!(bucket(64), 64);
        // 64..128 has width-2 buckets.
        assert_eq!(bucket(65), 64);
        assert_eq!(bucket(66), 65);
        assert_eq!(bucket(u64::MAX) as usize, BUCKETS - 1);
    }

    #[test]
    fn midpoint_within_one_sixty_fourth_of_every_value() {
        let probe = (0..200_000u64).chain((0..64).map(|e| 1u64 << e)).chain([
            u64::MAX,
            u64::MAX / 7,
            (1 << 40) + 12345,
        ]);
        for v in probe {
            let m = midpoint(bucket(v));
            let err = m.abs_diff(v);
            assert!(
                u128::from(err) * 64 <= u128::from(v),
                "value {v}: midpoint {m}"
            );
            if v < LINEAR {
                assert_eq!(m, v);
            }
        }
    }

    #[test]
    fn past_the_exact_limit_quantiles_keep_their_error_bound() {
        // 1..=10_000 µs with only 16 kept exactly: true median 5000, p99 9900.
        let v: Vec<u64> = (1..=10_000).collect();
        let s = stats_of(16, &v);
        assert_eq!((s.min, s.max, s.count), (1, 10_000, 10_000));
        assert!(s.median.abs_diff(5000) * 64 <= 5000, "median {}", s.median);
        assert!(s.p99.abs_diff(9900) * 64 <= 9900, "p99 {}", s.p99);
        // The switch keeps the samples seen before it.
        let s = stats_of(2, &[10, 20, 30]);
        assert_eq!((s.min, s.median, s.p99, s.max), (10, 20, 30, 30));
    }

    #[test]
    fn histogram_quantiles_clamped_to_the_exact_extremes() {
        // All in one wide bucket: the midpoint is above the maximum, clamped back.
        let s = stats_of(0, &[1 << 20, (1 << 20) + 1]);
        assert_eq!(s.max, (1 << 20) + 1);
        assert_eq!(s.p99, (1 << 20) + 1);
        assert_eq!(s.median, (1 << 20) + 1);
        assert_eq!(s.min, 1 << 20);
    }

    #[test]
    fn histogram_memory_is_bounded() {
        let mut s = Samples::new(0);
        for e in 0..64u32 {
            for k in 0..100u64 {
                s.add((1u64 << e).saturating_add(k << e.saturating_sub(7)));
            }
        }
        assert!(s.hist.as_ref().unwrap().len() <= BUCKETS);
        assert!(s.exact.is_empty());
    }
}
