//! Per-connection totals gathered from events (`--summary`).

use std::collections::BTreeMap;
use std::io;

use super::Sink;
use crate::event::{ConnId, ConnRef, EndHow, Event, EventKind, Timestamp};
use crate::health::Verdict;

/// Totals of one connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnTotals {
    pub conn: ConnRef,
    pub first: Timestamp,
    pub last: Timestamp,
    pub uri: Option<String>,
    /// Messages per direction (index: `Dir::index`).
    pub messages: [u64; 2],
    /// Payload bytes per direction.
    pub bytes: [u64; 2],
    pub anomalies: u64,
    pub end: Option<EndHow>,
    /// The connection's median ping RTT ([`crate::health::HealthReport::rtt_median`]), known at its end.
    pub rtt_median_us: Option<u64>,
    /// How the connection closed, known at its end.
    pub verdict: Option<Verdict>,
    /// Live silence alarms raised on it.
    pub silences: u64,
}

/// Totals of every connection seen, in connection order, plus anomalies about the input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub conns: BTreeMap<ConnId, ConnTotals>,
    pub input_anomalies: u64,
    /// What the whole run saw, filled in by the driver before the summary is written.
    pub run: RunCounts,
}

/// Connection counts of the whole run, whatever the filter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub packets: u64,
    pub tcp_conns: u64,
    /// Connections that carried TLS, and of those, the ones that carried data no key log
    /// had the secrets for; the others were decrypted (or carried no application data).
    pub tls_conns: u64,
    pub tls_no_keys: u64,
    pub websocket_conns: u64,
}

impl Summary {
    pub fn record(&mut self, event: &Event) {
        let Some(conn) = event.conn else {
            if !matches!(event.kind, EventKind::Refused(_)) {
                self.input_anomalies += 1;
            }
            return;
        };
        let totals = self.conns.entry(conn.id).or_insert_with(|| ConnTotals {
            conn,
            first: event.ts,
            last: event.ts,
            uri: None,
            messages: [0; 2],
            bytes: [0; 2],
            anomalies: 0,
            end: None,
            rtt_median_us: None,
            verdict: None,
            silences: 0,
        });
        totals.last = totals.last.max(event.ts);
        match &event.kind {
            EventKind::Open(info) => totals.uri.clone_from(&info.uri),
            EventKind::Message { dir, msg } => {
                let i = dir.index();
                totals.messages[i] += 1;
                totals.bytes[i] += msg.payload.len() as u64;
            }
            EventKind::Anomaly { .. } => totals.anomalies += 1,
            EventKind::Proto(_) | EventKind::Refused(_) => {}
            EventKind::End { how, report, .. } => {
                totals.end = Some(*how);
                if let Some(r) = report {
                    totals.rtt_median_us = r.health.rtt_median();
                    totals.verdict = Some(r.health.close.verdict);
                }
            }
            EventKind::Silence { ended, .. } => totals.silences += u64::from(!*ended),
        }
    }

    /// Adds the totals another part of the run gathered (threads: each gathers those of its
    /// own connections, all numbered alike).
    pub fn absorb(&mut self, other: Summary) {
        self.input_anomalies += other.input_anomalies;
        for (id, totals) in other.conns {
            debug_assert!(
                !self.conns.contains_key(&id),
                "connection {id} gathered by two parts of a run"
            );
            self.conns.insert(id, totals);
        }
    }
}

/// Gathering totals is taking events.
impl Sink for Summary {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        self.record(event);
        Ok(())
    }
}
