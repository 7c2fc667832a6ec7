//! The engine: captured packets in, events out. Sans-IO: the caller reads the capture and
//! writes the events; the engine only keeps per-connection state, bounded by [`Limits`].

use crate::event::{Anomaly, AnomalyKind, ConnId, EndHow, Event, EventKind, Timestamp};
use crate::flow::{FlowKey, FlowTable};
use crate::limits::Limits;
use crate::packet::{Decoded, PacketDecoder, RawPacket};
use crate::session::{Ctx, Session};

/// Counters over everything the engine was given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub packets: u64,
    /// Captured bytes of all packets.
    pub bytes: u64,
    pub tcp_packets: u64,
    /// Packets too damaged to read (not counting non-TCP traffic).
    pub malformed: u64,
    /// Connections recognised as WebSocket so far.
    pub websocket_conns: u64,
}

/// The sans-IO dissection engine.
pub struct Engine {
    limits: Limits,
    packets: PacketDecoder,
    flows: FlowTable<Session>,
    next_conn: ConnId,
    last_ts: Timestamp,
    stats: Stats,
}

impl Engine {
    pub fn new(limits: Limits) -> Engine {
        Engine {
            packets: PacketDecoder::new(&limits),
            flows: FlowTable::new(limits.max_connections),
            next_conn: 0,
            last_ts: Timestamp::default(),
            stats: Stats::default(),
            limits,
        }
    }

    /// Number connections from `base + 1` on (to keep numbers unique over several inputs).
    pub fn set_conn_base(&mut self, base: ConnId) {
        self.next_conn = base;
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn stats(&self) -> Stats {
        Stats {
            websocket_conns: self.next_conn,
            ..self.stats
        }
    }

    /// Connections tracked right now (WebSocket or not yet decided).
    pub fn tracked_connections(&self) -> usize {
        self.flows.len()
    }

    /// Take one captured packet; events it completes are appended to `out`.
    pub fn packet(&mut self, pkt: &RawPacket<'_>, out: &mut Vec<Event>) {
        self.stats.packets += 1;
        self.stats.bytes += pkt.data.len() as u64;
        self.last_ts = pkt.ts.max(self.last_ts);
        let seg = match self.packets.decode(pkt) {
            Decoded::Tcp(seg) => seg,
            Decoded::NotTcp | Decoded::Fragment => return,
            Decoded::Malformed(_) => {
                self.stats.malformed += 1;
                return;
            }
            Decoded::FragmentDropped(detail) => {
                out.push(Event {
                    ts: pkt.ts,
                    conn: None,
                    kind: EventKind::Anomaly {
                        dir: None,
                        anomaly: Anomaly::new(AnomalyKind::IpFragmentLimit, detail),
                    },
                });
                return;
            }
        };
        self.stats.tcp_packets += 1;
        let key = FlowKey::new(seg.src, seg.dst);
        let mut ctx = Ctx {
            ts: pkt.ts,
            limits: &self.limits,
            next_conn: &mut self.next_conn,
            out,
        };
        let session = match self.flows.get_mut(&key) {
            Some(session) => session,
            None => {
                // A packet with nothing in it cannot start anything worth tracking (it is
                // typically the last ACK of a connection already ended).
                if seg.payload.is_empty() && seg.missing == 0 && !seg.flags.syn {
                    return;
                }
                // Late copies of an ended connection's segments are not a new connection.
                if self.flows.is_retired(&key) {
                    if !seg.flags.syn {
                        return;
                    }
                    self.flows.unretire(&key);
                }
                if let Some((_, mut old)) = self.flows.insert(key, Session::new(&seg, ctx.limits)) {
                    old.finish(EndHow::Evicted, &mut ctx);
                }
                match self.flows.get_mut(&key) {
                    Some(session) => session,
                    None => return,
                }
            }
        };
        session.segment(&seg, &mut ctx);
        if session.is_done() {
            self.flows.retire(&key);
        }
    }

    /// The input ended: every connection still open is finished (`end` with `"how":"eof"`).
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        let mut ctx = Ctx {
            ts: self.last_ts,
            limits: &self.limits,
            next_conn: &mut self.next_conn,
            out,
        };
        for (_, mut session) in self.flows.drain() {
            session.finish(EndHow::Eof, &mut ctx);
        }
    }

    /// Report that the input itself could not be read further (e.g. a corrupt record).
    pub fn input_error(&mut self, kind: AnomalyKind, detail: String, out: &mut Vec<Event>) {
        out.push(Event {
            ts: self.last_ts,
            conn: None,
            kind: EventKind::Anomaly {
                dir: None,
                anomaly: Anomaly::new(kind, detail),
            },
        });
    }
}
