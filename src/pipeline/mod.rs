//! Driving the engine: inputs (capture files, standard input, a live interface) through one
//! engine or N into a [`Sink`], with progress, flushing, stopping, idle expiry and error
//! reporting decided here, once. `wsnoop read`, `wsnoop live` and `wsnoop tui` are thin
//! configurations of a [`Pipeline`]; a library user drives the engine the same way.
//!
//! ```text
//!  Input ──► Source ──► Engine (one, on the calling thread) ──► Stage ──► Sink
//!                  └──► reader ─► N workers, each an Engine + Stage ─► merger ─► Sink
//! ```
//!
//! The stage counts events, adds them to the totals (`--summary`) and applies the
//! filter; the sink gets what passes, in capture order, connection numbers final. With
//! threads (files only) connections are spread over workers and their events come back
//! together in the order one engine gives them (see `threads/`): output is byte for byte the
//! same for every N.
//!
//! Errors: an input that cannot be opened or read to its end is reported through
//! [`Watch::failure`] and the run goes on with the next input; an output error stops the run.
//! [`Report::exit_code`] gives the exit code of either.

mod clock;
mod exit;
mod input;
mod keylog;
mod single;
mod stage;
mod threads;
mod watch;

use std::io;
use std::time::Duration;

use crate::event::{ConnId, Timestamp};
use crate::filter::Filter;
use crate::limits::Limits;
use crate::proto::ProtoChoice;
use crate::sink::{Begin, Finish, Sink, Summary};

pub use clock::wall_clock;
pub use exit::{EXIT_INPUT, EXIT_OK, EXIT_USAGE, Failure, NO_LIVE, Report, say};
#[cfg(feature = "live")]
pub use input::Live;
pub use input::{Capture, Input};
pub use keylog::{KeyLogFile, KeyLogText};
pub use watch::{Progress, RunStats, RunTotals, Watch};

use stage::Counts;

/// Live captures end connections with no packet for this long, unless told otherwise.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(600);
/// When a live run is stopped, packets already captured are still decoded for up to this long.
pub const DRAIN_FOR: Duration = Duration::from_secs(1);

/// How a run decodes and what it does between packets.
#[derive(Clone, Debug)]
pub struct Options {
    pub limits: Limits,
    /// Engines: 1 decodes on the calling thread; more spreads connections over that many
    /// worker threads (capture files only: a live input is decoded on one).
    pub threads: usize,
    /// Only events this filter selects reach the sink.
    pub filter: Option<Filter>,
    /// Gather per-connection totals and hand them to [`Sink::finish`].
    pub summary: bool,
    /// Hand output on at least this often, and wait at most this long for a live packet.
    /// `None`: only when the input pauses (a pipe with nothing more for now) and at the end.
    pub flush_every: Option<Duration>,
    /// End connections with no packet for this long (`end` with `"how":"idle"`), by the
    /// packet clock or, on a live input, the wall clock when later. `None`: never.
    pub idle_timeout: Option<Duration>,
    /// Raise a `silence` event on each WebSocket connection with no message either way for
    /// longer than this, and another (`"ended":true`) when it speaks again (see
    /// [`crate::engine::Engine::silence_alarms`]); by the same clock as `idle_timeout`,
    /// looked at four times per period of real time (at least once a second), so on a
    /// capture file where alarms land depends on how fast it is read: drive
    /// `Engine::silence_alarms` for exact control. One engine only: ignored with threads.
    pub silence_alarm: Option<Duration>,
    /// Call [`Watch::stats`] this often (and at the end of a live run).
    pub stats_every: Option<Duration>,
    /// TLS key logs (NSS format) every engine starts with; on a live input they are followed
    /// as they grow or are replaced. Secrets a pcapng capture carries in Decryption Secrets
    /// Blocks are added as they come, wherever it is read.
    pub keylogs: Vec<std::path::PathBuf>,
    /// Which application protocol WebSockets are decoded as.
    pub proto: ProtoChoice,
    /// Leave the raw messages out: protocol units (and opens, anomalies, ends) only.
    pub proto_only: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::default(),
            threads: 1,
            filter: None,
            summary: false,
            flush_every: None,
            idle_timeout: None,
            silence_alarm: None,
            stats_every: None,
            keylogs: Vec::new(),
            proto: ProtoChoice::Auto,
            proto_only: false,
        }
    }
}

/// One engine per core: what `read` and the TUI use unless told otherwise.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Runs inputs through the engine into a sink (see the module documentation).
pub struct Pipeline {
    options: Options,
}

/// A run's state across its inputs.
struct Run<'o> {
    options: &'o Options,
    /// The last connection number handed out: numbering goes on over the inputs.
    last_id: ConnId,
    summary: Option<Summary>,
    counts: Counts,
    last_ts: Option<Timestamp>,
    /// A packet has been read: the sink was told when the capture started.
    started: bool,
    input_failed: bool,
    /// The key logs' lines read so far: every engine starts with them.
    keys: Vec<KeyLogText>,
    /// The key log files, followed on a live input.
    keylogs: Vec<KeyLogFile>,
}

/// The sink, and whether it may be handed to another thread.
enum SinkRef<'s> {
    Send(&'s mut (dyn Sink + Send)),
    Here(&'s mut dyn Sink),
}

impl SinkRef<'_> {
    fn get(&mut self) -> &mut dyn Sink {
        match self {
            SinkRef::Send(s) => &mut **s,
            SinkRef::Here(s) => &mut **s,
        }
    }
}

impl Pipeline {
    pub fn new(options: Options) -> Pipeline {
        Pipeline { options }
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Runs `inputs`, one after the other, into `sink`: `begin`, every event, `finish`,
    /// `flush`. Connection numbers go on from one input to the next.
    pub fn run(
        &self,
        inputs: Vec<Input>,
        sink: &mut (dyn Sink + Send),
        watch: &mut dyn Watch,
    ) -> Report {
        self.go(inputs, SinkRef::Send(sink), watch)
    }

    /// [`Pipeline::run`] for a sink that cannot move to another thread: everything is
    /// decoded on the calling thread, whatever [`Options::threads`] says.
    pub fn run_here(
        &self,
        inputs: Vec<Input>,
        sink: &mut dyn Sink,
        watch: &mut dyn Watch,
    ) -> Report {
        self.go(inputs, SinkRef::Here(sink), watch)
    }

    fn go(&self, inputs: Vec<Input>, mut sink: SinkRef<'_>, watch: &mut dyn Watch) -> Report {
        let mut run = Run {
            options: &self.options,
            last_id: 0,
            summary: self.options.summary.then(Summary::default),
            counts: Counts::default(),
            last_ts: None,
            started: false,
            input_failed: false,
            keys: Vec::new(),
            keylogs: Vec::new(),
        };
        run.open_keylogs(watch);
        let result = run.all(inputs, &mut sink, watch);
        let output_error = result.err();
        if let Some(e) = &output_error
            && e.kind() != io::ErrorKind::BrokenPipe
        {
            watch.failure(&Failure::Output(io::Error::new(e.kind(), e.to_string())));
        }
        Report {
            input_failed: run.input_failed,
            output_error,
        }
    }
}

impl Run<'_> {
    /// Reads the key logs given; an unreadable one is an input failure (the run goes on
    /// without it).
    fn open_keylogs(&mut self, watch: &mut dyn Watch) {
        for path in &self.options.keylogs {
            let read = KeyLogFile::open(path).and_then(|mut f| {
                let text = f.read_new()?;
                Ok((f, text))
            });
            match read {
                Ok((file, text)) => {
                    if let Some(text) = text {
                        watch.keys(&text.text);
                        check_keylog(file.path(), &text, watch);
                        self.keys.push(text);
                    }
                    self.keylogs.push(file);
                }
                Err(e) => {
                    watch.failure(&Failure::Input {
                        input: path.display().to_string(),
                        detail: format!("cannot read the key log: {e}"),
                    });
                    self.input_failed = true;
                }
            }
        }
    }

    /// A new engine with the run's settings and the key log lines read so far.
    fn engine(&self, limits: Limits) -> crate::engine::Engine {
        let mut engine = crate::engine::Engine::new(limits);
        engine.set_proto(self.options.proto);
        for k in &self.keys {
            engine.add_keys(&k.text, k.first_line);
        }
        engine
    }

    fn all(
        &mut self,
        inputs: Vec<Input>,
        sink: &mut SinkRef<'_>,
        watch: &mut dyn Watch,
    ) -> io::Result<()> {
        let names: Vec<String> = inputs.iter().map(Input::name).collect();
        sink.get().begin(&Begin { inputs: &names })?;
        for input in inputs {
            let mut source = match input::Source::new(input, &self.options.limits) {
                Ok(source) => source,
                Err(failure) => {
                    watch.failure(&failure);
                    self.input_failed = true;
                    continue;
                }
            };
            let threads = if source.is_live() {
                1
            } else {
                self.options.threads.max(1)
            };
            match sink {
                SinkRef::Send(sink) if threads > 1 => {
                    threads::run(self, &mut source, threads, &mut **sink, watch)?;
                }
                _ => single::run(self, &mut source, sink.get(), watch)?,
            }
        }
        if let Some(summary) = &mut self.summary {
            let c = &self.counts;
            summary.run = crate::sink::RunCounts {
                packets: c.packets,
                tcp_conns: c.tcp_conns,
                tls_conns: c.tls_conns,
                tls_no_keys: c.tls_no_keys,
                websocket_conns: c.websocket_conns,
            };
        }
        let sink = sink.get();
        sink.finish(&Finish {
            summary: self.summary.as_ref(),
            last_ts: self.last_ts,
        })?;
        sink.flush()?;
        watch.flushed()?;
        watch.finished(&self.counts);
        Ok(())
    }

    /// Takes note of the capture time of a packet.
    fn saw(&mut self, ts: Timestamp) {
        self.last_ts = Some(self.last_ts.map_or(ts, |t| t.max(ts)));
    }
}

#[cfg(test)]
mod tests;

/// Tells the driver, once per key log read, about each line that was skipped.
fn check_keylog(path: &std::path::Path, text: &KeyLogText, watch: &mut dyn Watch) {
    let mut probe = crate::tls::KeyLog::new();
    for e in probe.add_text(&text.text, text.first_line) {
        watch.notice(&format!(
            "{}: line {}: {} (skipped)",
            path.display(),
            e.line,
            e.message
        ));
    }
}
