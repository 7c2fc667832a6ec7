//! Where message items of connections still open go once memory is full: one temporary file,
//! appended to, read back a connection at a time when it ends.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

/// A run of one connection's bytes in the spill file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub offset: u64,
    pub len: u64,
}

/// The spill file, created on first use.
#[derive(Debug)]
pub struct Spill {
    dir: Option<PathBuf>,
    file: Option<BufWriter<File>>,
    /// Bytes in the file (the next chunk's offset).
    len: u64,
    /// The file position is past a read, not at `len`.
    moved: bool,
}

impl Spill {
    /// `dir`: where to create the file; `None` = the system's temporary directory.
    pub fn new(dir: Option<PathBuf>) -> Spill {
        Spill {
            dir,
            file: None,
            len: 0,
            moved: false,
        }
    }

    /// Bytes written to the file and not yet reclaimed.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn append(&mut self, bytes: &[u8]) -> io::Result<Chunk> {
        let file = match &mut self.file {
            Some(f) => f,
            // Unnamed (deleted on close by the OS where it can be, by tempfile otherwise):
            // nothing is left behind if the process dies.
            None => {
                let dir = self.dir.clone().unwrap_or_else(std::env::temp_dir);
                let file = tempfile::tempfile_in(&dir).map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!("cannot create the HAR spill file in {}: {e}", dir.display()),
                    )
                })?;
                self.file.insert(BufWriter::with_capacity(1 << 16, file))
            }
        };
        if std::mem::take(&mut self.moved) {
            file.get_mut().seek(SeekFrom::Start(self.len))?;
        }
        file.write_all(bytes)?;
        let chunk = Chunk {
            offset: self.len,
            len: bytes.len() as u64,
        };
        self.len += chunk.len;
        Ok(chunk)
    }

    /// Copies `chunk` back out to `out`.
    pub fn copy(&mut self, chunk: Chunk, out: &mut impl Write) -> io::Result<()> {
        let Some(file) = &mut self.file else {
            return Err(io::Error::other("HAR spill file read before any write"));
        };
        file.flush()?;
        let f = file.get_mut();
        f.seek(SeekFrom::Start(chunk.offset))?;
        self.moved = true;
        let copied = io::copy(&mut f.take(chunk.len), out)?;
        if copied != chunk.len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("HAR spill file: {copied} of {} bytes read back", chunk.len),
            ));
        }
        Ok(())
    }

    /// Nothing in the file is needed any more: give the disk space back.
    pub fn reset(&mut self) -> io::Result<()> {
        if let Some(file) = &mut self.file {
            file.flush()?;
            file.get_mut().set_len(0)?;
            self.moved = true;
        }
        self.len = 0;
        Ok(())
    }
}
