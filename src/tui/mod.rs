//! `wsnoop tui FILE`: browse connections, messages and frames in a terminal.
//!
//! Fed only by the engine's events: a loader thread runs the capture (or an interface)
//! through the [pipeline](crate::pipeline) and sends event batches with progress
//! ([`loader`]); the model ([`model::Model`], a sink) keeps them, the state ([`state::App`])
//! takes them and keys and is drawn by [`view::draw`]. Nothing here knows the protocol, and
//! nothing here imports the command line (`crate::cli` configures it with a [`Config`]).

mod clipboard;
pub mod export;
mod fmt;
mod hexdump;
mod json;
pub mod keys;
pub mod loader;
pub mod model;
mod mouse;
mod prompt;
pub mod rtt;
mod run;
pub mod state;
#[doc(hidden)]
pub mod testdata;
pub mod traffic;
pub mod units;
pub mod view;

pub use loader::Source;
pub use model::{DEFAULT_KEEP_PAYLOAD, Model};
pub use run::{Config, main};
pub use state::{App, Effect, Feed, Pane};
pub use view::draw;
