//! What the UI keeps of the engine's events: connections with their totals, and every
//! message and anomaly as a row. Events in, nothing out; no protocol logic. A sink: the
//! loader hands it the events a run produces (see [`super::loader`]).
//!
//! Memory policy: payloads are kept whole until `keep_payload` bytes are held in total; after
//! that each message keeps a [`PREFIX`]-byte prefix (enough for the preview and the filter's
//! text), and at most [`PREFIX_FRAMES`] frame records. Rows themselves (~100 bytes) are all kept.
//! Application-protocol units count against the same budget (see [`super::units`]): past it a
//! unit keeps its summary, type, pairing and only its small fields.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;

pub use super::units::StoredUnit;
use crate::event::{
    Anomaly, ConnId, ConnRef, Dir, EndHow, Event, EventKind, FrameInfo, Message, Opcode, OpenInfo,
    Packets, Refused, Timestamp,
};
use crate::health::{HealthReport, TcpEnd, Verdict};
pub use crate::pipeline::Progress;
use crate::sink::Sink;

/// Payload bytes kept per message once the budget is spent.
pub const PREFIX: usize = 256;
/// Frame records kept per message once the budget is spent.
pub const PREFIX_FRAMES: usize = 8;
/// Default payload budget.
pub const DEFAULT_KEEP_PAYLOAD: u64 = 512 << 20;

/// One WebSocket connection as the connections pane shows it.
#[derive(Clone, Debug)]
pub struct Conn {
    pub id: ConnId,
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// The HTTP/2 stream carrying it (RFC 8441), for the filter's `stream:` term.
    pub stream: Option<u32>,
    pub info: Box<OpenInfo>,
    pub start: Timestamp,
    pub end: Option<EndHow>,
    pub end_ts: Timestamp,
    pub msgs: [u64; 2],
    /// Payload bytes (after inflating), per direction.
    pub bytes: [u64; 2],
    /// Payload bytes as they crossed the wire (before inflating), per direction.
    pub wire: [u64; 2],
    /// Messages sent compressed (permessage-deflate), per direction.
    pub deflated: [u64; 2],
    pub anomalies: u64,
    /// The figures of the end event's health report (a few numbers, not the report).
    pub health: Option<EndHealth>,
    /// Indices into [`Model::rows`], in arrival order.
    pub rows: Vec<u32>,
    /// Per direction, the row of the last message: the one a protocol unit that follows
    /// completed.
    pub last_msg: [Option<u32>; 2],
    /// Ping round trips over time (from the first ping on).
    pub rtt: Option<Box<super::rtt::RttSeries>>,
}

/// What the connection page shows of an end event's [`crate::health::HealthReport`]: fixed
/// size, so a capture of many connections costs the model no more than their counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EndHealth {
    pub verdict: Verdict,
    /// The side whose close frame came first, its status code, and whether it was answered.
    pub close_initiator: Option<Dir>,
    pub close_code: Option<u16>,
    pub close_answered: bool,
    pub tcp_end: Option<TcpEnd>,
    /// Median ping round trip (see [`crate::health::HealthReport::rtt_median`]) and the number
    /// of answered pings in both directions.
    pub rtt_median_us: Option<u64>,
    pub pings_answered: u64,
    pub longest_silence_us: [u64; 2],
}

impl EndHealth {
    pub fn of(report: &HealthReport) -> EndHealth {
        EndHealth {
            verdict: report.close.verdict,
            close_initiator: report.close.initiator,
            close_code: report.close.code,
            close_answered: report.close.answered,
            tcp_end: report.close.tcp_end,
            rtt_median_us: report.rtt_median(),
            pings_answered: Dir::BOTH
                .iter()
                .filter_map(|&d| report.rtt(d))
                .map(|s| s.count)
                .sum(),
            longest_silence_us: report.longest_silence_us,
        }
    }
}

/// A message as kept: the payload may be a prefix (see `len`).
#[derive(Clone, Debug)]
pub struct StoredMsg {
    pub opcode: Opcode,
    /// Whole payload length.
    pub len: u64,
    pub payload: Box<[u8]>,
    pub frames: u32,
    pub compressed: bool,
    pub wire_len: u64,
    pub utf8_valid: bool,
    pub frame_detail: Box<[FrameInfo]>,
    pub packets: Option<Packets>,
    /// The protocol units this message completed (several when packed, e.g. MQTT packets).
    pub units: Vec<StoredUnit>,
}

impl StoredMsg {
    /// The payload was cut to a prefix by the memory budget.
    pub fn truncated(&self) -> bool {
        (self.payload.len() as u64) < self.len
    }

    /// RFC 6455 §5.5.1: status code of a close frame.
    pub fn close_code(&self) -> Option<u16> {
        match (self.opcode, &*self.payload) {
            (Opcode::Close, [hi, lo, ..]) => Some(u16::from_be_bytes([*hi, *lo])),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub enum RowKind {
    Message(StoredMsg),
    Anomaly(Anomaly),
    /// A protocol unit without a message row to sit in (raw messages left out, or its
    /// message not taken).
    Unit(Box<StoredUnit>),
    /// An upgrade the server refused: a connection that is only its handshake.
    Refused(Box<Refused>),
}

/// One line of the messages pane.
#[derive(Clone, Debug)]
pub struct Row {
    pub ts: Timestamp,
    pub conn: Option<ConnId>,
    pub dir: Option<Dir>,
    pub kind: RowKind,
}

impl Row {
    /// The protocol units the row shows.
    pub fn units(&self) -> &[StoredUnit] {
        match &self.kind {
            RowKind::Message(m) => &m.units,
            RowKind::Unit(u) => std::slice::from_ref(&**u),
            RowKind::Anomaly(_) | RowKind::Refused(_) => &[],
        }
    }
}

#[derive(Clone, Debug)]
pub struct Model {
    pub conns: Vec<Conn>,
    index: HashMap<ConnId, usize>,
    pub rows: Vec<Row>,
    pub messages: u64,
    pub anomalies: u64,
    /// Upgrades refused (rows of their own).
    pub refused: u64,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    pub progress: Progress,
    /// Loading finished (`Some(None)`) or stopped on an error (`Some(Some(msg))`).
    pub done: Option<Option<String>>,
    keep_left: u64,
    /// Messages whose payload was cut to a prefix.
    pub truncated: u64,
    /// Protocol units kept, and those of them whose large fields the budget dropped.
    pub units: u64,
    pub units_trimmed: u64,
    /// Events taken so far: views that derive from the figures (the connections' order)
    /// know by it when to look again.
    pub version: u64,
}

impl Model {
    pub fn new(keep_payload: u64) -> Model {
        Model {
            conns: Vec::new(),
            index: HashMap::new(),
            rows: Vec::new(),
            messages: 0,
            anomalies: 0,
            refused: 0,
            first_ts: None,
            last_ts: None,
            progress: Progress::default(),
            done: None,
            keep_left: keep_payload,
            truncated: 0,
            units: 0,
            units_trimmed: 0,
            version: 0,
        }
    }

    pub fn conn(&self, id: ConnId) -> Option<&Conn> {
        self.index.get(&id).and_then(|&i| self.conns.get(i))
    }

    pub fn loading(&self) -> bool {
        self.done.is_none()
    }

    /// Takes one event (moving its payload, never copying it when it is kept whole).
    pub fn push(&mut self, ev: Event) {
        self.version += 1;
        self.first_ts = Some(self.first_ts.map_or(ev.ts, |t| t.min(ev.ts)));
        self.last_ts = Some(self.last_ts.map_or(ev.ts, |t| t.max(ev.ts)));
        let conn_ix = ev.conn.map(|c| self.conn_index(c, ev.ts));
        let row = match ev.kind {
            EventKind::Open(info) => {
                if let Some(c) = conn_ix.and_then(|i| self.conns.get_mut(i)) {
                    c.info = info;
                    c.start = ev.ts;
                }
                return;
            }
            // Live silence alarms are not asked of the TUI.
            EventKind::Silence { .. } => return,
            EventKind::Refused(r) => {
                self.refused += 1;
                Row {
                    ts: ev.ts,
                    conn: None,
                    dir: None,
                    kind: RowKind::Refused(r),
                }
            }
            EventKind::Proto(unit) => {
                let dir = unit.dir;
                let stored = self.store_unit(*unit);
                let last = conn_ix
                    .and_then(|i| self.conns.get(i))
                    .and_then(|c| c.last_msg[dir.index()]);
                if let Some(RowKind::Message(m)) = last
                    .and_then(|ix| self.rows.get_mut(ix as usize))
                    .map(|r| &mut r.kind)
                {
                    m.units.push(stored);
                    return;
                }
                Row {
                    ts: ev.ts,
                    conn: ev.conn.map(|c| c.id),
                    dir: Some(dir),
                    kind: RowKind::Unit(Box::new(stored)),
                }
            }
            EventKind::End { how, report, .. } => {
                if let Some(c) = conn_ix.and_then(|i| self.conns.get_mut(i)) {
                    c.end = Some(how);
                    c.end_ts = ev.ts;
                    c.health = report.as_ref().map(|r| EndHealth::of(&r.health));
                }
                if let (Some(i), Some(r)) = (conn_ix, &report)
                    && !r.unanswered.is_empty()
                {
                    self.mark_unanswered(i, &r.unanswered);
                }
                return;
            }
            EventKind::Message { dir, msg } => {
                self.messages += 1;
                if let Some(c) = conn_ix.and_then(|i| self.conns.get_mut(i)) {
                    c.msgs[dir.index()] += 1;
                    c.bytes[dir.index()] += msg.payload.len() as u64;
                    c.wire[dir.index()] += msg.wire_len;
                    c.deflated[dir.index()] += u64::from(msg.compressed);
                    match msg.opcode {
                        Opcode::Ping => {
                            c.rtt.get_or_insert_default().ping(dir, &msg.payload, ev.ts)
                        }
                        Opcode::Pong => {
                            if let Some(r) = &mut c.rtt {
                                r.pong(dir, &msg.payload, ev.ts);
                            }
                        }
                        _ => {}
                    }
                }
                let stored = self.store(msg);
                Row {
                    ts: ev.ts,
                    conn: ev.conn.map(|c| c.id),
                    dir: Some(dir),
                    kind: RowKind::Message(stored),
                }
            }
            EventKind::Anomaly { dir, anomaly } => {
                self.anomalies += 1;
                if let Some(c) = conn_ix.and_then(|i| self.conns.get_mut(i)) {
                    c.anomalies += 1;
                }
                Row {
                    ts: ev.ts,
                    conn: ev.conn.map(|c| c.id),
                    dir,
                    kind: RowKind::Anomaly(anomaly),
                }
            }
        };
        let Ok(ix) = u32::try_from(self.rows.len()) else {
            return;
        };
        if let Some(c) = conn_ix.and_then(|i| self.conns.get_mut(i)) {
            c.rows.push(ix);
            if let (RowKind::Message(_), Some(d)) = (&row.kind, row.dir) {
                c.last_msg[d.index()] = Some(ix);
            }
        }
        self.rows.push(row);
    }

    /// Keeps a unit whole while the budget lasts, else its small fields only.
    fn store_unit(&mut self, unit: crate::proto::Unit) -> StoredUnit {
        self.units += 1;
        let cost = super::units::cost(&unit);
        if cost <= self.keep_left {
            self.keep_left -= cost;
            return StoredUnit::whole(unit);
        }
        self.keep_left = 0;
        let stored = StoredUnit::trimmed(unit);
        self.units_trimmed += u64::from(stored.trimmed);
        stored
    }

    /// Marks the units of connection `conn_ix` that its end listed as never answered (same
    /// direction, time and type).
    fn mark_unanswered(&mut self, conn_ix: usize, list: &[crate::proto::Unanswered]) {
        let Some(c) = self.conns.get(conn_ix) else {
            return;
        };
        let listed: std::collections::HashSet<(Dir, Timestamp, &str)> = list
            .iter()
            .map(|q| (q.dir, q.ts, q.kind.as_str()))
            .collect();
        for &ix in &c.rows {
            let Some(row) = self.rows.get_mut(ix as usize) else {
                continue;
            };
            let units: &mut [StoredUnit] = match &mut row.kind {
                RowKind::Message(m) => &mut m.units,
                RowKind::Unit(u) => std::slice::from_mut(&mut **u),
                RowKind::Anomaly(_) | RowKind::Refused(_) => continue,
            };
            for u in units {
                u.unanswered |= listed.contains(&(u.unit.dir, u.unit.ts, u.unit.kind.as_str()));
            }
        }
    }

    fn conn_index(&mut self, c: ConnRef, ts: Timestamp) -> usize {
        if let Some(&i) = self.index.get(&c.id) {
            return i;
        }
        let i = self.conns.len();
        self.conns.push(Conn {
            id: c.id,
            client: c.client,
            server: c.server,
            stream: c.stream,
            info: Box::default(),
            start: ts,
            end: None,
            end_ts: ts,
            msgs: [0; 2],
            bytes: [0; 2],
            wire: [0; 2],
            deflated: [0; 2],
            anomalies: 0,
            health: None,
            rows: Vec::new(),
            last_msg: [None; 2],
            rtt: None,
        });
        self.index.insert(c.id, i);
        i
    }

    fn store(&mut self, msg: Message) -> StoredMsg {
        let len = msg.payload.len() as u64;
        let mut payload = msg.payload;
        let mut frames = msg.frame_detail;
        if len <= self.keep_left {
            self.keep_left -= len;
        } else {
            self.keep_left = 0;
            if payload.len() > PREFIX {
                payload.truncate(PREFIX);
                self.truncated += 1;
            }
            frames.truncate(PREFIX_FRAMES);
        }
        StoredMsg {
            opcode: msg.opcode,
            len,
            payload: payload.into_boxed_slice(),
            frames: msg.frames,
            compressed: msg.compressed,
            wire_len: msg.wire_len,
            utf8_valid: msg.utf8_valid,
            frame_detail: frames.into_boxed_slice(),
            packets: msg.packets,
            units: Vec::new(),
        }
    }
}

/// The model keeps what it is given (a copy: the payload is the run's).
impl Sink for Model {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        self.push(event.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::AnomalyKind;
    use crate::tui::testdata::{anomaly, end, message, open};

    #[test]
    fn counts_per_connection_and_direction() {
        let mut m = Model::new(1 << 20);
        m.push(open(1, 10));
        m.push(message(1, 11, Dir::C2s, Opcode::Text, b"hello"));
        m.push(message(1, 12, Dir::S2c, Opcode::Binary, &[1, 2, 3]));
        m.push(message(1, 13, Dir::S2c, Opcode::Text, b"x"));
        m.push(anomaly(Some(1), 14, AnomalyKind::TcpGap, "lost 3 bytes"));
        m.push(anomaly(None, 15, AnomalyKind::CorruptCapture, "bad record"));
        m.push(end(1, 16, EndHow::Fin));
        assert_eq!(m.conns.len(), 1);
        let c = &m.conns[0];
        assert_eq!(c.msgs, [1, 2]);
        assert_eq!(c.bytes, [5, 4]);
        assert_eq!(c.anomalies, 1);
        assert_eq!(c.end, Some(EndHow::Fin));
        assert_eq!(c.start, Timestamp::new(1_700_000_010, 0));
        assert_eq!(c.info.uri.as_deref(), Some("/chat"));
        assert_eq!(c.rows, vec![0, 1, 2, 3]);
        assert_eq!(m.rows.len(), 5);
        assert_eq!(m.rows[4].conn, None);
        assert_eq!((m.messages, m.anomalies), (3, 2));
        assert_eq!(m.first_ts, Some(Timestamp::new(1_700_000_010, 0)));
        assert_eq!(m.last_ts, Some(Timestamp::new(1_700_000_016, 0)));
    }

    #[test]
    fn payload_budget_then_prefixes() {
        let mut m = Model::new(1000);
        let big = vec![b'a'; 900];
        m.push(message(1, 1, Dir::C2s, Opcode::Text, &big));
        m.push(message(1, 2, Dir::C2s, Opcode::Text, &big));
        m.push(message(1, 3, Dir::C2s, Opcode::Text, b"short"));
        let kept: Vec<(usize, u64)> = m
            .rows
            .iter()
            .map(|r| match &r.kind {
                RowKind::Message(s) => (s.payload.len(), s.len),
                RowKind::Anomaly(_) | RowKind::Unit(_) | RowKind::Refused(_) => (0, 0),
            })
            .collect();
        assert_eq!(kept, vec![(900, 900), (PREFIX, 900), (5, 5)]);
        assert_eq!(m.truncated, 1);
    }

    #[test]
    fn wire_bytes_deflated_counts_and_the_ends_health_figures() {
        use crate::event::EndReport;
        use crate::health::{CloseReport, RttStats};
        let mut m = Model::new(1 << 20);
        m.push(open(1, 0));
        let mut deflated = message(1, 1, Dir::S2c, Opcode::Text, b"abcdefghij");
        if let EventKind::Message { msg, .. } = &mut deflated.kind {
            msg.compressed = true;
            msg.wire_len = 4;
        }
        m.push(deflated);
        m.push(message(1, 2, Dir::S2c, Opcode::Text, b"xyz"));
        m.push(message(1, 2, Dir::C2s, Opcode::Text, b"12"));
        let rtt = |median, count| RttStats {
            min: 1,
            median,
            p99: 900,
            max: 900,
            count,
        };
        let health = HealthReport {
            rtt_us: [Some(rtt(250, 2)), Some(rtt(400, 3))],
            close: CloseReport {
                initiator: Some(Dir::S2c),
                code: Some(1001),
                reason: Some("going away".into()),
                answered: false,
                close_to_answer_us: None,
                tcp_end: Some(TcpEnd::Rst),
                close_to_tcp_end_us: Some(70),
                verdict: Verdict::HalfClosed,
            },
            longest_silence_us: [5_000, 7_000],
        };
        let mut ended = end(1, 3, EndHow::Rst);
        if let EventKind::End { report, .. } = &mut ended.kind {
            *report = Some(Box::new(EndReport {
                health,
                unanswered: Vec::new(),
            }));
        }
        m.push(ended);
        let c = &m.conns[0];
        assert_eq!((c.bytes, c.wire, c.deflated), ([2, 13], [2, 7], [0, 1]));
        assert_eq!(
            c.health,
            Some(EndHealth {
                verdict: Verdict::HalfClosed,
                close_initiator: Some(Dir::S2c),
                close_code: Some(1001),
                close_answered: false,
                tcp_end: Some(TcpEnd::Rst),
                // The direction with more answered pings.
                rtt_median_us: Some(400),
                pings_answered: 5,
                longest_silence_us: [5_000, 7_000],
            })
        );
        assert_eq!(m.version, 5);
    }

    #[test]
    fn message_without_open_creates_the_connection() {
        let mut m = Model::new(0);
        m.push(message(7, 5, Dir::S2c, Opcode::Ping, b""));
        assert_eq!(m.conns.len(), 1);
        assert_eq!(m.conn(7).map(|c| c.msgs), Some([0, 1]));
        assert!(m.conn(8).is_none());
    }
}
