//! RFC 7692 §7.2.2 decompression: one raw-DEFLATE context per direction, fed payload pieces as
//! they arrive, output kept up to a cap or thrown away (to keep the LZ77 window current).
//! While the window is partly unknown (after a loss, picked up mid-stream) a second inflater
//! tells true output from output that copied lost history (`recovery`).

use flate2::{Decompress, FlushDecompress, Status};

use super::recovery::Recovery;

/// The LZ77 window a peer may use (RFC 7692 §7.1.2: max_window_bits ≤ 15).
pub(super) const WINDOW: u64 = 1 << 15;
/// RFC 7692 §7.2.2: appended to a message's payload before inflating its end.
pub(super) const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
const OUT_CHUNK: usize = 32 << 10;

pub(super) struct Inflater {
    d: Decompress,
    /// Reused output buffer; what is kept is copied on into the message.
    out: Vec<u8>,
    /// The current message's data held a final block (BFINAL): later input means nothing.
    pub ended: bool,
    /// True output needed after a loss before the window is wholly known again: the sender's
    /// window, 2^max_window_bits (RFC 7692 §7.1.2; at least 2^9, as zlib compresses with a
    /// 9-bit window when asked for 8).
    need: u64,
    /// `Some` while the window is partly unknown.
    recovery: Option<Box<Recovery>>,
}

/// How a push ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Pushed {
    Fine,
    /// The kept output would have passed the cap: it was freed; the push went on discarding
    /// unless told to stop.
    OverLimit,
}

impl Inflater {
    /// `window_bits`: the sender's max_window_bits (8..=15).
    pub fn new(window_bits: u8) -> Self {
        Inflater {
            // A 15-bit window decodes data compressed with any window of 8..=15 bits.
            d: Decompress::new_with_window_bits(false, 15),
            out: vec![0; OUT_CHUNK],
            ended: false,
            need: 1 << window_bits.clamp(9, 15),
            recovery: None,
        }
    }

    /// Heap bytes: zlib's state with its 32 KiB window (an estimate: flate2 does not say),
    /// the output buffer and, while recovering, the second inflater.
    pub fn memory(&self) -> usize {
        const ZLIB_STATE: usize = 48 << 10;
        ZLIB_STATE + self.out.capacity() + self.recovery.as_ref().map_or(0, |r| r.memory())
    }

    /// A fresh stream with an empty window (no context takeover, or a new start).
    pub fn reset(&mut self) {
        self.d.reset(false);
        self.ended = false;
        self.recovery = None;
    }

    /// Output that later messages may copy from was lost: nothing of the window is known.
    pub fn lose_window(&mut self) {
        self.ended = false;
        self.recover_with(&[]);
    }

    /// The window is unknown apart from its last bytes `known`.
    fn recover_with(&mut self, known: &[u8]) {
        let known = known.to_vec();
        match Recovery::start(&mut self.d, &known) {
            Ok(r) => self.recovery = Some(r),
            Err(_) => {
                // Setting a dictionary on a freshly reset raw inflater does not fail; if it
                // did, a fresh inflater with an empty window still never copies unknown bytes
                // silently (it fails on any copy from before its output).
                debug_assert!(false, "set_dictionary after reset failed");
                self.d.reset(false);
                self.recovery = None;
            }
        }
    }

    /// The window is partly unknown.
    pub fn recovering(&self) -> bool {
        self.recovery.is_some()
    }

    /// After a final block, RFC 7692 §7.2.3.3 lets the next message start a new DEFLATE stream
    /// that may still refer to earlier output: restart with what is known of the window
    /// (`message`: the output of the message that ended, if it was kept; earlier messages'
    /// output is not kept, so unless it fills the window the rest counts as unknown).
    pub fn restart_after_final(&mut self, message: &[u8]) {
        self.ended = false;
        let known = match &self.recovery {
            Some(r) => r.known().to_vec(),
            None => message.to_vec(),
        };
        if known.len() as u64 >= WINDOW {
            self.d.reset(false);
            self.recovery = None;
            let start = known.len() - WINDOW as usize;
            if self
                .d
                .set_dictionary(known.get(start..).unwrap_or_default())
                .is_err()
            {
                self.lose_window();
            }
        } else {
            self.recover_with(&known);
        }
    }

    /// A message's end. Returns whether its output copied lost history (it is not true). When
    /// the true output since the loss covers the sender's window, recovery ends: a fresh
    /// inflater continues with that output as its dictionary, so a copy from further back
    /// fails rather than reading a guess.
    pub fn end_message(&mut self) -> bool {
        let Some(rec) = self.recovery.as_mut() else {
            return false;
        };
        let tainted = std::mem::take(&mut rec.tainted);
        if rec.broken {
            self.lose_window();
            return true;
        }
        if rec.run >= self.need && !self.ended {
            let known = rec.known().to_vec();
            self.recovery = None;
            self.d.reset(false);
            if self.d.set_dictionary(&known).is_err() {
                self.lose_window();
            }
        }
        tainted
    }

    /// Inflate all of `input`. Output is appended to `keep` while it stays within `cap` bytes;
    /// past that `keep` is emptied and set to `None`, and inflating stops there when
    /// `stop_when_over`, else the rest is inflated and discarded.
    ///
    /// Kept output is inflated straight into `keep` (no copy through a bounce buffer, and zlib
    /// only refreshes its window once per call); `keep` grows geometrically but never past
    /// one byte over `cap`, which is how going over is noticed.
    pub fn push(
        &mut self,
        mut input: &[u8],
        keep: &mut Option<&mut Vec<u8>>,
        cap: usize,
        stop_when_over: bool,
    ) -> Result<Pushed, String> {
        if self.recovery.is_some() {
            return self.push_recovering(input, keep, cap, stop_when_over);
        }
        let mut result = Pushed::Fine;
        while !self.ended {
            let (in0, out0) = (self.d.total_in(), self.d.total_out());
            let (status, room) = match keep.as_deref_mut() {
                Some(buf) => {
                    let limit = cap.saturating_add(1);
                    let left = limit.saturating_sub(buf.len());
                    // Grow only when little room is left, then by doubling: amortised
                    // linear, never past the cap.
                    if buf.capacity() - buf.len() < OUT_CHUNK.min(left) {
                        buf.reserve_exact(buf.len().max(OUT_CHUNK).min(left));
                    }
                    let room = buf.capacity() - buf.len();
                    let status = self
                        .d
                        .decompress_vec(input, buf, FlushDecompress::None)
                        .map_err(corrupt)?;
                    (status, room)
                }
                None => {
                    let status = self
                        .d
                        .decompress(input, &mut self.out, FlushDecompress::None)
                        .map_err(corrupt)?;
                    (status, self.out.len())
                }
            };
            let consumed = usize::try_from(self.d.total_in().wrapping_sub(in0)).unwrap_or(0);
            let produced = usize::try_from(self.d.total_out().wrapping_sub(out0)).unwrap_or(0);
            input = input.get(consumed..).unwrap_or_default();
            if keep.as_deref().is_some_and(|buf| buf.len() > cap) {
                drop_kept(keep);
                result = Pushed::OverLimit;
                if stop_when_over {
                    return Ok(result);
                }
            }
            if status == Status::StreamEnd {
                self.ended = true;
            }
            let more_output_pending = produced == room;
            if (input.is_empty() && !more_output_pending) || (consumed == 0 && produced == 0) {
                break;
            }
        }
        Ok(result)
    }

    /// [`Inflater::push`] while recovering: both inflaters step through the input with the
    /// same room, the main one's output is compared with the shadow's, then kept.
    fn push_recovering(
        &mut self,
        mut input: &[u8],
        keep: &mut Option<&mut Vec<u8>>,
        cap: usize,
        stop_when_over: bool,
    ) -> Result<Pushed, String> {
        let mut result = Pushed::Fine;
        while !self.ended {
            let Some(rec) = self.recovery.as_mut() else {
                break;
            };
            let (in0, out0) = (self.d.total_in(), self.d.total_out());
            let status = self
                .d
                .decompress(input, &mut self.out, FlushDecompress::None)
                .map_err(corrupt)?;
            let consumed = usize::try_from(self.d.total_in().wrapping_sub(in0)).unwrap_or(0);
            let produced = usize::try_from(self.d.total_out().wrapping_sub(out0)).unwrap_or(0);
            let fresh = self.out.get(..produced).unwrap_or_default();
            rec.follow(input, consumed, fresh, status)?;
            if let Some(buf) = keep.as_deref_mut() {
                if buf.len().saturating_add(produced) > cap {
                    drop_kept(keep);
                    result = Pushed::OverLimit;
                    if stop_when_over {
                        return Ok(result);
                    }
                } else {
                    buf.extend_from_slice(fresh);
                }
            }
            input = input.get(consumed..).unwrap_or_default();
            if status == Status::StreamEnd {
                self.ended = true;
            }
            let more_output_pending = produced == self.out.len();
            if (input.is_empty() && !more_output_pending) || (consumed == 0 && produced == 0) {
                break;
            }
        }
        Ok(result)
    }
}

/// The kept output passed the cap: free it and keep nothing more.
fn drop_kept(keep: &mut Option<&mut Vec<u8>>) {
    if let Some(buf) = keep.as_deref_mut() {
        *buf = Vec::new();
    }
    *keep = None;
}

pub(super) fn corrupt(e: flate2::DecompressError) -> String {
    e.message().unwrap_or("corrupt DEFLATE data").to_owned()
}
