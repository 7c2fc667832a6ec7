//! The STOMP decoder (text stream family, also under SockJS): config byte bits 0-1 pick the
//! subprotocol (none, v10.stomp, v11.stomp, v12.stomp); see `proto_common.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsnoop::proto::{ProtoChoice, ProtoHints, ProtoName};

#[path = "proto_common.rs"]
mod proto_common;

fuzz_target!(|data: &[u8]| {
    let Some((cfg, records)) = data.split_first() else {
        return;
    };
    let subprotocol = [
        None,
        Some("v10.stomp"),
        Some("v11.stomp"),
        Some("v12.stomp"),
    ][usize::from(cfg & 3)];
    let hints = ProtoHints {
        subprotocol,
        uri: None,
    };
    proto_common::run(ProtoChoice::Force(ProtoName::Stomp), hints, records);
});
