//! Terms about the connection: `conn:`, `stream:`, `uri:`.

use super::payload::build_regex;
use super::{Arg, TermError};
use crate::filter::expr::Term;
use crate::filter::value;

pub fn conn(arg: Arg<'_>) -> Result<Term, TermError> {
    let v = arg.value("conn:N or conn:A-B, e.g. conn:3 or conn:3-7")?;
    let (first, last) = value::range(v).ok_or_else(|| {
        TermError::value(format!(
            "'{v}' is not a connection number or range: expected e.g. conn:3 or conn:3-7"
        ))
    })?;
    Ok(Term::on_conn_ids(first, last))
}

pub fn stream(arg: Arg<'_>) -> Result<Term, TermError> {
    let v = arg.value("stream:N, e.g. stream:3")?;
    let id = value::number(v)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            TermError::value(format!(
                "'{v}' is not an HTTP/2 stream number: expected e.g. stream:3"
            ))
        })?;
    Ok(Term::new(move |s| {
        s.transport.is_some_and(|t| t.stream == Some(id))
    }))
}

/// `uri:TEXT` (case-insensitive substring) or `uri:re:REGEX`; false where the URI is not
/// known (a connection picked up mid-stream, an event about the input).
pub fn uri(arg: Arg<'_>) -> Result<Term, TermError> {
    let v = arg.value("uri:TEXT or uri:re:REGEX, e.g. uri:/chat")?;
    let re = match v.strip_prefix("re:") {
        Some("") => {
            return Err(TermError::value(
                "empty regex: write uri:re:PATTERN, e.g. uri:re:^/v[0-9]+/",
            ));
        }
        Some(pattern) => {
            build_regex(pattern).map_err(|e| TermError::value(format!("regex /{pattern}/: {e}")))?
        }
        None => build_regex(&regex::escape(v))
            .map_err(|e| TermError::value(format!("text '{v}': {e}")))?,
    };
    Ok(Term::new(move |s| {
        s.uri.is_some_and(|u| re.is_match(u.as_bytes()))
    }))
}
