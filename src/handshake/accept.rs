//! The `Sec-WebSocket-Accept` value a server must send back (RFC 6455 §4.2.2).

use sha1::{Digest, Sha1};

/// RFC 6455 §1.3: the GUID every server appends to the client's key.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// RFC 6455 §4.2.2 item 5.4: base64(SHA-1(key + GUID)).
pub(super) fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(GUID);
    base64_simd::STANDARD.encode_to_string(sha.finalize())
}

#[cfg(test)]
mod tests {
    use super::accept_key;

    #[test]
    fn rfc6455_section_1_3_sample() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn rfc6455_section_4_2_2_key_is_used_verbatim() {
        // The key is hashed as sent, not base64-decoded first: another key, another answer.
        assert_ne!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ"),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(
            accept_key("x3JJHMbDL1EzLkh9GBhXDw=="),
            "HSmrc0sMlYUkAGmm5OPpG2HaGWk="
        );
    }
}
