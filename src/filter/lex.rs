//! Splitting a filter into tokens, each with the column it starts at.
//!
//! A word runs to the next space, to a `)` it did not open itself, or to `&&`/`||`: so
//! `(re:(a|b)c)` is `(`, `re:(a|b)c`, `)`. `"quoted text"` and `/regex/` run to their closing
//! delimiter (`\"`, `\/` inside them stand for the delimiter) and must be followed by a space,
//! a `)`, an operator or the end. `name:"value"` quotes a term's value.

use super::FilterError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    LParen,
    RParen,
    /// `not` or `!`.
    Not,
    /// `and` or `&&`.
    And,
    /// `or` or `||`.
    Or,
    /// A bare word (a term or text); `quoted` is the value of `name:"value"`, the word itself
    /// then ending with the `:`.
    Word {
        text: String,
        quoted: Option<String>,
    },
    /// `"quoted text"`.
    Quoted(String),
    /// `/regex/`.
    Slashed(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub tok: Tok,
    /// 1-based column (in characters) of its first character.
    pub col: usize,
    /// As typed, for error messages.
    pub raw: String,
}

pub fn tokenize(src: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = src.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(c) = at(i) {
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let tok = match (c, at(i + 1)) {
            ('(', _) => {
                i += 1;
                Tok::LParen
            }
            (')', _) => {
                i += 1;
                Tok::RParen
            }
            ('!', next) if next != Some('=') => {
                i += 1;
                Tok::Not
            }
            ('&', Some('&')) => {
                i += 2;
                Tok::And
            }
            ('|', Some('|')) => {
                i += 2;
                Tok::Or
            }
            ('"', _) => {
                let (text, end) = delimited(&chars, i)?;
                i = end;
                Tok::Quoted(text)
            }
            ('/', _) => {
                let (text, end) = delimited(&chars, i)?;
                i = end;
                Tok::Slashed(text)
            }
            _ => {
                let (tok, end) = word(&chars, i)?;
                i = end;
                tok
            }
        };
        if matches!(tok, Tok::Quoted(_) | Tok::Slashed(_) | Tok::Word { .. }) {
            boundary(&chars, start, i)?;
        }
        out.push(Token {
            tok,
            col: start + 1,
            raw: chars.get(start..i).unwrap_or_default().iter().collect(),
        });
    }
    Ok(out)
}

/// A word from `start`: its token and where it ends.
fn word(chars: &[char], start: usize) -> Result<(Tok, usize), FilterError> {
    let at = |i: usize| chars.get(i).copied();
    let mut depth = 0usize;
    let mut i = start;
    while let Some(c) = at(i) {
        let next = at(i + 1);
        if c.is_whitespace()
            || (depth == 0 && (c == ')' || (c == '&' && next == Some('&'))))
            || (depth == 0 && c == '|' && next == Some('|'))
        {
            break;
        }
        if c == '"' && i > start && at(i - 1) == Some(':') {
            let text = chars.get(start..i).unwrap_or_default().iter().collect();
            let (value, end) = delimited(chars, i)?;
            return Ok((
                Tok::Word {
                    text,
                    quoted: Some(value),
                },
                end,
            ));
        }
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    let text: String = chars.get(start..i).unwrap_or_default().iter().collect();
    let tok = match text.to_ascii_lowercase().as_str() {
        "and" => Tok::And,
        "or" => Tok::Or,
        "not" => Tok::Not,
        _ => Tok::Word { text, quoted: None },
    };
    Ok((tok, i))
}

/// The text between the delimiter at `open` and its closing twin (a backslash before the
/// delimiter makes it part of the text), and the index after the closing one.
fn delimited(chars: &[char], open: usize) -> Result<(String, usize), FilterError> {
    let Some(&d) = chars.get(open) else {
        debug_assert!(false, "delimited() called past the end");
        return Err(FilterError::at(open + 1, "unexpected end"));
    };
    let mut text = String::new();
    let mut i = open + 1;
    while let Some(&c) = chars.get(i) {
        match (c, chars.get(i + 1)) {
            ('\\', Some(&n)) if n == d => {
                text.push(d);
                i += 2;
            }
            (c, _) if c == d => return Ok((text, i + 1)),
            (c, _) => {
                text.push(c);
                i += 1;
            }
        }
    }
    let msg = if d == '"' {
        "unclosed quote: expected a closing \" before the end"
    } else {
        "unclosed /regex/: expected a closing / before the end (to search for text \
         starting with a slash, quote it: \"/chat\")"
    };
    Err(FilterError::at(open + 1, msg))
}

/// After a word, quoted text or regex: a space, `)`, `&&`, `||` or the end.
fn boundary(chars: &[char], start: usize, end: usize) -> Result<(), FilterError> {
    match chars.get(end) {
        None | Some(')') => Ok(()),
        Some(c) if c.is_whitespace() => Ok(()),
        Some('&') if chars.get(end + 1) == Some(&'&') => Ok(()),
        Some('|') if chars.get(end + 1) == Some(&'|') => Ok(()),
        Some(_) => {
            let token: String = chars.get(start..end).unwrap_or_default().iter().collect();
            Err(FilterError::at(
                end + 1,
                format!(
                    "expected a space, ')' or the end after {token} (to search for text \
                     containing quotes or slashes, put it in quotes and write \\\" for a quote)"
                ),
            ))
        }
    }
}
