//! Property: random connections (streams interleaved frame by frame, header blocks split into
//! CONTINUATIONs, padding, HPACK with a dynamic table, Huffman and size updates, noise frames)
//! cut into random pieces decode to exactly what was sent, with no anomaly.

use std::collections::VecDeque;

use proptest::collection::vec;
use proptest::prelude::*;

use super::testutil::*;
use super::*;

const C: usize = 0;
const S: usize = 1;

#[derive(Clone, Debug)]
enum Op {
    Headers(Vec<HeaderField>, bool),
    /// Payload, padding, END_STREAM.
    Data(Vec<u8>, Option<u8>, bool),
}

#[derive(Clone, Debug)]
struct Plan {
    /// Per stream (1, 3, 5, ...): the client's ops and the server's ops.
    streams: Vec<(Vec<Op>, Vec<Op>)>,
    /// Interleaving choices.
    picks: Vec<u16>,
    /// Feed piece sizes.
    cuts: Vec<usize>,
    huffman: [bool; 2],
    never: [usize; 2],
    /// Table size updates (side, before the n-th block of that side, new size).
    sizes: Vec<(usize, usize, usize)>,
    max_fragment: usize,
    noise: Vec<(usize, u8)>,
}

fn field() -> impl Strategy<Value = HeaderField> {
    let names = prop_oneof![
        Just("user-agent".to_string()),
        Just("accept".to_string()),
        Just("cookie".to_string()),
        Just("x-trace".to_string()),
        Just("sec-websocket-extensions".to_string()),
        "[a-z][a-z0-9-]{0,12}",
    ];
    let values = prop_oneof![
        Just(String::new()),
        Just("permessage-deflate; client_max_window_bits".to_string()),
        Just("text/html".to_string()),
        "[ -~]{0,40}",
    ];
    (names, values).prop_map(|(n, v)| HeaderField::new(n, v))
}

fn head(first: Vec<HeaderField>) -> impl Strategy<Value = Vec<HeaderField>> {
    vec(field(), 0..6).prop_map(move |rest| {
        let mut list = first.clone();
        list.extend(rest);
        list
    })
}

fn data_ops() -> impl Strategy<Value = Vec<Op>> {
    (
        vec((vec(any::<u8>(), 0..200), prop::option::of(0u8..20)), 0..5),
        prop::option::of(vec(field(), 1..3)),
    )
        .prop_map(|(data, trailers)| {
            let mut ops: Vec<Op> = data
                .into_iter()
                .map(|(d, pad)| Op::Data(d, pad, false))
                .collect();
            match trailers {
                Some(t) => ops.push(Op::Headers(t, true)),
                None => ops.push(Op::Data(Vec::new(), None, true)),
            }
            ops
        })
}

fn stream_plan() -> impl Strategy<Value = (Vec<Op>, Vec<Op>)> {
    let req = head(fields(&[
        (":method", "CONNECT"),
        (":protocol", "websocket"),
        (":scheme", "https"),
        (":path", "/chat"),
        (":authority", "example.com"),
    ]));
    let resp = head(fields(&[(":status", "200")]));
    (req, data_ops(), resp, data_ops()).prop_map(|(req, mut c, resp, mut s)| {
        c.insert(0, Op::Headers(req, false));
        s.insert(0, Op::Headers(resp, false));
        (c, s)
    })
}

fn plan() -> impl Strategy<Value = Plan> {
    (
        vec(stream_plan(), 1..6),
        vec(any::<u16>(), 64),
        vec(1usize..400, 1..40),
        any::<[bool; 2]>(),
        [0usize..5, 0usize..5],
        vec((0usize..2, 0usize..8, 0usize..5000), 0..4),
        1usize..300,
        vec((0usize..2, 0u8..5), 0..8),
    )
        .prop_map(
            |(streams, picks, cuts, huffman, never, sizes, max_fragment, noise)| Plan {
                streams,
                picks,
                cuts,
                huffman,
                never,
                sizes,
                max_fragment,
                noise,
            },
        )
}

fn noise_frame(kind: u8) -> Vec<u8> {
    match kind {
        0 => frame(PING, 0, 0, b"pingping"),
        1 => frame(WINDOW_UPDATE, 0, 0, &[0, 1, 0, 0]),
        2 => frame(0x42, 0x3, 0, b"unknown extension frame"),
        3 => settings(&[(0x3, 100), (0x6, 8192)]),
        _ => frame(SETTINGS, ACK, 0, &[]),
    }
}

/// Build both sides' byte streams in one causal order, the feeds (pieces of one side at a
/// time, cut at random), and the transcript that must come out.
fn build(plan: &Plan) -> (Vec<(usize, Vec<u8>)>, Transcript) {
    let mut enc = [Encoder::default(), Encoder::default()];
    for side in [C, S] {
        enc[side].huffman = plan.huffman[side];
        enc[side].never = plan.never[side];
    }
    let mut blocks = [0usize; 2];
    let mut queues: Vec<[VecDeque<Op>; 2]> = plan
        .streams
        .iter()
        .map(|(c, s)| [c.iter().cloned().collect(), s.iter().cloned().collect()])
        .collect();
    let mut expected = Transcript::new();
    for (i, (c, s)) in plan.streams.iter().enumerate() {
        let id = 1 + 2 * i as u32;
        for (side, ops) in [(C, c), (S, s)] {
            let items = expected.entry((side, id)).or_default();
            for op in ops {
                match op {
                    Op::Headers(f, end) => {
                        items.push(Item::Headers(f.clone(), None));
                        if *end {
                            items.push(Item::End);
                        }
                    }
                    Op::Data(d, _, end) => {
                        match items.last_mut() {
                            Some(Item::Data(prev)) => prev.extend_from_slice(d),
                            _ if !d.is_empty() => items.push(Item::Data(d.clone())),
                            _ => {}
                        }
                        if *end {
                            items.push(Item::End);
                        }
                    }
                }
            }
        }
    }
    // The global order: each side opens with its preface / SETTINGS.
    let mut order: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut c0 = PREFACE.to_vec();
    c0.extend(settings(&[(0x2, 0)]));
    order.push((C, c0));
    order.push((S, settings(&[(0x8, 1)])));
    let mut opened = 0usize;
    let mut noise = plan.noise.iter();
    let mut pick = plan.picks.iter().cycle();
    loop {
        // Queues that may go next: a client stream's HEADERS only in id order, the server
        // only on streams the client opened.
        let mut ready = Vec::new();
        for (i, q) in queues.iter().enumerate() {
            if !q[C].is_empty() && i <= opened {
                ready.push((i, C));
            }
            if !q[S].is_empty() && i < opened {
                ready.push((i, S));
            }
        }
        if ready.is_empty() {
            break;
        }
        let (i, side) = ready[*pick.next().unwrap() as usize % ready.len()];
        let op = queues[i][side].pop_front().unwrap();
        let id = 1 + 2 * i as u32;
        if side == C && i == opened {
            opened += 1;
        }
        let bytes = match op {
            Op::Headers(f, end) => {
                // One size update per block at most (more is legal but unusual, and reported).
                if let Some(&(_, _, size)) = plan
                    .sizes
                    .iter()
                    .find(|(s, n, _)| *s == side && *n == blocks[side])
                {
                    enc[side].set_max(size);
                }
                blocks[side] += 1;
                enc[side].headers(id, &f, end, plan.max_fragment)
            }
            Op::Data(d, pad, end) => {
                let flags = if end { END_STREAM } else { 0 };
                match pad {
                    Some(p) => {
                        let mut payload = vec![p];
                        payload.extend(&d);
                        payload.extend(std::iter::repeat_n(0, p as usize));
                        frame(DATA, flags | PADDED, id, &payload)
                    }
                    None => frame(DATA, flags, id, &d),
                }
            }
        };
        order.push((side, bytes));
        if let Some(&(s, k)) = noise.next() {
            order.push((s, noise_frame(k)));
        }
    }
    // Feeds: consecutive ops of one side joined, then cut at random sizes.
    let mut feeds = Vec::new();
    let mut cuts = plan.cuts.iter().cycle();
    let mut run: Option<(usize, Vec<u8>)> = None;
    let mut flush = |run: (usize, Vec<u8>), feeds: &mut Vec<(usize, Vec<u8>)>| {
        let (side, bytes) = run;
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let n = (*cuts.next().unwrap()).min(rest.len());
            feeds.push((side, rest[..n].to_vec()));
            rest = &rest[n..];
        }
    };
    for (side, bytes) in order {
        match &mut run {
            Some((s, b)) if *s == side => b.extend(bytes),
            _ => {
                if let Some(r) = run.take() {
                    flush(r, &mut feeds);
                }
                run = Some((side, bytes));
            }
        }
    }
    if let Some(r) = run.take() {
        flush(r, &mut feeds);
    }
    (feeds, expected)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_connections_decode_exactly(plan in plan()) {
        let (feeds, expected) = build(&plan);
        let mut conn = H2Conn::new(C, H2Config::default());
        let refs: Vec<(usize, &[u8])> = feeds.iter().map(|(s, b)| (*s, b.as_slice())).collect();
        let evs = run(&mut conn, &refs);
        prop_assert!(anomalies(&evs).is_empty(), "{:?}", anomalies(&evs));
        let lost = evs.iter().any(|e| matches!(e, Ev::Lost { .. } | Ev::DataLost { .. }));
        prop_assert!(!lost);
        prop_assert_eq!(transcript(&evs), expected);
        // Every stream ended both ways: none is left tracked.
        prop_assert_eq!(conn.open_streams(), 0);
        prop_assert!(conn.hpack_certain(C) && conn.hpack_certain(S));
    }

    /// The same connections with a loss in one side: nothing panics, no resolved field or
    /// DATA byte is ever wrong (every Data piece is a piece of what that stream sent, in order).
    #[test]
    fn random_connections_with_a_loss_never_guess(plan in plan(), at in 0usize..1000, len in 1usize..600, side in 0usize..2) {
        let (feeds, expected) = build(&plan);
        let mut joined: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
        for (s, b) in &feeds {
            joined[*s].extend(b);
        }
        // Somewhere in the side's bytes (per mille of its length).
        let at = joined[side].len() * at / 1000;
        let len = len.min(joined[side].len() - at);
        let mut conn = H2Conn::new(C, H2Config::default());
        let mut evs = Vec::new();
        let other = 1 - side;
        conn.feed(other, &joined[other], &mut |e| evs.push(own(e)));
        conn.feed(side, &joined[side][..at], &mut |e| evs.push(own(e)));
        conn.gap(side, len as u64, &mut |e| evs.push(own(e)));
        conn.feed(side, &joined[side][at + len..], &mut |e| evs.push(own(e)));
        conn.finish(&mut |e| evs.push(own(e)));
        for e in &evs {
            if let Ev::Headers { side, stream, fields, .. } = e {
                let Some(items) = expected.get(&(*side, *stream)) else { continue };
                let sent: Vec<&Vec<HeaderField>> = items.iter().filter_map(|i| match i {
                    Item::Headers(f, _) => Some(f),
                    _ => None,
                }).collect();
                // Some block of that stream had exactly these fields where resolved.
                let matches = sent.iter().any(|s| s.len() == fields.len() && s.iter().zip(fields.iter()).all(|(a, b)| {
                    b.unresolved.is_some() && (!b.value_known || a.value == b.value) || a == b
                }));
                prop_assert!(matches, "{:?} not among {:?}", fields, sent);
            }
        }
        // DATA of a stream, joined, is what was sent with holes only where reported.
        for ((s, stream), items) in transcript(&evs) {
            let Some(want) = expected.get(&(s, stream)) else { continue };
            let sent: Vec<u8> = want.iter().filter_map(|i| match i { Item::Data(d) => Some(d.clone()), _ => None }).flatten().collect();
            let got: Vec<u8> = items.iter().filter_map(|i| match i { Item::Data(d) => Some(d.clone()), _ => None }).flatten().collect();
            if s != side {
                prop_assert_eq!(&got, &sent);
            } else {
                prop_assert!(is_subsequence(&got, &sent));
            }
        }
    }
}

/// `got` is `sent` with some bytes left out (in order).
fn is_subsequence(got: &[u8], sent: &[u8]) -> bool {
    let mut it = sent.iter();
    got.iter().all(|b| it.any(|s| s == b))
}
