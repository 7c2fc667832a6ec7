//! Terms about application-protocol units (see [`crate::proto`]): `proto:`, `type:`,
//! `topic:`, `method:`, `event:`, `latency`, `unanswered`. They hold on units only (a raw
//! message is never an MQTT `PUBLISH`; the TUI asks them of the units a message carries),
//! except `unanswered`, which also holds on the `end` of a connection that left requests
//! unanswered: a stream of events learns that a request was never answered only there.

use serde_json::Value;

use super::{Arg, TermError, duration_arg};
use crate::filter::expr::Term;
use crate::filter::subject::{Item, Subject};
use crate::proto::Unit;

/// The `proto` values of the output lines, as `proto:` accepts them.
const PROTOS: [&str; 7] = [
    "mqtt",
    "stomp",
    "engineio",
    "socketio",
    "jsonrpc",
    "graphql-ws",
    "signalr",
];

pub const PROTO_USAGE: &str =
    "proto:mqtt, stomp, engineio, socketio, jsonrpc, graphql-ws or signalr";

/// The unit a term looks at, if the subject is one.
fn unit<'a>(s: &Subject<'a>) -> Option<&'a Unit> {
    match s.item {
        Item::Proto { unit, .. } => Some(unit),
        Item::Message { .. } | Item::Anomaly { .. } | Item::End { .. } | Item::Refused => None,
    }
}

/// `proto:NAME`: the unit's protocol, as the line's `proto` names it (`graphql` is taken for
/// `graphql-ws`, the one name of both GraphQL-over-WebSocket protocols).
pub fn proto(arg: Arg<'_>) -> Result<Term, TermError> {
    let v = arg.value(PROTO_USAGE)?;
    let lower = v.to_ascii_lowercase();
    let want = match lower.as_str() {
        "graphql" => "graphql-ws",
        name => PROTOS.iter().copied().find(|p| *p == name).ok_or_else(|| {
            TermError::value(format!("'{v}' is not a protocol: expected {PROTO_USAGE}"))
        })?,
    };
    Ok(Term::new(move |s| unit(s).is_some_and(|u| u.proto == want)).about_units())
}

/// `type:NAME`: the unit's `type` as the spec names it (`PUBLISH`, `SEND`, `EVENT`,
/// `request`, `Invocation`), case-insensitively.
pub fn kind(arg: Arg<'_>) -> Result<Term, TermError> {
    let want = arg.value("type:NAME, e.g. type:PUBLISH")?.to_owned();
    Ok(
        Term::new(move |s| unit(s).is_some_and(|u| u.kind.eq_ignore_ascii_case(&want)))
            .about_units(),
    )
}

/// A name with an optional `*` at the end (a prefix), compared exactly (method and event
/// names are case-sensitive in their protocols).
#[derive(Clone, Debug)]
struct NamePattern {
    name: String,
    prefix: bool,
}

impl NamePattern {
    fn parse(v: &str) -> NamePattern {
        match v.strip_suffix('*') {
            Some(p) => NamePattern {
                name: p.to_owned(),
                prefix: true,
            },
            None => NamePattern {
                name: v.to_owned(),
                prefix: false,
            },
        }
    }

    fn matches(&self, field: Option<&Value>) -> bool {
        let Some(name) = field.and_then(Value::as_str) else {
            return false;
        };
        if self.prefix {
            name.starts_with(self.name.as_str())
        } else {
            name == self.name
        }
    }
}

/// `method:NAME` (`method:db.*` for a prefix): a JSON-RPC request's or notification's
/// `method`, the method a response or error answers (`method_answered`, known by pairing),
/// a SignalR invocation's `target`.
pub fn method(arg: Arg<'_>) -> Result<Term, TermError> {
    let want =
        NamePattern::parse(arg.value("method:NAME or method:PREFIX*, e.g. method:db.query")?);
    Ok(Term::new(move |s| {
        unit(s).is_some_and(|u| {
            ["method", "method_answered", "target"]
                .iter()
                .any(|f| want.matches(u.fields.get(*f)))
        })
    })
    .about_units())
}

/// `event:NAME` (`event:chat*` for a prefix): a Socket.IO event's name.
pub fn event(arg: Arg<'_>) -> Result<Term, TermError> {
    let want = NamePattern::parse(arg.value("event:NAME or event:PREFIX*, e.g. event:chat")?);
    Ok(
        Term::new(move |s| unit(s).is_some_and(|u| want.matches(u.fields.get("event_name"))))
            .about_units(),
    )
}

pub const LATENCY_USAGE: &str = "latency>100ms, latency<=2s (us, ms or s)";

/// `latency OP DURATION`: how long after its request a reply came (`latency_us`). A unit
/// that is not a paired reply has no latency: the term does not hold.
pub fn latency(arg: Arg<'_>) -> Result<Term, TermError> {
    let (cmp, d) = duration_arg(arg, LATENCY_USAGE)?;
    let want = d.as_nanos();
    Ok(Term::new(move |s| {
        unit(s)
            .and_then(|u| u.latency_us)
            .is_some_and(|us| cmp.holds(u128::from(us) * 1_000, want))
    })
    .about_units())
}

/// `unanswered`: a request never answered. A view holding whole connections (the TUI) knows
/// it of the request itself; a stream of events knows it at the connection's `end`, which
/// then lists them (`unanswered` on the `end` line): that `end` is selected.
pub fn unanswered(arg: Arg<'_>) -> Result<Term, TermError> {
    if arg != Arg::Bare {
        return Err(TermError::form("expected unanswered alone"));
    }
    let term = Term::new(|s: &Subject<'_>| match s.item {
        Item::Proto { unanswered, .. } => unanswered,
        Item::End { unanswered, .. } => !unanswered.is_empty(),
        Item::Message { .. } | Item::Anomaly { .. } | Item::Refused => false,
    });
    Ok(term.asking_for_ends().about_units())
}

pub const TOPIC_USAGE: &str =
    "topic:FILTER, an MQTT topic filter (+ one level, # the rest; e.g. topic:plant/+/temp)";

/// `topic:FILTER`: an MQTT topic filter (MQTT 3.1.1 §4.7, 5.0 §4.7) matched against a
/// `PUBLISH` topic (an alias resolved) and against the filters a `SUBSCRIBE` or `UNSUBSCRIBE`
/// names (taken as topic names, so `topic:plant/+/temp` finds the subscription to
/// `plant/+/temp` too).
pub fn topic(arg: Arg<'_>) -> Result<Term, TermError> {
    let v = arg.value(TOPIC_USAGE)?;
    let filter = TopicFilter::parse(v).map_err(|why| {
        TermError::value(format!(
            "'{v}' is not an MQTT topic filter: {why}; {TOPIC_USAGE}"
        ))
    })?;
    Ok(Term::new(move |s| {
        unit(s).is_some_and(|u| u.proto == "mqtt" && unit_topics(u).any(|t| filter.matches(t)))
    })
    .about_units())
}

/// The topics a unit names: `topic`, each `subscriptions[].topic`, each `topics[]`.
fn unit_topics(u: &Unit) -> impl Iterator<Item = &str> {
    let one = u.fields.get("topic").and_then(Value::as_str);
    let subs = u
        .fields
        .get("subscriptions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("topic").and_then(Value::as_str));
    let unsubs = u
        .fields
        .get("topics")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    one.into_iter().chain(subs).chain(unsubs)
}

/// A parsed MQTT topic filter: its levels, `+` and `#` as wildcards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicFilter {
    levels: Vec<Level>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Level {
    Exact(String),
    /// `+`: exactly one level.
    One,
    /// `#`: this level and every one below it (also none: `a/#` matches `a`).
    Rest,
}

impl TopicFilter {
    /// MQTT §4.7.1: `#` only alone as the last level, `+` only alone in its level.
    pub fn parse(filter: &str) -> Result<TopicFilter, &'static str> {
        let parts: Vec<&str> = filter.split('/').collect();
        let mut levels = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            let level = match *part {
                "#" if i + 1 == parts.len() => Level::Rest,
                "#" => return Err("'#' must be the last level"),
                "+" => Level::One,
                p if p.contains(['#', '+']) => {
                    return Err("'+' and '#' must stand alone in their level");
                }
                p => Level::Exact(p.to_owned()),
            };
            levels.push(level);
        }
        Ok(TopicFilter { levels })
    }

    /// MQTT §4.7.2: a wildcard in the first level does not match a topic starting with `$`.
    pub fn matches(&self, topic: &str) -> bool {
        if topic.starts_with('$') && !matches!(self.levels.first(), Some(Level::Exact(_))) {
            return false;
        }
        let mut names = topic.split('/');
        for level in &self.levels {
            match level {
                Level::Rest => return true,
                Level::One => {
                    if names.next().is_none() {
                        return false;
                    }
                }
                Level::Exact(want) => {
                    if names.next() != Some(want.as_str()) {
                        return false;
                    }
                }
            }
        }
        names.next().is_none()
    }
}
