//! Output sinks: the engine's events written as JSON lines or readable text lines, plus
//! per-connection totals for `--summary`. Sinks only consume events; they hold no protocol
//! logic.

mod fastfmt;
mod json;
mod renumber;
mod summary;
mod text;
mod timefmt;

use std::io;

use crate::event::Event;

pub use json::JsonSink;
pub use renumber::LineStyle;
pub use summary::{ConnTotals, Summary};
pub use text::TextSink;
pub use timefmt::write_rfc3339_micros;

/// Where events go.
pub trait Sink {
    fn event(&mut self, event: &Event) -> io::Result<()>;
    /// Per-connection totals, written once at the end when asked for.
    fn summary(&mut self, summary: &Summary) -> io::Result<()>;
    fn flush(&mut self) -> io::Result<()>;
}
