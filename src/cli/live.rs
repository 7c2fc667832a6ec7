//! `wsnoop live`: an interface through the pipeline into a sink, as a well-behaved foreground
//! daemon: prompt output (flushed within [`FLUSH_EVERY`]), clean stop on SIGINT/SIGTERM,
//! output and `-w` file reopened on SIGHUP, idle connections expired, periodic stats. The
//! loop is the pipeline's; this file is the configuration and the driver's own work between
//! packets (a [`Watch`]).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::time::Duration;

use super::args::{LiveArgs, OutputFormat};
use super::daemon::{OutHandle, Output, Rotation};
use super::format::FormatSink;
use super::parse_filter;
use super::report::{Stderr, say};
use super::savefile::{SaveFile, WsPackets};
use super::signals::Signals;
use crate::capture::live::{LiveCapture, LiveOptions, PacketFeed, list_interfaces};
use crate::engine::PacketFate;
use crate::event::Timestamp;
use crate::packet::RawPacket;
use crate::pipeline::{
    EXIT_INPUT, EXIT_OK, EXIT_USAGE, Failure, Input, Live, Options, Pipeline, RunStats, Watch,
    wall_clock,
};

/// Longest time a decoded event waits in the output buffer.
const FLUSH_EVERY: Duration = Duration::from_millis(100);

pub fn run(args: &LiveArgs) -> i32 {
    if args.list_interfaces {
        return list();
    }
    let Some(interface) = args.interface.clone() else {
        say("live: give an interface with -i (`wsnoop live -D` lists them)");
        return EXIT_USAGE;
    };
    let choice = args.format.choice();
    let format = choice.format;
    if args.stats_event && format != OutputFormat::Json {
        say("--stats-event writes JSON lines: give --format json (or --json) too");
        return EXIT_USAGE;
    }
    // A HAR document is one file: it cannot be cut into rotated pieces or restarted.
    let har = format == OutputFormat::Har;
    if har && args.rotate_size.is_some() {
        say("--rotate-size cuts the output into pieces: a HAR document (--format har) is one file");
        return EXIT_USAGE;
    }
    let filter = match parse_filter(args.filter.as_deref()) {
        Ok(filter) => filter,
        Err(code) => return code,
    };
    let Ok(snaplen) = i32::try_from(args.snaplen) else {
        say("--snaplen is too large");
        return EXIT_USAGE;
    };
    let opts = LiveOptions {
        interface: interface.clone(),
        bpf: args.bpf.clone(),
        snaplen,
        promisc: !args.no_promisc,
        immediate: !args.no_immediate,
        buffer_size: args
            .buffer_size
            .map(|b| i32::try_from(b).unwrap_or(i32::MAX))
            .or(LiveOptions::default().buffer_size),
        ..LiveOptions::default()
    };
    let signals = match Signals::register() {
        Ok(s) => s,
        Err(e) => {
            say(&format!("cannot install signal handlers: {e}"));
            return EXIT_INPUT;
        }
    };
    let cap = match LiveCapture::open(&opts) {
        Ok(cap) => cap,
        Err(e) => {
            say(&e.to_string());
            return EXIT_INPUT;
        }
    };
    let linktype = cap.linktype();
    let (output, out_name) = match &args.output {
        Some(path) => {
            let rotation = args.rotate_size.map(|max_bytes| Rotation {
                max_bytes,
                keep: args.rotate_keep,
            });
            match Output::file(path, rotation) {
                Ok(o) => (o, path.display().to_string()),
                Err(e) => {
                    say(&format!("cannot write {}: {e}", path.display()));
                    return EXIT_INPUT;
                }
            }
        }
        None => (Output::stdout(), "standard output".to_string()),
    };
    let output = output.shared();
    let (save_file, save) = match &args.write {
        Some(path) => {
            let snap = u32::try_from(snaplen).unwrap_or(u32::MAX);
            match SaveFile::create(path, linktype, snap) {
                Ok((file, w)) => (Some(file), Some(WsPackets::new(w))),
                Err(e) => {
                    say(&format!("cannot write {}: {e}", path.display()));
                    return EXIT_INPUT;
                }
            }
        }
        None => (None, None),
    };
    let feed = match PacketFeed::start(cap, "wsnoop-capture") {
        Ok(feed) => feed,
        Err(e) => {
            say(&format!("cannot start the capture thread: {e}"));
            return EXIT_INPUT;
        }
    };
    say(&format!(
        "listening on {} (filter: {})",
        opts.interface, opts.bpf
    ));
    let idle = *args.idle_timeout;
    let pipeline = Pipeline::new(Options {
        limits: args.limits.to_limits(),
        threads: 1,
        filter,
        summary: false,
        flush_every: Some(FLUSH_EVERY),
        idle_timeout: (!idle.is_zero()).then_some(idle),
        silence_alarm: args.silence_alarm.map(Into::into),
        stats_every: (args.stats > 0).then(|| Duration::from_secs(args.stats)),
        keylogs: args.decode.keylogs(),
        proto: args.decode.proto(),
        proto_only: args.proto_only,
    });
    let mut sink = FormatSink::new(&choice, output.clone()).time_format(args.format.time.get());
    let mut watch = Daemon {
        report: Stderr::new(&out_name, false),
        signals,
        output,
        save,
        save_file,
        stats_event: args.stats_event,
        said_pcap_keys: false,
        reopen_output: !har,
    };
    let input = Input::Live(Live {
        name: interface,
        feed,
    });
    pipeline
        .run_here(vec![input], &mut sink, &mut watch)
        .exit_code()
}

fn list() -> i32 {
    match list_interfaces() {
        Ok(list) => {
            let mut out = io::stdout().lock();
            for (n, i) in list.iter().enumerate() {
                let mut line = format!("{}. {}", n + 1, i.name);
                if let Some(d) = &i.description {
                    line.push_str(&format!(" ({d})"));
                }
                let mut flags = Vec::new();
                if i.up {
                    flags.push("up");
                }
                if i.loopback {
                    flags.push("loopback");
                }
                if !flags.is_empty() {
                    line.push_str(&format!(" [{}]", flags.join(", ")));
                }
                for a in &i.addresses {
                    line.push_str(&format!(" {a}"));
                }
                // A closed pipe (`| head`) is not an error worth a panic.
                if writeln!(out, "{line}").is_err() {
                    break;
                }
            }
            EXIT_OK
        }
        Err(e) => {
            say(&e.to_string());
            EXIT_INPUT
        }
    }
}

/// The daemon's work between packets: signals, the `-w` file, stats.
struct Daemon {
    report: Stderr,
    signals: Signals,
    /// The output the sink writes to, for SIGHUP and stats lines.
    output: OutHandle,
    save: Option<WsPackets<BufWriter<File>>>,
    /// The `-w` file by name (a new one after SIGHUP if it was moved away).
    save_file: Option<SaveFile>,
    stats_event: bool,
    /// The user was told once that a pcap `-w` file cannot hold key material.
    said_pcap_keys: bool,
    /// SIGHUP reopens the output (not for a HAR document, which must stay one file).
    reopen_output: bool,
}

impl Watch for Daemon {
    fn failure(&mut self, failure: &Failure) {
        self.report.failure(failure);
    }

    fn stop(&mut self) -> bool {
        self.signals.stop_requested()
    }

    /// SIGHUP: the output and the `-w` file are reopened by name; a failed reopen is
    /// reported and writing goes on to the old file.
    fn tick(&mut self) {
        if !self.signals.take_hup() {
            return;
        }
        if self.reopen_output
            && let Err(e) = self.output.0.borrow_mut().reopen()
        {
            say(&format!("SIGHUP: cannot reopen the output: {e}"));
        }
        if let (Some(file), Some(save)) = (&mut self.save_file, &mut self.save) {
            let reopened = file
                .reopen()
                .and_then(|new| new.map_or(Ok(()), |w| save.replace_writer(w)));
            if let Err(e) = reopened {
                say(&format!(
                    "SIGHUP: cannot reopen {}: {e}",
                    file.path().display()
                ));
            }
        }
    }

    fn stats(&mut self, stats: &RunStats) -> io::Result<()> {
        let mut stats = *stats;
        stats.memory += self.save.as_ref().map_or(0, WsPackets::pending_bytes);
        if self.stats_event {
            // The sink keeps no buffer of its own, so this lands after the events so far.
            let mut out = self.output.clone();
            stats.write_json(&mut out, wall_clock())
        } else {
            say(&stats.line());
            Ok(())
        }
    }

    fn packet(&mut self, pkt: &RawPacket<'_>, fate: PacketFate) -> io::Result<()> {
        match &mut self.save {
            Some(save) => save.packet(fate, pkt),
            None => Ok(()),
        }
    }

    /// The secrets used go into a pcapng `-w` file, so that it decrypts on its own.
    fn keys(&mut self, keylog: &[u8]) {
        let Some(save) = &mut self.save else {
            return;
        };
        match save.secrets(keylog) {
            Ok(true) => {}
            Ok(false) => {
                if !self.said_pcap_keys {
                    self.said_pcap_keys = true;
                    say(
                        "the -w file is pcap, which cannot hold TLS secrets: name it .pcapng to \
                         save them with the packets",
                    );
                }
            }
            Err(e) => say(&format!("cannot write TLS secrets to the -w file: {e}")),
        }
    }

    fn swept(&mut self, before: Timestamp) {
        if let Some(save) = &mut self.save {
            save.sweep(before);
        }
    }

    fn flushed(&mut self) -> io::Result<()> {
        match &mut self.save {
            Some(save) => save.flush(),
            None => Ok(()),
        }
    }
}
