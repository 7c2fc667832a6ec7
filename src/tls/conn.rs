//! One TLS connection: both directions' framing, the handshake facts, and what is reported.
//! Decryption proper is in `decrypt.rs`, handshake contents in `content.rs`.

use super::direction::{Direction, Held, Phase, Resync};
use super::hello::{ClientHello, ServerHello, TLS13};
use super::keylog::{KeyLog, to_hex};
use super::record::{self, HEADER_LEN, Header};
use super::suite::Suite;
use super::{TlsConfig, TlsEvent};
use crate::event::{Anomaly, AnomalyKind, TlsInfo};

/// What became of a protected record.
pub(super) enum Step {
    Done,
    /// Its key is not known yet (or which key is not known yet): hold it.
    Hold,
}

/// A TLS connection's decoder (sans-IO): each TCP side's bytes in, plaintext and reports out.
pub struct TlsConn {
    pub(super) cfg: TlsConfig,
    /// The side that sent the ClientHello.
    pub(super) client: Option<usize>,
    pub(super) hello: Option<ClientHello>,
    pub(super) server_hello: Option<ServerHello>,
    pub(super) suite: Option<&'static Suite>,
    /// TLS12 or TLS13, once the ServerHello settled it.
    pub(super) version: Option<u16>,
    /// A HelloRetryRequest was seen.
    pub(super) retried: bool,
    /// Whether the server accepted 0-RTT data (`None`: not known yet).
    pub(super) early: Option<bool>,
    pub(super) alpn: Option<String>,
    pub(super) resumed: bool,
    /// TLS 1.2: the first ChangeCipherSpec was seen.
    pub(super) ccs_seen: bool,
    pub(super) info: Option<TlsInfo>,
    /// Not decryptable at all (unsupported version or suite, lost hello): records pass by.
    pub(super) opaque: bool,
    /// Key log generation last looked at.
    pub(super) generation: u64,
    /// Records held so far (both directions): the next one's [`Held::arrival`].
    pub(super) held_count: u64,
    pub(super) dirs: [Direction; 2],
}

impl TlsConn {
    pub fn new(config: TlsConfig) -> TlsConn {
        TlsConn {
            cfg: config,
            client: None,
            hello: None,
            server_hello: None,
            suite: None,
            version: None,
            retried: false,
            early: None,
            alpn: None,
            resumed: false,
            ccs_seen: false,
            info: None,
            opaque: false,
            generation: 0,
            held_count: 0,
            dirs: [Direction::default(), Direction::default()],
        }
    }

    /// The side that sent the ClientHello.
    pub fn client_side(&self) -> Option<usize> {
        self.client
    }

    /// What was learned of the connection, once settled (see `TlsEvent::Established`).
    pub fn info(&self) -> Option<&TlsInfo> {
        self.info.as_ref()
    }

    /// Bytes held: partial records, records waiting for keys, partial handshake messages.
    pub fn memory(&self) -> usize {
        self.dirs.iter().map(Direction::memory).sum()
    }

    pub(super) fn dir(&self, side: usize) -> &Direction {
        let [a, b] = &self.dirs;
        if side == 0 { a } else { b }
    }

    pub(super) fn dir_mut(&mut self, side: usize) -> &mut Direction {
        let [a, b] = &mut self.dirs;
        if side == 0 { a } else { b }
    }

    pub(super) fn is_client(&self, side: usize) -> bool {
        self.client == Some(side)
    }

    pub(super) fn tls13(&self) -> bool {
        self.version == Some(TLS13)
    }

    pub(super) fn anomaly(
        side: Option<usize>,
        kind: AnomalyKind,
        detail: String,
        out: &mut dyn FnMut(TlsEvent<'_>),
    ) {
        out(TlsEvent::Anomaly {
            side,
            anomaly: Anomaly::new(kind, detail),
        });
    }

    /// "the client's" / "the server's" / "side N's", for details.
    pub(super) fn whose(&self, side: usize) -> String {
        match self.client {
            Some(c) if c == side => "the client's".into(),
            Some(_) => "the server's".into(),
            None => format!("side {side}'s"),
        }
    }

    /// SNI and client_random, as anomaly details name a connection.
    pub(super) fn naming(&self) -> String {
        match &self.hello {
            Some(h) => format!(
                "SNI {}, client_random {}",
                h.sni.as_deref().unwrap_or("(none)"),
                to_hex(&h.random)
            ),
            None => "no ClientHello seen".into(),
        }
    }

    pub fn feed(
        &mut self,
        side: usize,
        data: &[u8],
        keys: &KeyLog,
        out: &mut dyn FnMut(TlsEvent<'_>),
    ) {
        if side > 1 {
            debug_assert!(false, "TLS side {side}");
            return;
        }
        self.check_keys(keys, out);
        let mut data = data;
        while !data.is_empty() {
            let used = self.take(side, data, keys, out);
            debug_assert!(used > 0 || data.is_empty());
            if used == 0 {
                break;
            }
            data = data.get(used..).unwrap_or_default();
        }
    }

    /// Consumes a prefix of `data`; returns its length.
    fn take(
        &mut self,
        side: usize,
        data: &[u8],
        keys: &KeyLog,
        out: &mut dyn FnMut(TlsEvent<'_>),
    ) -> usize {
        let max = self.cfg.max_record_bytes;
        let dir = self.dir_mut(side);
        if dir.dead || dir.closed {
            dir.pos += data.len() as u64;
            return data.len();
        }
        if dir.skip > 0 {
            let n = usize::try_from(dir.skip)
                .unwrap_or(usize::MAX)
                .min(data.len());
            dir.skip -= n as u64;
            dir.pos += n as u64;
            return n;
        }
        if dir.resync.is_some() {
            return self.resync_take(side, data, keys, out);
        }
        if dir.rx.is_empty() {
            dir.rx_at = dir.pos;
        }
        let want = match Header::parse(&dir.rx) {
            None => HEADER_LEN - dir.rx.len(),
            Some(h) => HEADER_LEN + h.len - dir.rx.len(),
        };
        let n = want.min(data.len());
        dir.rx.extend_from_slice(data.get(..n).unwrap_or_default());
        dir.pos += n as u64;
        let Some(h) = Header::parse(&dir.rx) else {
            return n;
        };
        if !h.plausible(max) {
            let at = dir.rx_at;
            dir.resync = Some(Resync::default());
            let what = self.whose(side);
            Self::anomaly(
                Some(side),
                AnomalyKind::TlsMalformed,
                format!(
                    "{what} stream at byte {at} is not a TLS record (type {}, version 0x{:04x}, length {}); searching for the next record",
                    h.typ, h.version, h.len
                ),
                out,
            );
            self.lost_unknown(side, out);
            // The window searched starts with the bytes taken (`rx`, `rx_at` unchanged).
            return n;
        }
        if dir.rx.len() < HEADER_LEN + h.len {
            return n;
        }
        let mut rec = std::mem::take(&mut dir.rx);
        let at = dir.rx_at;
        self.record(side, &mut rec, at, keys, out);
        rec.clear();
        let dir = self.dir_mut(side);
        if dir.rx.is_empty() {
            dir.rx = rec;
        }
        n
    }

    /// One whole record (header and body) at stream offset `at`.
    pub(super) fn record(
        &mut self,
        side: usize,
        rec: &mut [u8],
        at: u64,
        keys: &KeyLog,
        out: &mut dyn FnMut(TlsEvent<'_>),
    ) {
        let Some(h) = Header::parse(rec) else {
            debug_assert!(false, "record without header");
            return;
        };
        if self.opaque {
            return;
        }
        let tls12 = self.version.is_some() && !self.tls13();
        let dir = self.dir(side);
        let protected = dir.ccs || h.typ == record::APPLICATION_DATA;
        if h.typ == record::CHANGE_CIPHER_SPEC && !dir.ccs {
            if tls12 {
                self.change_cipher_spec(side, out);
            }
            // RFC 8446 §5: in TLS 1.3 a change_cipher_spec record is only for middleboxes;
            // it is not protected and does not count in the record sequence.
            return;
        }
        if !protected {
            let body = rec.get(HEADER_LEN..).unwrap_or_default();
            self.clear_record(side, h, body, at, out);
            return;
        }
        if tls12 && !dir.ccs {
            let what = self.whose(side);
            Self::anomaly(
                Some(side),
                AnomalyKind::TlsMalformed,
                format!(
                    "{what} application data record at byte {at} arrived before ChangeCipherSpec; skipped"
                ),
                out,
            );
            return;
        }
        self.dir_mut(side).protected_records += 1;
        if self.dir(side).pending.is_empty()
            && let Step::Done = self.protected(side, rec, at, keys, out)
        {
            self.after_record(side, keys, out);
            return;
        }
        self.hold(side, rec, at, keys, out);
    }

    /// Applies a key change announced inside the record just processed.
    pub(super) fn after_record(
        &mut self,
        side: usize,
        keys: &KeyLog,
        out: &mut dyn FnMut(TlsEvent<'_>),
    ) {
        let Some(phase) = self.dir_mut(side).switch_after.take() else {
            return;
        };
        let derived = self.derive(side, phase, keys);
        let dir = self.dir_mut(side);
        match derived {
            Some((key, secret)) => dir.enter(phase, Some(key), secret),
            None => dir.enter(phase, None, None),
        }
        // A key change may settle what the other side's held records wait for.
        let _ = out;
    }

    fn hold(
        &mut self,
        side: usize,
        rec: &[u8],
        at: u64,
        keys: &KeyLog,
        out: &mut dyn FnMut(TlsEvent<'_>),
    ) {
        let total: usize = self.dirs.iter().map(|d| d.pending_bytes).sum();
        if total + rec.len() > self.cfg.max_pending_bytes {
            self.give_up_pending(side, keys, out);
            self.count_undecrypted(side, rec);
            return;
        }
        let arrival = self.held_count;
        self.held_count += 1;
        let dir = self.dir_mut(side);
        dir.pending_bytes += rec.len();
        dir.pending.push_back(Held {
            at,
            rec: rec.to_vec(),
            arrival,
        });
    }

    /// Held records exceed the limit: drop this direction's and stop decrypting it.
    fn give_up_pending(&mut self, side: usize, keys: &KeyLog, out: &mut dyn FnMut(TlsEvent<'_>)) {
        let held = std::mem::take(&mut self.dir_mut(side).pending);
        for h in &held {
            self.count_undecrypted(side, &h.rec);
        }
        let dir = self.dir_mut(side);
        let bytes = dir.pending_bytes;
        dir.pending_bytes = 0;
        dir.dead = true;
        let missing = self.missing_secrets(side, keys);
        let what = self.whose(side);
        let naming = self.naming();
        if let Some(missing) = missing {
            self.report_no_keys(side, &missing, out);
        } else {
            Self::anomaly(
                Some(side),
                AnomalyKind::TlsPendingLimit,
                format!(
                    "{what} records held for the handshake to settle exceeded {} bytes ({bytes} bytes dropped; {naming}); the rest of this direction is not decrypted",
                    self.cfg.max_pending_bytes
                ),
                out,
            );
        }
        self.lost_unknown(side, out);
    }

    pub(super) fn count_undecrypted(&mut self, side: usize, rec: &[u8]) {
        let app = self.counts_as_app_data(side, rec);
        let dir = self.dir_mut(side);
        dir.undecrypted += 1;
        dir.undecrypted_bytes += rec.len() as u64;
        if app {
            dir.undecrypted_app += 1;
        }
    }

    /// Whether an undecrypted record counts as application data for `tls_no_keys`. TLS 1.2
    /// says so in its header. TLS 1.3 hides the type: the client's first protected record
    /// is its Finished, and records of an alert's size are taken for close_notify; the
    /// server's records count only when the client sent data (its NewSessionTickets look
    /// like data).
    fn counts_as_app_data(&self, side: usize, rec: &[u8]) -> bool {
        const ALERT_RECORD: usize = HEADER_LEN + 2 + 1 + super::protect::TAG_LEN;
        let Some(h) = Header::parse(rec) else {
            return false;
        };
        if !self.tls13() {
            return h.typ == record::APPLICATION_DATA;
        }
        let dir = self.dir(side);
        if self.is_client(side) {
            dir.undecrypted > 0 && rec.len() > ALERT_RECORD
        } else {
            rec.len() > ALERT_RECORD
        }
    }

    /// The side's records were decrypted, or some of them count as application data.
    fn carried_data(&self, side: usize) -> bool {
        let dir = self.dir(side);
        dir.plaintext > 0 || dir.undecrypted_app > 0
    }

    /// Which logged secrets `side` lacks, named by label; `None` if it lacks none.
    pub(super) fn missing_secrets(&self, side: usize, keys: &KeyLog) -> Option<String> {
        let hello = self.hello.as_ref()?;
        let secrets = keys.get(&hello.random);
        let client = self.is_client(side);
        let (label, have) = if self.tls13() {
            match (client, self.dir(side).phase) {
                (true, Phase::Handshake) | (true, Phase::Clear) => (
                    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
                    secrets.and_then(|s| s.client_handshake.as_ref()).is_some(),
                ),
                (false, Phase::Handshake) | (false, Phase::Clear) => (
                    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                    secrets.and_then(|s| s.server_handshake.as_ref()).is_some(),
                ),
                (true, _) => (
                    "CLIENT_TRAFFIC_SECRET_0",
                    secrets.and_then(|s| s.client_traffic.as_ref()).is_some(),
                ),
                (false, _) => (
                    "SERVER_TRAFFIC_SECRET_0",
                    secrets.and_then(|s| s.server_traffic.as_ref()).is_some(),
                ),
            }
        } else {
            (
                "CLIENT_RANDOM",
                secrets.and_then(|s| s.master.as_ref()).is_some(),
            )
        };
        (!have).then(|| label.to_owned())
    }

    pub(super) fn report_no_keys(
        &mut self,
        side: usize,
        missing: &str,
        out: &mut dyn FnMut(TlsEvent<'_>),
    ) {
        if self.dir(side).no_keys_reported {
            return;
        }
        self.dir_mut(side).no_keys_reported = true;
        let version = if self.tls13() { "1.3" } else { "1.2" };
        let dir = self.dir(side);
        let ech = match &self.hello {
            Some(h) if h.ech => {
                "; the ClientHello carries encrypted_client_hello: if ECH was accepted, the secrets are logged under the inner hello's client_random, which cannot be seen"
            }
            _ => "",
        };
        let detail = format!(
            "no key log has {missing} for this TLS {version} connection ({}): {} {} ({}) not decrypted{ech}",
            self.naming(),
            self.whose(side),
            crate::plural::count(dir.undecrypted, "record", "records"),
            crate::plural::count(dir.undecrypted_bytes, "byte", "bytes"),
        );
        Self::anomaly(Some(side), AnomalyKind::TlsNoKeys, detail, out);
    }

    /// A hole of `len` bytes in `side`'s stream.
    pub fn gap(&mut self, side: usize, len: u64, keys: &KeyLog, out: &mut dyn FnMut(TlsEvent<'_>)) {
        if side > 1 {
            debug_assert!(false, "TLS side {side}");
            return;
        }
        self.check_keys(keys, out);
        let dir = self.dir_mut(side);
        dir.pos += len;
        if dir.dead || dir.closed || len == 0 {
            return;
        }
        let mut len = len;
        if dir.skip > 0 {
            let n = dir.skip.min(len);
            dir.skip -= n;
            len -= n;
            if len == 0 {
                return;
            }
        }
        if !dir.pending.is_empty() {
            // Held records can only be decrypted in an unbroken sequence.
            self.give_up_held_at_gap(side, keys, out);
            return;
        }
        if self.dir(side).resync.is_some() {
            let dir = self.dir_mut(side);
            dir.rx.clear();
            dir.rx_at = dir.pos;
            return;
        }
        let dir = self.dir_mut(side);
        let header = Header::parse(&dir.rx);
        let have = dir.rx.len() as u64;
        if let Some(h) = header {
            let rest = (HEADER_LEN + h.len) as u64 - have;
            if len <= rest {
                // The hole ends inside the record: the next boundary is still known.
                dir.skip = rest - len;
                dir.rx.clear();
                self.lost_record(side, h, out);
                return;
            }
        }
        if have == 0 && !self.handshake_done(side) {
            self.hello_lost_check(side, out);
        }
        let dir = self.dir_mut(side);
        dir.rx.clear();
        dir.rx_at = dir.pos;
        dir.resync = Some(Resync::default());
        dir.hs.reset();
        self.lost_unknown(side, out);
    }

    /// Whether the cleartext part of `side`'s handshake is over (its hello was seen).
    fn handshake_done(&self, side: usize) -> bool {
        if self.is_client(side) {
            self.hello.is_some()
        } else {
            self.server_hello.is_some() && !self.retried
        }
    }

    /// A hole before the hellos: nothing can be decrypted.
    fn hello_lost_check(&mut self, side: usize, out: &mut dyn FnMut(TlsEvent<'_>)) {
        if self.hello.is_some() && self.server_hello.is_some() {
            return;
        }
        if self.opaque {
            return;
        }
        self.opaque = true;
        let what = if self.hello.is_none() {
            "ClientHello"
        } else {
            "ServerHello"
        };
        let naming = self.naming();
        let whose = self.whose(side);
        Self::anomaly(
            Some(side),
            AnomalyKind::TlsHelloLost,
            format!(
                "a hole in {whose} stream swallowed the {what} ({naming}): the connection cannot be decrypted"
            ),
            out,
        );
    }

    fn give_up_held_at_gap(
        &mut self,
        side: usize,
        keys: &KeyLog,
        out: &mut dyn FnMut(TlsEvent<'_>),
    ) {
        let held = std::mem::take(&mut self.dir_mut(side).pending);
        for h in &held {
            self.count_undecrypted(side, &h.rec);
        }
        let dir = self.dir_mut(side);
        dir.pending_bytes = 0;
        dir.dead = true;
        if let Some(missing) = self.missing_secrets(side, keys) {
            self.report_no_keys(side, &missing, out);
        }
        self.lost_unknown(side, out);
    }

    /// A whole record of `side` is lost (its bytes fell in a hole).
    pub(super) fn lost_record(
        &mut self,
        side: usize,
        h: Header,
        out: &mut dyn FnMut(TlsEvent<'_>),
    ) {
        let dir = self.dir(side);
        let protected = dir.ccs || h.typ == record::APPLICATION_DATA;
        if !protected {
            if h.typ == record::HANDSHAKE {
                self.dir_mut(side).hs.reset();
            }
            return;
        }
        let tls13 = self.tls13();
        let dir = self.dir_mut(side);
        dir.seq += 1;
        // TLS 1.2 says the record's type and the exact plaintext length; TLS 1.3 hides both.
        let len = match (&dir.key, tls13) {
            (Some(key), false) if h.typ == record::APPLICATION_DATA => {
                h.len.saturating_sub(key.overhead()) as u64
            }
            (_, false) if h.typ != record::APPLICATION_DATA => return,
            _ => 0,
        };
        out(TlsEvent::Lost { side, len });
    }

    pub(super) fn lost_unknown(&mut self, side: usize, out: &mut dyn FnMut(TlsEvent<'_>)) {
        out(TlsEvent::Lost { side, len: 0 });
    }

    /// Both directions ended (or input ended): report what is still pending (tls_no_keys,
    /// ...).
    pub fn finish(&mut self, keys: &KeyLog, out: &mut dyn FnMut(TlsEvent<'_>)) {
        self.check_keys(keys, out);
        // Records waiting for the server's word on 0-RTT get it now: there will be none.
        for side in 0..2 {
            if !self.dir(side).pending.is_empty() && self.early.is_none() && self.is_client(side) {
                self.early = Some(false);
                self.drain(side, keys, out);
            }
        }
        for side in 0..2 {
            let held = std::mem::take(&mut self.dir_mut(side).pending);
            self.dir_mut(side).pending_bytes = 0;
            for h in &held {
                self.count_undecrypted(side, &h.rec);
            }
        }
        let client_data = self.client.is_some_and(|c| self.carried_data(c));
        for side in 0..2 {
            let dir = self.dir(side);
            if dir.undecrypted == 0 || dir.no_keys_reported || self.opaque {
                continue;
            }
            // The server's undecrypted records count only when the client sent data too.
            let app = dir.undecrypted_app > 0 && (self.is_client(side) || client_data);
            if !app {
                continue;
            }
            if let Some(missing) = self.missing_secrets(side, keys) {
                self.report_no_keys(side, &missing, out);
            }
        }
        for side in 0..2 {
            let dir = self.dir_mut(side);
            if !dir.rx.is_empty() && dir.resync.is_none() && !dir.dead && !dir.closed {
                let protected = dir.ccs || dir.phase != Phase::Clear;
                dir.rx.clear();
                if protected {
                    self.lost_unknown(side, out);
                }
            }
        }
    }

    /// The key log may have grown: held records the new lines open are decrypted now rather
    /// than at this connection's next record (nothing to do when the key log is unchanged).
    pub fn keys_added(&mut self, keys: &KeyLog, out: &mut dyn FnMut(TlsEvent<'_>)) {
        self.check_keys(keys, out);
    }

    /// Keys may have arrived (generation changed): decrypt held records now.
    pub fn retry(&mut self, keys: &KeyLog, out: &mut dyn FnMut(TlsEvent<'_>)) {
        self.generation = keys.generation().wrapping_sub(1);
        self.check_keys(keys, out);
    }

    fn check_keys(&mut self, keys: &KeyLog, out: &mut dyn FnMut(TlsEvent<'_>)) {
        if keys.generation() == self.generation {
            return;
        }
        self.generation = keys.generation();
        self.drain_both(keys, out);
    }

    /// Decrypts both sides' held records in the order they were captured, as far as keys
    /// allow. Side by side would hand the plaintext layers, say, a client's request and all
    /// its later frames before the server's answer: an HTTP upgrade then looks like a request
    /// followed by more than `max_handshake_bytes` and is given up.
    fn drain_both(&mut self, keys: &KeyLog, out: &mut dyn FnMut(TlsEvent<'_>)) {
        // A side that must wait may be unblocked by the other side's next record (the
        // server's EncryptedExtensions settles the client's 0-RTT records).
        let mut waiting = [false; 2];
        loop {
            let next = (0..2)
                .filter(|&s| waiting.get(s) == Some(&false))
                .filter_map(|s| self.dir(s).pending.front().map(|h| (h.arrival, s)))
                .min();
            let Some((_, side)) = next else {
                return;
            };
            let Some(mut held) = self.dir_mut(side).pending.pop_front() else {
                return;
            };
            match self.protected(side, &mut held.rec, held.at, keys, out) {
                Step::Done => {
                    let dir = self.dir_mut(side);
                    dir.pending_bytes -= held.rec.len();
                    self.after_record(side, keys, out);
                    if let Some(other) = waiting.get_mut(1 - side) {
                        *other = false;
                    }
                }
                Step::Hold => {
                    self.dir_mut(side).pending.push_front(held);
                    if let Some(this) = waiting.get_mut(side) {
                        *this = true;
                    }
                }
            }
        }
    }

    /// Decrypts `side`'s held records in order, as far as keys allow.
    pub(super) fn drain(&mut self, side: usize, keys: &KeyLog, out: &mut dyn FnMut(TlsEvent<'_>)) {
        while let Some(mut held) = self.dir_mut(side).pending.pop_front() {
            match self.protected(side, &mut held.rec, held.at, keys, out) {
                Step::Done => {
                    let dir = self.dir_mut(side);
                    dir.pending_bytes -= held.rec.len();
                    self.after_record(side, keys, out);
                }
                Step::Hold => {
                    self.dir_mut(side).pending.push_front(held);
                    return;
                }
            }
        }
    }

    /// The handshake settled: report it once, before any plaintext.
    pub(super) fn establish(&mut self, out: &mut dyn FnMut(TlsEvent<'_>)) {
        if self.info.is_some() {
            return;
        }
        let (Some(version), Some(suite)) = (self.version, self.suite) else {
            return;
        };
        self.info = Some(TlsInfo {
            version: if version == TLS13 { "1.3" } else { "1.2" }.into(),
            cipher: suite.name.into(),
            sni: self.hello.as_ref().and_then(|h| h.sni.clone()),
            alpn: self.alpn.clone(),
            resumed: self.resumed,
        });
        if let Some(info) = &self.info {
            out(TlsEvent::Established(info));
        }
    }
}
