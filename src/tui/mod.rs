//! `wsnoop tui FILE`: browse connections, messages and frames in a terminal.
//!
//! Fed only by the engine's events: a loader thread reads the capture and sends event batches
//! with progress ([`loader`]); the state ([`state::App`]) takes events and keys and is drawn
//! by [`view::draw`]. Nothing here knows the protocol.

pub mod export;
mod fmt;
mod hexdump;
mod json;
pub mod keys;
mod live;
pub mod loader;
pub mod model;
mod mouse;
mod prompt;
mod run;
pub mod state;
#[doc(hidden)]
pub mod testdata;
pub mod view;

pub use model::{DEFAULT_KEEP_PAYLOAD, Model};
pub use run::main;
pub use state::{App, Effect, Feed, Pane};
pub use view::draw;
