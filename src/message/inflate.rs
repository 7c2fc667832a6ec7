//! RFC 7692 §7.2.2 decompression: one raw-DEFLATE context per direction, fed payload pieces as
//! they arrive, output kept up to a cap or thrown away (to keep the LZ77 window current).

use flate2::{Decompress, FlushDecompress, Status};

/// The LZ77 window a peer may use (RFC 7692 §7.1.2: max_window_bits ≤ 15); once this much
/// output follows a reset, the window is fully known again.
pub(super) const WINDOW: u64 = 1 << 15;
/// RFC 7692 §7.2.2: appended to a message's payload before inflating its end.
pub(super) const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
const OUT_CHUNK: usize = 32 << 10;

pub(super) struct Inflater {
    d: Decompress,
    /// Reused output buffer; what is kept is copied on into the message.
    out: Vec<u8>,
    /// Output produced since the last reset.
    pub since_reset: u64,
    /// The current message's data held a final block (BFINAL): later input means nothing.
    pub ended: bool,
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
    pub fn new() -> Self {
        Inflater {
            // A 15-bit window decodes data compressed with any window of 8..=15 bits.
            d: Decompress::new_with_window_bits(false, 15),
            out: vec![0; OUT_CHUNK],
            since_reset: 0,
            ended: false,
        }
    }

    pub fn reset(&mut self) {
        self.d.reset(false);
        self.since_reset = 0;
        self.ended = false;
    }

    /// After a final block, RFC 7692 §7.2.3.3 lets the next message start a new DEFLATE stream
    /// that may still refer to earlier output: restart with what we have of the window.
    pub fn restart_after_final(&mut self, window_tail: &[u8]) {
        self.reset();
        let start = window_tail.len().saturating_sub(WINDOW as usize);
        let tail = window_tail.get(start..).unwrap_or_default();
        if !tail.is_empty() && self.d.set_dictionary(tail).is_ok() {
            self.since_reset = tail.len() as u64;
        }
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
        let mut result = Pushed::Fine;
        while !self.ended {
            let (in0, out0) = (self.d.total_in(), self.d.total_out());
            let (status, room) = match keep.as_deref_mut() {
                Some(buf) => {
                    let limit = cap.saturating_add(1);
                    let want = buf
                        .len()
                        .max(OUT_CHUNK)
                        .min(limit.saturating_sub(buf.len()));
                    if buf.capacity() - buf.len() < want {
                        buf.reserve_exact(want);
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
            self.since_reset = self.since_reset.saturating_add(produced as u64);
            if keep.as_deref().is_some_and(|buf| buf.len() > cap) {
                if let Some(buf) = keep.as_deref_mut() {
                    *buf = Vec::new();
                }
                *keep = None;
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
}

fn corrupt(e: flate2::DecompressError) -> String {
    e.message().unwrap_or("corrupt DEFLATE data").to_owned()
}
