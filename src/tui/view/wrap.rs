//! Wrapping at word boundaries: a line too long for its pane breaks after the last space
//! that fits; a word longer than a whole line is cut where the line ends.

use std::ops::Range;

use ratatui::text::{Line, Span};

/// Character ranges of `text`'s pieces: the first at most `first` characters, the others at
/// most `rest`. The space a line breaks at is dropped; spaces that indent the text (JSON,
/// code) are kept and never taken for a break.
pub fn pieces(text: &str, first: usize, rest: usize) -> Vec<Range<usize>> {
    let chars: Vec<char> = text.chars().collect();
    let indent = chars.iter().take_while(|c| **c == ' ').count();
    let mut out = Vec::new();
    let mut start = 0;
    let mut room = first.max(1);
    loop {
        if chars.len() - start <= room {
            out.push(start..chars.len());
            return out;
        }
        // The last space at or before the cut, past the indent and not at the line's start.
        let cut = start + room;
        let space = (start.max(indent) + 1..=cut)
            .rev()
            .find(|&i| chars.get(i) == Some(&' '));
        match space {
            Some(at) => {
                out.push(start..at);
                start = at + 1;
            }
            None => {
                out.push(start..cut);
                start = cut;
            }
        }
        room = rest.max(1);
    }
}

/// Wraps `lines` to `width` characters at word boundaries, keeping span styles.
pub fn lines(lines: Vec<Line<'static>>, width: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        if text.chars().count() <= width {
            out.push(line);
            continue;
        }
        // Each character's span, to cut the spans where the text is cut.
        let mut owner = Vec::with_capacity(text.len());
        for (i, s) in line.spans.iter().enumerate() {
            owner.extend(std::iter::repeat_n(i, s.content.chars().count()));
        }
        let chars: Vec<char> = text.chars().collect();
        for piece in pieces(&text, width, width) {
            let mut spans: Vec<Span<'static>> = Vec::new();
            let mut cur: Option<(usize, String)> = None;
            for i in piece {
                let (Some(&o), Some(&c)) = (owner.get(i), chars.get(i)) else {
                    continue;
                };
                match &mut cur {
                    Some((k, s)) if *k == o => s.push(c),
                    _ => {
                        if let Some((k, s)) = cur.take() {
                            spans.push(styled(&line, k, s));
                        }
                        cur = Some((o, c.to_string()));
                    }
                }
            }
            if let Some((k, s)) = cur {
                spans.push(styled(&line, k, s));
            }
            out.push(Line::from(spans).style(line.style));
        }
    }
    out
}

fn styled(line: &Line<'static>, span: usize, text: String) -> Span<'static> {
    let style = line.spans.get(span).map(|s| s.style).unwrap_or_default();
    Span::styled(text, style)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::{Color, Style};

    fn cut(text: &str, first: usize, rest: usize) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        pieces(text, first, rest)
            .into_iter()
            .map(|r| chars[r].iter().collect())
            .collect()
    }

    #[test]
    fn breaks_after_the_last_space_that_fits() {
        assert_eq!(cut("hello big world", 9, 9), ["hello big", "world"]);
        assert_eq!(cut("hello big world", 10, 10), ["hello big", "world"]);
        assert_eq!(cut("hello big world", 8, 8), ["hello", "big", "world"]);
        assert_eq!(cut("short", 9, 9), ["short"]);
        assert_eq!(cut("", 9, 9), [""]);
    }

    #[test]
    fn long_words_are_cut_where_the_line_ends() {
        assert_eq!(cut("abcdefghij kl", 4, 4), ["abcd", "efgh", "ij", "kl"]);
        assert_eq!(
            cut("a=1; client_max_window_bits=12", 12, 8),
            ["a=1;", "client_m", "ax_windo", "w_bits=1", "2"]
        );
    }

    #[test]
    fn an_indent_is_not_a_break() {
        assert_eq!(cut("    \"key\": 1", 8, 8), ["    \"key", "\": 1"]);
        assert_eq!(cut("    ab cd", 6, 6), ["    ab", "cd"]);
    }

    #[test]
    fn spans_keep_their_styles_across_breaks() {
        let red = Style::new().fg(Color::Red);
        let line = Line::from(vec![Span::raw("one tw"), Span::styled("o three", red)]);
        let out = lines(vec![line], 7);
        let text: Vec<String> = out.iter().map(|l| l.to_string()).collect();
        assert_eq!(text, ["one two", "three"]);
        assert_eq!(out[0].spans[1].content, "o");
        assert_eq!(out[0].spans[1].style, red);
        assert_eq!(out[1].spans[0].style, red);
    }
}

/// `line` cut to `width` characters, the cut marked with `…`, span styles kept: for table
/// rows, which read wrong when wrapped.
pub fn truncate(line: Line<'static>, width: usize) -> Line<'static> {
    let total: usize = line.spans.iter().map(|s| s.content.chars().count()).sum();
    if total <= width {
        return line;
    }
    let Line {
        spans,
        style,
        alignment,
    } = line;
    let mut room = width.saturating_sub(1);
    let mut out = Vec::with_capacity(spans.len());
    let mut last_style = spans.first().map(|s| s.style).unwrap_or_default();
    for span in spans {
        if room == 0 {
            break;
        }
        let n = span.content.chars().count();
        last_style = span.style;
        if n <= room {
            room -= n;
            out.push(span);
        } else {
            out.push(Span::styled(
                span.content.chars().take(room).collect::<String>(),
                span.style,
            ));
            room = 0;
        }
    }
    if width > 0 {
        out.push(Span::styled("…", last_style));
    }
    Line {
        spans: out,
        style,
        alignment,
    }
}

#[cfg(test)]
mod truncate_tests {
    use super::*;
    use ratatui::style::{Color, Style};

    #[test]
    fn rows_are_cut_with_a_mark_never_wrapped() {
        let red = Style::new().fg(Color::Red);
        let row = Line::from(vec![
            Span::raw(" 1  1   000  "),
            Span::styled("text (1)", red),
        ]);
        let cut = truncate(row.clone(), 16);
        assert_eq!(cut.to_string(), " 1  1   000  te…");
        assert_eq!(cut.spans[1].style, red);
        assert_eq!(cut.spans[2].style, red);
        assert_eq!(truncate(row.clone(), 21), row);
        assert_eq!(truncate(row, 1).to_string(), "…");
    }
}
