//! Values terms share: comparisons, byte counts, durations, numbers and ranges.

use std::time::Duration;

/// A comparison operator of `len>N`-like terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Le,
    Eq,
    Ne,
    Ge,
    Gt,
}

impl Cmp {
    /// The operator at the start of `s` and what follows it. `==` is `=`.
    pub fn split(s: &str) -> Option<(Cmp, &str)> {
        // Two-character operators first, so that `>=` is not read as `>` then `=N`.
        const OPS: [(&str, Cmp); 7] = [
            (">=", Cmp::Ge),
            ("<=", Cmp::Le),
            ("!=", Cmp::Ne),
            ("==", Cmp::Eq),
            (">", Cmp::Gt),
            ("<", Cmp::Lt),
            ("=", Cmp::Eq),
        ];
        OPS.iter()
            .find_map(|(op, cmp)| s.strip_prefix(op).map(|rest| (*cmp, rest)))
    }

    pub fn holds<T: Ord>(self, left: T, right: T) -> bool {
        match self {
            Cmp::Lt => left < right,
            Cmp::Le => left <= right,
            Cmp::Eq => left == right,
            Cmp::Ne => left != right,
            Cmp::Ge => left >= right,
            Cmp::Gt => left > right,
        }
    }
}

/// `123`, `4K`, `16M`, `1G` (powers of 1024; either case).
pub fn byte_count(s: &str) -> Option<u64> {
    let (digits, shift) = match s.as_bytes().last()? {
        b'k' | b'K' => (s.get(..s.len() - 1)?, 10),
        b'm' | b'M' => (s.get(..s.len() - 1)?, 20),
        b'g' | b'G' => (s.get(..s.len() - 1)?, 30),
        _ => (s, 0),
    };
    number(digits)?.checked_mul(1 << shift)
}

/// `250us`, `100ms`, `1.5s` (a unit is required: `100` alone is ambiguous). For the duration
/// terms (`latency>100ms`, `rtt>50ms`).
pub fn duration(s: &str) -> Option<Duration> {
    let (num, nanos_per_unit): (&str, u64) = if let Some(n) = s.strip_suffix("us") {
        (n, 1_000)
    } else if let Some(n) = s.strip_suffix("µs") {
        (n, 1_000)
    } else if let Some(n) = s.strip_suffix("ms") {
        (n, 1_000_000)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1_000_000_000)
    } else {
        return None;
    };
    let (int, frac) = match num.split_once('.') {
        Some((i, f)) => (i, f),
        None => (num, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let whole = if int.is_empty() { 0 } else { number(int)? };
    let mut nanos = whole.checked_mul(nanos_per_unit)?;
    if !frac.is_empty() {
        // Each decimal digit is a tenth of the one before; digits below a nanosecond are
        // dropped (a capture's clock has no finer grain).
        let mut scale = nanos_per_unit;
        for b in frac.bytes() {
            if !b.is_ascii_digit() {
                return None;
            }
            scale /= 10;
            nanos = nanos.checked_add(u64::from(b - b'0') * scale)?;
        }
    }
    Some(Duration::from_nanos(nanos))
}

/// A decimal number of ASCII digits only (no sign, no spaces, no `_`).
pub fn number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `N` or `A-B` (inclusive, `A <= B`).
pub fn range(s: &str) -> Option<(u64, u64)> {
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (number(a)?, number(b)?);
            (a <= b).then_some((a, b))
        }
        None => number(s).map(|n| (n, n)),
    }
}
