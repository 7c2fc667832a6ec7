//! Capture sources: pcap and pcapng files (streaming, from any `Read`, including stdin).
//! Live capture from interfaces (feature `live`, libpcap) is in `live`; writing pcap files
//! in [`PcapWriter`] and pcapng files (with TLS secrets) in [`PcapngWriter`].

mod blocks;
mod format;
#[cfg(feature = "live")]
pub mod live;
mod ngwriter;
mod source;
#[cfg(test)]
mod tests;
mod ts;
mod writer;

use std::fmt;
use std::io::Read;
use std::sync::{Arc, Mutex};

use pcap_parser::PcapError;

use crate::limits::Limits;
use crate::packet::RawPacket;
use blocks::Blocks;
pub use blocks::Chunk;
use format::{Block, Format, Meta};
pub use ngwriter::PcapngWriter;
use source::{ErrorSlot, Source};
pub use writer::PcapWriter;

/// Read buffer size; grown only for a record that does not fit.
const READ_BUFFER: usize = 1 << 20;

/// Why a capture could not be read further.
#[derive(Debug)]
pub struct CaptureError {
    /// Byte offset in the input where the problem was found.
    pub offset: u64,
    pub kind: CaptureErrorKind,
}

#[derive(Debug)]
pub enum CaptureErrorKind {
    /// Reading the input failed.
    Io(std::io::Error),
    /// Not a pcap or pcapng file (or empty).
    NotACapture,
    /// A record is damaged: absurd length, cut mid-record, bad block. `what` describes it.
    Corrupt(String),
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            CaptureErrorKind::Io(e) => write!(f, "read error at byte {}: {e}", self.offset),
            CaptureErrorKind::NotACapture => {
                write!(f, "not a pcap or pcapng capture (at byte {})", self.offset)
            }
            CaptureErrorKind::Corrupt(what) => {
                write!(f, "corrupt capture at byte {}: {what}", self.offset)
            }
        }
    }
}

impl std::error::Error for CaptureError {}

/// Streaming reader of pcap (µs/ns, either byte order) and pcapng (several sections and
/// interfaces; unknown blocks skipped). Holds a read buffer (grown only for a record that does
/// not fit), plus the buffers packets were lent out of while they are held.
pub struct CaptureReader<R: Read> {
    inner: Blocks<Source<R>>,
    format: Format,
    io_error: ErrorSlot,
    /// Bytes of the block lent out by the last `next_packet`, consumed on the next call.
    pending: usize,
    /// Bytes consumed before `pending`.
    consumed: u64,
    max_record: usize,
    /// Records (pcap) or blocks (pcapng) read so far, for error messages.
    records: u64,
}

/// What one attempt at the next block found, with no borrow of the buffer left.
enum Step {
    Skip(usize),
    Packet(Meta),
    Eof,
    /// The buffer holds only part of the next block.
    NeedMore,
    /// The input ended inside a block.
    Cut,
    ReadFailed,
    Bad(String),
}

impl<R: Read> CaptureReader<R> {
    /// Reads the file header. Errors: `NotACapture` for anything else, `Corrupt` for a
    /// header cut short or claiming an absurd length, `Io`.
    pub fn new(mut reader: R, limits: &Limits) -> Result<Self, CaptureError> {
        let probe = format::probe(&mut reader, limits.max_record_bytes)?;
        let io_error: ErrorSlot = Arc::new(Mutex::new(None));
        let capacity = READ_BUFFER.max(probe.bytes.len() + 1);
        let source = Source::new(probe.bytes, reader, io_error.clone());
        let inner = Blocks::new(capacity, source, &probe.format).ok_or(CaptureError {
            offset: 0,
            kind: CaptureErrorKind::NotACapture,
        })?;
        Ok(CaptureReader {
            inner,
            format: probe.format,
            io_error,
            pending: 0,
            consumed: 0,
            max_record: limits.max_record_bytes,
            records: 0,
        })
    }

    /// The next packet, `Ok(None)` at a clean end of input.
    pub fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, CaptureError> {
        Ok(self.next_packet_lent()?.map(|(pkt, _)| pkt))
    }

    /// The next packet and the buffer its bytes lie in: another thread may hold on to a
    /// range of it (the buffer is not written again while it does).
    pub fn next_packet_lent(&mut self) -> Result<Option<(RawPacket<'_>, &Chunk)>, CaptureError> {
        self.consume_pending();
        // Two phases: find the next packet block (consuming the others), then lend its
        // bytes from the buffer. Returning a borrow from inside the loop would keep the
        // reader borrowed for every iteration.
        let meta = loop {
            match self.step() {
                Step::Skip(n) => {
                    self.inner.consume(n);
                    self.consumed += n as u64;
                }
                Step::Packet(meta) => break meta,
                Step::Eof => return Ok(None),
                Step::NeedMore => self.need_more(false)?,
                Step::Cut => self.need_more(true)?,
                Step::ReadFailed => return Err(self.read_error()),
                Step::Bad(what) => return Err(self.corrupt(what)),
            }
        };
        let end = meta.data_at + meta.caplen;
        let Some(data) = self.inner.data().get(meta.data_at..end) else {
            return Err(self.corrupt(format!("record #{} data out of bounds", self.records)));
        };
        self.pending = meta.block_len;
        let pkt = RawPacket {
            ts: meta.ts,
            link: meta.link,
            data,
            orig_len: meta.orig_len,
        };
        Ok(Some((pkt, self.inner.chunk())))
    }

    /// TLS key log text (NSS format) from pcapng Decryption Secrets Blocks read since the
    /// last call, one entry per block, in capture order. A block precedes the packets it
    /// decrypts, so taking them after each `next_packet` keeps keys ahead of their records.
    /// Empty for pcap files.
    pub fn take_secrets(&mut self) -> Vec<Vec<u8>> {
        match &mut self.format {
            Format::Ng(ng) => ng.take_secrets(),
            Format::Legacy(_) => Vec::new(),
        }
    }

    /// Input bytes consumed so far (for progress and error messages).
    pub fn offset(&self) -> u64 {
        self.consumed + self.pending as u64
    }

    fn consume_pending(&mut self) {
        if self.pending > 0 {
            self.inner.consume(self.pending);
            self.consumed += self.pending as u64;
            self.pending = 0;
        }
    }

    fn step(&mut self) -> Step {
        let record = self.records + 1;
        let max = self.max_record;
        match self.inner.next() {
            Ok((len, block)) => match self.format.block(block, len, max, record) {
                Ok(Block::Packet(meta)) => {
                    self.records = record;
                    Step::Packet(meta)
                }
                Ok(Block::Header) => Step::Skip(len),
                Ok(Block::Other) => {
                    self.records = record;
                    Step::Skip(len)
                }
                Err(what) => Step::Bad(what),
            },
            Err(PcapError::Eof) => Step::Eof,
            Err(PcapError::Incomplete(_)) | Err(PcapError::BufferTooSmall) => Step::NeedMore,
            Err(PcapError::UnexpectedEof) => Step::Cut,
            Err(PcapError::ReadError) => Step::ReadFailed,
            Err(PcapError::HeaderNotRecognized) => {
                Step::Bad(format!("record #{record} is not recognised"))
            }
            Err(PcapError::NomError(_, kind)) | Err(PcapError::OwnedNomError(_, kind)) => {
                Step::Bad(format!("record #{record} is malformed ({kind:?})"))
            }
        }
    }

    /// The next block is not all in the buffer: decide from its header whether it is sane,
    /// then read more or grow the buffer (up to the record limit, never by a claimed length
    /// alone: the buffer at most doubles per step, so memory follows the bytes that arrive).
    fn need_more(&mut self, input_ended: bool) -> Result<(), CaptureError> {
        let record = self.records + 1;
        let have = self.inner.data().len();
        let claimed = self.format.claimed_len(self.inner.data());
        if let Some(claimed) = claimed {
            if let Some(what) = self.format.check_claim(claimed, self.max_record, record) {
                return Err(self.corrupt(what));
            }
            if have as u64 >= claimed.total {
                return Err(self.corrupt(format!(
                    "record #{record} is malformed: its contents overrun its {}-byte length",
                    claimed.total
                )));
            }
        }
        if input_ended {
            // `1 of 16 bytes`, `1 byte` alone.
            let present = match claimed {
                Some(c) => format!("{have} of {} bytes", c.total),
                None => crate::plural::count(have, "byte", "bytes").to_string(),
            };
            return Err(self.corrupt(format!(
                "file ends inside a record (record #{record}: {present} present)"
            )));
        }
        if have >= self.inner.capacity() {
            let limit = self.max_record.saturating_add(format::RECORD_SLACK);
            let wanted = claimed.map_or(u64::MAX, |c| c.total.saturating_add(1));
            let grown = self
                .inner
                .capacity()
                .saturating_mul(2)
                .min(usize::try_from(wanted).unwrap_or(usize::MAX))
                .min(limit);
            if !self.inner.grow(grown) {
                return Err(self.corrupt(format!(
                    "record #{record} is larger than the {}-byte record limit",
                    self.max_record
                )));
            }
            return Ok(());
        }
        if self.inner.refill().is_err() {
            return Err(self.read_error());
        }
        Ok(())
    }

    fn corrupt(&self, what: String) -> CaptureError {
        CaptureError {
            offset: self.consumed,
            kind: CaptureErrorKind::Corrupt(what),
        }
    }

    fn read_error(&self) -> CaptureError {
        let taken = self.io_error.lock().ok().and_then(|mut slot| slot.take());
        CaptureError {
            offset: self.consumed + self.inner.data().len() as u64,
            kind: CaptureErrorKind::Io(
                taken.unwrap_or_else(|| std::io::Error::other("read failed")),
            ),
        }
    }
}
