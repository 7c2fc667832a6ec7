//! Daemon habits shared by the live drivers: an output file that can be reopened (SIGHUP,
//! for logrotate) and rotated by size, the periodic stats record, and the wall clock the
//! engine is not allowed to read itself.

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::event::Timestamp;
use crate::sink::write_rfc3339_micros;

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
/// through [`OutHandle`], and the driver, which reopens and rotates between events so no
/// line is ever split across files.
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

    /// Rotate when the file has reached its size limit. Call between events.
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

/// The current time as a capture timestamp (for idle expiry when no packets come, and for
/// stats records).
pub fn wall_clock() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::new(
        i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        d.subsec_nanos(),
    )
}

/// One periodic stats record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsRecord {
    pub packets: u64,
    pub bytes: u64,
    /// Packets the kernel dropped (`None`: not known).
    pub kernel_drops: Option<u64>,
    /// TCP connections tracked now (WebSocket or undecided).
    pub conns_open: usize,
    /// WebSocket connections recognised so far.
    pub websocket_conns: u64,
    pub messages: u64,
    pub anomalies: u64,
    /// Approximate bytes held by the engine's buffers and the `-w` pending packets.
    pub memory: usize,
}

impl StatsRecord {
    /// `{"event":"stats","ts":"...","packets":N,...}` (one line, newline included).
    pub fn write_json(&self, w: &mut impl Write, ts: Timestamp) -> io::Result<()> {
        w.write_all(b"{\"event\":\"stats\",\"ts\":\"")?;
        write_rfc3339_micros(&mut *w, ts)?;
        write!(
            w,
            "\",\"packets\":{},\"bytes\":{},\"kernel_drops\":",
            self.packets, self.bytes
        )?;
        match self.kernel_drops {
            Some(d) => write!(w, "{d}")?,
            None => w.write_all(b"null")?,
        }
        writeln!(
            w,
            ",\"conns_open\":{},\"websocket_conns\":{},\"messages\":{},\"anomalies\":{},\
             \"memory_bytes\":{}}}",
            self.conns_open, self.websocket_conns, self.messages, self.anomalies, self.memory
        )
    }

    /// The stderr line.
    pub fn line(&self) -> String {
        let drops = self
            .kernel_drops
            .map_or_else(|| "?".to_string(), |d| d.to_string());
        format!(
            "wsnoop: stats packets={} bytes={} kernel_drops={drops} conns_open={} \
             websocket_conns={} messages={} anomalies={} memory={}",
            self.packets,
            self.bytes,
            self.conns_open,
            self.websocket_conns,
            self.messages,
            self.anomalies,
            self.memory
        )
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

    #[test]
    fn stats_json_and_line() {
        let s = StatsRecord {
            packets: 10,
            bytes: 1500,
            kernel_drops: Some(2),
            conns_open: 3,
            websocket_conns: 4,
            messages: 5,
            anomalies: 6,
            memory: 7000,
        };
        let mut v = Vec::new();
        s.write_json(&mut v, Timestamp::new(0, 1_000)).unwrap();
        assert_eq!(
            String::from_utf8(v).unwrap(),
            "{\"event\":\"stats\",\"ts\":\"1970-01-01T00:00:00.000001Z\",\"packets\":10,\
             \"bytes\":1500,\"kernel_drops\":2,\"conns_open\":3,\"websocket_conns\":4,\
             \"messages\":5,\"anomalies\":6,\"memory_bytes\":7000}\n"
        );
        let none = StatsRecord::default();
        assert_eq!(
            none.line(),
            "wsnoop: stats packets=0 bytes=0 kernel_drops=? conns_open=0 websocket_conns=0 \
             messages=0 anomalies=0 memory=0"
        );
    }
}
