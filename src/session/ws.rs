//! A connection recognised as WebSocket: its two directions' decoders, its totals, its health,
//! and the application protocol decoded from its messages, if any.

use std::net::SocketAddr;

use super::Ctx;
use crate::event::{
    Anomaly, AnomalyKind, ConnRef, Dir, DirEvent, EndHow, EndReport, Event, EventKind, OpenInfo,
    Timestamp,
};
use crate::health::{Beat, Health, HealthLimits};
use crate::message::WsDecoder;
use crate::proto::{MsgRef, ProtoConfig, ProtoConn, ProtoHints, Unit};
use crate::reassembly::GapReason;

pub(super) struct WsConn {
    pub conn: ConnRef,
    /// Which side (0 or 1) is the client.
    client_side: usize,
    /// Indexed by `Dir::index`.
    decoders: [WsDecoder; 2],
    /// Per side: FIN, RST or the end of input seen.
    ended: [bool; 2],
    /// Per side: `truncated_capture` was reported.
    truncation_reported: [bool; 2],
    messages: u64,
    bytes: u64,
    /// Reusable buffer for one decoder call's events.
    scratch: Vec<DirEvent>,
    health: Health,
    /// The silence alarm fired and the connection has not spoken since (see
    /// [`WsConn::silence_alarm`]).
    silent: bool,
    /// The application protocol's decoder (`None` when decoding is turned off).
    proto: Option<ProtoConn>,
    /// Reusable buffer for the units one message completes.
    units: Vec<Unit>,
}

impl WsConn {
    /// Number the connection and report it open. `endpoints`: the TCP sides (0 first);
    /// `stream`: the HTTP/2 stream carrying it, if any; `decoders`: client's, then server's.
    pub fn start(
        endpoints: [SocketAddr; 2],
        client_side: usize,
        stream: Option<u32>,
        decoders: [WsDecoder; 2],
        mut info: OpenInfo,
        ctx: &mut Ctx<'_>,
    ) -> Box<WsConn> {
        // The upgrade is decided by the answer to it: the packet being handled completed that.
        if !info.mid_stream {
            info.handshake.response_packet = ctx.packet;
        }
        debug_assert!(client_side <= 1, "a side is 0 or 1");
        let client_side = client_side.min(1);
        let conn = ConnRef {
            id: ctx.number_conn(),
            client: if client_side == 0 {
                endpoints[0]
            } else {
                endpoints[1]
            },
            server: if client_side == 0 {
                endpoints[1]
            } else {
                endpoints[0]
            },
            stream,
        };
        let hints = ProtoHints {
            subprotocol: info.subprotocol.as_deref(),
            uri: info.uri.as_deref(),
        };
        let config = ProtoConfig {
            max_unit_bytes: ctx.limits.max_proto_unit_bytes,
            max_pending_requests: ctx.limits.max_proto_pending_requests,
            ..ProtoConfig::default()
        };
        let proto = ProtoConn::new(&hints, ctx.proto, config);
        ctx.out.push(Event {
            ts: ctx.ts,
            conn: Some(conn),
            kind: EventKind::Open(Box::new(info)),
        });
        Box::new(WsConn {
            conn,
            client_side,
            decoders,
            ended: [false; 2],
            truncation_reported: [false; 2],
            messages: 0,
            bytes: 0,
            scratch: Vec::new(),
            health: Health::with_limits(
                ctx.ts,
                HealthLimits {
                    max_outstanding_pings: ctx.limits.max_outstanding_pings,
                    exact_rtt_samples: ctx.limits.exact_rtt_samples,
                },
            ),
            silent: false,
            proto,
            units: Vec::new(),
        })
    }

    pub fn dir_of(&self, side: usize) -> Dir {
        if side == self.client_side {
            Dir::C2s
        } else {
            Dir::S2c
        }
    }

    pub fn side_of(&self, dir: Dir) -> usize {
        match dir {
            Dir::C2s => self.client_side,
            Dir::S2c => 1 - self.client_side,
        }
    }

    /// Both directions sent their close frame (the close handshake is done).
    pub fn closed_both(&self) -> bool {
        self.decoders.iter().all(WsDecoder::close_seen)
    }

    /// Some side sent its close frame (the close handshake has begun).
    pub fn closing(&self) -> bool {
        self.decoders.iter().any(WsDecoder::close_seen)
    }

    pub fn all_ended(&self) -> bool {
        self.ended.iter().all(|&e| e)
    }

    /// Bytes of `side`'s stream.
    pub fn feed(&mut self, side: usize, data: &[u8], ctx: &mut Ctx<'_>) {
        let dir = self.dir_of(side);
        self.decode(dir, ctx, |d, out| d.feed(data, out));
    }

    /// `len` bytes of `side`'s stream are lost: reported, and the decoder told.
    pub fn gap(&mut self, side: usize, len: u64, reason: GapReason, ctx: &mut Ctx<'_>) {
        let dir = self.dir_of(side);
        self.report_gap(side, len, reason, ctx);
        if let Some(proto) = &mut self.proto {
            proto.lost(dir);
        }
        self.decode(dir, ctx, |d, out| d.gap(len, out));
    }

    /// Heap bytes held: the decoders (messages being assembled, inflaters) and buffers.
    pub fn memory(&self) -> usize {
        let decoders: usize = self.decoders.iter().map(WsDecoder::memory).sum();
        std::mem::size_of::<WsConn>()
            + decoders
            + self.scratch.capacity() * std::mem::size_of::<DirEvent>()
    }

    /// Memory pressure (`Limits::memcap`): both decoders drop their messages in assembly,
    /// each reported. Returns the bytes freed.
    pub fn shed(&mut self, ctx: &mut Ctx<'_>) -> usize {
        let mut freed = 0;
        for dir in [Dir::C2s, Dir::S2c] {
            self.decode(dir, ctx, |d, out| freed += d.shed(out));
        }
        freed + std::mem::take(&mut self.scratch).capacity() * std::mem::size_of::<DirEvent>()
    }

    /// One call into `dir`'s decoder; its events are stamped and handed on.
    pub fn decode(
        &mut self,
        dir: Dir,
        ctx: &mut Ctx<'_>,
        call: impl FnOnce(&mut WsDecoder, &mut Vec<DirEvent>),
    ) {
        let mut events = std::mem::take(&mut self.scratch);
        if let Some(decoder) = self.decoders.get_mut(dir.index()) {
            decoder.set_time(ctx.ts);
            decoder.set_packet(ctx.packet);
            call(decoder, &mut events);
        }
        self.emit(dir, &mut events, ctx);
        self.scratch = events;
    }

    /// Stamp a decoder's events with the connection, direction and time; each message is
    /// followed by the protocol units it completed.
    fn emit(&mut self, dir: Dir, events: &mut Vec<DirEvent>, ctx: &mut Ctx<'_>) {
        for ev in events.drain(..) {
            let kind = match ev {
                DirEvent::Message(msg) => {
                    if std::mem::take(&mut self.silent) {
                        // Before the message that broke the silence, measured up to it.
                        ctx.out.push(Event {
                            ts: ctx.ts,
                            conn: Some(self.conn),
                            kind: EventKind::Silence {
                                silent_us: self.silent_for(ctx.ts),
                                ended: true,
                            },
                        });
                    }
                    self.messages += 1;
                    self.bytes += msg.payload.len() as u64;
                    self.health.message(dir, ctx.ts, &msg);
                    if let Some(proto) = &mut self.proto {
                        let m = MsgRef {
                            dir,
                            ts: ctx.ts,
                            opcode: msg.opcode,
                            payload: &msg.payload,
                        };
                        proto.message(&m, &mut self.units);
                    }
                    EventKind::Message { dir, msg }
                }
                DirEvent::Anomaly(anomaly) => EventKind::Anomaly {
                    dir: Some(dir),
                    anomaly: anomaly.at(ctx.packet),
                },
            };
            ctx.out.push(Event {
                ts: ctx.ts,
                conn: Some(self.conn),
                kind,
            });
            if self.units.is_empty() {
                // Most messages complete no unit: not even an empty drain.
                continue;
            }
            for unit in self.units.drain(..) {
                if let Some((request, key)) = heartbeat(&unit) {
                    let beat = if request {
                        Beat::Request { key: &key }
                    } else {
                        Beat::Answer { key: &key }
                    };
                    self.health.heartbeat(unit.dir, unit.ts, beat);
                }
                ctx.out.push(Event {
                    ts: ctx.ts,
                    conn: Some(self.conn),
                    kind: EventKind::Proto(Box::new(unit)),
                });
            }
        }
    }

    /// Microseconds since the last message either way (since the open before any) at `now`.
    fn silent_for(&self, now: Timestamp) -> u64 {
        Dir::BOTH
            .map(|d| self.health.silent_for(d, now))
            .into_iter()
            .min()
            .unwrap_or(0)
    }

    /// The live silence alarm at `now`: one `silence` event when no message went either way
    /// for longer than `after_us`, not again until the connection has spoken (which gives
    /// the `silence` event with `ended`). A connection whose closing handshake has begun, or
    /// with a TCP direction ended, is expected to go quiet: no alarm. Returns whether it
    /// fired.
    pub fn silence_alarm(&mut self, now: Timestamp, after_us: u64, ctx: &mut Ctx<'_>) -> bool {
        if self.silent || self.closing() || self.ended.iter().any(|&e| e) {
            return false;
        }
        let silent_us = self.silent_for(now);
        if silent_us <= after_us {
            return false;
        }
        self.silent = true;
        ctx.out.push(Event {
            ts: now,
            conn: Some(self.conn),
            kind: EventKind::Silence {
                silent_us,
                ended: false,
            },
        });
        true
    }

    pub fn anomaly(&self, dir: Option<Dir>, anomaly: Anomaly, ctx: &mut Ctx<'_>) {
        ctx.out.push(Event {
            ts: ctx.ts,
            conn: Some(self.conn),
            kind: EventKind::Anomaly {
                dir,
                anomaly: anomaly.at(ctx.packet),
            },
        });
    }

    /// Bytes of `side`'s stream are lost: `tcp_gap`, or `truncated_capture` once per direction
    /// when the snap length cut them.
    pub fn report_gap(&mut self, side: usize, len: u64, reason: GapReason, ctx: &mut Ctx<'_>) {
        let dir = self.dir_of(side);
        let Some(reported) = self.truncation_reported.get_mut(side) else {
            return;
        };
        if let Some(anomaly) = gap_anomaly(len, reason, reported) {
            self.anomaly(Some(dir), anomaly, ctx);
        }
    }

    /// `side` ended; when both have, the connection's `end` event.
    pub fn end_side(&mut self, side: usize, how: EndHow, ctx: &mut Ctx<'_>) {
        match self.ended.get_mut(side) {
            Some(ended) if !*ended => *ended = true,
            _ => return,
        }
        let dir = self.dir_of(side);
        self.decode(dir, ctx, |d, out| d.finish(out));
        self.health.tcp_end(dir, how, ctx.ts);
        if self.all_ended() {
            let report = EndReport {
                health: self.health.report(ctx.ts),
                unanswered: self
                    .proto
                    .as_mut()
                    .map(ProtoConn::finish)
                    .unwrap_or_default(),
            };
            ctx.out.push(Event {
                ts: ctx.ts,
                conn: Some(self.conn),
                kind: EventKind::End {
                    how,
                    messages: self.messages,
                    bytes: self.bytes,
                    report: Some(Box::new(report)),
                },
            });
        }
    }

    /// End both directions (client's first), e.g. at the end of input.
    pub fn end_all(&mut self, how: EndHow, ctx: &mut Ctx<'_>) {
        for dir in Dir::BOTH {
            let side = self.side_of(dir);
            self.end_side(side, how, ctx);
        }
    }
}

/// The anomaly for `len` bytes of a stream lost for `reason`: `tcp_gap`, or
/// `truncated_capture` only the first time for a direction (`truncation_reported` remembers);
/// none for a loss a layer underneath reported.
pub(super) fn gap_anomaly(
    len: u64,
    reason: GapReason,
    truncation_reported: &mut bool,
) -> Option<Anomaly> {
    match reason {
        GapReason::Truncated => (!std::mem::replace(truncation_reported, true)).then(|| {
            Anomaly::new(
                AnomalyKind::TruncatedCapture,
                format!(
                    "packets cut short by the capture's snap length: {} lost \
                     (further cuts in this direction are not reported again)",
                    crate::plural::count(len, "byte", "bytes")
                ),
            )
        }),
        GapReason::NeverFilled | GapReason::BufferLimit => {
            let why = if reason == GapReason::BufferLimit {
                "given up at the out-of-order buffer limit (max_ooo_bytes)"
            } else {
                "never captured"
            };
            Some(Anomaly::new(
                AnomalyKind::TcpGap,
                format!(
                    "{} missing from the TCP stream ({why})",
                    crate::plural::count(len, "byte", "bytes")
                ),
            ))
        }
        GapReason::Below => None,
    }
}

/// An application-level heartbeat among the units: (is it the request, the key pairing it
/// with its answer). MQTT PINGREQ/PINGRESP, Engine.IO ping/pong (with their data, `probe`
/// during the upgrade), GraphQL-over-WebSocket ping/pong. SignalR's Ping is one-way: no beat.
fn heartbeat(unit: &Unit) -> Option<(bool, Vec<u8>)> {
    let data = || {
        unit.fields
            .get("data")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .as_bytes()
            .to_vec()
    };
    match (unit.proto, unit.kind.as_str()) {
        ("mqtt", "PINGREQ") => Some((true, b"mqtt".to_vec())),
        ("mqtt", "PINGRESP") => Some((false, b"mqtt".to_vec())),
        ("engineio", "ping") => Some((true, data())),
        ("engineio", "pong") => Some((false, data())),
        ("graphql-ws", "ping") => Some((true, Vec::new())),
        ("graphql-ws", "pong") => Some((false, Vec::new())),
        _ => None,
    }
}
