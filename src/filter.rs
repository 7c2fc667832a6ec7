//! The filter language shared by the TUI's `/` line and `wsnoop read --filter`.
//!
//! A filter is terms separated by spaces, all of which must hold (AND); `!term` negates one.
//! - plain text (or `"quoted text"`): case-insensitive substring of the payload;
//! - `re:REGEX` or `/REGEX/`: a regular expression over the payload bytes;
//! - `dir:c2s`, `dir:s2c`; `op:text|binary|ping|pong|close|continuation|reserved`;
//! - `len>N`, `len<N`, `len=N`, `len>=N`, `len<=N` (payload bytes; K/M/G suffixes);
//! - `conn:N`; `anomaly` or `anomaly:KIND` (e.g. `anomaly:tcp_gap`).
//!
//! Messages are what a filter selects; anomalies only when it asks for them with a positive
//! `anomaly` term (their text is the kind and the detail sentence). The empty filter selects
//! everything.

use std::fmt;

use regex::bytes::{Regex, RegexBuilder};

use crate::event::{AnomalyKind, ConnId, Dir, Event, EventKind, Opcode};

/// Compiled-program ceiling for a user's regex: a hostile pattern fails to parse instead of
/// taking memory.
const REGEX_SIZE_LIMIT: usize = 4 << 20;

/// What a filter is evaluated on: one message or one anomaly, flattened.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    pub conn: Option<ConnId>,
    pub dir: Option<Dir>,
    pub item: Item<'a>,
}

#[derive(Clone, Copy, Debug)]
pub enum Item<'a> {
    Message {
        opcode: Opcode,
        /// Payload length (the whole message, even when `payload` holds only a prefix).
        len: u64,
        payload: &'a [u8],
    },
    Anomaly {
        kind: AnomalyKind,
        detail: &'a str,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmp {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
}

#[derive(Clone, Debug)]
enum Term {
    /// Plain text, compiled as a case-insensitive escaped literal (fast, Unicode-aware).
    Text(Regex),
    Regex(Regex),
    Dir(Dir),
    Op(OpMatch),
    Len(Cmp, u64),
    Conn(ConnId),
    Anomaly(Option<AnomalyKind>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OpMatch {
    Exact(Opcode),
    AnyReserved,
}

/// A parsed filter.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    terms: Vec<(bool, Term)>,
    source: String,
}

/// Why a filter did not parse: one line naming the term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError(pub String);

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FilterError {}

impl Filter {
    /// Parses a filter expression; the empty string is the filter that keeps everything.
    pub fn parse(src: &str) -> Result<Filter, FilterError> {
        let mut terms = Vec::new();
        for token in tokenize(src)? {
            let term = match token.form {
                Form::Quoted => text_term(&token.text)?,
                Form::Slashed => regex_term(&token.text)?,
                Form::Plain if token.text.is_empty() => {
                    return Err(FilterError(
                        "'!' must be followed by a term, e.g. !op:ping".into(),
                    ));
                }
                Form::Plain => parse_term(&token.text)?,
            };
            terms.push((token.negated, term));
        }
        Ok(Filter {
            terms,
            source: src.trim().to_string(),
        })
    }

    /// The filter as typed (trimmed).
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// True when the filter asks for anomalies (a positive `anomaly` term).
    pub fn wants_anomalies(&self) -> bool {
        self.terms
            .iter()
            .any(|(neg, t)| !neg && matches!(t, Term::Anomaly(_)))
    }

    pub fn matches(&self, s: &Subject<'_>) -> bool {
        if matches!(s.item, Item::Anomaly { .. }) && !self.is_empty() && !self.wants_anomalies() {
            return false;
        }
        self.terms.iter().all(|(neg, t)| term_holds(t, s) != *neg)
    }

    /// For `read --filter`: messages and anomalies as [`Filter::matches`]; `open` and `end`
    /// events are kept when the filter's `conn:` terms accept their connection.
    pub fn matches_event(&self, ev: &Event) -> bool {
        let conn = ev.conn.map(|c| c.id);
        let subject = match &ev.kind {
            EventKind::Message { dir, msg } => Subject {
                conn,
                dir: Some(*dir),
                item: Item::Message {
                    opcode: msg.opcode,
                    len: msg.payload.len() as u64,
                    payload: &msg.payload,
                },
            },
            EventKind::Anomaly { dir, anomaly } => Subject {
                conn,
                dir: *dir,
                item: Item::Anomaly {
                    kind: anomaly.kind,
                    detail: &anomaly.detail,
                },
            },
            EventKind::Open(_) | EventKind::End { .. } => return self.accepts_conn(conn),
            EventKind::Proto(_) => return self.is_empty(),
        };
        self.matches(&subject)
    }

    /// Whether the `conn:` terms alone accept this connection.
    fn accepts_conn(&self, conn: Option<ConnId>) -> bool {
        self.terms.iter().all(|(neg, t)| match t {
            Term::Conn(id) => (conn == Some(*id)) != *neg,
            _ => true,
        })
    }
}

fn term_holds(t: &Term, s: &Subject<'_>) -> bool {
    match (t, &s.item) {
        (Term::Text(re) | Term::Regex(re), Item::Message { payload, .. }) => re.is_match(payload),
        (Term::Text(re) | Term::Regex(re), Item::Anomaly { kind, detail }) => {
            re.is_match(kind.as_str().as_bytes()) || re.is_match(detail.as_bytes())
        }
        (Term::Dir(d), _) => s.dir == Some(*d),
        (Term::Conn(id), _) => s.conn == Some(*id),
        (Term::Op(OpMatch::Exact(op)), Item::Message { opcode, .. }) => opcode == op,
        (Term::Op(OpMatch::AnyReserved), Item::Message { opcode, .. }) => {
            matches!(opcode, Opcode::Reserved(_))
        }
        (Term::Len(cmp, n), Item::Message { len, .. }) => match cmp {
            Cmp::Lt => len < n,
            Cmp::Le => len <= n,
            Cmp::Eq => len == n,
            Cmp::Ge => len >= n,
            Cmp::Gt => len > n,
        },
        (Term::Anomaly(want), Item::Anomaly { kind, .. }) => want.is_none_or(|w| w == *kind),
        (Term::Op(_) | Term::Len(..), Item::Anomaly { .. }) => false,
        (Term::Anomaly(_), Item::Message { .. }) => false,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    Plain,
    /// `"quoted text"`: always text, even when it looks like a term.
    Quoted,
    /// `/REGEX/`.
    Slashed,
}

struct Token {
    negated: bool,
    form: Form,
    text: String,
}

/// Splits on spaces, keeping `"quoted text"` and `/regex with spaces/` whole (also after `!`).
fn tokenize(src: &str) -> Result<Vec<Token>, FilterError> {
    let mut out = Vec::new();
    let mut rest = src.trim_start();
    while !rest.is_empty() {
        let (negated, body) = match rest.strip_prefix('!') {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let delim = body.chars().next().filter(|c| *c == '"' || *c == '/');
        let after = match delim {
            Some(d) => {
                let inner = body.get(1..).unwrap_or("");
                let end = find_closing(inner, d).ok_or_else(|| {
                    FilterError(format!("unclosed {d} in filter: add a closing {d}"))
                })?;
                let raw = inner.get(..end).unwrap_or("");
                let (form, text) = if d == '"' {
                    (Form::Quoted, raw.replace("\\\"", "\""))
                } else {
                    (Form::Slashed, raw.replace("\\/", "/"))
                };
                out.push(Token {
                    negated,
                    form,
                    text,
                });
                inner.get(end + 1..).unwrap_or("")
            }
            None => {
                let end = body.find(char::is_whitespace).unwrap_or(body.len());
                out.push(Token {
                    negated,
                    form: Form::Plain,
                    text: body.get(..end).unwrap_or("").to_string(),
                });
                body.get(end..).unwrap_or("")
            }
        };
        rest = after.trim_start();
    }
    Ok(out)
}

/// Byte index of the first `d` not preceded by a backslash.
fn find_closing(s: &str, d: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == d {
            return Some(i);
        }
    }
    None
}

fn parse_term(body: &str) -> Result<Term, FilterError> {
    if let Some(re) = body.strip_prefix("re:") {
        return regex_term(re);
    }
    if let Some(v) = body.strip_prefix("dir:") {
        return match v {
            "c2s" => Ok(Term::Dir(Dir::C2s)),
            "s2c" => Ok(Term::Dir(Dir::S2c)),
            _ => Err(FilterError(format!("dir:{v}: expected dir:c2s or dir:s2c"))),
        };
    }
    if let Some(v) = body.strip_prefix("op:") {
        let op = match v {
            "text" => OpMatch::Exact(Opcode::Text),
            "binary" => OpMatch::Exact(Opcode::Binary),
            "ping" => OpMatch::Exact(Opcode::Ping),
            "pong" => OpMatch::Exact(Opcode::Pong),
            "close" => OpMatch::Exact(Opcode::Close),
            "continuation" => OpMatch::Exact(Opcode::Continuation),
            "reserved" => OpMatch::AnyReserved,
            _ => {
                return Err(FilterError(format!(
                    "op:{v}: expected op:text, binary, ping, pong, close or reserved"
                )));
            }
        };
        return Ok(Term::Op(op));
    }
    if let Some(v) = body.strip_prefix("conn:") {
        return v.parse().map(Term::Conn).map_err(|_| {
            FilterError(format!(
                "conn:{v}: expected a connection number, e.g. conn:3"
            ))
        });
    }
    if let Some(v) = body.strip_prefix("len") {
        let (cmp, n) = if let Some(n) = v.strip_prefix(">=") {
            (Cmp::Ge, n)
        } else if let Some(n) = v.strip_prefix("<=") {
            (Cmp::Le, n)
        } else if let Some(n) = v.strip_prefix('>') {
            (Cmp::Gt, n)
        } else if let Some(n) = v.strip_prefix('<') {
            (Cmp::Lt, n)
        } else if let Some(n) = v.strip_prefix('=') {
            (Cmp::Eq, n)
        } else {
            return text_term(body);
        };
        let n = parse_len(n).ok_or_else(|| {
            FilterError(format!(
                "{body}: expected a byte count, e.g. len>1000 or len<4K"
            ))
        })?;
        return Ok(Term::Len(cmp, n));
    }
    if body == "anomaly" {
        return Ok(Term::Anomaly(None));
    }
    if let Some(v) = body.strip_prefix("anomaly:") {
        return ANOMALY_KINDS
            .iter()
            .find(|k| k.as_str() == v)
            .map(|k| Term::Anomaly(Some(*k)))
            .ok_or_else(|| FilterError(format!("anomaly:{v}: unknown anomaly kind")));
    }
    text_term(body)
}

fn text_term(text: &str) -> Result<Term, FilterError> {
    let re = RegexBuilder::new(&regex::escape(text))
        .case_insensitive(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| FilterError(format!("text '{text}': {}", one_line(&e.to_string()))))?;
    Ok(Term::Text(re))
}

fn regex_term(src: &str) -> Result<Term, FilterError> {
    if src.is_empty() {
        return Err(FilterError(
            "empty regex: write re:PATTERN or /PATTERN/".into(),
        ));
    }
    RegexBuilder::new(src)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map(Term::Regex)
        .map_err(|e| FilterError(format!("regex /{src}/: {}", one_line(&e.to_string()))))
}

/// The regex crate's errors span several lines with a caret diagram; keep the last line,
/// which names the problem.
fn one_line(msg: &str) -> String {
    msg.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(msg)
        .trim()
        .trim_start_matches("error: ")
        .to_string()
}

/// `123`, `4K`, `16M`, `1G` (powers of 1024).
fn parse_len(s: &str) -> Option<u64> {
    let (digits, shift) = match s.chars().last()? {
        'k' | 'K' => (s.get(..s.len() - 1)?, 10),
        'm' | 'M' => (s.get(..s.len() - 1)?, 20),
        'g' | 'G' => (s.get(..s.len() - 1)?, 30),
        _ => (s, 0),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(1 << shift)
}

const ANOMALY_KINDS: [AnomalyKind; 28] = [
    AnomalyKind::BadAccept,
    AnomalyKind::UnmaskedClientFrame,
    AnomalyKind::MaskedServerFrame,
    AnomalyKind::ReservedOpcode,
    AnomalyKind::RsvWithoutExtension,
    AnomalyKind::NonminimalLength,
    AnomalyKind::LengthMsbSet,
    AnomalyKind::ControlTooLong,
    AnomalyKind::FragmentedControl,
    AnomalyKind::ContinuationWithoutStart,
    AnomalyKind::DataInterleavedInFragmentedMessage,
    AnomalyKind::InvalidUtf8,
    AnomalyKind::InvalidClosePayload,
    AnomalyKind::InvalidCloseCode,
    AnomalyKind::DataAfterClose,
    AnomalyKind::DeflateError,
    AnomalyKind::DecompressionLimit,
    AnomalyKind::MessageTooLarge,
    AnomalyKind::IncompleteMessage,
    AnomalyKind::TcpGap,
    AnomalyKind::TcpConflict,
    AnomalyKind::NoHandshake,
    AnomalyKind::TruncatedCapture,
    AnomalyKind::CorruptCapture,
    AnomalyKind::HandshakeTooLarge,
    AnomalyKind::ConnectionLimit,
    AnomalyKind::IpFragmentLimit,
    AnomalyKind::DeflateContextLost,
];

#[cfg(test)]
mod tests;
