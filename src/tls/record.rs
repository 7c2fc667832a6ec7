//! The record layer's framing (RFC 8446 §5.1, RFC 5246 §6.2.1): a 5-byte header, then the
//! body. Anything else in a TLS stream is a framing error.

pub const HEADER_LEN: usize = 5;

pub const CHANGE_CIPHER_SPEC: u8 = 20;
pub const ALERT: u8 = 21;
pub const HANDSHAKE: u8 = 22;
pub const APPLICATION_DATA: u8 = 23;
pub const HEARTBEAT: u8 = 24;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub typ: u8,
    pub version: u16,
    pub len: usize,
}

impl Header {
    pub fn parse(bytes: &[u8]) -> Option<Header> {
        let [typ, major, minor, hi, lo] = *bytes.get(..HEADER_LEN)? else {
            return None;
        };
        Some(Header {
            typ,
            version: u16::from_be_bytes([major, minor]),
            len: usize::from(u16::from_be_bytes([hi, lo])),
        })
    }

    /// A header that can start a record: a known content type, version 3.x (SSL 3.0 to TLS
    /// 1.3 all write 3.x here), a length within `max`.
    pub fn plausible(&self, max: usize) -> bool {
        (CHANGE_CIPHER_SPEC..=HEARTBEAT).contains(&self.typ)
            && (0x0300..=0x0304).contains(&self.version)
            && self.len <= max
    }
}
