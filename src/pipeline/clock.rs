//! The wall clock, read by drivers only: the engine is given time, it never reads a clock.

use crate::event::Timestamp;

/// The current time as a capture timestamp (for idle expiry when no packets come, and for
/// stats records).
pub fn wall_clock() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::new(
        i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        d.subsec_nanos(),
    )
}
