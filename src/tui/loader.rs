//! The background loader: reads the capture through the engine and sends event batches with
//! progress. The UI drains the channel between frames and never waits on it.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded};

use super::model::Progress;
use super::state::Feed;
use crate::capture::CaptureReader;
use crate::engine::Engine;
use crate::event::AnomalyKind;
use crate::limits::Limits;

/// Batches in flight: bounds what the loader can get ahead of the UI.
const CHANNEL_BATCHES: usize = 64;
/// A batch is sent at this many events, or after `BATCH_TIME` of reading.
const BATCH_EVENTS: usize = 2048;
const BATCH_TIME: Duration = Duration::from_millis(50);
const READ_BUFFER: usize = 1 << 20;
/// The loader thread's name: the panic hook leaves the terminal alone for its panics.
pub const LOADER_THREAD: &str = "wsnoop-loader";

/// Opens `path` and checks that it is a capture (so a wrong file is reported before the
/// screen is taken over), then reads it on a thread.
pub fn spawn(path: &Path, limits: Limits) -> Result<(Receiver<Feed>, JoinHandle<()>), String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let size = file.metadata().ok().map(|m| m.len());
    let (tx, rx) = bounded(CHANNEL_BATCHES);
    let (ready_tx, ready_rx) = bounded::<Result<(), String>>(1);
    let handle = thread::Builder::new()
        .name(LOADER_THREAD.into())
        .spawn(move || {
            let reader = BufReader::with_capacity(READ_BUFFER, file);
            match CaptureReader::new(reader, &limits) {
                Ok(reader) => {
                    let _ = ready_tx.send(Ok(()));
                    // An engine bug must not take the screen down: report it and stop loading.
                    let run = std::panic::AssertUnwindSafe(|| load(reader, limits, size, &tx));
                    if let Err(panic) = std::panic::catch_unwind(run) {
                        let what = panic
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| panic.downcast_ref::<String>().cloned())
                            .unwrap_or_default();
                        let p = Progress::default();
                        let _ = tx.send(Feed::Done(p, Some(format!("engine panicked: {what}"))));
                    }
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e.to_string()));
                }
            }
        })
        .map_err(|e| e.to_string())?;
    match ready_rx.recv() {
        Ok(Ok(())) => Ok((rx, handle)),
        Ok(Err(e)) => Err(e),
        Err(_) => Err("the loader stopped before reading the file header".into()),
    }
}

fn load<R: std::io::Read>(
    mut reader: CaptureReader<R>,
    limits: Limits,
    size: Option<u64>,
    tx: &Sender<Feed>,
) {
    let mut engine = Engine::new(limits);
    let mut events = Vec::new();
    let mut last = Instant::now();
    let progress = |engine: &Engine, offset| {
        let s = engine.stats();
        Progress {
            offset,
            size,
            packets: s.packets,
            bytes: s.bytes,
        }
    };
    let error = loop {
        match reader.next_packet() {
            Ok(Some(pkt)) => {
                engine.packet(&pkt, &mut events);
                let packets = engine.stats().packets;
                if events.len() >= BATCH_EVENTS
                    || (packets.is_multiple_of(1024) && last.elapsed() >= BATCH_TIME)
                {
                    let p = progress(&engine, reader.offset());
                    // The UI has gone: nothing left to do.
                    if tx
                        .send(Feed::Batch(std::mem::take(&mut events), p))
                        .is_err()
                    {
                        return;
                    }
                    last = Instant::now();
                }
            }
            Ok(None) => break None,
            Err(e) => {
                let msg = e.to_string();
                engine.input_error(AnomalyKind::CorruptCapture, msg.clone(), &mut events);
                break Some(msg);
            }
        }
    };
    engine.finish(&mut events);
    let p = progress(&engine, reader.offset());
    let _ = tx.send(Feed::Batch(events, p));
    let _ = tx.send(Feed::Done(p, error));
}
