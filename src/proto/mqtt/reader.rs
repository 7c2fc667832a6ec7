//! Reading MQTT's data representations (MQTT 5.0 §1.5, 3.1.1 §1.5) from a packet's bytes.

/// A cursor over one packet's variable header and payload. Every read says what was missing.
pub(super) struct Reader<'a> {
    rest: &'a [u8],
}

pub(super) type Res<T> = Result<T, String>;

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { rest: bytes }
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    pub fn take(&mut self, n: usize, what: &str) -> Res<&'a [u8]> {
        match self.rest.split_at_checked(n) {
            Some((head, tail)) => {
                self.rest = tail;
                Ok(head)
            }
            None => Err(format!(
                "{what}: needs {n} bytes, {} left in the packet",
                self.rest.len()
            )),
        }
    }

    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.rest)
    }

    pub fn u8(&mut self, what: &str) -> Res<u8> {
        match self.take(1, what)? {
            [b] => Ok(*b),
            _ => Err(format!("{what}: missing")),
        }
    }

    /// §1.5.2 Two Byte Integer (big-endian).
    pub fn u16(&mut self, what: &str) -> Res<u16> {
        match self.take(2, what)? {
            [a, b] => Ok(u16::from_be_bytes([*a, *b])),
            _ => Err(format!("{what}: missing")),
        }
    }

    /// §1.5.3 Four Byte Integer.
    pub fn u32(&mut self, what: &str) -> Res<u32> {
        match self.take(4, what)? {
            [a, b, c, d] => Ok(u32::from_be_bytes([*a, *b, *c, *d])),
            _ => Err(format!("{what}: missing")),
        }
    }

    /// §1.5.5 Variable Byte Integer: at most four bytes.
    pub fn varint(&mut self, what: &str) -> Res<u32> {
        match varint(self.rest) {
            Varint::Done(v, n) => {
                self.rest = self.rest.get(n..).unwrap_or_default();
                Ok(v)
            }
            Varint::Short => Err(format!("{what}: variable byte integer cut short")),
            Varint::TooLong => Err(format!("{what}: variable byte integer longer than 4 bytes")),
        }
    }

    /// §1.5.6 Binary Data: a two-byte length, then the bytes.
    pub fn binary(&mut self, what: &str) -> Res<&'a [u8]> {
        let n = self.u16(what)?;
        self.take(usize::from(n), what)
    }

    /// §1.5.4 UTF-8 Encoded String. Ill-formed UTF-8 is a protocol error [MQTT-1.5.4-1]: the
    /// text is kept (lossily) and the error returned beside it.
    pub fn string(&mut self, what: &str) -> Res<(String, Option<String>)> {
        let bytes = self.binary(what)?;
        Ok(match std::str::from_utf8(bytes) {
            Ok(s) if !s.contains('\0') => (s.to_owned(), None),
            Ok(s) => (
                s.to_owned(),
                Some(format!("{what} holds U+0000 [MQTT-1.5.4-2]")),
            ),
            Err(_) => (
                String::from_utf8_lossy(bytes).into_owned(),
                Some(format!("{what} is not UTF-8 [MQTT-1.5.4-1]")),
            ),
        })
    }
}

/// A Variable Byte Integer at the start of some bytes.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Varint {
    /// The value and how many bytes it took.
    Done(u32, usize),
    /// More bytes are needed.
    Short,
    /// A fourth byte with its continuation bit set.
    TooLong,
}

/// §1.5.5: seven bits per byte, least significant first; "the maximum number of bytes in the
/// Variable Byte Integer field is four".
pub(super) fn varint(bytes: &[u8]) -> Varint {
    let mut value: u32 = 0;
    for (i, &b) in bytes.iter().enumerate().take(4) {
        value |= u32::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Varint::Done(value, i + 1);
        }
    }
    if bytes.len() >= 4 {
        Varint::TooLong
    } else {
        Varint::Short
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_byte_integers_of_the_spec_table() {
        // MQTT 5.0 §1.5.5, Table 1-1: the bounds of each length.
        for (bytes, value) in [
            (&[0x00][..], 0),
            (&[0x7f], 127),
            (&[0x80, 0x01], 128),
            (&[0xff, 0x7f], 16_383),
            (&[0x80, 0x80, 0x01], 16_384),
            (&[0xff, 0xff, 0x7f], 2_097_151),
            (&[0x80, 0x80, 0x80, 0x01], 2_097_152),
            (&[0xff, 0xff, 0xff, 0x7f], 268_435_455),
        ] {
            assert_eq!(varint(bytes), Varint::Done(value, bytes.len()));
        }
        assert_eq!(varint(&[0x80, 0x80]), Varint::Short);
        assert_eq!(varint(&[0xff, 0xff, 0xff, 0xff, 0x01]), Varint::TooLong);
    }

    #[test]
    fn short_reads_say_what_was_missing() {
        let mut r = Reader::new(&[0x00, 0x05, b'a']);
        assert_eq!(
            r.string("topic").unwrap_err(),
            "topic: needs 5 bytes, 1 left in the packet"
        );
    }
}
