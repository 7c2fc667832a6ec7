//! The `.summary.json` beside the capture, in `gen_pcap.py`'s layout (same keys, same order,
//! one-space indent), and the digest `check_jsonl.py` recomputes from a decoder's output.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

pub const OPNAMES: [(u8, &str); 5] = [
    (1, "text"),
    (2, "binary"),
    (8, "close"),
    (9, "ping"),
    (10, "pong"),
];

pub fn opname(opcode: u8) -> &'static str {
    OPNAMES
        .iter()
        .find(|(o, _)| *o == opcode)
        .map_or("?", |(_, n)| n)
}

fn op_index(opcode: u8) -> usize {
    OPNAMES.iter().position(|(o, _)| *o == opcode).unwrap_or(0)
}

/// Order-sensitive hash of one stream's messages: `opcode_name + " " + len + "\n" + payload`.
#[derive(Default)]
pub struct StreamHash(Option<Sha256>);

impl StreamHash {
    pub fn add(&mut self, opcode: u8, payload: &[u8]) {
        let h = self.0.get_or_insert_with(Sha256::new);
        h.update(format!("{} {}\n", opname(opcode), payload.len()).as_bytes());
        h.update(payload);
    }

    pub fn hex(self) -> Option<String> {
        self.0.map(|h| hex(&h.finalize()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// sha256 over the lines `"key hexdigest\n"` sorted by key.
pub fn combine(mut streams: Vec<(String, String)>) -> String {
    streams.sort();
    let mut h = Sha256::new();
    for (k, d) in &streams {
        h.update(format!("{k} {d}\n").as_bytes());
    }
    hex(&h.finalize())
}

#[derive(Default)]
pub struct Counts {
    pub msgs: [u64; 5],
    pub by_dir: [[u64; 5]; 2],
    pub payload: [u64; 5],
    /// tiny, medium, large
    pub size_class: [u64; 3],
    pub frames: u64,
    pub cont_frames: u64,
    pub fragmented: u64,
    pub compressed: u64,
    pub wire_payload: u64,
}

impl Counts {
    pub fn message(&mut self, from_client: bool, opcode: u8, len: usize) {
        let i = op_index(opcode);
        self.msgs[i] += 1;
        self.by_dir[usize::from(!from_client)][i] += 1;
        self.payload[i] += len as u64;
    }
}

/// A JSON value just rich enough for the summary, written like Python's `json.dump(indent=1)`.
pub enum J {
    Int(u64),
    Float(f64),
    Bool(bool),
    Str(String),
    Obj(Vec<(&'static str, J)>),
}

impl J {
    fn write(&self, s: &mut String, depth: usize) {
        match self {
            J::Int(v) => {
                let _ = write!(s, "{v}");
            }
            J::Float(v) => {
                let _ = write!(s, "{v:?}");
            }
            J::Bool(v) => s.push_str(if *v { "true" } else { "false" }),
            J::Str(v) => s.push_str(&serde_json::Value::from(v.as_str()).to_string()),
            J::Obj(items) if items.is_empty() => s.push_str("{}"),
            J::Obj(items) => {
                s.push('{');
                for (i, (k, v)) in items.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    s.push('\n');
                    s.push_str(&" ".repeat(depth + 1));
                    let _ = write!(s, "\"{k}\": ");
                    v.write(s, depth + 1);
                }
                s.push('\n');
                s.push_str(&" ".repeat(depth));
                s.push('}');
            }
        }
    }

    /// The object with one more member at the end.
    pub fn with(self, key: &'static str, value: J) -> J {
        match self {
            J::Obj(mut items) => {
                items.push((key, value));
                J::Obj(items)
            }
            other => other,
        }
    }

    fn get(&self, key: &str) -> Option<&J> {
        match self {
            J::Obj(items) => items.iter().find(|(k, _)| *k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// A top-level integer member (0 when absent).
    pub fn int(&self, key: &str) -> u64 {
        match self.get(key) {
            Some(J::Int(v)) => *v,
            _ => 0,
        }
    }

    /// A top-level string member ("" when absent).
    #[allow(dead_code)] // for tests/bench_capture.rs
    pub fn str(&self, key: &str) -> &str {
        match self.get(key) {
            Some(J::Str(v)) => v,
            _ => "",
        }
    }

    /// "N bytes, N packets, N messages (text N, ...)" for the console.
    pub fn one_line(&self) -> String {
        let int = |k: &str| self.int(k);
        let per_op = match self.get("messages") {
            Some(J::Obj(items)) => items
                .iter()
                .map(|(k, v)| match v {
                    J::Int(n) => format!("{k} {n}"),
                    _ => String::new(),
                })
                .collect::<Vec<_>>()
                .join(", "),
            _ => String::new(),
        };
        format!(
            "{} bytes, {} packets, {} messages ({per_op})",
            int("file_bytes"),
            int("packets"),
            int("messages_total")
        )
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        self.write(&mut s, 0);
        s.push('\n');
        s
    }
}

pub fn per_opcode(v: &[u64; 5]) -> J {
    J::Obj(
        OPNAMES
            .iter()
            .zip(v)
            .map(|((_, n), c)| (*n, J::Int(*c)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_matches_the_python_definition() {
        // hashlib.sha256(b"text 5\nHello").hexdigest()
        let mut h = StreamHash::default();
        h.add(1, b"Hello");
        let d = h.hex().unwrap();
        assert_eq!(
            d,
            "febbc1b0cf15c33ec79e78f2da7f5e2aea667656fef680605ea80688ac5a67fa"
        );
        // hashlib.sha256(b"k1 " + d.encode() + b"\n").hexdigest()
        assert_eq!(
            combine(vec![("k1".into(), d)]),
            "52801d1fe9250be706dfb843df4824c99863699f550ef1befd16b4eaf643e1bf"
        );
        assert!(StreamHash::default().hex().is_none());
    }

    #[test]
    fn renders_like_python_json_dump_indent_1() {
        let j = J::Obj(vec![
            ("a", J::Int(1)),
            (
                "b",
                J::Obj(vec![("c", J::Float(5.0)), ("d", J::Bool(false))]),
            ),
            ("e", J::Str("x\"y".into())),
            ("f", J::Obj(vec![])),
        ]);
        assert_eq!(
            j.render(),
            "{\n \"a\": 1,\n \"b\": {\n  \"c\": 5.0,\n  \"d\": false\n },\n \"e\": \"x\\\"y\",\n \"f\": {}\n}\n"
        );
    }
}
