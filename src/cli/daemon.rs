//! Daemon habits of `wsnoop live`: an output file that can be reopened (SIGHUP, for
//! logrotate) and rotated by size, between lines.

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Output buffer size: large enough that writes are rare system calls.
const OUT_BUFFER: usize = 256 << 10;

/// Size-based rotation: past `max_bytes`, PATH becomes PATH.1, PATH.1 becomes PATH.2, ...
/// and at most `keep` old files are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rotation {
    pub max_bytes: u64,
    pub keep: u32,
}

enum Target {
    Stdout(BufWriter<io::Stdout>),
    File {
        path: PathBuf,
        file: BufWriter<File>,
        /// Bytes in the current file (what was there when opened plus what was written).
        size: u64,
        rotation: Option<Rotation>,
    },
}

/// Where events are written. Shared (single-threaded) between the sink, which writes
/// through [`OutHandle`], and the driver, which reopens it and writes stats lines. Rotation
/// happens at the end of a line, so no line is ever split across files.
pub struct Output {
    target: Target,
}

/// The sink's end of a shared [`Output`].
#[derive(Clone)]
pub struct OutHandle(pub Rc<RefCell<Output>>);

fn open_append(path: &Path) -> io::Result<(BufWriter<File>, u64)> {
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    Ok((BufWriter::with_capacity(OUT_BUFFER, file), size))
}

fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

impl Output {
    pub fn stdout() -> Output {
        Output {
            target: Target::Stdout(BufWriter::with_capacity(OUT_BUFFER, io::stdout())),
        }
    }

    /// Opens `path` for appending (a restarted daemon goes on with the same file).
    pub fn file(path: &Path, rotation: Option<Rotation>) -> io::Result<Output> {
        let (file, size) = open_append(path)?;
        Ok(Output {
            target: Target::File {
                path: path.to_path_buf(),
                file,
                size,
                rotation,
            },
        })
    }

    pub fn shared(self) -> OutHandle {
        OutHandle(Rc::new(RefCell::new(self)))
    }

    /// SIGHUP: flush and reopen the file by name (logrotate moved it away). Standard output
    /// is left alone.
    pub fn reopen(&mut self) -> io::Result<()> {
        if let Target::File {
            path, file, size, ..
        } = &mut self.target
        {
            file.flush()?;
            let (new, new_size) = open_append(path)?;
            *file = new;
            *size = new_size;
        }
        Ok(())
    }

    /// Rotate when the file has reached its size limit. Called at each line's end.
    pub fn rotate_if_due(&mut self) -> io::Result<()> {
        let Target::File {
            path,
            file,
            size,
            rotation: Some(rot),
        } = &mut self.target
        else {
            return Ok(());
        };
        if *size < rot.max_bytes {
            return Ok(());
        }
        file.flush()?;
        if rot.keep == 0 {
            std::fs::remove_file(&*path)?;
        } else {
            // Oldest first, so nothing is overwritten before it has moved on.
            for n in (1..rot.keep).rev() {
                let from = numbered(path, n);
                if from.exists() {
                    std::fs::rename(&from, numbered(path, n + 1))?;
                }
            }
            std::fs::rename(&*path, numbered(path, 1))?;
        }
        let (new, new_size) = open_append(path)?;
        *file = new;
        *size = new_size;
        Ok(())
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.target {
            Target::Stdout(w) => w.write(buf),
            Target::File { file, size, .. } => {
                let n = file.write(buf)?;
                *size = size.saturating_add(n as u64);
                // Sinks end each event with a write that ends its line (and put no raw line
                // break inside one): a line's end is a place where the file may change.
                if n == buf.len() && buf.last() == Some(&b'\n') {
                    self.rotate_if_due()?;
                }
                Ok(n)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.target {
            Target::Stdout(w) => w.flush(),
            Target::File { file, .. } => file.flush(),
        }
    }
}

impl Write for OutHandle {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.borrow_mut().write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.borrow_mut().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wsnoop-daemon-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn read(p: &Path) -> String {
        std::fs::read_to_string(p).unwrap()
    }

    #[test]
    fn reopen_follows_the_name() {
        let dir = tmpdir("reopen");
        let path = dir.join("out.json");
        let mut out = Output::file(&path, None).unwrap();
        out.write_all(b"one\n").unwrap();
        out.flush().unwrap();
        std::fs::rename(&path, dir.join("out.json.old")).unwrap();
        out.write_all(b"two\n").unwrap();
        out.reopen().unwrap();
        out.write_all(b"three\n").unwrap();
        out.flush().unwrap();
        assert_eq!(read(&dir.join("out.json.old")), "one\ntwo\n");
        assert_eq!(read(&path), "three\n");
    }

    #[test]
    fn rotation_shifts_numbered_files_and_keeps_n() {
        let dir = tmpdir("rotate");
        let path = dir.join("o");
        let rot = Rotation {
            max_bytes: 4,
            keep: 2,
        };
        let mut out = Output::file(&path, Some(rot)).unwrap();
        for line in ["aaaa\n", "bb\n", "cc\n", "dddd\n", "e\n"] {
            out.write_all(line.as_bytes()).unwrap();
            out.rotate_if_due().unwrap();
        }
        out.flush().unwrap();
        // "aaaa\n" rotated at once; "bb\n"+"cc\n" reach 6 then rotate; "dddd\n" rotates;
        // "e\n" stays. Only two old files are kept.
        assert_eq!(read(&numbered(&path, 1)), "dddd\n");
        assert_eq!(read(&numbered(&path, 2)), "bb\ncc\n");
        assert!(!numbered(&path, 3).exists());
        assert_eq!(read(&path), "e\n");
    }

    #[test]
    fn appends_to_an_existing_file_and_counts_it() {
        let dir = tmpdir("append");
        let path = dir.join("o");
        std::fs::write(&path, b"old!\n").unwrap();
        let rot = Rotation {
            max_bytes: 6,
            keep: 1,
        };
        let mut out = Output::file(&path, Some(rot)).unwrap();
        out.write_all(b"x\n").unwrap();
        out.rotate_if_due().unwrap();
        out.flush().unwrap();
        assert_eq!(read(&numbered(&path, 1)), "old!\nx\n");
        assert_eq!(read(&path), "");
    }

    /// A line is never split: the file changes only after a write that ends a line.
    #[test]
    fn rotation_waits_for_the_end_of_a_line() {
        let dir = tmpdir("lineend");
        let path = dir.join("o");
        let rot = Rotation {
            max_bytes: 4,
            keep: 1,
        };
        let mut out = Output::file(&path, Some(rot)).unwrap();
        for piece in ["{\"a\":", "\"long value\"", "}\n", "{}", "\n"] {
            out.write_all(piece.as_bytes()).unwrap();
        }
        out.flush().unwrap();
        assert_eq!(read(&numbered(&path, 1)), "{\"a\":\"long value\"}\n");
        assert_eq!(read(&path), "{}\n");
    }
}
