//! Opening inputs, and noticing when a streaming input pauses so output can be flushed.

use std::cell::Cell;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::rc::Rc;

/// An input reader that raises a flag whenever a read returned less than was asked for: the
/// producer (e.g. tcpdump on a pipe) has nothing more right now, so output should be flushed
/// for whoever is watching it.
pub struct PauseAware<R> {
    inner: R,
    paused: Rc<Cell<bool>>,
}

impl<R: Read> Read for PauseAware<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n < buf.len() {
            self.paused.set(true);
        }
        Ok(n)
    }
}

pub struct Input {
    pub reader: PauseAware<Box<dyn Read>>,
    pub paused: Rc<Cell<bool>>,
    /// Size in bytes when known (regular files), for the progress bar.
    pub size: Option<u64>,
}

/// Opens a capture path (`-` = standard input). The error is one line naming the problem.
pub fn open(path: &Path) -> Result<Input, String> {
    let (inner, size): (Box<dyn Read>, Option<u64>) = if path == Path::new("-") {
        (Box::new(io::stdin().lock()), None)
    } else {
        let meta = std::fs::metadata(path).map_err(|e| describe(&e))?;
        if meta.is_dir() {
            return Err("is a directory, not a capture file".into());
        }
        let file = File::open(path).map_err(|e| describe(&e))?;
        (Box::new(file), Some(meta.len()))
    };
    let paused = Rc::new(Cell::new(false));
    Ok(Input {
        reader: PauseAware {
            inner,
            paused: Rc::clone(&paused),
        },
        paused,
        size,
    })
}

fn describe(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}
