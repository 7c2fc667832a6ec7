//! One engine on the calling thread: every packet through it, every event on to the sink.
//! The loop for capture files and live interfaces alike; what differs (waiting for packets,
//! draining when stopped, idle expiry by the wall clock) is asked of the source.

use std::io;
use std::time::{Duration, Instant};

use super::input::{Pull, Source};
use super::stage::Stage;
use super::{DRAIN_FOR, Failure, Progress, Run, RunStats, Watch, wall_clock};
use crate::engine::Engine;
use crate::event::{AnomalyKind, Event, EventKind, Timestamp};
use crate::sink::Sink;

/// Packets between progress reports.
pub(super) const PROGRESS_EVERY: u64 = 4096;
/// Packets between looks at the clock (timers are coarse; reading the clock per packet is not
/// free at millions of packets per second).
const CLOCK_EVERY: u64 = 64;
/// Longest wait for a live packet when no flush interval is set.
const LIVE_WAIT: Duration = Duration::from_millis(100);
/// Wait for a packet while draining after a stop: nothing within it means drained.
const DRAIN_WAIT: Duration = Duration::from_millis(50);
/// How often idle connections are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// Looks for silent connections per alarm period: an alarm fires at most a quarter of its
/// period late (and at most [`SWEEP_EVERY`]).
const SILENCE_LOOKS_PER_PERIOD: u32 = 4;
/// The shortest time between looks for silent connections (each is linear in the tracked
/// connections): a tiny alarm period does not turn the loop into a busy sweep.
const SILENCE_LOOK_MIN: Duration = Duration::from_millis(10);

/// When the periodic work is next due.
struct Timers {
    flush: Instant,
    sweep: Instant,
    silence: Instant,
    stats: Instant,
}

pub(super) fn run(
    run: &mut Run<'_>,
    source: &mut Source,
    sink: &mut dyn Sink,
    watch: &mut dyn Watch,
) -> io::Result<()> {
    let opts = run.options;
    let mut engine = run.engine(opts.limits.clone());
    engine.set_conn_base(run.last_id);
    let mut stage = Stage::new(opts.filter.as_ref(), run.summary.is_some(), opts.proto_only);
    let mut events: Vec<Event> = Vec::new();
    let mut passed: Vec<Event> = Vec::new();
    let live = source.is_live();
    let wait = opts.flush_every.unwrap_or(LIVE_WAIT);
    let timed = live
        || opts.flush_every.is_some()
        || opts.idle_timeout.is_some()
        || opts.silence_alarm.is_some()
        || opts.stats_every.is_some();
    let start = Instant::now();
    let mut timers = Timers {
        flush: start,
        sweep: start,
        silence: start,
        stats: start,
    };
    let mut last_ts: Option<Timestamp> = None;
    let mut stopping: Option<Instant> = None;
    let mut packets: u64 = 0;
    let outcome = loop {
        // Asked between packets: every time on a live input, at every look at the clock on a
        // file (a stop request waits a few microseconds at most).
        let ask = live || packets.is_multiple_of(CLOCK_EVERY);
        if stopping.is_none() && ask && watch.stop() {
            if !live {
                break Ok(());
            }
            stopping = Some(Instant::now());
        }
        let draining = stopping.is_some();
        if stopping.is_some_and(|t| t.elapsed() >= DRAIN_FOR) {
            break Ok(());
        }
        let mut clock_due = !timed;
        match source.pull(if draining { DRAIN_WAIT } else { wait }) {
            Pull::Packet(pkt, _) => {
                if !std::mem::replace(&mut run.started, true) {
                    sink.capture_start(pkt.ts)?;
                }
                let fate = engine.packet(&pkt, &mut events);
                last_ts = Some(last_ts.map_or(pkt.ts, |t| t.max(pkt.ts)));
                watch.packet(&pkt, fate)?;
                // Secrets the capture carries (pcapng Decryption Secrets Blocks), from here on.
                for secrets in source.take_secrets() {
                    engine.add_keys(&secrets, 1);
                }
                emit(&mut events, &mut passed, &engine, &mut stage, sink)?;
                packets += 1;
                if packets.is_multiple_of(PROGRESS_EVERY) {
                    watch.progress(&progress(source, &engine, false));
                }
                clock_due = clock_due || packets.is_multiple_of(CLOCK_EVERY);
            }
            Pull::Idle if draining => break Ok(()),
            Pull::Idle => clock_due = true,
            Pull::End => break Ok(()),
            Pull::Corrupt(detail) => {
                let name = source.name().to_string();
                // Also in the output: what follows the fault is lost.
                engine.input_error(
                    AnomalyKind::CorruptCapture,
                    format!("{name}: {detail}"),
                    &mut events,
                );
                watch.failure(&Failure::Input {
                    input: name,
                    detail,
                });
                break Err(());
            }
            Pull::Stopped(_) if draining => break Ok(()),
            Pull::Stopped(detail) => {
                // The interface went away or libpcap failed: still end and flush everything.
                watch.failure(&Failure::Capture(detail));
                break Err(());
            }
        }
        if source.take_paused() {
            sink.flush()?;
            watch.flushed()?;
        }
        if timed && clock_due {
            let now = Instant::now();
            if (opts.flush_every.is_some() || live) && now >= timers.flush {
                sink.flush()?;
                watch.flushed()?;
                watch.tick();
                watch.progress(&progress(source, &engine, false));
                timers.flush = now + wait;
                if live && follow_keylogs(run, &mut engine, watch) {
                    let at = last_ts.max(Some(wall_clock())).unwrap_or_else(wall_clock);
                    engine.release_held_records(at, &mut events);
                    emit(&mut events, &mut passed, &engine, &mut stage, sink)?;
                }
            }
            if let Some(idle) = opts.idle_timeout
                && now >= timers.sweep
            {
                timers.sweep = now + SWEEP_EVERY;
                let clock = if live { Some(wall_clock()) } else { None };
                let at = last_ts.max(clock);
                if let Some(at) = at {
                    engine.expire_idle(at, idle, &mut events);
                    watch.swept(Timestamp::new(
                        at.secs.saturating_sub_unsigned(idle.as_secs()),
                        at.nanos,
                    ));
                    emit(&mut events, &mut passed, &engine, &mut stage, sink)?;
                }
            }
            if let Some(after) = opts.silence_alarm
                && now >= timers.silence
            {
                timers.silence =
                    now + (after / SILENCE_LOOKS_PER_PERIOD).clamp(SILENCE_LOOK_MIN, SWEEP_EVERY);
                let clock = if live { Some(wall_clock()) } else { None };
                if let Some(at) = last_ts.max(clock) {
                    engine.silence_alarms(at, after, &mut events);
                    emit(&mut events, &mut passed, &engine, &mut stage, sink)?;
                }
            }
            if let Some(every) = opts.stats_every
                && now >= timers.stats
            {
                timers.stats = now + every;
                watch.stats(&stats(run, &stage, source, &engine))?;
            }
        }
    };
    if outcome.is_err() {
        run.input_failed = true;
    }
    if let Some(ts) = last_ts {
        run.saw(ts);
    }
    engine.finish(&mut events);
    emit(&mut events, &mut passed, &engine, &mut stage, sink)?;
    watch.progress(&progress(source, &engine, true));
    if live && opts.stats_every.is_some() {
        watch.stats(&stats(run, &stage, source, &engine))?;
    }
    run.last_id = engine.last_conn_id();
    run.counts.absorb(&stage.counts);
    run.counts.add_engine(&engine.stats());
    if let (Some(all), Some(part)) = (&mut run.summary, stage.summary) {
        all.absorb(part);
    }
    Ok(())
}

/// Events through the stage on to the sink; message payloads back to the engine for reuse.
/// `passed`: an empty buffer, kept by the caller so that no packet allocates one.
fn emit(
    events: &mut Vec<Event>,
    passed: &mut Vec<Event>,
    engine: &Engine,
    stage: &mut Stage,
    sink: &mut dyn Sink,
) -> io::Result<()> {
    if stage.passes_all() {
        // Straight to the sink, each event where it is (an event is large: moving it out of
        // the buffer is a copy).
        let mut written = Ok(());
        for ev in events.iter_mut() {
            stage.count(ev);
            written = sink.event(ev);
            if written.is_err() {
                break;
            }
            if let EventKind::Message { msg, .. } = &mut ev.kind {
                engine.recycle(std::mem::take(&mut msg.payload));
            }
        }
        events.clear();
        return written;
    }
    for ev in events.drain(..) {
        stage.push(ev, passed, &mut |payload| engine.recycle(payload));
        for ev in passed.drain(..) {
            sink.event(&ev)?;
            if let EventKind::Message { msg, .. } = ev.kind {
                engine.recycle(msg.payload);
            }
        }
    }
    Ok(())
}

fn progress(source: &Source, engine: &Engine, done: bool) -> Progress {
    let s = engine.stats();
    Progress {
        offset: source.offset().unwrap_or(s.bytes),
        size: source.size(),
        packets: s.packets,
        bytes: s.bytes,
        done,
    }
}

fn stats(run: &Run<'_>, stage: &Stage, source: &Source, engine: &Engine) -> RunStats {
    let s = engine.stats();
    RunStats {
        packets: s.packets,
        bytes: s.bytes,
        kernel_drops: source.kernel_drops(),
        conns_open: engine.tracked_connections(),
        websocket_conns: s.websocket_conns,
        messages: run.counts.messages + stage.counts.messages,
        anomalies: run.counts.anomalies + stage.counts.anomalies,
        memory: engine.memory(),
    }
}

/// Lines the key logs gained since the last look (a browser appends one per connection), given
/// to the engine; whether there were any (then connections waiting for them are to be
/// released).
fn follow_keylogs(run: &mut Run<'_>, engine: &mut Engine, watch: &mut dyn Watch) -> bool {
    let mut added = false;
    for file in &mut run.keylogs {
        match file.read_new() {
            Ok(Some(text)) => {
                added = true;
                watch.keys(&text.text);
                for e in engine.add_keys(&text.text, text.first_line) {
                    watch.notice(&format!(
                        "{}: line {}: {} (skipped)",
                        file.path().display(),
                        e.line,
                        e.message
                    ));
                }
            }
            Ok(None) => {}
            // Gone for now (being rotated): looked at again next time.
            Err(_) => {}
        }
    }
    added
}
