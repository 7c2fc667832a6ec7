//! The TLS layer: record framing, handshake messages, key log lines, holes and late keys.
//!
//! Input: `[config]`, NSS key log text, the separator `F0 0D BE EF`, then operations
//! `[op, len_lo, len_hi]`: op bit 0 is the side; bit 1 makes it a hole of `len` bytes, else
//! `len` stream bytes follow; bit 2 calls `retry` after it. Config bit 0 withholds the key
//! log until half the operations are done (keys arriving late, as from a live key log).
//! Seeds (`make_tls_seeds.py`) are real wss:// sessions with their key logs, so mutations
//! reach decrypted handshake messages, alerts and application data.
//!
//! Invariants: no panic; memory within the configured bounds; plaintext only after
//! Established; at most one `tls_no_keys` per direction.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsnoop::tls::{KeyLog, TlsConfig, TlsConn, TlsEvent};

const SEPARATOR: &[u8] = &[0xF0, 0x0D, 0xBE, 0xEF];

fuzz_target!(|data: &[u8]| {
    let Some((&config, rest)) = data.split_first() else {
        return;
    };
    let (keytext, mut ops) = match rest.windows(4).position(|w| w == SEPARATOR) {
        Some(at) => (&rest[..at], &rest[at + 4..]),
        None => (&rest[..0], rest),
    };
    let mut keys = KeyLog::new();
    let late = config & 1 != 0;
    if !late {
        keys.add_text(keytext, 1);
    }
    let cfg = TlsConfig {
        max_pending_bytes: 64 << 10,
        max_resync_bytes: 64 << 10,
        ..TlsConfig::default()
    };
    let bound = cfg.max_pending_bytes
        + 4 * (5 + cfg.max_record_bytes)
        + 2 * (cfg.max_handshake_bytes + 5 + cfg.max_record_bytes)
        + 4096;
    let mut conn = TlsConn::new(cfg);
    let mut established = false;
    let mut no_keys = [0u32; 2];
    let mut on = |e: TlsEvent<'_>| match e {
        TlsEvent::Established(_) => {
            assert!(!established, "established twice");
            established = true;
        }
        TlsEvent::Plaintext { side, data } => {
            assert!(established, "plaintext before Established");
            assert!(side < 2 && !data.is_empty());
        }
        TlsEvent::Anomaly { side, anomaly } => {
            if anomaly.kind.as_str() == "tls_no_keys" {
                let side = side.expect("tls_no_keys names its direction");
                no_keys[side] += 1;
                assert!(no_keys[side] == 1, "tls_no_keys twice for side {side}");
            }
        }
        TlsEvent::Lost { side, .. } | TlsEvent::Closed { side } => assert!(side < 2),
    };
    let total = ops.len();
    let mut keyed = !late;
    while let [op, lo, hi, tail @ ..] = ops {
        let side = usize::from(op & 1);
        let len = usize::from(u16::from_le_bytes([*lo, *hi]));
        if op & 2 != 0 {
            conn.gap(side, len as u64, &keys, &mut on);
            ops = tail;
        } else {
            let n = len.min(tail.len());
            conn.feed(side, &tail[..n], &keys, &mut on);
            ops = &tail[n..];
        }
        if !keyed && ops.len() <= total / 2 {
            keyed = true;
            keys.add_text(keytext, 1);
        }
        if op & 4 != 0 {
            conn.retry(&keys, &mut on);
        }
        assert!(
            conn.memory() <= bound,
            "memory {} over {bound}",
            conn.memory()
        );
    }
    conn.finish(&keys, &mut on);
});
