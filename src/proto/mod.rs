//! Application protocols inside WebSocket messages: MQTT 3.1.1/5.0, STOMP 1.0–1.2 (also under
//! SockJS), Engine.IO 3/4 with Socket.IO 4/5, JSON-RPC 2.0 (and the Chrome DevTools Protocol
//! dialect), graphql-transport-ws and the legacy graphql-ws, and the SignalR JSON hub protocol.
//!
//! Sans-IO like the rest of the core: one [`ProtoConn`] per WebSocket connection takes that
//! connection's messages (after unmasking, reassembly and inflate) and pushes [`Unit`]s, one per
//! protocol unit, each paired where the protocol pairs requests and replies. A connection
//! without a protocol costs one branch per message once probing has given up.

mod conn;
mod detect;
mod graphql;
mod jsonrpc;
mod mqtt;
mod pairing;
mod signalr;
mod socketio;
mod stomp;
mod stream;
mod text;
mod unit;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod testutil;

use std::fmt;
use std::str::FromStr;

use crate::event::{AnomalyKind, Dir, Opcode, Timestamp};

pub use conn::ProtoConn;
pub use unit::{RESERVED_NAMES, Unanswered, Unit};

#[allow(non_upper_case_globals)]
impl AnomalyKind {
    /// A protocol unit that does not follow its protocol (the unit's `anomaly` says which
    /// protocol, which message and what was wrong).
    pub const ProtoError: AnomalyKind = AnomalyKind::named("proto_error");
    /// A bound of [`ProtoConfig`] was reached: a unit larger than `max_unit_bytes` was skipped,
    /// or a request held for pairing was dropped past `max_pending_requests`.
    pub const ProtoLimit: AnomalyKind = AnomalyKind::named("proto_limit");
}

/// One WebSocket message as the decoders see it (after unmasking, reassembly, inflate).
#[derive(Clone, Copy, Debug)]
pub struct MsgRef<'a> {
    pub dir: Dir,
    pub ts: Timestamp,
    pub opcode: Opcode,
    pub payload: &'a [u8],
}

/// What the handshake said, to choose a decoder.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProtoHints<'a> {
    /// The negotiated `Sec-WebSocket-Protocol` (the server's answer).
    pub subprotocol: Option<&'a str>,
    /// The request target of the Upgrade (`/socket.io/?EIO=4&transport=websocket`).
    pub uri: Option<&'a str>,
}

/// Which decoder a connection gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtoChoice {
    /// By the handshake, else by the first messages.
    Auto,
    /// No application decoding.
    None,
    /// This protocol, whatever the handshake says.
    Force(ProtoName),
}

/// The protocol families decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProtoName {
    Mqtt,
    Stomp,
    /// Engine.IO with Socket.IO on top.
    SocketIo,
    /// JSON-RPC 2.0 and the Chrome DevTools Protocol.
    JsonRpc,
    /// graphql-transport-ws and the legacy graphql-ws (subscriptions-transport-ws).
    GraphqlWs,
    /// The SignalR JSON hub protocol.
    SignalR,
}

impl ProtoName {
    pub const ALL: [ProtoName; 6] = [
        ProtoName::Mqtt,
        ProtoName::Stomp,
        ProtoName::SocketIo,
        ProtoName::JsonRpc,
        ProtoName::GraphqlWs,
        ProtoName::SignalR,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProtoName::Mqtt => "mqtt",
            ProtoName::Stomp => "stomp",
            ProtoName::SocketIo => "socketio",
            ProtoName::JsonRpc => "jsonrpc",
            ProtoName::GraphqlWs => "graphql-ws",
            ProtoName::SignalR => "signalr",
        }
    }
}

impl fmt::Display for ProtoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A protocol name that is not one of [`ProtoName::as_str`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownProto(pub String);

impl fmt::Display for UnknownProto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown protocol {:?} (known: mqtt, stomp, socketio, jsonrpc, graphql-ws, signalr)",
            self.0
        )
    }
}

impl std::error::Error for UnknownProto {}

impl FromStr for ProtoName {
    type Err = UnknownProto;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProtoName::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownProto(s.to_owned()))
    }
}

impl FromStr for ProtoChoice {
    type Err = UnknownProto;

    /// `auto`, `none`, or a protocol name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(ProtoChoice::Auto),
            "none" => Ok(ProtoChoice::None),
            name => name.parse().map(ProtoChoice::Force),
        }
    }
}

/// Bounds of one connection's application decoding. When one is reached the unit concerned
/// gets a `proto_limit` anomaly and decoding goes on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtoConfig {
    /// Largest protocol unit buffered, in bytes, per direction: an MQTT packet or STOMP frame
    /// spanning messages, a SignalR record, a Socket.IO packet with its binary attachments. A
    /// larger MQTT packet is skipped by its declared length; a larger STOMP frame or SignalR
    /// record is skipped up to its terminator.
    pub max_unit_bytes: usize,
    /// Requests held for pairing per connection (both directions); past it the oldest is
    /// dropped (counted in [`ProtoConn::dropped_requests`]).
    pub max_pending_requests: usize,
    /// Data messages examined to recognise a protocol when the handshake did not name one;
    /// then the connection is left undecoded.
    pub probe_messages: u32,
    /// Bytes of topic names held for MQTT 5 topic aliases, per direction; an alias set past it
    /// is not remembered (a later use of it is reported unresolved).
    pub max_topic_alias_bytes: usize,
    /// Binary attachments announced by one Socket.IO packet that are waited for.
    pub max_attachments: u32,
}

impl Default for ProtoConfig {
    fn default() -> Self {
        ProtoConfig {
            max_unit_bytes: 16 << 20,
            max_pending_requests: 4096,
            probe_messages: 4,
            max_topic_alias_bytes: 1 << 20,
            max_attachments: 256,
        }
    }
}
