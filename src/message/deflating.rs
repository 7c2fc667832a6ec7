//! Compressed payload through the direction's inflater (RFC 7692 §7.2.2), and what an
//! inflate failure means for the message and for later ones.

use super::WsDecoder;
use super::inflate::Pushed;
use super::state::{Fate, Sink};
use super::stream::anomaly;
use crate::event::{AnomalyKind, DirEvent};

impl WsDecoder {
    /// Inflate one piece of compressed payload into the message (or into the discard buffer).
    pub(super) fn inflate_piece(&mut self, input: &[u8], out: &mut Vec<DirEvent>) {
        let cap = usize::try_from(self.cfg.max_inflated_bytes).unwrap_or(usize::MAX);
        let stop_when_over = !self.deflate.takeover;
        let Some(m) = self.msg.as_mut() else {
            self.frame.sink = Sink::Skip;
            return;
        };
        let mut keep = if self.frame.sink == Sink::Inflate {
            Some(&mut m.payload)
        } else {
            None
        };
        let inf = self.deflate.inflater();
        match inf.push(input, &mut keep, cap, stop_when_over) {
            Ok(Pushed::Fine) => {}
            Ok(Pushed::OverLimit) => {
                anomaly(
                    out,
                    AnomalyKind::DecompressionLimit,
                    format!(
                        "{} message from stream offset {} inflates to more than {cap} bytes: \
                         not listed{}",
                        m.opcode.as_str(),
                        m.start,
                        if stop_when_over {
                            ", inflating stopped"
                        } else {
                            ""
                        }
                    ),
                );
                m.fate = if stop_when_over {
                    Fate::Skip
                } else {
                    Fate::Discard
                };
                self.frame.sink = if stop_when_over {
                    Sink::Skip
                } else {
                    Sink::Discard
                };
            }
            Err(e) => self.inflate_failed(&e, out),
        }
    }

    /// The inflater rejected the data: the message is dropped and, with context takeover,
    /// the window is unknown from now on.
    fn inflate_failed(&mut self, err: &str, out: &mut Vec<DirEvent>) {
        let Some(m) = self.msg.as_mut() else {
            return;
        };
        let listed = m.fate == Fate::Keep;
        m.fate = Fate::Skip;
        m.payload = Vec::new();
        let what = format!(
            "{} message from stream offset {}",
            m.opcode.as_str(),
            m.start
        );
        self.frame.sink = Sink::Skip;
        let dz = &mut self.deflate;
        if listed {
            if dz.recovering() || dz.guessed {
                anomaly(
                    out,
                    AnomalyKind::DeflateContextLost,
                    format!(
                        "{what} could not be inflated ({err}) while the compression context of \
                         this direction is not known: not listed"
                    ),
                );
            } else {
                anomaly(
                    out,
                    AnomalyKind::DeflateError,
                    format!("{what} is not valid DEFLATE data ({err}): not listed"),
                );
            }
        }
        // The stream is broken mid-block: a fresh one for the next message, whose history
        // (with context takeover) includes what this message would have produced.
        if dz.takeover {
            dz.lose_context();
        } else if let Some(inf) = dz.inf.as_mut() {
            inf.reset();
        }
    }
}
