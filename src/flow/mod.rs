//! Connections: the direction-independent flow key and the table of tracked connections with
//! least-recently-active eviction.

use std::hash::{Hash, Hasher};
use std::net::SocketAddr;

use hashlink::{LinkedHashMap, LinkedHashSet};

/// The two endpoints of a TCP connection, in a canonical order so that both directions map to
/// the same key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowKey {
    lo: SocketAddr,
    hi: SocketAddr,
}

impl FlowKey {
    pub fn new(src: SocketAddr, dst: SocketAddr) -> FlowKey {
        if src <= dst {
            FlowKey { lo: src, hi: dst }
        } else {
            FlowKey { lo: dst, hi: src }
        }
    }

    /// Both endpoints, the lower first (the same whichever side sent the packet).
    pub fn endpoints(&self) -> (SocketAddr, SocketAddr) {
        (self.lo, self.hi)
    }
}

/// Every packet looks its flow up: an IPv4 endpoint is hashed as one word (address and port)
/// rather than field by field, as `SocketAddr`'s own `Hash` does. Equal keys hash alike: what
/// is left out (IPv6 flow info and scope) only makes unequal keys collide.
impl Hash for FlowKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for addr in [&self.lo, &self.hi] {
            match addr {
                SocketAddr::V4(a) => {
                    state.write_u64(u64::from(a.ip().to_bits()) << 16 | u64::from(a.port()));
                }
                SocketAddr::V6(a) => {
                    state.write_u128(a.ip().to_bits());
                    state.write_u16(a.port());
                }
            }
        }
    }
}

/// Seeded per process, so addresses chosen by whoever shaped the traffic cannot be made to
/// collide on purpose; faster than SipHash on these small keys.
type TableHasher = foldhash::fast::RandomState;

/// Flows with a bound on their number, kept in order of last activity (an O(1) LRU: each
/// access moves the flow to the recent end; when a new flow would exceed the bound, the least
/// recently active one is handed back for eviction).
pub struct FlowTable<T> {
    /// Boxed values: a table of tens of thousands of flows then moves small entries when it
    /// grows, and an idle entry costs a pointer rather than a whole session.
    flows: LinkedHashMap<FlowKey, Box<T>, TableHasher>,
    capacity: usize,
    /// Flows that ended (FIN both ways or RST), oldest first: late retransmissions and
    /// duplicates of their segments must not start a ghost connection. Bounded by `capacity`.
    retired: LinkedHashSet<FlowKey, TableHasher>,
}

impl<T> FlowTable<T> {
    pub fn new(capacity: usize) -> Self {
        FlowTable {
            flows: LinkedHashMap::with_hasher(TableHasher::default()),
            capacity: capacity.max(1),
            retired: LinkedHashSet::with_hasher(TableHasher::default()),
        }
    }

    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// The flow, marked as just active.
    pub fn get_mut(&mut self, key: &FlowKey) -> Option<&mut T> {
        self.flows.to_back(key).map(|v| &mut **v)
    }

    /// Insert a new flow. When the table is full, the least recently active flow is removed
    /// first and returned.
    pub fn insert(&mut self, key: FlowKey, value: T) -> Option<(FlowKey, T)> {
        let evicted = if self.flows.len() >= self.capacity && !self.flows.contains_key(&key) {
            self.pop_oldest()
        } else {
            None
        };
        // A replaced flow's entry moves to the recent end like a new one.
        self.flows.remove(&key);
        self.flows.insert(key, Box::new(value));
        evicted
    }

    pub fn remove(&mut self, key: &FlowKey) -> Option<T> {
        self.flows.remove(key).map(|v| *v)
    }

    /// Remove a flow that ended, remembering its key (see [`FlowTable::is_retired`]).
    pub fn retire(&mut self, key: &FlowKey) -> Option<T> {
        let value = self.remove(key)?;
        self.retired.insert(*key);
        while self.retired.len() > self.capacity {
            self.retired.pop_front();
        }
        Some(value)
    }

    /// The flow ended recently: only a new SYN may start it again.
    pub fn is_retired(&self, key: &FlowKey) -> bool {
        self.retired.contains(key)
    }

    /// A new connection reuses the key (its SYN was seen).
    pub fn unretire(&mut self, key: &FlowKey) {
        self.retired.remove(key);
    }

    fn pop_oldest(&mut self) -> Option<(FlowKey, T)> {
        self.flows.pop_front().map(|(k, v)| (k, *v))
    }

    /// The flow, leaving its place in the activity order as it is.
    pub fn peek_mut(&mut self, key: &FlowKey) -> Option<&mut T> {
        self.flows.get_mut(key).map(|v| &mut **v)
    }

    /// Every flow with its key, least recently active first.
    pub fn iter(&self) -> impl Iterator<Item = (&FlowKey, &T)> {
        self.flows.iter().map(|(k, v)| (k, &**v))
    }

    /// Every flow, least recently active first.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.flows.values().map(|v| &**v)
    }

    /// Every flow, least recently active first, to change in place (their order stays).
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.flows.values_mut().map(|v| &mut **v)
    }

    /// Remove the flows for which `pred` holds, oldest first. Linear in the table size:
    /// meant for periodic sweeps (idle timeout), not per packet.
    pub fn remove_where(&mut self, mut pred: impl FnMut(&T) -> bool) -> Vec<(FlowKey, T)> {
        let keys: Vec<FlowKey> = self
            .flows
            .iter()
            .filter(|(_, v)| pred(v))
            .map(|(k, _)| *k)
            .collect();
        keys.into_iter()
            .filter_map(|k| self.remove(&k).map(|v| (k, v)))
            .collect()
    }

    /// Remove every flow, oldest first.
    pub fn drain(&mut self) -> Vec<(FlowKey, T)> {
        let mut all = Vec::with_capacity(self.flows.len());
        while let Some(flow) = self.pop_oldest() {
            all.push(flow);
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn key_is_direction_independent() {
        assert_eq!(
            FlowKey::new(addr(1), addr(2)),
            FlowKey::new(addr(2), addr(1))
        );
        assert_ne!(
            FlowKey::new(addr(1), addr(2)),
            FlowKey::new(addr(1), addr(3))
        );
    }

    #[test]
    fn ipv4_and_ipv6_flows_are_found_from_either_side() {
        use std::hash::BuildHasher;
        let v6 = |port: u16| SocketAddr::from(([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], port));
        let pairs = [
            (addr(40_000), addr(80)),
            (v6(40_000), v6(80)),
            (v6(80), addr(40_000)),
            // Address and port trade places between the two: still two flows.
            (
                SocketAddr::from(([0, 0, 0, 80], 1)),
                SocketAddr::from(([0, 0, 0, 1], 80)),
            ),
        ];
        let mut t = FlowTable::new(16);
        for (i, (a, b)) in pairs.iter().enumerate() {
            assert!(t.insert(FlowKey::new(*a, *b), i).is_none());
        }
        let hasher = foldhash::fast::FixedState::with_seed(7);
        for (i, (a, b)) in pairs.iter().enumerate() {
            let (k, back) = (FlowKey::new(*a, *b), FlowKey::new(*b, *a));
            assert_eq!(hasher.hash_one(k), hasher.hash_one(back));
            assert_eq!(t.get_mut(&back).copied(), Some(i));
        }
        assert_eq!(t.len(), pairs.len());
    }

    #[test]
    fn evicts_least_recently_active() {
        let mut t = FlowTable::new(8);
        for p in 0..8u16 {
            assert!(t.insert(FlowKey::new(addr(p), addr(80)), p).is_none());
        }
        // Touch flow 0 many times so that it is the most recent.
        for _ in 0..10 {
            assert!(t.get_mut(&FlowKey::new(addr(0), addr(80))).is_some());
        }
        let (key, value) = t.insert(FlowKey::new(addr(100), addr(80)), 100).unwrap();
        assert_eq!(value, 1);
        assert_eq!(key, FlowKey::new(addr(1), addr(80)));
        assert_eq!(t.len(), 8);
        let order: Vec<u16> = t.drain().into_iter().map(|(_, v)| v).collect();
        assert_eq!(order, vec![2, 3, 4, 5, 6, 7, 0, 100]);
    }

    #[test]
    fn retired_flows_are_remembered_boundedly() {
        let mut t = FlowTable::new(2);
        let key = |p| FlowKey::new(addr(p), addr(80));
        for p in 0..3u16 {
            t.insert(key(p), p);
            assert_eq!(t.retire(&key(p)), Some(p));
            assert!(t.is_retired(&key(p)));
        }
        // Capacity 2: the oldest retired key is forgotten.
        assert!(!t.is_retired(&key(0)));
        assert!(t.is_retired(&key(1)) && t.is_retired(&key(2)));
        t.unretire(&key(2));
        assert!(!t.is_retired(&key(2)));
        assert!(t.is_empty());
    }

    #[test]
    fn remove_where_takes_matching_oldest_first() {
        let mut t = FlowTable::new(16);
        for p in 0..6u16 {
            t.insert(FlowKey::new(addr(p), addr(80)), p);
        }
        let gone = t.remove_where(|v| v % 2 == 1);
        let values: Vec<u16> = gone.iter().map(|(_, v)| *v).collect();
        assert_eq!(values, vec![1, 3, 5]);
        assert_eq!(gone[0].0, FlowKey::new(addr(1), addr(80)));
        assert_eq!(t.len(), 3);
        let mut left: Vec<u16> = t.values().copied().collect();
        left.sort_unstable();
        assert_eq!(left, vec![0, 2, 4]);
        // The age order stays consistent: draining still yields the rest oldest first.
        let order: Vec<u16> = t.drain().into_iter().map(|(_, v)| v).collect();
        assert_eq!(order, vec![0, 2, 4]);
        assert!(t.is_empty());
    }
}
