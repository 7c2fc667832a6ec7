//! One direction of the connection: where its byte stream stands (between frames, inside a
//! DATA payload, buffering a frame, skipping one, searching for a boundary), the header block
//! it is assembling, and its HPACK decoder.

use super::H2Config;
use super::frame::{DEFAULT_MAX_FRAME_SIZE, FrameHead, HEADER_LEN};
use super::hpack::Decoder;

/// Where the byte stream of a side stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum St {
    /// The client's connection preface, `matched` bytes of it seen.
    Preface { matched: usize },
    /// Between frames: the next bytes are a frame header (`Side::hdr` holds its start).
    Header,
    /// A padded DATA frame whose Pad Length byte comes next.
    DataPad { head: FrameHead, deliver: bool },
    /// Inside a DATA payload: `data_left` bytes for the stream, then `pad_left` of padding.
    Data {
        stream: u32,
        data_left: u32,
        pad_left: u32,
        end_stream: bool,
        deliver: bool,
    },
    /// Collecting the payload of `head` into `Side::buf`.
    Buffer { head: FrameHead },
    /// Discarding the rest of a frame.
    Skip { left: u64 },
    /// Searching for a frame boundary (bytes collect in `Side::resync`).
    Resync,
}

/// A header block spread over HEADERS/PUSH_PROMISE and CONTINUATION frames (RFC 9113 §4.3).
pub struct Block {
    pub stream: u32,
    pub end_stream: bool,
    pub promised: Option<u32>,
    pub buf: Vec<u8>,
    /// Its bytes are lost (over the size limit, cut by a loss): its CONTINUATIONs are skipped
    /// until END_HEADERS, and it is never decoded.
    pub broken: bool,
}

pub struct Side {
    pub st: St,
    pub hdr: [u8; HEADER_LEN],
    pub hdr_len: usize,
    /// Payload of the frame being buffered.
    pub buf: Vec<u8>,
    pub block: Option<Block>,
    pub hpack: Decoder,
    /// Bytes kept while searching for a frame boundary.
    pub resync: Vec<u8>,
    /// Bytes dropped so far by the current search.
    pub skipped: u64,
    /// Frames are bounded by the largest SETTINGS_MAX_FRAME_SIZE the *other* side advertised.
    pub max_frame: u32,
    /// Frame headers read so far.
    pub frames: u64,
    /// Bytes of this side were lost (or skipped) at some point.
    pub lossy: bool,
}

impl Side {
    pub fn new(cfg: &H2Config, client: bool) -> Side {
        let mut hpack = Decoder::new(cfg.max_hpack_table_bytes);
        hpack.set_max_list_bytes(cfg.max_header_list_bytes);
        Side {
            st: if client {
                St::Preface { matched: 0 }
            } else {
                St::Header
            },
            hdr: [0; HEADER_LEN],
            hdr_len: 0,
            buf: Vec::new(),
            block: None,
            hpack,
            resync: Vec::new(),
            skipped: 0,
            max_frame: DEFAULT_MAX_FRAME_SIZE,
            frames: 0,
            lossy: false,
        }
    }

    /// Approximate heap bytes held.
    pub fn memory(&self) -> usize {
        self.buf.capacity()
            + self.resync.capacity()
            + self.block.as_ref().map_or(0, |b| b.buf.capacity())
            + self.hpack.memory()
    }

    /// Give back a large buffer once its frame is done, so that one big frame does not keep
    /// its memory for the connection's life.
    pub fn trim_buf(&mut self) {
        const KEEP: usize = 16 * 1024;
        self.buf.clear();
        if self.buf.capacity() > KEEP {
            self.buf.shrink_to(KEEP);
        }
    }
}

/// Side 0 or 1 of a pair, without indexing.
pub fn pick<T>(pair: &mut [T; 2], side: usize) -> &mut T {
    let [a, b] = pair;
    if side == 0 { a } else { b }
}
