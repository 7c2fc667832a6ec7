//! The HTTP phase state machine: each side's role, the queue of unanswered requests, and per
//! side where the next message head starts (bodies are skipped by counting).
//!
//! Nothing here depends on how the capture interleaves the two directions, only on each
//! direction's bytes in stream order: a side's role comes from what it sends (a request line
//! makes the client, a status line the server), a side that is ahead waits for the other (a
//! response for its request, held client bytes for their answer), and responses pair with
//! requests in stream order (HTTP/1.1 answers in order, RFC 9112 §9.3.2). So a capture that
//! shows the 101, or even frames, before the request decides exactly as one in wire order.
//! TCP acknowledgement numbers are not needed for this: stream order on each side already
//! says which response answers which request.

use std::collections::VecDeque;
use std::mem;

use memchr::memchr;

use super::accept::accept_key;
use super::body::{BodySkip, Chunked};
use super::extensions::parse_deflate;
use super::head::{self, Framing, Method, Parsed, ResponseHead, Switch, WsRequest};
use super::sniff::{Kind, Sniffer, Verdict};
use super::{HttpStatus, Refusal, RestPiece, Upgrade};
use crate::event::{Anomaly, AnomalyKind, Dir, Timestamp};

/// Unanswered requests remembered at once (pipelining depth); each entry is a few bytes, but a
/// flood of tiny requests must not grow memory without bound.
const MAX_PENDING: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// Has not sent a recognisable start yet.
    Unknown,
    Client,
    Server,
}

enum Read {
    /// The side's first message, not yet recognised as a request or a response.
    Start {
        request: Sniffer,
        response: Sniffer,
    },
    /// At (or inside) a message head. `scan`: where the search for the empty line resumes.
    Head {
        sniff: Sniffer,
        scan: usize,
    },
    Body(BodySkip),
    /// Client after a WebSocket upgrade request: its bytes wait for the answer (RFC 6455 §4.1:
    /// frames if 101, otherwise the next request).
    Held,
}

impl Read {
    fn head(kind: Kind) -> Self {
        Read::Head {
            sniff: Sniffer::new(kind),
            scan: 0,
        }
    }
}

struct Side {
    role: Role,
    /// Bytes received but not consumed: an incomplete head, bytes waiting for the other
    /// side, or held bytes.
    buf: Vec<u8>,
    /// Losses in this side's stream, in order, each where it falls in `buf` (bytes before
    /// `at` came before it). Reading stops at the first; what follows it is handed over with
    /// the upgrade (`Upgrade::rest_after`).
    holes: Vec<Hole>,
    read: Read,
    /// The message being read is a WebSocket upgrade request: hold after its body.
    hold_after_body: bool,
    /// The capture cut this side's handshake: bytes after it were lost.
    cut: bool,
    /// When the head waiting in `buf` was first seen complete: a response that had to wait
    /// for its request (the capture showed it first) is stamped with the time it arrived,
    /// not the time it was read.
    head_ts: Option<Timestamp>,
}

/// A loss in a side's stream.
#[derive(Clone, Copy, Debug)]
struct Hole {
    /// Offset in the side's `buf` where the loss falls.
    at: usize,
    /// Bytes lost; 0 when not known.
    len: u64,
    /// The snap length cut them.
    truncated: bool,
}

impl Side {
    fn new() -> Self {
        Side {
            role: Role::Unknown,
            buf: Vec::new(),
            holes: Vec::new(),
            read: Read::Start {
                request: Sniffer::new(Kind::Request),
                response: Sniffer::new(Kind::Response),
            },
            hold_after_body: false,
            cut: false,
            head_ts: None,
        }
    }
}

/// An unanswered request.
enum Pending {
    Plain(Method),
    Upgrade(Box<WsRequest>),
}

/// Why a step stopped following the connection.
enum Stop {
    /// A 101 answered a WebSocket upgrade request; the server's bytes after its head start at
    /// `at` in the input that was being read.
    Switched {
        server: usize,
        ws: Box<WsRequest>,
        sw: Box<Switch>,
        at: usize,
    },
    Upgraded(Box<Upgrade>),
    Not(String),
    /// The handshake outgrew `max_bytes`.
    OverLimit(String),
}

/// Why reading a side's input stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Halt {
    /// All of it was consumed.
    Drained,
    /// An incomplete start line or head: more of this side's bytes are needed.
    NeedMore,
    /// The other side has to move first (a response waits for its request, held client
    /// bytes for their answer).
    Waiting,
}

/// Where the server's bytes after its 101 head are.
enum ServerRest<'a> {
    /// In the chunk being fed (nothing of this side was buffered).
    Direct(&'a [u8]),
    /// In the side's buffer, from this offset.
    Buffered(usize),
}

enum Decided {
    /// Kept with `rest` emptied: those bytes were handed over once.
    Upgraded(Box<Upgrade>),
    Not {
        reason: String,
        looked_like_http: bool,
        over_limit: bool,
    },
}

impl Decided {
    fn status(&self) -> HttpStatus {
        match self {
            Decided::Upgraded(up) => HttpStatus::Upgraded(up.clone()),
            Decided::Not {
                reason,
                looked_like_http,
                over_limit,
            } => HttpStatus::NotWebSocket {
                reason: reason.clone(),
                looked_like_http: *looked_like_http,
                over_limit: *over_limit,
            },
        }
    }
}

pub(super) struct Machine {
    max_bytes: usize,
    sides: [Side; 2],
    pending: VecDeque<Pending>,
    /// Some message start was recognised as HTTP.
    http_seen: bool,
    /// Status of the last refused WebSocket upgrade, for the reason given later.
    refused: Option<u16>,
    decided: Option<Decided>,
    /// Capture time of the bytes being fed (see `HttpPhase::set_time`). A request head is
    /// stamped with the time it is read: requests never wait for the other side, except a
    /// request pipelined behind a refused upgrade, which gets the time of the refusal.
    pub(super) now: Timestamp,
    /// Refused upgrades not yet taken (`HttpPhase::take_refusals`): at most one per response
    /// read since, so bounded by the bytes of one feed.
    pub(super) refusals: Vec<Refusal>,
}

impl Machine {
    /// Heap bytes of both sides' buffers (each bounded by `max_bytes`).
    pub(super) fn memory(&self) -> usize {
        self.sides.iter().map(|s| s.buf.capacity()).sum()
    }

    pub(super) fn new(max_bytes: usize) -> Self {
        Machine {
            max_bytes,
            sides: [Side::new(), Side::new()],
            pending: VecDeque::new(),
            http_seen: false,
            refused: None,
            decided: None,
            now: Timestamp::default(),
            refusals: Vec::new(),
        }
    }

    pub(super) fn feed(&mut self, side: usize, data: &[u8]) -> HttpStatus {
        if let Some(d) = &self.decided {
            return d.status();
        }
        if side > 1 {
            return HttpStatus::Pending;
        }
        match self.run(side, data).and_then(|()| self.check_limit()) {
            Ok(()) => HttpStatus::Pending,
            Err(stop) => self.decide(stop),
        }
    }

    /// `len` bytes of `side` were lost (0: not known; `truncated`: cut by the snap length).
    /// What came before the loss is still read as far as it goes; reaching the loss decides
    /// what it means (see `at_hole`). Later losses and the bytes between them are kept, in
    /// order, for the upgrade to hand over.
    pub(super) fn gap(&mut self, side: usize, len: u64, truncated: bool) -> HttpStatus {
        if let Some(d) = &self.decided {
            return d.status();
        }
        if side > 1 {
            return HttpStatus::Pending;
        }
        let s = self.side_mut(side);
        let at = s.buf.len();
        match s.holes.last_mut() {
            // Two losses with nothing between them are one (so the list stays bounded by the
            // bytes buffered).
            Some(last) if last.at == at => {
                last.len = if last.len == 0 || len == 0 {
                    0
                } else {
                    last.len.saturating_add(len)
                };
                last.truncated &= truncated;
            }
            _ => s.holes.push(Hole { at, len, truncated }),
        }
        match self.settle().and_then(|()| self.check_limit()) {
            Ok(()) => HttpStatus::Pending,
            Err(stop) => self.decide(stop),
        }
    }

    fn decide(&mut self, stop: Stop) -> HttpStatus {
        let over_limit = matches!(stop, Stop::OverLimit(_));
        let (status, decided) = match stop {
            Stop::Upgraded(up) => {
                let mut kept = up.clone();
                kept.rest = Default::default();
                kept.rest_after = Default::default();
                (HttpStatus::Upgraded(up), Decided::Upgraded(kept))
            }
            Stop::Switched { .. } => {
                debug_assert!(false, "a switch is turned into an upgrade where it is read");
                let d = Decided::Not {
                    reason: "internal: switch not completed".into(),
                    looked_like_http: self.http_seen,
                    over_limit: false,
                };
                (d.status(), d)
            }
            Stop::Not(mut reason) | Stop::OverLimit(mut reason) => {
                if let Some(code) = self.refused {
                    reason = format!("upgrade refused with {code}, then {reason}");
                }
                let d = Decided::Not {
                    reason,
                    looked_like_http: self.http_seen,
                    over_limit,
                };
                (d.status(), d)
            }
        };
        self.decided = Some(decided);
        // Nothing more will be parsed: free the buffers now.
        self.sides = [Side::new(), Side::new()];
        self.pending = VecDeque::new();
        status
    }

    /// Consumes `data` of `side`, then lets both sides progress as far as they can.
    fn run(&mut self, side: usize, data: &[u8]) -> Result<(), Stop> {
        let s = self.side(side);
        if s.buf.is_empty() && s.holes.is_empty() {
            // Nothing buffered: read straight from the caller's bytes, keep only the rest.
            let used = match self.advance(side, data) {
                Ok((used, _)) => used,
                Err(Stop::Switched { server, ws, sw, at }) => {
                    let rest = ServerRest::Direct(data.get(at..).unwrap_or_default());
                    return Err(Stop::Upgraded(self.upgrade(server, *ws, *sw, rest)));
                }
                Err(stop) => return Err(stop),
            };
            let left = data.get(used..).unwrap_or_default();
            self.side_mut(side).buf.extend_from_slice(left);
        } else {
            self.side_mut(side).buf.extend_from_slice(data);
        }
        self.settle()
    }

    /// Steps both sides until neither moves: a request lets a buffered response be read, a
    /// refused upgrade releases the client's held bytes, and so on.
    fn settle(&mut self) -> Result<(), Stop> {
        loop {
            let a = self.step(0)?;
            let b = self.step(1)?;
            if !a && !b {
                return Ok(());
            }
        }
    }

    /// Reads `side`'s buffered bytes (up to its first loss, if any) as far as they go; returns
    /// whether anything changed.
    fn step(&mut self, side: usize) -> Result<bool, Stop> {
        let end = {
            let s = self.side(side);
            if s.buf.is_empty() && s.holes.is_empty() {
                return Ok(false);
            }
            s.holes.first().map_or(s.buf.len(), |h| h.at)
        };
        let buf = mem::take(&mut self.side_mut(side).buf);
        let res = self.advance(side, buf.get(..end).unwrap_or_default());
        self.side_mut(side).buf = buf;
        let (used, halt) = match res {
            Ok(r) => r,
            Err(Stop::Switched { server, ws, sw, at }) => {
                let up = self.upgrade(server, *ws, *sw, ServerRest::Buffered(at));
                return Err(Stop::Upgraded(up));
            }
            Err(stop) => return Err(stop),
        };
        let used = used.min(end);
        self.consume(side, used);
        let mut moved = used > 0;
        if let Some(h) = self.side(side).holes.first().map(|h| h.at)
            && halt != Halt::Waiting
        {
            moved |= self.at_hole(side, h)?;
        }
        Ok(moved)
    }

    /// Drops the first `n` bytes of `side`'s buffer (all before its first loss).
    fn consume(&mut self, side: usize, n: usize) {
        let s = self.side_mut(side);
        s.buf.drain(..n.min(s.buf.len()));
        for h in &mut s.holes {
            h.at = h.at.saturating_sub(n);
        }
    }

    /// Reading `side` reached its first loss (`buf[..h]` is what is left before it). A head the
    /// capture cut short is what a snap length does to every packet: when its whole lines
    /// still show a WebSocket upgrade request, or a 101 answering one, the connection is
    /// followed and decoding resumes at a frame boundary found after the loss
    /// (`Upgrade::resync`). Held client bytes wait for their answer with the loss inside
    /// them. Anything else cannot be followed across the loss.
    fn at_hole(&mut self, side: usize, h: usize) -> Result<bool, Stop> {
        let lost = || {
            Stop::Not(format!(
                "bytes of side {side} lost before the upgrade was decided"
            ))
        };
        let s = self.side(side);
        let cut_head = s.buf.get(..h).unwrap_or_default();
        match (&s.read, s.role) {
            (Read::Held, _) => Ok(false),
            (Read::Head { .. }, Role::Client) if !cut_head.is_empty() => {
                let ws = head::parse_cut_request(cut_head).ok_or_else(lost)?;
                if self.pending.len() >= MAX_PENDING {
                    return Err(lost());
                }
                self.pending.push_back(Pending::Upgrade(Box::new(ws)));
                self.consume(side, h);
                let s = self.side_mut(side);
                // The loss right after the cut head is what `cut` stands for.
                s.holes.remove(0);
                s.read = Read::Held;
                s.cut = true;
                Ok(true)
            }
            (Read::Head { .. }, Role::Server) if !cut_head.is_empty() => {
                match self.pending.front() {
                    // Its request has not been read yet.
                    None => Ok(false),
                    Some(Pending::Plain(_)) => Err(lost()),
                    Some(Pending::Upgrade(ws)) => {
                        let h2c = ws.h2c;
                        let mut sw = head::parse_cut_switch(cut_head)
                            .filter(|sw| {
                                if h2c {
                                    sw.upgrade_h2c
                                } else {
                                    sw.upgrade_websocket
                                }
                            })
                            .ok_or_else(lost)?;
                        let now = self.now;
                        sw.ts = self.side_mut(side).head_ts.take().unwrap_or(now);
                        let Some(Pending::Upgrade(ws)) = self.pending.pop_front() else {
                            return Err(lost());
                        };
                        let s = self.side_mut(side);
                        s.holes.remove(0);
                        s.cut = true;
                        let up = self.upgrade(side, *ws, sw, ServerRest::Buffered(h));
                        Err(Stop::Upgraded(up))
                    }
                }
            }
            _ => Err(lost()),
        }
    }

    fn check_limit(&self) -> Result<(), Stop> {
        match self.sides.iter().position(|s| s.buf.len() > self.max_bytes) {
            Some(side) => Err(Stop::OverLimit(format!(
                "handshake over {} bytes on side {side} (max_handshake_bytes)",
                self.max_bytes
            ))),
            None => Ok(()),
        }
    }

    /// Reads messages of `side` from `input` (starting at a message boundary or where the
    /// previous call stopped); returns how many bytes were consumed and why it stopped.
    fn advance(&mut self, side: usize, input: &[u8]) -> Result<(usize, Halt), Stop> {
        let mut pos = 0;
        loop {
            let rest = input.get(pos..).unwrap_or_default();
            if rest.is_empty() {
                return Ok((pos, Halt::Drained));
            }
            let other = self.side(1 - side).role;
            let s = self.side_mut(side);
            let role = s.role;
            match &mut s.read {
                Read::Start { request, response } => {
                    match (request.check(rest), response.check(rest)) {
                        (Verdict::Yes, _) => self.set_role(side, Role::Client)?,
                        (_, Verdict::Yes) => self.set_role(side, Role::Server)?,
                        (Verdict::No, Verdict::No) => {
                            // Named after what the other side makes this one.
                            let role = match other {
                                Role::Client => Role::Server,
                                Role::Server => Role::Client,
                                Role::Unknown => Role::Unknown,
                            };
                            return Err(Stop::Not(not_http(side, role)));
                        }
                        _ => return Ok((pos, Halt::NeedMore)),
                    }
                }
                Read::Held => return Ok((pos, Halt::Waiting)),
                Read::Body(skip) => {
                    let skipped = skip.skip(rest).map_err(|_| {
                        Stop::Not(format!("malformed chunked body from side {side}"))
                    })?;
                    pos += skipped.consumed;
                    if skipped.done {
                        self.end_of_message(side);
                    }
                }
                Read::Head { sniff, scan } => {
                    let scan_at = *scan;
                    match sniff.check(rest) {
                        Verdict::Yes => {}
                        Verdict::Maybe => return Ok((pos, Halt::NeedMore)),
                        Verdict::No => return Err(Stop::Not(not_http(side, role))),
                    }
                    if role == Role::Server && self.pending.is_empty() {
                        // Its request has not been read yet; note when the head was complete.
                        match head_end(rest, scan_at) {
                            Ok(_) => {
                                let now = self.now;
                                self.side_mut(side).head_ts.get_or_insert(now);
                            }
                            Err(resume) => self.set_scan(side, resume),
                        }
                        return Ok((pos, Halt::Waiting));
                    }
                    let end = match head_end(rest, scan_at) {
                        Ok(end) => end,
                        Err(resume) => {
                            self.set_scan(side, resume);
                            return Ok((pos, Halt::NeedMore));
                        }
                    };
                    let head = rest.get(..end).unwrap_or_default();
                    let used = if role == Role::Server {
                        self.on_response(side, head).map_err(|stop| match stop {
                            Stop::Switched { server, ws, sw, at } => Stop::Switched {
                                server,
                                ws,
                                sw,
                                at: at + pos,
                            },
                            other => other,
                        })?
                    } else {
                        self.on_request(side, head)?
                    };
                    if used == 0 {
                        // Only empty lines before the start line were complete: search on
                        // from the last LF found.
                        self.set_scan(side, end.saturating_sub(1));
                    }
                    pos += used;
                }
            }
        }
    }

    /// `side`'s first message shows its role; both sides cannot have the same one.
    fn set_role(&mut self, side: usize, role: Role) -> Result<(), Stop> {
        self.http_seen = true;
        if self.side(1 - side).role == role {
            return Err(Stop::Not(
                if role == Role::Client {
                    "both sides sent HTTP requests"
                } else {
                    "both sides sent HTTP responses"
                }
                .into(),
            ));
        }
        let s = self.side_mut(side);
        s.role = role;
        s.read = Read::head(if role == Role::Client {
            Kind::Request
        } else {
            Kind::Response
        });
        Ok(())
    }

    fn set_scan(&mut self, side: usize, at: usize) {
        if let Read::Head { scan, .. } = &mut self.side_mut(side).read {
            *scan = at;
        }
    }

    /// A complete request head; returns the bytes consumed (0: not complete after all).
    fn on_request(&mut self, side: usize, head: &[u8]) -> Result<usize, Stop> {
        let (mut req, len) = match head::parse_request(head) {
            Parsed::Done(req, len) => (req, len),
            Parsed::Partial => return Ok(0),
            Parsed::Bad(why) => return Err(Stop::Not(why)),
        };
        if self.pending.len() >= MAX_PENDING {
            return Err(Stop::Not(format!(
                "more than {MAX_PENDING} requests without a response"
            )));
        }
        if let Some(ws) = &mut req.upgrade {
            ws.info.handshake.request_ts = Some(self.now);
        }
        self.side_mut(side).hold_after_body = req.upgrade.is_some();
        self.pending.push_back(match req.upgrade {
            Some(ws) => Pending::Upgrade(ws),
            None => Pending::Plain(req.method),
        });
        self.start_body(side, req.framing, 0)?;
        Ok(len)
    }

    /// A complete response head (its request is pending); returns the bytes consumed.
    fn on_response(&mut self, side: usize, head: &[u8]) -> Result<usize, Stop> {
        let answers_upgrade = matches!(self.pending.front(), Some(Pending::Upgrade(_)));
        let (mut resp, len) = match head::parse_response(head, answers_upgrade) {
            Parsed::Done(resp, len) => (resp, len),
            Parsed::Partial => return Ok(0),
            Parsed::Bad(why) => return Err(Stop::Not(why)),
        };
        let now = self.now;
        let ts = self.side_mut(side).head_ts.take().unwrap_or(now);
        match resp.code {
            101 => {
                if let Some(sw) = &mut resp.switch {
                    sw.ts = ts;
                }
                return Err(self.switch(side, resp, len));
            }
            // RFC 9110 §15.2: interim responses; the request still awaits its final one.
            100..=199 => {
                self.side_mut(side).read = Read::head(Kind::Response);
                return Ok(len);
            }
            _ => {}
        }
        let method = match self.pending.pop_front() {
            Some(Pending::Plain(method)) => method,
            Some(Pending::Upgrade(ws)) if ws.h2c => {
                // An h2c upgrade declined (RFC 7540 §3.2: the server answers over HTTP/1.1): no
                // WebSocket was asked for, nothing is refused; the client's held bytes are its
                // next request.
                self.side_mut(1 - side).read = Read::head(Kind::Request);
                if ws.info.handshake.method == "HEAD" {
                    Method::Head
                } else {
                    Method::Other
                }
            }
            Some(Pending::Upgrade(ws)) => {
                // Refused upgrade: the client's held bytes are its next request.
                self.side_mut(1 - side).read = Read::head(Kind::Request);
                self.refused = Some(resp.code);
                let answer = resp.answer.take().map(|a| *a).unwrap_or_default();
                let mut handshake = ws.info.handshake;
                handshake.status = resp.code;
                handshake.reason = answer.reason;
                handshake.response_headers = answer.headers;
                handshake.response_ts = Some(ts);
                self.refusals.push(Refusal {
                    client_side: 1 - side,
                    uri: ws.info.uri,
                    handshake,
                });
                Method::Other
            }
            None => return Err(Stop::Not("response without a request".into())),
        };
        let framing = resp.framing(method).map_err(|why| Stop::Not(why.into()))?;
        self.start_body(side, framing, resp.code)?;
        Ok(len)
    }

    fn start_body(&mut self, side: usize, framing: Framing, code: u16) -> Result<(), Stop> {
        let skip = match framing {
            Framing::None | Framing::Length(0) => {
                self.end_of_message(side);
                return Ok(());
            }
            Framing::Length(n) => BodySkip::Length(n),
            Framing::Chunked => BodySkip::Chunked(Chunked::new()),
            Framing::UntilClose => {
                return Err(Stop::Not(format!(
                    "the body of a {code} response runs to the connection's close"
                )));
            }
        };
        self.side_mut(side).read = Read::Body(skip);
        Ok(())
    }

    fn end_of_message(&mut self, side: usize) {
        let s = self.side_mut(side);
        s.read = if mem::take(&mut s.hold_after_body) {
            Read::Held
        } else if s.role == Role::Server {
            Read::head(Kind::Response)
        } else {
            Read::head(Kind::Request)
        };
    }

    /// A 101 response of `len` head bytes (RFC 6455 §4.2.2, §4.1 items 1-4 of the client's
    /// checks).
    fn switch(&mut self, side: usize, resp: ResponseHead, len: usize) -> Stop {
        let sw = resp.switch.unwrap_or_default();
        match self.pending.pop_front() {
            Some(Pending::Upgrade(ws))
                if (ws.h2c && sw.upgrade_h2c) || (!ws.h2c && sw.upgrade_websocket) =>
            {
                Stop::Switched {
                    server: side,
                    ws,
                    sw,
                    at: len,
                }
            }
            Some(Pending::Upgrade(_)) => {
                Stop::Not("101 switches to a protocol other than websocket".into())
            }
            _ => Stop::Not("101 answers a request that is not a WebSocket upgrade".into()),
        }
    }

    fn upgrade(
        &mut self,
        server: usize,
        ws: WsRequest,
        sw: Switch,
        server_rest: ServerRest<'_>,
    ) -> Box<Upgrade> {
        let client = 1 - server;
        let expected = accept_key(&ws.key);
        let cut = [self.side(0).cut, self.side(1).cut];
        let bad_accept = match sw.accept {
            // A handshake cut by the capture cannot be checked; h2c has no key.
            _ if cut[0] || cut[1] || ws.h2c => None,
            Some(got) if got == expected => None,
            Some(got) => Some(format!(
                "Sec-WebSocket-Accept {got:?} is not {expected:?}, the answer to the request's key"
            )),
            None => Some("the 101 response has no Sec-WebSocket-Accept".to_owned()),
        };
        let anomalies: Vec<(Dir, Anomaly)> = bad_accept
            .map(|detail| (Dir::S2c, Anomaly::new(AnomalyKind::BadAccept, detail)))
            .into_iter()
            .collect();
        let mut info = ws.info;
        info.handshake.status = 101;
        info.handshake.reason = sw.answer.reason;
        info.handshake.response_headers = sw.answer.headers;
        info.handshake.response_ts = Some(sw.ts);
        info.subprotocol = sw.protocol;
        info.extensions = sw.extensions;
        info.mid_stream = false;
        let deflate = info.extensions.as_deref().and_then(parse_deflate);
        let mut rest: [Vec<u8>; 2] = Default::default();
        let mut rest_after: [Vec<RestPiece>; 2] = Default::default();
        for side in [client, server] {
            let s = self.side_mut(side);
            // Where this side's bytes after its handshake start in `buf`.
            let from = match (&server_rest, side == server) {
                (ServerRest::Direct(bytes), true) => {
                    if let Some(r) = rest.get_mut(side) {
                        *r = bytes.to_vec();
                    }
                    continue;
                }
                (ServerRest::Buffered(at), true) => *at,
                (_, false) => 0,
            };
            let mut pieces = Vec::new();
            let mut upto = s.buf.len();
            for (i, hole) in s.holes.iter().enumerate().rev() {
                let at = hole.at.max(from);
                pieces.push(RestPiece::Bytes(
                    s.buf.get(at..upto).unwrap_or_default().to_vec(),
                ));
                pieces.push(RestPiece::Lost {
                    len: hole.len,
                    truncated: hole.truncated,
                });
                upto = at;
                if i == 0 {
                    break;
                }
            }
            pieces.reverse();
            // No empty byte pieces.
            pieces.retain(|p| !matches!(p, RestPiece::Bytes(b) if b.is_empty()));
            if let Some(r) = rest.get_mut(side) {
                *r = s.buf.get(from.min(upto)..upto).unwrap_or_default().to_vec();
            }
            if let Some(r) = rest_after.get_mut(side) {
                *r = pieces;
            }
        }
        Box::new(Upgrade {
            client_side: client,
            h2c: ws.h2c,
            info,
            deflate,
            rest,
            rest_after,
            anomalies,
            resync: cut,
        })
    }

    /// `side` is always 0 or 1 here (checked in `feed`); the match keeps access total.
    fn side(&self, side: usize) -> &Side {
        let [first, second] = &self.sides;
        if side == 0 { first } else { second }
    }

    fn side_mut(&mut self, side: usize) -> &mut Side {
        let [first, second] = &mut self.sides;
        if side == 0 { first } else { second }
    }
}

fn not_http(side: usize, role: Role) -> String {
    match role {
        Role::Unknown => {
            format!("not HTTP: side {side} did not start with an HTTP request or response")
        }
        Role::Client => format!("not HTTP: side {side} sent bytes that are not an HTTP request"),
        Role::Server => {
            format!("not HTTP: side {side} answered with bytes that are not an HTTP response")
        }
    }
}

/// End of the head (just past its empty line, RFC 9112 §2.1; bare LF tolerated as httparse
/// does), searching from `scan`; `Err(resume)` where to search again once more bytes came.
fn head_end(buf: &[u8], scan: usize) -> Result<usize, usize> {
    let mut i = scan;
    while let Some(off) = buf.get(i..).and_then(|b| memchr(b'\n', b)) {
        let nl = i + off;
        match (buf.get(nl + 1), buf.get(nl + 2)) {
            (Some(b'\n'), _) => return Ok(nl + 2),
            (Some(b'\r'), Some(b'\n')) => return Ok(nl + 3),
            (None, _) | (Some(b'\r'), None) => return Err(nl),
            _ => i = nl + 1,
        }
    }
    Err(buf.len().max(scan))
}

#[cfg(test)]
mod tests {
    use super::head_end;

    #[test]
    fn head_end_search() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nA: b\r\n\r\nxx", 0), Ok(24));
        assert_eq!(head_end(b"GET / HTTP/1.1\nA: b\n\nxx", 0), Ok(21));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nA: b\r\n\r", 0), Err(21));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nA: b\r\n\r\n", 21), Ok(24));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nA: b", 0), Err(20));
        assert_eq!(head_end(b"\r\n\r\nGET", 3), Err(7));
    }
}
