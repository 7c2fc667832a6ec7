//! The JSON family: Engine.IO/Socket.IO (3 and 4), JSON-RPC/CDP, GraphQL over WebSocket,
//! SignalR, and probing (`auto`). Config byte bits 0-2 pick: auto, socketio EIO=4, socketio
//! EIO=3, jsonrpc, graphql-ws, signalr; see `proto_common.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsnoop::proto::{ProtoChoice, ProtoHints, ProtoName};

#[path = "proto_common.rs"]
mod proto_common;

fuzz_target!(|data: &[u8]| {
    let Some((cfg, records)) = data.split_first() else {
        return;
    };
    let (choice, uri) = match cfg % 6 {
        0 => (ProtoChoice::Auto, None),
        1 => (
            ProtoChoice::Auto,
            Some("/socket.io/?EIO=4&transport=websocket"),
        ),
        2 => (
            ProtoChoice::Auto,
            Some("/socket.io/?EIO=3&transport=websocket"),
        ),
        3 => (ProtoChoice::Force(ProtoName::JsonRpc), None),
        4 => (ProtoChoice::Force(ProtoName::GraphqlWs), None),
        _ => (ProtoChoice::Force(ProtoName::SignalR), None),
    };
    proto_common::run(
        choice,
        ProtoHints {
            subprotocol: None,
            uri,
        },
        records,
    );
});
