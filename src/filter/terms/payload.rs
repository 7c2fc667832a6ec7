//! Terms about the message itself: text, regex, direction, opcode, length, anomalies.

use regex::bytes::{Regex, RegexBuilder};

use super::{Arg, TermError};
use crate::event::{Dir, Opcode};
use crate::filter::expr::Term;
use crate::filter::subject::{Item, Subject};
use crate::filter::value;

/// Compiled-program ceiling for a user's regex: a hostile pattern fails to parse instead of
/// taking memory.
const REGEX_SIZE_LIMIT: usize = 4 << 20;

/// Case-insensitive by default (as plain text is); `(?-i)` in the pattern opts out.
pub fn build_regex(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| one_line(&e.to_string()))
}

/// Plain or quoted text: a case-insensitive substring of the payload (of an anomaly: of its
/// kind or its detail sentence). Compiled as an escaped literal (fast, Unicode-aware folding).
pub fn text_term(text: &str) -> Result<Term, TermError> {
    let re = build_regex(&regex::escape(text))
        .map_err(|e| TermError::value(format!("text '{text}': {e}")))?;
    Ok(matching(re))
}

/// `re:REGEX` or `/REGEX/`: a regular expression over the payload bytes.
pub fn regex_term(pattern: &str) -> Result<Term, TermError> {
    if pattern.is_empty() {
        return Err(TermError::value(
            "empty regex: write re:PATTERN or /PATTERN/",
        ));
    }
    let re =
        build_regex(pattern).map_err(|e| TermError::value(format!("regex /{pattern}/: {e}")))?;
    Ok(matching(re))
}

fn matching(re: Regex) -> Term {
    let pattern = re.clone();
    Term::new(move |s| match s.item {
        Item::Message { payload, .. } => re.is_match(payload),
        Item::Anomaly { kind, detail } => {
            re.is_match(kind.as_str().as_bytes()) || re.is_match(detail.as_bytes())
        }
        Item::Proto { unit, .. } => re.is_match(unit.summary.as_bytes()),
        Item::End { .. } => false,
        Item::Refused => false,
    })
    .searching(pattern)
}

pub fn re(arg: Arg<'_>) -> Result<Term, TermError> {
    match arg {
        Arg::Value(v) => regex_term(v),
        _ => Err(TermError::form("expected re:REGEX, e.g. re:^hello")),
    }
}

pub fn dir(arg: Arg<'_>) -> Result<Term, TermError> {
    let v = arg.value("dir:c2s or dir:s2c")?;
    let want = match v.to_ascii_lowercase().as_str() {
        "c2s" => Dir::C2s,
        "s2c" => Dir::S2c,
        _ => {
            return Err(TermError::value(format!(
                "'{v}' is not a direction: expected dir:c2s or dir:s2c"
            )));
        }
    };
    Ok(Term::new(move |s| s.dir == Some(want)))
}

pub fn op(arg: Arg<'_>) -> Result<Term, TermError> {
    const USAGE: &str = "op:text, binary, ping, pong, close, continuation or reserved";
    let v = arg.value(USAGE)?;
    let want = match v.to_ascii_lowercase().as_str() {
        "text" => Some(Opcode::Text),
        "binary" => Some(Opcode::Binary),
        "ping" => Some(Opcode::Ping),
        "pong" => Some(Opcode::Pong),
        "close" => Some(Opcode::Close),
        "continuation" => Some(Opcode::Continuation),
        // RFC 6455 §5.2: 0x3-0x7 and 0xB-0xF are reserved, matched as one.
        "reserved" => None,
        _ => {
            return Err(TermError::value(format!(
                "'{v}' is not an opcode: expected {USAGE}"
            )));
        }
    };
    Ok(Term::new(move |s| match s.item {
        Item::Message { opcode, .. } => match want {
            Some(w) => opcode == w,
            None => matches!(opcode, Opcode::Reserved(_)),
        },
        Item::Anomaly { .. } | Item::Proto { .. } | Item::End { .. } | Item::Refused => false,
    }))
}

pub fn len(arg: Arg<'_>) -> Result<Term, TermError> {
    let (cmp, v) = arg.compare("len>1000, len<=4K")?;
    let n = value::byte_count(v).ok_or_else(|| {
        TermError::value(format!(
            "'{v}' is not a byte count: expected e.g. len>1000 or len<4K (K, M, G: powers of 1024)"
        ))
    })?;
    Ok(Term::new(move |s| match s.item {
        Item::Message { len, .. } => cmp.holds(len, n),
        Item::Anomaly { .. } | Item::Proto { .. } | Item::End { .. } | Item::Refused => false,
    }))
}

/// `anomaly` or `anomaly:KIND`. Kinds are an open set (each layer defines its own), so a kind
/// is checked for its form only; `KIND*` matches every kind that starts with `KIND`.
pub fn anomaly(arg: Arg<'_>) -> Result<Term, TermError> {
    let want: Option<(String, bool)> = match arg {
        Arg::Bare => None,
        Arg::Value(v) => {
            let (name, prefix) = match v.strip_suffix('*') {
                Some(p) => (p, true),
                None => (v, false),
            };
            let well_formed = name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if (name.is_empty() && !prefix) || !well_formed {
                return Err(TermError::value(format!(
                    "'{v}' is not an anomaly kind: expected a snake_case kind as output in \
                     the JSON `kind`, e.g. anomaly:tcp_gap, or a prefix, e.g. anomaly:tcp_*"
                )));
            }
            Some((name.to_owned(), prefix))
        }
        Arg::Compare(..) => {
            return Err(TermError::form(
                "expected anomaly or anomaly:KIND, e.g. anomaly:tcp_gap",
            ));
        }
    };
    let term = Term::new(move |s: &Subject<'_>| match s.item {
        Item::Anomaly { kind, .. } => match &want {
            None => true,
            Some((name, false)) => kind.as_str() == name,
            Some((name, true)) => kind.as_str().starts_with(name.as_str()),
        },
        Item::Message { .. } | Item::Proto { .. } | Item::End { .. } | Item::Refused => false,
    });
    Ok(term.asking_for_anomalies())
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
