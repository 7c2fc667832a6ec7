//! Application-protocol units in the TUI: what the model keeps of each (bounded by the payload
//! budget), the filter over a row and its units, and the pairing of a request with its reply
//! for the jump key.

use serde_json::Value;

use super::model::{Conn, Model, Row, RowKind};
use super::state::{App, Pane, subject};
use crate::event::{Event, EventKind};
use crate::filter::{Filter, Item, Subject};
use crate::proto::Unit;

/// Past the budget, a field whose JSON is at most this long is kept: names, ids, topics and
/// codes stay (the filter's `topic:`, `method:`, `event:` terms still see them), payloads and
/// parameters go.
pub const SMALL_FIELD: u64 = 64;

/// A unit as kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredUnit {
    pub unit: Unit,
    /// A request the connection's end listed as never answered.
    pub unanswered: bool,
    /// Fields longer than [`SMALL_FIELD`] were dropped by the memory budget.
    pub trimmed: bool,
}

impl StoredUnit {
    pub fn whole(unit: Unit) -> StoredUnit {
        StoredUnit {
            unit,
            unanswered: false,
            trimmed: false,
        }
    }

    /// The unit without its large fields.
    pub fn trimmed(mut unit: Unit) -> StoredUnit {
        let before = unit.fields.len();
        unit.fields.retain(|_, v| json_len(v) <= SMALL_FIELD);
        let trimmed = unit.fields.len() < before;
        StoredUnit {
            unit,
            unanswered: false,
            trimmed,
        }
    }
}

/// What keeping `unit` whole costs the budget: its heap text and the record itself.
pub fn cost(unit: &Unit) -> u64 {
    let fields: u64 = unit
        .fields
        .iter()
        .map(|(k, v)| k.len() as u64 + json_len(v))
        .sum();
    std::mem::size_of::<Unit>() as u64 + unit.summary.len() as u64 + unit.kind.len() as u64 + fields
}

/// About the length of `v` written as JSON (what it holds on the heap, give or take).
fn json_len(v: &Value) -> u64 {
    match v {
        Value::Null | Value::Bool(_) | Value::Number(_) => 8,
        Value::String(s) => s.len() as u64 + 2,
        Value::Array(a) => a.iter().map(|x| json_len(x) + 1).sum::<u64>() + 2,
        Value::Object(m) => {
            m.iter()
                .map(|(k, x)| k.len() as u64 + 4 + json_len(x))
                .sum::<u64>()
                + 2
        }
    }
}

/// The subject of one of a row's units: the row's connection facts, the unit as the item.
pub fn unit_subject<'a>(base: Subject<'a>, u: &'a StoredUnit) -> Subject<'a> {
    Subject {
        dir: Some(u.unit.dir),
        item: Item::Proto {
            unit: &u.unit,
            unanswered: u.unanswered,
        },
        ..base
    }
}

/// A row is selected when its message (or anomaly) is, or when one of its units is. A message
/// that carries units is decided by its units alone when the filter has a protocol-unit term
/// ([`Filter::about_units`]): such a term never holds on the raw message, so under a `not` it
/// would keep every row (`!type:PINGREQ` must hide the heartbeats).
pub fn row_matches(filter: &Filter, row: &Row, conn: Option<&Conn>) -> bool {
    let base = subject(row, conn);
    let units = match row.kind {
        RowKind::Message(_) => row.units(),
        // A unit's own row: its subject was the unit.
        RowKind::Anomaly(_) | RowKind::Unit(_) | RowKind::Refused(_) => &[],
    };
    let by_units = units.iter().any(|u| filter.matches(&unit_subject(base, u)));
    if !units.is_empty() && filter.about_units() {
        return by_units;
    }
    by_units || filter.matches(&base)
}

/// Where the jump key goes from a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Jump {
    /// The row of the request or reply.
    pub row: u32,
    /// `true`: to the reply of a request; `false`: to the request a reply answers.
    pub to_reply: bool,
    pub latency_us: Option<u64>,
}

/// The row of the request a unit of row `ix` answers, else of the reply to one of its
/// requests (the unit of the same connection, other direction, whose `ts` is the reply's
/// `reply_to`, or whose `reply_to` is the request's `ts`). `Err` says why there is none.
pub fn jump(model: &Model, ix: u32) -> Result<Jump, &'static str> {
    let row = model.rows.get(ix as usize).ok_or("no message selected")?;
    let units = row.units();
    if units.is_empty() {
        return Err("no protocol unit here: nothing to pair");
    }
    let conn = row
        .conn
        .and_then(|id| model.conn(id))
        .ok_or("no connection: nothing to pair")?;
    // The position of the row among its connection's rows (both in arrival order).
    let at = conn.rows.partition_point(|&r| r < ix);
    let before = conn.rows.get(..at).unwrap_or_default();
    let after = conn.rows.get(at + 1..).unwrap_or_default();
    for u in units {
        let Some(request) = u.unit.reply_to else {
            continue;
        };
        let dir = u.unit.dir.other();
        let found = before
            .iter()
            .rev()
            .copied()
            .find(|&r| row_units(model, r).any(|v| v.unit.dir == dir && v.unit.ts == request));
        if let Some(r) = found {
            return Ok(Jump {
                row: r,
                to_reply: false,
                latency_us: u.unit.latency_us,
            });
        }
    }
    for u in units {
        let dir = u.unit.dir.other();
        let found = after.iter().copied().find_map(|r| {
            row_units(model, r)
                .find(|v| v.unit.dir == dir && v.unit.reply_to == Some(u.unit.ts))
                .map(|v| (r, v.unit.latency_us))
        });
        if let Some((r, latency_us)) = found {
            return Ok(Jump {
                row: r,
                to_reply: true,
                latency_us,
            });
        }
    }
    Err("nothing to jump to: no request or reply paired with this row")
}

fn row_units(model: &Model, ix: u32) -> impl Iterator<Item = &StoredUnit> {
    model
        .rows
        .get(ix as usize)
        .map(Row::units)
        .unwrap_or_default()
        .iter()
}

impl App {
    /// `r`: selects the row [`jump`] finds, or says why there is none.
    pub(super) fn jump(&mut self) {
        let Some(ix) = self.selected_row() else {
            self.notice = Some(("no message selected".into(), true));
            return;
        };
        let to = match jump(&self.model, ix) {
            Ok(to) => to,
            Err(why) => {
                self.notice = Some((why.into(), true));
                return;
            }
        };
        let what = if to.to_reply { "reply" } else { "request" };
        let Ok(pos) = self.view.binary_search(&to.row) else {
            self.notice = Some((
                format!(
                    "the {what} (message {}) is not listed: filtered out",
                    to.row + 1
                ),
                true,
            ));
            return;
        };
        if self.focus == Pane::Conns {
            self.focus = Pane::Msgs;
        }
        self.msg_sel = pos;
        self.follow = false;
        self.detail_scroll = 0;
        let note = match (to.latency_us, to.to_reply) {
            (Some(us), true) => format!("reply, {} later", latency(us)),
            (Some(us), false) => format!("request, {} earlier", latency(us)),
            (None, _) => what.to_string(),
        };
        self.notice = Some((note, false));
    }
}

/// Whether `ev` may change the detail of row `ix` once taken: a unit or an end of the row's
/// connection may answer one of its requests or mark it unanswered.
pub fn may_change_detail(model: &Model, ix: u32, ev: &Event) -> bool {
    if !matches!(ev.kind, EventKind::Proto(_) | EventKind::End { .. }) {
        return false;
    }
    model.rows.get(ix as usize).is_some_and(|r| {
        !r.units().is_empty() && r.conn.is_some() && r.conn == ev.conn.map(|c| c.id)
    })
}

/// The row and unit answering `request` (a unit of connection `conn`), for the detail pane.
pub fn reply_of<'a>(model: &'a Model, conn: &Conn, request: &Unit) -> Option<&'a StoredUnit> {
    let dir = request.dir.other();
    conn.rows.iter().find_map(|&r| {
        row_units(model, r).find(|v| v.unit.dir == dir && v.unit.reply_to == Some(request.ts))
    })
}

/// A latency as the text output writes it: `704 µs`, `4.0 ms`, `2.35 s`.
pub fn latency(us: u64) -> String {
    crate::sink::micros(us)
}

/// A short tag for the list: `mqtt`, `stomp`, `eio`, `sio`, `rpc`, `gql`, `sigr`.
pub fn tag(proto: &str) -> &str {
    match proto {
        "engineio" => "eio",
        "socketio" => "sio",
        "jsonrpc" => "rpc",
        "graphql-ws" => "gql",
        "signalr" => "sigr",
        other => other,
    }
}

#[cfg(test)]
mod tests;
