//! IP fragment reassembly (RFC 791 §3.2, RFC 8200 §4.5) in a pool bounded in bytes and in
//! datagrams. Fragments may arrive in any order; where they overlap the first copy wins.

use std::collections::HashMap;
use std::net::IpAddr;

use super::ip::Frag;
use crate::bytes::within;

/// Identifies one datagram's fragments (RFC 791 §3.2: source, destination, protocol, id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct FragKey {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
    pub id: u32,
}

/// A run of received bytes: `len` bytes at datagram offset `off`, stored at `pos` in the
/// datagram's arrival-order buffer.
#[derive(Clone, Copy, Debug)]
struct Piece {
    off: u32,
    len: u32,
    pos: u32,
}

/// Bookkeeping charged per piece, so a flood of tiny fragments is bounded too.
const PIECE_COST: usize = size_of::<Piece>();

struct Datagram {
    /// Fragment bytes in arrival order (no holes allocated for what has not arrived).
    data: Vec<u8>,
    /// Sorted by `off`, never overlapping.
    pieces: Vec<Piece>,
    /// Payload length, known once the last fragment (MF clear) arrived; the first one wins.
    total: Option<u32>,
    /// Arrival order of the datagram's first fragment, to find the oldest.
    born: u64,
}

impl Datagram {
    fn cost(&self) -> usize {
        self.data.len() + self.pieces.len() * PIECE_COST
    }

    /// Bytes of `[0, end)` already covered.
    fn covered_below(&self, end: u32) -> u64 {
        self.pieces
            .iter()
            .map(|p| u64::from(p.off.saturating_add(p.len).min(end).saturating_sub(p.off)))
            .sum()
    }
}

pub(super) enum Insert {
    /// Stored; the datagram is still incomplete.
    Held,
    /// The datagram is complete: its payload is in `FragPool::datagram`.
    Complete,
    /// Room had to be made (or could not be): the string says what was dropped.
    Dropped(String),
}

pub(super) struct FragPool {
    datagrams: HashMap<FragKey, Datagram>,
    /// Datagrams by `born`: the oldest is found without scanning the pool.
    by_age: std::collections::BTreeMap<u64, FragKey>,
    held: usize,
    max_bytes: usize,
    max_datagrams: usize,
    born: u64,
    /// The last completed datagram's payload (reused between datagrams).
    pub datagram: Vec<u8>,
}

impl FragPool {
    pub fn new(max_bytes: usize, max_datagrams: usize) -> Self {
        FragPool {
            datagrams: HashMap::new(),
            by_age: std::collections::BTreeMap::new(),
            held: 0,
            max_bytes,
            max_datagrams,
            born: 0,
            datagram: Vec::new(),
        }
    }

    pub fn held_bytes(&self) -> usize {
        self.held
    }

    pub fn insert(
        &mut self,
        key: FragKey,
        frag: Frag,
        bytes: &[u8],
    ) -> Result<Insert, &'static str> {
        let len = u32::try_from(bytes.len()).map_err(|_| "IP fragment longer than 64 KiB")?;
        let end = frag
            .offset
            .checked_add(len)
            .filter(|&e| e <= frag.max_end)
            .ok_or("IP fragment reaches past the 65535-byte datagram limit")?;
        let empty = [];
        let existing = self.datagrams.get(&key);
        let is_new = existing.is_none();
        let pieces = existing.map_or(&empty[..], |d| d.pieces.as_slice());
        let gaps = gaps(pieces, frag.offset, end);
        let total = existing
            .and_then(|d| d.total)
            .or((!frag.more).then_some(end));

        if let Some(total) = total {
            let before = existing.map_or(0, |d| d.covered_below(total));
            let added: u64 = gaps
                .iter()
                .map(|&(s, e)| u64::from(e.min(total).saturating_sub(s)))
                .sum();
            if before + added == u64::from(total) {
                // The datagram completes: its bytes leave the pool at once, so this
                // fragment needs no room and evicts nothing.
                self.complete(key, bytes, frag.offset, &gaps, total);
                return Ok(Insert::Complete);
            }
        }

        let added_cost: usize = gaps
            .iter()
            .map(|&(s, e)| (e - s) as usize + PIECE_COST)
            .sum();
        let mut dropped = Vec::new();
        if is_new {
            while self.datagrams.len() >= self.max_datagrams {
                match self.evict_oldest(&key) {
                    Some(what) => dropped.push(what),
                    None => break,
                }
            }
        }
        while self.held + added_cost > self.max_bytes {
            match self.evict_oldest(&key) {
                Some(what) => dropped.push(what),
                None => break,
            }
        }
        let no_slot =
            self.datagrams.len() >= self.max_datagrams && !self.datagrams.contains_key(&key);
        if self.held + added_cost > self.max_bytes || no_slot {
            // Nothing else left to drop: this datagram itself cannot be kept.
            let what = match self.remove(&key) {
                Some(d) => {
                    self.held -= d.cost();
                    describe(&key, d.data.len() + bytes.len())
                }
                None => describe(&key, bytes.len()),
            };
            dropped.push(what);
            return Ok(Insert::Dropped(summarize(dropped)));
        }

        self.born += 1;
        let born = self.born;
        if is_new {
            self.by_age.insert(born, key);
        }
        let d = self.datagrams.entry(key).or_insert_with(|| Datagram {
            data: Vec::new(),
            pieces: Vec::new(),
            total: None,
            born,
        });
        if d.total.is_none() && !frag.more {
            d.total = Some(end);
        }
        for &(s, e) in &gaps {
            let from = (s - frag.offset) as usize;
            let to = (e - frag.offset) as usize;
            let pos = d.data.len() as u32;
            d.data.extend_from_slice(within(bytes, from..to));
            d.pieces.push(Piece {
                off: s,
                len: e - s,
                pos,
            });
        }
        d.pieces.sort_unstable_by_key(|p| p.off);
        self.held += added_cost;
        Ok(if dropped.is_empty() {
            Insert::Held
        } else {
            Insert::Dropped(summarize(dropped))
        })
    }

    /// Writes the whole payload into `self.datagram`: held pieces plus this fragment's new
    /// bytes, cut at `total`.
    fn complete(
        &mut self,
        key: FragKey,
        bytes: &[u8],
        offset: u32,
        gaps: &[(u32, u32)],
        total: u32,
    ) {
        let held = self.remove(&key);
        let mut runs: Vec<(u32, &[u8])> = Vec::new();
        if let Some(d) = &held {
            for p in &d.pieces {
                let (pos, len) = (p.pos as usize, p.len as usize);
                runs.push((p.off, within(&d.data, pos..pos + len)));
            }
            self.held -= d.cost();
        }
        for &(s, e) in gaps {
            let (from, to) = ((s - offset) as usize, (e - offset) as usize);
            runs.push((s, within(bytes, from..to)));
        }
        runs.sort_unstable_by_key(|r| r.0);
        self.datagram.clear();
        for (off, run) in runs {
            if off >= total {
                break;
            }
            let keep = run.len().min((total - off) as usize);
            self.datagram.extend_from_slice(within(run, ..keep));
        }
    }

    fn remove(&mut self, key: &FragKey) -> Option<Datagram> {
        let d = self.datagrams.remove(key)?;
        self.by_age.remove(&d.born);
        Some(d)
    }

    /// Drops the oldest datagram other than `keep`; `None` when there is none.
    fn evict_oldest(&mut self, keep: &FragKey) -> Option<String> {
        let oldest = self.by_age.values().find(|k| *k != keep).copied()?;
        let d = self.remove(&oldest)?;
        self.held -= d.cost();
        Some(describe(&oldest, d.data.len()))
    }
}

/// The parts of `[start, end)` not covered by `pieces` (sorted, non-overlapping).
fn gaps(pieces: &[Piece], start: u32, end: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut cursor = start;
    for p in pieces {
        let p_end = p.off + p.len;
        if p_end <= cursor {
            continue;
        }
        if p.off >= end {
            break;
        }
        if p.off > cursor {
            out.push((cursor, p.off));
        }
        cursor = cursor.max(p_end);
        if cursor >= end {
            break;
        }
    }
    if cursor < end {
        out.push((cursor, end));
    }
    out
}

fn describe(key: &FragKey, bytes: usize) -> String {
    let version = if key.src.is_ipv4() { "IPv4" } else { "IPv6" };
    format!(
        "{version} datagram {}→{} id {:#x} (protocol {}): {} of fragments dropped",
        key.src,
        key.dst,
        key.id,
        key.proto,
        crate::plural::count(bytes, "byte", "bytes")
    )
}

fn summarize(dropped: Vec<String>) -> String {
    let mut all = dropped.into_iter();
    let mut first = all.next().unwrap_or_default();
    let more = all.count();
    if more > 0 {
        first.push_str(&format!(" (and {more} more datagrams)"));
    }
    first
}
