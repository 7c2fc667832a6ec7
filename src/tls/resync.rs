//! Finding the next record after a hole whose end is not a known record boundary: a plausible
//! header, confirmed by the AEAD tag under one of the next few sequence numbers (or, for
//! unprotected records, by the header that follows it).

use super::TlsEvent;
use super::conn::TlsConn;
use super::direction::Phase;
use super::keylog::KeyLog;
use super::record::{self, HEADER_LEN, Header};
use crate::event::AnomalyKind;

impl TlsConn {
    /// Takes bytes into the search window; returns how many.
    pub(super) fn resync_take(
        &mut self,
        side: usize,
        data: &[u8],
        keys: &KeyLog,
        out: &mut dyn FnMut(TlsEvent<'_>),
    ) -> usize {
        // Two records' worth: a candidate and the header after it fit.
        let cap = 2 * (HEADER_LEN + self.cfg.max_record_bytes);
        let dir = self.dir_mut(side);
        let n = cap.saturating_sub(dir.rx.len()).min(data.len());
        dir.rx.extend_from_slice(data.get(..n).unwrap_or_default());
        dir.pos += n as u64;
        self.resync_scan(side, keys, out);
        n
    }

    /// Whether a record of type `typ` can come next from `side`.
    fn expected(&self, side: usize, typ: u8) -> bool {
        let dir = self.dir(side);
        if dir.ccs {
            matches!(
                typ,
                record::ALERT | record::HANDSHAKE | record::APPLICATION_DATA
            )
        } else if dir.phase != Phase::Clear || self.tls13() && self.is_client(side) {
            typ == record::APPLICATION_DATA
        } else {
            matches!(
                typ,
                record::CHANGE_CIPHER_SPEC | record::ALERT | record::HANDSHAKE
            )
        }
    }

    fn resync_scan(&mut self, side: usize, keys: &KeyLog, out: &mut dyn FnMut(TlsEvent<'_>)) {
        let max = self.cfg.max_record_bytes;
        loop {
            let dir = self.dir(side);
            let Some(resync) = &dir.resync else {
                return;
            };
            if resync.scanned > self.cfg.max_resync_bytes {
                self.resync_give_up(side, out);
                return;
            }
            let rx = &dir.rx;
            let found = (0..rx.len().saturating_sub(HEADER_LEN - 1)).find_map(|p| {
                let h = Header::parse(rx.get(p..)?)?;
                (h.plausible(max) && h.len > 0 && self.expected(side, h.typ)).then_some((p, h))
            });
            let skip = match found {
                Some((p, _)) => p,
                None => rx.len().saturating_sub(HEADER_LEN - 1),
            };
            let dir = self.dir_mut(side);
            dir.rx.drain(..skip);
            dir.rx_at += skip as u64;
            if let Some(r) = &mut dir.resync {
                r.scanned += skip as u64;
            }
            let Some((_, h)) = found else {
                return;
            };
            let end = HEADER_LEN + h.len;
            if dir.rx.len() < end {
                return;
            }
            let protected = dir.ccs || h.typ == record::APPLICATION_DATA;
            let mut window = std::mem::take(&mut dir.rx);
            let at = dir.rx_at;
            let confirmed = if protected {
                let rec = window.get_mut(..end).unwrap_or_default();
                match self.resync_try(side, rec, keys, out) {
                    Some(ok) => ok,
                    None => {
                        // No key to check against: the direction cannot be followed.
                        self.dir_mut(side).dead = true;
                        self.dir_mut(side).resync = None;
                        return;
                    }
                }
            } else {
                // Unprotected: the next header must be plausible too (or not here yet).
                match window.get(end..).and_then(Header::parse) {
                    Some(next) => next.plausible(max),
                    None if window.len() > end => return self.put_back(side, window),
                    None => return self.put_back(side, window),
                }
            };
            if !confirmed {
                let dir = self.dir_mut(side);
                window.drain(..1);
                dir.rx = window;
                dir.rx_at += 1;
                if let Some(r) = &mut dir.resync {
                    r.scanned += 1;
                }
                continue;
            }
            // Found: the rest of the window is ordinary stream again.
            let dir = self.dir_mut(side);
            dir.resync = None;
            let rest = window.split_off(end);
            dir.pos -= rest.len() as u64;
            if !protected {
                let body = window.get(HEADER_LEN..).unwrap_or_default();
                self.clear_record(side, h, body, at, out);
            }
            let dir = self.dir_mut(side);
            dir.rx.clear();
            dir.rx_at = at + end as u64;
            self.feed(side, &rest, keys, out);
            return;
        }
    }

    fn put_back(&mut self, side: usize, window: Vec<u8>) {
        self.dir_mut(side).rx = window;
    }

    fn resync_give_up(&mut self, side: usize, out: &mut dyn FnMut(TlsEvent<'_>)) {
        let dir = self.dir_mut(side);
        dir.dead = true;
        dir.resync = None;
        dir.rx = Vec::new();
        let whose = self.whose(side);
        let naming = self.naming();
        Self::anomaly(
            Some(side),
            AnomalyKind::TlsMalformed,
            format!(
                "no TLS record found in {} bytes of {whose} stream after a hole ({naming}); the rest of this direction is not decrypted",
                self.cfg.max_resync_bytes
            ),
            out,
        );
    }
}
