//! `wsnoop read`: capture files through the engine into a sink.

use std::io::{self, IsTerminal, Write};
use std::path::Path;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::args::ReadArgs;
use super::output::LineOutput;
use super::{EXIT_INPUT, EXIT_OK, EXIT_USAGE, input, threads};
use crate::capture::CaptureReader;
use crate::engine::Engine;
use crate::event::{AnomalyKind, Event, EventKind};
use crate::filter::{Filter, Selection};
use crate::sink::{JsonSink, LineStyle, Sink, Summary, TextSink};

/// Packets between progress-bar updates.
pub(super) const PROGRESS_EVERY: u64 = 4096;

/// Why reading stopped early.
enum Stop {
    /// The input is bad: reported, go on with the next file, exit 1 at the end.
    Input,
    /// The output cannot be written: a closed pipe (exit 0) or a real error (exit 1).
    Output(io::Error),
}

pub fn run(args: &ReadArgs) -> i32 {
    let limits = args.limits.to_limits();
    let filter = match args.filter.as_deref().map(Filter::parse).transpose() {
        Ok(filter) => filter,
        Err(e) => {
            say(&format!("wsnoop: --filter: {e}"));
            return EXIT_USAGE;
        }
    };
    let mut out = match &args.output {
        Some(path) => match LineOutput::create(path) {
            Ok(out) => out,
            Err(msg) => {
                say(&format!("wsnoop: {msg}"));
                return EXIT_INPUT;
            }
        },
        None => LineOutput::stdout(),
    };
    let out_name = out.name().to_owned();
    let style = if args.json {
        LineStyle::Json
    } else {
        LineStyle::Text
    };
    let job = threads::Setup {
        limits: &limits,
        threads: args.threads.map_or_else(default_threads, usize::from),
        style,
        filter: filter.as_ref(),
        summary: args.summary,
    };
    let mut summary = args.summary.then(Summary::default);
    let mut conn_base = 0;
    let mut status = EXIT_OK;
    let show_progress = !args.no_progress && io::stderr().is_terminal();
    for path in &args.files {
        let read = read_file(
            path,
            &job,
            show_progress,
            &mut out,
            summary.as_mut(),
            &mut conn_base,
        );
        match read {
            Ok(()) => {}
            Err(Stop::Input) => status = EXIT_INPUT,
            Err(Stop::Output(e)) => return output_failed(&out_name, &e),
        }
    }
    let finished = summary
        .as_ref()
        .map_or(Ok(()), |s| sink_for(style, &mut out).summary(s))
        .and_then(|()| out.flush());
    match finished {
        Ok(()) => status,
        Err(e) => output_failed(&out_name, &e),
    }
}

/// One thread per core: connections are spread over them.
fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn sink_for<'a>(style: LineStyle, out: &'a mut LineOutput) -> Box<dyn Sink + 'a> {
    match style {
        LineStyle::Json => Box::new(JsonSink::with_line_buffer(out, |o| o.line_buffer())),
        LineStyle::Text => Box::new(TextSink::new(out)),
    }
}

fn output_failed(name: &str, e: &io::Error) -> i32 {
    if e.kind() == io::ErrorKind::BrokenPipe {
        // `wsnoop read big.pcap | head`: the reader has all it wanted.
        EXIT_OK
    } else {
        say(&format!("wsnoop: cannot write {name}: {e}"));
        EXIT_INPUT
    }
}

/// One line on stderr. Unlike `eprintln!`, never panics (stderr may be closed too).
fn say(line: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

fn read_file(
    path: &Path,
    job: &threads::Setup<'_>,
    show_progress: bool,
    out: &mut LineOutput,
    mut summary: Option<&mut Summary>,
    conn_base: &mut u64,
) -> Result<(), Stop> {
    let name = if path == Path::new("-") {
        "standard input".into()
    } else {
        path.display().to_string()
    };
    let input = match input::open(path) {
        Ok(input) => input,
        Err(msg) => {
            say(&format!("wsnoop: {name}: {msg}"));
            return Err(Stop::Input);
        }
    };
    let paused = input.paused;
    let mut reader = match CaptureReader::new(input.reader, job.limits) {
        Ok(reader) => reader,
        Err(e) => {
            say(&format!("wsnoop: {name}: {e}"));
            return Err(Stop::Input);
        }
    };
    let progress = match input.size {
        Some(size) if show_progress => progress_bar(size),
        _ => ProgressBar::hidden(),
    };
    if job.threads > 1 {
        let done = threads::read(&mut reader, &name, job, out, *conn_base, &paused, &progress)
            .map_err(Stop::Output)?;
        progress.finish_and_clear();
        *conn_base = done.last_id;
        if let (Some(all), Some(part)) = (summary, done.summary) {
            all.input_anomalies += part.input_anomalies;
            all.conns.extend(part.conns);
        }
        return match done.read_error {
            Some(e) => {
                say(&format!("wsnoop: {e}"));
                Err(Stop::Input)
            }
            None => Ok(()),
        };
    }
    let mut sink = sink_for(job.style, out);
    let sink = &mut *sink;
    // `--all-events` is not wired yet: open/end only for connections with something selected.
    let mut selection = job.filter.map(|f| Selection::new(f.clone(), false));
    let mut engine = Engine::new(job.limits.clone());
    engine.set_conn_base(*conn_base);
    let mut events: Vec<Event> = Vec::new();
    let mut outcome = Ok(());
    let mut packets: u64 = 0;
    loop {
        match reader.next_packet() {
            Ok(Some(pkt)) => {
                engine.packet(&pkt, &mut events);
                emit(
                    &mut events,
                    &engine,
                    sink,
                    summary.as_deref_mut(),
                    selection.as_mut(),
                )?;
                packets += 1;
                if packets.is_multiple_of(PROGRESS_EVERY) {
                    progress.set_position(reader.offset());
                }
                if paused.replace(false) {
                    sink.flush().map_err(Stop::Output)?;
                }
            }
            Ok(None) => break,
            Err(e) => {
                say(&format!("wsnoop: {name}: {e}"));
                engine.input_error(
                    AnomalyKind::CorruptCapture,
                    format!("{name}: {e}"),
                    &mut events,
                );
                outcome = Err(Stop::Input);
                break;
            }
        }
    }
    progress.finish_and_clear();
    engine.finish(&mut events);
    emit(&mut events, &engine, sink, summary, selection.as_mut())?;
    *conn_base = engine.last_conn_id();
    outcome
}

fn progress_bar(size: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}

fn emit(
    events: &mut Vec<Event>,
    engine: &Engine,
    sink: &mut dyn Sink,
    summary: Option<&mut Summary>,
    selection: Option<&mut Selection>,
) -> Result<(), Stop> {
    if let Some(s) = summary {
        events.iter().for_each(|ev| s.record(ev));
    }
    let mut selected = Vec::new();
    let out = match selection {
        Some(sel) => {
            events.drain(..).for_each(|ev| sel.push(ev, &mut selected));
            &mut selected
        }
        None => events,
    };
    for ev in out.drain(..) {
        sink.event(&ev).map_err(Stop::Output)?;
        if let EventKind::Message { msg, .. } = ev.kind {
            engine.recycle(msg.payload);
        }
    }
    Ok(())
}
