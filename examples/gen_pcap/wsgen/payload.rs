//! Application payloads: JSON-like text and binary drawn from pools built once from the seed,
//! with the size classes of `gen_pcap.py` (tiny 20–200 B text, medium 1–16 KiB text or
//! binary, large 64 KiB–1 MiB binary).

use std::fmt::Write as _;

use super::rng::Rng;

const WORDS: &[&str] = &[
    "alpha", "beta", "gamma", "delta", "omega", "status", "update", "order", "trade", "price",
    "quantity", "user", "room", "message", "hello", "world", "ready", "ok", "error", "retry",
    "session", "token", "value", "level", "sensor", "temp", "humidity", "pressure", "voltage",
    "current", "frame", "tick", "quote", "bid", "ask", "last", "volume", "open", "close", "café",
    "naïve", "日本", "über", "Grüße", "☃", "ñandú",
];
const TYPES: &[&str] = &[
    "tick", "chat", "hb", "ack", "presence", "typing", "quote", "event", "log", "cmd",
];
const USERS: &[&str] = &["alice", "bob", "carol", "dave", "eve"];

/// Largest large message; the binary pool is extended by this much so any slice fits.
pub const MAX_LARGE: usize = 1 << 20;
const BLOCK: usize = 4096;
const BLOCKS: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeClass {
    Tiny,
    Medium,
    Large,
}

pub struct Pools {
    text: Vec<u8>,
    /// `BLOCKS` blocks followed by a copy of the first `MAX_LARGE + BLOCK` bytes.
    bin: Vec<u8>,
    bin_len: usize,
}

impl Pools {
    pub fn new(seed: u64) -> Pools {
        let mut r = Rng::new(seed ^ 0x5EED);
        let text = text_pool(&mut r);
        let mut bin = Vec::with_capacity(BLOCKS * BLOCK + MAX_LARGE + BLOCK);
        for _ in 0..BLOCKS {
            let kind = r.unit();
            let start = bin.len();
            if kind < 0.45 {
                bin.resize(start + BLOCK, 0);
                r.fill(&mut bin[start..]);
            } else if kind < 0.8 {
                // 16-byte telemetry records: id u32, channel u16, delta i16, reading f32, flags u32
                let base = r.below(1 << 30) as u32;
                for j in 0..(BLOCK / 16) as u32 {
                    bin.extend_from_slice(&base.wrapping_add(j).to_le_bytes());
                    bin.extend_from_slice(&(r.below(16) as u16).to_le_bytes());
                    bin.extend_from_slice(&((r.below(600) as i16) - 300).to_le_bytes());
                    let reading = (r.gauss(20.0, 3.0) * 100.0).round() / 100.0;
                    bin.extend_from_slice(&(reading as f32).to_le_bytes());
                    bin.extend_from_slice(&(r.below(4) as u32).to_le_bytes());
                }
            } else {
                let off = r.index(text.len() - BLOCK);
                bin.extend_from_slice(&text[off..off + BLOCK]);
            }
        }
        let bin_len = bin.len();
        bin.extend_from_within(..MAX_LARGE + BLOCK);
        Pools { text, bin, bin_len }
    }

    /// A JSON object of about `n_target` bytes with a few non-ASCII words.
    pub fn tiny_text(&self, rng: &mut Rng, n_target: usize, out: &mut Vec<u8>) {
        let t = rng.pick(TYPES);
        let mut s = String::with_capacity(n_target + 16);
        if n_target < 48 {
            let _ = write!(s, r#"{{"e":"{t}","n":{}}}"#, rng.below(100_000));
        } else {
            let _ = write!(
                s,
                r#"{{"type":"{t}","seq":{},"ts":{},"data":""#,
                rng.below(1 << 20),
                1_700_000_000_000u64 + rng.below(1_000_000_000)
            );
            let mut len = s.len() + 2;
            let mut first = true;
            while len < n_target {
                let w = rng.pick(WORDS);
                if !first {
                    s.push(' ');
                }
                first = false;
                s.push_str(w);
                len += w.len() + 1;
            }
            s.push_str("\"}");
        }
        out.extend_from_slice(s.as_bytes());
    }

    /// A JSON array of whole records from the text pool, about `n_target` bytes.
    pub fn medium_text(&self, rng: &mut Rng, n_target: usize, out: &mut Vec<u8>) {
        let pool = &self.text[..];
        let from = rng.index(pool.len() - 20_000);
        let start = memchr::memchr(b'{', &pool[from..]).map_or(0, |i| from + i);
        let window = &pool[start..(start + n_target).min(pool.len())];
        let end = match memchr::memmem::rfind(window, b"},") {
            Some(i) if i > 0 => start + i,
            _ => memchr::memmem::find(&pool[start..], b"},").map_or(pool.len() - 1, |i| start + i),
        };
        out.push(b'[');
        out.extend_from_slice(&pool[start..=end]);
        out.push(b']');
    }

    /// `n` bytes (at most `MAX_LARGE`) of the binary pool from a random offset.
    pub fn binary(&self, rng: &mut Rng, n: usize, out: &mut Vec<u8>) {
        let off = rng.index(self.bin_len);
        out.extend_from_slice(&self.bin[off..off + n]);
    }
}

/// About 1 MiB of comma-separated JSON records.
fn text_pool(r: &mut Rng) -> Vec<u8> {
    let mut s = String::with_capacity((1 << 20) + 4096);
    let mut i: u64 = 0;
    while s.len() < 1 << 20 {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(
            s,
            r#"{{"id":{i},"user":"{}{}","action":"{}","price":{:.4},"qty":{},"tags":["{}","{}"],"ts":{}}}"#,
            r.pick(USERS),
            r.below(1000),
            r.pick(TYPES),
            r.unit() * 1000.0,
            r.range(1, 499),
            r.pick(WORDS),
            r.pick(WORDS),
            1_700_000_000_000u64 + i * 37
        );
        i += 1;
    }
    s.into_bytes()
}

/// Cumulative weights of the three size classes.
pub struct Mix {
    cum: [f64; 3],
}

impl Mix {
    /// `"tiny,medium,large"` weights, e.g. `60,30,10`.
    pub fn parse(s: &str) -> Result<Mix, String> {
        let w: Vec<f64> = s
            .split(',')
            .map(|x| x.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|e| format!("--mix: {e}"))?;
        let total: f64 = w.iter().sum();
        if w.len() != 3 || w.iter().any(|&x| x < 0.0 || !x.is_finite()) || total <= 0.0 {
            return Err("--mix needs three non-negative weights: tiny,medium,large".into());
        }
        let mut cum = [0.0; 3];
        let mut acc = 0.0;
        for (c, x) in cum.iter_mut().zip(&w) {
            acc += x / total;
            *c = acc;
        }
        Ok(Mix { cum })
    }

    /// Draws one data message into `out` (cleared first); returns its opcode and class.
    pub fn message(&self, pools: &Pools, rng: &mut Rng, out: &mut Vec<u8>) -> (u8, SizeClass) {
        out.clear();
        let x = rng.unit();
        if x < self.cum[0] {
            let n = rng.range(20, 200) as usize;
            pools.tiny_text(rng, n, out);
            (1, SizeClass::Tiny)
        } else if x < self.cum[1] {
            let n = rng.range(1024, 16384) as usize;
            if rng.unit() < 0.5 {
                pools.medium_text(rng, n, out);
                (1, SizeClass::Medium)
            } else {
                pools.binary(rng, n, out);
                (2, SizeClass::Medium)
            }
        } else {
            let n = rng.range(65536, MAX_LARGE as u64) as usize;
            pools.binary(rng, n, out);
            (2, SizeClass::Large)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_utf8_json_of_the_asked_size() {
        let pools = Pools::new(1);
        let mut rng = Rng::new(2);
        let mut out = Vec::new();
        for n in [20usize, 47, 48, 200] {
            out.clear();
            pools.tiny_text(&mut rng, n, &mut out);
            let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
            assert!(v.is_object());
            assert!(out.len() <= n.max(40) + 16, "{n}: {}", out.len());
        }
        for n in [1024usize, 16384] {
            out.clear();
            pools.medium_text(&mut rng, n, &mut out);
            let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
            assert!(v.as_array().is_some_and(|a| !a.is_empty()));
            assert!(out.len() <= n + 2, "{n}: {}", out.len());
        }
    }

    #[test]
    fn mix_weights() {
        assert!(Mix::parse("1,2").is_err());
        assert!(Mix::parse("0,0,0").is_err());
        assert!(Mix::parse("-1,1,1").is_err());
        let m = Mix::parse("100,0,0").unwrap();
        let (pools, mut rng, mut out) = (Pools::new(1), Rng::new(1), Vec::new());
        for _ in 0..50 {
            assert_eq!(m.message(&pools, &mut rng, &mut out), (1, SizeClass::Tiny));
        }
    }
}
