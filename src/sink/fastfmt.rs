//! Formatting on the output's hot path: a JSON line per message at millions of messages per
//! second leaves no room for `fmt` machinery on every field.

use std::collections::HashMap;
use std::io::{self, Write};

use super::write_rfc3339_micros;
use crate::event::{ConnId, ConnRef, Timestamp};

pub fn write_u64(w: &mut impl Write, n: u64) -> io::Result<()> {
    w.write_all(itoa::Buffer::new().format(n).as_bytes())
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Eight bytes at once: a high bit set in the lowest flagged byte marks the first byte that
/// cannot stand in a JSON string as it is (RFC 8259 §7: quote, backslash, control character).
/// Bytes above the first flagged one may be flagged falsely (borrows); the lowest is exact.
fn escape_mask(v: u64) -> u64 {
    let has_zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
    let below_space = v.wrapping_sub(LO * 0x20) & !v & HI;
    below_space | has_zero(v ^ (LO * u64::from(b'"'))) | has_zero(v ^ (LO * u64::from(b'\\')))
}

fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// A JSON string value, escaped.
pub fn write_json_str(w: &mut impl Write, s: &str) -> io::Result<()> {
    write_json_utf8(w, s.as_bytes())
}

/// A JSON string value from bytes known to be valid UTF-8, escaped as serde_json does
/// (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, `\u00XX`), clean runs copied whole.
pub fn write_json_utf8(w: &mut impl Write, s: &[u8]) -> io::Result<()> {
    // The staging buffer is zeroed on every call: on short strings (most messages of a
    // chatty feed) a large one costs more than the escaping.
    if s.len() <= SHORT_STRING {
        escape::<_, SHORT_STAGING>(w, s)
    } else {
        escape::<_, STAGING>(w, s)
    }
}

/// [`write_json_utf8`] into memory: pieces go straight in (staging them would copy them
/// twice).
pub fn write_json_utf8_in_memory(out: &mut Vec<u8>, s: &[u8]) {
    // Writing into a Vec cannot fail.
    let _ = escape::<_, 0>(out, s);
}

fn escape<W: Write, const N: usize>(w: &mut W, s: &[u8]) -> io::Result<()> {
    // Pieces go through a small buffer: JSON-like text has an escape every few bytes, and
    // handing each piece to the writer on its own costs more than copying it.
    let mut out = Staging::<W, N>::new(w);
    out.push(b"\"")?;
    let mut run = 0;
    let mut i = 0;
    while i < s.len() {
        if let Some(chunk) = s.get(i..i + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let m = escape_mask(u64::from_le_bytes(word));
            if m == 0 {
                i += 8;
                continue;
            }
            i += (m.trailing_zeros() / 8) as usize;
        }
        let Some(&b) = s.get(i) else { break };
        if needs_escape(b) {
            out.push(s.get(run..i).unwrap_or_default())?;
            match b {
                b'"' => out.push(b"\\\"")?,
                b'\\' => out.push(b"\\\\")?,
                b'\n' => out.push(b"\\n")?,
                b'\r' => out.push(b"\\r")?,
                b'\t' => out.push(b"\\t")?,
                0x08 => out.push(b"\\b")?,
                0x0c => out.push(b"\\f")?,
                _ => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
                    let lo = HEX.get(usize::from(b & 15)).copied().unwrap_or(b'0');
                    out.push(&[b'\\', b'u', b'0', b'0', hi, lo])?;
                }
            }
            run = i + 1;
        }
        i += 1;
    }
    out.push(s.get(run..).unwrap_or_default())?;
    out.push(b"\"")?;
    out.flush()
}

/// Bytes of small pieces gathered before they are handed to the writer.
const STAGING: usize = 2048;
/// Strings up to this long are staged in [`SHORT_STAGING`] bytes (room for some escapes).
const SHORT_STRING: usize = 256;
const SHORT_STAGING: usize = 512;

/// Gathers small pieces for one write; a piece too large for it goes straight through.
struct Staging<'w, W: Write, const N: usize> {
    w: &'w mut W,
    buf: [u8; N],
    len: usize,
}

impl<'w, W: Write, const N: usize> Staging<'w, W, N> {
    fn new(w: &'w mut W) -> Self {
        Staging {
            w,
            buf: [0; N],
            len: 0,
        }
    }

    fn push(&mut self, piece: &[u8]) -> io::Result<()> {
        if let Some(dst) = self.buf.get_mut(self.len..self.len + piece.len()) {
            dst.copy_from_slice(piece);
            self.len += piece.len();
            return Ok(());
        }
        self.flush()?;
        if piece.len() >= N {
            return self.w.write_all(piece);
        }
        if let Some(dst) = self.buf.get_mut(..piece.len()) {
            dst.copy_from_slice(piece);
            self.len = piece.len();
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        let pending = self.buf.get(..self.len).unwrap_or_default();
        self.len = 0;
        self.w.write_all(pending)
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
        if !(0..=super::timefmt::LAST_SECOND).contains(&ts.secs) {
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
            let mut s = format!(
                "\"conn\":{},\"client\":\"{}\",\"server\":\"{}\"",
                c.id, c.client, c.server
            );
            // Only WebSockets carried in HTTP/2 streams have the field: HTTP/1.1 lines keep
            // their form.
            if let Some(stream) = c.stream {
                s.push_str(&format!(",\"stream\":{stream}"));
            }
            s.into_bytes()
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
    fn escaping_matches_serde_json() {
        let mut cases: Vec<String> = vec![
            String::new(),
            "plain".into(),
            "{\"a\": [1, \"b\\\\c\"]}".into(),
            "tab\tnl\ncr\r bs\u{8} ff\u{c} nul\u{0} us\u{1f} del\u{7f} é 🚀".into(),
        ];
        // Every position of every escaped byte, around the 8-byte blocks.
        for at in 0..20 {
            for c in ['"', '\\', '\n', '\u{1}', '\u{1f}'] {
                let mut s: String = "abcdefghijklmnopqrstuvwxyz".chars().take(at).collect();
                s.push(c);
                s.push_str("0123456789ü");
                cases.push(s);
            }
        }
        // Around the staging buffers' sizes: escapes on both sides of its edge, clean runs
        // longer than it, escapes that fill it.
        for len in [
            SHORT_STRING - 1,
            SHORT_STRING,
            SHORT_STRING + 1,
            SHORT_STAGING - 1,
            SHORT_STAGING,
            SHORT_STAGING + 1,
            STAGING - 3,
            STAGING - 1,
            STAGING,
            STAGING + 1,
            3 * STAGING + 5,
        ] {
            cases.push("x".repeat(len) + "\"");
            cases.push("\"".repeat(len));
            cases.push("\u{1}".repeat(len / 3) + &"y".repeat(len) + "\n");
            cases.push(
                (0..len)
                    .map(|i| if i % 7 == 0 { '"' } else { 'é' })
                    .collect(),
            );
        }
        for s in cases {
            let mut ours = Vec::new();
            write_json_str(&mut ours, &s).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(&s).unwrap()
            );
        }
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
