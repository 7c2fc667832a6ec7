//! Differential property test: the same capture in disorder decodes to the same messages.
//!
//! Over every bundled capture (`captures/`, `captures/adversarial/`, `captures/generated/`,
//! `captures/disorder/`) and generated sessions (tungstenite peers over 127.0.0.1; forged
//! permessage-deflate sessions with and without context takeover, fragmented, tiny segments):
//!
//! 1. lossless disorder — packets permuted within windows across both directions and all
//!    connections, duplicated, retransmitted over neighbouring segments, split and coalesced
//!    with sequence numbers recomputed — must give, per connection and direction, exactly the
//!    undisturbed capture's messages in order and byte for byte, and the same `open`s;
//! 2. losses — packets dropped at random on top of that — may lose messages (each connection
//!    that lost some carries an anomaly) but every message decoded must be one of the truth's,
//!    in the truth's order, byte for byte. Connections whose handshake the losses removed
//!    (picked up mid-stream, flagged `no_handshake`) are counted, not judged: a payload full of
//!    valid frames is by construction indistinguishable from frames there.
//!
//! `quick` runs in `cargo test` (a few seconds); `long` is ignored by default and runs for
//! `WSNOOP_DISORDER_SECS` seconds (default 600), printing its counts. A failure prints the
//! seed; `WSNOOP_DISORDER_SEED=N` replays that one case.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::disorder::{self, Decode, Ops, Rng, Seg};
use common::disorder_saved;
use common::peers;

/// A base to disorder: its undisturbed segments and decode.
struct Base {
    name: String,
    segs: Vec<Seg>,
    truth: Decode,
    /// The undisturbed decode already reports lost or cut bytes or a missing handshake: where
    /// decoding resumes after them depends on where segments begin, so splitting and
    /// coalescing are left out for it (permutation, duplication and retransmission are not).
    lossy: bool,
}

impl Base {
    fn new(name: String, segs: Vec<Seg>) -> Base {
        let truth = disorder::decode(&segs, &disorder::limits());
        let lossy = truth.anomalies.values().flatten().any(|(_, k)| {
            matches!(
                k.as_str(),
                "tcp_gap" | "truncated_capture" | "no_handshake" | "corrupt_capture"
            )
        });
        Base {
            name,
            segs,
            truth,
            lossy,
        }
    }
}

fn bundled() -> Vec<Base> {
    let root = common::captures_dir();
    let mut out = Vec::new();
    for dir in ["", "adversarial", "generated", "disorder"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        let mut files: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
            .collect();
        files.sort();
        for f in files {
            let name = rel(&root, &f);
            // Inflating a 1 GiB bomb once per round is minutes in a debug build; its one
            // connection holds nothing the other captures do not.
            if name.contains("bomb_deflate") {
                continue;
            }
            let bytes = std::fs::read(&f).expect("read capture");
            let base = Base::new(name, disorder::segments(&bytes));
            // Retransmissions that carry different bytes: which copy comes first is what the
            // capture order says, so no reordering can keep the output.
            let conflicting = base
                .truth
                .anomalies
                .values()
                .flatten()
                .any(|(_, k)| k == "tcp_conflict");
            if !conflicting {
                out.push(base);
            }
        }
    }
    out
}

fn rel(root: &Path, f: &Path) -> String {
    f.strip_prefix(root).unwrap_or(f).display().to_string()
}

/// A generated session, checked against its peers' own truth before it is used.
fn session(s: peers::Session) -> Base {
    let base = Base::new(s.name, s.segs);
    let mut got: [Vec<_>; 2] = Default::default();
    for ((_, _, dir), msgs) in &base.truth.msgs {
        got[usize::from(*dir == "s2c")] = msgs.clone();
    }
    assert_eq!(
        got, s.truth,
        "{}: undisturbed decode differs from the peers",
        base.name
    );
    assert_eq!(base.truth.opens.len(), 1, "{}", base.name);
    assert_eq!(base.truth.anomaly_count(), 0, "{}", base.name);
    base
}

/// A generated session from its own seed (named with it, so that `replay` can make it again):
/// `kind` is `t` (tungstenite peers) or `d` (forged deflate), followed by `c` for Russian text.
fn generated(kind: &str, seed: u64, n: u16) -> peers::Session {
    let mut rng = Rng::new(seed);
    let words = if kind.ends_with('c') {
        peers::Words::Cyrillic
    } else {
        peers::Words::Latin
    };
    let mut s = if kind.starts_with('t') {
        peers::tungstenite_session_in(&mut rng, n, words)
    } else {
        peers::deflate_session_in(&mut rng, n, words)
    };
    s.name = format!("{} [WSNOOP_DISORDER_REPLAY={kind}:{seed}:{n}]", s.name);
    s
}

/// Replays one failing round of `long` on a generated session:
/// `WSNOOP_DISORDER_REPLAY=d:SESSION_SEED:N WSNOOP_DISORDER_SEED=ROUND_SEED
/// cargo test --test disorder replay -- --ignored`.
#[test]
#[ignore]
fn replay() {
    let spec =
        std::env::var("WSNOOP_DISORDER_REPLAY").expect("WSNOOP_DISORDER_REPLAY=t|d|tc|dc:seed:n");
    let parts: Vec<&str> = spec.split(':').collect();
    let s = generated(
        parts[0],
        parts[1].parse().expect("seed"),
        parts[2].parse().expect("n"),
    );
    let base = session(s);
    let seed: u64 = std::env::var("WSNOOP_DISORDER_SEED")
        .expect("WSNOOP_DISORDER_SEED")
        .parse()
        .expect("seed");
    let mut counts = Counts::default();
    if std::env::var("WSNOOP_DISORDER_LOSSY").is_ok() {
        lossy(&base, seed, &mut counts);
    } else {
        lossless(&base, seed, &mut counts);
    }
}

/// A wrong message the differential run found (164 s into a `long` run): in a forged
/// permessage-deflate session (client without context takeover), after losses, a guessed
/// boundary fell on a false continuation, then a false binary start inside a real compressed
/// frame, whose length landed on the real continuations; a real ping inside that message
/// used up the check the message itself owed, and a 467-byte binary message was listed where
/// the truth has a 512-byte compressed one. The session is generated deterministically, so
/// this replays exactly.
#[test]
fn a_control_frame_does_not_vouch_for_the_message_around_it() {
    let base = session(generated("d", 7_558_709_812_388_017_336, 3535));
    let mut counts = Counts::default();
    lossy(&base, 13_333_676_335_302_895_908, &mut counts);
}

/// Another the differential run found (320 s into a `long` run after the fix above): false
/// headers chained through a false text message (not listed: it could not vouch) and a false
/// binary start onto real continuations; a message that fails to vouch must leave the boundary
/// unproven for the next ones.
#[test]
fn a_message_that_cannot_vouch_leaves_the_boundary_unproven() {
    let base = session(generated("d", 92_622_702_123_210_241, 3297));
    let mut counts = Counts::default();
    lossy(&base, 8_129_558_693_484_725_953, &mut counts);
}

/// Rounds of the long run that listed a wrong message, saved by `save_failure` and kept in
/// `tests/data/disorder/` (lossy rounds): each must now list none.
/// `11395237886547533944`: Russian text from tungstenite's server, 9 and 64 bytes lost, the
/// search began inside a frame's text; two false readings (`т,` is `D1 82 2C`: a final binary
/// frame of 44 bytes) met, and the 44-byte "message" from where they met was listed.
/// `8057162293664581025`: a forged deflate session with Russian text, 20% of segments dropped;
/// from a boundary found inside a segment, a false empty text, a false text (its content
/// vouched) and a false binary frame landing on the real close, confirmed as the stream ended:
/// the 207-byte binary was listed.
#[test]
fn saved_rounds_list_no_wrong_message() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/disorder");
    let mut rounds = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/data/disorder") {
        let path = entry.expect("entry").path();
        let Some(stem) = path
            .to_str()
            .and_then(|p| p.strip_suffix(".base.jsonl"))
            .map(std::path::PathBuf::from)
        else {
            continue;
        };
        let read = |ext: &str| std::fs::read_to_string(stem.with_extension(ext)).expect("round");
        let base = Base::new(
            "saved".into(),
            disorder_saved::segs_from_json(&read("base.jsonl")),
        );
        let got = disorder::decode(
            &disorder_saved::segs_from_json(&read("got.jsonl")),
            &disorder::limits(),
        );
        if let Err(e) = disorder::never_wrong(&base.truth, &got) {
            panic!("{}: {e}", stem.display());
        }
        rounds += 1;
    }
    assert!(rounds >= 1);
}

/// Counts of what was checked.
#[derive(Default, Debug)]
struct Counts {
    lossless_runs: u64,
    lossy_runs: u64,
    messages_compared: u64,
    messages_lost_in_lossy_runs: u64,
    /// Connections the losses turned into mid-stream pickups (not judged: see
    /// `disorder::never_wrong`).
    handshakes_lost: u64,
    segments_fed: u64,
}

/// One lossless round on `base` with `seed`.
fn lossless(base: &Base, seed: u64, counts: &mut Counts) {
    let mut rng = Rng::new(seed);
    let ops = Ops::lossless(&mut rng, !base.lossy);
    let segs = disorder::disorder(&base.segs, &ops, &mut rng);
    let got = disorder::decode(&segs, &disorder::limits());
    if let Err(e) = disorder::same_messages(&base.truth, &got) {
        let saved = save_failure(base, &segs, seed);
        panic!(
            "{}: lossless disorder changed the output (seed {seed}, {ops:?}): {e}; {saved}",
            base.name
        );
    }
    counts.lossless_runs += 1;
    counts.messages_compared += got.message_count() as u64;
    counts.segments_fed += segs.len() as u64;
}

/// One round with losses on `base` with `seed`.
fn lossy(base: &Base, seed: u64, counts: &mut Counts) {
    let mut rng = Rng::new(seed);
    let mut ops = Ops::lossless(&mut rng, !base.lossy);
    ops.drop = [0.002, 0.01, 0.05, 0.2][rng.below(4)];
    let segs = disorder::disorder(&base.segs, &ops, &mut rng);
    let got = disorder::decode(&segs, &disorder::limits());
    if let Err(e) = disorder::never_wrong(&base.truth, &got) {
        let saved = save_failure(base, &segs, seed);
        panic!(
            "{}: a message decoded after losses is not the truth (seed {seed}, {ops:?}): {e}; \
             {saved}",
            base.name
        );
    }
    counts.lossy_runs += 1;
    counts.handshakes_lost += disorder::handshakes_lost(&base.truth, &got) as u64;
    counts.messages_compared += got.message_count() as u64;
    counts.messages_lost_in_lossy_runs +=
        (base.truth.message_count() - got.message_count().min(base.truth.message_count())) as u64;
    counts.segments_fed += segs.len() as u64;
}

/// Writes a failing round (the undisturbed segments and the disturbed ones) under
/// `target/disorder-failures/`, and says how to replay it: sessions with real peers cannot be
/// made again from their seed (their writes interleave as the threads run).
fn save_failure(base: &Base, segs: &[Seg], seed: u64) -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/disorder-failures");
    let stem = dir.join(format!("{seed}"));
    let written = std::fs::create_dir_all(&dir).and_then(|()| {
        std::fs::write(
            stem.with_extension("base.jsonl"),
            disorder_saved::segs_to_json(&base.segs),
        )?;
        std::fs::write(
            stem.with_extension("got.jsonl"),
            disorder_saved::segs_to_json(segs),
        )
    });
    match written {
        Ok(()) => format!(
            "saved: WSNOOP_DISORDER_SAVED={} cargo test --test disorder replay_saved -- \
             --ignored",
            stem.display()
        ),
        Err(e) => format!("not saved: {e}"),
    }
}

/// Replays a round [`save_failure`] wrote: `WSNOOP_DISORDER_SAVED=target/disorder-failures/SEED
/// cargo test --test disorder replay_saved -- --ignored` (with `WSNOOP_DISORDER_LOSSY` set for
/// a lossy round).
#[test]
#[ignore]
fn replay_saved() {
    let stem = std::path::PathBuf::from(
        std::env::var("WSNOOP_DISORDER_SAVED").expect("WSNOOP_DISORDER_SAVED=PATH/SEED"),
    );
    let read = |ext: &str| std::fs::read_to_string(stem.with_extension(ext)).expect("saved round");
    let base = Base::new(
        "saved".into(),
        disorder_saved::segs_from_json(&read("base.jsonl")),
    );
    let segs = disorder_saved::segs_from_json(&read("got.jsonl"));
    let got = disorder::decode(&segs, &disorder::limits());
    if std::env::var("WSNOOP_DISORDER_VERBOSE").is_ok() {
        disorder_saved::print_events(&segs, &disorder::limits());
    }
    let verdict = if std::env::var("WSNOOP_DISORDER_LOSSY").is_ok() {
        disorder::never_wrong(&base.truth, &got)
    } else {
        disorder::same_messages(&base.truth, &got)
    };
    if let Err(e) = verdict {
        panic!("{e}");
    }
}

fn seed_of(base: usize, round: u64) -> u64 {
    (base as u64) << 32 | round
}

#[test]
fn quick() {
    let mut bases = bundled();
    assert!(bases.len() >= 40, "bundled captures: {}", bases.len());
    let mut rng = Rng::new(7);
    for n in 0..3 {
        bases.push(session(peers::tungstenite_session(&mut rng, n)));
        bases.push(session(peers::deflate_session(&mut rng, 100 + n)));
    }
    for n in 0..2 {
        let words = peers::Words::Cyrillic;
        bases.push(session(peers::tungstenite_session_in(
            &mut rng,
            200 + n,
            words,
        )));
        bases.push(session(peers::deflate_session_in(&mut rng, 300 + n, words)));
    }
    let replay = std::env::var("WSNOOP_DISORDER_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok());
    let mut counts = Counts::default();
    for (i, base) in bases.iter().enumerate() {
        for round in 0..3 {
            let seed = seed_of(i, round);
            if replay.is_none_or(|r| r == seed) {
                lossless(base, seed, &mut counts);
                lossy(base, seed ^ 0x5555, &mut counts);
            }
        }
    }
    eprintln!("{counts:?}");
    assert!(
        replay.is_some() || counts.messages_compared > 10_000,
        "{counts:?}"
    );
}

/// The long run: random seeds for `WSNOOP_DISORDER_SECS` seconds, fresh generated sessions
/// every round.
#[test]
#[ignore]
fn long() {
    let secs = std::env::var("WSNOOP_DISORDER_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let start = Instant::now();
    let bases = bundled();
    let mut counts = Counts::default();
    let mut sessions = 0u64;
    let mut round = 0u64;
    let mut rng = Rng::new(u64::from(std::process::id()) << 20 ^ 0xd150_4de5);
    while start.elapsed() < Duration::from_secs(secs) {
        for (i, base) in bases.iter().enumerate() {
            let seed = rng.next() ^ seed_of(i, round);
            lossless(base, seed, &mut counts);
            lossy(base, seed ^ 0x5555, &mut counts);
        }
        for k in 0..8u16 {
            let n = (round as u16).wrapping_mul(8).wrapping_add(k) % 5000;
            let kind = ["t", "d", "tc", "dc"][usize::from(k % 4)];
            let s = generated(kind, rng.next(), n);
            let base = session(s);
            sessions += 1;
            for _ in 0..4 {
                let seed = rng.next();
                lossless(&base, seed, &mut counts);
                lossy(&base, seed ^ 0x5555, &mut counts);
            }
        }
        round += 1;
        eprintln!(
            "{:>6}s round {round}: {counts:?}, {sessions} generated sessions",
            start.elapsed().as_secs()
        );
    }
    eprintln!(
        "done after {}s: {round} rounds over {} captures, {sessions} generated sessions: {counts:?}",
        start.elapsed().as_secs(),
        bases.len()
    );
}
