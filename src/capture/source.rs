//! The input as pcap-parser reads it: the bytes already probed first, then the caller's
//! reader. pcap-parser reduces read failures to a bare `ReadError`; the real `io::Error` is
//! kept here so the caller can report it.

use std::io::{self, Read};
use std::sync::{Arc, Mutex};

/// The last read error, shared between the source (owned by pcap-parser) and the reader.
pub(super) type ErrorSlot = Arc<Mutex<Option<io::Error>>>;

pub(super) struct Source<R> {
    prefix: Vec<u8>,
    served: usize,
    inner: R,
    error: ErrorSlot,
}

impl<R: Read> Source<R> {
    pub fn new(prefix: Vec<u8>, inner: R, error: ErrorSlot) -> Self {
        Source {
            prefix,
            served: 0,
            inner,
            error,
        }
    }
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(rest) = self.prefix.get(self.served..)
            && !rest.is_empty()
        {
            let n = rest.len().min(buf.len());
            if let (Some(dst), Some(src)) = (buf.get_mut(..n), rest.get(..n)) {
                dst.copy_from_slice(src);
            }
            self.served += n;
            if self.served == self.prefix.len() {
                self.prefix = Vec::new();
                self.served = 0;
            }
            return Ok(n);
        }
        loop {
            match self.inner.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let kind = e.kind();
                    if let Ok(mut slot) = self.error.lock() {
                        *slot = Some(e);
                    }
                    return Err(kind.into());
                }
                done => return done,
            }
        }
    }
}

/// Reads until `buf` holds `want` bytes or the input ends.
pub(super) fn fill_to<R: Read>(reader: &mut R, buf: &mut Vec<u8>, want: usize) -> io::Result<()> {
    let more = want.saturating_sub(buf.len()) as u64;
    reader.by_ref().take(more).read_to_end(buf)?;
    Ok(())
}
