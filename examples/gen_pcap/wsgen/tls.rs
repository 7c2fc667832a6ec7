//! TLS for the generated connections (`--tls13`, `--tls12-chacha`): cleartext hellos with
//! fixed (seeded) randoms, the rest of the handshake and every later byte in protected
//! records sealed with ring, and the NSS key log lines that decrypt them.
//!
//! No key exchange is run: the secrets are drawn from the PRNG and logged, which is all a
//! passive decoder with a key log needs (it never sees the private keys anyway). What is
//! written is what a real peer would put on the wire around those secrets:
//!
//! - TLS 1.3 (RFC 8446): ClientHello, ServerHello (supported_versions, key_share), then the
//!   server's EncryptedExtensions (ALPN http/1.1) and Finished under its handshake traffic
//!   secret, the client's Finished under its own, then application data under the
//!   application traffic secrets, the content type inside (§5.2). No certificate messages:
//!   decoders do not need them and a made-up certificate would only be flagged as malformed.
//! - TLS 1.2 (RFC 5246) with ECDHE-RSA-CHACHA20-POLY1305 (RFC 7905): ClientHello,
//!   ServerHello + ServerHelloDone, ClientKeyExchange, ChangeCipherSpec and an encrypted
//!   Finished each way, then application data; keys from the master secret by the PRF.
//!
//! Each write of the layer above (a WebSocket frame, an HTTP head) is sealed into its own
//! records of at most 2^14 plaintext bytes (RFC 8446 §5.1), as TLS libraries do per write.

use std::io;

use ring::aead::{AES_128_GCM, Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use ring::{hkdf, hmac};

use super::rng::Rng;

/// Largest plaintext of one record (RFC 8446 §5.1, RFC 5246 §6.2.1).
pub const MAX_PLAINTEXT: usize = 1 << 14;
const TAG_LEN: usize = 16;

const CHANGE_CIPHER_SPEC: u8 = 20;
const ALERT: u8 = 21;
const HANDSHAKE: u8 = 22;
pub const APPLICATION_DATA: u8 = 23;

/// The server name the ClientHello carries (RFC 6066 §3).
pub const SNI: &str = "ws.bench.example";

/// The TLS version and cipher suite of every connection of a capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// TLS 1.3, TLS_AES_128_GCM_SHA256.
    Tls13Aes128Gcm,
    /// TLS 1.2, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256.
    Tls12Chacha20,
}

impl Mode {
    /// As the summary records it.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Tls13Aes128Gcm => "TLS 1.3 TLS_AES_128_GCM_SHA256",
            Mode::Tls12Chacha20 => "TLS 1.2 TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        }
    }
}

/// One direction's record protection: key, IV, next sequence number.
pub struct Sealer {
    key: LessSafeKey,
    iv: [u8; 12],
    seq: u64,
    tls13: bool,
}

impl Sealer {
    fn new(tls13: bool, key: &[u8], iv: [u8; 12]) -> io::Result<Sealer> {
        let alg = if tls13 {
            &AES_128_GCM
        } else {
            &CHACHA20_POLY1305
        };
        let key = UnboundKey::new(alg, key).map_err(|_| io::Error::other("AEAD key length"))?;
        Ok(Sealer {
            key: LessSafeKey::new(key),
            iv,
            seq: 0,
            tls13,
        })
    }

    /// Appends `data` (content type `typ`) to `out` as protected records. Both TLS 1.3
    /// (RFC 8446 §5.3) and TLS 1.2 ChaCha20-Poly1305 (RFC 7905 §2) use the IV XOR the
    /// sequence number as nonce; the additional data is the record header in TLS 1.3 and
    /// seq + type + version + plaintext length in TLS 1.2 (RFC 5246 §6.2.3.3).
    pub fn seal(&mut self, typ: u8, data: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        for chunk in data.chunks(MAX_PLAINTEXT) {
            let inner = chunk.len() + usize::from(self.tls13);
            let outer = if self.tls13 { APPLICATION_DATA } else { typ };
            let len = (inner + TAG_LEN) as u16;
            let mut header = [outer, 3, 3, 0, 0];
            header[3..5].copy_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&header);
            let start = out.len();
            out.extend_from_slice(chunk);
            if self.tls13 {
                out.push(typ);
            }
            let mut nonce = self.iv;
            for (n, s) in nonce[4..].iter_mut().zip(self.seq.to_be_bytes()) {
                *n ^= s;
            }
            let mut aad = [0u8; 13];
            let aad: &[u8] = if self.tls13 {
                &header
            } else {
                aad[..8].copy_from_slice(&self.seq.to_be_bytes());
                aad[8] = typ;
                aad[9..11].copy_from_slice(&[3, 3]);
                aad[11..13].copy_from_slice(&(chunk.len() as u16).to_be_bytes());
                &aad
            };
            let tag = self
                .key
                .seal_in_place_separate_tag(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(aad),
                    &mut out[start..],
                )
                .map_err(|_| io::Error::other("AEAD seal"))?;
            out.extend_from_slice(tag.as_ref());
            self.seq += 1;
        }
        Ok(())
    }
}

/// An output length for ring's HKDF, which takes it as a type.
struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// RFC 8446 §7.1 HKDF-Expand-Label with SHA-256.
pub fn expand_label(secret: &[u8], label: &[u8], out: &mut [u8]) -> io::Result<()> {
    let len = (out.len() as u16).to_be_bytes();
    let label_len = [(6 + label.len()) as u8];
    let info: [&[u8]; 5] = [&len, &label_len, b"tls13 ", label, &[0]];
    hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, secret)
        .expand(&info, Len(out.len()))
        .and_then(|okm| okm.fill(out))
        .map_err(|_| io::Error::other("HKDF-Expand-Label"))
}

/// RFC 8446 §7.3: the write key and IV of a TLS_AES_128_GCM_SHA256 traffic secret.
fn tls13_sealer(secret: &[u8]) -> io::Result<Sealer> {
    let mut key = [0u8; 16];
    let mut iv = [0u8; 12];
    expand_label(secret, b"key", &mut key)?;
    expand_label(secret, b"iv", &mut iv)?;
    Sealer::new(true, &key, iv)
}

/// RFC 5246 §5 PRF with SHA-256, filling `out`.
pub fn prf(secret: &[u8], label: &[u8], seed: &[u8], out: &mut [u8]) {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut a = hmac::sign(&key, &[label, seed].concat());
    for chunk in out.chunks_mut(32) {
        let block = hmac::sign(&key, &[a.as_ref(), label, seed].concat());
        chunk.copy_from_slice(&block.as_ref()[..chunk.len()]);
        a = hmac::sign(&key, a.as_ref());
    }
}

/// A connection's handshake as bytes on the wire, its record protection afterwards and its
/// key log lines.
pub struct Session {
    /// The client's first flight (ClientHello).
    pub client_hello: Vec<u8>,
    /// The server's flight (hellos and, for TLS 1.3, its encrypted handshake messages).
    pub server_flight: Vec<u8>,
    /// The client's second flight (TLS 1.2: ClientKeyExchange, CCS, Finished; TLS 1.3:
    /// Finished), sent before its first application data.
    pub client_finish: Vec<u8>,
    /// TLS 1.2: the server's CCS and Finished, sent before its first application data.
    pub server_finish: Vec<u8>,
    /// Application data protection, client then server.
    pub client: Sealer,
    pub server: Sealer,
    /// NSS key log lines.
    pub keylog: String,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A handshake message: type, 24-bit length, body.
fn message(typ: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![typ];
    m.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    m.extend_from_slice(body);
    m
}

fn vec8(out: &mut Vec<u8>, body: &[u8]) {
    out.push(body.len() as u8);
    out.extend_from_slice(body);
}

fn vec16(out: &mut Vec<u8>, body: &[u8]) {
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
}

fn ext(out: &mut Vec<u8>, typ: u16, body: &[u8]) {
    out.extend_from_slice(&typ.to_be_bytes());
    vec16(out, body);
}

/// An unprotected record.
fn clear_record(out: &mut Vec<u8>, typ: u8, body: &[u8]) {
    out.extend_from_slice(&[typ, 3, 3]);
    vec16(out, body);
}

fn alpn_body() -> Vec<u8> {
    let mut list = Vec::new();
    vec8(&mut list, b"http/1.1");
    let mut b = Vec::new();
    vec16(&mut b, &list);
    b
}

fn client_hello(mode: Mode, random: &[u8; 32], rng: &mut Rng) -> Vec<u8> {
    let tls13 = mode == Mode::Tls13Aes128Gcm;
    let mut b = vec![3, 3];
    b.extend_from_slice(random);
    // RFC 8446 §4.1.2: a TLS 1.3 client in compatibility mode sends a 32-byte session id.
    let mut sid = [0u8; 32];
    rng.fill(&mut sid);
    vec8(&mut b, if tls13 { &sid } else { &[] });
    let suites: &[u8] = if tls13 {
        &[0x13, 0x01, 0x13, 0x02, 0x13, 0x03]
    } else {
        &[0xCC, 0xA8, 0xC0, 0x2F]
    };
    vec16(&mut b, suites);
    vec8(&mut b, &[0]);
    let mut e = Vec::new();
    let mut names = vec![0];
    vec16(&mut names, SNI.as_bytes());
    let mut sni = Vec::new();
    vec16(&mut sni, &names);
    ext(&mut e, 0, &sni);
    ext(&mut e, 10, &[0, 2, 0, 0x1D]); // supported_groups: x25519
    ext(&mut e, 13, &[0, 6, 0x08, 0x04, 0x04, 0x03, 0x04, 0x01]); // signature_algorithms
    ext(&mut e, 16, &alpn_body());
    if tls13 {
        ext(&mut e, 43, &[4, 3, 4, 3, 3]); // supported_versions: 1.3, 1.2
        ext(&mut e, 45, &[1, 1]); // psk_key_exchange_modes: psk_dhe_ke
        let mut share = [0u8; 32];
        rng.fill(&mut share);
        let mut entry = vec![0, 0x1D];
        vec16(&mut entry, &share);
        let mut ks = Vec::new();
        vec16(&mut ks, &entry);
        ext(&mut e, 51, &ks);
    } else {
        ext(&mut e, 11, &[1, 0]); // ec_point_formats: uncompressed
        ext(&mut e, 0xFF01, &[0]); // renegotiation_info, empty
    }
    vec16(&mut b, &e);
    let mut rec = Vec::new();
    clear_record(&mut rec, HANDSHAKE, &message(1, &b));
    rec
}

fn server_hello(mode: Mode, random: &[u8; 32], client_sid: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(random);
    let mut e = Vec::new();
    match mode {
        Mode::Tls13Aes128Gcm => {
            vec8(&mut b, client_sid);
            b.extend_from_slice(&[0x13, 0x01, 0]);
            ext(&mut e, 43, &[3, 4]);
            let mut share = [0u8; 32];
            rng.fill(&mut share);
            let mut entry = vec![0, 0x1D];
            vec16(&mut entry, &share);
            ext(&mut e, 51, &entry);
        }
        Mode::Tls12Chacha20 => {
            let mut sid = [0u8; 32];
            rng.fill(&mut sid);
            vec8(&mut b, &sid);
            b.extend_from_slice(&[0xCC, 0xA8, 0]);
            ext(&mut e, 0xFF01, &[0]);
            ext(&mut e, 11, &[1, 0]);
            ext(&mut e, 16, &alpn_body());
        }
    }
    vec16(&mut b, &e);
    message(2, &b)
}

impl Session {
    /// A new connection's handshake; its randoms and secrets come from `rng`.
    pub fn new(mode: Mode, rng: &mut Rng) -> io::Result<Session> {
        let mut client_random = [0u8; 32];
        let mut server_random = [0u8; 32];
        rng.fill(&mut client_random);
        rng.fill(&mut server_random);
        let client_hello = client_hello(mode, &client_random, rng);
        // The session id sits after the record header (5), handshake header (4), version (2)
        // and random (32).
        let sid_len = usize::from(client_hello[43]);
        let client_sid = client_hello[44..44 + sid_len].to_vec();
        let sh = server_hello(mode, &server_random, &client_sid, rng);
        let cr = hex(&client_random);
        let mut verify = [0u8; 32];
        match mode {
            Mode::Tls13Aes128Gcm => {
                let mut secrets = [[0u8; 32]; 4];
                for s in &mut secrets {
                    rng.fill(s);
                }
                let [chs, shs, cts, sts] = secrets;
                let mut server_flight = Vec::new();
                clear_record(&mut server_flight, HANDSHAKE, &sh);
                let mut ee_exts = Vec::new();
                ext(&mut ee_exts, 16, &alpn_body());
                let mut ee = Vec::new();
                vec16(&mut ee, &ee_exts);
                let mut msgs = message(8, &ee);
                rng.fill(&mut verify);
                msgs.extend_from_slice(&message(20, &verify));
                tls13_sealer(&shs)?.seal(HANDSHAKE, &msgs, &mut server_flight)?;
                let mut client_finish = Vec::new();
                rng.fill(&mut verify);
                tls13_sealer(&chs)?.seal(HANDSHAKE, &message(20, &verify), &mut client_finish)?;
                let keylog = format!(
                    "CLIENT_HANDSHAKE_TRAFFIC_SECRET {cr} {}\nSERVER_HANDSHAKE_TRAFFIC_SECRET {cr} {}\n\
                     CLIENT_TRAFFIC_SECRET_0 {cr} {}\nSERVER_TRAFFIC_SECRET_0 {cr} {}\n",
                    hex(&chs),
                    hex(&shs),
                    hex(&cts),
                    hex(&sts)
                );
                Ok(Session {
                    client_hello,
                    server_flight,
                    client_finish,
                    server_finish: Vec::new(),
                    client: tls13_sealer(&cts)?,
                    server: tls13_sealer(&sts)?,
                    keylog,
                })
            }
            Mode::Tls12Chacha20 => {
                let mut master = [0u8; 48];
                rng.fill(&mut master);
                // RFC 5246 §6.3: client key, server key, client IV, server IV (no MAC keys
                // for an AEAD); the seed is server_random + client_random.
                let mut block = [0u8; 2 * (32 + 12)];
                prf(
                    &master,
                    b"key expansion",
                    &[server_random, client_random].concat(),
                    &mut block,
                );
                let iv = |at: usize| -> [u8; 12] {
                    let mut iv = [0u8; 12];
                    iv.copy_from_slice(&block[at..at + 12]);
                    iv
                };
                let mut client = Sealer::new(false, &block[..32], iv(64))?;
                let mut server = Sealer::new(false, &block[32..64], iv(76))?;
                let mut server_flight = Vec::new();
                let mut msgs = sh;
                msgs.extend_from_slice(&message(14, &[])); // ServerHelloDone
                clear_record(&mut server_flight, HANDSHAKE, &msgs);
                let mut client_finish = Vec::new();
                let mut point = [0u8; 32];
                rng.fill(&mut point);
                let mut cke = Vec::new();
                vec8(&mut cke, &point);
                clear_record(&mut client_finish, HANDSHAKE, &message(16, &cke));
                clear_record(&mut client_finish, CHANGE_CIPHER_SPEC, &[1]);
                rng.fill(&mut verify);
                client.seal(HANDSHAKE, &message(20, &verify[..12]), &mut client_finish)?;
                let mut server_finish = Vec::new();
                clear_record(&mut server_finish, CHANGE_CIPHER_SPEC, &[1]);
                rng.fill(&mut verify);
                server.seal(HANDSHAKE, &message(20, &verify[..12]), &mut server_finish)?;
                Ok(Session {
                    client_hello,
                    server_flight,
                    client_finish,
                    server_finish,
                    client,
                    server,
                    keylog: format!("CLIENT_RANDOM {cr} {}\n", hex(&master)),
                })
            }
        }
    }
}

/// RFC 8446 §6.1: close_notify, a warning-level alert.
pub fn close_notify(sealer: &mut Sealer, out: &mut Vec<u8>) -> io::Result<()> {
    sealer.seal(ALERT, &[1, 0], out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn rfc8448_server_handshake_key_and_iv() {
        // RFC 8448 §3 (simple 1-RTT handshake): the server handshake traffic secret and the
        // write key and IV derived from it.
        let secret = unhex(
            "b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38",
        );
        let mut key = [0u8; 16];
        let mut iv = [0u8; 12];
        expand_label(&secret, b"key", &mut key).unwrap();
        expand_label(&secret, b"iv", &mut iv).unwrap();
        assert_eq!(
            key.to_vec(),
            unhex("3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc")
        );
        assert_eq!(iv.to_vec(), unhex("5d 31 3e b2 67 12 76 ee 13 00 0b 30"));
    }

    #[test]
    fn records_are_split_at_the_plaintext_limit() {
        let mut s = tls13_sealer(&[7u8; 32]).unwrap();
        let mut out = Vec::new();
        s.seal(APPLICATION_DATA, &vec![0xAB; MAX_PLAINTEXT + 10], &mut out)
            .unwrap();
        // Two records: 2^14 + type + tag, then 10 + type + tag.
        let first = MAX_PLAINTEXT + 1 + TAG_LEN;
        assert_eq!(&out[..5], &[23, 3, 3, (first >> 8) as u8, first as u8]);
        assert_eq!(&out[5 + first..5 + first + 5], &[23, 3, 3, 0, 27]);
        assert_eq!(out.len(), 5 + first + 5 + 27);
        assert_eq!(s.seq, 2);
    }
}
