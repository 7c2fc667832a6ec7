//! The HTTP phase state machine: which side is the client, the queue of unanswered requests,
//! and per side where the next message head starts (bodies are skipped by counting).

use std::collections::VecDeque;
use std::mem;

use memchr::memchr;

use super::accept::accept_key;
use super::body::{BodySkip, Chunked};
use super::extensions::parse_deflate;
use super::head::{self, Framing, Method, Parsed, ResponseHead, Switch, WsRequest};
use super::sniff::{Kind, Sniffer, Verdict};
use super::{HttpStatus, Upgrade};
use crate::event::{Anomaly, AnomalyKind, Dir};

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
    /// Bytes received but not consumed: an incomplete head, or held bytes.
    buf: Vec<u8>,
    read: Read,
    /// The message being read is a WebSocket upgrade request: hold after its body.
    hold_after_body: bool,
    /// The capture cut this side's handshake: bytes after it were lost.
    cut: bool,
}

impl Side {
    fn new() -> Self {
        Side {
            role: Role::Unknown,
            buf: Vec::new(),
            read: Read::head(Kind::Request),
            hold_after_body: false,
            cut: false,
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
    Upgraded(Box<Upgrade>),
    Not(String),
    /// The handshake outgrew `max_bytes`.
    OverLimit(String),
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
    /// The side that sent bytes first: the client, if it starts with a request.
    first_speaker: Option<usize>,
    /// Some message start was recognised as HTTP.
    http_seen: bool,
    /// Status of the last refused WebSocket upgrade, for the reason given later.
    refused: Option<u16>,
    decided: Option<Decided>,
}

impl Machine {
    pub(super) fn new(max_bytes: usize) -> Self {
        Machine {
            max_bytes,
            sides: [Side::new(), Side::new()],
            pending: VecDeque::new(),
            first_speaker: None,
            http_seen: false,
            refused: None,
            decided: None,
        }
    }

    pub(super) fn feed(&mut self, side: usize, data: &[u8]) -> HttpStatus {
        if let Some(d) = &self.decided {
            return d.status();
        }
        if side > 1 {
            return HttpStatus::Pending;
        }
        if !data.is_empty() {
            self.first_speaker.get_or_insert(side);
        }
        match self.run(side, data).and_then(|()| self.check_limit()) {
            Ok(()) => HttpStatus::Pending,
            Err(stop) => self.decide(stop),
        }
    }

    pub(super) fn gap(&mut self, side: usize) -> HttpStatus {
        if let Some(d) = &self.decided {
            return d.status();
        }
        if let Some(status) = self.salvage_cut_head(side) {
            return status;
        }
        self.decide(Stop::Not(format!(
            "bytes of side {side} lost before the upgrade was decided"
        )))
    }

    /// A gap right inside a head is what a short snap length does to every packet: when the
    /// whole lines that arrived still show a WebSocket upgrade request, or a 101 answering
    /// one, the connection is followed; decoding then resumes at the next frame boundary
    /// found after the gap (`Upgrade::resync`).
    fn salvage_cut_head(&mut self, side: usize) -> Option<HttpStatus> {
        let s = self.side(side);
        if !matches!(s.read, Read::Head { .. }) || s.buf.is_empty() {
            return None;
        }
        match s.role {
            Role::Client => {
                let ws = head::parse_cut_request(&s.buf)?;
                if self.pending.len() >= MAX_PENDING {
                    return None;
                }
                self.pending.push_back(Pending::Upgrade(Box::new(ws)));
                let s = self.side_mut(side);
                s.buf.clear();
                s.read = Read::Held;
                s.cut = true;
                Some(HttpStatus::Pending)
            }
            Role::Server => {
                if !matches!(self.pending.front(), Some(Pending::Upgrade(_))) {
                    return None;
                }
                let sw = head::parse_cut_switch(&s.buf)?;
                if !sw.upgrade_websocket {
                    return None;
                }
                let Some(Pending::Upgrade(ws)) = self.pending.pop_front() else {
                    return None;
                };
                self.side_mut(side).cut = true;
                let up = self.upgrade(side, *ws, sw, &[]);
                Some(self.decide(Stop::Upgraded(up)))
            }
            Role::Unknown => None,
        }
    }

    fn decide(&mut self, stop: Stop) -> HttpStatus {
        let over_limit = matches!(stop, Stop::OverLimit(_));
        let (status, decided) = match stop {
            Stop::Upgraded(up) => {
                let mut kept = up.clone();
                kept.rest = Default::default();
                (HttpStatus::Upgraded(up), Decided::Upgraded(kept))
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

    /// Consumes `data` of `side`, then lets both sides progress as far as they can: a request
    /// lets a buffered response be read, a refused upgrade releases the client's held bytes.
    fn run(&mut self, side: usize, data: &[u8]) -> Result<(), Stop> {
        if self.side(side).buf.is_empty() {
            let used = self.advance(side, data)?;
            let left = data.get(used..).unwrap_or_default();
            self.side_mut(side).buf.extend_from_slice(left);
        } else {
            self.side_mut(side).buf.extend_from_slice(data);
            self.advance_buffered(side)?;
        }
        loop {
            let moved = self.advance_buffered(1 - side)? + self.advance_buffered(side)?;
            if moved == 0 {
                return Ok(());
            }
        }
    }

    fn advance_buffered(&mut self, side: usize) -> Result<usize, Stop> {
        if self.side(side).buf.is_empty() {
            return Ok(0);
        }
        let mut buf = mem::take(&mut self.side_mut(side).buf);
        let used = self.advance(side, &buf)?.min(buf.len());
        buf.drain(..used);
        self.side_mut(side).buf = buf;
        Ok(used)
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
    /// previous call stopped); returns how many bytes were consumed.
    fn advance(&mut self, side: usize, input: &[u8]) -> Result<usize, Stop> {
        let mut pos = 0;
        while let Some(rest) = input.get(pos..).filter(|r| !r.is_empty()) {
            self.settle_role(side);
            let role = self.side(side).role;
            let s = self.side_mut(side);
            match &mut s.read {
                Read::Held => break,
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
                        Verdict::Maybe => break,
                        Verdict::No => return Err(Stop::Not(not_http(side, role))),
                    }
                    self.http_seen = true;
                    if role == Role::Unknown {
                        self.side_mut(side).role = Role::Client;
                    }
                    if role == Role::Server && self.pending.is_empty() {
                        break;
                    }
                    let end = match head_end(rest, scan_at) {
                        Ok(end) => end,
                        Err(resume) => {
                            self.set_scan(side, resume);
                            break;
                        }
                    };
                    let head = rest.get(..end).unwrap_or_default();
                    let used = if role == Role::Server {
                        self.on_response(side, head, rest)?
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
        Ok(pos)
    }

    fn set_scan(&mut self, side: usize, at: usize) {
        if let Read::Head { scan, .. } = &mut self.side_mut(side).read {
            *scan = at;
        }
    }

    /// The side that spoke second is the server (HTTP servers never speak first); the first
    /// speaker stays `Unknown` until its request line is recognised.
    fn settle_role(&mut self, side: usize) {
        if self.side(side).role == Role::Unknown && self.first_speaker != Some(side) {
            let s = self.side_mut(side);
            s.role = Role::Server;
            s.read = Read::head(Kind::Response);
        }
    }

    /// A complete request head; returns the bytes consumed (0: not complete after all).
    fn on_request(&mut self, side: usize, head: &[u8]) -> Result<usize, Stop> {
        let (req, len) = match head::parse_request(head) {
            Parsed::Done(req, len) => (req, len),
            Parsed::Partial => return Ok(0),
            Parsed::Bad(why) => return Err(Stop::Not(why)),
        };
        if self.pending.len() >= MAX_PENDING {
            return Err(Stop::Not(format!(
                "more than {MAX_PENDING} requests without a response"
            )));
        }
        self.side_mut(side).hold_after_body = req.upgrade.is_some();
        self.pending.push_back(match req.upgrade {
            Some(ws) => Pending::Upgrade(ws),
            None => Pending::Plain(req.method),
        });
        self.start_body(side, req.framing, 0)?;
        Ok(len)
    }

    /// A complete response head; `rest` is the input from the head's start.
    fn on_response(&mut self, side: usize, head: &[u8], rest: &[u8]) -> Result<usize, Stop> {
        let (resp, len) = match head::parse_response(head) {
            Parsed::Done(resp, len) => (resp, len),
            Parsed::Partial => return Ok(0),
            Parsed::Bad(why) => return Err(Stop::Not(why)),
        };
        match resp.code {
            101 => return Err(self.switch(side, resp, rest.get(len..).unwrap_or_default())),
            // RFC 9110 §15.2: interim responses; the request still awaits its final one.
            100..=199 => {
                self.side_mut(side).read = Read::head(Kind::Response);
                return Ok(len);
            }
            _ => {}
        }
        let method = match self.pending.pop_front() {
            Some(Pending::Plain(method)) => method,
            Some(Pending::Upgrade(_)) => {
                // Refused upgrade: the client's held bytes are its next request.
                self.side_mut(1 - side).read = Read::head(Kind::Request);
                self.refused = Some(resp.code);
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

    /// A 101 response (RFC 6455 §4.2.2, §4.1 items 1-4 of the client's checks).
    fn switch(&mut self, side: usize, resp: ResponseHead, server_rest: &[u8]) -> Stop {
        let sw = resp.switch.unwrap_or_default();
        match self.pending.pop_front() {
            Some(Pending::Upgrade(ws)) if sw.upgrade_websocket => {
                Stop::Upgraded(self.upgrade(side, *ws, *sw, server_rest))
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
        server_rest: &[u8],
    ) -> Box<Upgrade> {
        let client = 1 - server;
        let expected = accept_key(&ws.key);
        let cut = [self.side(0).cut, self.side(1).cut];
        let bad_accept = match sw.accept {
            // A handshake cut by the capture cannot be checked.
            _ if cut[0] || cut[1] => None,
            Some(got) if got == expected => None,
            Some(got) => Some(format!(
                "Sec-WebSocket-Accept {got:?} is not {expected:?}, the answer to the request's key"
            )),
            None => Some("the 101 response has no Sec-WebSocket-Accept".to_owned()),
        };
        let anomalies = bad_accept
            .map(|detail| (Dir::S2c, Anomaly::new(AnomalyKind::BadAccept, detail)))
            .into_iter()
            .collect();
        let mut info = ws.info;
        info.subprotocol = sw.protocol;
        info.extensions = sw.extensions;
        info.mid_stream = false;
        let deflate = info.extensions.as_deref().and_then(parse_deflate);
        let mut rest: [Vec<u8>; 2] = Default::default();
        if let Some(r) = rest.get_mut(server) {
            *r = server_rest.to_vec();
        }
        if let Some(r) = rest.get_mut(client) {
            *r = mem::take(&mut self.side_mut(client).buf);
        }
        Box::new(Upgrade {
            client_side: client,
            info,
            deflate,
            rest,
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
        Role::Unknown => format!("not HTTP: side {side} did not start with an HTTP request"),
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
