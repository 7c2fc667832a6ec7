//! wsnoop: a passive WebSocket dissector.
//!
//! The protocol core is sans-IO: [`Engine`] takes captured packets (timestamp, link type, bytes)
//! and pushes [`Event`]s; it opens no files or sockets, starts no threads and reads no clock.
//! Capture readers ([`capture`]) and output sinks ([`sink`]) sit outside it; the
//! [`pipeline`] drives it (inputs through one engine or N into a sink), and the command line
//! (`cli`, feature `cli`) and the terminal UI (`tui`, feature `tui`) are configurations of the
//! pipeline. `cargo build --no-default-features` builds the library alone.
//!
//! Pipeline: [`packet`] (link/IP/TCP) → [`flow`] (connections) → [`reassembly`] (TCP byte
//! streams, one per direction) → [`handshake`] (HTTP/1.1 Upgrade) → [`frame`] (RFC 6455 frames)
//! → [`message`] (fragments, permessage-deflate, UTF-8) → [`event`]s.
//!
//! A capture file decoded into events:
//!
//! ```
//! use wsnoop::{Engine, EventKind, Limits, capture::CaptureReader};
//!
//! let file = std::fs::File::open("captures/py_basic_echo.pcap")?;
//! let mut capture = CaptureReader::new(file, &Limits::default())?;
//! let mut engine = Engine::new(Limits::default());
//! let mut events = Vec::new();
//! while let Some(packet) = capture.next_packet()? {
//!     engine.packet(&packet, &mut events);
//! }
//! engine.finish(&mut events);
//! let EventKind::Message { msg, .. } = &events[1].kind else { panic!() };
//! assert_eq!(msg.payload, b"Hello, WebSocket!");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The same through the [`pipeline`], on two threads, as JSON lines:
//!
//! ```
//! use wsnoop::pipeline::{Input, Options, Pipeline};
//! use wsnoop::sink::JsonSink;
//!
//! let mut sink = JsonSink::new(Vec::new());
//! let options = Options { threads: 2, ..Options::default() };
//! let inputs = vec![Input::Path("captures/py_basic_echo.pcap".into())];
//! let report = Pipeline::new(options).run(inputs, &mut sink, &mut ());
//! assert_eq!(report.exit_code(), 0);
//! let lines = sink.into_inner();
//! assert!(lines.starts_with(br#"{"event":"open","ts":"2026-11-22T19:10:21.560666Z","conn":1,"#));
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod bytes;
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
pub mod har;
#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
pub mod health;
#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
pub mod http2;
#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
pub mod limits;
#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
pub mod message;
#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
pub mod packet;
#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
pub mod pipeline;
/// Counts with their noun in the right number.
mod plural;
#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
pub mod proto;
#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
pub mod reassembly;
#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
pub mod session;
pub mod sink;
#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
pub mod tls;
#[cfg(feature = "tui")]
pub mod tui;

pub use engine::Engine;
pub use event::{Event, EventKind};
pub use limits::Limits;
