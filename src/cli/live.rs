//! `wsnoop live`: an interface through the engine into a sink, as a well-behaved foreground
//! daemon: prompt output (flushed within [`FLUSH_EVERY`]), clean stop on SIGINT/SIGTERM,
//! output reopened on SIGHUP, idle connections expired, periodic stats.

use std::fs::File;
use std::io::{self, BufWriter};
use std::time::{Duration, Instant};

use super::args::LiveArgs;
use super::daemon::{OutHandle, Output, Rotation, StatsRecord, wall_clock};
use super::savefile::{SaveFile, WsPackets};
use super::signals::Signals;
use super::{EXIT_INPUT, EXIT_OK, EXIT_USAGE};
use crate::capture::live::{
    LiveCapture, LiveOptions, Next, OwnedPacket, PacketFeed, list_interfaces,
};
use crate::engine::Engine;
use crate::event::{Event, EventKind, Timestamp};
use crate::filter::{Filter, Selection};
use crate::sink::{JsonSink, Sink, TextSink};

/// Longest time a decoded event waits in the output buffer.
const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// On SIGINT/SIGTERM, packets already captured are still decoded for up to this long.
const DRAIN_FOR: Duration = Duration::from_secs(1);
/// How often idle connections are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

pub fn run(args: &LiveArgs) -> i32 {
    if args.list_interfaces {
        return list();
    }
    let Some(interface) = args.interface.clone() else {
        eprintln!("wsnoop: live: give an interface with -i (`wsnoop live -D` lists them)");
        return EXIT_USAGE;
    };
    let filter = match args.filter.as_deref().map(Filter::parse).transpose() {
        Ok(filter) => filter,
        Err(e) => {
            eprintln!("wsnoop: --filter: {e}");
            return EXIT_USAGE;
        }
    };
    let Ok(snaplen) = i32::try_from(args.snaplen) else {
        eprintln!("wsnoop: --snaplen is too large");
        return EXIT_USAGE;
    };
    let opts = LiveOptions {
        interface,
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
            eprintln!("wsnoop: cannot install signal handlers: {e}");
            return EXIT_INPUT;
        }
    };
    let cap = match LiveCapture::open(&opts) {
        Ok(cap) => cap,
        Err(e) => {
            eprintln!("wsnoop: {e}");
            return EXIT_INPUT;
        }
    };
    let linktype = cap.linktype();
    let output = match &args.output {
        Some(path) => {
            let rotation = args.rotate_size.map(|max_bytes| Rotation {
                max_bytes,
                keep: args.rotate_keep,
            });
            match Output::file(path, rotation) {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("wsnoop: cannot write {}: {e}", path.display());
                    return EXIT_INPUT;
                }
            }
        }
        None => Output::stdout(),
    }
    .shared();
    let (save_file, save) = match &args.write {
        Some(path) => {
            let snap = u32::try_from(snaplen).unwrap_or(u32::MAX);
            match SaveFile::create(path, linktype, snap) {
                Ok((file, w)) => (Some(file), Some(WsPackets::new(w))),
                Err(e) => {
                    eprintln!("wsnoop: cannot write {}: {e}", path.display());
                    return EXIT_INPUT;
                }
            }
        }
        None => (None, None),
    };
    let sink: Box<dyn Sink> = if args.json {
        Box::new(JsonSink::new(output.clone()))
    } else {
        Box::new(TextSink::new(output.clone()))
    };
    let feed = match PacketFeed::start(cap, "wsnoop-capture") {
        Ok(feed) => feed,
        Err(e) => {
            eprintln!("wsnoop: cannot start the capture thread: {e}");
            return EXIT_INPUT;
        }
    };
    eprintln!(
        "wsnoop: listening on {} (filter: {})",
        opts.interface, opts.bpf
    );
    let mut run = Run {
        engine: Engine::new(args.limits.to_limits()),
        events: Vec::new(),
        sink,
        output,
        save,
        save_file,
        filter: filter.map(|f| Selection::new(f, false)),
        selected: Vec::new(),
        counts: Counts::default(),
        dirty: false,
        last_ts: Timestamp::default(),
        failed: false,
    };
    let result = run.capture(&feed, &signals, args);
    let finished = result.and_then(|()| run.finish(&feed, args));
    match finished {
        Ok(status) => status,
        Err(Stop::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(Stop::Output(e)) => {
            eprintln!("wsnoop: cannot write output: {e}");
            EXIT_INPUT
        }
    }
}

fn list() -> i32 {
    match list_interfaces() {
        Ok(list) => {
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
                println!("{line}");
            }
            EXIT_OK
        }
        Err(e) => {
            eprintln!("wsnoop: {e}");
            EXIT_INPUT
        }
    }
}

enum Stop {
    Output(io::Error),
}

#[derive(Default)]
struct Counts {
    messages: u64,
    anomalies: u64,
}

struct Run {
    engine: Engine,
    events: Vec<Event>,
    sink: Box<dyn Sink>,
    output: OutHandle,
    save: Option<WsPackets<BufWriter<File>>>,
    /// The `-w` file by name (a new one after SIGHUP if it was moved away).
    save_file: Option<SaveFile>,
    /// The filter, as a stage (`--all-events` is not wired yet).
    filter: Option<Selection>,
    selected: Vec<Event>,
    counts: Counts,
    /// Something was written since the last flush.
    dirty: bool,
    /// Capture time of the latest packet.
    last_ts: Timestamp,
    /// Capture stopped on an error, not a signal.
    failed: bool,
}

impl Run {
    fn capture(
        &mut self,
        feed: &PacketFeed,
        signals: &Signals,
        args: &LiveArgs,
    ) -> Result<(), Stop> {
        let stats_every = (args.stats > 0).then(|| Duration::from_secs(args.stats));
        let mut last_flush = Instant::now();
        let mut last_sweep = Instant::now();
        let mut last_stats = Instant::now();
        while !signals.stop_requested() {
            if signals.take_hup() {
                self.reopen();
            }
            match feed.next(FLUSH_EVERY) {
                Next::Packet(p) => self.packet(feed, p)?,
                Next::Idle => {}
                Next::Ended(e) => {
                    // The interface went away or libpcap failed: still end and flush
                    // everything, but exit 1.
                    eprintln!("wsnoop: {e}");
                    self.failed = true;
                    return Ok(());
                }
            }
            if self.dirty && last_flush.elapsed() >= FLUSH_EVERY {
                self.flush()?;
                last_flush = Instant::now();
            }
            if last_sweep.elapsed() >= SWEEP_EVERY {
                self.sweep(args.idle_timeout)?;
                last_sweep = Instant::now();
            }
            if let Some(every) = stats_every
                && last_stats.elapsed() >= every
            {
                self.stats(feed, args.stats_event)?;
                last_stats = Instant::now();
            }
        }
        // Stopping: decode what was captured before the signal.
        let start = Instant::now();
        while start.elapsed() < DRAIN_FOR {
            match feed.next(Duration::from_millis(50)) {
                Next::Packet(p) => self.packet(feed, p)?,
                Next::Idle | Next::Ended(_) => break,
            }
        }
        Ok(())
    }

    fn packet(&mut self, feed: &PacketFeed, p: OwnedPacket) -> Result<(), Stop> {
        let pkt = p.raw(feed.link());
        let fate = self.engine.packet(&pkt, &mut self.events);
        self.last_ts = self.last_ts.max(pkt.ts);
        if let Some(save) = &mut self.save {
            save.packet(fate, &pkt).map_err(Stop::Output)?;
            self.dirty = true;
        }
        feed.recycle(p);
        self.emit()
    }

    /// Stopping: end every open connection, write and flush everything.
    fn finish(&mut self, feed: &PacketFeed, args: &LiveArgs) -> Result<i32, Stop> {
        self.engine.finish(&mut self.events);
        self.emit()?;
        if args.stats > 0 {
            self.stats(feed, args.stats_event)?;
        }
        self.flush()?;
        Ok(if self.failed { EXIT_INPUT } else { EXIT_OK })
    }

    fn emit(&mut self) -> Result<(), Stop> {
        if self.events.is_empty() {
            return Ok(());
        }
        for ev in self.events.drain(..) {
            match ev.kind {
                EventKind::Message { .. } => self.counts.messages += 1,
                EventKind::Anomaly { .. } => self.counts.anomalies += 1,
                _ => {}
            }
            match &mut self.filter {
                Some(sel) => sel.push(ev, &mut self.selected),
                None => self.selected.push(ev),
            }
        }
        for ev in self.selected.drain(..) {
            self.sink.event(&ev).map_err(Stop::Output)?;
            self.dirty = true;
        }
        // Between events, so a line is never split across files.
        self.output
            .0
            .borrow_mut()
            .rotate_if_due()
            .map_err(Stop::Output)
    }

    fn flush(&mut self) -> Result<(), Stop> {
        self.sink.flush().map_err(Stop::Output)?;
        if let Some(save) = &mut self.save {
            save.flush().map_err(Stop::Output)?;
        }
        self.dirty = false;
        Ok(())
    }

    /// SIGHUP: the output and the `-w` file are reopened by name; a failed reopen is
    /// reported and writing goes on to the old file.
    fn reopen(&mut self) {
        if let Err(e) = self.output.0.borrow_mut().reopen() {
            eprintln!("wsnoop: SIGHUP: cannot reopen the output: {e}");
        }
        if let (Some(file), Some(save)) = (&mut self.save_file, &mut self.save) {
            let reopened = file
                .reopen()
                .and_then(|new| new.map_or(Ok(()), |w| save.replace_writer(w)));
            if let Err(e) = reopened {
                eprintln!(
                    "wsnoop: SIGHUP: cannot reopen {}: {e}",
                    file.path().display()
                );
            }
        }
    }

    /// Expire idle connections by the later of the packet clock and the wall clock (the
    /// kernel stamps packets with the same clock, so they agree while packets come).
    fn sweep(&mut self, idle: Duration) -> Result<(), Stop> {
        if idle.is_zero() {
            return Ok(());
        }
        let now = wall_clock().max(self.last_ts);
        self.engine.expire_idle(now, idle, &mut self.events);
        if let Some(save) = &mut self.save {
            let before =
                Timestamp::new(now.secs.saturating_sub_unsigned(idle.as_secs()), now.nanos);
            save.sweep(before);
        }
        self.emit()
    }

    fn stats(&mut self, feed: &PacketFeed, as_event: bool) -> Result<(), Stop> {
        let s = self.engine.stats();
        let record = StatsRecord {
            packets: s.packets,
            bytes: s.bytes,
            kernel_drops: feed.kernel_stats().map(|k| k.dropped),
            conns_open: self.engine.tracked_connections(),
            websocket_conns: s.websocket_conns,
            messages: self.counts.messages,
            anomalies: self.counts.anomalies,
            memory: self.engine.memory() + self.save.as_ref().map_or(0, WsPackets::pending_bytes),
        };
        if as_event {
            // The sinks keep no buffer of their own, so this lands after the events so far.
            let mut out = self.output.clone();
            record
                .write_json(&mut out, wall_clock())
                .map_err(Stop::Output)?;
            self.dirty = true;
        } else {
            eprintln!("{}", record.line());
        }
        Ok(())
    }
}
