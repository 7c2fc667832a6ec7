//! `wsnoop read`: capture files through the engine into a sink.

use std::io::{self, IsTerminal, Write};
use std::path::Path;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::args::ReadArgs;
use super::output::LineOutput;
use super::{EXIT_INPUT, EXIT_OK, EXIT_USAGE, input};
use crate::capture::CaptureReader;
use crate::engine::Engine;
use crate::event::{AnomalyKind, Event};
use crate::filter::Filter;
use crate::limits::Limits;
use crate::sink::{JsonSink, Sink, Summary, TextSink};

/// Packets between progress-bar updates.
const PROGRESS_EVERY: u64 = 4096;

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
    let out = match &args.output {
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
    let mut sink: Box<dyn Sink> = if args.json {
        Box::new(JsonSink::new(out))
    } else {
        Box::new(TextSink::new(out))
    };
    let mut summary = args.summary.then(Summary::default);
    let mut conn_base = 0;
    let mut status = EXIT_OK;
    let show_progress = !args.no_progress && io::stderr().is_terminal();
    for path in &args.files {
        let result = read_file(
            path,
            &limits,
            &mut *sink,
            summary.as_mut(),
            filter.as_ref(),
            &mut conn_base,
            show_progress,
        );
        match result {
            Ok(()) => {}
            Err(Stop::Input) => status = EXIT_INPUT,
            Err(Stop::Output(e)) => return output_failed(&out_name, &e),
        }
    }
    let finished = summary
        .as_ref()
        .map_or(Ok(()), |s| sink.summary(s))
        .and_then(|()| sink.flush());
    match finished {
        Ok(()) => status,
        Err(e) => output_failed(&out_name, &e),
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
    limits: &Limits,
    sink: &mut dyn Sink,
    mut summary: Option<&mut Summary>,
    filter: Option<&Filter>,
    conn_base: &mut u64,
    show_progress: bool,
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
    let mut reader = match CaptureReader::new(input.reader, limits) {
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
    let mut engine = Engine::new(limits.clone());
    engine.set_conn_base(*conn_base);
    let mut events: Vec<Event> = Vec::new();
    let mut outcome = Ok(());
    let mut packets: u64 = 0;
    loop {
        match reader.next_packet() {
            Ok(Some(pkt)) => {
                engine.packet(&pkt, &mut events);
                emit(&mut events, sink, summary.as_deref_mut(), filter)?;
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
    emit(&mut events, sink, summary, filter)?;
    *conn_base = engine.stats().websocket_conns;
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
    sink: &mut dyn Sink,
    mut summary: Option<&mut Summary>,
    filter: Option<&Filter>,
) -> Result<(), Stop> {
    for ev in events.drain(..) {
        if let Some(s) = summary.as_deref_mut() {
            s.record(&ev);
        }
        if filter.is_none_or(|f| f.matches_event(&ev)) {
            sink.event(&ev).map_err(Stop::Output)?;
        }
    }
    Ok(())
}
