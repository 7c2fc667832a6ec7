//! The live source for `wsnoop tui -i IFACE`: like [`super::loader`], but packets come from
//! an interface (feature `live`) and never end; idle connections are expired as in
//! `wsnoop live`.

#[cfg(not(feature = "live"))]
pub fn spawn(
    _interface: &str,
    _bpf: &str,
    _limits: crate::limits::Limits,
) -> Result<
    (
        crossbeam_channel::Receiver<super::state::Feed>,
        std::thread::JoinHandle<()>,
    ),
    String,
> {
    Err(crate::cli::NO_LIVE.into())
}

#[cfg(feature = "live")]
pub use imp::spawn;

#[cfg(feature = "live")]
mod imp {
    use std::thread::{self, JoinHandle};
    use std::time::{Duration, Instant};

    use crossbeam_channel::{Receiver, Sender, bounded};

    use super::super::loader::LOADER_THREAD;
    use super::super::model::Progress;
    use super::super::state::Feed;
    use crate::capture::live::{LiveCapture, LiveOptions, Next, PacketFeed};
    use crate::cli::daemon::wall_clock;
    use crate::engine::Engine;
    use crate::limits::Limits;

    const CHANNEL_BATCHES: usize = 64;
    /// Events are sent at least this often, so the screen follows the traffic.
    const BATCH_TIME: Duration = Duration::from_millis(100);
    const IDLE_TIMEOUT: Duration = Duration::from_secs(600);

    /// Opens the interface (so a permission problem is reported before the screen is taken
    /// over), then captures on a thread until the UI goes away.
    pub fn spawn(
        interface: &str,
        bpf: &str,
        limits: Limits,
    ) -> Result<(Receiver<Feed>, JoinHandle<()>), String> {
        let opts = LiveOptions {
            interface: interface.to_string(),
            bpf: bpf.to_string(),
            ..LiveOptions::default()
        };
        let (tx, rx) = bounded(CHANNEL_BATCHES);
        let (ready_tx, ready_rx) = bounded::<Result<(), String>>(1);
        let handle = thread::Builder::new()
            .name(LOADER_THREAD.into())
            .spawn(move || match LiveCapture::open(&opts) {
                Ok(cap) => {
                    let _ = ready_tx.send(Ok(()));
                    capture(cap, limits, &tx);
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e.to_string()));
                }
            })
            .map_err(|e| e.to_string())?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok((rx, handle)),
            Ok(Err(e)) => Err(e),
            Err(_) => Err("the capture stopped before it started".into()),
        }
    }

    fn capture(cap: LiveCapture, limits: Limits, tx: &Sender<Feed>) {
        let feed = match PacketFeed::start(cap, "wsnoop-capture") {
            Ok(feed) => feed,
            Err(e) => {
                let _ = tx.send(Feed::Done(Progress::default(), Some(e.to_string())));
                return;
            }
        };
        let mut engine = Engine::new(limits);
        let mut events = Vec::new();
        let mut last_send = Instant::now();
        let mut last_sweep = Instant::now();
        let progress = |engine: &Engine| {
            let s = engine.stats();
            Progress {
                offset: s.bytes,
                size: None,
                packets: s.packets,
                bytes: s.bytes,
            }
        };
        let error = loop {
            match feed.next(BATCH_TIME) {
                Next::Packet(p) => {
                    engine.packet(&p.raw(feed.link()), &mut events);
                    feed.recycle(p);
                }
                Next::Idle => {}
                Next::Ended(e) => break e,
            }
            if last_sweep.elapsed() >= Duration::from_secs(1) {
                engine.expire_idle(wall_clock(), IDLE_TIMEOUT, &mut events);
                last_sweep = Instant::now();
            }
            if !events.is_empty() && last_send.elapsed() >= BATCH_TIME {
                let p = progress(&engine);
                // The UI has gone: nothing left to do.
                if tx
                    .send(Feed::Batch(std::mem::take(&mut events), p))
                    .is_err()
                {
                    return;
                }
                last_send = Instant::now();
            }
        };
        engine.finish(&mut events);
        let p = progress(&engine);
        let _ = tx.send(Feed::Batch(events, p));
        let _ = tx.send(Feed::Done(p, Some(error)));
    }
}
