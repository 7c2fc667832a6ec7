//! What a connection seen from its SYN carries, told by its first bytes (no port lists): each
//! candidate layer's sniffer looks at the bytes each side sent first; HTTP/1.x is what is left,
//! and its own parser turns away what is not HTTP after a few bytes.

use std::net::SocketAddr;

use super::http1::Http1;
use super::http2::Http2Layer;
use super::layer::Layer;
use super::tls::TlsLayer;
use super::{Ctx, Tally};
use crate::event::TlsInfo;
use crate::reassembly::GapReason;

/// A sniffer's answer about a side's first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniff {
    Yes,
    No,
    /// Too few bytes to tell.
    NeedMore,
}

/// Bytes kept per side while deciding: more than any sniffer needs.
const MAX_HELD: usize = 64;

pub(super) struct Detect {
    endpoints: [SocketAddr; 2],
    /// Inside a TLS connection: its facts (once the handshake told them), and no TLS again.
    tls: Option<TlsInfo>,
    inside_tls: bool,
    /// The first bytes of each side, until the layer is chosen.
    held: [Vec<u8>; 2],
    /// The side whose bytes came first (its bytes are handed on first).
    first_side: Option<usize>,
}

/// The layers that can be told from a side's first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Choice {
    Http1,
    /// A TLS handshake record (RFC 8446 §5.1): ContentType 22, legacy version 3.x.
    Tls,
    /// The HTTP/2 client connection preface (RFC 9113 §3.4).
    Http2,
}

type Sniffer = fn(&[u8]) -> Sniff;

/// Every layer that can be told by its first bytes, asked in this order; HTTP/1.x is what
/// remains once none says yes (its parser rejects non-HTTP bytes quickly).
const CANDIDATES: [(Choice, Sniffer); 2] = [(Choice::Tls, sniff_tls), (Choice::Http2, sniff_h2)];

/// A ClientHello says TLS. A ServerHello seen first (the capture holds the server's answer
/// before the client's hello: a retransmitted hello, merged taps) waits for the hello.
fn sniff_tls(first: &[u8]) -> Sniff {
    match crate::tls::sniff(first) {
        crate::tls::Sniff::Yes => Sniff::Yes,
        crate::tls::Sniff::NeedMore(_) => Sniff::NeedMore,
        crate::tls::Sniff::No => match first {
            // RFC 8446 §4: handshake record, then server_hello (2).
            [0x16, 0x03, minor, _, _, 2, ..] if *minor <= 0x04 => Sniff::NeedMore,
            _ => Sniff::No,
        },
    }
}

/// RFC 9113 §3.4: the preface starts with `PRI * HTTP/2.0`, which no HTTP/1.1 request can.
fn sniff_h2(first: &[u8]) -> Sniff {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let n = first.len().min(PREFACE.len());
    match (first.get(..n), PREFACE.get(..n)) {
        (Some(a), Some(b)) if a != b => Sniff::No,
        _ if n == PREFACE.len() => Sniff::Yes,
        _ => Sniff::NeedMore,
    }
}

impl Detect {
    pub fn new(endpoints: [SocketAddr; 2]) -> Detect {
        Detect {
            endpoints,
            tls: None,
            inside_tls: false,
            held: [Vec::new(), Vec::new()],
            first_side: None,
        }
    }

    /// The plaintext of a TLS connection (`tls`: what its handshake said, once known).
    pub fn inside_tls(endpoints: [SocketAddr; 2], tls: Option<TlsInfo>) -> Detect {
        Detect {
            tls,
            inside_tls: true,
            ..Detect::new(endpoints)
        }
    }

    pub fn feed(&mut self, side: usize, data: &[u8], ctx: &mut Ctx<'_>) -> Option<Layer> {
        let held = self.held.get_mut(side)?;
        self.first_side.get_or_insert(side);
        // Sniffers need the first few bytes only: those are kept, the rest passed on.
        let (head, rest) = data.split_at(data.len().min(MAX_HELD.saturating_sub(held.len())));
        held.extend_from_slice(head);
        let choice = match self.choose(false) {
            Some(choice) => choice,
            None if rest.is_empty() => return None,
            // More than a sniffer needs is here: decide with it.
            None => self.choose(true).unwrap_or(Choice::Http1),
        };
        Some(self.hand_over(choice, (!rest.is_empty()).then_some((side, rest)), ctx))
    }

    /// Bytes were lost before anything was decided: decide now with what is held and let the
    /// chosen layer deal with the loss.
    pub fn gap(
        &mut self,
        side: usize,
        len: u64,
        reason: GapReason,
        ctx: &mut Ctx<'_>,
    ) -> Option<Layer> {
        let choice = self.choose(true).unwrap_or(Choice::Http1);
        let mut next = self.hand_over(choice, None, ctx);
        next.gap(side, len, reason, ctx);
        Some(next)
    }

    /// Nothing more will come: hand what is held to the best guess of a parser (which only
    /// reports what its own grammar recognises).
    pub fn finish(&mut self, ctx: &mut Ctx<'_>) -> Option<Layer> {
        if self.held.iter().all(Vec::is_empty) {
            return None;
        }
        let choice = self.choose(true).unwrap_or(Choice::Http1);
        Some(self.hand_over(choice, None, ctx))
    }

    pub fn memory(&self) -> usize {
        self.held.iter().map(Vec::capacity).sum()
    }

    /// The layer the held bytes call for, if they tell. `last`: no more bytes come before
    /// deciding, so "need more" counts as "no".
    fn choose(&self, last: bool) -> Option<Choice> {
        // ALPN settled HTTP/2 (RFC 7301): the client's preface is all that is waited for (the
        // server's SETTINGS may come first).
        let alpn_h2 = self.tls.as_ref().and_then(|t| t.alpn.as_deref()) == Some("h2");
        if alpn_h2 {
            let preface = self.held.iter().any(|h| sniff_h2(h) == Sniff::Yes);
            return match (preface, last) {
                (true, _) => Some(Choice::Http2),
                (false, false) => None,
                (false, true) => Some(Choice::Http1),
            };
        }
        let mut undecided = false;
        for (choice, sniff) in CANDIDATES {
            if choice == Choice::Tls && self.inside_tls {
                continue;
            }
            for held in self.held.iter().filter(|h| !h.is_empty()) {
                match sniff(held) {
                    Sniff::Yes => return Some(choice),
                    Sniff::NeedMore if !last => undecided = true,
                    Sniff::No | Sniff::NeedMore => {}
                }
            }
        }
        (!undecided).then_some(Choice::Http1)
    }

    /// The chosen layer, given everything held (the side that spoke first first), then
    /// `more` if any.
    fn hand_over(
        &mut self,
        choice: Choice,
        more: Option<(usize, &[u8])>,
        ctx: &mut Ctx<'_>,
    ) -> Layer {
        match choice {
            Choice::Http1 | Choice::Http2 => Tally::count(&ctx.tally.http_conns),
            Choice::Tls => Tally::count(&ctx.tally.tls_conns),
        }
        let mut next = match choice {
            Choice::Http1 => Layer::Http1(Box::new(Http1::new(
                self.endpoints,
                self.tls.take(),
                ctx.limits,
            ))),
            Choice::Tls => Layer::Tls(Box::new(TlsLayer::new(self.endpoints, ctx))),
            Choice::Http2 => {
                // The client is the side that sent the preface (RFC 9113 §3.4).
                let client =
                    usize::from(self.held.first().is_none_or(|h| sniff_h2(h) != Sniff::Yes));
                Layer::Http2(Box::new(Http2Layer::new(
                    self.endpoints,
                    client,
                    self.tls.take(),
                    ctx,
                )))
            }
        };
        debug_assert!(
            self.first_side.is_some_and(|s| s <= 1) || self.held.iter().all(Vec::is_empty)
        );
        let mut first = self.first_side.unwrap_or(0).min(1);
        // The TLS layer learns which side is the client from its ClientHello: that side first.
        if choice == Choice::Tls
            && self
                .held
                .get(1 - first)
                .is_some_and(|h| crate::tls::sniff(h) == crate::tls::Sniff::Yes)
        {
            first = 1 - first;
        }
        for side in [first, 1 - first] {
            let held = self.held.get_mut(side).map(std::mem::take);
            if let Some(held) = held.filter(|h| !h.is_empty()) {
                next.feed(side, &held, ctx);
            }
        }
        if let Some((side, data)) = more {
            next.feed(side, data, ctx);
        }
        next
    }
}
