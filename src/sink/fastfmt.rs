//! Formatting on the output's hot path: a JSON line per message at millions of messages per
//! second leaves no room for `fmt` machinery on every field.

use std::collections::HashMap;
use std::io::{self, Write};

use super::write_rfc3339_micros;
use crate::event::{ConnId, ConnRef, Timestamp};

pub fn write_u64(w: &mut impl Write, n: u64) -> io::Result<()> {
    w.write_all(itoa::Buffer::new().format(n).as_bytes())
}

/// Whether `s` can go into a JSON string as it is (RFC 8259 §7: no quote, backslash or control
/// character), checked eight bytes at a time.
pub fn needs_no_escape(s: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    let mut chunks = s.chunks_exact(8);
    for c in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(c);
        let v = u64::from_le_bytes(word);
        // A byte below 0x20 (its top bit clear and it stays below after adding 0x60), or
        // equal to '"' or '\\'.
        let below_space = v.wrapping_sub(LO * 0x20) & !v & HI;
        if below_space | has_zero(v ^ (LO * b'"' as u64)) | has_zero(v ^ (LO * b'\\' as u64)) != 0 {
            return false;
        }
    }
    chunks
        .remainder()
        .iter()
        .all(|&b| b >= 0x20 && b != b'"' && b != b'\\')
}

/// A JSON string value, escaped.
pub fn write_json_str(w: &mut impl Write, s: &str) -> io::Result<()> {
    if needs_no_escape(s.as_bytes()) {
        w.write_all(b"\"")?;
        w.write_all(s.as_bytes())?;
        w.write_all(b"\"")
    } else {
        serde_json::to_writer(w, s).map_err(io::Error::from)
    }
}

/// RFC 3339 timestamps with the date and time of day rendered once per second.
#[derive(Default)]
pub struct TimeCache {
    secs: Option<i64>,
    /// `YYYY-MM-DDTHH:MM:SS`
    prefix: Vec<u8>,
}

impl TimeCache {
    pub fn write(&mut self, w: &mut impl Write, ts: Timestamp) -> io::Result<()> {
        if ts.secs < 0 {
            return write_rfc3339_micros(w, ts);
        }
        if self.secs != Some(ts.secs) {
            let mut full = Vec::with_capacity(32);
            write_rfc3339_micros(&mut full, Timestamp::new(ts.secs, 0))?;
            full.truncate(19);
            self.prefix = full;
            self.secs = Some(ts.secs);
        }
        w.write_all(&self.prefix)?;
        let micros = (ts.nanos / 1000).min(999_999);
        let mut frac = *b".000000Z";
        let digits = itoa::Buffer::new().format(micros).as_bytes().to_vec();
        let start = 7 - digits.len();
        if let Some(dst) = frac.get_mut(start..7) {
            dst.copy_from_slice(&digits);
        }
        w.write_all(&frac)
    }
}

/// `"conn":N,"client":"…","server":"…"` of each open connection, rendered once.
#[derive(Default)]
pub struct ConnCache {
    rendered: HashMap<ConnId, Vec<u8>, foldhash::fast::RandomState>,
}

impl ConnCache {
    pub fn get(&mut self, c: &ConnRef) -> &[u8] {
        self.rendered.entry(c.id).or_insert_with(|| {
            format!(
                "\"conn\":{},\"client\":\"{}\",\"server\":\"{}\"",
                c.id, c.client, c.server
            )
            .into_bytes()
        })
    }

    /// The connection ended: nothing more will be written for it.
    pub fn forget(&mut self, id: ConnId) {
        self.rendered.remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_check_matches_the_definition() {
        let plain = "hello world, ünïcödé 🚀 {json: [1,2]}".repeat(3);
        assert!(needs_no_escape(plain.as_bytes()));
        for bad in [b'"', b'\\', 0x00, 0x1f, b'\n', b'\t'] {
            for at in [0usize, 3, 7, 8, 15, 20] {
                let mut s = plain.clone().into_bytes();
                s[at] = bad;
                assert!(!needs_no_escape(&s), "byte {bad:#x} at {at}");
            }
        }
        assert!(needs_no_escape(&[
            0x20, 0x7f, 0x80, 0xff, 0x21, 0x5b, 0x5d, 0x23, 0x5a
        ]));
    }

    #[test]
    fn time_cache_matches_the_plain_formatter() {
        let mut cache = TimeCache::default();
        for (secs, nanos) in [
            (1_700_000_000, 5_000),
            (1_700_000_000, 999_999_999),
            (1_700_000_001, 0),
            (0, 123_000),
        ] {
            let ts = Timestamp::new(secs, nanos);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            cache.write(&mut a, ts).unwrap();
            write_rfc3339_micros(&mut b, ts).unwrap();
            assert_eq!(String::from_utf8(a).unwrap(), String::from_utf8(b).unwrap());
        }
    }
}
