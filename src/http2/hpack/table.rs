//! The HPACK index space (RFC 7541 §2.3): the static table, then the dynamic table, newest
//! entry first, as a passive observer can know it.
//!
//! The observer's copy of the dynamic table may be incomplete: after lost bytes it knows only
//! the entries inserted since (`certain == false`), and when the encoder's table is larger than
//! the memory cap it holds only the newest entries. In both cases an index past what is held
//! refers to an entry that exists but is unknown: `Lookup::Unknown`, not an error.

use std::collections::VecDeque;

/// RFC 7541 Appendix A.
pub(crate) const STATIC: [(&str, &str); 61] = [
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
];

/// RFC 7541 §4.1: an entry's size is its name and value lengths plus 32.
pub const ENTRY_OVERHEAD: usize = 32;

/// RFC 7541 §4.2 / RFC 9113 §6.5.2: the initial SETTINGS_HEADER_TABLE_SIZE.
pub const DEFAULT_MAX_SIZE: u64 = 4096;

struct Entry {
    /// `None`: inserted with a name the observer could not resolve.
    name: Option<Box<[u8]>>,
    value: Box<[u8]>,
}

impl Entry {
    /// The entry's size as the encoder counts it, or a lower bound when the name is unknown.
    fn size(&self) -> usize {
        self.name.as_ref().map_or(0, |n| n.len()) + self.value.len() + ENTRY_OVERHEAD
    }
}

/// What an index refers to.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup<'a> {
    Field {
        name: &'a [u8],
        value: &'a [u8],
    },
    /// A dynamic entry whose name is unknown (its value is known).
    ValueOnly(&'a [u8]),
    /// An entry that exists but is not known to the observer.
    Unknown,
}

/// What a size update or an insertion did to the observer's knowledge.
pub struct Table {
    entries: VecDeque<Entry>,
    /// Sum of `Entry::size` (a lower bound of the encoder's figure when names are unknown).
    size: usize,
    /// The maximum size as the encoder last set it (RFC 7541 §4.2).
    max_size: u64,
    /// The most this copy holds (memory cap), whatever `max_size` says.
    cap: usize,
    /// Every entry the encoder holds is held here (positions known).
    certain: bool,
    /// `max_size` was learnt from the stream since certainty was lost.
    max_known: bool,
}

impl Table {
    pub fn new(cap: usize) -> Table {
        Table {
            entries: VecDeque::new(),
            size: 0,
            max_size: DEFAULT_MAX_SIZE,
            cap,
            certain: true,
            max_known: true,
        }
    }

    pub fn certain(&self) -> bool {
        self.certain
    }

    /// The memory cap.
    pub fn cap(&self) -> usize {
        self.cap
    }

    pub fn max_size(&self) -> u64 {
        self.max_size
    }

    /// Bytes held (entry sizes as RFC 7541 counts them, which includes per-entry overhead).
    pub fn size(&self) -> usize {
        self.size
    }

    /// Entries before this point are unknown (lost bytes): keep nothing, trust nothing but
    /// what is inserted from now on.
    pub fn lose(&mut self) {
        self.entries.clear();
        self.size = 0;
        self.certain = false;
        self.max_known = false;
    }

    /// The encoder may hold entries this copy does not.
    fn incomplete(&self) -> bool {
        !self.certain || self.max_size > self.cap as u64
    }

    /// The size this copy evicts down to.
    fn limit(&self) -> usize {
        usize::try_from(self.max_size).map_or(self.cap, |m| m.min(self.cap))
    }

    /// RFC 7541 §4.3 / §6.3: a dynamic table size update, evicting to fit.
    pub fn set_max_size(&mut self, max: u64) {
        // The encoder evicts until its table fits: if what is known already fills `max`, all
        // older (unknown) entries are gone on its side too.
        if !self.certain && self.size as u64 >= max {
            self.certain = true;
        }
        self.max_size = max;
        self.max_known = true;
        self.evict_to(self.limit());
    }

    /// RFC 7541 §4.4: add an entry, evicting the oldest until it fits; an entry larger than
    /// the maximum size empties the table and is not added.
    pub fn insert(&mut self, name: Option<&[u8]>, value: &[u8]) {
        let entry = Entry {
            name: name.map(Box::from),
            value: Box::from(value),
        };
        let len = entry.size();
        if !self.certain && self.max_known && (self.size + len) as u64 > self.max_size {
            // The encoder evicted all older (unknown) entries to make room.
            self.certain = true;
        }
        let limit = self.limit();
        if len > limit {
            self.entries.clear();
            self.size = 0;
            return;
        }
        self.evict_to(limit - len);
        self.size += len;
        self.entries.push_front(entry);
    }

    fn evict_to(&mut self, target: usize) {
        while self.size > target {
            match self.entries.pop_back() {
                Some(e) => self.size -= e.size(),
                None => {
                    debug_assert!(false, "table size {} with no entries", self.size);
                    self.size = 0;
                }
            }
        }
    }

    /// RFC 7541 §2.3.3: index 1..=61 is the static table, 62.. the dynamic table newest
    /// first. `None`: past every table while this copy is complete (a decoding error).
    pub fn get(&self, index: u64) -> Option<Lookup<'_>> {
        let i = usize::try_from(index).ok()?.checked_sub(1)?;
        if let Some((name, value)) = STATIC.get(i) {
            return Some(Lookup::Field {
                name: name.as_bytes(),
                value: value.as_bytes(),
            });
        }
        match self.entries.get(i - STATIC.len()) {
            Some(Entry {
                name: Some(name),
                value,
            }) => Some(Lookup::Field { name, value }),
            Some(Entry { name: None, value }) => Some(Lookup::ValueOnly(value)),
            None if self.incomplete() => Some(Lookup::Unknown),
            None => None,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Approximate heap bytes held.
    pub fn memory(&self) -> usize {
        self.size + self.entries.capacity() * std::mem::size_of::<Entry>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_of(t: &Table, i: u64) -> Option<Vec<u8>> {
        match t.get(i)? {
            Lookup::Field { name, .. } => Some(name.to_vec()),
            _ => None,
        }
    }

    #[test]
    fn static_table_bounds() {
        let t = Table::new(4096);
        assert_eq!(t.get(0), None);
        assert_eq!(name_of(&t, 1).unwrap(), b":authority");
        assert_eq!(name_of(&t, 61).unwrap(), b"www-authenticate");
        assert_eq!(t.get(62), None);
        assert_eq!(t.get(u64::MAX), None);
    }

    #[test]
    fn eviction_follows_size() {
        let mut t = Table::new(4096);
        t.set_max_size(100);
        t.insert(Some(b"a"), b"1"); // 34
        t.insert(Some(b"b"), b"2"); // 68
        t.insert(Some(b"c"), b"3"); // 102 > 100: "a" goes
        assert_eq!(t.len(), 2);
        assert_eq!(name_of(&t, 62).unwrap(), b"c");
        assert_eq!(name_of(&t, 63).unwrap(), b"b");
        assert_eq!(t.get(64), None);
        // An entry larger than the table empties it.
        t.insert(Some(&[b'x'; 80]), b"");
        assert_eq!(t.len(), 0);
        assert_eq!(t.size(), 0);
    }

    #[test]
    fn lost_state_gives_unknown_until_evictions_prove_otherwise() {
        let mut t = Table::new(4096);
        t.insert(Some(b"old"), b"v");
        t.lose();
        assert_eq!(t.get(62), Some(Lookup::Unknown));
        t.insert(Some(b"new"), b"v");
        assert_eq!(name_of(&t, 62).unwrap(), b"new");
        assert_eq!(t.get(63), Some(Lookup::Unknown));
        // A size update to no more than what is known: older entries gone on both sides.
        t.set_max_size(36);
        assert!(t.certain());
        assert_eq!(t.get(63), None);
    }

    #[test]
    fn cap_below_encoder_size_gives_unknown() {
        let mut t = Table::new(64);
        t.set_max_size(1000);
        t.insert(Some(b"a"), b"1");
        t.insert(Some(b"b"), b"2"); // 68 > cap 64: "a" dropped here, kept by the encoder
        assert_eq!(name_of(&t, 62).unwrap(), b"b");
        assert_eq!(t.get(63), Some(Lookup::Unknown));
        assert!(t.size() <= 64);
    }
}
