//! The output of `wsnoop read`: buffered, and handed on only in whole lines, so that whoever
//! reads it never sees half an event. When writing to a file fails part-way (a full disk, a
//! file size limit), the file is cut back to the last whole line it held.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

/// Bytes buffered before whole lines are written out (large enough that writes are rare
/// system calls; a single longer line grows the buffer to hold it, bounded by the message
/// limits).
const BUFFER: usize = 256 << 10;
/// Whole lines written at once, at least this long, do not go through the buffer.
const DIRECT_LINE: usize = 64 << 10;

pub struct LineOutput {
    inner: Box<dyn Write + Send>,
    /// The output file, when we created it: cut back to `committed` after a failed write.
    file: Option<File>,
    buf: Vec<u8>,
    /// Bytes of whole lines written to `inner` so far.
    committed: u64,
    /// What the output is, for error messages.
    name: String,
}

impl LineOutput {
    /// Standard output, without std's line buffering on top (that would search every block
    /// for newlines again): this type already hands on whole lines.
    pub fn stdout() -> LineOutput {
        use std::os::fd::AsFd;
        let inner: Box<dyn Write + Send> = match io::stdout().as_fd().try_clone_to_owned() {
            Ok(fd) => Box::new(File::from(fd)),
            Err(_) => Box::new(io::stdout()),
        };
        LineOutput::new(inner, None, "standard output".into())
    }

    /// Creates (or truncates) `path`. The error is one line naming the path.
    pub fn create(path: &Path) -> Result<LineOutput, String> {
        let name = path.display().to_string();
        let file = File::create(path).map_err(|e| format!("cannot write {name}: {e}"))?;
        let shadow = file.try_clone().ok();
        Ok(LineOutput::new(Box::new(file), shadow, name))
    }

    fn new(inner: Box<dyn Write + Send>, file: Option<File>, name: String) -> LineOutput {
        LineOutput {
            inner,
            file,
            buf: Vec::with_capacity(BUFFER),
            committed: 0,
            name,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The buffer lines are gathered in: part of a line may be written straight into it,
    /// never a line's end (whole lines are handed on when one is written through `Write`).
    pub fn line_buffer(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// Writes every whole line buffered; a partial last line stays buffered.
    fn push_lines(&mut self) -> io::Result<()> {
        match memchr::memrchr(b'\n', &self.buf) {
            Some(i) => self.push_until(i + 1),
            None => Ok(()),
        }
    }

    /// Writes whole lines straight to the output, after what is buffered: copying megabytes
    /// into the buffer first would move them through memory once more.
    fn write_direct(&mut self, lines: &[u8]) -> io::Result<()> {
        self.push_lines()?;
        self.write_whole(lines)
    }

    /// Writes `lines` (whole lines) to the output. When that fails part-way, the lines
    /// written in full stay and the file is cut back to the last of them.
    fn write_whole(&mut self, lines: &[u8]) -> io::Result<()> {
        let mut done = 0;
        while let Some(rest) = lines.get(done..).filter(|r| !r.is_empty()) {
            match self.inner.write(rest) {
                Ok(0) => return Err(self.fail_at(lines, done, io::ErrorKind::WriteZero.into())),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.fail_at(lines, done, e)),
            }
        }
        self.committed = self.committed.saturating_add(lines.len() as u64);
        Ok(())
    }

    /// `lines[..done]` went out before `e`: keep its whole lines, cut the rest.
    fn fail_at(&mut self, lines: &[u8], done: usize, e: io::Error) -> io::Error {
        let written = lines.get(..done).unwrap_or_default();
        let whole = memchr::memrchr(b'\n', written).map_or(0, |i| i + 1);
        self.committed = self.committed.saturating_add(whole as u64);
        self.cut_back(e)
    }

    /// Nothing but whole lines is buffered.
    fn at_line_start(&self) -> bool {
        self.buf.last().is_none_or(|&b| b == b'\n')
    }

    /// A write failed part-way: the file goes back to its last whole line.
    fn cut_back(&mut self, e: io::Error) -> io::Error {
        if let Some(file) = &self.file {
            let _ = file.set_len(self.committed);
        }
        self.buf.clear();
        e
    }

    /// Writes `buf[..end]`, which ends a line.
    fn push_until(&mut self, end: usize) -> io::Result<()> {
        let lines = std::mem::take(&mut self.buf);
        let written = self.write_whole(lines.get(..end).unwrap_or_default());
        self.buf = lines;
        match written {
            Ok(()) => {
                self.buf.drain(..end);
                Ok(())
            }
            Err(e) => {
                self.buf.clear();
                Err(e)
            }
        }
    }
}

impl LineOutput {
    /// `write` for data long enough to be whole lines worth writing straight out.
    #[inline(never)]
    fn write_long(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.last() == Some(&b'\n') && self.at_line_start() {
            self.write_direct(data)?;
            return Ok(data.len());
        }
        self.buf.extend_from_slice(data);
        self.hand_on(data)?;
        Ok(data.len())
    }

    /// The buffer is full: hand on its lines up to the last line end in `data`, just
    /// appended, so that what stays buffered is a short tail, not half of a long line to be
    /// searched and moved again.
    #[inline(never)]
    fn hand_on(&mut self, data: &[u8]) -> io::Result<()> {
        let start = self.buf.len() - data.len();
        match memchr::memrchr(b'\n', data) {
            Some(i) => self.push_until(start + i + 1),
            None => Ok(()),
        }
    }
}

impl Write for LineOutput {
    // Sinks write a line in many small pieces: this is their hot path.
    #[inline]
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.len() >= DIRECT_LINE {
            return self.write_long(data);
        }
        self.buf.extend_from_slice(data);
        if self.buf.len() >= BUFFER {
            self.hand_on(data)?;
        }
        Ok(data.len())
    }

    #[inline]
    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.write(data).map(|_| ())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.push_lines()?;
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Accepts `room` bytes, then fails (a disk filling up mid-line).
    struct Filling {
        got: Arc<Mutex<Vec<u8>>>,
        room: usize,
    }

    impl Write for Filling {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            let mut got = self.got.lock().unwrap();
            let n = data.len().min(self.room.saturating_sub(got.len()));
            if n == 0 {
                return Err(io::Error::from(io::ErrorKind::StorageFull));
            }
            got.extend_from_slice(&data[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_are_handed_on_whole() {
        let got = Arc::new(Mutex::new(Vec::new()));
        let sink = Filling {
            got: Arc::clone(&got),
            room: usize::MAX,
        };
        let mut out = LineOutput::new(Box::new(sink), None, "t".into());
        out.write_all(b"{\"a\":").unwrap();
        out.flush().unwrap();
        assert_eq!(*got.lock().unwrap(), b"");
        out.write_all(b"1}\n{\"b\"").unwrap();
        out.flush().unwrap();
        assert_eq!(*got.lock().unwrap(), b"{\"a\":1}\n");
    }

    #[test]
    fn full_disk_mid_line_cuts_the_file_back_to_whole_lines() {
        let dir = std::env::temp_dir().join(format!("wsnoop-lineout-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.jsonl");
        let file = File::create(&path).unwrap();
        let shadow = file.try_clone().unwrap();
        // The "disk" takes 10 bytes into the file, then is full.
        struct Capped(File, usize);
        impl Write for Capped {
            fn write(&mut self, data: &[u8]) -> io::Result<usize> {
                let n = data.len().min(self.1);
                if n == 0 {
                    return Err(io::Error::from(io::ErrorKind::StorageFull));
                }
                self.1 -= n;
                self.0.write(&data[..n])
            }
            fn flush(&mut self) -> io::Result<()> {
                self.0.flush()
            }
        }
        let mut out = LineOutput::new(Box::new(Capped(file, 10)), Some(shadow), "f".into());
        out.write_all(b"one\n").unwrap();
        out.flush().unwrap();
        out.write_all(b"second line\n").unwrap();
        let err = out.flush().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
        assert_eq!(std::fs::read(&path).unwrap(), b"one\n");

        // The same for a long line written straight through.
        let file = File::create(&path).unwrap();
        let shadow = file.try_clone().unwrap();
        let room = 4 + DIRECT_LINE / 2;
        let mut out = LineOutput::new(Box::new(Capped(file, room)), Some(shadow), "f".into());
        out.write_all(b"one\n").unwrap();
        let mut long = vec![b'x'; DIRECT_LINE];
        long.push(b'\n');
        let err = out.write_all(&long).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
        assert_eq!(std::fs::read(&path).unwrap(), b"one\n");

        // Several lines written at once (a threaded run's lines): the ones that went out in
        // full stay.
        let file = File::create(&path).unwrap();
        let shadow = file.try_clone().unwrap();
        let line = |c: u8| {
            let mut l = vec![c; DIRECT_LINE / 4 - 1];
            l.push(b'\n');
            l
        };
        let run: Vec<u8> = (b'a'..b'f').flat_map(line).collect();
        let room = 4 + 2 * (DIRECT_LINE / 4) + 10;
        let mut out = LineOutput::new(Box::new(Capped(file, room)), Some(shadow), "f".into());
        out.write_all(b"one\n").unwrap();
        let err = out.write_all(&run).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
        let want: Vec<u8> = b"one\n"
            .iter()
            .copied()
            .chain(line(b'a'))
            .chain(line(b'b'))
            .collect();
        assert!(std::fs::read(&path).unwrap() == want);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Long lines skip the buffer, short ones and lines in pieces do not: either way, in the
    /// order written.
    #[test]
    fn long_and_short_lines_keep_their_order() {
        let got = Arc::new(Mutex::new(Vec::new()));
        let sink = Filling {
            got: Arc::clone(&got),
            room: usize::MAX,
        };
        let mut out = LineOutput::new(Box::new(sink), None, "t".into());
        let long = vec![b'y'; DIRECT_LINE + 5];
        let mut want = Vec::new();
        for i in 0..3 {
            let short = format!("short {i}\n");
            out.write_all(short.as_bytes()).unwrap();
            let mut line = b"<".to_vec();
            line.extend_from_slice(&long);
            line.extend_from_slice(b">\n");
            out.write_all(&line).unwrap();
            // Whole, but after the start of a line: buffered.
            out.write_all(b"[").unwrap();
            out.write_all(&line).unwrap();
            want.extend_from_slice(short.as_bytes());
            want.extend_from_slice(&line);
            want.push(b'[');
            want.extend_from_slice(&line);
        }
        out.write_all(b"a").unwrap();
        out.write_all(b"b\n").unwrap();
        want.extend_from_slice(b"ab\n");
        out.flush().unwrap();
        assert!(*got.lock().unwrap() == want);
    }

    /// A JSON sink writing payloads straight into the line buffer hands on exactly the lines
    /// a plain writer gets, whole, long ones included.
    #[test]
    fn payloads_written_into_the_line_buffer() {
        use crate::event::{ConnRef, Dir, Event, EventKind, Message, Opcode, Timestamp};
        use crate::sink::{JsonSink, Sink};
        let event = |opcode, payload: Vec<u8>| Event {
            ts: Timestamp::new(1_700_000_000, 7),
            conn: Some(ConnRef {
                id: 1,
                client: "10.0.0.1:4000".parse().unwrap(),
                server: "10.0.0.2:80".parse().unwrap(),
                stream: None,
            }),
            kind: EventKind::Message {
                dir: Dir::C2s,
                msg: Message {
                    opcode,
                    utf8_valid: opcode == Opcode::Text,
                    payload,
                    frames: 1,
                    compressed: false,
                    wire_len: 0,
                    frame_detail: Vec::new(),
                    packets: None,
                    truncated: false,
                },
            },
        };
        let events: Vec<Event> = [10, BUFFER + 5, 3, DIRECT_LINE * 3, 1]
            .iter()
            .enumerate()
            .flat_map(|(i, &len)| {
                let binary = (0..len).map(|j| (i * 7 + j) as u8).collect();
                let text = "a\"é\n".repeat(len / 5 + 1).into_bytes();
                [event(Opcode::Binary, binary), event(Opcode::Text, text)]
            })
            .collect();
        let mut plain = JsonSink::new(Vec::new());
        let got = Arc::new(Mutex::new(Vec::new()));
        let mut out = LineOutput::new(
            Box::new(Filling {
                got: got.clone(),
                room: usize::MAX,
            }),
            None,
            "t".into(),
        );
        {
            let mut sink = JsonSink::with_line_buffer(&mut out, |o| o.line_buffer());
            for ev in &events {
                plain.event(ev).unwrap();
                sink.event(ev).unwrap();
                // Only whole lines are ever handed on.
                assert_eq!(got.lock().unwrap().last().copied().unwrap_or(b'\n'), b'\n');
            }
        }
        out.flush().unwrap();
        assert_eq!(*got.lock().unwrap(), plain.into_inner());
    }
}
