//! Capture timestamps to `Timestamp`, exactly (integer arithmetic only).

use crate::event::Timestamp;

const NANOS_PER_SEC: u32 = 1_000_000_000;

/// pcap record header: seconds plus microseconds, or nanoseconds with the 0xa1b23c4d magic.
/// A fraction past one second (malformed, but seen) carries into the seconds.
pub(super) fn from_pcap(secs: u32, frac: u32, nanos: bool) -> Timestamp {
    let per_sec = if nanos { NANOS_PER_SEC } else { 1_000_000 };
    let scale = NANOS_PER_SEC / per_sec;
    Timestamp {
        secs: i64::from(secs) + i64::from(frac / per_sec),
        nanos: (frac % per_sec) * scale,
    }
}

/// pcapng (draft-ietf-opsawg-pcapng §4.2, `if_tsresol`): a 64-bit count of units of
/// 10^-n seconds, or 2^-n seconds when the high bit of `tsresol` is set; `if_tsoffset`
/// seconds are added. Sub-nanosecond units are truncated toward zero.
pub(super) fn from_pcapng(units: u64, tsresol: u8, tsoffset: i64) -> Timestamp {
    let exp = u32::from(tsresol & 0x7f);
    let per_sec: Option<u128> = if tsresol & 0x80 == 0 {
        10u128.checked_pow(exp)
    } else {
        1u128.checked_shl(exp)
    };
    let units = u128::from(units);
    // A unit too small for u128 makes every 64-bit count less than a nanosecond.
    let (secs, nanos) = match per_sec {
        Some(per_sec) if per_sec > 0 => {
            let rem = units % per_sec;
            // rem < 2^64, so rem * 10^9 < 2^94: no overflow.
            (units / per_sec, rem * u128::from(NANOS_PER_SEC) / per_sec)
        }
        _ => (0, 0),
    };
    Timestamp {
        secs: i64::try_from(secs)
            .unwrap_or(i64::MAX)
            .saturating_add(tsoffset),
        nanos: u32::try_from(nanos).unwrap_or(0),
    }
}
