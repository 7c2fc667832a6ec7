//! The decision must not depend on how the capture interleaves the two directions: each
//! exchange, cut into random pieces and fed in a random interleaving (the 101 before its
//! request, client frames before the 101, one side far ahead), ends exactly as in wire order.

use super::tests::{HELLO, MASKED_HELLO, MAX, REQUEST, RESPONSE, cat, keep_alive_prelude};
use super::{HttpPhase, HttpStatus, RestPiece};
use crate::event::{Anomaly, Dir, OpenInfo};
use crate::handshake::DeflateParams;
use proptest::prelude::*;

/// How feeding ended: the upgrade with each side's bytes after its handshake (`rest` plus
/// whatever was fed after the decision), or why not.
#[derive(Debug, PartialEq)]
enum Outcome {
    Upgraded {
        client_side: usize,
        info: Box<OpenInfo>,
        deflate: Option<DeflateParams>,
        anomalies: Vec<(Dir, Anomaly)>,
        resync: [bool; 2],
        /// Indexed by side.
        after: [Vec<u8>; 2],
    },
    Not {
        reason: String,
        looked_like_http: bool,
    },
    Pending,
}

/// Feeds `pieces` (side, bytes) in order and gathers the outcome.
fn feed_all(pieces: &[(usize, &[u8])]) -> Outcome {
    let mut p = HttpPhase::new(MAX);
    let mut out = Outcome::Pending;
    for &(side, bytes) in pieces {
        let status = p.feed(side, bytes);
        match (&mut out, status) {
            (Outcome::Pending, HttpStatus::Upgraded(up)) => {
                out = Outcome::Upgraded {
                    client_side: up.client_side,
                    info: Box::new(up.info),
                    deflate: up.deflate,
                    anomalies: up.anomalies,
                    resync: up.resync,
                    after: up.rest,
                };
            }
            (
                Outcome::Pending,
                HttpStatus::NotWebSocket {
                    reason,
                    looked_like_http,
                    ..
                },
            ) => {
                out = Outcome::Not {
                    reason,
                    looked_like_http,
                }
            }
            // Once decided, later bytes go to the frame decoder: they follow `rest`.
            (Outcome::Upgraded { after, .. }, HttpStatus::Upgraded(up)) => {
                assert!(up.rest.iter().all(Vec::is_empty), "rest handed over twice");
                if let Some(a) = after.get_mut(side) {
                    a.extend_from_slice(bytes);
                }
            }
            (Outcome::Not { .. }, HttpStatus::NotWebSocket { .. }) => {}
            (Outcome::Pending, HttpStatus::Pending) => {}
            (prev, status) => panic!("decision changed: {prev:?} then {status:?}"),
        }
    }
    out
}

/// The exchanges: (client's bytes, server's bytes).
fn exchanges() -> Vec<(Vec<u8>, Vec<u8>)> {
    let (mut ka_client, mut ka_server) = keep_alive_prelude();
    ka_client.extend_from_slice(REQUEST);
    ka_client.extend_from_slice(MASKED_HELLO);
    ka_server.extend_from_slice(RESPONSE);
    ka_server.extend_from_slice(HELLO);
    let refusal =
        b"HTTP/1.1 403 Forbidden\r\nContent-Length: 13\r\n\r\n\x81\x05hello\x88\x02\x03\xe8";
    vec![
        (cat(&[REQUEST, MASKED_HELLO]), cat(&[RESPONSE, HELLO, HELLO])),
        (ka_client, ka_server),
        // Pipelined: the 200 answers the first request.
        (
            cat(&[b"GET / HTTP/1.1\r\n\r\n", REQUEST, MASKED_HELLO]),
            cat(&[b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", RESPONSE]),
        ),
        // Refused, then a second upgrade accepted.
        (
            cat(&[REQUEST, REQUEST, MASKED_HELLO]),
            cat(&[
                b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n\x81\x00\r\n0\r\n\r\n",
                RESPONSE,
                HELLO,
            ]),
        ),
        // Refused, then a frame anyway: never WebSocket.
        (cat(&[REQUEST, MASKED_HELLO]), refusal.to_vec()),
        // Refused for good.
        (REQUEST.to_vec(), refusal[..refusal.len() - 4].to_vec()),
        // A HEAD answer's length describes no body.
        (
            cat(&[b"HEAD / HTTP/1.1\r\n\r\n", REQUEST]),
            cat(&[
                b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n",
                RESPONSE,
                HELLO,
            ]),
        ),
        // A 101 answering a plain request.
        (cat(&[b"GET / HTTP/1.1\r\n\r\n", REQUEST]), RESPONSE.to_vec()),
        // An interim response before the final one.
        (
            cat(&[b"GET / HTTP/1.1\r\n\r\n", REQUEST, MASKED_HELLO]),
            cat(&[
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
                RESPONSE,
            ]),
        ),
    ]
}

/// `data` cut at `cuts` (taken modulo its length), in order.
fn pieces<'a>(data: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    at.push(0);
    at.push(data.len());
    at.sort_unstable();
    at.dedup();
    at.windows(2).filter_map(|w| data.get(w[0]..w[1])).collect()
}

/// The two sides' pieces merged: `order[i]` says whether the next piece is the server's.
fn interleave<'a>(
    client: &[&'a [u8]],
    server: &[&'a [u8]],
    client_side: usize,
    order: &[bool],
) -> Vec<(usize, &'a [u8])> {
    let (mut c, mut s) = (client.iter(), server.iter());
    let mut out = Vec::new();
    let mut choice = order.iter().copied().cycle();
    loop {
        let server_next = choice.next().unwrap_or(false);
        let next = if server_next {
            s.next().map(|b| (1 - client_side, *b))
        } else {
            c.next().map(|b| (client_side, *b))
        };
        match next.or_else(|| c.next().map(|b| (client_side, *b))) {
            Some(p) => out.push(p),
            None => match s.next() {
                Some(b) => out.push((1 - client_side, *b)),
                None => return out,
            },
        }
    }
}

/// Wire order for `client_side`: the whole client stream, then the whole server stream.
fn reference(client: &[u8], server: &[u8], client_side: usize) -> Outcome {
    feed_all(&[(client_side, client), (1 - client_side, server)])
}

#[test]
fn server_everything_first_then_the_request() {
    for (i, (client, server)) in exchanges().iter().enumerate() {
        for client_side in [0, 1] {
            let want = reference(client, server, client_side);
            let got = feed_all(&[(1 - client_side, server), (client_side, client)]);
            assert_eq!(got, want, "exchange {i}, client on side {client_side}");
        }
    }
    // The first exchange upgrades with its frames after the handshake on both sides.
    match reference(&exchanges()[0].0, &exchanges()[0].1, 1) {
        Outcome::Upgraded {
            client_side, after, ..
        } => {
            assert_eq!(client_side, 1);
            assert_eq!(after, [cat(&[HELLO, HELLO]), MASKED_HELLO.to_vec()]);
        }
        other => panic!("{other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_interleaving_decides_as_wire_order(
        which in 0usize..9,
        client_side in 0usize..2,
        cuts_c in proptest::collection::vec(any::<usize>(), 0..24),
        cuts_s in proptest::collection::vec(any::<usize>(), 0..24),
        order in proptest::collection::vec(any::<bool>(), 1..16),
    ) {
        let all = exchanges();
        let (client, server) = &all[which % all.len()];
        let want = reference(client, server, client_side);
        let (c, s) = (pieces(client, &cuts_c), pieces(server, &cuts_s));
        let got = feed_all(&interleave(&c, &s, client_side, &order));
        prop_assert_eq!(got, want);
    }
}

/// A snap length cuts both heads: the server's cut 101 may be seen before the cut request, and
/// bytes after each cut may be too; the upgrade is the same, each side resuming after its cut.
#[test]
fn cut_handshake_in_either_order() {
    let outcome = |server_first: bool| {
        let mut p = HttpPhase::new(MAX);
        let mut last = Vec::new();
        let client = |p: &mut HttpPhase, last: &mut Vec<HttpStatus>| {
            last.push(p.feed(0, &REQUEST[..70]));
            last.push(p.gap(0));
            last.push(p.feed(0, MASKED_HELLO));
        };
        let server = |p: &mut HttpPhase, last: &mut Vec<HttpStatus>| {
            last.push(p.feed(1, &RESPONSE[..40]));
            last.push(p.gap(1));
            last.push(p.feed(1, HELLO));
        };
        if server_first {
            server(&mut p, &mut last);
            client(&mut p, &mut last);
        } else {
            client(&mut p, &mut last);
            server(&mut p, &mut last);
        }
        last.into_iter()
            .find_map(|st| match st {
                HttpStatus::Upgraded(up) => Some(up),
                HttpStatus::Pending => None,
                other => panic!("{other:?}"),
            })
            .expect("upgraded")
    };
    let (a, b) = (outcome(false), outcome(true));
    assert_eq!(a.resync, [true, true]);
    assert_eq!(a.info.uri.as_deref(), Some("/chat"));
    // In wire order the 101's cut decides before the server's frame arrives; server first,
    // its frame is already there and handed over in `rest`, while the client's frame comes
    // after the decision (straight to the frame decoder).
    assert_eq!(a.rest, [MASKED_HELLO.to_vec(), Vec::new()]);
    assert_eq!(b.rest, [Vec::new(), HELLO.to_vec()]);
    assert_eq!(
        (a.client_side, &a.info, a.resync),
        (b.client_side, &b.info, b.resync)
    );
}

/// Held client bytes with losses inside them, answered later: everything is handed over in
/// stream order, losses with their sizes, as if it had come after the 101.
#[test]
fn held_bytes_with_losses_before_the_answer() {
    let mut p = HttpPhase::new(MAX);
    assert!(matches!(
        p.feed(0, &cat(&[REQUEST, MASKED_HELLO])),
        HttpStatus::Pending
    ));
    assert!(matches!(p.gap_len(0, 7, false), HttpStatus::Pending));
    assert!(matches!(p.feed(0, HELLO), HttpStatus::Pending));
    assert!(matches!(p.gap_len(0, 3, true), HttpStatus::Pending));
    // Two losses with nothing between them are one.
    assert!(matches!(p.gap_len(0, 2, true), HttpStatus::Pending));
    assert!(matches!(p.feed(0, MASKED_HELLO), HttpStatus::Pending));
    let HttpStatus::Upgraded(up) = p.feed(1, RESPONSE) else {
        panic!("not upgraded");
    };
    assert_eq!(up.rest, [MASKED_HELLO.to_vec(), Vec::new()]);
    assert_eq!(
        up.rest_after,
        [
            vec![
                RestPiece::Lost {
                    len: 7,
                    truncated: false
                },
                RestPiece::Bytes(HELLO.to_vec()),
                RestPiece::Lost {
                    len: 5,
                    truncated: true
                },
                RestPiece::Bytes(MASKED_HELLO.to_vec()),
            ],
            vec![]
        ]
    );
    assert_eq!(up.resync, [false, false]);
    assert!(up.anomalies.is_empty());
}

/// The server's 101 and frames with a loss among them, all before the request.
#[test]
fn server_ahead_with_a_loss() {
    let mut p = HttpPhase::new(MAX);
    assert!(matches!(
        p.feed(1, &cat(&[RESPONSE, HELLO])),
        HttpStatus::Pending
    ));
    assert!(matches!(p.gap_len(1, 40, false), HttpStatus::Pending));
    assert!(matches!(p.feed(1, HELLO), HttpStatus::Pending));
    let HttpStatus::Upgraded(up) = p.feed(0, REQUEST) else {
        panic!("not upgraded");
    };
    assert_eq!(up.rest, [Vec::new(), HELLO.to_vec()]);
    assert_eq!(
        up.rest_after[1],
        [
            RestPiece::Lost {
                len: 40,
                truncated: false
            },
            RestPiece::Bytes(HELLO.to_vec())
        ]
    );
}

/// A side that is ahead waits within `max_handshake_bytes`: a server whose 101 and frames
/// outgrow the limit before its request is seen is given up for the limit (the session
/// reports `handshake_too_large`), not followed on a guess.
#[test]
fn side_ahead_waits_within_the_limit() {
    let frames = HELLO.repeat(40);
    let mut p = HttpPhase::new(RESPONSE.len() + frames.len());
    assert!(matches!(p.feed(1, RESPONSE), HttpStatus::Pending));
    assert!(matches!(p.feed(1, &frames), HttpStatus::Pending));
    match p.feed(1, HELLO) {
        HttpStatus::NotWebSocket {
            over_limit: true,
            looked_like_http: true,
            reason,
        } => assert_eq!(
            reason,
            format!(
                "handshake over {} bytes on side 1 (max_handshake_bytes)",
                RESPONSE.len() + frames.len()
            )
        ),
        other => panic!("{other:?}"),
    }
    // Within the limit the same bytes wait and upgrade once the request comes.
    let mut p = HttpPhase::new(MAX);
    assert!(matches!(
        p.feed(1, &cat(&[RESPONSE, &frames])),
        HttpStatus::Pending
    ));
    let HttpStatus::Upgraded(up) = p.feed(0, REQUEST) else {
        panic!("not upgraded");
    };
    assert_eq!(up.rest, [Vec::new(), frames]);
}
