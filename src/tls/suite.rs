//! Cipher suites: which AEAD and hash each one means (IANA TLS Cipher Suites registry).
//!
//! Only AEAD suites are decrypted. With the master secret or traffic secrets known, the key
//! exchange (ECDHE, DHE, RSA, PSK) and authentication no longer matter, so one row per
//! AEAD/hash pair would do; the names are kept so that output names what was negotiated.

/// The record protection algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aead {
    Aes128Gcm,
    Aes256Gcm,
    Chacha20Poly1305,
}

impl Aead {
    pub fn key_len(self) -> usize {
        match self {
            Aead::Aes128Gcm => 16,
            Aead::Aes256Gcm | Aead::Chacha20Poly1305 => 32,
        }
    }

    pub fn ring(self) -> &'static ring::aead::Algorithm {
        match self {
            Aead::Aes128Gcm => &ring::aead::AES_128_GCM,
            Aead::Aes256Gcm => &ring::aead::AES_256_GCM,
            Aead::Chacha20Poly1305 => &ring::aead::CHACHA20_POLY1305,
        }
    }
}

/// The hash of the TLS 1.2 PRF or the TLS 1.3 HKDF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    Sha256,
    Sha384,
}

impl Hash {
    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
        }
    }

    pub fn hkdf(self) -> ring::hkdf::Algorithm {
        match self {
            Hash::Sha256 => ring::hkdf::HKDF_SHA256,
            Hash::Sha384 => ring::hkdf::HKDF_SHA384,
        }
    }

    pub fn hmac(self) -> ring::hmac::Algorithm {
        match self {
            Hash::Sha256 => ring::hmac::HMAC_SHA256,
            Hash::Sha384 => ring::hmac::HMAC_SHA384,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct Suite {
    pub id: u16,
    /// IANA name.
    pub name: &'static str,
    pub aead: Aead,
    pub hash: Hash,
    /// A TLS 1.3 suite (RFC 8446 §B.4); else a TLS 1.2 one.
    pub tls13: bool,
}

const fn s(id: u16, name: &'static str, aead: Aead, hash: Hash, tls13: bool) -> Suite {
    Suite {
        id,
        name,
        aead,
        hash,
        tls13,
    }
}

use Aead::{Aes128Gcm as A128, Aes256Gcm as A256, Chacha20Poly1305 as C20};
use Hash::{Sha256 as H256, Sha384 as H384};

static SUITES: &[Suite] = &[
    // RFC 8446 §B.4
    s(0x1301, "TLS_AES_128_GCM_SHA256", A128, H256, true),
    s(0x1302, "TLS_AES_256_GCM_SHA384", A256, H384, true),
    s(0x1303, "TLS_CHACHA20_POLY1305_SHA256", C20, H256, true),
    // RFC 5288, RFC 5289: AES-GCM for TLS 1.2
    s(0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", A128, H256, false),
    s(0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", A256, H384, false),
    s(
        0x009E,
        "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        A128,
        H256,
        false,
    ),
    s(
        0x009F,
        "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
        A256,
        H384,
        false,
    ),
    s(
        0x00A2,
        "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256",
        A128,
        H256,
        false,
    ),
    s(
        0x00A3,
        "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384",
        A256,
        H384,
        false,
    ),
    s(0x00A8, "TLS_PSK_WITH_AES_128_GCM_SHA256", A128, H256, false),
    s(0x00A9, "TLS_PSK_WITH_AES_256_GCM_SHA384", A256, H384, false),
    s(
        0x00AA,
        "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256",
        A128,
        H256,
        false,
    ),
    s(
        0x00AB,
        "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384",
        A256,
        H384,
        false,
    ),
    s(
        0x00AC,
        "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256",
        A128,
        H256,
        false,
    ),
    s(
        0x00AD,
        "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384",
        A256,
        H384,
        false,
    ),
    s(
        0xC02B,
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        A128,
        H256,
        false,
    ),
    s(
        0xC02C,
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        A256,
        H384,
        false,
    ),
    s(
        0xC02F,
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        A128,
        H256,
        false,
    ),
    s(
        0xC030,
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        A256,
        H384,
        false,
    ),
    // RFC 8442
    s(
        0xD001,
        "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256",
        A128,
        H256,
        false,
    ),
    s(
        0xD002,
        "TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384",
        A256,
        H384,
        false,
    ),
    // RFC 7905
    s(
        0xCCA8,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        C20,
        H256,
        false,
    ),
    s(
        0xCCA9,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        C20,
        H256,
        false,
    ),
    s(
        0xCCAA,
        "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        C20,
        H256,
        false,
    ),
    s(
        0xCCAB,
        "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256",
        C20,
        H256,
        false,
    ),
    s(
        0xCCAC,
        "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
        C20,
        H256,
        false,
    ),
    s(
        0xCCAD,
        "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
        C20,
        H256,
        false,
    ),
    s(
        0xCCAE,
        "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256",
        C20,
        H256,
        false,
    ),
];

/// Suites seen in practice that are not decrypted, named for the `tls_unsupported` anomaly.
static OTHERS: &[(u16, &str)] = &[
    (0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA"),
    (0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"),
    (0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256"),
    (0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256"),
    (0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0x0005, "TLS_RSA_WITH_RC4_128_SHA"),
    (0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
    (0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"),
    (0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
    (0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"),
    (0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"),
    (0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"),
    (0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"),
    (0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"),
    (0x1304, "TLS_AES_128_CCM_SHA256"),
    (0x1305, "TLS_AES_128_CCM_8_SHA256"),
    (0xC09C, "TLS_RSA_WITH_AES_128_CCM"),
    (0xC09D, "TLS_RSA_WITH_AES_256_CCM"),
    (0xC0AC, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM"),
    (0xC0AD, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM"),
];

/// The suite `id`, if this decoder decrypts it.
pub fn lookup(id: u16) -> Option<&'static Suite> {
    SUITES.iter().find(|s| s.id == id)
}

/// A name for any suite: IANA's where known, else its number.
pub fn name(id: u16) -> String {
    lookup(id)
        .map(|s| s.name)
        .or_else(|| OTHERS.iter().find(|(i, _)| *i == id).map(|(_, n)| *n))
        .map_or_else(|| format!("cipher suite 0x{id:04X}"), str::to_owned)
}

/// Every suite decrypted (for tests and documentation).
pub fn all() -> &'static [Suite] {
    SUITES
}
