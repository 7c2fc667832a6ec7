//! Small text helpers shared by the decoders: one-line summaries, base64, UTF-8 views.

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// Longest piece of wire text copied into a summary (topics, methods, previews).
const PIECE_CHARS: usize = 80;
/// Longest summary line.
const LINE_CHARS: usize = 240;

/// A one-line summary: pieces separated by spaces, control characters escaped so that a line
/// stays a line, long pieces and long lines cut with `…`.
#[derive(Default)]
pub(crate) struct Line {
    text: String,
    chars: usize,
}

impl Line {
    pub fn new(first: &str) -> Line {
        let mut line = Line::default();
        line.piece(first);
        line
    }

    /// Appends ` piece` (wire text: escaped and cut).
    pub fn piece(&mut self, piece: &str) -> &mut Line {
        if self.chars >= LINE_CHARS {
            return self;
        }
        if !self.text.is_empty() {
            self.text.push(' ');
            self.chars += 1;
        }
        let room = (LINE_CHARS - self.chars.min(LINE_CHARS)).min(PIECE_CHARS);
        // Most pieces (names, topics, ids) are short printable ASCII: copied whole.
        if piece.len() <= room && piece.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            self.text.push_str(piece);
            self.chars += piece.len();
            return self;
        }
        for (n, c) in piece.chars().enumerate() {
            if n + 1 >= room && piece.chars().nth(n + 1).is_some() {
                self.text.push('…');
                self.chars += 1;
                break;
            }
            if c.is_control() {
                let _ = write!(self.text, "\\u{{{:x}}}", u32::from(c));
            } else {
                self.text.push(c);
            }
            self.chars += 1;
        }
        self
    }

    /// Appends ` <formatted>` (our own text, not wire text).
    pub fn fmt(&mut self, args: std::fmt::Arguments<'_>) -> &mut Line {
        let s = args.to_string();
        self.piece(&s)
    }

    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.text)
    }
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    base64_simd::STANDARD.encode_to_string(bytes)
}

/// Writes `name_b64` and, when the bytes are UTF-8, `name_text`.
pub(crate) fn put_bytes(fields: &mut Map<String, Value>, name: &str, bytes: &[u8]) {
    // The names in use, without a format! per unit.
    let (b64_name, text_name) = match name {
        "payload" => ("payload_b64".to_owned(), "payload_text".to_owned()),
        "body" => ("body_b64".to_owned(), "body_text".to_owned()),
        other => (format!("{other}_b64"), format!("{other}_text")),
    };
    fields.insert(b64_name, Value::String(b64(bytes)));
    if let Ok(text) = simdutf8::basic::from_utf8(bytes) {
        fields.insert(text_name, Value::String(text.to_owned()));
    }
}

/// A short readable rendering of a JSON value for summaries (strings unquoted).
pub(crate) fn brief(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => {
            let mut s = other.to_string();
            if s.len() > PIECE_CHARS * 4 {
                let cut = (0..=PIECE_CHARS * 4)
                    .rev()
                    .find(|&i| s.is_char_boundary(i))
                    .unwrap_or(0);
                s.truncate(cut);
            }
            s
        }
    }
}

/// A byte count as `96B`, `68.4KiB`.
pub(crate) fn size(n: usize) -> String {
    if n < 10 * 1024 {
        format!("{n}B")
    } else if n < 10 << 20 {
        format!("{:.1}KiB", n as f64 / 1024.0)
    } else {
        format!("{:.1}MiB", n as f64 / (1 << 20) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_long_pieces_cut() {
        let mut l = Line::new("SEND");
        l.piece("a\nb");
        assert_eq!(l.finish(), "SEND a\\u{a}b");
        let long = "x".repeat(200);
        let mut l = Line::new("T");
        l.piece(&long);
        let s = l.finish();
        assert_eq!(s.chars().count(), 2 + PIECE_CHARS);
        assert!(s.ends_with("x…"));
        let exact = "y".repeat(PIECE_CHARS);
        assert_eq!(Line::new(&exact).finish(), exact);
    }

    #[test]
    fn sizes() {
        assert_eq!(size(96), "96B");
        assert_eq!(size(70_000), "68.4KiB");
    }
}
