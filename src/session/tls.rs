//! TLS as a layer: both sides' records decrypted with the key log's secrets (see
//! [`crate::tls`]); the plaintext goes on to the next layer exactly as a cleartext
//! connection's bytes would, chosen by what it starts with (ALPN `h2` says HTTP/2 up front).
//! What cannot be decrypted is reported on the WebSocket it concerns when one is open inside,
//! else on the TCP connection itself (it has no WebSocket number: `tls_no_keys`).

use std::net::SocketAddr;

use super::detect::Detect;
use super::layer::Layer;
use super::ws::gap_anomaly;
use super::{Ctx, Tally};
use crate::event::{Anomaly, Dir, Event, EventKind, Transport};
use crate::reassembly::GapReason;
use crate::tls::{TlsConfig, TlsConn, TlsEvent};

pub(super) struct TlsLayer {
    endpoints: [SocketAddr; 2],
    conn: TlsConn,
    /// The layer the plaintext feeds.
    inner: Layer,
    /// Per side: `truncated_capture` was reported.
    truncation_reported: [bool; 2],
    /// Counted among the connections without keys (once, whichever side lacked them).
    counted_no_keys: bool,
}

impl TlsLayer {
    pub fn new(endpoints: [SocketAddr; 2], ctx: &Ctx<'_>) -> TlsLayer {
        let config = TlsConfig {
            max_pending_bytes: ctx.limits.max_tls_pending_bytes,
            max_handshake_bytes: ctx.limits.max_handshake_bytes,
            ..TlsConfig::default()
        };
        TlsLayer {
            endpoints,
            conn: TlsConn::new(config),
            inner: Layer::Detect(Box::new(Detect::inside_tls(endpoints, None))),
            truncation_reported: [false; 2],
            counted_no_keys: false,
        }
    }

    pub fn feed(&mut self, side: usize, data: &[u8], ctx: &mut Ctx<'_>) {
        let keys = ctx.keys;
        let mut anomalies = Vec::new();
        let (conn, inner, endpoints) = (&mut self.conn, &mut self.inner, self.endpoints);
        conn.feed(side, data, keys, &mut |ev| {
            up(inner, ev, endpoints, &mut anomalies, ctx);
        });
        self.report(anomalies, ctx);
    }

    /// Key log lines were added: records held for them are decrypted and handed up now.
    pub fn keys_added(&mut self, ctx: &mut Ctx<'_>) {
        let keys = ctx.keys;
        let mut anomalies = Vec::new();
        let (conn, inner, endpoints) = (&mut self.conn, &mut self.inner, self.endpoints);
        conn.keys_added(keys, &mut |ev| {
            up(inner, ev, endpoints, &mut anomalies, ctx);
        });
        self.report(anomalies, ctx);
    }

    /// `len` bytes of `side`'s TCP stream are lost: reported here (the plaintext layers only
    /// learn what became of the records).
    pub fn gap(&mut self, side: usize, len: u64, reason: GapReason, ctx: &mut Ctx<'_>) {
        let keys = ctx.keys;
        let mut anomalies = Vec::new();
        if let Some(reported) = self.truncation_reported.get_mut(side)
            && let Some(anomaly) = gap_anomaly(len, reason, reported)
        {
            anomalies.push((Some(side), anomaly));
        }
        let (conn, inner, endpoints) = (&mut self.conn, &mut self.inner, self.endpoints);
        conn.gap(side, len, keys, &mut |ev| {
            up(inner, ev, endpoints, &mut anomalies, ctx);
        });
        self.report(anomalies, ctx);
    }

    /// `side` ended (TCP FIN or RST): the plaintext of that side ends too.
    pub fn end(&mut self, side: usize, how: crate::event::EndHow, ctx: &mut Ctx<'_>) {
        self.inner.end(side, how, ctx);
    }

    pub fn finish(&mut self, how: crate::event::EndHow, ctx: &mut Ctx<'_>) {
        let keys = ctx.keys;
        let mut anomalies = Vec::new();
        let (conn, inner, endpoints) = (&mut self.conn, &mut self.inner, self.endpoints);
        conn.finish(keys, &mut |ev| {
            up(inner, ev, endpoints, &mut anomalies, ctx);
        });
        self.report(anomalies, ctx);
        self.inner.finish(how, ctx);
    }

    pub fn inner(&self) -> &Layer {
        &self.inner
    }

    pub fn inner_mut(&mut self) -> &mut Layer {
        &mut self.inner
    }

    pub fn memory(&self) -> usize {
        std::mem::size_of::<TlsLayer>() + self.conn.memory() + self.inner.memory()
    }

    /// The TLS layer's anomalies: on the WebSocket inside when there is one, else on the
    /// TCP connection, named by its endpoints (client first once the ClientHello told).
    fn report(&mut self, anomalies: Vec<(Option<usize>, Anomaly)>, ctx: &mut Ctx<'_>) {
        let client = self.conn.client_side();
        for (side, anomaly) in anomalies {
            if anomaly.kind == crate::event::AnomalyKind::TlsNoKeys && !self.counted_no_keys {
                self.counted_no_keys = true;
                Tally::count(&ctx.tally.tls_no_keys);
            }
            let anomaly = match side {
                Some(side) => match self.inner.report(side, anomaly, ctx) {
                    None => continue,
                    Some(back) => back,
                },
                None => anomaly,
            };
            let [a, b] = self.endpoints;
            let (client_addr, server_addr) = if client == Some(1) { (b, a) } else { (a, b) };
            let transport = Transport {
                client: client_addr,
                server: server_addr,
                stream: None,
            };
            let dir = side.map(|s| {
                if Some(s) == client {
                    Dir::C2s
                } else {
                    Dir::S2c
                }
            });
            ctx.out.push(Event {
                ts: ctx.ts,
                conn: None,
                kind: EventKind::Anomaly {
                    dir: client.and(dir),
                    anomaly: anomaly.on_transport(transport).at(ctx.packet),
                },
            });
        }
    }
}

/// One TLS event handed up: plaintext and losses to the inner layer, anomalies kept for
/// `report` (which needs the connection's client side).
fn up(
    inner: &mut Layer,
    ev: TlsEvent<'_>,
    endpoints: [SocketAddr; 2],
    anomalies: &mut Vec<(Option<usize>, Anomaly)>,
    ctx: &mut Ctx<'_>,
) {
    match ev {
        TlsEvent::Established(info) => {
            // Nothing has been handed up yet: the inner layer starts over knowing the TLS
            // facts (they go on the `open` of every WebSocket inside).
            if let Layer::Detect(d) = inner {
                **d = Detect::inside_tls(endpoints, Some(info.clone()));
            }
        }
        TlsEvent::Plaintext { side, data } => inner.feed(side, data, ctx),
        TlsEvent::Lost { side, len } => inner.gap(side, len, GapReason::Below, ctx),
        TlsEvent::Closed { side } => inner.end(side, crate::event::EndHow::Fin, ctx),
        TlsEvent::Anomaly { side, anomaly } => anomalies.push((side, anomaly)),
    }
}
