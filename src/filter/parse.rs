//! Tokens → expression: precedence `not` > `and` > `or`; terms side by side are joined with
//! `and`; parentheses group.
//!
//! ```text
//! expr    := and ( ("or" | "||") and )*
//! and     := unary ( ("and" | "&&")? unary )*
//! unary   := ("not" | "!") unary | primary
//! primary := "(" expr ")" | word | "quoted text" | /regex/
//! ```

use super::FilterError;
use super::expr::{Expr, Term};
use super::lex::{Tok, Token};
use super::terms::{self, Arg, TermDef, TermError, regex_term, text_term};
use super::value::Cmp;

/// Nesting of parentheses and `not`s: deeper filters are refused rather than risking the
/// stack (in parsing and in evaluation, which recurse as deep).
pub const MAX_DEPTH: usize = 64;
/// `conn:` terms in one filter: each splits the connection numbers in at most two more
/// classes, and a worker that does not know the final numbers evaluates the filter once per
/// class (see the `classes` module), at most 64.
pub const MAX_CONN_TERMS: usize = 31;

/// The expression of `tokens` (`None` when there are none: the filter that keeps
/// everything). `end_col` is the column just past the end, for errors there.
pub fn parse(tokens: &[Token], end_col: usize) -> Result<Option<Expr>, FilterError> {
    if tokens.is_empty() {
        return Ok(None);
    }
    let mut p = Parser {
        toks: tokens,
        pos: 0,
        end_col,
        depth: 0,
        conn_terms: 0,
    };
    let expr = p.or()?;
    match p.peek() {
        None => Ok(Some(expr)),
        Some(t) => {
            // `or()` stops only at the end or at a `)` (anything else continues an `and`).
            debug_assert!(t.tok == Tok::RParen, "parser stopped at {t:?}");
            Err(FilterError::at(
                t.col,
                "unbalanced ')': no '(' before it to close",
            ))
        }
    }
}

struct Parser<'t> {
    toks: &'t [Token],
    pos: usize,
    end_col: usize,
    depth: usize,
    conn_terms: usize,
}

impl<'t> Parser<'t> {
    fn peek(&self) -> Option<&'t Token> {
        self.toks.get(self.pos)
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut items = vec![self.and()?];
        while self.peek().is_some_and(|t| t.tok == Tok::Or) {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(flatten(items, Expr::Or))
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut items = vec![self.unary()?];
        loop {
            match self.peek().map(|t| &t.tok) {
                None | Some(Tok::Or | Tok::RParen) => break,
                Some(Tok::And) => {
                    self.pos += 1;
                    items.push(self.unary()?);
                }
                // Side by side: `and`.
                Some(_) => items.push(self.unary()?),
            }
        }
        Ok(flatten(items, Expr::And))
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        let Some(t) = self.peek() else {
            return Err(self.expected_term());
        };
        if t.tok != Tok::Not {
            return self.primary();
        }
        let col = t.col;
        self.deeper(col)?;
        self.pos += 1;
        let inner = self.unary()?;
        self.depth -= 1;
        Ok(Expr::Not(Box::new(inner)))
    }

    fn primary(&mut self) -> Result<Expr, FilterError> {
        let Some(t) = self.peek() else {
            return Err(self.expected_term());
        };
        let term = match &t.tok {
            Tok::LParen => {
                let col = t.col;
                self.deeper(col)?;
                self.pos += 1;
                let inner = self.or()?;
                if self.peek().is_none_or(|t| t.tok != Tok::RParen) {
                    return Err(FilterError::at(
                        col,
                        "unbalanced '(': expected a ')' to close it before the end",
                    ));
                }
                self.pos += 1;
                self.depth -= 1;
                return Ok(inner);
            }
            Tok::Word { text, quoted } => word_term(text, quoted.as_deref(), t.col)?,
            Tok::Quoted(text) => text_term(text).map_err(|e| FilterError::at(t.col, e.msg))?,
            Tok::Slashed(re) => regex_term(re).map_err(|e| FilterError::at(t.col, e.msg))?,
            Tok::RParen | Tok::And | Tok::Or | Tok::Not => return Err(self.expected_term()),
        };
        if term.conn_ids.is_some() {
            self.conn_terms += 1;
            if self.conn_terms > MAX_CONN_TERMS {
                return Err(FilterError::at(
                    t.col,
                    format!(
                        "too many conn: terms (at most {MAX_CONN_TERMS}): use ranges, e.g. conn:3-7"
                    ),
                ));
            }
        }
        self.pos += 1;
        Ok(Expr::Term(term))
    }

    fn deeper(&mut self, col: usize) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(FilterError::at(
                col,
                format!("nested too deep (more than {MAX_DEPTH} parentheses and nots)"),
            ));
        }
        Ok(())
    }

    /// A term was expected where the next token (or the end) is.
    fn expected_term(&self) -> FilterError {
        let (col, found) = match self.peek() {
            Some(t) => (t.col, format!("'{}'", t.raw)),
            None => (self.end_col, "the end".to_string()),
        };
        let after = match self.pos.checked_sub(1).and_then(|p| self.toks.get(p)) {
            Some(prev) => format!(" after '{}'", prev.raw),
            None => String::new(),
        };
        FilterError::at(
            col,
            format!(
                "expected a term{after}, found {found} (a term: text, \"quoted text\", /regex/ or e.g. port:443)"
            ),
        )
    }
}

fn flatten(mut items: Vec<Expr>, join: fn(Vec<Expr>) -> Expr) -> Expr {
    match items.pop() {
        Some(only) if items.is_empty() => only,
        Some(last) => {
            items.push(last);
            join(items)
        }
        None => join(items),
    }
}

/// A bare word: a named term, or text when it cannot be mistaken for one (see the module
/// docs of [`crate::filter`] for the rule).
fn word_term(text: &str, quoted: Option<&str>, col: usize) -> Result<Term, FilterError> {
    // `name:value` (IPv6 values hold colons too: only the first one separates).
    if let Some((name, rest)) = text.split_once(':') {
        let value_col = col + name.chars().count() + 1;
        let Some(def) = terms::find(name) else {
            return Err(FilterError::at(
                col,
                format!(
                    "unknown term '{name}:' (terms: {}); to search for text with a colon, \
                     quote it: \"{text}{}\"",
                    terms::names(),
                    quoted.unwrap_or_default()
                ),
            ));
        };
        let value = match quoted {
            Some(q) => format!("{rest}{q}"),
            None => rest.to_owned(),
        };
        return apply(def, Arg::Value(&value), text, col, value_col);
    }
    // `name OP value`: a name (letters, `_`) right before a comparison operator.
    let ident = text
        .find(|c: char| !(c.is_ascii_alphabetic() || c == '_'))
        .unwrap_or(text.len());
    if let (Some(name), Some(after)) = (text.get(..ident), text.get(ident..))
        && !name.is_empty()
        && let Some((cmp, value)) = Cmp::split(after)
    {
        let value_col = col + text.chars().count() - value.chars().count();
        let Some(def) = terms::find(name) else {
            return Err(FilterError::at(
                col,
                format!(
                    "unknown term '{name}' in a comparison (terms: {}); to search for this \
                     text, quote it: \"{text}\"",
                    terms::names()
                ),
            ));
        };
        return apply(def, Arg::Compare(cmp, value), text, col, value_col);
    }
    if let Some(def) = terms::find(text) {
        return apply(def, Arg::Bare, text, col, col);
    }
    // `port8765`: a term name run into a number is a typo, not text.
    for def in terms::TERMS {
        let Some((head, tail)) = text.split_at_checked(def.name.len()) else {
            continue;
        };
        if head.eq_ignore_ascii_case(def.name) && tail.starts_with(|c: char| c.is_ascii_digit()) {
            let sep = terms::separator(def).map_or(':', |c| if c == ':' { c } else { '=' });
            return Err(FilterError::at(
                col,
                format!(
                    "unknown term '{text}': did you mean {}{sep}{tail}? (to search for the \
                     text, quote it: \"{text}\")",
                    def.name
                ),
            ));
        }
    }
    if text == "&" || text == "|" {
        return Err(FilterError::at(
            col,
            format!(
                "'{text}' is not an operator: write {} (to search for the character, quote it: \"{text}\")",
                if text == "&" {
                    "'and' or '&&'"
                } else {
                    "'or' or '||'"
                }
            ),
        ));
    }
    text_term(text).map_err(|e| FilterError::at(col, e.msg))
}

fn apply(
    def: &TermDef,
    arg: Arg<'_>,
    text: &str,
    col: usize,
    value_col: usize,
) -> Result<Term, FilterError> {
    (def.parse)(arg).map_err(|TermError { msg, at_value }| {
        if at_value {
            FilterError::at(value_col, format!("{}: {msg}", def.name))
        } else if arg == Arg::Bare {
            FilterError::at(
                col,
                format!("{msg} (to search for the word, quote it: \"{text}\")"),
            )
        } else {
            FilterError::at(col, format!("{text}: {msg}"))
        }
    })
}
