//! The filter language shared by `wsnoop read --filter` and the TUI's `/` line.
//!
//! # Language
//!
//! Terms combined with `and`, `or`, `not` (also `&&`, `||`, `!`; any case) and parentheses.
//! Terms side by side mean `and`. Precedence: `not` > `and` > `or`, so `a b or c` is
//! `(a and b) or c` and `!a b` is `(not a) and b`. The empty filter selects everything.
//!
//! | term | holds for |
//! |---|---|
//! | `hello`, `"two words"` | the payload contains the text, case-insensitively |
//! | `re:REGEX`, `/REGEX/` | the regex matches the payload bytes (case-insensitive; `(?-i)` opts out) |
//! | `host:ADDR`, `host:NET/BITS` | either endpoint's IP is it or lies in it (IPv4, IPv6) |
//! | `port:N` | either endpoint's port |
//! | `client:IP[:PORT]`, `server:IP[:PORT]` | that side (`[v6]:port`; a network too) |
//! | `uri:TEXT`, `uri:re:REGEX` | the handshake's request URI contains it (case-insensitive) |
//! | `conn:N`, `conn:A-B` | the connection number |
//! | `stream:N` | the HTTP/2 stream carrying the WebSocket |
//! | `dir:c2s`, `dir:s2c` | the direction |
//! | `op:text\|binary\|ping\|pong\|close\|continuation\|reserved` | the opcode |
//! | `len>N` (`>= < <= = != ==`) | the payload length in bytes (`K`, `M`, `G`: powers of 1024) |
//! | `anomaly`, `anomaly:KIND`, `anomaly:PREFIX*` | an anomaly (of that kind) |
//! | `rtt>DURATION` (`>= < <= = !=`; `us`, `ms`, `s`) | a connection's `end`: its median ping RTT (`HealthReport::rtt_median`) |
//! | `close:clean\|half_closed\|abnormal\|after_close\|open` | a connection's `end`: its close verdict |
//! | `proto:NAME` | a protocol unit of `mqtt`, `stomp`, `engineio`, `socketio`, `jsonrpc`, `graphql-ws` (or `graphql`), `signalr` |
//! | `type:NAME` | a unit's `type` (`PUBLISH`, `SEND`, `EVENT`, `request`; any case) |
//! | `topic:FILTER` | an MQTT unit naming a topic the filter matches (`+`, `#`; also the filters a `SUBSCRIBE` names) |
//! | `method:NAME`, `method:PREFIX*` | a JSON-RPC method (also the one a response answers) or SignalR target |
//! | `event:NAME`, `event:PREFIX*` | a Socket.IO event name |
//! | `latency>DURATION` | a reply's `latency_us` |
//! | `unanswered` | a request never answered (in the TUI); a connection's `end` listing such requests (in `read`) |
//!
//! On anomalies, text and regex terms look at the kind and the detail sentence; `op:` and
//! `len` never hold. Endpoint terms look at the connection's endpoints, or for an anomaly
//! about a transport connection without a WebSocket number, at that connection's; IPv4 is
//! compared as IPv4-mapped IPv6, so `host:10.0.0.1` also holds for `::ffff:10.0.0.1`. A term
//! whose fact is unknown (`uri:` on a connection picked up mid-stream, `conn:` on an event
//! about the input) does not hold. Anomaly kinds are an open set (each layer defines its
//! own), so `anomaly:KIND` checks the kind's form (snake_case), not that it exists.
//!
//! ## Words
//! A word runs to a space, to a `)` it did not open (`re:(a|b)` is one word), or to `&&` /
//! `||`. A bare word is a text search only when it cannot be mistaken for a term:
//! - `and`, `or`, `not` are operators (quote them to search for them);
//! - a word with a `:` must be a known `name:value` term (`foo:bar` and `http://x` are
//!   errors: quote text with a colon, `"http://x"`);
//! - letters then a comparison (`x>1`, `a=b`) must be a known comparison term;
//! - a term's name alone (`port`, `len`) is that term, written incompletely: an error;
//! - a term's name run into a digit (`port8765`) is an error suggesting `port:8765`;
//! - `&` and `|` alone are errors (the operators are `&&`, `||`).
//!
//! `"quoted text"` is always text; `\"` inside stands for a quote. `/regex/` is always a
//! regex; `\/` inside stands for a slash. `name:"value"` quotes a term's value (spaces,
//! parentheses). A quoted text or regex must be followed by a space, `)`, an operator or the
//! end.
//!
//! ## Errors
//! Anything else is a [`FilterError`] naming the column (1-based, in characters) and what was
//! expected there: an unknown term, a bad value, an unbalanced parenthesis, an operator with
//! nothing after it. Never a silent text search.
//!
//! ## What is selected
//! Messages are what a filter selects. Anomalies are selected only when the filter has an
//! `anomaly` term in a positive position (under an even number of `not`s) and holds for
//! them: `hello` never selects an anomaly, `anomaly or hello` selects every anomaly. `open`
//! and `end` events follow their connection: see [`Selection`].
//!
//! Connection-health terms (`rtt`, `close:`) are known only when the connection ends, after
//! its messages were printed (holding every message of every connection until its end would
//! take unbounded memory on a live capture), so they are decided on the `end` event
//! ([`Item::End`]) and hold on nothing else. By the same rule as anomalies, an `end` is
//! selected only when the filter has such a term in a positive position
//! ([`Filter::wants_ends`]) and holds for it; the connection's held `open` comes out before it.
//! `silence` events follow their connection as `end` does.
//!
//! # Adding a term
//! 1. Write its parse function, `fn(Arg<'_>) -> Result<Term, TermError>`, in the file of
//!    `terms/` it belongs to (or a new one): take the argument with `arg.value(usage)` for
//!    `name:VALUE`, `arg.compare(usage)` for `name>VALUE`, or match `Arg::Bare` for a term
//!    written alone; parse the value with the helpers of `value.rs` (`byte_count`,
//!    `duration` for `us`/`ms`/`s`, `number`, `range`) and `Cmp::holds`; refuse a bad value
//!    with `TermError::value("'x' is not ...: expected ...")`; return
//!    `Term::new(move |s: &Subject| ...)`, a test on the [`Subject`].
//! 2. Add one `terms::TermDef` entry to `terms::TERMS` (name, usage with an example, the
//!    function). Nothing else: the parser, errors, `did you mean` and the term list come
//!    from the table.
//! 3. If the term needs a fact the [`Subject`] does not carry (an application-protocol unit,
//!    connection health), add it to `Subject` (`None` where unknown: the term then does not
//!    hold) and fill it in [`Subject::of_event`] and the TUI's `subject()`; if the fact comes
//!    from the connection's `open`, remember it in `selection.rs`'s `ConnState` as the URI
//!    is.
//! 4. A line in [`HELP`], a unit test per form and per error.
//!
//! A term that selects items shown only when asked for (as anomalies are) marks itself with
//! `Term::asking_for_anomalies`.

mod classes;
mod expr;
mod help;
mod highlight;
mod lex;
mod parse;
mod selection;
mod subject;
mod terms;
mod value;

use std::fmt;

pub use classes::{ClassSet, ConnClass};
pub use help::HELP;
pub use parse::{MAX_CONN_TERMS, MAX_DEPTH};
pub use selection::{DeferredSelection, Marked, Selection};
pub use subject::{Item, Subject};
pub use value::{Cmp, byte_count, duration};

use classes::Classes;
use expr::Expr;

/// A parsed filter. Cheap to clone (terms are shared).
#[derive(Clone, Debug, Default)]
pub struct Filter {
    expr: Option<Expr>,
    source: String,
    wants_anomalies: bool,
    wants_ends: bool,
    about_units: bool,
    classes: Classes,
}

/// Why a filter did not parse: where, and what was expected there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    /// 1-based, in characters of the filter as given (one past the end for "found the
    /// end").
    pub column: usize,
    pub message: String,
}

impl FilterError {
    fn at(column: usize, message: impl Into<String>) -> FilterError {
        FilterError {
            column,
            message: message.into(),
        }
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for FilterError {}

impl Filter {
    /// Parses a filter expression; the empty (or blank) string is the filter that keeps
    /// everything.
    pub fn parse(src: &str) -> Result<Filter, FilterError> {
        let tokens = lex::tokenize(src)?;
        let expr = parse::parse(&tokens, src.chars().count() + 1)?;
        let (mut wants_anomalies, mut wants_ends, mut about_units) = (false, false, false);
        if let Some(e) = &expr {
            e.visit(true, &mut |t, positive| {
                wants_anomalies |= positive && t.asks_for_anomalies;
                wants_ends |= positive && t.asks_for_ends;
                about_units |= t.about_units;
            });
        }
        let classes = expr.as_ref().map(Classes::of).unwrap_or_default();
        Ok(Filter {
            expr,
            source: src.trim().to_string(),
            wants_anomalies,
            wants_ends,
            about_units,
            classes,
        })
    }

    /// The filter as typed (trimmed).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The filter keeps everything.
    pub fn is_empty(&self) -> bool {
        self.expr.is_none()
    }

    /// The filter asks for anomalies (has an `anomaly` term in a positive position).
    pub fn wants_anomalies(&self) -> bool {
        self.wants_anomalies
    }

    /// The filter has a connection-health term (`rtt`, `close:`) in a positive position:
    /// it selects `end` events (those of connections whose health it holds for).
    pub fn wants_ends(&self) -> bool {
        self.wants_ends
    }

    /// The filter has a protocol-unit term (`proto:`, `type:`, `topic:`, `method:`,
    /// `event:`, `latency`, `unanswered`), in either polarity: a view that shows messages with
    /// the units they carry decides such a message by its units alone (`!type:PINGREQ` hides
    /// the heartbeats, where the raw message, never a `PINGREQ`, would keep every row).
    pub fn about_units(&self) -> bool {
        self.about_units
    }

    /// Whether the filter selects this message, anomaly, unit or `end`.
    pub fn matches(&self, s: &Subject<'_>) -> bool {
        let Some(expr) = &self.expr else {
            return true;
        };
        match s.item {
            Item::Anomaly { .. } if !self.wants_anomalies => return false,
            Item::End { .. } if !self.wants_ends => return false,
            _ => {}
        }
        expr.eval(s)
    }

    /// The filter has `conn:` terms (without them, every connection number is in one class).
    pub fn has_conn_terms(&self) -> bool {
        !self.classes.is_trivial()
    }

    /// The class of connection numbers `id` falls in (see [`DeferredSelection`]).
    pub fn conn_class(&self, id: crate::event::ConnId) -> ConnClass {
        self.classes.class_of(id)
    }

    /// The classes of connection numbers in which the filter selects `s`, whatever number
    /// `s.conn` says.
    pub fn select_classes(&self, s: &Subject<'_>) -> ClassSet {
        if self.classes.is_trivial() {
            return if self.matches(s) {
                ClassSet::ALL
            } else {
                ClassSet::NONE
            };
        }
        let mut one = *s;
        let mut set = ClassSet::NONE;
        for (class, id) in self.classes.members() {
            one.conn = Some(id);
            if self.matches(&one) {
                set = set.with(class);
            }
        }
        set
    }

    /// Every class a connection number can fall in.
    fn every_class(&self) -> ClassSet {
        if self.classes.is_trivial() {
            return ClassSet::ALL;
        }
        self.classes
            .members()
            .fold(ClassSet::NONE, |set, (class, _)| set.with(class))
    }
}

#[cfg(test)]
mod tests;
