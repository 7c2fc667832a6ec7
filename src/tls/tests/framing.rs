//! Sniffing, framing errors, alerts and unsupported choices, with hand-made records.

use super::rfc8448::{client_hello_record, keylog, trace};
use super::{Ev, run};
use crate::tls::{KeyLog, Sniff, TlsConfig, TlsConn, sniff};

#[test]
fn sniff_decides_on_six_bytes() {
    let ch = client_hello_record();
    assert_eq!(sniff(&ch), Sniff::Yes);
    assert_eq!(sniff(&ch[..6]), Sniff::Yes);
    for n in 0..6 {
        assert_eq!(sniff(&ch[..n]), Sniff::NeedMore(6), "{n} bytes");
    }
    assert_eq!(sniff(b"GET / HTTP/1.1\r\n"), Sniff::No);
    assert_eq!(sniff(b"PRI * HTTP/2.0"), Sniff::No);
    // A ServerHello record, an application data record, a zero-length record.
    assert_eq!(sniff(&[22, 3, 3, 0, 90, 2]), Sniff::No);
    assert_eq!(sniff(&[23, 3, 3, 0, 90]), Sniff::No);
    assert_eq!(sniff(&[22, 3, 1, 0, 0, 1]), Sniff::No);
    // SSL 3.0 to TLS 1.3 record versions all start a hello.
    assert_eq!(sniff(&[22, 3, 0, 1, 0, 1]), Sniff::Yes);
    assert_eq!(sniff(&[22, 3, 5, 1, 0, 1]), Sniff::No);
}

fn server_hello(suite: [u8; 2], version: Option<[u8; 2]>) -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend([5u8; 32]);
    body.extend([0, suite[0], suite[1], 0]);
    match version {
        Some(v) => body.extend([0, 6, 0, 43, 0, 2, v[0], v[1]]),
        None => body.extend([0, 0]),
    }
    let mut rec = vec![22, 3, 3, 0, body.len() as u8 + 4, 2, 0, 0, body.len() as u8];
    rec.extend(body);
    rec
}

fn kinds(evs: &[Ev]) -> Vec<(Option<usize>, &'static str)> {
    evs.iter()
        .filter_map(|e| match e {
            Ev::Anomaly(s, k, _) => Some((*s, *k)),
            _ => None,
        })
        .collect()
}

#[test]
fn an_unsupported_suite_or_version_is_named_once_and_nothing_else_is_reported() {
    let keys = KeyLog::new();
    for (sh, name) in [
        (
            server_hello([0xc0, 0x2f], None),
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        ),
        (
            server_hello([0xc0, 0x13], None),
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        ),
        (
            server_hello([0x13, 0x04], Some([3, 4])),
            "TLS_AES_128_CCM_SHA256",
        ),
        (server_hello([0x00, 0x2f], Some([3, 2])), "TLS 1.1"),
    ] {
        let mut conn = TlsConn::new(TlsConfig::default());
        let input = vec![
            (0, client_hello_record()),
            (1, sh),
            (
                1,
                vec![23, 3, 3, 0, 40].into_iter().chain([0u8; 40]).collect(),
            ),
        ];
        let evs = run(&mut conn, &keys, &input, usize::MAX);
        if name == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" {
            // Supported (a TLS 1.2 suite): the early application record is a violation.
            assert_eq!(kinds(&evs), vec![(Some(1), "tls_malformed")]);
            continue;
        }
        assert_eq!(kinds(&evs), vec![(Some(1), "tls_unsupported")], "{name}");
        let Ev::Anomaly(_, _, detail) = &evs[0] else {
            panic!()
        };
        assert!(detail.contains(name), "{detail}");
    }
}

#[test]
fn a_record_header_that_is_not_tls_is_reported_and_searching_resumes() {
    let keys = keylog();
    let mut input = trace();
    // Garbage between the server's flight and its ticket: the search finds the ticket
    // record (it opens under the next sequence number) and decoding goes on.
    let (_, server) = &mut input[3];
    let mut damaged = vec![0x99, 0x98, 0x97, 0x96, 0x95, 0x94, 0x93];
    damaged.extend_from_slice(server);
    *server = damaged;
    let mut conn = TlsConn::new(TlsConfig::default());
    let evs = run(&mut conn, &keys, &input, 3);
    assert_eq!(kinds(&evs), vec![(Some(1), "tls_malformed")]);
    let payload: Vec<u8> = (0u8..50).collect();
    assert!(evs.contains(&Ev::Plaintext(0, payload.clone())));
    assert!(evs.contains(&Ev::Plaintext(1, payload)));
    assert!(evs.contains(&Ev::Lost(1, 0)));
}

#[test]
fn a_fatal_alert_is_named() {
    let keys = KeyLog::new();
    let mut conn = TlsConn::new(TlsConfig::default());
    let input = vec![(0, client_hello_record()), (1, vec![21, 3, 3, 0, 2, 2, 40])];
    let evs = run(&mut conn, &keys, &input, usize::MAX);
    assert_eq!(kinds(&evs), vec![(Some(1), "tls_alert")]);
    let Ev::Anomaly(_, _, detail) = &evs[0] else {
        panic!()
    };
    assert!(detail.contains("handshake_failure(40)"), "{detail}");
}

#[test]
fn an_oversized_handshake_message_is_skipped_and_reported() {
    let keys = KeyLog::new();
    let config = TlsConfig {
        max_handshake_bytes: 100,
        ..TlsConfig::default()
    };
    let mut conn = TlsConn::new(config);
    let evs = run(&mut conn, &keys, &[(0, client_hello_record())], 7);
    assert_eq!(kinds(&evs), vec![(Some(0), "tls_malformed")]);
    assert_eq!(conn.client_side(), None);
}

#[test]
fn held_records_beyond_the_limit_are_dropped_and_reported_without_keys() {
    let keys = KeyLog::new();
    let config = TlsConfig {
        max_pending_bytes: 300,
        ..TlsConfig::default()
    };
    let mut conn = TlsConn::new(config);
    let evs = run(&mut conn, &keys, &trace(), usize::MAX);
    // The server's 679-byte flight alone exceeds the limit.
    assert_eq!(
        kinds(&evs),
        vec![(Some(1), "tls_no_keys"), (Some(0), "tls_no_keys")]
    );
    assert!(conn.memory() < 4096);
}
