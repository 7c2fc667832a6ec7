//! JSON pretty-printing with colours, in the document's own key order (a re-serialised
//! `serde_json::Value` would sort keys, which hides what the application actually sent).

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

const INDENT: &str = "  ";

fn key_style() -> Style {
    Style::new().fg(Color::Cyan)
}
fn string_style() -> Style {
    Style::new().fg(Color::Green)
}
fn number_style() -> Style {
    Style::new().fg(Color::Yellow)
}
fn literal_style() -> Style {
    Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD)
}
fn punct_style() -> Style {
    Style::new().fg(Color::DarkGray)
}

/// Pretty lines when `text` is a JSON object or array, `None` otherwise.
pub fn pretty(text: &str) -> Option<Vec<Line<'static>>> {
    let trimmed = text.trim_start();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return None;
    }
    serde_json::from_str::<serde_json::Value>(text).ok()?;
    Some(Printer::default().run(text))
}

/// The payload is a JSON object or array (what [`pretty`] would print).
pub fn pretty_ok(bytes: &[u8]) -> bool {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    matches!(start.and_then(|i| bytes.get(i)), Some(b'{' | b'['))
        && serde_json::from_slice::<serde_json::Value>(bytes).is_ok()
}

#[derive(Default)]
struct Printer {
    lines: Vec<Line<'static>>,
    cur: Vec<Span<'static>>,
    depth: usize,
}

impl Printer {
    fn newline(&mut self) {
        let spans = std::mem::take(&mut self.cur);
        self.lines.push(Line::from(spans));
        if self.depth > 0 {
            self.cur.push(Span::raw(INDENT.repeat(self.depth)));
        }
    }

    fn push(&mut self, s: impl Into<String>, style: Style) {
        self.cur.push(Span::styled(s.into(), style));
    }

    fn run(mut self, text: &str) -> Vec<Line<'static>> {
        let b = text.as_bytes();
        let mut i = 0;
        while let Some(&c) = b.get(i) {
            match c {
                b'{' | b'[' => {
                    let close = if c == b'{' { b'}' } else { b']' };
                    let next = skip_ws(b, i + 1);
                    if b.get(next) == Some(&close) {
                        self.push(if c == b'{' { "{}" } else { "[]" }, punct_style());
                        i = next + 1;
                        continue;
                    }
                    self.push((c as char).to_string(), punct_style());
                    self.depth += 1;
                    self.newline();
                    i += 1;
                }
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if let Some(last) = self.cur.last()
                        && last.content.trim().is_empty()
                    {
                        self.cur.pop();
                    }
                    let spans = std::mem::take(&mut self.cur);
                    if !spans.is_empty() {
                        self.lines.push(Line::from(spans));
                    }
                    if self.depth > 0 {
                        self.cur.push(Span::raw(INDENT.repeat(self.depth)));
                    }
                    self.push((c as char).to_string(), punct_style());
                    i += 1;
                }
                b',' => {
                    self.push(",", punct_style());
                    self.newline();
                    i += 1;
                }
                b':' => {
                    self.push(": ", punct_style());
                    i += 1;
                }
                b'"' => {
                    let end = string_end(b, i + 1);
                    let s = text.get(i..end).unwrap_or("").to_string();
                    let is_key = b.get(skip_ws(b, end)) == Some(&b':');
                    self.push(s, if is_key { key_style() } else { string_style() });
                    i = end;
                }
                c if c.is_ascii_whitespace() => i += 1,
                _ => {
                    let end = b
                        .iter()
                        .skip(i)
                        .position(|&c| {
                            matches!(c, b',' | b'}' | b']' | b':') || c.is_ascii_whitespace()
                        })
                        .map_or(b.len(), |p| i + p);
                    let s = text.get(i..end).unwrap_or("").to_string();
                    let style = if matches!(c, b't' | b'f' | b'n') {
                        literal_style()
                    } else {
                        number_style()
                    };
                    self.push(s, style);
                    i = end.max(i + 1);
                }
            }
        }
        if !self.cur.is_empty() {
            let spans = std::mem::take(&mut self.cur);
            self.lines.push(Line::from(spans));
        }
        self.lines
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// Index just past the closing quote of a string whose content starts at `i`.
fn string_end(b: &[u8], mut i: usize) -> usize {
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(lines: &[Line<'_>]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn keeps_key_order_and_indents() {
        let lines = pretty(r#"{"z":1,"a":[true,null,"x\"y"],"e":{},"n":{"k":-2.5e3}}"#).unwrap();
        assert_eq!(
            plain(&lines),
            vec![
                "{",
                r#"  "z": 1,"#,
                r#"  "a": ["#,
                "    true,",
                "    null,",
                r#"    "x\"y""#,
                "  ],",
                r#"  "e": {},"#,
                r#"  "n": {"#,
                r#"    "k": -2.5e3"#,
                "  }",
                "}",
            ]
        );
        assert_eq!(lines[1].spans[1].style, key_style());
        assert_eq!(lines[1].spans[3].style, number_style());
        assert_eq!(lines[3].spans[1].style, literal_style());
    }

    #[test]
    fn not_json() {
        assert!(pretty("hello").is_none());
        assert!(pretty("{broken").is_none());
        assert!(pretty("42").is_none());
        assert_eq!(plain(&pretty(" [ ] ").unwrap()), vec!["[]"]);
    }
}
