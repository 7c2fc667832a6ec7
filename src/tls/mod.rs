//! TLS 1.2 and 1.3 decryption from NSS key logs, as a sans-IO layer between TCP reassembly and
//! the protocol inside (HTTP/1.1 → WebSocket, HTTP/2).
//!
//! A [`TlsConn`] takes each TCP direction's bytes (and gaps) and gives back each direction's
//! plaintext in order, plus what it could not decrypt and why ([`TlsEvent`]). Secrets come from
//! a [`KeyLog`] passed on every call, so keys that arrive later (a live key log) still decrypt
//! the records held for them. Handshake messages are read directly (the few fields needed);
//! every cryptographic primitive is ring's.

mod conn;
mod content;
mod decrypt;
mod direction;
mod handshake;
mod hello;
pub mod keylog;
mod protect;
mod record;
mod resync;
mod schedule;
pub mod suite;
#[cfg(test)]
pub(crate) mod tests;

pub use conn::TlsConn;
pub use keylog::{KeyLog, KeyLogError, Secrets};

use crate::event::AnomalyKind;

#[allow(non_upper_case_globals)]
impl AnomalyKind {
    /// A TLS connection carried application data, but no key log has its secrets (one per
    /// direction; the detail names the SNI and the client_random).
    pub const TlsNoKeys: AnomalyKind = AnomalyKind::named("tls_no_keys");
    /// A record failed authentication (wrong key, corrupt capture); the detail gives its offset.
    pub const TlsDecryptError: AnomalyKind = AnomalyKind::named("tls_decrypt_error");
    /// A fatal alert, named.
    pub const TlsAlert: AnomalyKind = AnomalyKind::named("tls_alert");
    /// A protocol version or cipher suite this decoder does not decrypt, named.
    pub const TlsUnsupported: AnomalyKind = AnomalyKind::named("tls_unsupported");
    /// A record header or handshake message that is not valid TLS.
    pub const TlsMalformed: AnomalyKind = AnomalyKind::named("tls_malformed");
    /// The ClientHello or ServerHello was lost (a hole in the capture): nothing of the
    /// connection can be decrypted.
    pub const TlsHelloLost: AnomalyKind = AnomalyKind::named("tls_hello_lost");
    /// Records held for keys exceeded `TlsConfig::max_pending_bytes` and were dropped.
    pub const TlsPendingLimit: AnomalyKind = AnomalyKind::named("tls_pending_limit");
}

/// Limits of one TLS connection's decoder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsConfig {
    /// Largest record body accepted (bytes after the 5-byte header). RFC 8446 §5.2 allows
    /// 2^14 + 256 for TLS 1.3 ciphertext and RFC 5246 §6.2.3 2^14 + 2048 for TLS 1.2; the
    /// default accepts the larger. A longer record is treated as a framing error (the next
    /// record boundary is searched for).
    pub max_record_bytes: usize,
    /// Largest handshake message kept for parsing (ClientHello, ServerHello,
    /// EncryptedExtensions, ...). Messages not needed (certificates) are skipped at any size.
    pub max_handshake_bytes: usize,
    /// Encrypted records held per connection while their keys are missing, so that keys
    /// arriving later (a live key log) still decrypt them. Beyond it the held records are
    /// dropped and reported.
    pub max_pending_bytes: usize,
    /// After a hole in the stream: sequence numbers tried (from the next expected one) against
    /// the AEAD tag of a candidate record, i.e. how many whole records a hole may swallow and
    /// decoding still resume.
    pub max_resync_records: u64,
    /// After a hole: bytes searched for the next record boundary before the direction is given
    /// up.
    pub max_resync_bytes: u64,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            max_record_bytes: (1 << 14) + 2048,
            max_handshake_bytes: 64 << 10,
            max_pending_bytes: 1 << 20,
            max_resync_records: 64,
            max_resync_bytes: 1 << 20,
        }
    }
}

/// What the TLS layer reports, in stream order per direction.
#[derive(Debug, PartialEq, Eq)]
pub enum TlsEvent<'a> {
    /// The handshake settled (version, cipher, sni, alpn, resumed): before any Plaintext. For
    /// TLS 1.3 after EncryptedExtensions (ALPN lives there), which needs the handshake
    /// secrets; without them, before the first Plaintext.
    Established(&'a crate::event::TlsInfo),
    /// Decrypted application data of `side` (0/1 = the TCP sides as the caller numbers
    /// them), in order.
    Plaintext { side: usize, data: &'a [u8] },
    /// `len` bytes (or an unknown amount: len 0) of `side`'s plaintext are lost (gap,
    /// undecryptable record).
    Lost { side: usize, len: u64 },
    /// `side` sent close_notify.
    Closed { side: usize },
    Anomaly {
        side: Option<usize>,
        anomaly: crate::event::Anomaly,
    },
}

/// What a connection's first bytes from one side say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniff {
    /// A TLS handshake record carrying a ClientHello.
    Yes,
    No,
    /// Too few bytes to tell: this many (in all) decide.
    NeedMore(usize),
}

/// Bytes that decide [`sniff`]: the record header and the handshake type.
pub const SNIFF_BYTES: usize = 6;

/// Whether a connection's first bytes from one side start a TLS ClientHello record
/// (RFC 8446 §5.1: content type handshake(22), legacy record version 0x0300-0x0304, a
/// non-zero length, then handshake type client_hello(1)).
pub fn sniff(first: &[u8]) -> Sniff {
    let checks: [fn(u8) -> bool; SNIFF_BYTES] = [
        |b| b == record::HANDSHAKE,
        |b| b == 3,
        |b| b <= 4,
        |b| b <= 0x48, // at most 2^14 + 2048 bytes
        |_| true,
        |b| b == handshake::CLIENT_HELLO,
    ];
    for (b, check) in first.iter().zip(checks) {
        if !check(*b) {
            return Sniff::No;
        }
    }
    if first.len() < SNIFF_BYTES {
        return Sniff::NeedMore(SNIFF_BYTES);
    }
    match first.get(3..5) {
        Some([0, 0]) => Sniff::No,
        _ => Sniff::Yes,
    }
}
