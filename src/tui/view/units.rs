//! Protocol units on screen: the list's summary in place of the payload preview, and the
//! detail pane's section (type, fields as a tree, pairing, anomaly).

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use serde_json::Value;

use super::super::fmt;
use super::super::model::Row;
use super::super::state::App;
use super::super::units::{StoredUnit, latency, reply_of, tag};
use super::{dim, warn_style};

/// Characters of one string field shown in the tree (the rest is counted).
const STRING_CAP: usize = 2048;
/// Characters of a list of scalars written on one line.
const INLINE_CAP: usize = 48;
/// Tree lines per unit (a unit with huge arrays stays readable and cheap to lay out).
const TREE_CAP: usize = 500;

fn tag_style() -> Style {
    Style::new().fg(Color::Cyan)
}

/// The list's text for a row's units: a protocol tag, the first unit's summary, its latency
/// when it is a reply, `no reply` when it was never answered, and `+N` for the other units.
pub fn summary_spans(units: &[StoredUnit], width: usize, spans: &mut Vec<Span<'static>>) {
    let Some(first) = units.first() else {
        return;
    };
    let head = format!("{} ", tag(first.unit.proto));
    let mut tail: Vec<Span<'static>> = Vec::new();
    if let Some(us) = first.unit.latency_us {
        tail.push(Span::styled(format!(" {}", latency(us)), dim()));
    }
    if first.unanswered {
        tail.push(Span::styled(" no reply", warn_style()));
    }
    if let Some(rest) = units.get(1..).filter(|r| !r.is_empty()) {
        let style = if rest.iter().any(|u| u.unit.anomaly.is_some()) {
            warn_style()
        } else {
            dim()
        };
        tail.push(Span::styled(format!(" +{}", rest.len()), style));
    }
    let tail_len: usize = tail.iter().map(|s| s.content.chars().count()).sum();
    let room = width.saturating_sub(head.chars().count() + tail_len);
    let style = if first.unit.anomaly.is_some() {
        warn_style()
    } else {
        Style::new()
    };
    let summary = super::fit(
        &fmt::preview_text(first.unit.summary.as_bytes(), room.saturating_add(1)),
        room,
    );
    spans.push(Span::styled(head, tag_style()));
    spans.push(Span::styled(summary, style));
    spans.extend(tail);
}

/// The detail section of a row's units: each with its protocol, type, fields, pairing and
/// anomaly.
pub fn detail(app: &App, row: &Row, units: &[StoredUnit], out: &mut Vec<Line<'static>>) {
    out.push(Line::styled(
        format!(
            "Protocol ({} unit{})",
            units.len(),
            if units.len() == 1 { "" } else { "s" }
        ),
        Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
    ));
    let conn = row.conn.and_then(|id| app.model.conn(id));
    let base = conn.map(|c| c.start).unwrap_or_default();
    for (i, su) in units.iter().enumerate() {
        let u = &su.unit;
        let mut head = vec![
            Span::styled(format!("{} ", u.proto), tag_style()),
            Span::styled(u.kind.clone(), Style::new().add_modifier(Modifier::BOLD)),
        ];
        if units.len() > 1 {
            head.push(Span::styled(
                format!("  ({} of {})", i + 1, units.len()),
                dim(),
            ));
        }
        out.push(Line::from(head));
        let mut tree = Vec::new();
        for (k, v) in &u.fields {
            field(k, v, 1, &mut tree);
        }
        if tree.len() > TREE_CAP {
            let more = tree.len() - TREE_CAP;
            tree.truncate(TREE_CAP);
            tree.push(Line::styled(format!("  … {more} more lines"), dim()));
        }
        out.extend(tree);
        if su.trimmed {
            out.push(Line::styled(
                "  large fields not kept (memory budget: raise --keep-payload)",
                warn_style(),
            ));
        }
        if u.messages > 1 {
            out.push(Line::styled(
                format!(
                    "  carried by {} messages (this one completed it)",
                    u.messages
                ),
                dim(),
            ));
        }
        if let Some(request) = u.reply_to {
            let after = u.latency_us.map_or("clock went backwards".into(), |us| {
                format!("after {}", latency(us))
            });
            out.push(Line::from(vec![
                Span::styled("  reply to ", dim()),
                Span::raw(format!("request at {}", fmt::relative(request, base))),
                Span::styled(format!(", {after}"), dim()),
            ]));
        } else if let Some(reply) = conn.and_then(|c| reply_of(&app.model, c, u)) {
            let mut line = vec![
                Span::styled("  answered by ", dim()),
                Span::raw(format!(
                    "{} at {}",
                    reply.unit.kind,
                    fmt::relative(reply.unit.ts, base)
                )),
            ];
            if let Some(us) = reply.unit.latency_us {
                line.push(Span::styled(format!(", {} later", latency(us)), dim()));
            }
            out.push(Line::from(line));
        }
        if su.unanswered {
            out.push(Line::styled(
                "  unanswered: no reply before the connection ended",
                warn_style(),
            ));
        }
        if let Some(a) = &u.anomaly {
            out.push(Line::styled(
                format!("  ⚠ {}: {}", a.kind.as_str(), a.detail),
                warn_style(),
            ));
        }
    }
}

/// One field of the tree: scalars on the key's line, objects and arrays below it, indented.
fn field(key: &str, v: &Value, depth: usize, out: &mut Vec<Line<'static>>) {
    let indent = "  ".repeat(depth);
    let key_span = Span::styled(format!("{indent}{key}"), Style::new().fg(Color::Cyan));
    let colon = Span::styled(": ", dim());
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push(Line::from(vec![key_span, Span::styled(":", dim())]));
            for (k, x) in m {
                field(k, x, depth + 1, out);
            }
        }
        // A short list of scalars reads best on one line: `["receipt","close-0"]`.
        Value::Array(a) if a.iter().all(|x| !x.is_array() && !x.is_object()) && inline(v) => out
            .push(Line::from(vec![
                key_span,
                colon,
                Span::styled(v.to_string(), Style::new().fg(Color::Green)),
            ])),
        Value::Array(a) if !a.is_empty() => {
            out.push(Line::from(vec![key_span, Span::styled(":", dim())]));
            for (i, x) in a.iter().enumerate() {
                field(&format!("[{i}]"), x, depth + 1, out);
            }
        }
        scalar => out.push(Line::from(vec![key_span, colon, scalar_span(scalar)])),
    }
}

/// Short enough to write on its key's line.
fn inline(v: &Value) -> bool {
    v.to_string().chars().count() <= INLINE_CAP
}

fn scalar_span(v: &Value) -> Span<'static> {
    match v {
        Value::String(s) => {
            let count = s.chars().count();
            let shown: String = s.chars().take(STRING_CAP).collect();
            let mut text = Value::String(shown).to_string();
            if count > STRING_CAP {
                text.push_str(&format!(" … {} more characters", count - STRING_CAP));
            }
            Span::styled(text, Style::new().fg(Color::Green))
        }
        Value::Number(n) => Span::styled(n.to_string(), Style::new().fg(Color::Yellow)),
        Value::Object(_) => Span::styled("{}", dim()),
        Value::Array(_) => Span::styled("[]", dim()),
        other => Span::styled(
            other.to_string(),
            Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD),
        ),
    }
}
