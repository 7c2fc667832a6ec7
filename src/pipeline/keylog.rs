//! Key log files (NSS format, RFC 9850) read for the engine, and followed as they grow: a
//! browser appends a line per connection while it runs; logrotate or a new browser session
//! replaces the file or starts it over (then it is read again from its first line). Only whole
//! lines are handed on; a line being written is taken once its newline is there.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Bytes read from a key log at one time at most (a huge file is read in pieces).
const READ_PIECE: usize = 1 << 20;

/// One key log file being followed.
#[derive(Debug)]
pub struct KeyLogFile {
    path: PathBuf,
    file: File,
    /// Identity of the file read (device, inode): another one behind the name means it was
    /// replaced.
    id: Option<(u64, u64)>,
    /// Bytes of the file consumed, whole lines only.
    offset: u64,
    /// Number of the next line (1-based), for messages about malformed lines.
    line: usize,
}

/// Lines read from a key log: `text` holds whole lines, the first being line `first_line`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyLogText {
    pub text: Vec<u8>,
    pub first_line: usize,
}

impl KeyLogFile {
    pub fn open(path: &Path) -> io::Result<KeyLogFile> {
        let file = File::open(path)?;
        let id = identity(&file);
        Ok(KeyLogFile {
            path: path.to_path_buf(),
            file,
            id,
            offset: 0,
            line: 1,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The whole lines written since the last call (all of them the first time); `None` when
    /// there are none. A file replaced under the name, or shorter than what was read, is read
    /// again from its start.
    pub fn read_new(&mut self) -> io::Result<Option<KeyLogText>> {
        if let Ok(now) = File::open(&self.path) {
            let now_id = identity(&now);
            let shrunk = now
                .metadata()
                .map(|m| m.len() < self.offset)
                .unwrap_or(false);
            if now_id != self.id || shrunk {
                self.file = now;
                self.id = now_id;
                self.offset = 0;
                self.line = 1;
            }
        }
        self.file.seek(SeekFrom::Start(self.offset))?;
        let mut text = Vec::new();
        loop {
            let mut piece = vec![0; READ_PIECE];
            let n = self.file.read(&mut piece)?;
            if n == 0 {
                break;
            }
            text.extend_from_slice(piece.get(..n).unwrap_or_default());
        }
        // Only whole lines: a line still being written waits for its newline.
        let whole = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        text.truncate(whole);
        if text.is_empty() {
            return Ok(None);
        }
        let first_line = self.line;
        self.offset += text.len() as u64;
        self.line += text.iter().filter(|&&b| b == b'\n').count();
        Ok(Some(KeyLogText { text, first_line }))
    }
}

#[cfg(unix)]
fn identity(file: &File) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    file.metadata().ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(_: &File) -> Option<(u64, u64)> {
    None
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn append(path: &Path, text: &str) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .expect("open");
        f.write_all(text.as_bytes()).expect("write");
    }

    fn got(t: Option<KeyLogText>) -> Option<(String, usize)> {
        t.map(|t| (String::from_utf8(t.text).expect("utf8"), t.first_line))
    }

    #[test]
    fn appended_lines_are_read_once_whole_lines_only() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("keys.log");
        append(&path, "# comment\nCLIENT_RANDOM a b\n");
        let mut k = KeyLogFile::open(&path).expect("open");
        assert_eq!(
            got(k.read_new().expect("read")),
            Some(("# comment\nCLIENT_RANDOM a b\n".into(), 1))
        );
        assert_eq!(got(k.read_new().expect("read")), None);
        // A line being written is not taken until its newline is there.
        append(&path, "CLIENT_TRAFFIC_SECRET_0 c");
        assert_eq!(got(k.read_new().expect("read")), None);
        append(&path, " d\nSERVER_TRAFFIC_SECRET_0 e f\n");
        assert_eq!(
            got(k.read_new().expect("read")),
            Some((
                "CLIENT_TRAFFIC_SECRET_0 c d\nSERVER_TRAFFIC_SECRET_0 e f\n".into(),
                3
            ))
        );
    }

    #[test]
    fn a_replaced_or_shrunk_file_is_read_from_its_start() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("keys.log");
        append(&path, "L1\nL2\nL3\n");
        let mut k = KeyLogFile::open(&path).expect("open");
        assert_eq!(
            got(k.read_new().expect("read")),
            Some(("L1\nL2\nL3\n".into(), 1))
        );
        // logrotate: moved away, a new file under the name.
        std::fs::rename(&path, dir.path().join("keys.log.1")).expect("rename");
        append(&path, "N1\n");
        assert_eq!(got(k.read_new().expect("read")), Some(("N1\n".into(), 1)));
        // Started over in place (truncated, then shorter than what was read).
        std::fs::write(&path, "").expect("truncate");
        assert_eq!(got(k.read_new().expect("read")), None);
        append(&path, "M1\n");
        assert_eq!(got(k.read_new().expect("read")), Some(("M1\n".into(), 1)));
    }
}
