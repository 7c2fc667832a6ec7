//! The one place an output format becomes a sink, for `read` and `live` alike. A new format
//! is a new [`OutputFormat`] variant, a new variant here and its arms; both commands take it
//! from there, on one thread or many. HAR is a document rather than lines: it offers no
//! [`Sink::lines`], so a threaded run hands it the events themselves, in order.

use std::io::{self, Write};

use super::args::{FormatChoice, OutputFormat};
use super::output::LineOutput;
use crate::event::{Event, Timestamp};
use crate::har::HarWriter;
use crate::sink::{Begin, Finish, JsonSink, LineSink, Sink, TextSink, TimeFormat};

/// The sink of an output format, writing to `W`.
pub enum FormatSink<W: Write> {
    Json(JsonSink<W>),
    Text(TextSink<W>),
    Har(Box<HarWriter<W>>),
}

impl<W: Write> FormatSink<W> {
    pub fn new(choice: &FormatChoice, out: W) -> Self {
        match choice.format {
            OutputFormat::Json => FormatSink::Json(JsonSink::new(out)),
            OutputFormat::Text => FormatSink::Text(TextSink::new(out)),
            OutputFormat::Har => FormatSink::Har(Box::new(HarWriter::with_limits(
                out,
                env!("CARGO_PKG_VERSION"),
                choice.har.clone(),
            ))),
        }
    }

    /// How text lines write their time (JSON lines always carry RFC 3339 `ts`).
    pub fn time_format(self, time: TimeFormat) -> Self {
        match self {
            FormatSink::Text(s) => FormatSink::Text(s.time_format(time)),
            json => json,
        }
    }

    fn get(&mut self) -> &mut dyn Sink {
        match self {
            FormatSink::Json(s) => s,
            FormatSink::Text(s) => s,
            FormatSink::Har(s) => &mut **s,
        }
    }
}

impl<'a> FormatSink<&'a mut LineOutput> {
    /// For the whole-lines output of `read`: JSON payloads are written straight into its line
    /// buffer (bulk payloads are most of the output, and each copy of them counts).
    pub fn lines_into(choice: &FormatChoice, out: &'a mut LineOutput) -> Self {
        match choice.format {
            OutputFormat::Json => {
                FormatSink::Json(JsonSink::with_line_buffer(out, |o| o.line_buffer()))
            }
            OutputFormat::Text | OutputFormat::Har => FormatSink::new(choice, out),
        }
    }
}

// Matched in each method rather than through `get`: `event` is called for every event, and
// the match lets the format's own code be inlined here.
impl<W: Write> Sink for FormatSink<W> {
    fn begin(&mut self, begin: &Begin<'_>) -> io::Result<()> {
        self.get().begin(begin)
    }
    fn capture_start(&mut self, ts: Timestamp) -> io::Result<()> {
        self.get().capture_start(ts)
    }
    fn event(&mut self, event: &Event) -> io::Result<()> {
        match self {
            FormatSink::Json(s) => s.event(event),
            FormatSink::Text(s) => s.event(event),
            FormatSink::Har(s) => HarWriter::event(s, event),
        }
    }
    fn finish(&mut self, finish: &Finish<'_>) -> io::Result<()> {
        self.get().finish(finish)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.get().flush()
    }
    fn lines(&mut self) -> Option<&mut dyn LineSink> {
        self.get().lines()
    }
}
