//! Capture disorder for differential tests: a capture's TCP segments permuted within windows
//! across both directions and all connections, duplicated, retransmitted over neighbouring
//! segments, split and coalesced (sequence numbers recomputed), or dropped; decoded through the
//! library (`Engine::segment`, no binary, no files); messages gathered per connection and
//! direction and compared the way `check.py` compares them.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;

use wsnoop::capture::CaptureReader;
use wsnoop::event::{Dir, EventKind, Opcode, Timestamp};
use wsnoop::packet::{Decoded, PacketDecoder, TcpFlags, TcpSegment};
use wsnoop::{Engine, Event, Limits};

/// One TCP segment of a capture, owned so that it can be moved, cut and copied.
#[derive(Clone, Debug)]
pub struct Seg {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub flags: TcpFlags,
    pub payload: Vec<u8>,
    /// Bytes the snap length cut off after `payload`.
    pub missing: u32,
    pub ts: Timestamp,
    /// Index of the segment in the undisturbed capture it came from (copies and pieces
    /// share their original's).
    pub id: usize,
}

impl Seg {
    /// Sequence space the segment's data starts at (after a SYN's own number).
    fn data_seq(&self) -> u32 {
        self.seq.wrapping_add(u32::from(self.flags.syn))
    }

    /// Sequence number just past its data (FIN not counted).
    fn data_end(&self) -> u32 {
        self.data_seq()
            .wrapping_add(self.payload.len() as u32)
            .wrapping_add(self.missing)
    }

    fn plain_data(&self) -> bool {
        !self.flags.syn && !self.flags.rst && !self.flags.fin && self.missing == 0
    }

    fn dir(&self) -> (SocketAddr, SocketAddr) {
        (self.src, self.dst)
    }
}

/// The TCP segments of a pcap/pcapng file in capture order (through the library's own packet
/// decoder, so IP fragments are reassembled and every link type is read); other packets and
/// whatever follows a corrupt record are left out.
pub fn segments(capture: &[u8]) -> Vec<Seg> {
    let limits = Limits::default();
    let mut reader = CaptureReader::new(capture, &limits).expect("a capture");
    let mut decoder = PacketDecoder::new(&limits);
    let mut out = Vec::new();
    while let Ok(Some(pkt)) = reader.next_packet() {
        if let Decoded::Tcp(s) = decoder.decode(&pkt) {
            out.push(Seg {
                src: s.src,
                dst: s.dst,
                seq: s.seq,
                flags: s.flags,
                payload: s.payload.to_vec(),
                missing: s.missing,
                ts: pkt.ts,
                id: out.len(),
            });
        }
    }
    out
}

/// Deterministic pseudo-random numbers (SplitMix64): a failing case is replayed from its seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

/// What to do to a capture. Probabilities are per segment.
#[derive(Clone, Copy, Debug)]
pub struct Ops {
    /// Packets move at most this many places (across directions and connections).
    pub window: usize,
    /// A copy of the segment turns up again a little later.
    pub dup: f64,
    /// A retransmission covering the end of a segment and the start of the next one of its
    /// direction turns up later.
    pub retransmit: f64,
    /// The segment is cut into 2 to 4 segments.
    pub split: f64,
    /// The segment is merged with the next one of its direction.
    pub coalesce: f64,
    /// The segment is lost.
    pub drop: f64,
}

impl Ops {
    /// Disorder that loses nothing: the decoded messages must not change at all.
    pub fn lossless(rng: &mut Rng, reshape: bool) -> Ops {
        let p = |rng: &mut Rng, max: f64| max * rng.below(101) as f64 / 100.0;
        Ops {
            window: 1 + rng.below(24),
            dup: p(rng, 0.2),
            retransmit: p(rng, 0.2),
            split: if reshape { p(rng, 0.5) } else { 0.0 },
            coalesce: if reshape { p(rng, 0.5) } else { 0.0 },
            drop: 0.0,
        }
    }
}

/// `segs` with the disorder of `ops` applied. Each direction's first segment (its SYN, or the
/// first one captured with data) stays ahead of the rest of that direction, and an RST stays behind the
/// segments of its connection that preceded it: the reassembler fixes a direction's start by
/// its first segment seen and acts on an RST when it sees it, so moving those is not
/// disorder it can undo (see the report of this test).
pub fn disorder(segs: &[Seg], ops: &Ops, rng: &mut Rng) -> Vec<Seg> {
    let mut v = segs.to_vec();
    if ops.coalesce > 0.0 {
        v = coalesce(v, ops.coalesce, rng);
    }
    if ops.split > 0.0 {
        v = split(v, ops.split, rng);
    }
    // Extra copies, each placed a little after its original.
    let mut extra: Vec<(usize, Seg)> = Vec::new();
    let next_of_dir = next_in_direction(&v);
    for (i, s) in v.iter().enumerate() {
        if rng.chance(ops.dup) {
            extra.push((i + 1 + rng.below(ops.window.max(1)), s.clone()));
        }
        if let Some(&j) = next_of_dir.get(i).and_then(Option::as_ref)
            && s.plain_data()
            && !s.payload.is_empty()
            && rng.chance(ops.retransmit)
        {
            let t = &v[j];
            if t.data_seq() == s.data_end() && t.missing == 0 && !t.flags.syn {
                let from = rng.below(s.payload.len());
                let to = rng.below(t.payload.len() + 1);
                let mut payload = s.payload[from..].to_vec();
                payload.extend_from_slice(&t.payload[..to]);
                let r = Seg {
                    seq: s.seq.wrapping_add(from as u32),
                    payload,
                    ..s.clone()
                };
                extra.push((j + 1 + rng.below(ops.window.max(1)), r));
            }
        }
    }
    // Positions as keys: originals at 2i, copies just after their place.
    let mut keyed: Vec<(f64, Seg)> = v
        .into_iter()
        .enumerate()
        .map(|(i, s)| (i as f64, s))
        .collect();
    keyed.extend(extra.into_iter().map(|(at, s)| (at as f64 - 0.5, s)));
    for (k, _) in keyed.iter_mut() {
        *k += rng.below(ops.window.max(1) * 1000) as f64 / 1000.0;
    }
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<Seg> = keyed.into_iter().map(|(_, s)| s).collect();
    if ops.drop > 0.0 {
        out.retain(|_| !rng.chance(ops.drop));
    }
    keep_starts_first(&mut out);
    keep_syns_before_fins(&mut out);
    keep_resets_last(&mut out);
    out
}

/// One change chosen by a fuzzer (indices are taken modulo what exists).
#[derive(Clone, Copy, Debug)]
pub enum Op {
    /// The segment at `at` moves `by` places later (at most `MAX_MOVE`).
    Move { at: usize, by: usize },
    /// A copy of the segment at `at` turns up `by` places later.
    Dup { at: usize, by: usize },
    /// The segment at `at` is cut at payload offset `cut`.
    Split { at: usize, cut: usize },
    /// The segment at `at` is merged with the next one of its direction, when contiguous.
    Coalesce { at: usize },
    /// The segment at `at` is lost (unless it is a SYN: see [`apply`]).
    Drop { at: usize },
}

/// Farthest a fuzzer may move or copy a segment.
pub const MAX_MOVE: usize = 32;

/// Reads ops from fuzzer bytes: 5 bytes each (kind, two little-endian u16).
pub fn ops_from_bytes(data: &[u8]) -> Vec<Op> {
    data.chunks_exact(5)
        .map(|c| {
            let a = usize::from(u16::from_le_bytes([c[1], c[2]]));
            let b = usize::from(u16::from_le_bytes([c[3], c[4]]));
            match c[0] % 16 {
                0..=5 => Op::Move { at: a, by: b },
                6..=8 => Op::Dup { at: a, by: b },
                9..=11 => Op::Split { at: a, cut: b },
                12..=14 => Op::Coalesce { at: a },
                _ => Op::Drop { at: a },
            }
        })
        .collect()
}

/// `segs` with `ops` applied in order, then each direction's start kept first and every RST
/// kept last (as in [`disorder`]). SYNs are never dropped: without them a connection is
/// picked up mid-stream, where a payload that holds a long enough chain of valid frames (an
/// HTTP body full of them, a tunnelled WebSocket) is by construction indistinguishable from
/// frames, and a fuzzer that can choose where the capture starts will find one.
pub fn apply(segs: &[Seg], ops: &[Op]) -> Vec<Seg> {
    let mut v = segs.to_vec();
    for op in ops {
        if v.is_empty() {
            break;
        }
        let n = v.len();
        match *op {
            Op::Move { at, by } => {
                let from = at % n;
                let to = (from + 1 + by % MAX_MOVE).min(n - 1);
                let s = v.remove(from);
                v.insert(to, s);
            }
            Op::Dup { at, by } => {
                let from = at % n;
                let to = (from + 1 + by % MAX_MOVE).min(n);
                let s = v[from].clone();
                v.insert(to, s);
            }
            Op::Split { at, cut } => {
                let i = at % n;
                let s = &v[i];
                if s.flags.syn || s.missing > 0 || s.payload.len() < 2 {
                    continue;
                }
                let cut = 1 + cut % (s.payload.len() - 1);
                let mut second = s.clone();
                second.payload = s.payload[cut..].to_vec();
                second.seq = s.seq.wrapping_add(cut as u32);
                let first = &mut v[i];
                first.payload.truncate(cut);
                first.flags.fin = false;
                first.flags.rst = false;
                v.insert(i + 1, second);
            }
            Op::Coalesce { at } => {
                let i = at % n;
                let Some(j) = (i + 1..n).find(|&j| v[j].dir() == v[i].dir()) else {
                    continue;
                };
                let (a, b) = (&v[i], &v[j]);
                if a.plain_data()
                    && !b.flags.syn
                    && !b.flags.rst
                    && b.data_seq() == a.data_end()
                    && a.payload.len() + b.payload.len() <= 65_000
                {
                    let b = v.remove(j);
                    let a = &mut v[i];
                    a.payload.extend_from_slice(&b.payload);
                    a.missing = b.missing;
                    a.flags.fin |= b.flags.fin;
                }
            }
            Op::Drop { at } => {
                if !v[at % n].flags.syn {
                    v.remove(at % n);
                }
            }
        }
    }
    keep_starts_first(&mut v);
    keep_syns_before_fins(&mut v);
    keep_resets_last(&mut v);
    v
}

/// For each segment, the index of the next segment of the same direction.
fn next_in_direction(v: &[Seg]) -> Vec<Option<usize>> {
    let mut next = vec![None; v.len()];
    let mut last: HashMap<(SocketAddr, SocketAddr), usize> = HashMap::new();
    for (i, s) in v.iter().enumerate() {
        if let Some(prev) = last.insert(s.dir(), i) {
            next[prev] = Some(i);
        }
    }
    next
}

/// Merges segments with the next one of their direction when they are contiguous.
fn coalesce(v: Vec<Seg>, p: f64, rng: &mut Rng) -> Vec<Seg> {
    let next = next_in_direction(&v);
    let mut slots: Vec<Option<Seg>> = v.into_iter().map(Some).collect();
    for i in 0..slots.len() {
        let Some(j) = next[i] else { continue };
        let (Some(a), Some(b)) = (&slots[i], &slots[j]) else {
            continue;
        };
        let joinable = a.plain_data()
            && !b.flags.syn
            && !b.flags.rst
            && b.data_seq() == a.data_end()
            && a.payload.len() + b.payload.len() <= 65_000;
        if joinable && rng.chance(p) {
            let b = slots[j].take().expect("checked");
            let a = slots[i].as_mut().expect("checked");
            a.payload.extend_from_slice(&b.payload);
            a.missing = b.missing;
            a.flags.fin |= b.flags.fin;
            // The merged segment now sits where the later one was, so that it may carry on
            // merging with the one after.
            slots[j] = slots[i].take();
        }
    }
    slots.into_iter().flatten().collect()
}

/// Cuts segments into 2 to 4 pieces (sequence numbers follow the bytes).
fn split(v: Vec<Seg>, p: f64, rng: &mut Rng) -> Vec<Seg> {
    let mut out = Vec::with_capacity(v.len());
    for s in v {
        if s.flags.syn || s.missing > 0 || s.payload.len() < 2 || !rng.chance(p) {
            out.push(s);
            continue;
        }
        let n = 2 + rng.below(3);
        let mut cuts: Vec<usize> = (1..n).map(|_| 1 + rng.below(s.payload.len() - 1)).collect();
        cuts.push(0);
        cuts.push(s.payload.len());
        cuts.sort_unstable();
        cuts.dedup();
        let pieces = cuts.len() - 1;
        for (k, w) in cuts.windows(2).enumerate() {
            let last = k + 1 == pieces;
            out.push(Seg {
                seq: s.seq.wrapping_add(w[0] as u32),
                flags: TcpFlags {
                    fin: s.flags.fin && last,
                    rst: s.flags.rst && last,
                    ..s.flags
                },
                payload: s.payload[w[0]..w[1]].to_vec(),
                ..s.clone()
            });
        }
    }
    out
}

/// Moves each direction's start (its segment with the lowest id that is not a bare ACK) ahead
/// of the other segments of that direction.
fn keep_starts_first(v: &mut Vec<Seg>) {
    let mut first_id: HashMap<(SocketAddr, SocketAddr), usize> = HashMap::new();
    for s in v.iter() {
        let bare =
            s.payload.is_empty() && s.missing == 0 && !s.flags.syn && !s.flags.fin && !s.flags.rst;
        if !bare {
            let e = first_id.entry(s.dir()).or_insert(s.id);
            *e = (*e).min(s.id);
        }
    }
    for (dir, id) in first_id {
        let Some(first) = v.iter().position(|s| s.dir() == dir) else {
            continue;
        };
        // Of the segments with that id (pieces, copies, retransmissions), the earliest in
        // sequence space starts the stream.
        let start = v
            .iter()
            .enumerate()
            .filter(|(_, s)| s.dir() == dir && s.id == id)
            .min_by(|(_, a), (_, b)| (a.seq.wrapping_sub(b.seq) as i32).cmp(&0))
            .map(|(i, _)| i);
        if let Some(at) = start
            && at > first
        {
            let s = v.remove(at);
            v.insert(first, s);
        }
    }
}

/// Moves every copy of a SYN that comes after a FIN of its connection to just before that FIN.
/// The engine takes a SYN on an ended connection's endpoints for a new connection (port reuse),
/// so a late copy of the old SYN-ACK would replay the old connection as a second one; telling
/// the two apart needs the old sequence numbers, which the flow table does not keep (see the
/// report of this test).
fn keep_syns_before_fins(v: &mut Vec<Seg>) {
    let conn = |s: &Seg| {
        if s.src < s.dst {
            (s.src, s.dst)
        } else {
            (s.dst, s.src)
        }
    };
    let mut i = 0;
    while i < v.len() {
        if v[i].flags.syn
            && let Some(f) = v[..i]
                .iter()
                .position(|f| f.flags.fin && conn(f) == conn(&v[i]))
        {
            let s = v.remove(i);
            v.insert(f, s);
        }
        i += 1;
    }
}

/// Moves every RST behind the segments of its connection that came before it originally.
fn keep_resets_last(v: &mut Vec<Seg>) {
    let conn = |s: &Seg| {
        if s.src < s.dst {
            (s.src, s.dst)
        } else {
            (s.dst, s.src)
        }
    };
    let mut resets = Vec::new();
    let mut i = 0;
    while i < v.len() {
        if v[i].flags.rst {
            resets.push(v.remove(i));
        } else {
            i += 1;
        }
    }
    resets.sort_by_key(|r| r.id);
    for r in resets {
        let at = v
            .iter()
            .rposition(|s| conn(s) == conn(&r) && s.id <= r.id)
            .map_or(0, |p| p + 1);
        v.insert(at, r);
    }
}

/// Limits for differential runs: the defaults, except for the two buffers that wait for the
/// other direction, which hold 1 MiB per side instead of 64 KiB. Within its limit a side that
/// is ahead waits; past it, what is given up depends on how far ahead the capture's order put
/// that side: a server that pushes large segments right after its 101 can be many packets
/// ahead of a request that a permutation moved back (`max_handshake_bytes`), and a connection
/// picked up mid-stream keeps only the first bytes of each side until the other side's frames
/// decide it (`max_probe_bytes`).
pub fn limits() -> Limits {
    Limits {
        max_handshake_bytes: 1 << 20,
        max_probe_bytes: 1 << 20,
        ..Limits::default()
    }
}

/// Connection key: client and server endpoints as the output writes them.
pub type Conn = (String, String);
/// Message key: connection and direction.
pub type Key = (String, String, &'static str);

/// What one decode produced.
#[derive(Debug, Default)]
pub struct Decode {
    /// (opcode, payload) per connection and direction, in order.
    pub msgs: BTreeMap<Key, Vec<(Opcode, Vec<u8>)>>,
    /// The `open` of each connection (its handshake facts, not their capture times).
    pub opens: BTreeMap<Conn, String>,
    /// Anomaly kinds per connection ("" for the input itself), with their direction.
    pub anomalies: BTreeMap<Conn, Vec<(Option<&'static str>, String)>>,
    /// Connections picked up without their handshake (`no_handshake`).
    pub mid_stream: BTreeSet<Conn>,
}

impl Decode {
    pub fn message_count(&self) -> usize {
        self.msgs.values().map(Vec::len).sum()
    }

    pub fn anomaly_count(&self) -> usize {
        self.anomalies.values().map(Vec::len).sum()
    }
}

fn dir_str(d: Dir) -> &'static str {
    match d {
        Dir::C2s => "c2s",
        Dir::S2c => "s2c",
    }
}

/// The events of `segs` fed in this order through one engine.
pub fn events(segs: &[Seg], limits: &Limits) -> Vec<Event> {
    let mut engine = Engine::new(limits.clone());
    let mut events: Vec<Event> = Vec::new();
    for (i, s) in segs.iter().enumerate() {
        let seg = TcpSegment {
            src: s.src,
            dst: s.dst,
            seq: s.seq,
            flags: s.flags,
            payload: &s.payload,
            missing: s.missing,
        };
        engine.segment(i as u64, s.ts, &seg, &mut events);
    }
    engine.finish(&mut events);
    events
}

/// Decodes `segs` in this order through one engine.
pub fn decode(segs: &[Seg], limits: &Limits) -> Decode {
    let events = events(segs, limits);
    let mut d = Decode::default();
    for ev in &events {
        let conn = ev
            .conn
            .map(|c| (c.client.to_string(), c.server.to_string()))
            .unwrap_or_default();
        match &ev.kind {
            EventKind::Open(info) => {
                // Everything but the capture times and numbers of the handshake's packets,
                // which depend on the order packets came in.
                let mut info = (**info).clone();
                info.handshake.request_ts = None;
                info.handshake.response_ts = None;
                info.handshake.response_packet = None;
                if info.mid_stream {
                    d.mid_stream.insert(conn.clone());
                }
                d.opens.insert(conn, format!("{info:?}"));
            }
            EventKind::Message { dir, msg } => {
                d.msgs
                    .entry((conn.0, conn.1, dir_str(*dir)))
                    .or_default()
                    .push((msg.opcode, msg.payload.clone()));
            }
            EventKind::Anomaly { dir, anomaly } => {
                d.anomalies
                    .entry(conn)
                    .or_default()
                    .push((dir.map(dir_str), anomaly.kind.as_str().to_owned()));
            }
            // Refused upgrades have no connection number: keyed by their endpoints, their
            // facts compared as an open's are.
            EventKind::Refused(r) => {
                let mut r = (**r).clone();
                r.handshake.request_ts = None;
                r.handshake.response_ts = None;
                let key = (
                    r.transport.client.to_string(),
                    r.transport.server.to_string(),
                );
                d.opens.insert(key, format!("refused {r:?}"));
            }
            EventKind::Proto(_) | EventKind::End { .. } | EventKind::Silence { .. } => {}
        }
    }
    d
}

fn show(m: &(Opcode, Vec<u8>)) -> String {
    let head: Vec<u8> = m.1.iter().take(24).copied().collect();
    format!(
        "{} {} bytes {:?}",
        m.0.as_str(),
        m.1.len(),
        String::from_utf8_lossy(&head)
    )
}

/// Lossless disorder: the same connections open with the same facts, and per connection and
/// direction the same messages, in order, byte for byte.
pub fn same_messages(truth: &Decode, got: &Decode) -> Result<(), String> {
    if truth.opens != got.opens {
        return Err(format!(
            "opens differ:\n  want {:?}\n  got  {:?}",
            truth.opens, got.opens
        ));
    }
    let keys: BTreeSet<&Key> = truth.msgs.keys().chain(got.msgs.keys()).collect();
    for key in keys {
        let (w, g) = (
            truth.msgs.get(key).map(Vec::as_slice).unwrap_or_default(),
            got.msgs.get(key).map(Vec::as_slice).unwrap_or_default(),
        );
        if w != g {
            let at = w
                .iter()
                .zip(g)
                .position(|(a, b)| a != b)
                .unwrap_or(w.len().min(g.len()));
            return Err(format!(
                "{} -> {} {}: {} messages expected, {} decoded; first difference at #{at}: \
                 expected {}, got {}",
                key.0,
                key.1,
                key.2,
                w.len(),
                g.len(),
                w.get(at).map_or("nothing".into(), show),
                g.get(at).map_or("nothing".into(), show),
            ));
        }
    }
    Ok(())
}

/// The connection was opened with its handshake in the truth but picked up mid-stream after
/// the losses (its SYN-ACK and handshake lost): what the decoder can know is then what any
/// mid-stream pickup knows, and a payload that holds a long enough chain of valid frames (an
/// HTTP body full of them, as in `captures/disorder/keepalive_first`) is by construction
/// indistinguishable from frames. Such connections are flagged `no_handshake` by the engine;
/// [`never_wrong`] leaves them out and [`handshakes_lost`] counts them.
fn losses_took_the_handshake(truth: &Decode, got: &Decode, key: &Key) -> bool {
    let conn = (key.0.clone(), key.1.clone());
    got.mid_stream.contains(&conn) && !truth.mid_stream.contains(&conn)
}

/// Connections [`never_wrong`] leaves out (see `losses_took_the_handshake`).
pub fn handshakes_lost(truth: &Decode, got: &Decode) -> usize {
    got.mid_stream.difference(&truth.mid_stream).count()
}

/// Lossy disorder: every message decoded is one of the truth's for its connection and
/// direction, in the truth's order (a subsequence), byte for byte; where some are missing
/// other than at the very end, the connection carries an anomaly.
pub fn never_wrong(truth: &Decode, got: &Decode) -> Result<(), String> {
    for (key, g) in &got.msgs {
        if losses_took_the_handshake(truth, got, key) {
            continue;
        }
        let w = truth.msgs.get(key).map(Vec::as_slice).unwrap_or_default();
        let mut it = w.iter();
        for (n, m) in g.iter().enumerate() {
            if !it.any(|t| t == m) {
                return Err(format!(
                    "{} -> {} {}: message #{n} ({}) is not in the truth's sequence at that \
                     point ({} true messages, {} decoded)",
                    key.0,
                    key.1,
                    key.2,
                    show(m),
                    w.len(),
                    g.len()
                ));
            }
        }
        // Messages lost at the very end of a direction, with nothing captured after them,
        // leave no trace in that direction (only the other side's acknowledgements would show
        // them): a prefix of the truth needs no anomaly.
        if g.len() < w.len()
            && !w.starts_with(g)
            && !got.anomalies.contains_key(&(key.0.clone(), key.1.clone()))
        {
            return Err(format!(
                "{} -> {} {}: {} of {} messages decoded without any anomaly on the connection",
                key.0,
                key.1,
                key.2,
                g.len(),
                w.len()
            ));
        }
    }
    Ok(())
}
