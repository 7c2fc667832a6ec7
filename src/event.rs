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

/// Every kind of anomaly wsnoop reports; `as_str` is the JSON `kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AnomalyKind {
    BadAccept,
    UnmaskedClientFrame,
    MaskedServerFrame,
    ReservedOpcode,
    RsvWithoutExtension,
    NonminimalLength,
    LengthMsbSet,
    ControlTooLong,
    FragmentedControl,
    ContinuationWithoutStart,
    DataInterleavedInFragmentedMessage,
    InvalidUtf8,
    InvalidClosePayload,
    InvalidCloseCode,
    DataAfterClose,
    DeflateError,
    DecompressionLimit,
    MessageTooLarge,
    IncompleteMessage,
    TcpGap,
    TcpConflict,
    NoHandshake,
    TruncatedCapture,
    CorruptCapture,
    HandshakeTooLarge,
    ConnectionLimit,
    IpFragmentLimit,
    DeflateContextLost,
    ProbeLimit,
}

impl AnomalyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyKind::BadAccept => "bad_accept",
            AnomalyKind::UnmaskedClientFrame => "unmasked_client_frame",
            AnomalyKind::MaskedServerFrame => "masked_server_frame",
            AnomalyKind::ReservedOpcode => "reserved_opcode",
            AnomalyKind::RsvWithoutExtension => "rsv_without_extension",
            AnomalyKind::NonminimalLength => "nonminimal_length",
            AnomalyKind::LengthMsbSet => "length_msb_set",
            AnomalyKind::ControlTooLong => "control_too_long",
            AnomalyKind::FragmentedControl => "fragmented_control",
            AnomalyKind::ContinuationWithoutStart => "continuation_without_start",
            AnomalyKind::DataInterleavedInFragmentedMessage => {
                "data_interleaved_in_fragmented_message"
            }
            AnomalyKind::InvalidUtf8 => "invalid_utf8",
            AnomalyKind::InvalidClosePayload => "invalid_close_payload",
            AnomalyKind::InvalidCloseCode => "invalid_close_code",
            AnomalyKind::DataAfterClose => "data_after_close",
            AnomalyKind::DeflateError => "deflate_error",
            AnomalyKind::DecompressionLimit => "decompression_limit",
            AnomalyKind::MessageTooLarge => "message_too_large",
            AnomalyKind::IncompleteMessage => "incomplete_message",
            AnomalyKind::TcpGap => "tcp_gap",
            AnomalyKind::TcpConflict => "tcp_conflict",
            AnomalyKind::NoHandshake => "no_handshake",
            AnomalyKind::TruncatedCapture => "truncated_capture",
            AnomalyKind::CorruptCapture => "corrupt_capture",
            AnomalyKind::HandshakeTooLarge => "handshake_too_large",
            AnomalyKind::ConnectionLimit => "connection_limit",
            AnomalyKind::IpFragmentLimit => "ip_fragment_limit",
            AnomalyKind::DeflateContextLost => "deflate_context_lost",
            AnomalyKind::ProbeLimit => "probe_limit",
        }
    }
}

/// An anomaly found within one direction of a connection (or the whole input).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anomaly {
    pub kind: AnomalyKind,
    /// One human-readable sentence: what was affected and how much.
    pub detail: String,
}

impl Anomaly {
    pub fn new(kind: AnomalyKind, detail: impl Into<String>) -> Self {
        Anomaly {
            kind,
            detail: detail.into(),
        }
    }
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

/// The endpoints of a recognised WebSocket connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConnRef {
    pub id: ConnId,
    pub client: SocketAddr,
    pub server: SocketAddr,
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
    /// An anomaly about the input as a whole (no connection, no direction).
    pub fn input_anomaly(ts: Timestamp, kind: AnomalyKind, detail: impl Into<String>) -> Event {
        Event {
            ts,
            conn: None,
            kind: EventKind::Anomaly {
                dir: None,
                anomaly: Anomaly::new(kind, detail),
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
    End {
        how: EndHow,
        messages: u64,
        bytes: u64,
    },
}
