//! The `-w` file's format, chosen by its name: `.pcapng` writes pcapng, which can carry the
//! TLS secrets used (Decryption Secrets Blocks); anything else classic pcap.

use std::io::{self, Write};
use std::path::Path;

use crate::capture::{PcapWriter, PcapngWriter};
use crate::event::Timestamp;

pub enum SaveWriter<W: Write> {
    Pcap(PcapWriter<W>),
    Pcapng(PcapngWriter<W>),
}

impl<W: Write> SaveWriter<W> {
    /// A writer for `path`'s format, its header written to `out`.
    pub fn for_path(path: &Path, out: W, linktype: u32, snaplen: u32) -> io::Result<Self> {
        if is_pcapng(path) {
            PcapngWriter::new(out, linktype, snaplen).map(SaveWriter::Pcapng)
        } else {
            PcapWriter::new(out, linktype, snaplen).map(SaveWriter::Pcap)
        }
    }

    pub fn record(&mut self, ts: Timestamp, data: &[u8], orig_len: u32) -> io::Result<()> {
        match self {
            SaveWriter::Pcap(w) => w.record(ts, data, orig_len),
            SaveWriter::Pcapng(w) => w.record(ts, data, orig_len),
        }
    }

    /// Key log text into the file; `false` when the format cannot hold it (pcap).
    pub fn secrets(&mut self, keylog: &[u8]) -> io::Result<bool> {
        match self {
            SaveWriter::Pcap(_) => Ok(false),
            SaveWriter::Pcapng(w) => w.secrets(keylog).map(|()| true),
        }
    }

    pub fn flush(&mut self) -> io::Result<()> {
        match self {
            SaveWriter::Pcap(w) => w.flush(),
            SaveWriter::Pcapng(w) => w.flush(),
        }
    }

    pub fn get_ref(&self) -> &W {
        match self {
            SaveWriter::Pcap(w) => w.get_ref(),
            SaveWriter::Pcapng(w) => w.get_ref(),
        }
    }
}

/// `.pcapng`, in any case.
pub fn is_pcapng(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("pcapng"))
}
