//! Opening protected records: which key (and sequence number) applies, trying the next phase's
//! key where the handshake may have moved on unseen, and what a failure means.

use std::ops::Range;

use super::conn::{Step, TlsConn};
use super::direction::Phase;
use super::keylog::KeyLog;
use super::protect::RecordKey;
use super::record::{self, HEADER_LEN, Header};
use super::schedule;
use super::{TlsEvent, hello::TLS13};
use crate::event::AnomalyKind;

/// Consecutive authentication failures after which a direction is given up (its key is
/// evidently wrong; reporting every record would only repeat it).
const MAX_CONSECUTIVE_FAILURES: u32 = 4;

/// A key to try: the phase, its first sequence number, how many numbers after it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Candidate {
    pub phase: Phase,
    pub seq: u64,
    pub tries: u64,
}

/// A record opened: under which phase and number, where its content lies, its content type.
pub(super) struct Opened {
    pub phase: Phase,
    pub seq: u64,
    pub range: Range<usize>,
    pub typ: u8,
}

/// What trying the candidates found.
pub(super) enum Trial {
    Opened(Opened),
    /// No candidate had a key.
    NoKey,
    /// Keys were tried and all failed; `current` says whether the current phase's key was
    /// among them.
    Failed {
        current: bool,
    },
}

impl TlsConn {
    /// The key and (TLS 1.3) secret of `phase` for `side`, from the key log.
    pub(super) fn derive(
        &self,
        side: usize,
        phase: Phase,
        keys: &KeyLog,
    ) -> Option<(RecordKey, Option<Vec<u8>>)> {
        let suite = self.suite?;
        let hello = self.hello.as_ref()?;
        let client = self.is_client(side);
        if !self.tls13() {
            let secrets = keys.get(&hello.random)?;
            let server_random = self.server_hello.as_ref()?.random;
            let (c, s) = schedule::tls12_keys(
                suite,
                secrets.master.as_deref()?,
                &hello.random,
                &server_random,
            )?;
            return Some((if client { c } else { s }, None));
        }
        let dir = self.dir(side);
        let secret = match phase {
            Phase::Clear => return None,
            // RFC 8446 §7.2: each KeyUpdate derives the next secret from the one in force.
            Phase::App(n) if n > 0 && dir.phase == Phase::App(n - 1) && dir.secret.is_some() => {
                schedule::tls13_next_secret(suite.hash, dir.secret.as_deref()?)?
            }
            _ => {
                let secrets = keys.get(&hello.random)?;
                let logged = match (phase, client) {
                    (Phase::Early, true) => secrets.client_early.as_ref(),
                    (Phase::Early, false) => None,
                    (Phase::Handshake, true) => secrets.client_handshake.as_ref(),
                    (Phase::Handshake, false) => secrets.server_handshake.as_ref(),
                    (Phase::App(_), true) => secrets.client_traffic.as_ref(),
                    (Phase::App(_), false) => secrets.server_traffic.as_ref(),
                    (Phase::Clear, _) => None,
                }?;
                let mut secret = logged.clone();
                if let Phase::App(n) = phase {
                    for _ in 0..n {
                        secret = schedule::tls13_next_secret(suite.hash, &secret)?;
                    }
                }
                secret
            }
        };
        let key = schedule::tls13_key(suite, &secret)?;
        Some((key, Some(secret)))
    }

    /// The keys a protected record of `side` may be under, the likeliest first.
    fn candidates(&self, side: usize, window: u64) -> Vec<Candidate> {
        let dir = self.dir(side);
        let at = |phase, seq| Candidate {
            phase,
            seq,
            tries: window,
        };
        if !self.tls13() {
            return vec![at(Phase::App(0), dir.seq)];
        }
        let current = |phase| at(phase, dir.seq);
        match dir.phase {
            Phase::Clear | Phase::Early => {
                let mut c = Vec::with_capacity(3);
                // RFC 8446 §4.2.10: 0-RTT data the server rejected is skipped by it, and so
                // here; the client's next records are under its handshake key.
                if self.is_client(side) && self.early != Some(false) {
                    c.push(current(Phase::Early));
                }
                c.push(at(Phase::Handshake, 0));
                c.push(at(Phase::App(0), 0));
                c
            }
            Phase::Handshake => vec![current(Phase::Handshake), at(Phase::App(0), 0)],
            Phase::App(n) if dir.fails > 0 => {
                // A lost record may have carried a KeyUpdate.
                vec![current(Phase::App(n)), at(Phase::App(n + 1), 0)]
            }
            Phase::App(n) => vec![current(Phase::App(n))],
        }
    }

    /// Tries `candidates` on `rec` (header and body). When more than one key may be tried
    /// the ciphertext is kept aside, since a failed attempt leaves garbage in place.
    pub(super) fn trial(
        &mut self,
        side: usize,
        rec: &mut [u8],
        candidates: &[Candidate],
        keys: &KeyLog,
    ) -> Trial {
        let Some(header) = rec
            .get(..HEADER_LEN)
            .and_then(|h| <[u8; 5]>::try_from(h).ok())
        else {
            return Trial::Failed { current: false };
        };
        let attempts: u64 = candidates.iter().map(|c| c.tries).sum();
        let backup = (attempts > 1).then(|| rec.to_vec());
        let mut any_key = false;
        let mut current_tried = false;
        let tls13 = self.tls13();
        for c in candidates {
            let dir = self.dir(side);
            let owned;
            let key = if c.phase == dir.phase && dir.key.is_some() {
                dir.key.as_ref()
            } else {
                owned = self.derive(side, c.phase, keys);
                owned.as_ref().map(|(k, _)| k)
            };
            let Some(key) = key else {
                continue;
            };
            any_key = true;
            current_tried |= c.phase == dir.phase;
            for seq in c.seq..c.seq.saturating_add(c.tries) {
                let body = rec.get_mut(HEADER_LEN..).unwrap_or_default();
                if let Some(range) = key.open(seq, &header, body) {
                    let range = (range.start + HEADER_LEN)..(range.end + HEADER_LEN);
                    let opened = if tls13 {
                        inner_type(rec, range)
                    } else {
                        header.first().map(|&typ| (range, typ))
                    };
                    let Some((range, typ)) = opened else {
                        // RFC 8446 §5.4: all-zero inner plaintext; authenticated all the same.
                        return Trial::Opened(Opened {
                            phase: c.phase,
                            seq,
                            range: 0..0,
                            typ: 0,
                        });
                    };
                    return Trial::Opened(Opened {
                        phase: c.phase,
                        seq,
                        range,
                        typ,
                    });
                }
                if let Some(b) = &backup {
                    rec.copy_from_slice(b);
                }
            }
        }
        if any_key {
            Trial::Failed {
                current: current_tried,
            }
        } else {
            Trial::NoKey
        }
    }

    /// A protected record of `side` (header and body in `rec`), at stream offset `at`.
    pub(super) fn protected(
        &mut self,
        side: usize,
        rec: &mut [u8],
        at: u64,
        keys: &KeyLog,
        out: &mut dyn FnMut(TlsEvent<'_>),
    ) -> Step {
        if self.version.is_none() || self.dir(side).dead {
            // Before the ServerHello nothing says which key: only 0-RTT data comes this early.
            return if self.dir(side).dead {
                self.count_undecrypted(side, rec);
                Step::Done
            } else {
                Step::Hold
            };
        }
        if self.waits_for_early_verdict(side, keys) {
            return Step::Hold;
        }
        let candidates = self.candidates(side, 1);
        match self.trial(side, rec, &candidates, keys) {
            Trial::Opened(opened) => {
                self.opened(side, rec, opened, keys, out);
                Step::Done
            }
            Trial::NoKey => Step::Hold,
            Trial::Failed { current } => {
                self.failed(side, rec, at, current, keys, out);
                Step::Done
            }
        }
    }

    /// The client offered 0-RTT and the server's EncryptedExtensions has not said whether it
    /// took it; it will, unless its handshake secret is not logged.
    fn waits_for_early_verdict(&self, side: usize, keys: &KeyLog) -> bool {
        if !self.tls13() || !self.is_client(side) || self.early.is_some() {
            return false;
        }
        if !matches!(self.dir(side).phase, Phase::Clear | Phase::Early) {
            return false;
        }
        let server = 1 - side;
        self.derive(server, Phase::Handshake, keys).is_some() && !self.dir(server).dead
    }

    /// Installs the phase a record opened under and hands its content on.
    pub(super) fn opened(
        &mut self,
        side: usize,
        rec: &mut [u8],
        opened: Opened,
        keys: &KeyLog,
        out: &mut dyn FnMut(TlsEvent<'_>),
    ) {
        let dir = self.dir(side);
        if opened.phase != dir.phase || dir.key.is_none() {
            let derived = self.derive(side, opened.phase, keys);
            let dir = self.dir_mut(side);
            match derived {
                Some((key, secret)) => dir.enter(opened.phase, Some(key), secret),
                None => debug_assert!(false, "a record opened under a key that cannot be derived"),
            }
        }
        let dir = self.dir_mut(side);
        dir.seq = opened.seq + 1;
        dir.fails = 0;
        if opened.typ == 0 {
            let what = self.whose(side);
            Self::anomaly(
                Some(side),
                AnomalyKind::TlsMalformed,
                format!(
                    "{what} record {} has no content type (all zero)",
                    opened.seq
                ),
                out,
            );
            return;
        }
        self.content(side, opened.typ, rec, opened.range, out);
        let _ = TLS13;
    }

    /// No key opened a record of `side`.
    fn failed(
        &mut self,
        side: usize,
        rec: &[u8],
        at: u64,
        current: bool,
        keys: &KeyLog,
        out: &mut dyn FnMut(TlsEvent<'_>),
    ) {
        let Some(h) = Header::parse(rec) else {
            return;
        };
        let phase = self.dir(side).phase;
        if !current {
            // The current phase's key is not logged, a later one is and does not open this
            // record: it belongs to the current phase (0-RTT data or handshake messages).
            let dir = self.dir_mut(side);
            dir.seq += 1;
            if phase == Phase::Early || (phase == Phase::Clear && self.early == Some(true)) {
                self.count_undecrypted(side, rec);
                self.lost_unknown(side, out);
            }
            return;
        }
        if matches!(phase, Phase::Clear | Phase::Early)
            && self.is_client(side)
            && self.early != Some(true)
            && self.derive(side, Phase::Handshake, keys).is_some()
        {
            // 0-RTT data the server did not take: not part of what it received.
            return;
        }
        let dir = self.dir_mut(side);
        dir.seq += 1;
        dir.fails += 1;
        let fails = dir.fails;
        let seq = dir.seq - 1;
        let what = self.whose(side);
        let naming = self.naming();
        if fails >= MAX_CONSECUTIVE_FAILURES {
            self.dir_mut(side).dead = true;
            Self::anomaly(
                Some(side),
                AnomalyKind::TlsDecryptError,
                format!(
                    "{what} record at byte {at} fails authentication too, {fails} in a row ({naming}): the key is wrong or the stream broken; the rest of this direction is not decrypted"
                ),
                out,
            );
            self.lost_unknown(side, out);
            return;
        }
        Self::anomaly(
            Some(side),
            AnomalyKind::TlsDecryptError,
            format!(
                "{what} record at byte {at} ({} bytes, sequence number {seq}) fails authentication ({naming}); skipped",
                h.len
            ),
            out,
        );
        self.lost_record_failed(side, h, out);
    }

    /// Reports the plaintext of a record that failed authentication as lost.
    fn lost_record_failed(&mut self, side: usize, h: Header, out: &mut dyn FnMut(TlsEvent<'_>)) {
        let len = match (&self.dir(side).key, self.tls13()) {
            (Some(key), false) if h.typ == record::APPLICATION_DATA => {
                h.len.saturating_sub(key.overhead()) as u64
            }
            (_, false) if h.typ != record::APPLICATION_DATA => return,
            _ => 0,
        };
        out(TlsEvent::Lost { side, len });
    }

    /// After a hole: whether `rec` (a plausible record at stream offset `at`) opens under
    /// any key within the sequence window; if so it is processed.
    pub(super) fn resync_try(
        &mut self,
        side: usize,
        rec: &mut [u8],
        keys: &KeyLog,
        out: &mut dyn FnMut(TlsEvent<'_>),
    ) -> Option<bool> {
        let window = self.cfg.max_resync_records.max(1);
        let candidates = self.candidates(side, window);
        match self.trial(side, rec, &candidates, keys) {
            Trial::Opened(opened) => {
                self.opened(side, rec, opened, keys, out);
                self.after_record(side, keys, out);
                Some(true)
            }
            Trial::Failed { .. } => Some(false),
            Trial::NoKey => None,
        }
    }
}

/// RFC 8446 §5.4: the content type is the last non-zero byte of the inner plaintext; zeros
/// after it are padding.
fn inner_type(rec: &[u8], range: Range<usize>) -> Option<(Range<usize>, u8)> {
    let plain = rec.get(range.clone())?;
    let last = plain.iter().rposition(|&b| b != 0)?;
    let typ = *plain.get(last)?;
    Some((range.start..range.start + last, typ))
}
