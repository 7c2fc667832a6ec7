//! RFC 9113 §4.1 frame headers and the payload layouts of §6, each parsed from bytes already
//! known to be the whole payload. Errors are the sentence the anomaly will carry.

/// RFC 9113 §4.1: length (24), type (8), flags (8), R (1), stream identifier (31).
pub const HEADER_LEN: usize = 9;

/// RFC 9113 §4.2: SETTINGS_MAX_FRAME_SIZE starts at 2^14 and may not go past 2^24 - 1.
pub const DEFAULT_MAX_FRAME_SIZE: u32 = 1 << 14;
pub const MAX_MAX_FRAME_SIZE: u32 = (1 << 24) - 1;

// RFC 9113 §6 frame types.
pub const DATA: u8 = 0x0;
pub const HEADERS: u8 = 0x1;
pub const PRIORITY: u8 = 0x2;
pub const RST_STREAM: u8 = 0x3;
pub const SETTINGS: u8 = 0x4;
pub const PUSH_PROMISE: u8 = 0x5;
pub const PING: u8 = 0x6;
pub const GOAWAY: u8 = 0x7;
pub const WINDOW_UPDATE: u8 = 0x8;
pub const CONTINUATION: u8 = 0x9;

// RFC 9113 §6 flags.
pub const END_STREAM: u8 = 0x1;
pub const ACK: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;
pub const PADDED: u8 = 0x8;
pub const PRIORITY_FLAG: u8 = 0x20;

// RFC 9113 §6.5.2 and RFC 8441 §3 settings.
pub const SETTINGS_HEADER_TABLE_SIZE: u16 = 0x1;
pub const SETTINGS_ENABLE_PUSH: u16 = 0x2;
pub const SETTINGS_INITIAL_WINDOW_SIZE: u16 = 0x4;
pub const SETTINGS_MAX_FRAME_SIZE: u16 = 0x5;
pub const SETTINGS_ENABLE_CONNECT_PROTOCOL: u16 = 0x8;

/// A frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHead {
    pub len: u32,
    pub kind: u8,
    pub flags: u8,
    pub stream: u32,
    /// The reserved bit before the stream identifier (RFC 9113 §4.1: must be ignored on
    /// receipt, but a resynchronising observer takes a set bit as a sign of no header).
    pub reserved: bool,
}

impl FrameHead {
    pub fn parse(b: &[u8; HEADER_LEN]) -> FrameHead {
        let [l0, l1, l2, kind, flags, s0, s1, s2, s3] = *b;
        let sid = u32::from_be_bytes([s0, s1, s2, s3]);
        FrameHead {
            len: u32::from_be_bytes([0, l0, l1, l2]),
            kind,
            flags,
            stream: sid & 0x7fff_ffff,
            reserved: sid & 0x8000_0000 != 0,
        }
    }

    /// Parse the header at the start of `b`, if 9 bytes are there.
    pub fn parse_at(b: &[u8]) -> Option<FrameHead> {
        let head: &[u8; HEADER_LEN] = b.get(..HEADER_LEN)?.try_into().ok()?;
        Some(FrameHead::parse(head))
    }

    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// HEADERS, PUSH_PROMISE and CONTINUATION carry header block fragments.
    pub fn is_header_block(&self) -> bool {
        matches!(self.kind, HEADERS | PUSH_PROMISE | CONTINUATION)
    }
}

/// Name of a frame type, for anomaly details.
pub fn kind_name(kind: u8) -> &'static str {
    match kind {
        DATA => "DATA",
        HEADERS => "HEADERS",
        PRIORITY => "PRIORITY",
        RST_STREAM => "RST_STREAM",
        SETTINGS => "SETTINGS",
        PUSH_PROMISE => "PUSH_PROMISE",
        PING => "PING",
        GOAWAY => "GOAWAY",
        WINDOW_UPDATE => "WINDOW_UPDATE",
        CONTINUATION => "CONTINUATION",
        _ => "unknown-type",
    }
}

/// "a DATA frame", "a frame of unknown type 0xfa".
pub fn describe(kind: u8) -> String {
    match kind_name(kind) {
        "unknown-type" => format!("a frame of unknown type {kind:#04x}"),
        name => format!("a {name} frame"),
    }
}

/// Flags a frame type defines (others must be ignored, RFC 9113 §4.1).
pub fn defined_flags(kind: u8) -> u8 {
    match kind {
        DATA => END_STREAM | PADDED,
        HEADERS => END_STREAM | END_HEADERS | PADDED | PRIORITY_FLAG,
        SETTINGS | PING => ACK,
        PUSH_PROMISE => END_HEADERS | PADDED,
        CONTINUATION => END_HEADERS,
        _ => 0,
    }
}

/// What the header alone says is wrong with a frame of a known type (RFC 9113 §6: stream
/// identifier and fixed lengths), before its payload is read.
pub fn check_head(h: &FrameHead) -> Result<(), &'static str> {
    let on_stream = h.stream != 0;
    match h.kind {
        // RFC 9113 §6.1, §6.2, §6.3, §6.4, §6.6, §6.10: stream frames.
        DATA | HEADERS | PRIORITY | RST_STREAM | PUSH_PROMISE | CONTINUATION if !on_stream => {
            Err("on stream 0")
        }
        // RFC 9113 §6.5, §6.7, §6.8: connection frames.
        SETTINGS | PING | GOAWAY if on_stream => Err("on a stream other than 0"),
        // RFC 9113 §6.3: "a length other than 5 octets".
        PRIORITY if h.len != 5 => Err("with a length other than 5"),
        // RFC 9113 §6.4, §6.9: 4 octets.
        RST_STREAM | WINDOW_UPDATE if h.len != 4 => Err("with a length other than 4"),
        // RFC 9113 §6.5: ACK carries nothing; otherwise a multiple of 6 octets.
        SETTINGS if h.has(ACK) && h.len != 0 => Err("(ACK) with a payload"),
        SETTINGS if !h.len.is_multiple_of(6) => Err("with a length not a multiple of 6"),
        // RFC 9113 §6.7: 8 octets.
        PING if h.len != 8 => Err("with a length other than 8"),
        // RFC 9113 §6.8: last stream and error code at least.
        GOAWAY if h.len < 8 => Err("shorter than 8 bytes"),
        _ if h.len < min_len(h) => Err("too short for its padding or priority fields"),
        _ => Ok(()),
    }
}

/// The least payload the flags require (pad length, priority, promised stream).
fn min_len(h: &FrameHead) -> u32 {
    let pad = u32::from(h.has(PADDED) && matches!(h.kind, DATA | HEADERS | PUSH_PROMISE));
    match h.kind {
        HEADERS if h.has(PRIORITY_FLAG) => pad + 5,
        PUSH_PROMISE => pad + 4,
        _ => pad,
    }
}

/// RFC 9113 §6.1, §6.2, §6.6: remove the Pad Length byte and the padding.
pub fn unpad(payload: &[u8], padded: bool) -> Result<&[u8], &'static str> {
    if !padded {
        return Ok(payload);
    }
    let (&pad, rest) = payload.split_first().ok_or("padded but empty")?;
    // "If the length of the padding is the length of the frame payload or greater, the
    // recipient MUST treat this as a connection error of type PROTOCOL_ERROR."
    let keep = rest
        .len()
        .checked_sub(usize::from(pad))
        .ok_or("with padding longer than its payload")?;
    rest.get(..keep)
        .ok_or("with padding longer than its payload")
}

/// RFC 9113 §6.2: the header block fragment of a HEADERS payload (padding and priority
/// fields removed).
pub fn headers_fragment<'a>(h: &FrameHead, payload: &'a [u8]) -> Result<&'a [u8], &'static str> {
    let inner = unpad(payload, h.has(PADDED))?;
    if h.has(PRIORITY_FLAG) {
        // Exclusive bit + stream dependency (4), weight (1).
        let (dep, rest) = inner
            .split_at_checked(5)
            .ok_or("too short for its priority fields")?;
        if dependency(dep) == Some(h.stream) {
            // RFC 9113 §5.3.1: a stream cannot depend on itself.
            return Err("depending on its own stream");
        }
        Ok(rest)
    } else {
        Ok(inner)
    }
}

/// RFC 9113 §6.6: the promised stream and the fragment of a PUSH_PROMISE payload.
pub fn push_promise<'a>(h: &FrameHead, payload: &'a [u8]) -> Result<(u32, &'a [u8]), &'static str> {
    let inner = unpad(payload, h.has(PADDED))?;
    let (id, rest) = inner
        .split_at_checked(4)
        .ok_or("too short for its promised stream")?;
    let promised = be32(id).ok_or("too short for its promised stream")? & 0x7fff_ffff;
    if promised == 0 || promised % 2 != 0 {
        // RFC 9113 §5.1.1: streams initiated by the server are even (and not 0).
        return Err("promising a stream that is not even");
    }
    Ok((promised, rest))
}

/// The stream a PRIORITY payload depends on.
pub fn dependency(payload: &[u8]) -> Option<u32> {
    Some(be32(payload.get(..4)?)? & 0x7fff_ffff)
}

/// A 32-bit big-endian value from the first 4 bytes.
pub fn be32(b: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(..4)?.try_into().ok()?))
}

/// RFC 9113 §6.5.1: the (identifier, value) pairs of a SETTINGS payload.
pub fn settings(payload: &[u8]) -> impl Iterator<Item = (u16, u32)> + '_ {
    payload.chunks_exact(6).map(|c| match *c {
        [i0, i1, v0, v1, v2, v3] => (
            u16::from_be_bytes([i0, i1]),
            u32::from_be_bytes([v0, v1, v2, v3]),
        ),
        _ => (0, 0),
    })
}

/// RFC 9113 §6.5.2 / RFC 8441 §3: a value out of its setting's range.
pub fn check_setting(id: u16, value: u32) -> Result<(), &'static str> {
    match id {
        SETTINGS_ENABLE_PUSH if value > 1 => Err("SETTINGS_ENABLE_PUSH other than 0 or 1"),
        SETTINGS_INITIAL_WINDOW_SIZE if value > 0x7fff_ffff => {
            Err("SETTINGS_INITIAL_WINDOW_SIZE over 2^31-1")
        }
        SETTINGS_MAX_FRAME_SIZE
            if !(DEFAULT_MAX_FRAME_SIZE..=MAX_MAX_FRAME_SIZE).contains(&value) =>
        {
            Err("SETTINGS_MAX_FRAME_SIZE outside 2^14..2^24-1")
        }
        SETTINGS_ENABLE_CONNECT_PROTOCOL if value > 1 => {
            Err("SETTINGS_ENABLE_CONNECT_PROTOCOL other than 0 or 1")
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(len: u32, kind: u8, flags: u8, stream: u32) -> FrameHead {
        FrameHead {
            len,
            kind,
            flags,
            stream,
            reserved: false,
        }
    }

    #[test]
    fn parses_header_fields() {
        let h = FrameHead::parse(&[0x01, 0x02, 0x03, 0x01, 0x25, 0x80, 0, 0, 0x05]);
        assert_eq!(h.len, 0x010203);
        assert_eq!(h.kind, HEADERS);
        assert_eq!(h.flags, 0x25);
        assert_eq!(h.stream, 5);
        assert!(h.reserved);
        assert_eq!(FrameHead::parse_at(&[0; 8]), None);
    }

    #[test]
    fn head_checks_follow_section_6() {
        assert!(check_head(&head(10, DATA, 0, 1)).is_ok());
        assert!(check_head(&head(10, DATA, 0, 0)).is_err());
        assert!(check_head(&head(0, DATA, PADDED, 1)).is_err());
        assert!(check_head(&head(5, PRIORITY, 0, 3)).is_ok());
        assert!(check_head(&head(4, PRIORITY, 0, 3)).is_err());
        assert!(check_head(&head(6, SETTINGS, 0, 0)).is_ok());
        assert!(check_head(&head(6, SETTINGS, ACK, 0)).is_err());
        assert!(check_head(&head(7, SETTINGS, 0, 0)).is_err());
        assert!(check_head(&head(6, SETTINGS, 0, 1)).is_err());
        assert!(check_head(&head(8, PING, 0, 0)).is_ok());
        assert!(check_head(&head(9, PING, 0, 0)).is_err());
        assert!(check_head(&head(7, GOAWAY, 0, 0)).is_err());
        assert!(check_head(&head(4, WINDOW_UPDATE, 0, 0)).is_ok());
        assert!(check_head(&head(4, HEADERS, PRIORITY_FLAG, 1)).is_err());
        assert!(check_head(&head(3, PUSH_PROMISE, 0, 1)).is_err());
        // Unknown types are not checked (RFC 9113 §5.5: ignored).
        assert!(check_head(&head(3, 0x42, 0xff, 0)).is_ok());
    }

    #[test]
    fn padding_and_priority_removed() {
        assert_eq!(unpad(&[2, b'a', b'b', 0, 0], true).unwrap(), b"ab");
        assert_eq!(unpad(&[0], true).unwrap(), b"");
        assert!(unpad(&[1], true).is_err());
        assert!(unpad(&[], true).is_err());
        let h = head(0, HEADERS, PADDED | PRIORITY_FLAG, 3);
        assert_eq!(
            headers_fragment(&h, &[1, 0x80, 0, 0, 1, 16, 0x82, 0]).unwrap(),
            [0x82]
        );
        // Depending on itself.
        assert!(headers_fragment(&h, &[0, 0, 0, 0, 3, 16]).is_err());
        let p = head(0, PUSH_PROMISE, 0, 1);
        assert_eq!(
            push_promise(&p, &[0, 0, 0, 2, 0x82]).unwrap(),
            (2, &[0x82][..])
        );
        assert!(push_promise(&p, &[0, 0, 0, 3]).is_err());
    }

    #[test]
    fn settings_pairs_and_ranges() {
        let v: Vec<_> = settings(&[0, 8, 0, 0, 0, 1, 0, 1, 0, 0, 0x10, 0]).collect();
        assert_eq!(v, [(8, 1), (1, 4096)]);
        assert!(check_setting(SETTINGS_MAX_FRAME_SIZE, 16383).is_err());
        assert!(check_setting(SETTINGS_MAX_FRAME_SIZE, 1 << 24).is_err());
        assert!(check_setting(SETTINGS_MAX_FRAME_SIZE, 1 << 20).is_ok());
        assert!(check_setting(SETTINGS_ENABLE_CONNECT_PROTOCOL, 2).is_err());
        assert!(check_setting(0x99, 12345).is_ok());
    }
}
