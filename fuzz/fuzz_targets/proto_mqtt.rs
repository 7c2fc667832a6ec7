//! The MQTT decoder (binary stream family): records of messages in both directions, with
//! losses; see `proto_common.rs` for the input format (the config byte is unused).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsnoop::proto::{ProtoChoice, ProtoHints, ProtoName};

#[path = "proto_common.rs"]
mod proto_common;

fuzz_target!(|data: &[u8]| {
    let Some((_, records)) = data.split_first() else {
        return;
    };
    proto_common::run(
        ProtoChoice::Force(ProtoName::Mqtt),
        ProtoHints::default(),
        records,
    );
});
