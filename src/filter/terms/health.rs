//! Terms about the connection's health: `rtt>50ms`, `close:VERDICT`. Both are known only when
//! the connection ends (the median needs every ping, the verdict the teardown), and messages
//! are printed as they come, long before: so these terms are decided on the connection's
//! `end` event ([`Item::End`]) and hold on nothing else. A filter with one of them in a
//! positive position selects the `end` lines of the connections it holds for (each after its
//! `open`, as any selected event).

use super::{Arg, TermError, duration_arg};
use crate::filter::expr::Term;
use crate::filter::subject::{Item, Subject};
use crate::health::Verdict;

pub const RTT_USAGE: &str = "rtt>50ms, rtt<=1.5s (us, ms or s)";

/// `rtt OP DURATION`: the connection's median ping RTT (of the direction with more answered
/// pings, see `HealthReport::rtt_median`), in microseconds as the `end` line gives it. A connection without
/// any answered ping has no RTT: the term does not hold (whatever the operator).
pub fn rtt(arg: Arg<'_>) -> Result<Term, TermError> {
    let (cmp, d) = duration_arg(arg, RTT_USAGE)?;
    // In nanoseconds, as the duration was written (`rtt>0.5us` is not `rtt>0us`).
    let want = d.as_nanos();
    let term = Term::new(move |s: &Subject<'_>| match s.item {
        Item::End { health, .. } => health
            .and_then(crate::health::HealthReport::rtt_median)
            .is_some_and(|median_us| cmp.holds(u128::from(median_us) * 1_000, want)),
        Item::Message { .. } | Item::Anomaly { .. } | Item::Proto { .. } | Item::Refused => false,
    });
    Ok(term.asking_for_ends())
}

pub const CLOSE_USAGE: &str = "close:clean, half_closed, abnormal, after_close or open";

/// `close:VERDICT`: how the connection closed, as the `end` line's `close.verdict` says.
pub fn close(arg: Arg<'_>) -> Result<Term, TermError> {
    let v = arg.value(CLOSE_USAGE)?;
    let want = match v.to_ascii_lowercase().as_str() {
        "clean" => Verdict::Clean,
        "half_closed" => Verdict::HalfClosed,
        "abnormal" => Verdict::Abnormal,
        "after_close" => Verdict::AfterClose,
        "open" => Verdict::Open,
        _ => {
            return Err(TermError::value(format!(
                "'{v}' is not a close verdict: expected {CLOSE_USAGE}"
            )));
        }
    };
    let term = Term::new(move |s: &Subject<'_>| match s.item {
        Item::End { health, .. } => health.is_some_and(|h| h.close.verdict == want),
        Item::Message { .. } | Item::Anomaly { .. } | Item::Proto { .. } | Item::Refused => false,
    });
    Ok(term.asking_for_ends())
}
