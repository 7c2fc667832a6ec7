//! The state of one direction of a TLS connection: framing, the key in force, records held
//! for keys.

use std::collections::VecDeque;

use super::handshake::Assembler;
use super::protect::RecordKey;

/// Which secret protects a direction's records (RFC 8446 §7.1, §4.6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Nothing protected yet.
    Clear,
    /// TLS 1.3 0-RTT data (client only).
    Early,
    /// TLS 1.3 handshake traffic secret.
    Handshake,
    /// Application traffic secret N (TLS 1.3, N counts KeyUpdates); TLS 1.2 uses 0 after
    /// ChangeCipherSpec.
    App(u32),
}

/// An encrypted record kept until its key is known.
#[derive(Debug)]
pub struct Held {
    /// Stream offset of its first byte.
    pub at: u64,
    /// Header and body.
    pub rec: Vec<u8>,
    /// Its place among both directions' held records, in the order they were captured:
    /// released in that order, the plaintext layers see the conversation as it happened
    /// (a request before the response it waits for, which waits before later frames).
    pub arrival: u64,
}

/// After a hole whose end is not a known record boundary.
#[derive(Debug, Default)]
pub struct Resync {
    /// Bytes searched so far.
    pub scanned: u64,
}

#[derive(Debug)]
pub struct Direction {
    /// The record being assembled (header and body so far); while resynchronising, a window
    /// of the stream being searched.
    pub rx: Vec<u8>,
    /// Stream offset of `rx[0]`.
    pub rx_at: u64,
    /// Stream offset of the next byte to arrive (holes included).
    pub pos: u64,
    /// Bytes still to pass over: the rest of a record cut by a hole.
    pub skip: u64,
    pub resync: Option<Resync>,
    pub hs: Assembler,
    pub phase: Phase,
    /// The key of `phase`, once derived.
    pub key: Option<RecordKey>,
    /// The TLS 1.3 traffic secret of `phase` (to derive the next one at a KeyUpdate).
    pub secret: Option<Vec<u8>>,
    /// Sequence number of the next record under `key` (RFC 8446 §5.3, RFC 5246 §6.1).
    pub seq: u64,
    /// TLS 1.2: ChangeCipherSpec seen, every later record is protected.
    pub ccs: bool,
    /// A phase to enter after the current record (RFC 8446 §5.1: handshake messages do not
    /// span key changes).
    pub switch_after: Option<Phase>,
    pub pending: VecDeque<Held>,
    pub pending_bytes: usize,
    /// close_notify seen: later bytes are not read.
    pub closed: bool,
    /// Given up: later bytes are only counted.
    pub dead: bool,
    /// Consecutive records that failed authentication.
    pub fails: u32,
    /// Plaintext bytes delivered.
    pub plaintext: u64,
    /// Protected records never decrypted for want of keys, and their bytes.
    pub undecrypted: u64,
    pub undecrypted_bytes: u64,
    /// Of those, the ones that count as application data for `tls_no_keys`.
    pub undecrypted_app: u64,
    pub no_keys_reported: bool,
    /// Protected records seen (held or not).
    pub protected_records: u64,
}

impl Default for Direction {
    fn default() -> Self {
        Direction {
            rx: Vec::new(),
            rx_at: 0,
            pos: 0,
            skip: 0,
            resync: None,
            hs: Assembler::default(),
            phase: Phase::Clear,
            key: None,
            secret: None,
            seq: 0,
            ccs: false,
            switch_after: None,
            pending: VecDeque::new(),
            pending_bytes: 0,
            closed: false,
            dead: false,
            fails: 0,
            plaintext: 0,
            undecrypted: 0,
            undecrypted_bytes: 0,
            undecrypted_app: 0,
            no_keys_reported: false,
            protected_records: 0,
        }
    }
}

impl Direction {
    /// Enters `phase` at sequence number 0 with its key (if known).
    pub fn enter(&mut self, phase: Phase, key: Option<RecordKey>, secret: Option<Vec<u8>>) {
        self.phase = phase;
        self.key = key;
        self.secret = secret;
        self.seq = 0;
    }

    pub fn memory(&self) -> usize {
        self.rx.capacity() + self.pending_bytes + self.hs.memory()
    }
}
