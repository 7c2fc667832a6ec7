//! Header blocks (RFC 9113 §4.3): HEADERS or PUSH_PROMISE and their CONTINUATIONs assembled
//! within the size limit, decoded by the side's HPACK decoder once END_HEADERS ends them, and
//! the stream states they change; blocks that are cut, interrupted or too large are dropped
//! with the HPACK state of their side marked unknown.

use super::H2Event;
use super::conn::{H2Conn, anomaly, who};
use super::frame::{
    self, CONTINUATION, END_HEADERS, END_STREAM, FrameHead, PUSH_PROMISE, kind_name,
};
use super::hpack::{HpackError, HpackWarning};
use super::side::Block;
use super::streams::Status;
use crate::event::AnomalyKind;

impl H2Conn {
    pub(super) fn block_header(
        &mut self,
        side: usize,
        head: FrameHead,
        out: &mut dyn FnMut(H2Event<'_>),
    ) {
        let limit = self.cfg.max_header_block_bytes;
        let sender = who(self.client, side);
        if head.kind == PUSH_PROMISE && side == self.client {
            // RFC 9113 §8.4: "A client cannot push." Its block is still decoded: the HPACK
            // state depends on it.
            let detail = format!(
                "PUSH_PROMISE from the client on stream {} (RFC 9113 §8.4)",
                head.stream
            );
            out(anomaly(
                Some(side),
                Some(head.stream),
                AnomalyKind::H2ProtocolError,
                detail,
            ));
        }
        let s = self.side(side);
        if head.kind == CONTINUATION {
            match &mut s.block {
                None => {
                    let detail = format!(
                        "CONTINUATION frame on stream {} without a header block to continue (RFC 9113 §6.10): its {} {} lost, and the HPACK state of the {} is unknown from here",
                        head.stream,
                        crate::plural::count(head.len, "byte", "bytes"),
                        if head.len == 1 { "is" } else { "are" },
                        sender
                    );
                    out(anomaly(
                        Some(side),
                        Some(head.stream),
                        AnomalyKind::H2ProtocolError,
                        detail,
                    ));
                    s.hpack.lose_state();
                    self.skip(side, u64::from(head.len));
                    return;
                }
                Some(b) if b.broken => {
                    if head.has(END_HEADERS) {
                        s.block = None;
                    }
                    self.skip(side, u64::from(head.len));
                    return;
                }
                Some(_) => {}
            }
        }
        let pending = s.block.as_ref().map_or(0, |b| b.buf.len());
        if pending + head.len as usize > limit {
            let detail = format!(
                "header block of stream {} over the limit of {limit} bytes: its fields are lost, and the HPACK state of the {} is unknown from here",
                head.stream, sender
            );
            out(anomaly(
                Some(side),
                Some(head.stream),
                AnomalyKind::H2Limit,
                detail,
            ));
            let s = self.side(side);
            s.hpack.lose_state();
            match &mut s.block {
                Some(b) => {
                    b.broken = true;
                    b.buf = Vec::new();
                }
                None => {
                    s.block = Some(Block {
                        stream: head.stream,
                        end_stream: head.has(END_STREAM),
                        promised: None,
                        buf: Vec::new(),
                        broken: true,
                    })
                }
            }
            if head.has(END_HEADERS) {
                self.side(side).block = None;
            }
            self.skip(side, u64::from(head.len));
            return;
        }
        self.buffer(side, head, out);
    }

    /// A header block was cut by a frame that is not its CONTINUATION.
    pub(super) fn interrupt_block(
        &mut self,
        side: usize,
        head: &FrameHead,
        out: &mut dyn FnMut(H2Event<'_>),
    ) {
        let Some(block) = self.side(side).block.take() else {
            return;
        };
        if !block.broken {
            let detail = format!(
                "header block of stream {} interrupted by {} before END_HEADERS (RFC 9113 §6.10): its fields are lost",
                block.stream,
                frame::describe(head.kind)
            );
            out(anomaly(
                Some(side),
                Some(block.stream),
                AnomalyKind::H2ProtocolError,
                detail,
            ));
            self.side(side).hpack.lose_state();
        }
    }

    /// A header block fragment was lost: the HPACK state of `side` is unknown from here.
    pub(super) fn lose_block_state(
        &mut self,
        side: usize,
        stream: u32,
        what: &str,
        out: &mut dyn FnMut(H2Event<'_>),
    ) {
        let detail = format!(
            "stream {stream}: {what}; the HPACK state of the {} is unknown from here (later fields may be unresolved)",
            who(self.client, side)
        );
        out(anomaly(
            Some(side),
            Some(stream),
            AnomalyKind::H2ProtocolError,
            detail,
        ));
        self.side(side).hpack.lose_state();
    }

    pub(super) fn bad_block_frame(
        &mut self,
        side: usize,
        head: &FrameHead,
        why: &str,
        out: &mut dyn FnMut(H2Event<'_>),
    ) {
        let detail = format!(
            "{} frame of stream {} {why}: its header block is lost",
            kind_name(head.kind),
            head.stream
        );
        out(anomaly(
            Some(side),
            Some(head.stream),
            AnomalyKind::H2ProtocolError,
            detail,
        ));
        self.side(side).hpack.lose_state();
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
    }

    /// A header block fragment: decode the block once END_HEADERS ends it.
    pub(super) fn fragment(
        &mut self,
        side: usize,
        head: FrameHead,
        promised: Option<u32>,
        fragment: &[u8],
        out: &mut dyn FnMut(H2Event<'_>),
    ) {
        let done = head.has(END_HEADERS);
        let s = self.side(side);
        match s.block.take() {
            Some(mut block) => {
                block.buf.extend_from_slice(fragment);
                if done {
                    self.decode_block(
                        side,
                        block.stream,
                        block.end_stream,
                        block.promised,
                        &block.buf,
                        out,
                    );
                } else {
                    self.side(side).block = Some(block);
                }
            }
            None if done => {
                // The common case: a whole block in one frame, decoded in place.
                self.decode_block(
                    side,
                    head.stream,
                    head.has(END_STREAM),
                    promised,
                    fragment,
                    out,
                );
            }
            None => {
                s.block = Some(Block {
                    stream: head.stream,
                    end_stream: head.has(END_STREAM),
                    promised,
                    buf: fragment.to_vec(),
                    broken: false,
                });
            }
        }
    }

    pub(super) fn decode_block(
        &mut self,
        side: usize,
        stream: u32,
        end_stream: bool,
        promised: Option<u32>,
        block: &[u8],
        out: &mut dyn FnMut(H2Event<'_>),
    ) {
        let client = self.client;
        let mut fields = std::mem::take(&mut self.fields);
        fields.clear();
        let s = self.side(side);
        let result = s.hpack.decode(block, &mut fields);
        for w in s.hpack.warnings() {
            let kind = match w {
                HpackWarning::TableOverCap { .. } => AnomalyKind::H2Limit,
                _ => AnomalyKind::H2ProtocolError,
            };
            let detail = format!(
                "header block of stream {stream} from the {}: {w}",
                who(client, side)
            );
            out(anomaly(Some(side), Some(stream), kind, detail));
        }
        // Stream states change whatever the block held (RFC 9113 §5.1).
        let status = match promised {
            Some(p) => {
                let status = self.streams.touch(p, true);
                // The client never sends on a pushed stream.
                self.streams.end(p, client);
                status
            }
            None => self.headers_status(side, stream, out),
        };
        match result {
            Ok(()) if status == super::streams::Status::Tracked => {
                out(H2Event::Headers {
                    side,
                    stream,
                    fields: &fields,
                    end_stream,
                    push_promise: promised,
                });
            }
            Ok(()) => {}
            Err(HpackError::ListTooLarge { limit }) => {
                let detail = format!(
                    "header block of stream {stream} decodes to over {limit} bytes: its fields are not reported"
                );
                out(anomaly(
                    Some(side),
                    Some(stream),
                    AnomalyKind::H2Limit,
                    detail,
                ));
            }
            Err(e) => {
                let detail = format!(
                    "header block of stream {stream} from the {}: {e}; its fields are lost and the HPACK state of the {} is unknown from here",
                    who(client, side),
                    who(client, side)
                );
                out(anomaly(
                    Some(side),
                    Some(stream),
                    AnomalyKind::H2ProtocolError,
                    detail,
                ));
            }
        }
        if end_stream && promised.is_none() {
            self.streams.end(stream, side);
        }
        self.fields = fields;
    }

    /// What HEADERS on `stream` meets (opening it if new).
    pub(super) fn headers_status(
        &mut self,
        side: usize,
        stream: u32,
        out: &mut dyn FnMut(H2Event<'_>),
    ) -> Status {
        let opens_new = !self.streams.is_tracked(stream);
        let lossy = self.sides.iter().any(|s| s.lossy);
        let status = self.streams.touch(stream, true);
        match status {
            // After a loss the client's HEADERS that opened it may have been lost.
            Status::Tracked
                if opens_new && !lossy && (side == self.client) != (stream % 2 == 1) =>
            {
                // RFC 9113 §5.1.1: clients open odd streams; servers open even ones only by
                // PUSH_PROMISE.
                let detail = format!(
                    "HEADERS from the {} open stream {stream}, which the {} cannot initiate",
                    who(self.client, side),
                    who(self.client, side)
                );
                out(anomaly(
                    Some(side),
                    Some(stream),
                    AnomalyKind::H2ProtocolError,
                    detail,
                ));
            }
            Status::Tracked if self.streams.ended_by(stream, side) => {
                let detail = format!(
                    "HEADERS on stream {stream} after the {} ended it (END_STREAM): not reported",
                    who(self.client, side)
                );
                out(anomaly(
                    Some(side),
                    Some(stream),
                    AnomalyKind::H2ProtocolError,
                    detail,
                ));
                return Status::Closed;
            }
            Status::Refused if self.streams.refused == 1 => {
                let detail = format!(
                    "stream {stream}: more than {} streams open at once; streams over the limit are not followed (their headers and DATA are not reported)",
                    self.cfg.max_streams
                );
                out(anomaly(
                    Some(side),
                    Some(stream),
                    AnomalyKind::H2Limit,
                    detail,
                ));
            }
            Status::Closed => {
                let detail = format!(
                    "HEADERS on stream {stream}, which is closed (RFC 9113 §5.1): not reported"
                );
                out(anomaly(
                    Some(side),
                    Some(stream),
                    AnomalyKind::H2ProtocolError,
                    detail,
                ));
            }
            _ => {}
        }
        status
    }
}
