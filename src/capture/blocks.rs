//! The capture's blocks, parsed by pcap-parser from a read buffer of our own.
//!
//! pcap-parser's own readers keep their buffer to themselves and move the unread bytes down
//! as they go. This one lends out the buffer itself ([`Chunk`]): a packet handed to another
//! thread is a range of it, not a copy. While any range is out, the buffer is not written
//! again: refilling moves the unread tail into another chunk (a free one from a small pool,
//! else a new one), and the old one is freed or reused once the last range is dropped.
//! When nothing is lent (one thread), the buffer is refilled in place, as pcap-parser does.

use std::io::Read;
use std::sync::Arc;

use pcap_parser::nom::{self, Needed, Offset};
use pcap_parser::{
    LegacyPcapBlock, PcapBlockOwned, PcapError, parse_block_be, parse_block_le, parse_pcap_frame,
    parse_pcap_frame_be, parse_pcap_frame_modified, parse_pcap_header, parse_sectionheaderblock,
};

use super::format::Format;
use crate::bytes::within;

/// A read buffer that packets may be lent out of.
pub type Chunk = Arc<Vec<u8>>;

/// Retired chunks kept for reuse (each is a read buffer, a megabyte by default).
const SPARE_CHUNKS: usize = 8;

type FrameParser = fn(&[u8]) -> nom::IResult<&[u8], LegacyPcapBlock<'_>, PcapError<&[u8]>>;

enum Parser {
    /// Before the first call: the file header comes out as a block of its own.
    LegacyHeader(FrameParser),
    Legacy(FrameParser),
    /// The byte order of the current section (set by each section header block).
    Ng {
        big_endian: bool,
    },
}

pub(super) struct Blocks<R: Read> {
    chunk: Chunk,
    pos: usize,
    end: usize,
    /// A read returned nothing: the input ended.
    exhausted: bool,
    reader: R,
    spare: Vec<Chunk>,
    parser: Parser,
}

impl<R: Read> Blocks<R> {
    /// Reads the first bytes and checks that they start a capture of `format` (as
    /// pcap-parser's readers do); `None` when they do not.
    pub fn new(capacity: usize, reader: R, format: &Format) -> Option<Self> {
        let mut blocks = Blocks {
            chunk: Arc::new(vec![0; capacity]),
            pos: 0,
            end: 0,
            exhausted: false,
            reader,
            spare: Vec::new(),
            parser: Parser::Ng { big_endian: false },
        };
        blocks.refill().ok()?;
        let data = blocks.data();
        blocks.parser = match format {
            Format::Legacy(_) => {
                let (_, header) = parse_pcap_header(data).ok()?;
                let frame: FrameParser = if header.is_modified_format() {
                    parse_pcap_frame_modified
                } else if header.is_bigendian() {
                    parse_pcap_frame_be
                } else {
                    parse_pcap_frame
                };
                Parser::LegacyHeader(frame)
            }
            Format::Ng(_) => {
                parse_sectionheaderblock(data).ok()?;
                Parser::Ng { big_endian: false }
            }
        };
        Some(blocks)
    }

    /// The bytes read and not consumed yet.
    pub fn data(&self) -> &[u8] {
        within(&self.chunk, self.pos..self.end)
    }

    /// The buffer `data` lies in, to lend ranges of it.
    pub fn chunk(&self) -> &Chunk {
        &self.chunk
    }

    /// The read buffer's size.
    pub fn capacity(&self) -> usize {
        self.chunk.len()
    }

    /// The next block and its length, as pcap-parser's `PcapReaderIterator::next` gives it:
    /// `Eof` at the end, `Incomplete` when more must be read, `BufferTooSmall` when the
    /// block cannot fit, `UnexpectedEof` when the input ended inside it.
    pub fn next(&mut self) -> Result<(usize, PcapBlockOwned<'_>), PcapError<&[u8]>> {
        let data = within(&self.chunk, self.pos..self.end);
        if let Parser::LegacyHeader(frame) = self.parser {
            self.parser = Parser::Legacy(frame);
            if let Ok((rem, header)) = parse_pcap_header(data) {
                return Ok((data.offset(rem), PcapBlockOwned::from(header)));
            }
        }
        if data.is_empty() && self.exhausted {
            return Err(PcapError::Eof);
        }
        let parsed = match &mut self.parser {
            Parser::LegacyHeader(frame) | Parser::Legacy(frame) => {
                frame(data).map(|(rem, b)| (rem, PcapBlockOwned::from(b)))
            }
            Parser::Ng { big_endian } => {
                let parse = if *big_endian {
                    parse_block_be
                } else {
                    parse_block_le
                };
                parse(data).map(|(rem, b)| {
                    if let pcap_parser::Block::SectionHeader(shb) = &b {
                        *big_endian = shb.big_endian();
                    }
                    (rem, PcapBlockOwned::from(b))
                })
            }
        };
        match parsed {
            Ok((rem, block)) => Ok((data.offset(rem), block)),
            Err(nom::Err::Error(e)) | Err(nom::Err::Failure(e)) => Err(e),
            Err(nom::Err::Incomplete(_)) if self.exhausted => Err(PcapError::UnexpectedEof),
            Err(nom::Err::Incomplete(Needed::Size(n))) => {
                if data.len() + usize::from(n) >= self.chunk.len() {
                    Err(PcapError::BufferTooSmall)
                } else {
                    Err(PcapError::Incomplete(n.into()))
                }
            }
            Err(nom::Err::Incomplete(Needed::Unknown)) => Err(PcapError::Incomplete(0)),
        }
    }

    pub fn consume(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.end);
    }

    /// Moves the unread bytes to the start of the buffer and reads as much as fits.
    pub fn refill(&mut self) -> std::io::Result<()> {
        self.make_room(self.capacity());
        let Some(space) = Arc::get_mut(&mut self.chunk).and_then(|c| c.get_mut(self.end..)) else {
            return Ok(());
        };
        if space.is_empty() {
            return Ok(());
        }
        let n = self.reader.read(space)?;
        self.exhausted = n == 0;
        self.end += n;
        Ok(())
    }

    /// Makes the buffer `size` bytes; false if it is not larger than now.
    pub fn grow(&mut self, size: usize) -> bool {
        if size <= self.capacity() {
            return false;
        }
        self.make_room(size);
        true
    }

    /// Leaves the unread bytes at the start of a buffer of at least `size` bytes that no
    /// one else holds.
    fn make_room(&mut self, size: usize) {
        let (pos, end) = (self.pos, self.end);
        if let Some(own) = Arc::get_mut(&mut self.chunk) {
            own.copy_within(pos..end, 0);
            if own.len() < size {
                own.resize(size, 0);
            }
        } else {
            let free = self
                .spare
                .iter()
                .position(|c| Arc::strong_count(c) == 1 && c.len() >= size);
            let mut fresh = match free {
                Some(i) => self.spare.swap_remove(i),
                None => Arc::new(vec![0; size]),
            };
            if let (Some(to), Some(from)) = (
                Arc::get_mut(&mut fresh).and_then(|c| c.get_mut(..end - pos)),
                self.chunk.get(pos..end),
            ) {
                to.copy_from_slice(from);
            }
            let old = std::mem::replace(&mut self.chunk, fresh);
            if self.spare.len() < SPARE_CHUNKS {
                self.spare.push(old);
            }
        }
        self.pos = 0;
        self.end = end - pos;
    }
}
