//! Small formatting helpers shared by the views.

use std::fmt::Write as _;

use crate::event::Timestamp;

/// `999`, `12.3K`, `4.5M`, `1.2G` (powers of 1024).
pub fn bytes(n: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "G"), (1 << 20, "M"), (1 << 10, "K")];
    for (size, unit) in UNITS {
        if n >= size {
            return format!("{:.1}{unit}", n as f64 / size as f64);
        }
    }
    n.to_string()
}

/// A byte count with its unit: `736 B`, `6.1 KB`, `4.5 MB` (powers of 1024).
pub fn bytes_unit(n: u64) -> String {
    let short = bytes(n);
    match short.strip_suffix(['K', 'M', 'G']) {
        Some(num) => format!("{num} {}B", &short[num.len()..]),
        None => format!("{short} B"),
    }
}

/// Messages and their payload bytes, each labelled: `15 msg 736 B` (never read as one
/// number).
pub fn msgs_bytes(msgs: u64, bytes: u64) -> String {
    format!("{} msg {}", short_count(msgs), bytes_unit(bytes))
}

/// Thousands separated by commas, for counters.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Counts in at most 5 characters: `99999`, `314K`, `2.3M`.
pub fn short_count(n: u64) -> String {
    match n {
        0..100_000 => n.to_string(),
        100_000..1_000_000 => format!("{}K", n / 1000),
        1_000_000..100_000_000 => format!("{:.1}M", n as f64 / 1e6),
        _ => format!("{}M", n / 1_000_000),
    }
}

/// Signed seconds from `base` to `t`, e.g. `+12.345678`.
pub fn relative(t: Timestamp, base: Timestamp) -> String {
    let nanos = nanos(t) - nanos(base);
    let sign = if nanos < 0 { '-' } else { '+' };
    let abs = nanos.unsigned_abs();
    format!(
        "{sign}{}.{:06}",
        abs / 1_000_000_000,
        (abs % 1_000_000_000) / 1000
    )
}

/// UTC time of day with microseconds, e.g. `20:22:49.123456`.
pub fn absolute(t: Timestamp) -> String {
    let full = datetime(t);
    full.get(11..26).unwrap_or(&full).to_string()
}

/// Full UTC date and time, for the detail pane (the output's formatter: it clamps what a
/// capture's timestamp field claims to what RFC 3339 can write).
pub fn datetime(t: Timestamp) -> String {
    let mut out = Vec::with_capacity(32);
    let _ = crate::sink::write_rfc3339_micros(&mut out, t);
    String::from_utf8_lossy(&out).into_owned()
}

/// A short duration: `250µs`, `12.5ms`, `1.250s`.
pub fn duration(secs: f64) -> String {
    if secs < 1e-3 {
        format!("{:.0}µs", secs * 1e6)
    } else if secs < 1.0 {
        format!("{:.1}ms", secs * 1e3)
    } else {
        format!("{secs:.3}s")
    }
}

pub fn nanos(t: Timestamp) -> i128 {
    i128::from(t.secs) * 1_000_000_000 + i128::from(t.nanos)
}

pub use crate::message::close_name;

/// One line of printable text from payload bytes: control characters become `·`, the rest
/// as is (lossy UTF-8); at most `max` characters.
pub fn preview_text(bytes: &[u8], max: usize) -> String {
    let mut out = String::with_capacity(max.min(bytes.len()));
    for c in String::from_utf8_lossy(bytes).chars().take(max) {
        match c {
            // Zero-width joiners and selectors: terminals disagree on their width, which
            // shifts the rest of the row.
            '\u{200B}'..='\u{200F}'
            | '\u{2060}'..='\u{2064}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}' => {}
            c if c.is_control() => out.push('·'),
            c => out.push(c),
        }
    }
    out
}

/// The first bytes as hex pairs, e.g. `00 01 ff …`.
pub fn preview_hex(bytes: &[u8], max_chars: usize) -> String {
    let mut out = String::new();
    for b in bytes.iter().take(max_chars / 3 + 1) {
        if !out.is_empty() {
            out.push(' ');
        }
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_counts() {
        assert_eq!(bytes(999), "999");
        assert_eq!(bytes(1536), "1.5K");
        assert_eq!(bytes(5 << 20), "5.0M");
        assert_eq!(count(0), "0");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(123), "123");
        assert_eq!(short_count(99_999), "99999");
        assert_eq!(short_count(314_576), "314K");
        assert_eq!(short_count(2_314_576), "2.3M");
        assert_eq!(short_count(123_456_789), "123M");
        assert_eq!(bytes_unit(736), "736 B");
        assert_eq!(bytes_unit(6250), "6.1 KB");
        assert_eq!(bytes_unit(5 << 20), "5.0 MB");
        assert_eq!(msgs_bytes(15, 736), "15 msg 736 B");
        assert_eq!(msgs_bytes(314_576, 3 << 30), "314K msg 3.0 GB");
    }

    #[test]
    fn times() {
        let base = Timestamp::new(1_700_000_000, 500_000_000);
        assert_eq!(
            relative(Timestamp::new(1_700_000_012, 0), base),
            "+11.500000"
        );
        assert_eq!(
            relative(Timestamp::new(1_700_000_000, 0), base),
            "-0.500000"
        );
        assert_eq!(
            absolute(Timestamp::new(1_700_000_000, 123_456_789)),
            "22:13:20.123456"
        );
        assert_eq!(
            datetime(Timestamp::new(1_700_000_000, 0)),
            "2023-11-14T22:13:20.000000Z"
        );
    }

    #[test]
    fn previews() {
        assert_eq!(preview_text(b"a\nb\tc", 10), "a·b·c");
        assert_eq!(preview_text(b"abcdef", 3), "abc");
        assert_eq!(preview_hex(&[0, 1, 0xff], 20), "00 01 ff");
        assert_eq!(preview_text("a\u{200d}b".as_bytes(), 10), "ab");
        assert_eq!(duration(0.000_25), "250µs");
        assert_eq!(duration(0.0125), "12.5ms");
        assert_eq!(duration(2.0), "2.000s");
    }
}
