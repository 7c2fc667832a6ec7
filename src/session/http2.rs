//! HTTP/2 as a layer (RFC 9113): one TCP (or TLS) connection carries many streams; each
//! extended CONNECT with `:protocol websocket` answered 200 (RFC 8441 §4-§5) is one WebSocket
//! connection with its own number, whose bytes are the stream's DATA in order. Other streams
//! (ordinary requests, whatever their bodies look like) are never taken for WebSocket.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use super::Ctx;
use super::ws::WsConn;
use crate::event::{
    Anomaly, AnomalyKind, Dir, EndHow, Event, EventKind, Handshake, HttpVersion, OpenInfo, Refused,
    Timestamp, TlsInfo, Transport,
};
use crate::handshake::deflate_params;
use crate::http2::{
    H2Config, H2Conn, H2Event, HeaderField, RequestHead, WebSocketVerdict, classify,
    error_code_name,
};
use crate::message::{DirConfig, DirDeflate, Sender, WsDecoder};
use crate::reassembly::GapReason;

#[allow(non_upper_case_globals)]
impl AnomalyKind {
    /// A new stream's request could not be read (HPACK state lost with a hole): whether it was
    /// a WebSocket is unknown, and its DATA is not decoded.
    pub const H2UnidentifiedStream: AnomalyKind = AnomalyKind::named("h2_unidentified_stream");
}

pub(super) struct Http2Layer {
    conn: H2Conn,
    ws: Streams,
}

/// What the layer makes of the HTTP/2 events (apart from the decoder, so that the two can be
/// borrowed at once).
struct Streams {
    endpoints: [SocketAddr; 2],
    client_side: usize,
    tls: Option<TlsInfo>,
    /// The streams that are (or asked to be) WebSockets, by id: output in id order.
    streams: BTreeMap<u32, Stream>,
}

enum Stream {
    /// An extended CONNECT was sent; its answer is still to come.
    Asked(Box<Asked>),
    WebSocket(Box<WsConn>),
}

struct Asked {
    head: RequestHead,
    fields: Vec<(String, String)>,
    ts: Timestamp,
}

/// The HTTP/2 decoder's bounds, from the engine's limits.
fn h2_config(ctx: &Ctx<'_>) -> H2Config {
    H2Config {
        max_streams: ctx.limits.max_h2_streams,
        max_header_block_bytes: ctx.limits.max_h2_header_block_bytes,
        max_hpack_table_bytes: ctx.limits.max_hpack_table_bytes,
        ..H2Config::default()
    }
}

impl Http2Layer {
    pub fn new(
        endpoints: [SocketAddr; 2],
        client_side: usize,
        tls: Option<TlsInfo>,
        ctx: &Ctx<'_>,
    ) -> Http2Layer {
        Http2Layer {
            conn: H2Conn::new(client_side.min(1), h2_config(ctx)),
            ws: Streams {
                endpoints,
                client_side: client_side.min(1),
                tls,
                streams: BTreeMap::new(),
            },
        }
    }

    /// After an HTTP/1.1 `Upgrade: h2c` answered 101: stream 1 is the upgraded request,
    /// already sent (see [`H2Conn::after_h2c_upgrade`]).
    pub fn after_h2c(
        endpoints: [SocketAddr; 2],
        client_side: usize,
        tls: Option<TlsInfo>,
        ctx: &Ctx<'_>,
    ) -> Http2Layer {
        let mut layer = Http2Layer::new(endpoints, client_side, tls, ctx);
        layer.conn = H2Conn::after_h2c_upgrade(client_side.min(1), h2_config(ctx));
        layer
    }

    pub fn feed(&mut self, side: usize, data: &[u8], ctx: &mut Ctx<'_>) {
        let ws = &mut self.ws;
        self.conn.feed(side, data, &mut |ev| ws.on_event(ev, ctx));
    }

    /// `len` bytes of `side`'s stream are lost: reported once on the TCP connection; the
    /// HTTP/2 layer says what became of frames and streams.
    pub fn gap(&mut self, side: usize, len: u64, reason: GapReason, ctx: &mut Ctx<'_>) {
        let mut reported = false;
        if let Some(anomaly) = super::ws::gap_anomaly(len, reason, &mut reported) {
            self.ws.transport_anomaly(Some(side), anomaly, ctx);
        }
        let ws = &mut self.ws;
        self.conn.gap(side, len, &mut |ev| ws.on_event(ev, ctx));
    }

    /// `side`'s TCP direction ended: every WebSocket's direction from that side ends too.
    pub fn end(&mut self, side: usize, how: EndHow, ctx: &mut Ctx<'_>) {
        for stream in self.ws.streams.values_mut() {
            if let Stream::WebSocket(ws) = stream {
                ws.end_side(side, how, ctx);
            }
        }
    }

    pub fn finish(&mut self, how: EndHow, ctx: &mut Ctx<'_>) {
        let ws = &mut self.ws;
        self.conn.finish(&mut |ev| ws.on_event(ev, ctx));
        for stream in self.ws.streams.values_mut() {
            if let Stream::WebSocket(ws) = stream {
                ws.end_all(how, ctx);
            }
        }
    }

    /// An anomaly about `side`'s bytes found underneath (TCP, TLS): on the TCP connection.
    pub fn report(&mut self, side: usize, anomaly: Anomaly, ctx: &mut Ctx<'_>) {
        self.ws.transport_anomaly(Some(side), anomaly, ctx);
    }

    pub fn websockets(&mut self, f: &mut dyn FnMut(&mut WsConn)) {
        for stream in self.ws.streams.values_mut() {
            if let Stream::WebSocket(ws) = stream {
                f(ws);
            }
        }
    }

    pub fn carries_websocket(&self) -> bool {
        self.ws
            .streams
            .values()
            .any(|s| matches!(s, Stream::WebSocket(_)))
    }

    /// Memory pressure: every WebSocket stream drops its messages being assembled.
    pub fn shed(&mut self, ctx: &mut Ctx<'_>) -> usize {
        let mut freed = 0;
        for s in self.ws.streams.values_mut() {
            if let Stream::WebSocket(ws) = s {
                freed += ws.shed(ctx);
            }
        }
        freed
    }

    pub fn memory(&self) -> usize {
        std::mem::size_of::<Http2Layer>()
            + self.conn.memory()
            + self
                .ws
                .streams
                .values()
                .map(|s| match s {
                    Stream::Asked(a) => std::mem::size_of::<Asked>() + a.fields.capacity() * 48,
                    Stream::WebSocket(ws) => ws.memory(),
                })
                .sum::<usize>()
    }
}

impl Streams {
    fn dir_of(&self, side: usize) -> Dir {
        if side == self.client_side {
            Dir::C2s
        } else {
            Dir::S2c
        }
    }

    fn on_event(&mut self, ev: H2Event<'_>, ctx: &mut Ctx<'_>) {
        match ev {
            H2Event::Headers {
                side,
                stream,
                fields,
                push_promise: None,
                ..
            } => self.headers(side, stream, fields, ctx),
            // A promised stream is a server push: never a WebSocket.
            H2Event::Headers { .. } => {}
            H2Event::Data {
                side,
                stream,
                data,
                end_stream,
            } => {
                if let Some(Stream::WebSocket(ws)) = self.streams.get_mut(&stream) {
                    ws.feed(side, data, ctx);
                    if end_stream {
                        ws.end_side(side, EndHow::Fin, ctx);
                    }
                }
            }
            H2Event::DataLost { side, stream, len } => {
                if let Some(Stream::WebSocket(ws)) = self.streams.get_mut(&stream) {
                    ws.gap(side, len, GapReason::NeverFilled, ctx);
                }
            }
            H2Event::Lost { side, .. } => {
                // Frames of any stream may have been in the hole: every WebSocket of that
                // direction finds its next frame boundary (the loss itself was reported on the
                // TCP connection, where it happened).
                for stream in self.streams.values_mut() {
                    if let Stream::WebSocket(ws) = stream {
                        ws.gap(side, 0, GapReason::Below, ctx);
                    }
                }
            }
            H2Event::Reset { side, stream, code } => self.reset(side, stream, code, ctx),
            H2Event::GoAway {
                side,
                last_stream,
                code,
                ..
            } => {
                let open: Vec<u32> = self
                    .streams
                    .iter()
                    // Over when its close handshake is done or both sides ended the stream
                    // (END_STREAM each way, as a peer that skips the close frames does).
                    .filter(|(_, s)| {
                        matches!(s, Stream::WebSocket(ws) if !ws.closed_both() && !ws.all_ended())
                    })
                    .map(|(id, _)| *id)
                    .collect();
                if !open.is_empty() {
                    let detail = format!(
                        "GOAWAY ({}, last stream {last_stream}) while WebSocket streams {open:?} \
                         were open",
                        error_code_name(code)
                    );
                    self.transport_anomaly(
                        Some(side),
                        Anomaly::new(AnomalyKind::H2GoAway, detail),
                        ctx,
                    );
                }
            }
            H2Event::Settings { .. } => {}
            H2Event::Anomaly {
                side,
                stream,
                anomaly,
            } => match stream.and_then(|id| self.streams.get_mut(&id)) {
                Some(Stream::WebSocket(ws)) => {
                    let dir = side.map(|s| ws.dir_of(s));
                    ws.anomaly(dir, anomaly, ctx);
                }
                _ => self.transport_anomaly(side, anomaly, ctx),
            },
        }
    }

    fn headers(&mut self, side: usize, stream: u32, fields: &[HeaderField], ctx: &mut Ctx<'_>) {
        let head = classify(fields);
        if side == self.client_side {
            match head.websocket_request() {
                WebSocketVerdict::Yes if !self.streams.contains_key(&stream) => {
                    self.streams.insert(
                        stream,
                        Stream::Asked(Box::new(Asked {
                            fields: named(fields),
                            head,
                            ts: ctx.ts,
                        })),
                    );
                }
                WebSocketVerdict::Unknown if !self.streams.contains_key(&stream) => {
                    let detail = format!(
                        "stream {stream}: the request's headers could not be read (header \
                         compression state lost with a hole): whether it is a WebSocket is \
                         unknown, its data is not decoded"
                    );
                    self.transport_anomaly(
                        Some(side),
                        Anomaly::new(AnomalyKind::H2UnidentifiedStream, detail),
                        ctx,
                    );
                }
                _ => {}
            }
            return;
        }
        let Some(Stream::Asked(_)) = self.streams.get(&stream) else {
            return;
        };
        let Some(Stream::Asked(asked)) = self.streams.remove(&stream) else {
            return;
        };
        match head.websocket_accepted() {
            WebSocketVerdict::Yes => {
                let ws = self.open(stream, *asked, &head, named(fields), ctx);
                self.streams.insert(stream, Stream::WebSocket(ws));
            }
            // Refused (or unreadable): not a WebSocket; the stream is forgotten, a final
            // answer reported as a refusal.
            WebSocketVerdict::No | WebSocketVerdict::Unknown => {
                if let Some(status @ 200..) = head.status {
                    self.refused(stream, *asked, status, named(fields), ctx);
                }
            }
        }
    }

    /// A `refused` event: the CONNECT was answered with a final status other than 200.
    fn refused(
        &self,
        stream: u32,
        asked: Asked,
        status: u16,
        response_fields: Vec<(String, String)>,
        ctx: &mut Ctx<'_>,
    ) {
        let req = &asked.head;
        let [a, b] = self.endpoints;
        let (client, server) = if self.client_side == 0 {
            (a, b)
        } else {
            (b, a)
        };
        ctx.out.push(Event {
            ts: ctx.ts,
            conn: None,
            kind: EventKind::Refused(Box::new(Refused {
                transport: Transport {
                    client,
                    server,
                    stream: Some(stream),
                },
                uri: req.path.clone(),
                handshake: Handshake {
                    http: HttpVersion::Http2,
                    method: req.method.clone().unwrap_or_default(),
                    target: req.path.clone().unwrap_or_default(),
                    status,
                    reason: String::new(),
                    request_headers: asked.fields,
                    response_headers: response_fields,
                    request_ts: Some(asked.ts),
                    response_ts: Some(ctx.ts),
                    response_packet: ctx.packet,
                },
                tls: self.tls.clone(),
            })),
        });
    }

    /// The CONNECT was answered 200: number the WebSocket and report it open.
    fn open(
        &self,
        stream: u32,
        asked: Asked,
        response: &RequestHead,
        response_fields: Vec<(String, String)>,
        ctx: &mut Ctx<'_>,
    ) -> Box<WsConn> {
        let req = &asked.head;
        let extensions = response
            .header("sec-websocket-extensions")
            .map(str::to_owned);
        let deflate = extensions.as_deref().and_then(deflate_params);
        let info = OpenInfo {
            uri: req.uri().or_else(|| req.path.clone()),
            host: req.authority.clone(),
            origin: req.header("origin").map(str::to_owned),
            user_agent: req.header("user-agent").map(str::to_owned),
            subprotocol: response.header("sec-websocket-protocol").map(str::to_owned),
            extensions,
            mid_stream: false,
            handshake: Handshake {
                http: HttpVersion::Http2,
                method: req.method.clone().unwrap_or_default(),
                target: req.path.clone().unwrap_or_default(),
                status: response.status.unwrap_or_default(),
                reason: String::new(),
                request_headers: asked.fields,
                response_headers: response_fields,
                request_ts: Some(asked.ts),
                response_ts: Some(ctx.ts),
                response_packet: None,
            },
            tls: self.tls.clone(),
        };
        let decoder = |sender: Sender| {
            let dir_deflate = deflate.map(|p| DirDeflate::for_sender(&p, sender));
            let mut config = DirConfig::new(sender, dir_deflate, ctx.limits);
            config.pool = Some(ctx.pool.clone());
            WsDecoder::new(config)
        };
        let decoders = [decoder(Sender::Client), decoder(Sender::Server)];
        WsConn::start(
            self.endpoints,
            self.client_side,
            Some(stream),
            decoders,
            info,
            ctx,
        )
    }

    /// RST_STREAM: the stream's WebSocket ends both ways. An anomaly when it cuts an open
    /// WebSocket: no close frame sent by either side yet, or an error code. A browser that
    /// abandons a closing stream (NO_ERROR or CANCEL once a close frame was sent: Chromium
    /// resets when the server does not end its side after the closes) ends it normally.
    fn reset(&mut self, side: usize, stream: u32, code: u32, ctx: &mut Ctx<'_>) {
        /// RFC 9113 §7: NO_ERROR, CANCEL.
        const ORDERLY: [u32; 2] = [0x0, 0x8];
        match self.streams.get_mut(&stream) {
            Some(Stream::WebSocket(ws)) => {
                if !(ws.closing() && ORDERLY.contains(&code)) {
                    let dir = ws.dir_of(side);
                    let detail = format!(
                        "stream {stream} reset by the {} with {} while the WebSocket was open",
                        if dir == Dir::C2s { "client" } else { "server" },
                        error_code_name(code)
                    );
                    ws.anomaly(
                        Some(dir),
                        Anomaly::new(AnomalyKind::H2StreamReset, detail),
                        ctx,
                    );
                }
                let client = self.client_side;
                ws.end_side(client, EndHow::Rst, ctx);
                ws.end_side(1 - client, EndHow::Rst, ctx);
            }
            Some(Stream::Asked(_)) => {
                self.streams.remove(&stream);
            }
            None => {}
        }
    }

    fn transport_anomaly(&self, side: Option<usize>, anomaly: Anomaly, ctx: &mut Ctx<'_>) {
        let [a, b] = self.endpoints;
        let (client, server) = if self.client_side == 0 {
            (a, b)
        } else {
            (b, a)
        };
        ctx.out.push(Event {
            ts: ctx.ts,
            conn: None,
            kind: EventKind::Anomaly {
                dir: side.map(|s| self.dir_of(s)),
                anomaly: anomaly
                    .on_transport(Transport {
                        client,
                        server,
                        stream: None,
                    })
                    .at(ctx.packet),
            },
        });
    }
}

/// Header fields as (name, value) text, in order (unresolved ones named by their index).
fn named(fields: &[HeaderField]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|f| match f.unresolved {
            Some(index) => (format!("(unresolved index {index})"), String::new()),
            None => (
                String::from_utf8_lossy(&f.name).into_owned(),
                String::from_utf8_lossy(&f.value).into_owned(),
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::event::{EventKind, HttpVersion, Timestamp};
    use crate::http2::PREFACE;
    use crate::http2::testutil::{Encoder, fields, settings};
    use crate::packet::{TcpFlags, TcpSegment};
    use crate::{Engine, Limits};

    /// An extended CONNECT answered 403 is one `refused` event with both header lists as
    /// sent, its stream, and no WebSocket.
    #[test]
    fn connect_answered_403_is_refused() {
        let client: std::net::SocketAddr = "10.0.0.1:40000".parse().unwrap();
        let server: std::net::SocketAddr = "10.0.0.2:80".parse().unwrap();
        let request = [
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":scheme", "http"),
            (":path", "/chat?x=1"),
            (":authority", "h2.test"),
            ("sec-websocket-version", "13"),
        ];
        let answer = [(":status", "403"), ("content-length", "0")];
        let mut c2s = PREFACE.to_vec();
        c2s.extend(settings(&[]));
        c2s.extend(Encoder::default().headers(3, &fields(&request), false, 1 << 14));
        let mut s2c = settings(&[(8, 1)]);
        s2c.extend(Encoder::default().headers(3, &fields(&answer), true, 1 << 14));

        let out = converse(&[(true, c2s), (false, s2c)]);
        let t = |s| Timestamp::new(s, 0);

        let refused: Vec<_> = out
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Refused(r) => Some((e.ts, e.conn, r)),
                _ => None,
            })
            .collect();
        assert_eq!(refused.len(), 1, "{out:?}");
        let (ts, conn, r) = refused[0];
        assert_eq!((ts, conn), (t(3), None));
        assert_eq!(
            (r.transport.client, r.transport.server, r.transport.stream),
            (client, server, Some(3))
        );
        assert_eq!(r.uri.as_deref(), Some("/chat?x=1"));
        let hs = &r.handshake;
        assert_eq!(hs.http, HttpVersion::Http2);
        assert_eq!(
            (hs.method.as_str(), hs.target.as_str(), hs.status),
            ("CONNECT", "/chat?x=1", 403)
        );
        let pairs = |l: &[(&str, &str)]| -> Vec<(String, String)> {
            l.iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(hs.request_headers, pairs(&request));
        assert_eq!(hs.response_headers, pairs(&answer));
        assert_eq!((hs.request_ts, hs.response_ts), (Some(t(2)), Some(t(3))));
        assert!(
            !out.iter().any(|e| matches!(e.kind, EventKind::Open(_))),
            "no WebSocket: {out:?}"
        );
    }

    fn tcp(
        src: std::net::SocketAddr,
        dst: std::net::SocketAddr,
        seq: u32,
        syn: bool,
        payload: &[u8],
    ) -> TcpSegment<'_> {
        TcpSegment {
            src,
            dst,
            seq,
            flags: TcpFlags {
                syn,
                ack: !syn || src.port() == 80,
                fin: false,
                rst: false,
            },
            payload,
            missing: 0,
        }
    }

    /// A masked client text frame (RFC 6455 §5.3), or an unmasked server one.
    fn ws_text(masked: bool, text: &str) -> Vec<u8> {
        let key = [0x11, 0x22, 0x33, 0x44];
        let mut f = vec![0x81, text.len() as u8 | if masked { 0x80 } else { 0 }];
        if masked {
            f.extend_from_slice(&key);
        }
        f.extend(
            text.bytes()
                .enumerate()
                .map(|(i, b)| if masked { b ^ key[i % 4] } else { b }),
        );
        f
    }

    /// Feeds client then server bytes in turns (one segment each) and returns the events.
    fn converse(turns: &[(bool, Vec<u8>)]) -> Vec<crate::event::Event> {
        let client: std::net::SocketAddr = "10.0.0.1:40000".parse().unwrap();
        let server: std::net::SocketAddr = "10.0.0.2:80".parse().unwrap();
        let mut engine = Engine::new(Limits::default());
        let mut out = Vec::new();
        let t = |s| Timestamp::new(s, 0);
        engine.segment(0, t(1), &tcp(client, server, 99, true, b""), &mut out);
        engine.segment(1, t(1), &tcp(server, client, 499, true, b""), &mut out);
        let mut seq = [100u32, 500u32];
        for (i, (from_client, bytes)) in turns.iter().enumerate() {
            let (src, dst, k) = if *from_client {
                (client, server, 0)
            } else {
                (server, client, 1)
            };
            let n = i as u64 + 2;
            engine.segment(
                n,
                t(n as i64),
                &tcp(src, dst, seq[k], false, bytes),
                &mut out,
            );
            seq[k] = seq[k].wrapping_add(bytes.len() as u32);
        }
        engine.finish(&mut out);
        out
    }

    fn messages(out: &[crate::event::Event]) -> Vec<(Option<u32>, &'static str, String)> {
        out.iter()
            .filter_map(|e| match &e.kind {
                EventKind::Message { dir, msg } => Some((
                    e.conn.and_then(|c| c.stream),
                    dir.as_str(),
                    String::from_utf8_lossy(&msg.payload).into_owned(),
                )),
                _ => None,
            })
            .collect()
    }

    const WS_CONNECT: [(&str, &str); 6] = [
        (":method", "CONNECT"),
        (":protocol", "websocket"),
        (":scheme", "http"),
        (":path", "/chat"),
        (":authority", "h2.test"),
        ("sec-websocket-version", "13"),
    ];

    /// RFC 7540 §3.2: `Upgrade: h2c` answered 101 goes on as HTTP/2; the server answers the
    /// upgraded request on stream 1, and an extended CONNECT on stream 3 is a WebSocket.
    #[test]
    fn h2c_upgrade_carries_websockets() {
        use crate::http2::testutil::{DATA, frame};
        let request = b"GET / HTTP/1.1\r\nHost: h2.test\r\nConnection: Upgrade, HTTP2-Settings\r\n\
Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n";
        let mut s2c =
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
                .to_vec();
        let mut server_hpack = Encoder::default();
        s2c.extend(settings(&[(8, 1)]));
        s2c.extend(server_hpack.headers(1, &fields(&[(":status", "200")]), true, 1 << 14));
        let mut c2s = PREFACE.to_vec();
        c2s.extend(settings(&[]));
        c2s.extend(Encoder::default().headers(3, &fields(&WS_CONNECT), false, 1 << 14));
        let accepted = server_hpack.headers(3, &fields(&[(":status", "200")]), false, 1 << 14);
        let out = converse(&[
            (true, request.to_vec()),
            (false, s2c),
            (true, c2s),
            (false, accepted),
            (true, frame(DATA, 0, 3, &ws_text(true, "hello over h2c"))),
            (false, frame(DATA, 0, 3, &ws_text(false, "welcome"))),
        ]);
        assert_eq!(
            messages(&out),
            vec![
                (Some(3), "c2s", "hello over h2c".to_owned()),
                (Some(3), "s2c", "welcome".to_owned())
            ],
            "{out:?}"
        );
        let opens: Vec<_> = out
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Open(info) => Some((e.conn.and_then(|c| c.stream), info)),
                _ => None,
            })
            .collect();
        assert_eq!(opens.len(), 1, "only stream 3 is a WebSocket: {out:?}");
        assert_eq!(opens[0].0, Some(3));
        assert_eq!(opens[0].1.handshake.http, HttpVersion::Http2);
        assert!(
            !out.iter()
                .any(|e| matches!(e.kind, EventKind::Anomaly { .. })),
            "{out:?}"
        );
    }

    /// An h2c upgrade the server declines (it answers over HTTP/1.1) is no refused WebSocket;
    /// the connection goes on as HTTP/1.1, and a WebSocket upgrade after it still opens.
    #[test]
    fn a_declined_h2c_upgrade_is_not_a_refusal() {
        let request =
            b"GET /page HTTP/1.1\r\nHost: h2.test\r\nConnection: Upgrade, HTTP2-Settings\r\n\
Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n";
        let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        let ws =
            b"GET /chat HTTP/1.1\r\nHost: h2.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        let switch =
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
        let mut after = switch.to_vec();
        after.extend(ws_text(false, "hi"));
        let out = converse(&[
            (true, request.to_vec()),
            (false, answer.to_vec()),
            (true, ws.to_vec()),
            (false, after),
        ]);
        assert!(
            !out.iter().any(|e| matches!(e.kind, EventKind::Refused(_))),
            "{out:?}"
        );
        assert_eq!(messages(&out), vec![(None, "s2c", "hi".to_owned())]);
    }
}
