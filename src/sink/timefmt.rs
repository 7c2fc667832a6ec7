//! RFC 3339 UTC timestamps with microseconds, as every output line carries them.

use std::io::{self, Write};
use std::time::{Duration, SystemTime};

use crate::event::Timestamp;

/// Writes e.g. `2026-11-22T20:22:49.123456Z`. Times before 1970 are written as the epoch
/// (capture files do not hold them in practice).
pub fn write_rfc3339_micros(w: &mut impl Write, ts: Timestamp) -> io::Result<()> {
    let secs = u64::try_from(ts.secs).unwrap_or(0);
    let micros = if ts.secs < 0 { 0 } else { ts.nanos / 1000 };
    let time = SystemTime::UNIX_EPOCH + Duration::new(secs, micros * 1000);
    write!(w, "{}", humantime::format_rfc3339_micros(time))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_microseconds_truncating_nanoseconds() {
        let mut out = Vec::new();
        write_rfc3339_micros(&mut out, Timestamp::new(1_700_000_000, 123_456_789)).unwrap();
        assert_eq!(out, b"2023-11-14T22:13:20.123456Z");
    }

    #[test]
    fn epoch_and_negative() {
        let mut out = Vec::new();
        write_rfc3339_micros(&mut out, Timestamp::new(-5, 7)).unwrap();
        assert_eq!(out, b"1970-01-01T00:00:00.000000Z");
    }
}
