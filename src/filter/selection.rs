//! Connection-level selection: the stage between the engine and a sink that applies a filter
//! to a stream of events. Sans-IO: events in, events out.
//!
//! - Messages and anomalies come out when the filter selects them ([`Filter::matches`], with
//!   the connection's URI remembered from its `open`).
//! - A connection's `open` is held until something of the connection is selected, and comes
//!   out just before it; a connection with nothing selected prints neither `open` nor `end`.
//!   Its `end` comes out iff its `open` did. With `all_events`, every `open` and `end` comes
//!   out where it happened.
//! - Events without a connection (about the input, or about a transport connection without a
//!   WebSocket number) come out when the filter selects them; a `refused` upgrade has only its
//!   connection's facts (endpoints, URI) to be selected by, and comes out with `all_events`
//!   as an `open` does.
//! - The empty filter passes everything through, as it is.
//!
//! Memory: one entry per connection between its `open` and its `end` (the engine ends every
//! connection it opened, evicted or at the end of the input, so this is bounded by the
//! engine's connection limit), holding the `open` until it is printed and the URI.
//! Connections never span engines, so one stage per engine (per worker of `read --threads
//! N`) sees all of a connection's events: nothing depends on the order across connections.

use std::collections::HashMap;

use super::Filter;
use super::classes::ClassSet;
use super::subject::Subject;
use crate::event::{ConnId, Event, EventKind};

/// The stage for callers that know the final connection numbers (one engine).
#[derive(Debug)]
pub struct Selection {
    core: Core,
}

impl Selection {
    pub fn new(filter: Filter, all_events: bool) -> Self {
        Selection {
            core: Core::new(filter, all_events, false),
        }
    }

    /// Takes one event; appends to `out` what is to be printed now, in order.
    pub fn push(&mut self, ev: Event, out: &mut Vec<Event>) {
        self.core.push(ev, &mut |ev, _, _| out.push(ev));
    }

    /// The input ended. Nothing is held that is to be printed (the engine's `finish` ended
    /// every connection), so `out` gets nothing today; what is left is forgotten.
    pub fn finish(&mut self, _out: &mut Vec<Event>) {
        self.core.conns.clear();
    }

    pub fn filter(&self) -> &Filter {
        &self.core.filter
    }

    /// Connections remembered (between their `open` and their `end`).
    pub fn tracked(&self) -> usize {
        self.core.conns.len()
    }
}

/// An event out of a [`DeferredSelection`], with the connection-number classes it is to be
/// printed in (see the `classes` module).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Marked {
    pub event: Event,
    /// Print the event iff its connection's final number falls in one of these classes
    /// ([`Filter::conn_class`]). For events without a connection: all (they are marked only
    /// when selected).
    pub classes: ClassSet,
    /// A copy of a connection's `open`, out again (for the classes it is now printed in)
    /// after the `open` itself came out at its place; not to be numbered again.
    pub replay: bool,
}

/// The stage for workers that do not know the final connection numbers (`read --threads
/// N`): like [`Selection`], but the filter's `conn:` terms are decided later, by whoever
/// numbers the connections, from [`Marked::classes`]. Every `open` comes out at its place
/// (marked with the classes it is printed in, maybe none: the numbering needs it), and again
/// as a `replay` when something of the connection is first selected in further classes;
/// every `end` comes out, marked with the classes its `open` was printed in. The output for
/// one class is exactly what [`Selection`] prints for a connection number in that class.
#[derive(Debug)]
pub struct DeferredSelection {
    core: Core,
}

impl DeferredSelection {
    pub fn new(filter: Filter, all_events: bool) -> Self {
        DeferredSelection {
            core: Core::new(filter, all_events, true),
        }
    }

    pub fn push(&mut self, ev: Event, out: &mut Vec<Marked>) {
        self.core.push(ev, &mut |event, classes, replay| {
            out.push(Marked {
                event,
                classes,
                replay,
            });
        });
    }

    /// As [`Selection::finish`].
    pub fn finish(&mut self, _out: &mut Vec<Marked>) {
        self.core.conns.clear();
    }

    pub fn filter(&self) -> &Filter {
        &self.core.filter
    }

    /// Connections remembered (between their `open` and their `end`).
    pub fn tracked(&self) -> usize {
        self.core.conns.len()
    }
}

#[derive(Debug)]
struct Core {
    filter: Filter,
    all_events: bool,
    /// Decide per class (workers) rather than for the connection's own number.
    deferred: bool,
    /// The classes a connection number can fall in.
    every_class: ClassSet,
    conns: HashMap<ConnId, ConnState, foldhash::fast::RandomState>,
}

#[derive(Debug)]
struct ConnState {
    /// The `open`, until it is printed (in every class, when deferred).
    held: Option<Event>,
    uri: Option<Box<str>>,
    /// The classes the `open` was printed in.
    shown: ClassSet,
}

impl Core {
    fn new(filter: Filter, all_events: bool, deferred: bool) -> Core {
        let every_class = if deferred {
            filter.every_class()
        } else {
            ClassSet::ALL
        };
        Core {
            filter,
            all_events,
            deferred,
            every_class,
            conns: HashMap::default(),
        }
    }

    /// `emit(event, classes, replay)`: see [`Marked`].
    fn push(&mut self, ev: Event, emit: &mut dyn FnMut(Event, ClassSet, bool)) {
        if self.filter.is_empty() {
            emit(ev, ClassSet::ALL, false);
            return;
        }
        let Some(conn) = ev.conn else {
            // A refused upgrade is a connection that is only its handshake: it comes out where
            // every `open` does, and when the filter selects it by its facts (host, port, URI).
            if matches!(ev.kind, EventKind::Refused(_)) && self.all_events {
                emit(ev, ClassSet::ALL, false);
                return;
            }
            // About the input or a transport connection: the filter alone decides (the
            // anomaly rule applies: only a filter asking for anomalies selects these).
            if Subject::of_event(&ev, None).is_some_and(|s| self.filter.matches(&s)) {
                emit(ev, ClassSet::ALL, false);
            }
            return;
        };
        let initially = if self.all_events {
            ClassSet::ALL
        } else {
            ClassSet::NONE
        };
        match &ev.kind {
            EventKind::Open(info) => {
                let uri = info.uri.as_deref().map(Box::from);
                let held = if self.all_events {
                    emit(ev, ClassSet::ALL, false);
                    None
                } else {
                    if self.deferred {
                        emit(ev.clone(), ClassSet::NONE, false);
                    }
                    Some(ev)
                };
                let state = ConnState {
                    held,
                    uri,
                    shown: initially,
                };
                let _replaced = self.conns.insert(conn.id, state);
                debug_assert!(_replaced.is_none(), "a second open for {conn:?}");
            }
            // Never numbered (handled above with the events without a connection).
            EventKind::Refused(_) => {}
            EventKind::End { .. } => {
                let state = self.conns.remove(&conn.id);
                let shown = state.as_ref().map_or(initially, |s| s.shown);
                // A filter with health terms decides on the `end` itself: a connection they
                // hold for prints its `open` (if still held) and `end`.
                let selected = match Subject::of_event(&ev, None) {
                    Some(subject) if self.filter.wants_ends() => {
                        if self.deferred {
                            self.filter.select_classes(&subject)
                        } else if self.filter.matches(&subject) {
                            ClassSet::ALL
                        } else {
                            ClassSet::NONE
                        }
                    }
                    _ => ClassSet::NONE,
                };
                let new = selected.minus(shown);
                if !new.is_empty()
                    && let Some(open) = state.and_then(|s| s.held)
                {
                    emit(open, new, self.deferred);
                }
                let classes = shown.union(selected);
                if self.deferred || !classes.is_empty() {
                    emit(ev, classes, false);
                }
            }
            EventKind::Silence { .. } => {
                // Follows its connection, as its `end` does.
                let shown = self.conns.get(&conn.id).map_or(initially, |s| s.shown);
                if self.deferred || !shown.is_empty() {
                    emit(ev, shown, false);
                }
            }
            EventKind::Message { .. } | EventKind::Anomaly { .. } | EventKind::Proto(_) => {
                let state = self.conns.entry(conn.id).or_insert_with(|| ConnState {
                    // A connection whose `open` this stage did not see (it started later).
                    held: None,
                    uri: None,
                    shown: initially,
                });
                let Some(subject) = Subject::of_event(&ev, state.uri.as_deref()) else {
                    return;
                };
                let selected = if self.deferred {
                    self.filter.select_classes(&subject)
                } else if self.filter.matches(&subject) {
                    ClassSet::ALL
                } else {
                    ClassSet::NONE
                };
                let new = selected.minus(state.shown);
                if !new.is_empty() {
                    state.shown = state.shown.union(new);
                    let done = self.every_class.minus(state.shown).is_empty();
                    match (state.held.take(), done) {
                        (Some(open), true) => emit(open, new, self.deferred),
                        (Some(open), false) => {
                            emit(open.clone(), new, true);
                            state.held = Some(open);
                        }
                        (None, _) => {}
                    }
                }
                if !selected.is_empty() {
                    emit(ev, selected, false);
                }
            }
        }
    }
}
