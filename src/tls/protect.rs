//! Record protection: opening one AEAD-protected record in place (RFC 5246 §6.2.3.3 with RFC
//! 5288 / RFC 7905 nonces, RFC 8446 §5.2-5.3).

use ring::aead::{self, Aad, LessSafeKey, UnboundKey};

use super::suite::Aead;

/// RFC 5116: every AEAD here has a 16-byte tag.
pub const TAG_LEN: usize = 16;
/// RFC 5288 §3: a TLS 1.2 GCM record starts with the 8-byte explicit part of its nonce.
pub const EXPLICIT_NONCE_LEN: usize = 8;

/// How the per-record nonce and additional data are formed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nonce {
    /// TLS 1.2 AES-GCM: 4-byte salt from the key block + 8 bytes carried in the record.
    Tls12Explicit,
    /// TLS 1.2 ChaCha20-Poly1305: IV XOR sequence number, nothing carried.
    Tls12Implicit,
    /// TLS 1.3: IV XOR sequence number; the additional data is the record header.
    Tls13,
}

/// One direction's record key.
pub struct RecordKey {
    key: LessSafeKey,
    iv: [u8; 12],
    nonce: Nonce,
}

impl std::fmt::Debug for RecordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordKey")
            .field("nonce", &self.nonce)
            .finish_non_exhaustive()
    }
}

impl RecordKey {
    pub fn new(aead: Aead, key: &[u8], iv: [u8; 12], nonce: Nonce) -> Option<RecordKey> {
        let key = UnboundKey::new(aead.ring(), key).ok()?;
        Some(RecordKey {
            key: LessSafeKey::new(key),
            iv,
            nonce,
        })
    }

    /// Bytes a record's body carries besides its plaintext (explicit nonce and tag; for TLS
    /// 1.3 the inner content type comes on top).
    pub fn overhead(&self) -> usize {
        match self.nonce {
            Nonce::Tls12Explicit => EXPLICIT_NONCE_LEN + TAG_LEN,
            Nonce::Tls12Implicit | Nonce::Tls13 => TAG_LEN,
        }
    }

    /// Decrypts `body` (the record after its 5-byte `header`) in place; returns where the
    /// plaintext lies in `body`, or `None` when the record fails authentication (then `body`
    /// holds garbage).
    pub fn open(
        &self,
        seq: u64,
        header: &[u8; 5],
        body: &mut [u8],
    ) -> Option<std::ops::Range<usize>> {
        let seq_bytes = seq.to_be_bytes();
        let xor_seq = || {
            let mut n = self.iv;
            for (b, s) in n.iter_mut().skip(4).zip(seq_bytes) {
                *b ^= s;
            }
            n
        };
        let (nonce, start) = match self.nonce {
            Nonce::Tls12Explicit => {
                let mut n = self.iv;
                let explicit = body.get(..EXPLICIT_NONCE_LEN)?;
                n.get_mut(4..)?.copy_from_slice(explicit);
                (n, EXPLICIT_NONCE_LEN)
            }
            Nonce::Tls12Implicit | Nonce::Tls13 => (xor_seq(), 0),
        };
        let sealed = body.get_mut(start..)?;
        let plain_len = sealed.len().checked_sub(TAG_LEN)?;
        let nonce = aead::Nonce::assume_unique_for_key(nonce);
        let opened = if self.nonce == Nonce::Tls13 {
            self.key.open_in_place(nonce, Aad::from(*header), sealed)
        } else {
            // RFC 5246 §6.2.3.3: seq_num + type + version + length (of the plaintext).
            let mut ad = [0u8; 13];
            let (s, rest) = ad.split_at_mut(8);
            s.copy_from_slice(&seq_bytes);
            let [l0, l1] = u16::try_from(plain_len).ok()?.to_be_bytes();
            let [t, v0, v1, ..] = *header;
            rest.copy_from_slice(&[t, v0, v1, l0, l1]);
            self.key.open_in_place(nonce, Aad::from(ad), sealed)
        };
        opened.ok()?;
        Some(start..start + plain_len)
    }
}
