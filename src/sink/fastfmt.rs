//! Formatting on the output's hot path: a JSON line per message at millions of messages per
//! second leaves no room for `fmt` machinery on every field.

use std::collections::HashMap;
use std::io::{self, Write};

use super::write_rfc3339_micros;
use crate::event::{ConnId, ConnRef, Timestamp};

/// Short fields of a line gathered on the stack and handed to the writer in one call: a
/// message line has a dozen of them, and each call into the writer costs more than copying.
pub struct Fields {
    buf: [u8; FIELDS_BYTES],
    len: usize,
}

/// Room for a message's fixed fields (the longest: ~220 bytes with 20-digit numbers).
const FIELDS_BYTES: usize = 256;

impl Default for Fields {
    fn default() -> Self {
        Fields::new()
    }
}

impl Fields {
    pub fn new() -> Fields {
        Fields {
            buf: [0; FIELDS_BYTES],
            len: 0,
        }
    }

    /// Appends `piece`; a piece that does not fit is written out with what came before it.
    // Inlined: most pieces are constants, copied without a call.
    #[inline(always)]
    pub fn push(&mut self, w: &mut impl Write, piece: &[u8]) -> io::Result<()> {
        if let Some(dst) = self.buf.get_mut(self.len..self.len + piece.len()) {
            dst.copy_from_slice(piece);
            self.len += piece.len();
            return Ok(());
        }
        self.push_past_room(w, piece)
    }

    /// Out of line: it is inlined nowhere, so that the inlined pushes stay small.
    #[cold]
    #[inline(never)]
    fn push_past_room(&mut self, w: &mut impl Write, piece: &[u8]) -> io::Result<()> {
        self.flush(w)?;
        w.write_all(piece)
    }

    /// Appends `n` in decimal, written in place.
    #[inline(always)]
    pub fn push_u64(&mut self, w: &mut impl Write, n: u64) -> io::Result<()> {
        let digits = decimal_digits(n);
        let Some(slots) = self.buf.get_mut(self.len..self.len + digits) else {
            return self.push_past_room(w, itoa::Buffer::new().format(n).as_bytes());
        };
        write_decimal(slots, n);
        self.len += digits;
        Ok(())
    }

    /// Writes what was gathered.
    pub fn flush(&mut self, w: &mut impl Write) -> io::Result<()> {
        let pending = self.buf.get(..self.len).unwrap_or_default();
        self.len = 0;
        w.write_all(pending)
    }
}

/// `00` to `99`: two digits per division.
const DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut pairs = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        pairs[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    pairs
};

/// Decimal digits of `n` (1 for 0), two at a time: the numbers of a message line are short.
#[inline(always)]
fn decimal_digits(n: u64) -> usize {
    let mut digits = 1;
    let mut rest = n;
    while rest >= 100 {
        rest /= 100;
        digits += 2;
    }
    digits + usize::from(rest >= 10)
}

/// Writes the low `slots.len()` decimal digits of `n` into `slots`, zero-padded (`n` must have
/// no more digits than that for it to be written whole).
#[inline(always)]
fn write_decimal(slots: &mut [u8], n: u64) {
    let mut rest = n;
    let (first, pairs) = slots.split_at_mut(slots.len() % 2);
    for dst in pairs.rchunks_exact_mut(2) {
        if let Some(pair) = DIGIT_PAIRS.get((rest % 100) as usize) {
            dst.copy_from_slice(pair);
        }
        rest /= 100;
    }
    if let Some(first) = first.first_mut() {
        // A digit: below 10.
        *first = b'0' + (rest % 10) as u8;
    }
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

/// [`write_json_utf8`] into memory, eight bytes at a time: each block is copied whole (a
/// fixed-size copy, no call), then cut back before its first byte to escape. Text messages
/// are mostly short and JSON-like, with a quote every few bytes: copying each clean run on
/// its own (a variable-length copy each) costs more than the escaping.
pub fn write_json_utf8_in_memory(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for part in s.chunks(ESCAPE_PART) {
        // Room for the worst case (every byte as `\u00XX`): no copy below grows the buffer.
        out.reserve(part.len() * 6);
        escape_part(out, part);
    }
    out.push(b'"');
}

/// [`write_json_utf8_in_memory`]'s escaping for any writer: escaped into `scratch` (a buffer
/// the caller keeps), handed on a few KiB at a time.
pub fn write_json_utf8_staged(
    w: &mut impl Write,
    s: &[u8],
    scratch: &mut Vec<u8>,
) -> io::Result<()> {
    scratch.clear();
    scratch.push(b'"');
    for part in s.chunks(ESCAPE_PART) {
        scratch.reserve(part.len() * 6);
        escape_part(scratch, part);
        if scratch.len() >= ESCAPE_PART {
            w.write_all(scratch)?;
            scratch.clear();
        }
    }
    scratch.push(b'"');
    w.write_all(scratch)
}

/// Input bytes escaped per reservation of room for them.
const ESCAPE_PART: usize = 4096;

fn escape_part(out: &mut Vec<u8>, s: &[u8]) {
    let mut i = 0;
    while let Some(block) = s.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(block);
        out.extend_from_slice(&word);
        let m = escape_mask(u64::from_le_bytes(word));
        if m == 0 {
            i += 8;
            continue;
        }
        // The first flagged byte is exact (see `escape_mask`): keep what precedes it.
        let at = (m.trailing_zeros() / 8) as usize;
        out.truncate(out.len() - (8 - at));
        push_escaped(out, word.get(at).copied().unwrap_or_default());
        i += at + 1;
    }
    for &b in s.get(i..).unwrap_or_default() {
        if needs_escape(b) {
            push_escaped(out, b);
        } else {
            out.push(b);
        }
    }
}

/// The escape of a byte [`needs_escape`] flags.
// Inlined: JSON-like text has one every few bytes, and each is a copy of two constant bytes.
#[inline(always)]
fn push_escaped(out: &mut Vec<u8>, b: u8) {
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        _ => push_unicode_escape(out, b),
    }
}

/// Other control characters: rare, kept out of the inlined escapes.
#[cold]
#[inline(never)]
fn push_unicode_escape(out: &mut Vec<u8>, b: u8) {
    out.extend_from_slice(&unicode_escape(b));
}

/// `\u00XX` (lowercase hex, as serde_json writes it).
fn unicode_escape(b: u8) -> [u8; 6] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
    let lo = HEX.get(usize::from(b & 15)).copied().unwrap_or(b'0');
    [b'\\', b'u', b'0', b'0', hi, lo]
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
                _ => out.push(&unicode_escape(b))?,
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
    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`: the second of `secs`, its fraction rewritten per call.
    text: [u8; 27],
}

impl TimeCache {
    #[cfg(test)]
    pub fn write(&mut self, w: &mut impl Write, ts: Timestamp) -> io::Result<()> {
        match self.text(ts) {
            Some(text) => w.write_all(text),
            None => write_rfc3339_micros(w, ts),
        }
    }

    /// `ts` as RFC 3339 text, or `None` for a time this cache does not write (before 1970
    /// or past the year 9999: [`write_rfc3339_micros`] clamps those).
    pub fn text(&mut self, ts: Timestamp) -> Option<&[u8; 27]> {
        if !(0..=super::timefmt::LAST_SECOND).contains(&ts.secs) {
            return None;
        }
        if self.secs != Some(ts.secs) {
            let mut full = Vec::with_capacity(32);
            write_rfc3339_micros(&mut full, Timestamp::new(ts.secs, 0)).ok()?;
            // Not the fixed form this cache writes into: never cached.
            self.text = full.try_into().ok()?;
            self.secs = Some(ts.secs);
        }
        // Six digits of microseconds, zero-padded, between the `.` and the `Z`.
        let micros = (ts.nanos / 1000).min(999_999);
        if let Some(fraction) = self.text.get_mut(20..26) {
            write_decimal(fraction, u64::from(micros));
        }
        Some(&self.text)
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
        // Around the in-memory escaper's parts.
        for len in [
            ESCAPE_PART - 1,
            ESCAPE_PART,
            ESCAPE_PART + 1,
            2 * ESCAPE_PART + 9,
        ] {
            cases.push("z".repeat(len) + "\u{2}");
            cases.push("\t".repeat(len));
            cases.push(
                (0..len)
                    .map(|i| if i % 5 == 0 { '\\' } else { 'q' })
                    .collect(),
            );
        }
        for s in cases {
            let want = serde_json::to_string(&s).unwrap();
            let mut ours = Vec::new();
            write_json_str(&mut ours, &s).unwrap();
            assert_eq!(String::from_utf8(ours).unwrap(), want);
            // In memory, after what the line already holds.
            let mut line = b"{\"text\":".to_vec();
            write_json_utf8_in_memory(&mut line, s.as_bytes());
            assert_eq!(
                String::from_utf8(line).unwrap(),
                format!("{{\"text\":{want}")
            );
            // Staged, with a scratch buffer holding something from before.
            let (mut out, mut scratch) = (Vec::new(), b"old".to_vec());
            write_json_utf8_staged(&mut out, s.as_bytes(), &mut scratch).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), want);
        }
    }

    #[test]
    fn fields_write_numbers_as_itoa_does() {
        let mut numbers = vec![0, 1, 9, 10, 99, 100, 101, 999, 1_000, 65_535, u64::MAX];
        numbers.extend((1..20).map(|p| 10u64.pow(p) - 1));
        numbers.extend((1..20).map(|p| 10u64.pow(p)));
        for n in numbers {
            let mut out = Vec::new();
            let mut f = Fields::new();
            f.push(&mut out, b"[").unwrap();
            f.push_u64(&mut out, n).unwrap();
            f.push(&mut out, b"]").unwrap();
            f.flush(&mut out).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), format!("[{n}]"));
        }
        // Past the room of the buffer: written out in order all the same.
        let mut out = Vec::new();
        let mut f = Fields::new();
        for _ in 0..30 {
            f.push(&mut out, b",").unwrap();
            f.push_u64(&mut out, 12_345_678_901).unwrap();
        }
        f.flush(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), ",12345678901".repeat(30));
    }

    #[test]
    fn time_cache_matches_the_plain_formatter() {
        let mut cache = TimeCache::default();
        for (secs, nanos) in [
            (1_700_000_000, 5_000),
            (1_700_000_000, 999_999_999),
            (1_700_000_001, 0),
            (1_700_000_001, 42_999),
            (0, 123_000),
            // Nanoseconds past a second (a capture can claim them), the clamped ends.
            (0, 4_000_000_000),
            (-1, 5_000),
            (253_402_300_799, 1_000),
            (253_402_300_800, 1_000),
            (253_402_300_799, 7_654_321),
        ] {
            let ts = Timestamp::new(secs, nanos);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            cache.write(&mut a, ts).unwrap();
            write_rfc3339_micros(&mut b, ts).unwrap();
            assert_eq!(String::from_utf8(a).unwrap(), String::from_utf8(b).unwrap());
        }
    }
}
