//! The shared value parsers, including durations for the terms to come.

use std::time::Duration;

use crate::filter::terms::{Arg, duration_arg};
use crate::filter::value::{number, range};
use crate::filter::{Cmp, byte_count, duration};

#[test]
fn comparisons() {
    assert_eq!(Cmp::split(">=5"), Some((Cmp::Ge, "5")));
    assert_eq!(Cmp::split("<=5"), Some((Cmp::Le, "5")));
    assert_eq!(Cmp::split(">5"), Some((Cmp::Gt, "5")));
    assert_eq!(Cmp::split("<5"), Some((Cmp::Lt, "5")));
    assert_eq!(Cmp::split("=5"), Some((Cmp::Eq, "5")));
    assert_eq!(Cmp::split("==5"), Some((Cmp::Eq, "5")));
    assert_eq!(Cmp::split("!=5"), Some((Cmp::Ne, "5")));
    assert_eq!(Cmp::split("=>5"), Some((Cmp::Eq, ">5")));
    assert_eq!(Cmp::split("5"), None);
    assert_eq!(Cmp::split("!5"), None);
    let all = [Cmp::Lt, Cmp::Le, Cmp::Eq, Cmp::Ne, Cmp::Ge, Cmp::Gt];
    let table = |a: u64, b: u64| all.map(|c| c.holds(a, b));
    assert_eq!(table(1, 2), [true, true, false, true, false, false]);
    assert_eq!(table(2, 2), [false, true, true, false, true, false]);
    assert_eq!(table(3, 2), [false, false, false, true, true, true]);
}

#[test]
fn byte_counts() {
    assert_eq!(byte_count("0"), Some(0));
    assert_eq!(byte_count("123"), Some(123));
    assert_eq!(byte_count("4K"), Some(4096));
    assert_eq!(byte_count("4k"), Some(4096));
    assert_eq!(byte_count("16M"), Some(16 << 20));
    assert_eq!(byte_count("1g"), Some(1 << 30));
    for bad in [
        "",
        "K",
        "1.5K",
        "-1",
        "+1",
        "1 K",
        "1KB",
        "99999999999G",
        "0x10",
    ] {
        assert_eq!(byte_count(bad), None, "{bad:?}");
    }
}

#[test]
fn durations() {
    let ms = Duration::from_millis;
    assert_eq!(duration("100ms"), Some(ms(100)));
    assert_eq!(duration("1s"), Some(ms(1000)));
    assert_eq!(duration("1.5s"), Some(ms(1500)));
    assert_eq!(duration(".5s"), Some(ms(500)));
    assert_eq!(duration("0.25ms"), Some(Duration::from_micros(250)));
    assert_eq!(duration("250us"), Some(Duration::from_micros(250)));
    assert_eq!(duration("2µs"), Some(Duration::from_micros(2)));
    assert_eq!(duration("0.000000001s"), Some(Duration::from_nanos(1)));
    // Below a nanosecond is dropped.
    assert_eq!(
        duration("1.0000000019s"),
        Some(Duration::from_nanos(1_000_000_001))
    );
    assert_eq!(duration("0s"), Some(Duration::ZERO));
    for bad in [
        "",
        "100",
        "ms",
        "s",
        ".s",
        "1..5s",
        "1.5.s",
        "-1ms",
        "1e3ms",
        "1 ms",
        "1m",
        "1h",
        "99999999999999999999s",
        "20000000000s",
    ] {
        assert_eq!(duration(bad), None, "{bad:?}");
    }
}

#[test]
fn duration_comparisons_for_terms() {
    const USAGE: &str = "latency>100ms";
    assert_eq!(
        duration_arg(Arg::Compare(Cmp::Gt, "100ms"), USAGE),
        Ok((Cmp::Gt, Duration::from_millis(100)))
    );
    assert_eq!(
        duration_arg(Arg::Compare(Cmp::Le, "1.5s"), USAGE),
        Ok((Cmp::Le, Duration::from_millis(1500)))
    );
    let e = duration_arg(Arg::Compare(Cmp::Gt, "100"), USAGE).unwrap_err();
    assert!(e.at_value);
    assert_eq!(
        e.msg,
        "'100' is not a duration: expected a number with us, ms or s, e.g. latency>100ms"
    );
    let e = duration_arg(Arg::Bare, USAGE).unwrap_err();
    assert!(!e.at_value);
    assert!(e.msg.starts_with("expected a comparison"), "{}", e.msg);
    assert!(!duration_arg(Arg::Value("5ms"), USAGE).unwrap_err().at_value);
}

#[test]
fn numbers_and_ranges() {
    assert_eq!(number("42"), Some(42));
    assert_eq!(number("18446744073709551615"), Some(u64::MAX));
    assert_eq!(number("18446744073709551616"), None);
    assert_eq!(number("+1"), None);
    assert_eq!(range("3"), Some((3, 3)));
    assert_eq!(range("3-7"), Some((3, 7)));
    assert_eq!(range("7-7"), Some((7, 7)));
    for bad in ["7-3", "3-", "-3", "3--7", "a-b", ""] {
        assert_eq!(range(bad), None, "{bad:?}");
    }
}
