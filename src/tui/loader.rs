//! The loader: the TUI's run of the pipeline, on a thread of its own. It opens the input
//! first (so a bad file or a missing permission is reported before the screen is taken over),
//! then runs it, a file on one engine per core, an interface on one, and sends the UI event
//! batches, progress and the end through a channel. The UI drains the channel between frames
//! and never waits on it.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::model::Progress;
use super::state::Feed;
use crate::event::Event;
use crate::limits::Limits;
use crate::pipeline::{
    Capture, DEFAULT_IDLE_TIMEOUT, Failure, Input, Options, Pipeline, Watch, default_threads,
};
use crate::sink::Sink;

/// Messages in flight: bounds what the loader can get ahead of the UI.
const CHANNEL_BATCHES: usize = 64;
/// A batch is sent at this many events, or at the flush interval.
const BATCH_EVENTS: usize = 2048;
/// Flush interval while a file loads, and on a live interface (the screen follows the
/// traffic).
const FILE_FLUSH: Duration = Duration::from_millis(50);
const LIVE_FLUSH: Duration = Duration::from_millis(100);
/// The loader thread's name.
pub const LOADER_THREAD: &str = "wsnoop-loader";

/// What the TUI shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    /// A live interface (feature `live`), with its capture filter (BPF).
    Interface {
        name: String,
        bpf: String,
    },
}

impl Source {
    /// A short name for the status bar.
    pub fn short_name(&self) -> String {
        match self {
            // `-`: a capture piped in (keys come from the terminal, not standard input).
            Source::File(path) if path.as_os_str() == "-" => "standard input".into(),
            Source::File(path) => path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            Source::Interface { name, .. } => name.clone(),
        }
    }
}

/// Opens `source` and reads it on a thread with `decoding`'s limits, key logs and protocol
/// choice; the error is the one line to show.
pub fn spawn(
    source: &Source,
    decoding: Options,
) -> Result<(Receiver<Feed>, JoinHandle<()>), String> {
    let (input, live) = open(source, &decoding.limits)?;
    let options = Options {
        threads: if live { 1 } else { default_threads() },
        flush_every: Some(if live { LIVE_FLUSH } else { FILE_FLUSH }),
        idle_timeout: live.then_some(DEFAULT_IDLE_TIMEOUT),
        ..decoding
    };
    let (tx, rx) = sync_channel(CHANNEL_BATCHES);
    let handle = thread::Builder::new()
        .name(LOADER_THREAD.into())
        .spawn(move || load(input, options, &tx))
        .map_err(|e| e.to_string())?;
    Ok((rx, handle))
}

fn open(source: &Source, limits: &Limits) -> Result<(Input, bool), String> {
    match source {
        Source::File(path) => Capture::open(path, limits)
            .map(|c| (Input::Capture(Box::new(c)), false))
            .map_err(|f| f.to_string()),
        #[cfg(feature = "live")]
        Source::Interface { name, bpf } => {
            use crate::capture::live::{LiveCapture, LiveOptions, PacketFeed};
            let opts = LiveOptions {
                interface: name.clone(),
                bpf: bpf.clone(),
                ..LiveOptions::default()
            };
            let cap = LiveCapture::open(&opts).map_err(|e| e.to_string())?;
            let feed = PacketFeed::start(cap, "wsnoop-capture").map_err(|e| e.to_string())?;
            let live = crate::pipeline::Live {
                name: name.clone(),
                feed,
            };
            Ok((Input::Live(live), true))
        }
        #[cfg(not(feature = "live"))]
        Source::Interface { .. } => Err(crate::pipeline::NO_LIVE.into()),
    }
}

fn load(input: Input, options: Options, tx: &SyncSender<Feed>) {
    let mut sink = ToUi {
        tx: tx.clone(),
        batch: Vec::new(),
    };
    let mut watch = UiWatch {
        tx: tx.clone(),
        error: None,
        gone: false,
    };
    // An engine bug must not take the screen down: report it and stop loading.
    let run = std::panic::AssertUnwindSafe(|| {
        Pipeline::new(options).run(vec![input], &mut sink, &mut watch);
    });
    let error = match std::panic::catch_unwind(run) {
        Ok(()) => watch.error,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Some(format!("engine panicked: {what}"))
        }
    };
    let _ = tx.send(Feed::Done(error));
}

/// The run's sink: events to the UI's model in batches.
struct ToUi {
    tx: SyncSender<Feed>,
    batch: Vec<Event>,
}

impl ToUi {
    fn send(&mut self) -> std::io::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        // The UI has gone: nothing left to do.
        self.tx
            .send(Feed::Events(batch))
            .map_err(|_| std::io::ErrorKind::BrokenPipe.into())
    }
}

impl Sink for ToUi {
    fn event(&mut self, event: &Event) -> std::io::Result<()> {
        self.batch.push(event.clone());
        if self.batch.len() >= BATCH_EVENTS {
            self.send()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

struct UiWatch {
    tx: SyncSender<Feed>,
    /// The first failure, shown when loading ends.
    error: Option<String>,
    /// The UI has gone.
    gone: bool,
}

impl Watch for UiWatch {
    fn progress(&mut self, progress: &Progress) {
        self.gone |= self.tx.send(Feed::Progress(*progress)).is_err();
    }

    fn failure(&mut self, failure: &Failure) {
        if self.error.is_none() {
            self.error = Some(failure.to_string());
        }
    }

    fn stop(&mut self) -> bool {
        self.gone
    }
}

#[cfg(test)]
mod tests {
    use super::Source;

    #[test]
    fn short_names() {
        assert_eq!(Source::File("-".into()).short_name(), "standard input");
        assert_eq!(
            Source::File("/tmp/x/cap.pcap".into()).short_name(),
            "cap.pcap"
        );
        let eth = Source::Interface {
            name: "eth0".into(),
            bpf: "tcp".into(),
        };
        assert_eq!(eth.short_name(), "eth0");
    }
}
