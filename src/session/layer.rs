//! The layers a connection's bytes go through, as one list. Each takes both sides' byte
//! streams with the same contract (`feed` / `gap` / `end` / `finish`); a layer that learns what
//! its bytes carry becomes the next layer, handing over what it buffered:
//!
//! ```text
//!   TCP streams ─┬─ SYN seen ──────► Detect ─┬─ HTTP/1.x ──► Http1 ── 101 ──► WebSocket
//!                │                           ├─ ClientHello ► Tls ── plaintext ──► Detect …
//!                │                           ├─ h2 preface ► Http2 ── CONNECT 200 ──► WebSocket per stream
//!                │                           └─ other ─────► Ignored
//!                └─ picked up mid-stream ──► Probing ─┬─ frames ─► WebSocket (mid-stream)
//!                                                     └─ HTTP ───► Http1
//! ```
//!
//! A transform (TLS) owns the layer its output feeds, so the same layers run on decrypted
//! bytes as on cleartext ones.
//!
//! A new layer (a transform such as TLS, a protocol carrying several WebSockets such as
//! HTTP/2) is a new variant here and a file of its own beside this one.

use std::net::SocketAddr;
use std::sync::Arc;

use super::detect::Detect;
use super::http1::Http1;
use super::http2::Http2Layer;
use super::probing::{ProbePool, Probing};
use super::tls::TlsLayer;
use super::ws::WsConn;
use super::{ConnKind, Ctx};
use crate::event::{Anomaly, EndHow};
use crate::reassembly::GapReason;

pub(super) enum Layer {
    /// A connection seen from its SYN: its first bytes are to tell what it carries.
    Detect(Box<Detect>),
    /// TLS records decrypted; the plaintext feeds the layer inside.
    Tls(Box<TlsLayer>),
    /// HTTP/1.x exchanges until one upgrades to WebSocket.
    Http1(Box<Http1>),
    /// HTTP/2: a WebSocket per extended-CONNECT stream.
    Http2(Box<Http2Layer>),
    /// Seen without its SYN and not (yet) as HTTP: first bytes of each side, kept to look for
    /// WebSocket frames.
    Probing(Box<Probing>),
    /// One WebSocket connection over the whole byte stream.
    WebSocket(Box<WsConn>),
    /// Not WebSocket: the rest of the connection is ignored.
    Ignored,
}

impl Layer {
    /// The first layer of a connection between `endpoints` (side 0 first).
    pub fn first(endpoints: [SocketAddr; 2], syn: bool, probes: &Arc<ProbePool>) -> Layer {
        if syn {
            Layer::Detect(Box::new(Detect::new(endpoints)))
        } else {
            Layer::Probing(Box::new(Probing::new(endpoints, probes)))
        }
    }

    pub fn feed(&mut self, side: usize, data: &[u8], ctx: &mut Ctx<'_>) {
        let next = match self {
            Layer::Detect(d) => d.feed(side, data, ctx),
            Layer::Tls(t) => {
                t.feed(side, data, ctx);
                None
            }
            Layer::Http1(h) => h.feed(side, data, ctx),
            Layer::Http2(h) => {
                h.feed(side, data, ctx);
                None
            }
            Layer::Probing(p) => p.feed(side, data, ctx),
            Layer::WebSocket(ws) => {
                ws.feed(side, data, ctx);
                None
            }
            Layer::Ignored => None,
        };
        self.become_(next);
    }

    pub fn gap(&mut self, side: usize, len: u64, reason: GapReason, ctx: &mut Ctx<'_>) {
        let next = match self {
            Layer::Detect(d) => d.gap(side, len, reason, ctx),
            Layer::Tls(t) => {
                t.gap(side, len, reason, ctx);
                None
            }
            Layer::Http1(h) => h.gap(side, len, reason, ctx),
            Layer::Http2(h) => {
                h.gap(side, len, reason, ctx);
                None
            }
            Layer::Probing(p) => {
                p.gap(side);
                None
            }
            Layer::WebSocket(ws) => {
                ws.gap(side, len, reason, ctx);
                None
            }
            Layer::Ignored => None,
        };
        self.become_(next);
    }

    /// `side` ended (FIN or RST).
    pub fn end(&mut self, side: usize, how: EndHow, ctx: &mut Ctx<'_>) {
        match self {
            Layer::WebSocket(ws) => ws.end_side(side, how, ctx),
            Layer::Tls(t) => t.end(side, how, ctx),
            Layer::Http2(h) => h.end(side, how, ctx),
            _ => {}
        }
    }

    /// Nothing more will come: decide with what there is, and end what is open.
    pub fn finish(&mut self, how: EndHow, ctx: &mut Ctx<'_>) {
        let next = match self {
            Layer::Detect(d) => d.finish(ctx),
            Layer::Probing(p) => p.decide(true, ctx),
            _ => None,
        };
        self.become_(next);
        match self {
            Layer::WebSocket(ws) => ws.end_all(how, ctx),
            Layer::Tls(t) => t.finish(how, ctx),
            Layer::Http2(h) => h.finish(how, ctx),
            _ => {}
        }
    }

    /// An anomaly found underneath (TCP, TLS) about `side`'s stream: reported on the
    /// WebSocket it concerns if the connection carries one by now; else handed back.
    pub fn report(&mut self, side: usize, anomaly: Anomaly, ctx: &mut Ctx<'_>) -> Option<Anomaly> {
        match self {
            Layer::WebSocket(ws) => {
                let dir = ws.dir_of(side);
                ws.anomaly(Some(dir), anomaly, ctx);
                None
            }
            Layer::Tls(t) => t.inner_mut().report(side, anomaly, ctx),
            Layer::Http2(h) => {
                h.report(side, anomaly, ctx);
                None
            }
            _ => Some(anomaly),
        }
    }

    pub fn kind(&self) -> ConnKind {
        match self {
            Layer::Detect(_) | Layer::Http1(_) | Layer::Probing(_) => ConnKind::Pending,
            Layer::Tls(t) => t.inner().kind(),
            Layer::Http2(h) if h.carries_websocket() => ConnKind::WebSocket,
            Layer::Http2(_) => ConnKind::Pending,
            Layer::WebSocket(_) => ConnKind::WebSocket,
            Layer::Ignored => ConnKind::Ignored,
        }
    }

    /// Whether the connection is over as far as the layers are concerned; `None`: as far as
    /// TCP says.
    pub fn is_done(&self) -> Option<bool> {
        match self {
            Layer::WebSocket(ws) => Some(ws.all_ended()),
            Layer::Tls(t) => t.inner().is_done(),
            _ => None,
        }
    }

    /// Every WebSocket the layers carry (one, or one per HTTP/2 stream; inside TLS too).
    pub fn websockets(&mut self, f: &mut dyn FnMut(&mut WsConn)) {
        match self {
            Layer::WebSocket(ws) => f(ws),
            Layer::Tls(t) => t.inner_mut().websockets(f),
            Layer::Http2(h) => h.websockets(f),
            Layer::Detect(_) | Layer::Http1(_) | Layer::Probing(_) | Layer::Ignored => {}
        }
    }

    /// Heap bytes the layers hold (beyond the session itself).
    pub fn memory(&self) -> usize {
        match self {
            Layer::Detect(d) => std::mem::size_of::<Detect>() + d.memory(),
            Layer::Tls(t) => t.memory(),
            Layer::Http2(h) => h.memory(),
            Layer::Http1(h) => h.memory(),
            Layer::Probing(p) => p.memory(),
            Layer::WebSocket(ws) => ws.memory(),
            Layer::Ignored => 0,
        }
    }

    /// Memory pressure (`Limits::memcap`): drop what can be dropped without losing track of
    /// the connection — WebSocket messages being assembled, each reported. Returns the bytes
    /// freed.
    pub fn shed(&mut self, ctx: &mut Ctx<'_>) -> usize {
        match self {
            Layer::WebSocket(ws) => ws.shed(ctx),
            Layer::Tls(t) => t.inner_mut().shed(ctx),
            Layer::Http2(h) => h.shed(ctx),
            _ => 0,
        }
    }

    fn become_(&mut self, next: Option<Layer>) {
        if let Some(next) = next {
            *self = next;
        }
    }
}
