//! Inflating while the LZ77 window is partly unknown (RFC 7692 §7.2.3: with context takeover a
//! message may copy from any of the last 2^window_bits bytes the sender compressed, including
//! messages lost with a TCP hole or never seen).
//!
//! Two inflaters read the same input: one whose unknown history is 32 KiB of 0x00, one whose
//! is 32 KiB of 0xFF; what is known of the history (the trusted tail) is the same in both. An
//! output byte that is a literal or a copy of a known byte comes out the same in both; a copy
//! of an unknown byte comes out 0x00 in one and 0xFF in the other, and so does every later copy
//! of it. So the two outputs agree exactly on the bytes that are true: a message whose outputs
//! agree throughout is exact, one where they differ anywhere read lost history and is not
//! listed. Once the last 2^window_bits output bytes all agree the window is wholly known again.

use flate2::{Decompress, FlushDecompress, Status};

use super::inflate::{WINDOW, corrupt};

const OUT_CHUNK: usize = 32 << 10;

/// The second inflater and what is known of the window.
pub(super) struct Recovery {
    shadow: Decompress,
    /// Shadow output, compared with the main inflater's.
    out: Vec<u8>,
    /// The last output (up to 2 × WINDOW bytes kept, WINDOW used), true in its last `run`.
    tail: Vec<u8>,
    /// Consecutive true output bytes at the end of the output so far.
    pub run: u64,
    /// The current message copied lost history somewhere.
    pub tainted: bool,
    /// The two inflaters went out of step (cannot happen with the same input unless one
    /// failed): nothing about the window can be trusted any more.
    pub broken: bool,
}

/// A dictionary of `fill` bytes ending with the known `tail` (at most WINDOW bytes in all).
fn dictionary(fill: u8, tail: &[u8]) -> Vec<u8> {
    let keep = tail.len().min(WINDOW as usize);
    let mut dict = vec![fill; WINDOW as usize - keep];
    dict.extend_from_slice(tail.get(tail.len() - keep..).unwrap_or_default());
    dict
}

impl Recovery {
    /// Starts recovering with `main` (reset here) and the known last bytes `known` of the
    /// history (possibly none).
    pub fn start(main: &mut Decompress, known: &[u8]) -> Result<Box<Recovery>, String> {
        main.reset(false);
        main.set_dictionary(&dictionary(0x00, known))
            .map_err(corrupt)?;
        let mut shadow = Decompress::new_with_window_bits(false, 15);
        shadow
            .set_dictionary(&dictionary(0xff, known))
            .map_err(corrupt)?;
        let keep = known.len().min(WINDOW as usize);
        Ok(Box::new(Recovery {
            shadow,
            out: vec![0; OUT_CHUNK],
            tail: known.get(known.len() - keep..).unwrap_or_default().to_vec(),
            run: keep as u64,
            tainted: false,
            broken: false,
        }))
    }

    /// Runs the shadow over the same `input` the main inflater just consumed `consumed` bytes
    /// of and produced `main_out` from (ending with `status`), with the same room, compares
    /// the outputs and remembers the main one. Out of step, it is `broken`.
    pub fn follow(
        &mut self,
        input: &[u8],
        consumed: usize,
        main_out: &[u8],
        status: Status,
    ) -> Result<(), String> {
        let out = self.out.get_mut(..main_out.len()).unwrap_or_default();
        let (in0, out0) = (self.shadow.total_in(), self.shadow.total_out());
        let shadow_status = self
            .shadow
            .decompress(input, out, FlushDecompress::None)
            .map_err(corrupt)?;
        let used = usize::try_from(self.shadow.total_in().wrapping_sub(in0)).unwrap_or(0);
        let produced = usize::try_from(self.shadow.total_out().wrapping_sub(out0)).unwrap_or(0);
        let ended = |st: Status| st == Status::StreamEnd;
        if used != consumed || produced != main_out.len() || ended(shadow_status) != ended(status) {
            self.broken = true;
            self.tainted = true;
            self.run = 0;
            return Ok(());
        }
        let theirs = self.out.get(..produced).unwrap_or_default();
        match main_out.iter().zip(theirs).rposition(|(a, b)| a != b) {
            Some(last) => {
                self.tainted = true;
                self.run = (produced - last - 1) as u64;
            }
            None => self.run = self.run.saturating_add(produced as u64),
        }
        self.tail.extend_from_slice(main_out);
        if self.tail.len() > 2 * WINDOW as usize {
            self.tail.drain(..self.tail.len() - WINDOW as usize);
        }
        Ok(())
    }

    /// Heap bytes: the shadow inflater (as the main one) and its buffers.
    pub fn memory(&self) -> usize {
        const ZLIB_STATE: usize = 48 << 10;
        ZLIB_STATE + self.out.capacity() + self.tail.capacity()
    }

    /// The true bytes at the end of the output (at most WINDOW).
    pub fn known(&self) -> &[u8] {
        let keep = usize::try_from(self.run)
            .unwrap_or(usize::MAX)
            .min(WINDOW as usize)
            .min(self.tail.len());
        self.tail.get(self.tail.len() - keep..).unwrap_or_default()
    }
}
