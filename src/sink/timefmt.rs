//! Times on output lines: RFC 3339 UTC timestamps with microseconds (JSON always, text by
//! default), or for text, like tshark's `-t r` and `-t d`, seconds since the capture began or
//! since the previous line.

use std::io::{self, Write};
use std::time::{Duration, SystemTime};

use crate::event::Timestamp;

/// The last second RFC 3339's four-digit years can write: 9999-12-31T23:59:59Z.
pub(super) const LAST_SECOND: i64 = 253_402_300_799;

/// Writes e.g. `2026-11-22T20:22:49.123456Z`. Times outside what RFC 3339 can write are
/// clamped: before 1970 to the epoch, past the year 9999 to its last second (a capture's
/// timestamp field can claim anything).
pub fn write_rfc3339_micros(w: &mut impl Write, ts: Timestamp) -> io::Result<()> {
    let secs = u64::try_from(ts.secs.min(LAST_SECOND)).unwrap_or(0);
    let micros = if ts.secs < 0 {
        0
    } else if ts.secs > LAST_SECOND {
        999_999
    } else {
        (ts.nanos / 1000).min(999_999)
    };
    let time = SystemTime::UNIX_EPOCH + Duration::new(secs, micros * 1000);
    write!(w, "{}", humantime::format_rfc3339_micros(time))
}

/// How the text output writes each line's time (`-t`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TimeFormat {
    /// Absolute UTC time, RFC 3339 with microseconds.
    #[default]
    Absolute,
    /// Seconds since the first packet of the capture (the first record of the first input).
    Relative,
    /// Seconds since the time of the previous line written (the first line: 0).
    Delta,
}

/// Width the seconds of a relative or delta time are right-aligned to: lines up to 999 s.
const SECONDS_WIDTH: usize = 10;

/// Microseconds since the epoch, nanoseconds truncated as the absolute format truncates them.
fn micros(ts: Timestamp) -> i128 {
    i128::from(ts.secs) * 1_000_000 + i128::from(ts.nanos / 1000)
}

/// `ts - since` as seconds with microseconds, right-aligned: `  0.000000`, ` 12.000250`,
/// ` -0.500000` (a capture's clock may step back).
pub fn write_seconds_since(w: &mut impl Write, ts: Timestamp, since: Timestamp) -> io::Result<()> {
    let d = micros(ts) - micros(since);
    let sign = if d < 0 { "-" } else { "" };
    let d = d.unsigned_abs();
    let text = format!("{sign}{}.{:06}", d / 1_000_000, d % 1_000_000);
    write!(w, "{text:>SECONDS_WIDTH$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_since() {
        let base = Timestamp::new(1_700_000_000, 500_000_000);
        let cases = [
            (Timestamp::new(1_700_000_000, 500_000_999), "  0.000000"),
            (Timestamp::new(1_700_000_012, 750_250_000), " 12.250250"),
            (Timestamp::new(1_700_000_000, 0), " -0.500000"),
            (Timestamp::new(1_700_001_234, 500_000_001), "1234.000000"),
        ];
        for (ts, want) in cases {
            let mut out = Vec::new();
            write_seconds_since(&mut out, ts, base).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), want);
        }
    }

    #[test]
    fn formats_with_microseconds_truncating_nanoseconds() {
        let mut out = Vec::new();
        write_rfc3339_micros(&mut out, Timestamp::new(1_700_000_000, 123_456_789)).unwrap();
        assert_eq!(out, b"2023-11-14T22:13:20.123456Z");
    }

    /// Found by the `pipeline` fuzz target: a record claiming a time past the year 9999 made
    /// the formatter fail inside `write!`, which panics.
    #[test]
    fn timestamps_past_year_9999_are_clamped() {
        for secs in [LAST_SECOND + 1, i64::MAX] {
            let mut out = Vec::new();
            write_rfc3339_micros(&mut out, Timestamp::new(secs, 999_999_999)).unwrap();
            assert_eq!(out, b"9999-12-31T23:59:59.999999Z");
        }
        let mut out = Vec::new();
        write_rfc3339_micros(&mut out, Timestamp::new(LAST_SECOND, 5_000)).unwrap();
        assert_eq!(out, b"9999-12-31T23:59:59.000005Z");
    }

    #[test]
    fn epoch_and_negative() {
        let mut out = Vec::new();
        write_rfc3339_micros(&mut out, Timestamp::new(-5, 7)).unwrap();
        assert_eq!(out, b"1970-01-01T00:00:00.000000Z");
    }
}
