//! Requests held until their reply comes: keyed by who sent the request, what kind of reply it
//! waits for and the id the reply will name. A reply answers the earliest request still
//! waiting under its key; past the bound the oldest request is dropped.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde_json::Value;

use super::unit::{Unanswered, Unit};
use crate::event::{Dir, Timestamp};

type Hasher = foldhash::fast::RandomState;

/// What a reply looks up: the direction its request went, the class of exchange (so that an
/// MQTT PUBACK never answers a SUBSCRIBE with the same packet id) and the id as text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct PairKey {
    pub req_dir: Dir,
    pub class: &'static str,
    pub id: String,
}

impl PairKey {
    pub fn new(req_dir: Dir, class: &'static str, id: impl Into<String>) -> PairKey {
        PairKey {
            req_dir,
            class,
            id: id.into(),
        }
    }
}

struct Entry {
    key: PairKey,
    ts: Timestamp,
    proto: &'static str,
    kind: String,
    id: Value,
    summary: String,
    /// What a reply may want to name of its request (the JSON-RPC method answered).
    tag: Option<String>,
    /// Reported as unanswered at the end (an upload stream is not a request).
    report: bool,
}

pub(crate) struct Pairs {
    by_key: HashMap<PairKey, VecDeque<u64>, Hasher>,
    order: BTreeMap<u64, Entry>,
    next: u64,
    max: usize,
    dropped: u64,
}

impl Pairs {
    pub fn new(max: usize) -> Pairs {
        Pairs {
            by_key: HashMap::default(),
            order: BTreeMap::new(),
            next: 0,
            max,
            dropped: 0,
        }
    }

    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Holds `unit` as a request waiting under `key`; `id` is what [`Unanswered`] will show.
    pub fn request(&mut self, unit: &mut Unit, key: PairKey, id: Value) {
        self.hold(unit, key, id, None, true);
    }

    /// [`Pairs::request`] with a tag that [`Pairs::answer_tag`] gives back to the reply.
    pub fn request_tagged(&mut self, unit: &mut Unit, key: PairKey, id: Value, tag: String) {
        self.hold(unit, key, id, Some(tag), true);
    }

    /// Holds `unit` under `key` for units that refer to it later, without ever reporting it
    /// unanswered (a SignalR upload stream).
    pub fn hold_silent(&mut self, unit: &mut Unit, key: PairKey) {
        self.hold(unit, key, Value::Null, None, false);
    }

    fn hold(
        &mut self,
        unit: &mut Unit,
        key: PairKey,
        id: Value,
        tag: Option<String>,
        report: bool,
    ) {
        if self.max == 0 {
            return;
        }
        if self.order.len() >= self.max
            && let Some((seq, old)) = self.order.pop_first()
        {
            self.unlink(&old.key, seq);
            self.dropped += 1;
            unit.limited(format!(
                "{}: more than {} requests awaiting a reply: the oldest ({}) is no longer paired",
                unit.proto, self.max, old.summary
            ));
        }
        let seq = self.next;
        self.next += 1;
        self.by_key.entry(key.clone()).or_default().push_back(seq);
        self.order.insert(
            seq,
            Entry {
                key,
                ts: unit.ts,
                proto: unit.proto,
                kind: unit.kind.clone(),
                id,
                summary: unit.summary.clone(),
                tag,
                report,
            },
        );
    }

    fn unlink(&mut self, key: &PairKey, seq: u64) {
        if let Some(q) = self.by_key.get_mut(key) {
            q.retain(|&s| s != seq);
            if q.is_empty() {
                self.by_key.remove(key);
            }
        }
    }

    /// Pairs `unit` with the earliest request waiting under `key`; `done` releases it (a final
    /// reply), otherwise it stays for further replies (stream items). False when none waits.
    pub fn answer(&mut self, unit: &mut Unit, key: &PairKey, done: bool) -> bool {
        self.answer_tag(unit, key, done).is_some()
    }

    /// [`Pairs::answer`] that gives back the request's tag (`Some(None)`: paired, untagged).
    pub fn answer_tag(
        &mut self,
        unit: &mut Unit,
        key: &PairKey,
        done: bool,
    ) -> Option<Option<String>> {
        let q = self.by_key.get_mut(key)?;
        let &seq = q.front()?;
        let Some(entry) = self.order.get(&seq) else {
            debug_assert!(false, "pairing index out of step");
            return None;
        };
        unit.answers(entry.ts);
        let tag = entry.tag.clone();
        if done {
            q.pop_front();
            if q.is_empty() {
                self.by_key.remove(key);
            }
            self.order.remove(&seq);
        }
        Some(tag)
    }

    /// Whether a request waits under `key`.
    pub fn waiting(&self, key: &PairKey) -> bool {
        self.by_key.contains_key(key)
    }

    /// The requests never answered, oldest first; the table is left empty.
    pub fn finish(&mut self) -> Vec<Unanswered> {
        self.by_key.clear();
        std::mem::take(&mut self.order)
            .into_values()
            .filter(|e| e.report)
            .map(|e| Unanswered {
                dir: e.key.req_dir,
                ts: e.ts,
                proto: e.proto,
                kind: e.kind,
                id: e.id,
                summary: e.summary,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(secs: i64, kind: &str) -> Unit {
        let mut u = Unit::new(Dir::C2s, Timestamp::new(secs, 0), "jsonrpc", kind);
        u.summary = format!("{kind}@{secs}");
        u
    }

    #[test]
    fn earliest_request_under_a_key_is_answered_first() {
        let mut p = Pairs::new(8);
        let key = PairKey::new(Dir::C2s, "rpc", "1");
        p.request(&mut unit(1, "a"), key.clone(), Value::from(1));
        p.request(&mut unit(2, "b"), key.clone(), Value::from(1));
        let mut r = unit(5, "response");
        assert!(p.answer(&mut r, &key, true));
        assert_eq!(r.reply_to, Some(Timestamp::new(1, 0)));
        assert_eq!(r.latency_us, Some(4_000_000));
        let mut r = unit(6, "response");
        assert!(p.answer(&mut r, &key, true));
        assert_eq!(r.reply_to, Some(Timestamp::new(2, 0)));
        assert!(!p.answer(&mut unit(7, "response"), &key, true));
        assert!(p.finish().is_empty());
    }

    #[test]
    fn a_stream_item_leaves_its_request_waiting() {
        let mut p = Pairs::new(8);
        let key = PairKey::new(Dir::C2s, "inv", "6");
        p.request(
            &mut unit(1, "StreamInvocation"),
            key.clone(),
            Value::from("6"),
        );
        assert!(p.answer(&mut unit(2, "StreamItem"), &key, false));
        assert!(p.answer(&mut unit(3, "Completion"), &key, true));
        assert!(!p.waiting(&key));
    }

    #[test]
    fn past_the_bound_the_oldest_is_dropped_and_counted() {
        let mut p = Pairs::new(2);
        for (i, id) in ["1", "2", "3"].iter().enumerate() {
            let mut u = unit(i as i64, "request");
            p.request(&mut u, PairKey::new(Dir::C2s, "rpc", *id), Value::from(*id));
            assert_eq!(u.anomaly.is_some(), i == 2);
        }
        assert_eq!(p.dropped(), 1);
        assert!(!p.answer(&mut unit(9, "r"), &PairKey::new(Dir::C2s, "rpc", "1"), true));
        let left = p.finish();
        assert_eq!(
            left.iter().map(|u| u.id.clone()).collect::<Vec<_>>(),
            [Value::from("2"), Value::from("3")]
        );
    }

    #[test]
    fn a_backwards_clock_gives_no_latency() {
        let mut p = Pairs::new(2);
        let key = PairKey::new(Dir::S2c, "x", "");
        p.request(&mut unit(5, "PINGREQ"), key.clone(), Value::Null);
        let mut r = unit(4, "PINGRESP");
        assert!(p.answer(&mut r, &key, true));
        assert_eq!(r.reply_to, Some(Timestamp::new(5, 0)));
        assert_eq!(r.latency_us, None);
    }
}
