//! Key derivation from logged secrets: the TLS 1.2 PRF key block (RFC 5246 §5, §6.3) and the
//! TLS 1.3 HKDF-Expand-Label traffic keys (RFC 8446 §7.1, §7.3). All primitives are ring's.

use ring::{hkdf, hmac};

use super::protect::{Nonce, RecordKey};
use super::suite::{Aead, Hash, Suite};

/// An output length for ring's HKDF, which takes it as a type.
struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// RFC 8446 §7.1 HKDF-Expand-Label(secret, label, context, out.len()).
pub fn expand_label(
    hash: Hash,
    secret: &[u8],
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Option<()> {
    let len = u16::try_from(out.len()).ok()?.to_be_bytes();
    let label_len = [u8::try_from(6 + label.len()).ok()?];
    let context_len = [u8::try_from(context.len()).ok()?];
    let info: [&[u8]; 6] = [&len, &label_len, b"tls13 ", label, &context_len, context];
    let prk = hkdf::Prk::new_less_safe(hash.hkdf(), secret);
    prk.expand(&info, Len(out.len())).ok()?.fill(out).ok()
}

/// RFC 5246 §5: PRF(secret, label, seed) = P_hash(secret, label + seed), filling `out`.
pub fn prf(hash: Hash, secret: &[u8], label: &[u8], seed: &[u8], out: &mut [u8]) {
    let key = hmac::Key::new(hash.hmac(), secret);
    // A(1) = HMAC(secret, label + seed); A(i) = HMAC(secret, A(i-1)).
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(label);
    ctx.update(seed);
    let mut a = ctx.sign();
    for chunk in out.chunks_mut(hash.output_len()) {
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(a.as_ref());
        ctx.update(label);
        ctx.update(seed);
        let block = ctx.sign();
        for (o, b) in chunk.iter_mut().zip(block.as_ref()) {
            *o = *b;
        }
        a = hmac::sign(&key, a.as_ref());
    }
}

/// RFC 8446 §7.3: the write key and IV of a traffic secret.
pub fn tls13_key(suite: &Suite, secret: &[u8]) -> Option<RecordKey> {
    let mut key = [0u8; 32];
    let key = key.get_mut(..suite.aead.key_len())?;
    let mut iv = [0u8; 12];
    expand_label(suite.hash, secret, b"key", b"", key)?;
    expand_label(suite.hash, secret, b"iv", b"", &mut iv)?;
    RecordKey::new(suite.aead, key, iv, Nonce::Tls13)
}

/// RFC 8446 §7.2: application_traffic_secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd",
/// "", Hash.length).
pub fn tls13_next_secret(hash: Hash, secret: &[u8]) -> Option<Vec<u8>> {
    let mut next = vec![0u8; hash.output_len()];
    expand_label(hash, secret, b"traffic upd", b"", &mut next)?;
    Some(next)
}

/// RFC 5246 §6.3: the key block of an AEAD suite (no MAC keys), split into the client's and
/// the server's write keys. GCM takes a 4-byte implicit salt (RFC 5288 §3), ChaCha20-Poly1305
/// a 12-byte IV (RFC 7905 §2).
pub fn tls12_keys(
    suite: &Suite,
    master: &[u8],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> Option<(RecordKey, RecordKey)> {
    let key_len = suite.aead.key_len();
    let (iv_len, nonce) = match suite.aead {
        Aead::Aes128Gcm | Aead::Aes256Gcm => (4, Nonce::Tls12Explicit),
        Aead::Chacha20Poly1305 => (12, Nonce::Tls12Implicit),
    };
    let mut block = [0u8; 2 * (32 + 12)];
    let block = block.get_mut(..2 * (key_len + iv_len))?;
    // The key expansion seed is server_random + client_random (the reverse of the master
    // secret's).
    let mut seed = [0u8; 64];
    let (s, c) = seed.split_at_mut(32);
    s.copy_from_slice(server_random);
    c.copy_from_slice(client_random);
    prf(suite.hash, master, b"key expansion", &seed, block);
    let (client_key, rest) = block.split_at_checked(key_len)?;
    let (server_key, rest) = rest.split_at_checked(key_len)?;
    let (client_iv, server_iv) = rest.split_at_checked(iv_len)?;
    let mut civ = [0u8; 12];
    let mut siv = [0u8; 12];
    civ.get_mut(..iv_len)?.copy_from_slice(client_iv);
    siv.get_mut(..iv_len)?.copy_from_slice(server_iv);
    Some((
        RecordKey::new(suite.aead, client_key, civ, nonce)?,
        RecordKey::new(suite.aead, server_key, siv, nonce)?,
    ))
}
