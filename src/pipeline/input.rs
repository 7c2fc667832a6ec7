//! Inputs: capture files, standard input, a live interface; opened and read as one kind of
//! packet source by the run loops.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::Failure;
use crate::capture::{CaptureReader, Chunk};
use crate::limits::Limits;
use crate::packet::RawPacket;

/// What a run reads. Paths are opened when their turn comes (a bad one among good ones is
/// reported and skipped); a driver that must report a bad input before anything else (the TUI,
/// before it takes the screen) opens it first with [`Capture::open`] or opens the interface.
pub enum Input {
    /// A capture file; `-` is standard input.
    Path(PathBuf),
    Capture(Box<Capture>),
    /// A live interface (feature `live`).
    #[cfg(feature = "live")]
    Live(Live),
}

/// A capture file (or standard input) opened, its header read.
pub struct Capture {
    /// How errors name it: its path, or "standard input".
    pub name: String,
    /// Size in bytes when known (regular files), for progress.
    pub size: Option<u64>,
    reader: CaptureReader<PauseAware<Box<dyn Read + Send>>>,
    paused: Arc<AtomicBool>,
}

/// A live interface, opened and capturing on its own thread.
#[cfg(feature = "live")]
pub struct Live {
    /// The interface's name.
    pub name: String,
    pub feed: crate::capture::live::PacketFeed,
}

impl Input {
    /// How errors and progress name the input.
    pub fn name(&self) -> String {
        match self {
            Input::Path(p) => path_name(p),
            Input::Capture(c) => c.name.clone(),
            #[cfg(feature = "live")]
            Input::Live(l) => l.name.clone(),
        }
    }
}

fn path_name(path: &Path) -> String {
    if path == Path::new("-") {
        "standard input".into()
    } else {
        path.display().to_string()
    }
}

impl Capture {
    /// Opens a capture path (`-` = standard input) and reads its header. The failure names
    /// the path.
    pub fn open(path: &Path, limits: &Limits) -> Result<Capture, Failure> {
        let name = path_name(path);
        let fail = |detail: String| Failure::Input {
            input: name.clone(),
            detail,
        };
        let (inner, size): (Box<dyn Read + Send>, Option<u64>) = if path == Path::new("-") {
            (Box::new(io::stdin()), None)
        } else {
            let meta = std::fs::metadata(path).map_err(|e| fail(describe(&e)))?;
            if meta.is_dir() {
                return Err(fail("is a directory, not a capture file".into()));
            }
            let file = File::open(path).map_err(|e| fail(describe(&e)))?;
            (Box::new(file), Some(meta.len()))
        };
        let paused = Arc::new(AtomicBool::new(false));
        let reader = PauseAware {
            inner,
            paused: Arc::clone(&paused),
        };
        let reader = CaptureReader::new(reader, limits).map_err(|e| fail(e.to_string()))?;
        Ok(Capture {
            name,
            size,
            reader,
            paused,
        })
    }
}

fn describe(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// An input reader that raises a flag whenever a read returned less than was asked for: the
/// producer (e.g. tcpdump on a pipe) has nothing more right now, so output should be flushed
/// for whoever is watching it.
struct PauseAware<R> {
    inner: R,
    paused: Arc<AtomicBool>,
}

impl<R: Read> Read for PauseAware<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n < buf.len() {
            self.paused.store(true, Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// What the next pull from a source found.
pub(super) enum Pull<'a> {
    /// A packet, and (files) the buffer its bytes lie in, which other threads may hold on to.
    Packet(RawPacket<'a>, Option<&'a Chunk>),
    /// Nothing within the wait (live).
    #[cfg_attr(not(feature = "live"), allow(dead_code))]
    Idle,
    /// The input ended cleanly.
    End,
    /// The capture is damaged or could not be read further: an input error, reported in the
    /// output too (an anomaly about the input) since what follows it is lost.
    Corrupt(String),
    /// Live capture stopped.
    #[cfg_attr(not(feature = "live"), allow(dead_code))]
    Stopped(String),
}

/// An opened input as the run loops read it.
pub(super) enum Source {
    Capture(Box<Capture>),
    #[cfg(feature = "live")]
    Live {
        live: Live,
        /// The packet lent out by the last pull, its buffer recycled on the next.
        held: Option<crate::capture::live::OwnedPacket>,
    },
}

impl Source {
    pub fn new(input: Input, limits: &Limits) -> Result<Source, Failure> {
        Ok(match input {
            Input::Path(path) => Source::Capture(Box::new(Capture::open(&path, limits)?)),
            Input::Capture(c) => Source::Capture(c),
            #[cfg(feature = "live")]
            Input::Live(live) => Source::Live { live, held: None },
        })
    }

    pub fn name(&self) -> &str {
        match self {
            Source::Capture(c) => &c.name,
            #[cfg(feature = "live")]
            Source::Live { live, .. } => &live.name,
        }
    }

    /// A live interface: never ends by itself, its packets come with waits between them.
    pub fn is_live(&self) -> bool {
        !matches!(self, Source::Capture(_))
    }

    /// Size in bytes, when known.
    pub fn size(&self) -> Option<u64> {
        match self {
            Source::Capture(c) => c.size,
            #[cfg(feature = "live")]
            Source::Live { .. } => None,
        }
    }

    /// Input bytes consumed so far (files), for progress.
    pub fn offset(&self) -> Option<u64> {
        match self {
            Source::Capture(c) => Some(c.reader.offset()),
            #[cfg(feature = "live")]
            Source::Live { .. } => None,
        }
    }

    /// The input paused since the last call (a pipe with nothing more for now).
    #[inline]
    pub fn take_paused(&self) -> bool {
        match self {
            // A plain load first: this is asked after every packet, a pause is rare.
            Source::Capture(c) => {
                c.paused.load(Ordering::Relaxed) && c.paused.swap(false, Ordering::Relaxed)
            }
            #[cfg(feature = "live")]
            Source::Live { .. } => false,
        }
    }

    /// TLS secrets the capture carried since the last call (pcapng Decryption Secrets Blocks,
    /// key log text), in capture order.
    #[inline]
    pub fn take_secrets(&mut self) -> Vec<Vec<u8>> {
        match self {
            Source::Capture(c) => c.reader.take_secrets(),
            #[cfg(feature = "live")]
            Source::Live { .. } => Vec::new(),
        }
    }

    /// Packets the kernel dropped (live), when known.
    pub fn kernel_drops(&self) -> Option<u64> {
        match self {
            Source::Capture(_) => None,
            #[cfg(feature = "live")]
            Source::Live { live, .. } => live.feed.kernel_stats().map(|k| k.dropped),
        }
    }

    /// The next packet; a live source waits at most `wait` for one.
    #[inline]
    pub fn pull(&mut self, wait: std::time::Duration) -> Pull<'_> {
        match self {
            Source::Capture(c) => {
                let _ = wait;
                match c.reader.next_packet_lent() {
                    Ok(Some((pkt, chunk))) => Pull::Packet(pkt, Some(chunk)),
                    Ok(None) => Pull::End,
                    Err(e) => Pull::Corrupt(e.to_string()),
                }
            }
            #[cfg(feature = "live")]
            Source::Live { live, held } => {
                use crate::capture::live::Next;
                if let Some(p) = held.take() {
                    live.feed.recycle(p);
                }
                match live.feed.next(wait) {
                    Next::Packet(p) => {
                        let link = live.feed.link();
                        Pull::Packet(held.insert(p).raw(link), None)
                    }
                    Next::Idle => Pull::Idle,
                    Next::Ended(e) => Pull::Stopped(e),
                }
            }
        }
    }
}
