//! The few JSON pieces a HAR document needs: escaped strings, capture times as RFC 3339 and
//! as epoch seconds, durations in milliseconds.

use std::io::{self, Write};
use std::time::{Duration, SystemTime};

use crate::event::Timestamp;

/// A JSON string value (RFC 8259 §7 escaping).
pub fn string(w: &mut impl Write, s: &str) -> io::Result<()> {
    serde_json::to_writer(w, s).map_err(io::Error::other)
}

/// `"name":"value"` as a HAR name/value object (headers, query strings, cookies).
pub fn name_value(w: &mut impl Write, name: &str, value: &str) -> io::Result<()> {
    w.write_all(b"{\"name\":")?;
    string(w, name)?;
    w.write_all(b",\"value\":")?;
    string(w, value)?;
    w.write_all(b"}")
}

/// The last second RFC 3339's four-digit years can write: 9999-12-31T23:59:59Z.
const LAST_SECOND: i64 = 253_402_300_799;

/// HAR 1.2 `startedDateTime` (ISO 8601, here RFC 3339 UTC with microseconds). A capture's
/// timestamp field can claim anything: times before 1970 are written as the epoch, past the
/// year 9999 as its last second.
pub fn date_time(w: &mut impl Write, ts: Timestamp) -> io::Result<()> {
    let (secs, nanos) = if ts.secs < 0 {
        (0, 0)
    } else if ts.secs > LAST_SECOND {
        (LAST_SECOND, 999_999_000)
    } else {
        (ts.secs, ts.nanos.min(999_999_999))
    };
    let secs = u64::try_from(secs).unwrap_or(0);
    let time = SystemTime::UNIX_EPOCH + Duration::new(secs, nanos / 1000 * 1000);
    write!(w, "\"{}\"", humantime::format_rfc3339_micros(time))
}

/// Seconds since the epoch as an exact decimal (what Chrome's `_webSocketMessages[].time`
/// holds): up to nine fraction digits, trailing zeros dropped, e.g. `1700000000.00001`.
pub fn epoch_seconds(w: &mut impl Write, ts: Timestamp) -> io::Result<()> {
    let nanos = ts.nanos.min(999_999_999);
    // secs + nanos/1e9 for a negative `secs` is -(|secs| - 1 + (1e9 - nanos)/1e9).
    let (sign, whole, frac) = if ts.secs < 0 && nanos > 0 {
        ("-", ts.secs.unsigned_abs() - 1, 1_000_000_000 - nanos)
    } else if ts.secs < 0 {
        ("-", ts.secs.unsigned_abs(), 0)
    } else {
        ("", ts.secs.unsigned_abs(), nanos)
    };
    decimal(w, sign, whole, frac, 9)
}

/// A duration in milliseconds with up to six fraction digits (nanosecond exact).
pub fn millis(w: &mut impl Write, nanos: u64) -> io::Result<()> {
    decimal(
        w,
        "",
        nanos / 1_000_000,
        u32::try_from(nanos % 1_000_000).unwrap_or(0),
        6,
    )
}

fn decimal(w: &mut impl Write, sign: &str, whole: u64, frac: u32, digits: usize) -> io::Result<()> {
    if frac == 0 {
        return write!(w, "{sign}{whole}");
    }
    let f = format!("{frac:0digits$}");
    write!(w, "{sign}{whole}.{}", f.trim_end_matches('0'))
}

/// Nanoseconds from `a` to `b`; `None` when `b` is before `a`.
pub fn nanos_between(a: Timestamp, b: Timestamp) -> Option<u64> {
    let n = |t: Timestamp| i128::from(t.secs) * 1_000_000_000 + i128::from(t.nanos);
    u64::try_from(n(b) - n(a)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        f(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn epoch_seconds_exact() {
        let t = |secs, nanos| s(|w| epoch_seconds(w, Timestamp::new(secs, nanos)));
        assert_eq!(t(1_700_000_000, 10_000), "1700000000.00001");
        assert_eq!(t(1_700_000_000, 0), "1700000000");
        assert_eq!(t(1_700_000_000, 123_456_789), "1700000000.123456789");
        assert_eq!(t(-1, 500_000_000), "-0.5");
        assert_eq!(t(-2, 0), "-2");
        assert_eq!(t(-2, 1), "-1.999999999");
        assert_eq!(t(i64::MIN, 0), "-9223372036854775808");
        // Nanoseconds past a second (only a corrupt record claims them) are clamped.
        assert_eq!(t(5, 2_000_000_000), "5.999999999");
    }

    #[test]
    fn millis_exact() {
        assert_eq!(s(|w| millis(w, 0)), "0");
        assert_eq!(s(|w| millis(w, 1_500)), "0.0015");
        assert_eq!(s(|w| millis(w, 12_000_000)), "12");
        assert_eq!(s(|w| millis(w, 12_345_678)), "12.345678");
    }

    #[test]
    fn date_time_clamped() {
        let t = |secs, nanos| s(|w| date_time(w, Timestamp::new(secs, nanos)));
        assert_eq!(t(1_700_000_000, 10_999), "\"2023-11-14T22:13:20.000010Z\"");
        assert_eq!(t(-5, 3), "\"1970-01-01T00:00:00.000000Z\"");
        assert_eq!(t(i64::MAX, 0), "\"9999-12-31T23:59:59.999999Z\"");
    }

    #[test]
    fn nanos_between_never_negative() {
        let a = Timestamp::new(10, 5);
        assert_eq!(nanos_between(a, Timestamp::new(11, 4)), Some(999_999_999));
        assert_eq!(nanos_between(Timestamp::new(11, 4), a), None);
    }
}
