//! The application decoder of one WebSocket connection: chosen by the handshake or by the
//! first messages, then fed every message of both directions.

use super::detect::{self, Found};
use super::graphql::Graphql;
use super::jsonrpc::JsonRpc;
use super::mqtt::Mqtt;
use super::pairing::Pairs;
use super::signalr::SignalR;
use super::socketio::SocketIo;
use super::stomp::Stomp;
use super::unit::{Unanswered, Unit};
use super::{MsgRef, ProtoChoice, ProtoConfig, ProtoHints, ProtoName};
use crate::event::{Dir, Opcode};

/// What a decoder gets besides the message: the bounds, the pairing table and the message's
/// number in its direction (1-based, for anomaly details).
pub(crate) struct Cx<'a> {
    pub cfg: &'a ProtoConfig,
    pub pairs: &'a mut Pairs,
    pub msg_no: u64,
}

/// The application decoder of one WebSocket connection (both directions).
pub struct ProtoConn {
    state: State,
    config: ProtoConfig,
    pairs: Pairs,
    /// Messages seen per direction.
    msg_no: [u64; 2],
    /// Data messages examined while probing.
    probed: u32,
    /// The handshake's Engine.IO version (`EIO=`), if any.
    eio: Option<u8>,
}

enum State {
    /// Looking at the first messages for a protocol.
    Probing,
    /// Nothing recognised: messages are passed over.
    Off,
    // Boxed: a connection without a protocol holds only the small states.
    Mqtt(Box<Mqtt>),
    Stomp(Box<Stomp>),
    SocketIo(Box<SocketIo>),
    JsonRpc(JsonRpc),
    Graphql(Graphql),
    SignalR(Box<SignalR>),
}

impl ProtoConn {
    /// Chooses by the negotiated Sec-WebSocket-Protocol (`mqtt`, `mqttv3.1`, `v12.stomp`,
    /// `v11.stomp`, `v10.stomp`, `graphql-transport-ws`, `graphql-ws`), else by the handshake
    /// (Socket.IO: `/socket.io/?EIO=N`) and, when still undecided, by the first
    /// `probe_messages` data messages (an MQTT CONNECT, a STOMP CONNECT, SignalR's
    /// `{"protocol":"json","version":1}\x1e`, JSON-RPC's `"jsonrpc":"2.0"`, the Chrome
    /// DevTools Protocol's `{"id":N,"method":"Domain.method"}`, graphql's `connection_init`,
    /// Engine.IO's open packet). `None` only for [`ProtoChoice::None`]; a connection on which
    /// nothing is recognised costs one branch per message once probing has ended.
    pub fn new(
        hints: &ProtoHints<'_>,
        choice: ProtoChoice,
        config: ProtoConfig,
    ) -> Option<ProtoConn> {
        let eio = hints.uri.and_then(detect::eio_version);
        let state = match choice {
            ProtoChoice::None => return None,
            ProtoChoice::Force(name) => decoder(name, hints, eio, false),
            ProtoChoice::Auto => match detect::by_handshake(hints) {
                Some(name) => decoder(name, hints, eio, false),
                None => State::Probing,
            },
        };
        Some(ProtoConn {
            state,
            pairs: Pairs::new(config.max_pending_requests),
            config,
            msg_no: [0; 2],
            probed: 0,
            eio,
        })
    }

    /// Decodes one message; the units it completes are pushed on `out`. Called for every
    /// message, most of them on connections carrying no protocol it knows.
    #[inline]
    pub fn message(&mut self, msg: &MsgRef<'_>, out: &mut Vec<Unit>) {
        if let State::Off = self.state {
            return;
        }
        self.decode(msg, out);
    }

    fn decode(&mut self, msg: &MsgRef<'_>, out: &mut Vec<Unit>) {
        let Some(no) = self.msg_no.get_mut(msg.dir.index()) else {
            return;
        };
        *no += 1;
        let msg_no = *no;
        if let State::Probing = self.state {
            if !matches!(msg.opcode, Opcode::Text | Opcode::Binary) {
                return;
            }
            match detect::by_message(msg) {
                Some(Found::Proto(name, sockjs)) => {
                    let hints = ProtoHints::default();
                    self.state = decoder(name, &hints, self.eio, sockjs);
                }
                Some(Found::Wait) => return,
                None => {
                    self.probed += 1;
                    if self.probed >= self.config.probe_messages {
                        self.state = State::Off;
                    }
                    return;
                }
            }
        }
        let mut cx = Cx {
            cfg: &self.config,
            pairs: &mut self.pairs,
            msg_no,
        };
        match &mut self.state {
            State::Probing | State::Off => {}
            State::Mqtt(d) => d.message(msg, &mut cx, out),
            State::Stomp(d) => d.message(msg, &mut cx, out),
            State::SocketIo(d) => d.message(msg, &mut cx, out),
            State::JsonRpc(d) => d.message(msg, &mut cx, out),
            State::Graphql(d) => d.message(msg, &mut cx, out),
            State::SignalR(d) => d.message(msg, &mut cx, out),
        }
    }

    /// A gap in `dir` (messages lost): resynchronises where the protocol allows (the JSON
    /// protocols at the next message, the stream protocols by dropping what was held).
    pub fn lost(&mut self, dir: Dir) {
        match &mut self.state {
            State::Probing | State::Off => {}
            State::Mqtt(d) => d.lost(dir),
            State::Stomp(d) => d.lost(dir),
            State::SocketIo(d) => d.lost(dir),
            State::JsonRpc(_) | State::Graphql(_) => {}
            State::SignalR(d) => d.lost(dir),
        }
    }

    /// The connection ended: the requests never answered, oldest first.
    pub fn finish(&mut self) -> Vec<Unanswered> {
        self.pairs.finish()
    }

    /// The protocol being decoded, once known.
    pub fn name(&self) -> Option<ProtoName> {
        match self.state {
            State::Probing | State::Off => None,
            State::Mqtt(_) => Some(ProtoName::Mqtt),
            State::Stomp(_) => Some(ProtoName::Stomp),
            State::SocketIo(_) => Some(ProtoName::SocketIo),
            State::JsonRpc(_) => Some(ProtoName::JsonRpc),
            State::Graphql(_) => Some(ProtoName::GraphqlWs),
            State::SignalR(_) => Some(ProtoName::SignalR),
        }
    }

    /// Probing has ended without recognising a protocol (messages now cost nothing).
    pub fn is_off(&self) -> bool {
        matches!(self.state, State::Off)
    }

    /// Requests dropped unpaired to stay within `max_pending_requests`.
    pub fn dropped_requests(&self) -> u64 {
        self.pairs.dropped()
    }

    /// Requests now waiting for their reply.
    pub fn pending_requests(&self) -> usize {
        self.pairs.len()
    }
}

fn decoder(name: ProtoName, hints: &ProtoHints<'_>, eio: Option<u8>, sockjs: bool) -> State {
    match name {
        ProtoName::Mqtt => State::Mqtt(Box::new(Mqtt::new())),
        ProtoName::Stomp => State::Stomp(Box::new(Stomp::new(
            hints.subprotocol.and_then(detect::stomp_version),
            sockjs,
        ))),
        ProtoName::SocketIo => State::SocketIo(Box::new(SocketIo::new(eio.unwrap_or(4)))),
        ProtoName::JsonRpc => State::JsonRpc(JsonRpc::new()),
        ProtoName::GraphqlWs => State::Graphql(Graphql::new()),
        ProtoName::SignalR => State::SignalR(Box::new(SignalR::new())),
    }
}
