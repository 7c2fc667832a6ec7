//! What a filter is evaluated on: one message or one anomaly, with the facts of its
//! connection, flattened so that the TUI's stored rows and the engine's events both fit.

use crate::event::{AnomalyKind, ConnId, Dir, Event, EventKind, Opcode, Transport};

#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    /// The WebSocket connection's number (`None` for events about the input or about a
    /// transport connection that carries no numbered WebSocket).
    pub conn: Option<ConnId>,
    /// The endpoints (and HTTP/2 stream): of the WebSocket connection, or of the transport
    /// connection an anomaly without a number is about.
    pub transport: Option<Transport>,
    /// The request URI of the connection's handshake, when known.
    pub uri: Option<&'a str>,
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
    /// An application-protocol unit (its text is its summary line). `unanswered`: the unit is
    /// a request known never to have been answered, which only a view holding the whole
    /// connection (the TUI after its `end`) can tell; the engine's stream of events says
    /// `false` and reports unanswered requests on the connection's `end`.
    Proto {
        unit: &'a crate::proto::Unit,
        unanswered: bool,
    },
    /// A connection's `end`, with its health when the engine gave it: what the connection
    /// terms (`rtt`, `close:`) look at, the only item on which they can be decided.
    End {
        health: Option<&'a crate::health::HealthReport>,
        /// The application-protocol requests of the connection never answered (the
        /// `unanswered` term's fact on an `end`).
        unanswered: &'a [crate::proto::Unanswered],
    },
    /// A refused upgrade: nothing but its connection's facts (endpoints, URI) to select it by.
    Refused,
}

impl<'a> Subject<'a> {
    /// The subject of a message, anomaly, protocol unit, refused upgrade or `end` event
    /// (`None` for `open` and `silence`, which are not selected by the filter but follow their
    /// connection, see [`super::Selection`]; an `end` is selected only by a filter asking for
    /// ends, see [`super::Filter::wants_ends`]). `uri` is what the connection's `open` said (a
    /// refused upgrade brings its own).
    pub fn of_event(ev: &'a Event, uri: Option<&'a str>) -> Option<Subject<'a>> {
        let mut uri = uri;
        let (dir, item) = match &ev.kind {
            EventKind::Message { dir, msg } => (
                Some(*dir),
                Item::Message {
                    opcode: msg.opcode,
                    len: msg.payload.len() as u64,
                    payload: &msg.payload,
                },
            ),
            EventKind::Anomaly { dir, anomaly } => (
                *dir,
                Item::Anomaly {
                    kind: anomaly.kind,
                    detail: &anomaly.detail,
                },
            ),
            EventKind::Proto(unit) => (
                Some(unit.dir),
                Item::Proto {
                    unit,
                    unanswered: false,
                },
            ),
            EventKind::End { report, .. } => (
                None,
                Item::End {
                    health: report.as_deref().map(|r| &r.health),
                    unanswered: report.as_deref().map_or(&[], |r| &r.unanswered),
                },
            ),
            EventKind::Refused(r) => {
                uri = r.uri.as_deref();
                (None, Item::Refused)
            }
            EventKind::Open(_) | EventKind::Silence { .. } => return None,
        };
        let transport = match ev.conn {
            Some(c) => Some(Transport {
                client: c.client,
                server: c.server,
                stream: c.stream,
            }),
            None => ev.transport().copied(),
        };
        Some(Subject {
            conn: ev.conn.map(|c| c.id),
            transport,
            uri,
            dir,
            item,
        })
    }
}
