//! The term table: every named term, how it is written and how it is parsed. Adding a term
//! is one entry in [`TERMS`] plus its parse function (see the module docs of
//! [`crate::filter`]).

mod conn;
mod health;
mod net;
mod payload;
pub(crate) mod proto;

use std::time::Duration;

use super::expr::Term;
use super::value::{self, Cmp};

pub use payload::{regex_term, text_term};

/// What follows a term's name in the filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg<'a> {
    /// The name alone: `anomaly`.
    Bare,
    /// `name:VALUE` (the value may be empty, or quoted in the filter: `uri:"/a b"`).
    Value(&'a str),
    /// `name OP VALUE` with no spaces: `len>=4K`.
    Compare(Cmp, &'a str),
}

/// Why a term's argument was refused: a sentence saying what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TermError {
    pub msg: String,
    /// The value is wrong (the error points at it), rather than the term's shape (the error
    /// points at the term).
    pub at_value: bool,
}

impl TermError {
    /// The term is written the wrong way (`port` alone, `len:5`).
    pub fn form(msg: impl Into<String>) -> TermError {
        TermError {
            msg: msg.into(),
            at_value: false,
        }
    }

    /// The value does not parse (`port:http`, `dir:up`).
    pub fn value(msg: impl Into<String>) -> TermError {
        TermError {
            msg: msg.into(),
            at_value: true,
        }
    }
}

impl<'a> Arg<'a> {
    /// The `name:VALUE` form's value, non-empty; anything else is an error citing `usage`.
    pub fn value(self, usage: &str) -> Result<&'a str, TermError> {
        match self {
            Arg::Value(v) if !v.is_empty() => Ok(v),
            Arg::Value(_) => Err(TermError::value(format!("expected a value: {usage}"))),
            _ => Err(TermError::form(format!("expected {usage}"))),
        }
    }

    /// The `name OP VALUE` form's operator and value, non-empty.
    pub fn compare(self, usage: &str) -> Result<(Cmp, &'a str), TermError> {
        match self {
            Arg::Compare(cmp, v) if !v.is_empty() => Ok((cmp, v)),
            Arg::Compare(..) => Err(TermError::value(format!("expected a value: {usage}"))),
            _ => Err(TermError::form(format!(
                "expected a comparison (> >= < <= = !=) right after the name: {usage}"
            ))),
        }
    }
}

/// A duration comparison, `name>100ms` (`us`, `ms`, `s`; decimals allowed): for terms such
/// as `latency>100ms` and `rtt>50ms`.
pub fn duration_arg(arg: Arg<'_>, usage: &str) -> Result<(Cmp, Duration), TermError> {
    let (cmp, v) = arg.compare(usage)?;
    let d = value::duration(v).ok_or_else(|| {
        TermError::value(format!(
            "'{v}' is not a duration: expected a number with us, ms or s, e.g. {usage}"
        ))
    })?;
    Ok((cmp, d))
}

/// One named term.
pub struct TermDef {
    /// The name, lowercase (matched case-insensitively).
    pub name: &'static str,
    /// How it is written, with an example, for error messages: `port:N (e.g. port:443)`.
    pub usage: &'static str,
    pub parse: fn(Arg<'_>) -> Result<Term, TermError>,
}

/// Every named term. Plain text, `"quoted text"` and `/regex/` are not named and are parsed
/// by [`text_term`] and [`regex_term`].
pub const TERMS: &[TermDef] = &[
    TermDef {
        name: "host",
        usage: "host:ADDR or host:NET/BITS (e.g. host:10.0.0.1, host:10.0.0.0/8, host:::1)",
        parse: net::host,
    },
    TermDef {
        name: "port",
        usage: "port:N (e.g. port:443)",
        parse: net::port,
    },
    TermDef {
        name: "client",
        usage: "client:IP or client:IP:PORT (e.g. client:10.0.0.1:5000, client:[::1]:5000)",
        parse: net::client,
    },
    TermDef {
        name: "server",
        usage: "server:IP or server:IP:PORT (e.g. server:10.0.0.2:8080)",
        parse: net::server,
    },
    TermDef {
        name: "uri",
        usage: "uri:TEXT or uri:re:REGEX (e.g. uri:/chat)",
        parse: conn::uri,
    },
    TermDef {
        name: "conn",
        usage: "conn:N or conn:A-B (e.g. conn:3, conn:3-7)",
        parse: conn::conn,
    },
    TermDef {
        name: "stream",
        usage: "stream:N, an HTTP/2 stream (e.g. stream:3)",
        parse: conn::stream,
    },
    TermDef {
        name: "dir",
        usage: "dir:c2s or dir:s2c",
        parse: payload::dir,
    },
    TermDef {
        name: "op",
        usage: "op:text, binary, ping, pong, close, continuation or reserved",
        parse: payload::op,
    },
    TermDef {
        name: "len",
        usage: "len>N, len>=N, len<N, len<=N, len=N or len!=N (bytes; K, M, G suffixes, e.g. len>4K)",
        parse: payload::len,
    },
    TermDef {
        name: "re",
        usage: "re:REGEX (e.g. re:^\\{\"type\")",
        parse: payload::re,
    },
    TermDef {
        name: "anomaly",
        usage: "anomaly or anomaly:KIND (e.g. anomaly:tcp_gap, anomaly:tls_*)",
        parse: payload::anomaly,
    },
    TermDef {
        name: "rtt",
        usage: "rtt>DURATION, rtt>=, rtt<, rtt<=, rtt= or rtt!= (the median ping RTT; us, ms, s, e.g. rtt>50ms)",
        parse: health::rtt,
    },
    TermDef {
        name: "close",
        usage: "close:clean, close:half_closed, close:abnormal, close:after_close or close:open",
        parse: health::close,
    },
    TermDef {
        name: "proto",
        usage: "proto:NAME, an application protocol: mqtt, stomp, engineio, socketio, jsonrpc, graphql-ws or signalr (e.g. proto:mqtt)",
        parse: proto::proto,
    },
    TermDef {
        name: "type",
        usage: "type:NAME, a protocol unit's type (e.g. type:PUBLISH, type:request)",
        parse: proto::kind,
    },
    TermDef {
        name: "topic",
        usage: "topic:FILTER, an MQTT topic filter with + and # (e.g. topic:plant/+/temp)",
        parse: proto::topic,
    },
    TermDef {
        name: "method",
        usage: "method:NAME or method:PREFIX*, a JSON-RPC method or SignalR target (e.g. method:db.query)",
        parse: proto::method,
    },
    TermDef {
        name: "event",
        usage: "event:NAME or event:PREFIX*, a Socket.IO event (e.g. event:chat)",
        parse: proto::event,
    },
    TermDef {
        name: "latency",
        usage: "latency>DURATION, latency>=, <, <=, = or != (a reply's wait for its request; us, ms, s, e.g. latency>100ms)",
        parse: proto::latency,
    },
    TermDef {
        name: "unanswered",
        usage: "unanswered (a request never answered; on a stream of events: the end of its connection)",
        parse: proto::unanswered,
    },
];

/// The term named `name` (case-insensitive).
pub fn find(name: &str) -> Option<&'static TermDef> {
    TERMS.iter().find(|t| t.name.eq_ignore_ascii_case(name))
}

/// The known names as written (`host:`, `len>`, `anomaly`), for error messages.
pub fn names() -> String {
    let mut out = String::new();
    for t in TERMS {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(t.name);
        if let Some(sep) = separator(t) {
            out.push(sep);
        }
    }
    out
}

/// What comes right after the name in the usage: `:` or a comparison (`None` for a term
/// written alone first, like `anomaly`).
pub fn separator(t: &TermDef) -> Option<char> {
    t.usage
        .get(t.name.len()..)
        .and_then(|s| s.chars().next())
        .filter(|c| matches!(c, ':' | '<' | '>' | '=' | '!'))
}
