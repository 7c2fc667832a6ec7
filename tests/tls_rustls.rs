//! The TLS layer against an independent TLS stack: rustls client and server talk in memory,
//! their key log comes from rustls's own `KeyLog`, and their bytes (both directions, in the
//! order written, cut into random segments) go through `TlsConn`, which must give back
//! exactly what each application wrote: TLS 1.2 and 1.3, every suite rustls offers with its
//! ring provider, resumption (1.2 session ID and ticket, 1.3 PSK), KeyUpdate, 0-RTT, and the
//! failure paths (missing keys, a flipped byte, a hole).

use std::io::{Read, Write};
use std::sync::Arc;

use rustls::crypto::{CryptoProvider, ring as provider};
use rustls::pki_types::ServerName;
use rustls::{
    ClientConfig, ClientConnection, Connection, HandshakeKind, ServerConfig, ServerConnection,
    SupportedCipherSuite,
};
mod tlsutil;

use tlsutil::{AnyCert, KeyLines as Log, cert};
use wsnoop::event::TlsInfo;
use wsnoop::tls::{KeyLog, TlsConfig, TlsConn, TlsEvent};

/// Deterministic pseudo-random numbers (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// The IANA name (rustls calls its TLS 1.3 suites `TLS13_*`).
fn suite_name(suite: SupportedCipherSuite) -> String {
    suite
        .suite()
        .as_str()
        .unwrap()
        .replacen("TLS13_", "TLS_", 1)
}

/// Both configurations for one suite; the client keeps its session cache across connections.
struct Peers {
    client: Arc<ClientConfig>,
    server: Arc<ServerConfig>,
    log: Arc<Log>,
}

struct Options {
    tickets: bool,
    early_data: bool,
}

fn peers(suite: SupportedCipherSuite, opts: &Options) -> Peers {
    // Deprecated for lacking post-quantum key exchange, which records do not care about;
    // it is the provider that needs no cmake (aws-lc).
    #[allow(deprecated)]
    let base = provider::default_provider();
    let provider = Arc::new(CryptoProvider {
        cipher_suites: vec![suite],
        ..base
    });
    let version = suite.version();
    let ecdsa = suite_name(suite).contains("ECDSA");
    let (crt, key) = cert(if ecdsa { "ec" } else { "rsa" });
    let mut server = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[version])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![crt], key)
        .unwrap();
    if opts.tickets {
        server.ticketer = provider::Ticketer::new().unwrap();
    }
    if opts.early_data {
        server.max_early_data_size = 1 << 16;
    }
    let log = Arc::new(Log::default());
    let mut client = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[version])
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCert(provider)))
        .with_no_client_auth();
    client.key_log = log.clone();
    client.alpn_protocols = vec![b"http/1.1".to_vec()];
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    client.enable_early_data = opts.early_data;
    Peers {
        client: Arc::new(client),
        server: Arc::new(server),
        log,
    }
}

/// One TLS connection's exchange: the bytes on the wire and what each application wrote.
#[derive(Default)]
struct Exchange {
    /// (side, bytes) in the order written; side 0 the client.
    wire: Vec<(usize, Vec<u8>)>,
    sent: [Vec<u8>; 2],
    received: [Vec<u8>; 2],
    resumed: bool,
    client_random: [u8; 32],
}

/// Moves everything either side wants to write to the other until both are quiet.
fn pump(conns: &mut [Connection; 2], ex: &mut Exchange) {
    loop {
        let mut moved = false;
        for side in 0..2 {
            let mut buf = Vec::new();
            while conns[side].wants_write() {
                conns[side].write_tls(&mut buf).unwrap();
            }
            if buf.is_empty() {
                continue;
            }
            moved = true;
            ex.wire.push((side, buf.clone()));
            let other = &mut conns[1 - side];
            let mut rd = &buf[..];
            while !rd.is_empty() {
                other.read_tls(&mut rd).unwrap();
                other.process_new_packets().unwrap();
                // Read as it arrives: rustls holds a bounded amount of plaintext.
                let mut got = Vec::new();
                match other.reader().read_to_end(&mut got) {
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) => panic!("{e}"),
                }
                ex.received[side].extend_from_slice(&got);
            }
        }
        if !moved {
            return;
        }
    }
}

/// What a connection does after its handshake.
struct Script {
    messages: usize,
    key_update: bool,
    early: Option<Vec<u8>>,
}

fn converse(p: &Peers, rng: &mut Rng, script: &Script) -> Exchange {
    let mut ex = Exchange::default();
    let mut client =
        ClientConnection::new(p.client.clone(), ServerName::try_from("localhost").unwrap())
            .unwrap();
    if let Some(early) = &script.early {
        let mut w = client.early_data().expect("0-RTT allowed by the ticket");
        w.write_all(early).unwrap();
        ex.sent[0].extend_from_slice(early);
    }
    let server = ServerConnection::new(p.server.clone()).unwrap();
    let mut conns = [Connection::Client(client), Connection::Server(server)];
    pump(&mut conns, &mut ex);
    if let Connection::Server(s) = &mut conns[1]
        && let Some(mut early) = s.early_data()
    {
        let mut got = Vec::new();
        early.read_to_end(&mut got).unwrap();
        ex.received[0].splice(0..0, got);
    }
    assert!(!conns[0].is_handshaking() && !conns[1].is_handshaking());
    ex.resumed = conns[0].handshake_kind() == Some(HandshakeKind::Resumed);
    for i in 0..script.messages {
        // Sizes from empty to three records' worth.
        let side = i % 2;
        let size = match rng.below(4) {
            0 => rng.below(16),
            1 => rng.below(2000),
            2 => rng.below(20_000),
            _ => 40_000 + rng.below(10_000),
        };
        let data = rng.bytes(size);
        conns[side].writer().write_all(&data).unwrap();
        ex.sent[side].extend_from_slice(&data);
        pump(&mut conns, &mut ex);
        if script.key_update && i == script.messages / 2 {
            conns[0].refresh_traffic_keys().unwrap();
            conns[1].refresh_traffic_keys().unwrap();
            pump(&mut conns, &mut ex);
        }
    }
    conns[0].send_close_notify();
    conns[1].send_close_notify();
    pump(&mut conns, &mut ex);
    assert!(
        ex.received == ex.sent,
        "rustls itself delivered what was sent: {} {} / {} {}",
        ex.received[0].len(),
        ex.received[1].len(),
        ex.sent[0].len(),
        ex.sent[1].len()
    );
    // The ClientHello's random: bytes 11..43 of the first record.
    ex.client_random = ex.wire[0].1[11..43].try_into().unwrap();
    ex
}

/// How a test hands one piece of a side's stream to the decoder (feed it, or damage it).
type Mutate<'a> = dyn FnMut(&mut TlsConn, usize, &[u8], &KeyLog, &mut dyn FnMut(TlsEvent<'_>)) + 'a;

/// What the decoder made of a connection.
#[derive(Default, Debug)]
struct Decoded {
    plain: [Vec<u8>; 2],
    info: Option<TlsInfo>,
    established_before_data: bool,
    lost: Vec<(usize, u64)>,
    closed: Vec<usize>,
    anomalies: Vec<(Option<usize>, String, String)>,
}

fn decode_with(ex: &Exchange, keys: &KeyLog, rng: &mut Rng, mutate: &mut Mutate<'_>) -> Decoded {
    let mut conn = TlsConn::new(TlsConfig::default());
    let mut d = Decoded {
        established_before_data: true,
        ..Decoded::default()
    };
    let mut on = |e: TlsEvent<'_>| match e {
        TlsEvent::Established(i) => {
            assert!(d.info.is_none(), "established twice");
            d.info = Some(i.clone());
        }
        TlsEvent::Plaintext { side, data } => {
            if d.info.is_none() {
                d.established_before_data = false;
            }
            d.plain[side].extend_from_slice(data);
        }
        TlsEvent::Lost { side, len } => d.lost.push((side, len)),
        TlsEvent::Closed { side } => d.closed.push(side),
        TlsEvent::Anomaly { side, anomaly } => {
            d.anomalies
                .push((side, anomaly.kind.as_str().to_owned(), anomaly.detail))
        }
    };
    for (side, bytes) in &ex.wire {
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let n = (1 + rng.below(3000)).min(rest.len());
            mutate(&mut conn, *side, &rest[..n], keys, &mut on);
            rest = &rest[n..];
        }
    }
    conn.finish(keys, &mut on);
    assert_eq!(conn.client_side(), Some(0));
    d
}

fn decode(ex: &Exchange, keys: &KeyLog, rng: &mut Rng) -> Decoded {
    decode_with(ex, keys, rng, &mut |c, side, data, keys, on| {
        c.feed(side, data, keys, on)
    })
}

fn keylog(p: &Peers) -> KeyLog {
    let mut keys = KeyLog::new();
    let text = p.log.0.lock().unwrap().clone();
    assert_eq!(keys.add_text(text.as_bytes(), 1), vec![]);
    keys
}

fn assert_exact(d: &Decoded, ex: &Exchange, suite: SupportedCipherSuite, what: &str) {
    assert_eq!(d.anomalies, vec![], "{what}");
    assert_eq!(d.lost, vec![], "{what}");
    assert!(d.plain[0] == ex.sent[0], "{what}: client plaintext differs");
    assert!(d.plain[1] == ex.sent[1], "{what}: server plaintext differs");
    assert!(d.established_before_data, "{what}");
    let info = d.info.as_ref().expect("established");
    let tls13 = suite.version() == &rustls::version::TLS13;
    assert_eq!(info.version, if tls13 { "1.3" } else { "1.2" }, "{what}");
    assert_eq!(info.cipher, suite_name(suite), "{what}");
    assert_eq!(info.sni.as_deref(), Some("localhost"), "{what}");
    assert_eq!(info.alpn.as_deref(), Some("http/1.1"), "{what}");
    assert_eq!(info.resumed, ex.resumed, "{what}");
    assert_eq!(d.closed, vec![0, 1], "{what}");
}

#[test]
fn every_suite_decrypts_exactly_with_resumption_and_key_update() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for &suite in provider::ALL_CIPHER_SUITES {
        let tls13 = suite.version() == &rustls::version::TLS13;
        // TLS 1.2: session IDs (no ticketer), then tickets; TLS 1.3: PSK from tickets.
        for tickets in [false, true] {
            let p = peers(
                suite,
                &Options {
                    tickets,
                    early_data: false,
                },
            );
            let first = converse(
                &p,
                &mut rng,
                &Script {
                    messages: 8,
                    key_update: tls13,
                    early: None,
                },
            );
            let second = converse(
                &p,
                &mut rng,
                &Script {
                    messages: 6,
                    key_update: false,
                    early: None,
                },
            );
            assert!(!first.resumed);
            assert!(
                second.resumed,
                "{} tickets={tickets}: rustls resumed",
                suite_name(suite)
            );
            let keys = keylog(&p);
            for (ex, name) in [(&first, "full"), (&second, "resumed")] {
                for round in 0..3 {
                    let d = decode(ex, &keys, &mut rng);
                    let what = format!(
                        "{} tickets={tickets} {name} round {round}",
                        suite_name(suite)
                    );
                    assert_exact(&d, ex, suite, &what);
                }
            }
        }
    }
}

#[test]
fn tls13_early_data_is_decrypted_when_the_early_secret_is_logged() {
    let mut rng = Rng(7);
    let suite = provider::cipher_suite::TLS13_AES_128_GCM_SHA256;
    // rustls accepts 0-RTT only with stateful tickets (no ticketer).
    let opts = Options {
        tickets: false,
        early_data: true,
    };
    let p = peers(suite, &opts);
    let script = |early| Script {
        messages: 4,
        key_update: false,
        early,
    };
    let _first = converse(&p, &mut rng, &script(None));
    let early = b"GET /early HTTP/1.1\r\nHost: localhost\r\n\r\n".to_vec();
    let second = converse(&p, &mut rng, &script(Some(early.clone())));
    assert!(second.resumed);
    let keys = keylog(&p);
    let text = p.log.0.lock().unwrap().clone();
    assert!(text.contains("CLIENT_EARLY_TRAFFIC_SECRET"));
    let d = decode(&second, &keys, &mut rng);
    assert_exact(&d, &second, suite, "0-RTT");
    assert!(d.plain[0].starts_with(&early));
}

fn tls13_and_tls12() -> [SupportedCipherSuite; 2] {
    [
        provider::cipher_suite::TLS13_AES_256_GCM_SHA384,
        provider::cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]
}

fn plain_exchange(suite: SupportedCipherSuite, rng: &mut Rng) -> (Peers, Exchange) {
    let p = peers(
        suite,
        &Options {
            tickets: false,
            early_data: false,
        },
    );
    let ex = converse(
        &p,
        rng,
        &Script {
            messages: 10,
            key_update: false,
            early: None,
        },
    );
    (p, ex)
}

#[test]
fn missing_keys_are_reported_once_per_direction() {
    let mut rng = Rng(11);
    for suite in tls13_and_tls12() {
        let (_, ex) = plain_exchange(suite, &mut rng);
        let d = decode(&ex, &KeyLog::new(), &mut rng);
        assert!(d.plain[0].is_empty() && d.plain[1].is_empty());
        let random: String = ex
            .client_random
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let kinds: Vec<_> = d
            .anomalies
            .iter()
            .map(|(s, k, _)| (*s, k.as_str()))
            .collect();
        assert_eq!(
            kinds,
            vec![(Some(0), "tls_no_keys"), (Some(1), "tls_no_keys")],
            "{}",
            suite_name(suite)
        );
        for (_, _, detail) in &d.anomalies {
            assert!(detail.contains(&random), "{detail}");
            assert!(detail.contains("SNI localhost"), "{detail}");
        }
    }
}

#[test]
fn keys_logged_after_the_records_still_decrypt_them() {
    let mut rng = Rng(12);
    for suite in tls13_and_tls12() {
        let (p, ex) = plain_exchange(suite, &mut rng);
        let mut keys = KeyLog::new();
        let mut conn = TlsConn::new(TlsConfig::default());
        let mut plain = [Vec::new(), Vec::new()];
        let mut other = Vec::new();
        let mut on = |e: TlsEvent<'_>| match e {
            TlsEvent::Plaintext { side, data } => plain[side].extend_from_slice(data),
            TlsEvent::Anomaly { anomaly, .. } => other.push(anomaly.kind.as_str()),
            _ => {}
        };
        let half = ex.wire.len() / 2;
        for (side, bytes) in &ex.wire[..half] {
            conn.feed(*side, bytes, &keys, &mut on);
        }
        assert!(conn.memory() > 1000, "records are held");
        let text = p.log.0.lock().unwrap().clone();
        keys.add_text(text.as_bytes(), 1);
        conn.retry(&keys, &mut on);
        for (side, bytes) in &ex.wire[half..] {
            conn.feed(*side, bytes, &keys, &mut on);
        }
        conn.finish(&keys, &mut on);
        assert_eq!(other, Vec::<&str>::new());
        assert!(
            plain[0] == ex.sent[0] && plain[1] == ex.sent[1],
            "{}",
            suite_name(suite)
        );
    }
}

/// Offset in the exchange's wire of the first byte of side `side`'s `n`th record whose body
/// is at least `min` bytes, counted within that side's stream.
fn big_record(ex: &Exchange, side: usize, n: usize, min: usize) -> (usize, usize) {
    let stream: Vec<u8> = ex
        .wire
        .iter()
        .filter(|(s, _)| *s == side)
        .flat_map(|(_, b)| b.clone())
        .collect();
    let mut at = 0;
    let mut seen = 0;
    while at + 5 <= stream.len() {
        let len = u16::from_be_bytes([stream[at + 3], stream[at + 4]]) as usize;
        if stream[at] == 23 && len >= min {
            if seen == n {
                return (at, len);
            }
            seen += 1;
        }
        at += 5 + len;
    }
    panic!("no such record");
}

/// Runs the wire with side `side`'s stream offsets [from, to) replaced: `flip` flips the
/// byte at `from`, else the bytes are a hole.
fn damaged(
    ex: &Exchange,
    side: usize,
    from: usize,
    to: usize,
    flip: bool,
    keys: &KeyLog,
) -> Decoded {
    let mut rng = Rng(99);
    let mut pos = 0usize;
    decode_with(ex, keys, &mut rng, &mut |c, s, data, keys, on| {
        if s != side {
            return c.feed(s, data, keys, on);
        }
        let start = pos;
        pos += data.len();
        let end = pos;
        if end <= from || start >= to {
            return c.feed(s, data, keys, on);
        }
        if flip {
            let mut copy = data.to_vec();
            copy[from - start] ^= 0x20;
            return c.feed(s, &copy, keys, on);
        }
        let a = from.max(start) - start;
        let b = to.min(end) - start;
        c.feed(s, &data[..a], keys, on);
        // The hole is reported once, where it starts, as a reassembler does.
        if (start..end).contains(&from) {
            c.gap(s, (to - from) as u64, keys, on);
        }
        c.feed(s, &data[b..], keys, on);
    })
}

#[test]
fn a_flipped_byte_is_a_decrypt_error_and_the_next_records_decrypt() {
    let mut rng = Rng(13);
    for suite in tls13_and_tls12() {
        let (p, ex) = plain_exchange(suite, &mut rng);
        let keys = keylog(&p);
        let (at, len) = big_record(&ex, 1, 2, 1000);
        let d = damaged(&ex, 1, at + 100, at + 101, true, &keys);
        let kinds: Vec<_> = d
            .anomalies
            .iter()
            .map(|(s, k, _)| (*s, k.as_str()))
            .collect();
        assert_eq!(
            kinds,
            vec![(Some(1), "tls_decrypt_error")],
            "{}",
            suite_name(suite)
        );
        assert!(
            d.anomalies[0].2.contains(&format!("at byte {at}")),
            "{:?}",
            d.anomalies
        );
        let tls13 = suite.version() == &rustls::version::TLS13;
        // TLS 1.2 ChaCha20: the plaintext length is the record's less the 16-byte tag.
        let lost = if tls13 { 0 } else { (len - 16) as u64 };
        assert_eq!(d.lost, vec![(1, lost)]);
        // Everything else arrives: the server's plaintext is what was sent less that record.
        assert!(d.plain[0] == ex.sent[0]);
        assert_eq!(
            d.plain[1].len() as u64 + (len as u64 - 16 - u64::from(tls13)),
            ex.sent[1].len() as u64
        );
        assert!(ex.sent[1].ends_with(&d.plain[1][d.plain[1].len() - 1000..]));
    }
}

#[test]
fn a_hole_inside_a_record_loses_that_record_only() {
    let mut rng = Rng(14);
    for suite in tls13_and_tls12() {
        let (p, ex) = plain_exchange(suite, &mut rng);
        let keys = keylog(&p);
        let (at, len) = big_record(&ex, 0, 1, 3000);
        let d = damaged(&ex, 0, at + 50, at + 1050, false, &keys);
        assert_eq!(d.anomalies, vec![], "{}", suite_name(suite));
        assert_eq!(d.lost.len(), 1);
        assert_eq!(d.plain[1], ex.sent[1]);
        let tls13 = suite.version() == &rustls::version::TLS13;
        let plain_len = (len - 16 - usize::from(tls13)) as u64;
        assert_eq!(d.lost[0], (0, if tls13 { 0 } else { plain_len }));
        assert_eq!(d.plain[0].len() as u64 + plain_len, ex.sent[0].len() as u64);
    }
}

#[test]
fn a_hole_across_records_resynchronises_at_the_next_record() {
    let mut rng = Rng(15);
    for suite in tls13_and_tls12() {
        let (p, ex) = plain_exchange(suite, &mut rng);
        let keys = keylog(&p);
        // From the middle of one big record to the middle of the record after the next.
        let (a, _) = big_record(&ex, 1, 1, 1000);
        let (b, blen) = big_record(&ex, 1, 3, 1000);
        let d = damaged(&ex, 1, a + 500, b + blen / 2, false, &keys);
        assert_eq!(d.anomalies, vec![], "{}", suite_name(suite));
        assert_eq!(d.lost, vec![(1, 0)]);
        assert!(d.plain[0] == ex.sent[0]);
        // What came before the hole is a prefix of what was sent, what came after it the
        // rest from the record after the one the hole ended in.
        let got = &d.plain[1];
        let sent = &ex.sent[1];
        let x = got.iter().zip(sent).take_while(|(a, b)| a == b).count();
        let rest = &got[x..];
        assert!(x > 0 && !rest.is_empty() && got.len() < sent.len());
        assert!(sent.ends_with(rest), "{}", suite_name(suite));
    }
}
