//! Handshake messages reassembled across records (RFC 8446 §5.1: a message may span records,
//! and a record may carry several): a 1-byte type, a 3-byte length, the body.

pub const CLIENT_HELLO: u8 = 1;
pub const SERVER_HELLO: u8 = 2;
pub const END_OF_EARLY_DATA: u8 = 5;
pub const ENCRYPTED_EXTENSIONS: u8 = 8;
pub const FINISHED: u8 = 20;
pub const KEY_UPDATE: u8 = 24;

/// Messages whose contents are read; the rest are skipped without being held.
fn wanted(typ: u8) -> bool {
    matches!(
        typ,
        CLIENT_HELLO | SERVER_HELLO | ENCRYPTED_EXTENSIONS | KEY_UPDATE | END_OF_EARLY_DATA
    )
}

/// One direction's handshake message assembler.
#[derive(Debug, Default)]
pub struct Assembler {
    buf: Vec<u8>,
    /// Body bytes of an unwanted message still to pass over.
    skip: usize,
    /// Type of the message being skipped (reported when it ends).
    skip_type: u8,
}

/// A message that cannot be held.
#[derive(Debug, PartialEq, Eq)]
pub struct TooLarge {
    pub typ: u8,
    pub len: usize,
}

impl Assembler {
    /// Takes handshake-content bytes; calls `each(type, body)` for every complete message (an
    /// unwanted message's body is given empty). A wanted message over `max` bytes is skipped
    /// and returned.
    pub fn push(
        &mut self,
        mut data: &[u8],
        max: usize,
        each: &mut dyn FnMut(u8, &[u8]),
    ) -> Option<TooLarge> {
        let mut too_large = None;
        loop {
            if self.skip > 0 {
                let n = self.skip.min(data.len());
                self.skip -= n;
                data = data.get(n..).unwrap_or_default();
                if self.skip > 0 {
                    return too_large;
                }
                each(self.skip_type, &[]);
            }
            if self.buf.is_empty() && data.is_empty() {
                return too_large;
            }
            // Take at most the header, then at most the rest of the message.
            let want = match self.header() {
                None => 4 - self.buf.len(),
                Some((_, len)) => 4 + len - self.buf.len(),
            };
            let n = want.min(data.len());
            self.buf
                .extend_from_slice(data.get(..n).unwrap_or_default());
            data = data.get(n..).unwrap_or_default();
            let Some((typ, len)) = self.header() else {
                return too_large;
            };
            if !wanted(typ) && self.buf.len() == 4 {
                self.buf.clear();
                self.skip = len;
                self.skip_type = typ;
                if len == 0 {
                    each(typ, &[]);
                }
                continue;
            }
            if len > max {
                self.buf.clear();
                self.skip = len;
                self.skip_type = u8::MAX;
                too_large = Some(TooLarge { typ, len });
                continue;
            }
            if self.buf.len() < 4 + len {
                if data.is_empty() {
                    return too_large;
                }
                continue;
            }
            each(typ, self.buf.get(4..).unwrap_or_default());
            self.buf.clear();
        }
    }

    fn header(&self) -> Option<(u8, usize)> {
        let [typ, a, b, c] = *self.buf.get(..4)? else {
            return None;
        };
        Some((
            typ,
            usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c),
        ))
    }

    pub fn memory(&self) -> usize {
        self.buf.capacity()
    }

    /// Forgets a partial message (its records were lost).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.skip = 0;
    }
}
