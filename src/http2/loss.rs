//! Lost bytes and the search for frame boundaries: a gap inside a frame of known length keeps
//! the decoder in step; any other loss (or bytes that cannot be frames) makes it search for
//! the next plausible frame header, with the HPACK state of that side unknown from there.

use super::conn::{H2Conn, anomaly, who};
use super::frame::{END_HEADERS, END_STREAM, FrameHead, HEADER_LEN, kind_name};
use super::resync::{Ctx, Search, search};
use super::side::{Block, St, pick};
use super::{H2Event, PREFACE};
use crate::event::AnomalyKind;

impl H2Conn {
    /// Run the byte loop over `input`, searching for frame boundaries whenever the side is
    /// out of step. Iterative: a boundary found hands the bytes after it back to the loop, so
    /// no input can nest calls.
    pub(super) fn run(
        &mut self,
        side: usize,
        input: &[u8],
        at_end: bool,
        out: &mut dyn FnMut(H2Event<'_>),
    ) {
        let mut owned: Vec<u8>;
        let mut data = input;
        loop {
            while !data.is_empty() && self.side(side).st != St::Resync {
                data = self.step(side, data, out);
            }
            if self.side(side).st != St::Resync {
                return;
            }
            self.side(side).resync.extend_from_slice(data);
            if self.side(side).resync.is_empty() {
                return;
            }
            match self.resync_search(side, at_end, out) {
                Some((buf, p)) => {
                    owned = buf;
                    data = owned.get(p..).unwrap_or_default();
                }
                None => return,
            }
        }
    }

    /// Search the bytes kept for a boundary; when one is found, hand back the bytes kept and
    /// where the boundary is.
    fn resync_search(
        &mut self,
        side: usize,
        at_end: bool,
        out: &mut dyn FnMut(H2Event<'_>),
    ) -> Option<(Vec<u8>, usize)> {
        let window = self
            .cfg
            .max_frame_bytes
            .max(super::frame::DEFAULT_MAX_FRAME_SIZE as usize)
            + 2 * HEADER_LEN;
        let client = self.client;
        let streams = &self.streams;
        let s = pick(&mut self.sides, side);
        let tracked = |id: u32| streams.is_tracked(id);
        let ctx = Ctx {
            max_len: s.max_frame,
            client: side == client,
            highest: streams.highest(),
            tracked: &tracked,
        };
        match search(&s.resync, &ctx, window, at_end) {
            Search::Found(p) => {
                let skipped = s.skipped + p as u64;
                s.skipped = 0;
                s.st = St::Header;
                s.hdr_len = 0;
                let buf = std::mem::take(&mut s.resync);
                if skipped > 0 {
                    s.lossy = true;
                    s.hpack.lose_state();
                    let detail = format!(
                        "{skipped} bytes of the {} skipped to find the next frame header",
                        who(client, side)
                    );
                    out(anomaly(Some(side), None, AnomalyKind::H2Resync, detail));
                    out(H2Event::Lost { side, len: skipped });
                }
                Some((buf, p))
            }
            Search::NeedMore(k) => {
                let k = k.min(s.resync.len());
                s.skipped += k as u64;
                s.resync.drain(..k);
                None
            }
        }
    }

    /// `len` bytes of `side` were lost.
    pub(super) fn lose_bytes(&mut self, side: usize, len: u64, out: &mut dyn FnMut(H2Event<'_>)) {
        let s = self.side(side);
        s.lossy = true;
        match s.st {
            St::Preface { matched } => {
                // Lost bytes inside the preface are the preface's.
                let left = (PREFACE.len() - matched.min(PREFACE.len())) as u64;
                if len < left {
                    s.st = St::Preface {
                        matched: matched + len as usize,
                    };
                } else {
                    s.st = St::Header;
                    self.after_frame(side, len - left, out);
                }
            }
            St::Header => self.lost_sync(side, len, out),
            St::DataPad { head, deliver } => {
                // The Pad Length byte is lost: which of the frame's bytes were data is unknown.
                let frame_left = u64::from(head.len);
                let most = u64::from(head.len.saturating_sub(1));
                if deliver && most > 0 {
                    out(H2Event::DataLost {
                        side,
                        stream: head.stream,
                        len: most,
                    });
                }
                if deliver && head.has(END_STREAM) {
                    self.emit_data_end(side, head.stream, out);
                }
                self.skip_in_frame(side, frame_left, len, out);
            }
            St::Data {
                stream,
                data_left,
                pad_left,
                end_stream,
                deliver,
            } => {
                let lost = len.min(u64::from(data_left));
                if deliver && lost > 0 {
                    out(H2Event::DataLost {
                        side,
                        stream,
                        len: lost,
                    });
                }
                let data_left = data_left - lost as u32;
                if data_left > 0 {
                    self.side(side).st = St::Data {
                        stream,
                        data_left,
                        pad_left,
                        end_stream,
                        deliver,
                    };
                    return;
                }
                if end_stream && deliver {
                    self.emit_data_end(side, stream, out);
                }
                self.skip_in_frame(side, u64::from(pad_left), len - lost, out);
            }
            St::Buffer { head } => {
                let frame_left = u64::from(head.len).saturating_sub(s.buf.len() as u64);
                s.buf.clear();
                self.cut_frame(side, &head, out);
                self.skip_in_frame(side, frame_left, len, out);
            }
            St::Skip { left } => self.skip_in_frame(side, left, len, out),
            St::Resync => {
                // Bytes kept across the loss can no longer confirm a boundary.
                s.skipped += s.resync.len() as u64;
                s.resync.clear();
                self.lost_sync(side, len, out);
            }
        }
    }

    /// `len` bytes lost where `left` bytes of the current frame remained to be skipped.
    fn skip_in_frame(
        &mut self,
        side: usize,
        left: u64,
        len: u64,
        out: &mut dyn FnMut(H2Event<'_>),
    ) {
        if len < left {
            self.side(side).st = St::Skip { left: left - len };
        } else {
            self.side(side).st = St::Header;
            self.after_frame(side, len - left, out);
        }
    }

    /// The loss ran past the end of a frame by `beyond` bytes.
    fn after_frame(&mut self, side: usize, beyond: u64, out: &mut dyn FnMut(H2Event<'_>)) {
        if beyond > 0 {
            self.lost_sync(side, beyond, out);
        }
    }

    /// A buffered frame lost some of its bytes.
    fn cut_frame(&mut self, side: usize, head: &FrameHead, out: &mut dyn FnMut(H2Event<'_>)) {
        if head.is_header_block() {
            if self.side(side).block.is_some() {
                self.drop_block(side, "was cut by lost bytes", out);
            } else {
                self.lose_block_state(
                    side,
                    head.stream,
                    "its header block was cut by lost bytes: its fields are lost",
                    out,
                );
            }
            if !head.has(END_HEADERS) {
                // Its CONTINUATIONs follow: skip them quietly.
                self.side(side).block = Some(Block {
                    stream: head.stream,
                    end_stream: false,
                    promised: None,
                    buf: Vec::new(),
                    broken: true,
                });
            }
        } else {
            let detail = format!(
                "{} frame of the {} cut by lost bytes: ignored",
                kind_name(head.kind),
                who(self.client, side)
            );
            out(anomaly(
                Some(side),
                Some(head.stream),
                AnomalyKind::H2ProtocolError,
                detail,
            ));
        }
    }

    /// Frame boundaries are lost: report it and search for the next one.
    fn lost_sync(&mut self, side: usize, len: u64, out: &mut dyn FnMut(H2Event<'_>)) {
        out(H2Event::Lost { side, len });
        self.drop_block(side, "was cut by lost bytes", out);
        let s = self.side(side);
        s.hpack.lose_state();
        s.hdr_len = 0;
        s.st = St::Resync;
    }

    /// Drop a pending header block (its remaining fragments will not be recognised).
    pub(super) fn drop_block(&mut self, side: usize, why: &str, out: &mut dyn FnMut(H2Event<'_>)) {
        let client = self.client;
        let s = self.side(side);
        if let Some(block) = s.block.take() {
            s.hpack.lose_state();
            if !block.broken {
                let detail = format!(
                    "header block of stream {} from the {} {why}: its fields are lost",
                    block.stream,
                    who(client, side)
                );
                out(anomaly(
                    Some(side),
                    Some(block.stream),
                    AnomalyKind::H2ProtocolError,
                    detail,
                ));
            }
        }
    }

    /// End of input on `side`: finish a pending search, report what was left unfinished.
    pub(super) fn finish_side(&mut self, side: usize, out: &mut dyn FnMut(H2Event<'_>)) {
        if self.side(side).st == St::Resync {
            self.run(side, &[], true, out);
        }
        let client = self.client;
        let who = who(client, side);
        let s = self.side(side);
        let unfinished = match s.st {
            St::Preface { matched } if matched > 0 => Some(format!(
                "the {who}'s input ended inside the connection preface ({matched} of 24 bytes)"
            )),
            St::Header if s.hdr_len > 0 => Some(format!(
                "the {who}'s input ended inside a frame header ({} of 9 bytes)",
                s.hdr_len
            )),
            St::DataPad { head, .. } => Some(format!(
                "the {who}'s input ended inside a DATA frame of stream {}: its {} bytes are missing",
                head.stream, head.len
            )),
            St::Data {
                stream, data_left, ..
            } => Some(format!(
                "the {who}'s input ended inside a DATA frame of stream {stream}: {data_left} bytes of its data are missing"
            )),
            St::Buffer { head } => Some(format!(
                "the {who}'s input ended inside a {} frame (stream {}, {} of {} bytes)",
                kind_name(head.kind),
                head.stream,
                s.buf.len(),
                head.len
            )),
            _ => None,
        };
        let stream = match s.st {
            St::DataPad { head, .. } | St::Buffer { head } => Some(head.stream),
            St::Data { stream, .. } => Some(stream),
            _ => None,
        };
        if let Some(detail) = unfinished {
            out(anomaly(
                Some(side),
                stream,
                AnomalyKind::H2Truncated,
                detail,
            ));
        }
        let s = self.side(side);
        if s.st == St::Resync && s.skipped > 0 {
            let detail = format!(
                "the last {} bytes of the {who} could not be framed",
                s.skipped + s.resync.len() as u64
            );
            out(anomaly(Some(side), None, AnomalyKind::H2Resync, detail));
        }
        if let Some(block) = self.side(side).block.take()
            && !block.broken
        {
            let detail = format!(
                "the {who}'s input ended inside the header block of stream {} (CONTINUATION expected)",
                block.stream
            );
            out(anomaly(
                Some(side),
                Some(block.stream),
                AnomalyKind::H2Truncated,
                detail,
            ));
        }
    }
}
