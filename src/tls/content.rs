//! What records carry: handshake messages (cleartext or decrypted), alerts, application data.

use std::ops::Range;

use super::TlsEvent;
use super::conn::TlsConn;
use super::direction::Phase;
use super::handshake as hs;
use super::hello::{self, TLS12, TLS13};
use super::record::{self, Header};
use super::suite;
use crate::event::AnomalyKind;

impl TlsConn {
    /// An unprotected record (handshake, alert, heartbeat).
    pub(super) fn clear_record(
        &mut self,
        side: usize,
        h: Header,
        body: &[u8],
        at: u64,
        out: &mut dyn FnMut(TlsEvent<'_>),
    ) {
        match h.typ {
            record::HANDSHAKE => self.handshake_bytes(side, body, out),
            record::ALERT => self.alert(side, body, out),
            _ => {
                let _ = at;
            }
        }
    }

    /// Decrypted content of type `typ` at `range` of `rec`.
    pub(super) fn content(
        &mut self,
        side: usize,
        typ: u8,
        rec: &[u8],
        range: Range<usize>,
        out: &mut dyn FnMut(TlsEvent<'_>),
    ) {
        let data = rec.get(range).unwrap_or_default();
        match typ {
            record::APPLICATION_DATA => {
                self.establish(out);
                if data.is_empty() {
                    return;
                }
                self.dir_mut(side).plaintext += data.len() as u64;
                out(TlsEvent::Plaintext { side, data });
            }
            record::HANDSHAKE => self.handshake_bytes(side, data, out),
            record::ALERT => self.alert(side, data, out),
            _ => {}
        }
    }

    /// RFC 5246 §7.1: ChangeCipherSpec turns protection on for its sender's later records.
    pub(super) fn change_cipher_spec(&mut self, side: usize, out: &mut dyn FnMut(TlsEvent<'_>)) {
        if !self.ccs_seen {
            self.ccs_seen = true;
            // RFC 5246 §7.3: in an abbreviated (resumed) handshake the server sends its
            // ChangeCipherSpec first; in a full one the client does.
            if !self.is_client(side) {
                self.resumed = true;
            }
        }
        let dir = self.dir_mut(side);
        dir.ccs = true;
        dir.enter(Phase::App(0), None, None);
        self.establish(out);
    }

    fn handshake_bytes(&mut self, side: usize, data: &[u8], out: &mut dyn FnMut(TlsEvent<'_>)) {
        let max = self.cfg.max_handshake_bytes;
        let mut messages: Vec<(u8, Vec<u8>)> = Vec::new();
        let too_large = self.dir_mut(side).hs.push(data, max, &mut |typ, body| {
            messages.push((typ, body.to_vec()))
        });
        if let Some(t) = too_large {
            let what = self.whose(side);
            Self::anomaly(
                Some(side),
                AnomalyKind::TlsMalformed,
                format!(
                    "{what} handshake message of type {} claims {} bytes, over the {max}-byte limit; skipped",
                    t.typ, t.len
                ),
                out,
            );
        }
        for (typ, body) in messages {
            self.message(side, typ, &body, out);
        }
    }

    fn malformed(&mut self, side: usize, what: &str, out: &mut dyn FnMut(TlsEvent<'_>)) {
        let whose = self.whose(side);
        Self::anomaly(
            Some(side),
            AnomalyKind::TlsMalformed,
            format!("{whose} {what} is malformed"),
            out,
        );
    }

    fn message(&mut self, side: usize, typ: u8, body: &[u8], out: &mut dyn FnMut(TlsEvent<'_>)) {
        match typ {
            hs::CLIENT_HELLO => self.client_hello(side, body, out),
            hs::SERVER_HELLO => self.server_hello(side, body, out),
            hs::ENCRYPTED_EXTENSIONS if self.tls13() => {
                let Some(ee) = hello::encrypted_extensions(body) else {
                    self.malformed(side, "EncryptedExtensions", out);
                    return;
                };
                self.alpn = ee.alpn;
                let offered = self.hello.as_ref().is_some_and(|h| h.early_data);
                self.early = Some(ee.early_data && offered);
                self.establish(out);
                // The client's held records waited for this verdict.
                if let Some(client) = self.client {
                    self.pending_verdict(client, out);
                }
            }
            hs::FINISHED if self.tls13() => {
                // RFC 8446 §7.1: after its Finished a side writes under its application
                // traffic secret.
                let dir = self.dir_mut(side);
                if dir.phase == Phase::Handshake {
                    dir.switch_after = Some(Phase::App(0));
                }
            }
            hs::END_OF_EARLY_DATA if self.tls13() => {
                // RFC 8446 §4.5: the client's last message under the early traffic secret.
                let dir = self.dir_mut(side);
                if dir.phase == Phase::Early {
                    dir.switch_after = Some(Phase::Handshake);
                }
            }
            hs::KEY_UPDATE if self.tls13() => {
                // RFC 8446 §4.6.3: the sender's next records use the next secret.
                let dir = self.dir_mut(side);
                if let Phase::App(n) = dir.phase {
                    dir.switch_after = Some(Phase::App(n + 1));
                }
            }
            _ => {}
        }
    }

    fn client_hello(&mut self, side: usize, body: &[u8], out: &mut dyn FnMut(TlsEvent<'_>)) {
        let Some(ch) = hello::client_hello(body) else {
            self.malformed(side, "ClientHello", out);
            return;
        };
        if self.client.is_none() {
            self.client = Some(side);
        }
        if let Some(first) = &self.hello {
            // RFC 8446 §4.1.2: after a HelloRetryRequest the client sends its hello again
            // with the same random. Anything else is renegotiation, not decrypted.
            if first.random != ch.random || !self.retried {
                let whose = self.whose(side);
                Self::anomaly(
                    Some(side),
                    AnomalyKind::TlsUnsupported,
                    format!(
                        "{whose} second ClientHello (renegotiation) is not followed; records keep their first keys"
                    ),
                    out,
                );
                return;
            }
        }
        if !ch.early_data || self.retried {
            // RFC 8446 §4.2.10: no 0-RTT after a HelloRetryRequest.
            self.early = Some(false);
        }
        self.hello = Some(ch);
    }

    fn server_hello(&mut self, side: usize, body: &[u8], out: &mut dyn FnMut(TlsEvent<'_>)) {
        let Some(sh) = hello::server_hello(body) else {
            self.malformed(side, "ServerHello", out);
            return;
        };
        if self.client.is_none() {
            self.client = Some(1 - side);
        }
        if self.version.is_some() {
            self.malformed(side, "second ServerHello", out);
            return;
        }
        if sh.retry {
            self.retried = true;
            self.early = Some(false);
            self.server_hello = Some(sh);
            return;
        }
        let version = sh.version;
        if version != TLS12 && version != TLS13 {
            self.unsupported(
                side,
                &format!("protocol version {}", version_name(version)),
                out,
            );
            return;
        }
        let Some(suite) = suite::lookup(sh.suite).filter(|s| s.tls13 == (version == TLS13)) else {
            let name = suite::name(sh.suite);
            self.unsupported(side, &format!("cipher suite {name}"), out);
            return;
        };
        self.suite = Some(suite);
        self.version = Some(version);
        if version == TLS13 {
            // RFC 8446 §2.2: a resumed handshake is one where the server took a PSK.
            self.resumed = sh.psk;
            let dir = self.dir_mut(side);
            dir.enter(Phase::Handshake, None, None);
        } else {
            self.alpn = sh.alpn.clone();
            // RFC 5246 §7.4.1.3: the server echoes the session ID it resumes.
            let echoed = self
                .hello
                .as_ref()
                .is_some_and(|h| !h.session_id.is_empty() && h.session_id == sh.session_id);
            self.resumed |= echoed;
        }
        self.server_hello = Some(sh);
        if self.hello.is_none() {
            self.opaque = true;
            let whose = self.whose(side);
            Self::anomaly(
                Some(side),
                AnomalyKind::TlsHelloLost,
                format!(
                    "{whose} ServerHello came without a ClientHello: no client_random, the connection cannot be decrypted"
                ),
                out,
            );
            return;
        }
        // The other side's records held for the version can be looked at now.
        if let Some(client) = self.client {
            self.pending_verdict(client, out);
        }
    }

    /// Marks that held records of `side` may now be decryptable; the next call with the key
    /// log drains them.
    fn pending_verdict(&mut self, side: usize, out: &mut dyn FnMut(TlsEvent<'_>)) {
        if !self.dir(side).pending.is_empty() {
            // Forces a drain at the next call that brings the key log.
            self.generation = self.generation.wrapping_sub(1);
        }
        let _ = out;
    }

    fn unsupported(&mut self, side: usize, what: &str, out: &mut dyn FnMut(TlsEvent<'_>)) {
        self.opaque = true;
        let naming = self.naming();
        Self::anomaly(
            Some(side),
            AnomalyKind::TlsUnsupported,
            format!("the server chose {what}, which is not decrypted ({naming})"),
            out,
        );
    }

    /// RFC 8446 §6 / RFC 5246 §7.2.
    fn alert(&mut self, side: usize, body: &[u8], out: &mut dyn FnMut(TlsEvent<'_>)) {
        let [level, desc] = *body else {
            // RFC 8446 §5.1: alerts are not fragmented; anything else is malformed.
            self.malformed(side, "alert", out);
            return;
        };
        if desc == 0 {
            self.dir_mut(side).closed = true;
            out(TlsEvent::Closed { side });
            return;
        }
        // RFC 8446 §6: in TLS 1.3 every alert but close_notify and user_canceled is fatal,
        // whatever its level says.
        let fatal = level == 2 || (self.tls13() && desc != 90);
        if !fatal {
            return;
        }
        let whose = self.whose(side);
        let naming = self.naming();
        Self::anomaly(
            Some(side),
            AnomalyKind::TlsAlert,
            format!(
                "{whose} fatal alert {}({desc}) ({naming})",
                alert_name(desc)
            ),
            out,
        );
    }
}

fn version_name(v: u16) -> String {
    match v {
        0x0300 => "SSL 3.0".into(),
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        _ => format!("0x{v:04x}"),
    }
}

/// RFC 8446 §6 AlertDescription (and RFC 5246's older ones).
fn alert_name(desc: u8) -> &'static str {
    match desc {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        121 => "ech_required",
        _ => "unknown_alert",
    }
}
