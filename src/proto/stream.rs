//! One direction's messages as one byte stream (MQTT, STOMP, SignalR): a unit may span
//! messages and a message may hold several units.

/// Bytes of a unit still incomplete at the end of the last message, and which message it
/// began in (to tell how many messages each unit spans).
#[derive(Default)]
pub(crate) struct Held {
    buf: Vec<u8>,
    /// Number of the message the held bytes began in.
    head_msg: u64,
    /// Number of the last message fed.
    msg: u64,
}

impl Held {
    /// Runs `parse` over the held bytes followed by `payload` (without copying when nothing
    /// is held). `parse` gets the bytes and how many messages a unit starting at offset 0
    /// spans (a unit starting later lies in this message alone), and returns how many bytes
    /// it consumed; the rest is held for the next message.
    pub fn feed(&mut self, payload: &[u8], parse: impl FnOnce(&[u8], u32) -> usize) {
        self.msg += 1;
        if self.buf.is_empty() {
            self.head_msg = self.msg;
            let used = parse(payload, 1).min(payload.len());
            if let Some(rest) = payload.get(used..) {
                self.buf.extend_from_slice(rest);
            }
            return;
        }
        self.buf.extend_from_slice(payload);
        let spans = u32::try_from(self.msg - self.head_msg + 1).unwrap_or(u32::MAX);
        let used = parse(&self.buf, spans).min(self.buf.len());
        if used > 0 {
            self.buf.drain(..used);
            self.head_msg = self.msg;
        }
        if self.buf.capacity() > 4 * self.buf.len().max(1 << 16) {
            self.buf.shrink_to_fit();
        }
    }

    /// Bytes held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Forgets the held bytes (after a loss, or a unit given up).
    pub fn clear(&mut self) {
        self.buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_count_the_messages_a_unit_began_in() {
        let mut h = Held::default();
        // Units are 4 bytes; the first arrives in pieces of 1, 2 and 3 bytes.
        let mut seen = Vec::new();
        for piece in [&b"a"[..], b"bc", b"d12", b"34xy"] {
            h.feed(piece, |data, spans| {
                let mut at = 0;
                while let Some(u) = data.get(at..at + 4) {
                    seen.push((u.to_vec(), if at == 0 { spans } else { 1 }));
                    at += 4;
                }
                at
            });
        }
        assert_eq!(seen, [(b"abcd".to_vec(), 3), (b"1234".to_vec(), 2)]);
        assert_eq!(h.len(), 2);
    }
}
