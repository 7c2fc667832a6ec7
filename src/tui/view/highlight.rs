//! Filter matches marked in what the panes show: the text and regex terms of the current
//! filter ([`Filter::search_patterns`]) found again in the shown text, and those characters
//! drawn in [`match_style`].

use std::ops::Range;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use regex::bytes::Regex;

use super::super::model::{Row, RowKind};
use crate::event::Opcode;
use crate::filter::Filter;

/// Black on yellow: distinct from every colour the panes use for text.
pub fn match_style() -> Style {
    Style::new()
        .fg(Color::Black)
        .bg(Color::Yellow)
        .add_modifier(Modifier::BOLD)
}

/// The current filter's search patterns.
#[derive(Clone, Debug, Default)]
pub struct Highlighter {
    patterns: Vec<Regex>,
}

impl Highlighter {
    pub fn new(filter: &Filter) -> Highlighter {
        Highlighter {
            patterns: filter.search_patterns(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Byte ranges of `text` that some pattern matches, sorted and merged, on character
    /// boundaries. Empty matches (`re:x*`) mark nothing.
    pub fn ranges(&self, text: &str) -> Vec<Range<usize>> {
        let mut found: Vec<Range<usize>> = Vec::new();
        for re in &self.patterns {
            for m in re.find_iter(text.as_bytes()) {
                let (start, end) = (floor(text, m.start()), ceil(text, m.end()));
                if start < end {
                    found.push(start..end);
                }
            }
        }
        found.sort_by_key(|r| (r.start, r.end));
        let mut merged: Vec<Range<usize>> = Vec::with_capacity(found.len());
        for r in found {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        merged
    }

    /// `line` with the matches in its text (across span boundaries) restyled; other
    /// characters keep their span's style.
    pub fn line(&self, line: Line<'static>) -> Line<'static> {
        if self.is_empty() {
            return line;
        }
        let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        let ranges = self.ranges(&text);
        if ranges.is_empty() {
            return line;
        }
        let Line {
            spans,
            style,
            alignment,
        } = line;
        let mut out = Vec::with_capacity(spans.len() + 2 * ranges.len());
        let mut at = 0;
        for span in spans {
            let len = span.content.len();
            split_span(&span, at, &ranges, &mut out);
            at += len;
        }
        Line {
            spans: out,
            style,
            alignment,
        }
    }

    /// A message list row with the matches in its preview marked: a text message's or an
    /// anomaly's (a binary preview is hex pairs, not the payload's characters).
    pub fn row(&self, row: &Row, line: Line<'static>) -> Line<'static> {
        match &row.kind {
            RowKind::Message(m) if m.opcode == Opcode::Binary || !m.utf8_valid => line,
            _ => self.last_span(line),
        }
    }

    /// Only the last span of `line` searched and restyled: the message list's preview (its
    /// time, direction and sizes are not payload).
    pub fn last_span(&self, mut line: Line<'static>) -> Line<'static> {
        if self.is_empty() {
            return line;
        }
        let Some(last) = line.spans.pop() else {
            return line;
        };
        let ranges = self.ranges(&last.content);
        split_span(&last, 0, &ranges, &mut line.spans);
        line
    }
}

/// Pushes `span` (whose text starts at byte `at` of the searched text) cut at the match
/// boundaries, the matched pieces in [`match_style`] patched over the span's style.
fn split_span(
    span: &Span<'static>,
    at: usize,
    ranges: &[Range<usize>],
    out: &mut Vec<Span<'static>>,
) {
    let text = span.content.as_ref();
    let end = at + text.len();
    let mut pos = at;
    for r in ranges.iter().filter(|r| r.end > at && r.start < end) {
        let (s, e) = (r.start.max(at), r.end.min(end));
        if s > pos {
            out.push(Span::styled(piece(text, pos - at, s - at), span.style));
        }
        out.push(Span::styled(
            piece(text, s - at, e - at),
            span.style.patch(match_style()),
        ));
        pos = e;
    }
    if pos < end || text.is_empty() {
        out.push(Span::styled(piece(text, pos - at, end - at), span.style));
    }
}

fn piece(text: &str, from: usize, to: usize) -> String {
    text.get(from..to).unwrap_or_default().to_string()
}

fn floor(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil(text: &str, mut i: usize) -> usize {
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hl(src: &str) -> Highlighter {
        Highlighter::new(&Filter::parse(src).unwrap())
    }

    /// The line's text with matched pieces in brackets.
    fn marked(line: &Line<'_>) -> String {
        line.spans
            .iter()
            .map(|s| {
                if s.style.bg == Some(Color::Yellow) {
                    format!("[{}]", s.content)
                } else {
                    s.content.to_string()
                }
            })
            .collect()
    }

    #[test]
    fn ranges_merge_and_fold_case() {
        assert_eq!(hl("lo").ranges("Hello LOW"), [3..5, 6..8]);
        assert_eq!(hl("ell or re:l+o").ranges("hello"), vec![1..5]);
        assert_eq!(hl("re:x*").ranges("abc"), Vec::<Range<usize>>::new());
        assert_eq!(hl("!hello").ranges("hello"), Vec::<Range<usize>>::new());
        assert_eq!(hl("é").ranges("café É"), [3..5, 6..8]);
    }

    #[test]
    fn matches_across_spans_keep_each_spans_style() {
        let red = Style::new().fg(Color::Red);
        let line = Line::from(vec![Span::raw("\"ro"), Span::styled("om\": 1", red)]);
        let out = hl("room").line(line);
        assert_eq!(marked(&out), "\"[ro][om]\": 1");
        assert_eq!(out.spans[2].style, red.patch(match_style()));
        assert_eq!(out.spans[3].style, red);
    }

    #[test]
    fn only_the_last_span_of_a_list_row() {
        let line = Line::from(vec![Span::raw("17 "), Span::raw("17 apples")]);
        assert_eq!(marked(&hl("17").last_span(line)), "17 [17] apples");
        let plain = Line::from(vec![Span::raw("a"), Span::raw("b")]);
        assert_eq!(marked(&hl("").last_span(plain)), "ab");
    }
}
