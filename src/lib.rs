//! wsnoop: a passive WebSocket dissector.
//!
//! The protocol core is sans-IO: [`Engine`] takes captured packets (timestamp, link type, bytes)
//! and pushes [`Event`]s; it opens no files or sockets, starts no threads and reads no clock.
//! Capture readers ([`capture`]) and output sinks ([`sink`]) sit outside it and drive it.
//!
//! Pipeline: [`packet`] (link/IP/TCP) → [`flow`] (connections) → [`reassembly`] (TCP byte
//! streams, one per direction) → [`handshake`] (HTTP/1.1 Upgrade) → [`frame`] (RFC 6455 frames)
//! → [`message`] (fragments, permessage-deflate, UTF-8) → [`event`]s.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
pub mod capture;
#[cfg(feature = "cli")]
pub mod cli;
#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
pub mod engine;
#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
pub mod event;
#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
pub mod filter;
#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
pub mod flow;
#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
pub mod frame;
#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
pub mod handshake;
#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
pub mod limits;
#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
pub mod message;
#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
pub mod packet;
#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
pub mod pipeline;
#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
pub mod reassembly;
#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
pub mod session;
pub mod sink;
#[cfg(feature = "tui")]
pub mod tui;

pub use engine::Engine;
pub use event::{Event, EventKind};
pub use limits::Limits;
