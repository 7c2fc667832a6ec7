//! TLS record decryption throughput through `TlsConn`: 16 KiB TLS 1.3 records (AES-128-GCM,
//! ChaCha20-Poly1305; the SHA-256 suites) fed in MSS-sized pieces, as TCP reassembly delivers them.
//! The records are sealed here with ring under a made-up traffic secret given in the key log.
//!
//!     cargo bench --bench tls

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hkdf;
use wsnoop::tls::{KeyLog, TlsConfig, TlsConn, TlsEvent};

const MSS: usize = 1448;
const RECORD: usize = 16 << 10;
const RECORDS: usize = 64;
const RANDOM: [u8; 32] = [7; 32];
const SECRET: [u8; 32] = [9; 32];

struct Len(usize);
impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// RFC 8446 §7.1 HKDF-Expand-Label with SHA-256 and an empty context.
fn expand(secret: &[u8], label: &[u8], len: usize) -> Vec<u8> {
    let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, secret);
    let full = [b"tls13 ".as_slice(), label].concat();
    let info = [
        &(len as u16).to_be_bytes()[..],
        &[full.len() as u8],
        &full,
        &[0u8],
    ];
    let mut out = vec![0; len];
    prk.expand(&info, Len(len)).unwrap().fill(&mut out).unwrap();
    out
}

fn handshake(typ: u8, body: &[u8]) -> Vec<u8> {
    let mut msg = vec![typ, 0, (body.len() >> 8) as u8, body.len() as u8];
    msg.extend_from_slice(body);
    let mut rec = vec![22, 3, 3, (msg.len() >> 8) as u8, msg.len() as u8];
    rec.extend(msg);
    rec
}

/// A ClientHello and ServerHello choosing `suite` in TLS 1.3 (supported_versions), then
/// RECORDS application records from the server, and the key log that opens them.
fn connection(suite: u16, alg: &'static aead::Algorithm) -> (Vec<u8>, Vec<u8>, KeyLog, usize) {
    let s = suite.to_be_bytes();
    let mut ch = vec![3, 3];
    ch.extend(RANDOM);
    ch.extend([0, 0, 2, s[0], s[1], 1, 0, 0, 7, 0, 43, 0, 3, 2, 3, 4]);
    let mut sh = vec![3, 3];
    sh.extend([5u8; 32]);
    sh.extend([0, s[0], s[1], 0, 0, 6, 0, 43, 0, 2, 3, 4]);
    let client = handshake(1, &ch);
    let mut server = handshake(2, &sh);
    let key = expand(&SECRET, b"key", alg.key_len());
    let iv: [u8; 12] = expand(&SECRET, b"iv", 12).try_into().unwrap();
    let key = LessSafeKey::new(UnboundKey::new(alg, &key).unwrap());
    let mut plain = 0;
    for seq in 0..RECORDS as u64 {
        let mut body: Vec<u8> = (0..RECORD).map(|i| (i as u64 * 31 + seq) as u8).collect();
        plain += body.len();
        body.push(23);
        let len = body.len() + 16;
        let header = [23, 3, 3, (len >> 8) as u8, len as u8];
        let mut nonce = iv;
        for (n, b) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
            *n ^= b;
        }
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(header),
            &mut body,
        )
        .unwrap();
        server.extend(header);
        server.extend(body);
    }
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let mut keys = KeyLog::new();
    let line = format!(
        "SERVER_TRAFFIC_SECRET_0 {} {}\n",
        hex(&RANDOM),
        hex(&SECRET)
    );
    assert!(keys.add_text(line.as_bytes(), 1).is_empty());
    (client, server, keys, plain)
}

fn decode(client: &[u8], server: &[u8], keys: &KeyLog) -> usize {
    let mut conn = TlsConn::new(TlsConfig::default());
    let mut n = 0;
    let mut on = |e: TlsEvent<'_>| match e {
        TlsEvent::Plaintext { data, .. } => n += black_box(data).len(),
        TlsEvent::Established(_) => {}
        other => panic!("bench input raised {other:?}"),
    };
    conn.feed(0, client, keys, &mut on);
    for chunk in server.chunks(MSS) {
        conn.feed(1, chunk, keys, &mut on);
    }
    n
}

fn tls_decrypt(c: &mut Criterion) {
    let mut g = c.benchmark_group("tls_decrypt_16k_records");
    for (name, suite, alg) in [
        ("aes128gcm", 0x1301, &aead::AES_128_GCM),
        ("chacha20poly1305", 0x1303, &aead::CHACHA20_POLY1305),
    ] {
        let (client, server, keys, plain) = connection(suite, alg);
        assert_eq!(decode(&client, &server, &keys), plain);
        g.throughput(Throughput::Bytes(plain as u64));
        g.bench_function(name, |b| b.iter(|| decode(&client, &server, &keys)));
        // The same records opened by ring alone (a copy and an open per record, no TLS
        // layer): the ceiling the layer is measured against.
        let bare = LessSafeKey::new(
            UnboundKey::new(alg, &expand(&SECRET, b"key", alg.key_len())).unwrap(),
        );
        let iv: [u8; 12] = expand(&SECRET, b"iv", 12).try_into().unwrap();
        let records: Vec<&[u8]> = server[server.len() - RECORDS * (RECORD + 22)..]
            .chunks(RECORD + 22)
            .collect();
        let mut buf = Vec::with_capacity(RECORD + 22);
        g.bench_function(format!("{name}_ring_only"), |b| {
            b.iter(|| {
                let mut n = 0;
                for (seq, rec) in records.iter().enumerate() {
                    buf.clear();
                    buf.extend_from_slice(&rec[5..]);
                    let mut nonce = iv;
                    for (x, y) in nonce[4..].iter_mut().zip((seq as u64).to_be_bytes()) {
                        *x ^= y;
                    }
                    let header: [u8; 5] = rec[..5].try_into().unwrap();
                    let nonce = Nonce::assume_unique_for_key(nonce);
                    n += bare
                        .open_in_place(nonce, Aad::from(header), &mut buf)
                        .unwrap()
                        .len()
                        - 1;
                }
                assert_eq!(n, plain);
                n
            })
        });
    }
    g.finish();
}

criterion_group!(benches, tls_decrypt);
criterion_main!(benches);
