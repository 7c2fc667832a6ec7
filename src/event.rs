//! What the engine reports: connections opening and ending, messages, anomalies.

use std::net::SocketAddr;

/// Engine-assigned connection number, in order of recognition (first is 1).
pub type ConnId = u64;

/// Direction of travel within one WebSocket connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    /// From the side that sent the HTTP Upgrade request (the client) to the server.
    C2s,
    /// From the server to the client.
    S2c,
}

impl Dir {
    pub const BOTH: [Dir; 2] = [Dir::C2s, Dir::S2c];

    pub fn as_str(self) -> &'static str {
        match self {
            Dir::C2s => "c2s",
            Dir::S2c => "s2c",
        }
    }

    /// 0 for c2s, 1 for s2c: index into per-direction pairs.
    pub fn index(self) -> usize {
        match self {
            Dir::C2s => 0,
            Dir::S2c => 1,
        }
    }

    pub fn other(self) -> Dir {
        match self {
            Dir::C2s => Dir::S2c,
            Dir::S2c => Dir::C2s,
        }
    }
}

/// Capture time, as seconds and nanoseconds since the Unix epoch (UTC).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    pub secs: i64,
    pub nanos: u32,
}

impl Timestamp {
    pub fn new(secs: i64, nanos: u32) -> Self {
        Timestamp { secs, nanos }
    }
}

/// RFC 6455 §5.2 opcodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Opcode {
    Continuation,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
    /// 0x3-0x7 (data) and 0xB-0xF (control): reserved by RFC 6455.
    Reserved(u8),
}

impl Opcode {
    pub fn from_u8(op: u8) -> Opcode {
        match op & 0x0f {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            other => Opcode::Reserved(other),
        }
    }

    pub fn as_u8(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
            Opcode::Reserved(op) => op,
        }
    }

    /// RFC 6455 §5.5: opcodes with the high bit set are control frames.
    pub fn is_control(self) -> bool {
        self.as_u8() & 0x08 != 0
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Opcode::Continuation => "continuation",
            Opcode::Text => "text",
            Opcode::Binary => "binary",
            Opcode::Close => "close",
            Opcode::Ping => "ping",
            Opcode::Pong => "pong",
            Opcode::Reserved(_) => "reserved",
        }
    }
}

/// What kind of anomaly: the JSON `kind`. An open set: a layer that raises kinds of its own
/// defines them beside its code (`impl AnomalyKind { pub const ...}` in its module), so a new
/// kind touches no central list. The names below are the WebSocket, TCP and capture kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AnomalyKind(&'static str);

#[allow(non_upper_case_globals)]
impl AnomalyKind {
    pub const BadAccept: AnomalyKind = AnomalyKind("bad_accept");
    pub const UnmaskedClientFrame: AnomalyKind = AnomalyKind("unmasked_client_frame");
    pub const MaskedServerFrame: AnomalyKind = AnomalyKind("masked_server_frame");
    pub const ReservedOpcode: AnomalyKind = AnomalyKind("reserved_opcode");
    pub const RsvWithoutExtension: AnomalyKind = AnomalyKind("rsv_without_extension");
    pub const NonminimalLength: AnomalyKind = AnomalyKind("nonminimal_length");
    pub const LengthMsbSet: AnomalyKind = AnomalyKind("length_msb_set");
    pub const ControlTooLong: AnomalyKind = AnomalyKind("control_too_long");
    pub const FragmentedControl: AnomalyKind = AnomalyKind("fragmented_control");
    pub const ContinuationWithoutStart: AnomalyKind = AnomalyKind("continuation_without_start");
    pub const DataInterleavedInFragmentedMessage: AnomalyKind =
        AnomalyKind("data_interleaved_in_fragmented_message");
    pub const InvalidUtf8: AnomalyKind = AnomalyKind("invalid_utf8");
    pub const InvalidClosePayload: AnomalyKind = AnomalyKind("invalid_close_payload");
    pub const InvalidCloseCode: AnomalyKind = AnomalyKind("invalid_close_code");
    pub const DataAfterClose: AnomalyKind = AnomalyKind("data_after_close");
    pub const DeflateError: AnomalyKind = AnomalyKind("deflate_error");
    pub const DecompressionLimit: AnomalyKind = AnomalyKind("decompression_limit");
    pub const MessageTooLarge: AnomalyKind = AnomalyKind("message_too_large");
    pub const IncompleteMessage: AnomalyKind = AnomalyKind("incomplete_message");
    pub const TcpGap: AnomalyKind = AnomalyKind("tcp_gap");
    pub const TcpConflict: AnomalyKind = AnomalyKind("tcp_conflict");
    pub const NoHandshake: AnomalyKind = AnomalyKind("no_handshake");
    pub const TruncatedCapture: AnomalyKind = AnomalyKind("truncated_capture");
    pub const CorruptCapture: AnomalyKind = AnomalyKind("corrupt_capture");
    pub const HandshakeTooLarge: AnomalyKind = AnomalyKind("handshake_too_large");
    pub const ConnectionLimit: AnomalyKind = AnomalyKind("connection_limit");
    pub const IpFragmentLimit: AnomalyKind = AnomalyKind("ip_fragment_limit");
    pub const DeflateContextLost: AnomalyKind = AnomalyKind("deflate_context_lost");
    pub const ProbeLimit: AnomalyKind = AnomalyKind("probe_limit");
}

impl AnomalyKind {
    /// A kind named `name` (snake_case, as written in the JSON `kind`).
    pub const fn named(name: &'static str) -> AnomalyKind {
        AnomalyKind(name)
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

/// An anomaly found within one direction of a connection (or the whole input).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anomaly {
    pub kind: AnomalyKind,
    /// One human-readable sentence: what was affected and how much.
    pub detail: String,
    /// For an anomaly about a transport connection that has no WebSocket number (a TLS
    /// connection without keys, an HTTP/2 connection's own errors): its endpoints, so that
    /// output names them even though the event's `conn` is `None`.
    pub transport: Option<Transport>,
    /// The capture record (numbered from 1, as Wireshark numbers frames) it was detected at:
    /// the packet whose bytes revealed it. `None` when there is none (end of input).
    pub packet: Option<u64>,
}

impl Anomaly {
    pub fn new(kind: AnomalyKind, detail: impl Into<String>) -> Self {
        Anomaly {
            kind,
            detail: detail.into(),
            transport: None,
            packet: None,
        }
    }

    /// Stamped with the packet it was detected at, unless it already has one (found where
    /// its bytes came in, before being handed on).
    pub fn at(mut self, packet: Option<u64>) -> Self {
        self.packet = self.packet.or(packet);
        self
    }

    /// An anomaly about the transport connection `transport`, which carries no (numbered)
    /// WebSocket.
    pub fn on_transport(mut self, transport: Transport) -> Self {
        self.transport = Some(transport);
        self
    }
}

/// A transport (TCP) connection, client first, and the HTTP/2 stream concerned if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Transport {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub stream: Option<u32>,
}

/// A whole WebSocket message (data message with fragments joined and inflated, or one
/// control frame).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Text, Binary, Close, Ping or Pong.
    pub opcode: Opcode,
    /// Application payload: unmasked, fragments joined, inflated.
    pub payload: Vec<u8>,
    /// Number of frames that carried it.
    pub frames: u32,
    /// Sent with permessage-deflate (RSV1 on its first frame).
    pub compressed: bool,
    /// Payload bytes on the wire, summed over its frames (before inflating).
    pub wire_len: u64,
    /// For text messages and close reasons: the payload is valid UTF-8.
    pub utf8_valid: bool,
    /// The frames that carried it, in order (for detail views).
    pub frame_detail: Vec<FrameInfo>,
    /// Only its first bytes were captured (the capture cut it off, or a hole in it): the
    /// payload is what was captured before the cut, never the whole message. Listed only
    /// when asked for (`Limits::list_truncated`).
    pub truncated: bool,
    /// The capture records that carried it (`None` for a message not decoded from a capture).
    pub packets: Option<Packets>,
}

/// Capture record numbers (from 1, counting every record of the capture file, as Wireshark
/// numbers frames) of what carried a message: the packet of its first byte and the packet
/// whose arrival completed it, i.e. the latest of those that carried its bytes. Inside TLS a
/// byte's packet is the one that completed its record (its plaintext exists from then on).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Packets {
    pub first: u64,
    pub last: u64,
}

impl Packets {
    /// Packets of something whose first byte came in `packet` (`None`: unknown).
    pub fn starting(packet: Option<u64>) -> Option<Packets> {
        packet.map(|p| Packets { first: p, last: p })
    }

    /// `packet` carried more of its bytes.
    pub fn extend(this: &mut Option<Packets>, packet: Option<u64>) {
        match (this.as_mut(), packet) {
            (Some(p), Some(n)) => p.last = p.last.max(n),
            (None, Some(_)) => *this = Packets::starting(packet),
            (_, None) => {}
        }
    }

    /// `this` followed by `more` (a message and its next frame).
    pub fn join(this: &mut Option<Packets>, more: Option<Packets>) {
        match (this.as_mut(), more) {
            (Some(p), Some(m)) => p.last = p.last.max(m.last),
            (None, Some(_)) => *this = more,
            (_, None) => {}
        }
    }
}

/// One frame as it was on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    pub fin: bool,
    /// RSV1..RSV3 as the low three bits (RSV1 = 0b100).
    pub rsv: u8,
    pub opcode: Opcode,
    /// The masking key, for masked frames.
    pub mask: Option<[u8; 4]>,
    /// Payload length as declared in the header.
    pub payload_len: u64,
    /// Header length in bytes (2 to 14).
    pub header_len: u8,
    /// Capture time of the packet that completed the frame.
    pub ts: Timestamp,
}

impl Message {
    /// RFC 6455 §5.5.1: the close status code, when the close payload carries one.
    pub fn close_code(&self) -> Option<u16> {
        match (self.opcode, self.payload.as_slice()) {
            (Opcode::Close, [hi, lo, ..]) => Some(u16::from_be_bytes([*hi, *lo])),
            _ => None,
        }
    }

    /// The close reason bytes (after the 2-byte code).
    pub fn close_reason(&self) -> Option<&[u8]> {
        match self.opcode {
            Opcode::Close if self.payload.len() >= 2 => self.payload.get(2..),
            _ => None,
        }
    }
}

/// What one direction's WebSocket decoder produces, before the session stamps it with the
/// connection, direction and time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DirEvent {
    Message(Message),
    Anomaly(Anomaly),
}

/// Facts from the opening handshake.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenInfo {
    pub uri: Option<String>,
    pub host: Option<String>,
    pub origin: Option<String>,
    pub user_agent: Option<String>,
    pub subprotocol: Option<String>,
    /// The Sec-WebSocket-Extensions value of the 101 response, as sent.
    pub extensions: Option<String>,
    /// The connection was picked up without its handshake.
    pub mid_stream: bool,
    /// The handshake itself, as exchanged (empty for a connection picked up mid-stream).
    pub handshake: Handshake,
    /// The TLS connection underneath (wss://), `None` for cleartext.
    pub tls: Option<TlsInfo>,
}

/// HTTP version of the exchange that opened a WebSocket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum HttpVersion {
    /// An HTTP/1.1 `Upgrade: websocket` answered 101 (RFC 6455 §4).
    #[default]
    Http11,
    /// An HTTP/2 extended CONNECT with `:protocol websocket` answered 200 (RFC 8441).
    Http2,
}

impl HttpVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpVersion::Http11 => "1.1",
            HttpVersion::Http2 => "2",
        }
    }
}

/// The opening request and its answer, in full: enough to write a HAR entry or show the
/// handshake as a browser's DevTools does. Header names and values are as sent (HTTP/2 header
/// names are lowercase on the wire, pseudo-headers such as `:path` included, in order);
/// values that are not UTF-8 are kept lossily.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Handshake {
    pub http: HttpVersion,
    /// `GET` for HTTP/1.1, `CONNECT` for HTTP/2; empty when not seen.
    pub method: String,
    /// The request target as sent (`/chat?x=1`), or for HTTP/2 the `:path`.
    pub target: String,
    /// Status code of the answer (101, or 200 for HTTP/2; a refusal's own in [`Refused`]); 0
    /// when not seen.
    pub status: u16,
    /// The status line's reason phrase (HTTP/1.1 only).
    pub reason: String,
    pub request_headers: Vec<(String, String)>,
    pub response_headers: Vec<(String, String)>,
    /// Capture times of the packets that completed the request and the response (a response
    /// the capture shows before its request keeps its own time; an HTTP/1.1 request pipelined
    /// behind a refused upgrade is stamped when it is read, at the refusal).
    pub request_ts: Option<Timestamp>,
    pub response_ts: Option<Timestamp>,
    /// Capture record number (from 1) of the packet that completed the response.
    pub response_packet: Option<u64>,
}

/// What was learned of a decrypted TLS connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsInfo {
    /// `1.2` or `1.3`.
    pub version: String,
    /// IANA name of the cipher suite, e.g. `TLS_AES_128_GCM_SHA256`.
    pub cipher: String,
    /// server_name of the ClientHello.
    pub sni: Option<String>,
    /// The protocol ALPN settled on (`http/1.1`, `h2`).
    pub alpn: Option<String>,
    /// The session was resumed (TLS 1.2 session ID or ticket, TLS 1.3 PSK).
    pub resumed: bool,
}

/// How a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndHow {
    Fin,
    Rst,
    /// The input ended with the connection still open.
    Eof,
    /// Dropped to stay within the connection limit.
    Evicted,
    /// No packet for longer than the idle timeout (live capture).
    Idle,
}

impl EndHow {
    pub fn as_str(self) -> &'static str {
        match self {
            EndHow::Fin => "fin",
            EndHow::Rst => "rst",
            EndHow::Eof => "eof",
            EndHow::Evicted => "evicted",
            EndHow::Idle => "idle",
        }
    }
}

/// A recognised WebSocket connection: its number, the TCP endpoints that carry it and, for a
/// WebSocket carried in an HTTP/2 stream (RFC 8441), that stream. A transport connection (one
/// TCP 4-tuple) may carry several WebSocket connections; each has its own number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConnRef {
    pub id: ConnId,
    /// The TCP endpoint that opened the connection (sent the Upgrade request or the CONNECT).
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// The HTTP/2 stream carrying this WebSocket; `None` for an HTTP/1.1 upgrade (one
    /// WebSocket per TCP connection).
    pub stream: Option<u32>,
}

/// One engine output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Capture time of the packet that completed it.
    pub ts: Timestamp,
    /// The connection, or `None` for anomalies about the input as a whole.
    pub conn: Option<ConnRef>,
    pub kind: EventKind,
}

impl Event {
    /// The transport connection an event without a WebSocket number is about, if any.
    pub fn transport(&self) -> Option<&Transport> {
        match &self.kind {
            EventKind::Anomaly { anomaly, .. } if self.conn.is_none() => anomaly.transport.as_ref(),
            EventKind::Refused(r) => Some(&r.transport),
            _ => None,
        }
    }

    /// An anomaly about the input as a whole (no connection, no direction), found at capture
    /// record `packet` (numbered from 1) if at one.
    pub fn input_anomaly(
        ts: Timestamp,
        kind: AnomalyKind,
        detail: impl Into<String>,
        packet: Option<u64>,
    ) -> Event {
        Event {
            ts,
            conn: None,
            kind: EventKind::Anomaly {
                dir: None,
                anomaly: Anomaly::new(kind, detail).at(packet),
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    Open(Box<OpenInfo>),
    Message {
        dir: Dir,
        msg: Message,
    },
    Anomaly {
        dir: Option<Dir>,
        anomaly: Anomaly,
    },
    /// A WebSocket upgrade answered with anything but success (HTTP/1.1: a final status other
    /// than 101; HTTP/2: an extended CONNECT answered with a status other than 200). The
    /// connection never became a WebSocket, so the event has no `conn`.
    Refused(Box<Refused>),
    /// An application-protocol unit (an MQTT packet, a STOMP frame, a JSON-RPC object, ...),
    /// right after the message that completed it; its `dir` is the unit's.
    Proto(Box<crate::proto::Unit>),
    End {
        how: EndHow,
        messages: u64,
        bytes: u64,
        /// The connection's health and its unanswered requests (always given by the engine).
        report: Option<Box<EndReport>>,
    },
    /// The live silence alarm (`Engine::silence_alarms`): no message either way for
    /// `silent_us` (`ended: false`, stamped when the alarm noticed it), or the connection
    /// spoke again after `silent_us` of silence (`ended: true`, stamped with the message that
    /// ended it, which follows).
    Silence {
        silent_us: u64,
        ended: bool,
    },
}

/// A refused WebSocket upgrade: where, what was asked and what was answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// The transport connection (and HTTP/2 stream) that carried the exchange.
    pub transport: Transport,
    /// The request target (HTTP/2: the `:path`).
    pub uri: Option<String>,
    /// The request and its answer in full (`status` and `reason` are the refusal's).
    pub handshake: Handshake,
    /// The TLS connection underneath, `None` for cleartext.
    pub tls: Option<TlsInfo>,
}

impl Refused {
    /// `GET ws://host/uri: 403 Forbidden`: the request and its answer on one line.
    pub fn summary(&self) -> String {
        let hs = &self.handshake;
        let method = match hs.method.as_str() {
            "" => "GET",
            m => m,
        };
        let mut line = method.to_string();
        let host = hs
            .request_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("host") || n == ":authority")
            .map(|(_, v)| v.as_str());
        let scheme = if self.tls.is_some() { "wss" } else { "ws" };
        match (host, self.uri.as_deref()) {
            (Some(host), Some(uri)) if uri.starts_with('/') => {
                line.push_str(&format!(" {scheme}://{host}{uri}"));
            }
            (_, Some(uri)) => line.push_str(&format!(" {uri}")),
            (_, None) => {}
        }
        line.push_str(&format!(": {}", hs.status));
        if !hs.reason.is_empty() {
            line.push(' ');
            line.push_str(&hs.reason);
        }
        line
    }
}

/// What is known of a WebSocket connection when it ends, beyond its totals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndReport {
    /// Ping round trips, the close handshake, the longest silences.
    pub health: crate::health::HealthReport,
    /// Application-protocol requests that were never answered.
    pub unanswered: Vec<crate::proto::Unanswered>,
}
