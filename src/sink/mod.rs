//! Output sinks: where the engine's events go. JSON lines, readable text lines, per-connection
//! totals ([`Summary`]) and the TUI's model are sinks; a sink that writes one document (HAR)
//! is one too. Sinks only consume events; they hold no protocol logic.
//!
//! A run (see [`crate::pipeline`]) calls [`Sink::begin`] once, [`Sink::event`] for every
//! event in capture order (connection numbers already final), [`Sink::flush`] whenever output
//! should be handed on (the input paused, a live capture's interval), and [`Sink::finish`]
//! once at the end, with what a document needs then. A run on several threads calls them all
//! from one thread, in the same order, with the same events: a sink needs nothing to work
//! with `--threads N`.
//!
//! A line-shaped sink may also offer [`Sink::lines`]: each event becomes bytes of its own, so
//! a threaded run makes those bytes on the threads that decoded the events and has the sink
//! write them, in order, instead of calling `event`. The bytes must be exactly what `event`
//! writes.

mod fastfmt;
mod json;
mod jsonvalue;
mod summary;
mod text;
mod timefmt;

use std::io;

use crate::event::{Event, Timestamp};

pub use json::JsonSink;
pub use summary::{ConnTotals, RunCounts, Summary};
pub use text::{INVALID_UTF8_MARK, Shown, TextSink, close_label, micros, shown};
pub use timefmt::{TimeFormat, write_rfc3339_micros, write_seconds_since};

/// Where events go.
pub trait Sink {
    /// Before the first event of the run.
    fn begin(&mut self, begin: &Begin<'_>) -> io::Result<()> {
        let _ = begin;
        Ok(())
    }

    /// The capture time of the run's first packet, before any event (a run with no packet
    /// never calls it): where relative times count from.
    fn capture_start(&mut self, ts: Timestamp) -> io::Result<()> {
        let _ = ts;
        Ok(())
    }

    /// One event. Its payload is the caller's: a sink that keeps it copies it.
    fn event(&mut self, event: &Event) -> io::Result<()>;

    /// After the last event.
    fn finish(&mut self, finish: &Finish<'_>) -> io::Result<()> {
        let _ = finish;
        Ok(())
    }

    /// Hand on what is buffered.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// For a sink whose output is one piece of bytes per event, made from that event alone
    /// (lines): the way to have those bytes made elsewhere. `None` (the default): the sink
    /// takes events.
    fn lines(&mut self) -> Option<&mut dyn LineSink> {
        None
    }
}

/// The line-shaped side of a sink (see the module documentation).
pub trait LineSink {
    /// A formatter making, for any event, exactly the bytes [`Sink::event`] writes for it; it
    /// runs on another thread and keeps its own state (caches).
    fn formatter(&self) -> Box<dyn Formatter + Send>;

    /// Writes bytes made by formatters: whole events, in output order.
    fn write_formatted(&mut self, bytes: &[u8]) -> io::Result<()>;
}

/// Turns events into the bytes a line-shaped sink writes for them.
pub trait Formatter {
    /// Appends the bytes of `event` to `out`.
    fn format(&mut self, event: &Event, out: &mut Vec<u8>);
}

/// What a sink is told before the first event.
#[derive(Clone, Debug, Default)]
pub struct Begin<'a> {
    /// The inputs, named as errors name them (a path, `standard input`, an interface), in the
    /// order they are read.
    pub inputs: &'a [String],
}

/// What a sink is told after the last event: what a sink writing a document needs to end it.
#[derive(Clone, Debug, Default)]
pub struct Finish<'a> {
    /// Per-connection totals of the whole run, in connection order, when the run was asked
    /// for them (`--summary`).
    pub summary: Option<&'a Summary>,
    /// Capture time of the last packet read (`None`: no packet).
    pub last_ts: Option<Timestamp>,
}

impl<S: Sink + ?Sized> Sink for &mut S {
    fn begin(&mut self, begin: &Begin<'_>) -> io::Result<()> {
        (**self).begin(begin)
    }
    fn capture_start(&mut self, ts: Timestamp) -> io::Result<()> {
        (**self).capture_start(ts)
    }
    fn event(&mut self, event: &Event) -> io::Result<()> {
        (**self).event(event)
    }
    fn finish(&mut self, finish: &Finish<'_>) -> io::Result<()> {
        (**self).finish(finish)
    }
    fn flush(&mut self) -> io::Result<()> {
        (**self).flush()
    }
    fn lines(&mut self) -> Option<&mut dyn LineSink> {
        (**self).lines()
    }
}

impl<S: Sink + ?Sized> Sink for Box<S> {
    fn begin(&mut self, begin: &Begin<'_>) -> io::Result<()> {
        (**self).begin(begin)
    }
    fn capture_start(&mut self, ts: Timestamp) -> io::Result<()> {
        (**self).capture_start(ts)
    }
    fn event(&mut self, event: &Event) -> io::Result<()> {
        (**self).event(event)
    }
    fn finish(&mut self, finish: &Finish<'_>) -> io::Result<()> {
        (**self).finish(finish)
    }
    fn flush(&mut self) -> io::Result<()> {
        (**self).flush()
    }
    fn lines(&mut self) -> Option<&mut dyn LineSink> {
        (**self).lines()
    }
}
