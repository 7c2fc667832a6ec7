//! The HTTP/1.x layer: exchanges followed until one is a WebSocket upgrade answered with 101
//! (RFC 6455 §4), then the connection becomes that WebSocket; or it is shown not to be one.

use std::net::SocketAddr;

use super::Ctx;
use super::http2::Http2Layer;
use super::layer::Layer;
use super::ws::WsConn;
use crate::event::{AnomalyKind, Event, EventKind, Refused, TlsInfo, Transport};
use crate::handshake::{HttpPhase, HttpStatus, Refusal, RestPiece, Upgrade};
use crate::limits::Limits;
use crate::message::{DirConfig, DirDeflate, Sender, WsDecoder};
use crate::reassembly::GapReason;

pub(super) struct Http1 {
    endpoints: [SocketAddr; 2],
    /// The TLS connection these exchanges run in, if any (it goes on the `open`).
    tls: Option<TlsInfo>,
    phase: HttpPhase,
    /// Bytes per side that the snap length cut before the connection was recognised.
    cut_before_open: [u64; 2],
}

impl Http1 {
    pub fn new(endpoints: [SocketAddr; 2], tls: Option<TlsInfo>, limits: &Limits) -> Http1 {
        Http1 {
            endpoints,
            tls,
            phase: HttpPhase::new(limits.max_handshake_bytes),
            cut_before_open: [0; 2],
        }
    }

    /// Heap bytes held (the HTTP heads being read).
    pub fn memory(&self) -> usize {
        std::mem::size_of::<Http1>() + self.phase.memory()
    }

    pub fn feed(&mut self, side: usize, data: &[u8], ctx: &mut Ctx<'_>) -> Option<Layer> {
        self.phase.set_time(ctx.ts);
        let status = self.phase.feed(side, data);
        self.on_status(status, ctx)
    }

    pub fn gap(
        &mut self,
        side: usize,
        len: u64,
        reason: GapReason,
        ctx: &mut Ctx<'_>,
    ) -> Option<Layer> {
        if let (GapReason::Truncated, Some(cut)) = (reason, self.cut_before_open.get_mut(side)) {
            *cut = cut.saturating_add(len);
        }
        self.phase.set_time(ctx.ts);
        let status = self
            .phase
            .gap_len(side, len, reason == GapReason::Truncated);
        self.on_status(status, ctx)
    }

    fn on_status(&mut self, status: HttpStatus, ctx: &mut Ctx<'_>) -> Option<Layer> {
        // Before whatever the same bytes decided: the refusals came first on the wire.
        for refusal in self.phase.take_refusals() {
            self.refused(refusal, ctx);
        }
        match status {
            HttpStatus::Pending => None,
            HttpStatus::NotWebSocket {
                reason, over_limit, ..
            } => {
                // Given up for the limit, not for what the bytes said: account for it (the
                // connection has no number yet, so the anomaly names its endpoints).
                if over_limit {
                    let [a, b] = self.endpoints;
                    ctx.out.push(Event::input_anomaly(
                        ctx.ts,
                        AnomalyKind::HandshakeTooLarge,
                        format!("connection {a} <-> {b}: {reason}: not followed"),
                        ctx.packet,
                    ));
                }
                Some(Layer::Ignored)
            }
            HttpStatus::Upgraded(upgrade) if upgrade.h2c => Some(self.h2c(*upgrade, ctx)),
            HttpStatus::Upgraded(upgrade) => Some(Layer::WebSocket(self.open(*upgrade, ctx))),
        }
    }

    /// A `refused` event for an upgrade request answered with something other than 101.
    fn refused(&self, refusal: Refusal, ctx: &mut Ctx<'_>) {
        let client_side = refusal.client_side.min(1);
        let [a, b] = self.endpoints;
        let (client, server) = if client_side == 0 { (a, b) } else { (b, a) };
        ctx.out.push(Event {
            ts: refusal.handshake.response_ts.unwrap_or(ctx.ts),
            conn: None,
            kind: EventKind::Refused(Box::new(Refused {
                transport: Transport {
                    client,
                    server,
                    stream: None,
                },
                uri: refusal.uri,
                handshake: refusal.handshake,
                tls: self.tls.clone(),
            })),
        });
    }

    /// `Upgrade: h2c` answered 101 (RFC 7540 §3.2): the connection goes on as HTTP/2, whose
    /// extended CONNECT streams may carry WebSockets. Stream 1 is the upgraded request (not a
    /// WebSocket); what each side sent after its HTTP/1.1 head is HTTP/2 from the start.
    fn h2c(&self, upgrade: Upgrade, ctx: &mut Ctx<'_>) -> Layer {
        let mut h2 =
            Http2Layer::after_h2c(self.endpoints, upgrade.client_side, self.tls.clone(), ctx);
        for (side, rest) in upgrade.rest.iter().enumerate() {
            if !rest.is_empty() {
                h2.feed(side, rest, ctx);
            }
            for piece in upgrade.rest_after.get(side).into_iter().flatten() {
                match piece {
                    RestPiece::Lost { len, truncated } => {
                        h2.gap(side, *len, lost_reason(*truncated), ctx);
                    }
                    RestPiece::Bytes(b) => h2.feed(side, b, ctx),
                }
            }
        }
        Layer::Http2(Box::new(h2))
    }

    /// The upgrade completed: number the connection, report it, decode what followed it.
    fn open(&self, mut upgrade: Upgrade, ctx: &mut Ctx<'_>) -> Box<WsConn> {
        let client_side = upgrade.client_side.min(1);
        upgrade.info.tls = self.tls.clone();
        let deflate = upgrade.deflate;
        let decoder = |sender: Sender| {
            let dir_deflate = deflate.map(|p| DirDeflate::for_sender(&p, sender));
            let mut config = DirConfig::new(sender, dir_deflate, ctx.limits);
            config.pool = Some(ctx.pool.clone());
            WsDecoder::new(config)
        };
        let decoders = [decoder(Sender::Client), decoder(Sender::Server)];
        let mut ws = WsConn::start(
            self.endpoints,
            client_side,
            None,
            decoders,
            upgrade.info,
            ctx,
        );
        for (dir, anomaly) in upgrade.anomalies {
            ws.anomaly(Some(dir), anomaly, ctx);
        }
        for (side, &cut) in self.cut_before_open.iter().enumerate() {
            if cut > 0 {
                ws.report_gap(side, cut, GapReason::Truncated, ctx);
            }
        }
        for (side, rest) in upgrade.rest.iter().enumerate() {
            let resync = upgrade.resync.get(side).copied().unwrap_or(false);
            let dir = ws.dir_of(side);
            if !rest.is_empty() || resync {
                ws.decode(dir, ctx, |d, out| {
                    if resync {
                        // Bytes right after the handshake were lost: find a frame boundary.
                        d.gap(0, out);
                    }
                    d.feed(rest, out);
                });
            }
            // What followed `rest` before the upgrade was decided, as if it came after it.
            for piece in upgrade.rest_after.get(side).into_iter().flatten() {
                match piece {
                    RestPiece::Lost { len, truncated } => {
                        let why = lost_reason(*truncated);
                        if *len > 0 {
                            ws.report_gap(side, *len, why, ctx);
                        }
                        ws.decode(dir, ctx, |d, out| d.gap(*len, out));
                    }
                    RestPiece::Bytes(b) => ws.decode(dir, ctx, |d, out| d.feed(b, out)),
                }
            }
        }
        ws
    }
}

/// Why bytes received before the upgrade was decided were lost.
fn lost_reason(truncated: bool) -> GapReason {
    if truncated {
        GapReason::Truncated
    } else {
        GapReason::NeverFilled
    }
}
