//! What the commands say on stderr: one line per problem, `wsnoop: ` first, the same wording
//! for `read`, `live` and `tui`; `read`'s progress bar; and, when a run found no WebSocket,
//! what it did see.

use std::io::{self, IsTerminal};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub use crate::pipeline::say;
use crate::pipeline::{Failure, Progress, RunTotals, Watch};

/// The line for a failure of a run writing to `output` (how the output is named).
pub fn failure_line(failure: &Failure, output: &str) -> String {
    match failure {
        Failure::Output(e) => format!("cannot write {output}: {e}"),
        other => other.to_string(),
    }
}

/// A run's failures on stderr, and a progress bar for files of known size when stderr is a
/// terminal.
pub struct Stderr {
    /// How the output is named in errors.
    output: String,
    show_progress: bool,
    bar: Option<ProgressBar>,
    /// A failure was reported.
    failed: bool,
}

impl Stderr {
    pub fn new(output: &str, progress: bool) -> Stderr {
        Stderr {
            output: output.to_string(),
            show_progress: progress && io::stderr().is_terminal(),
            bar: None,
            failed: false,
        }
    }
}

impl Watch for Stderr {
    fn progress(&mut self, p: &Progress) {
        if !self.show_progress {
            return;
        }
        if p.done {
            if let Some(bar) = self.bar.take() {
                bar.finish_and_clear();
            }
            return;
        }
        match &self.bar {
            Some(bar) => bar.set_position(p.offset),
            None => {
                if let Some(size) = p.size {
                    let bar = progress_bar(size);
                    bar.set_position(p.offset);
                    self.bar = Some(bar);
                }
            }
        }
    }

    fn failure(&mut self, failure: &Failure) {
        self.failed = true;
        let line = failure_line(failure, &self.output);
        self.say(&line);
    }

    fn finished(&mut self, totals: &RunTotals) {
        // Nothing read because nothing could be opened: the failure said it all.
        if self.failed && totals.packets == 0 {
            return;
        }
        if let Some(line) = no_websocket_line(totals) {
            self.say(&line);
        }
    }
}

impl Stderr {
    fn say(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| say(line)),
            None => say(line),
        }
    }
}

/// `1 packet`, `2 packets`.
pub fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// For a run that found no WebSocket, what it did see, on one line: packets, TCP connections,
/// and of those how many carried HTTP or TLS, and how many TLS ones lacked keys (the usual
/// reason a wss:// capture shows nothing). `None` when there was a WebSocket.
pub fn no_websocket_line(t: &RunTotals) -> Option<String> {
    if t.websocket_conns > 0 {
        return None;
    }
    let mut line = format!(
        "no WebSocket found: {}, {}",
        counted(t.packets, "packet", "packets"),
        counted(t.tcp_conns, "TCP connection", "TCP connections")
    );
    let mut of = Vec::new();
    if t.http_conns > 0 {
        of.push(format!("{} HTTP", t.http_conns));
    }
    if t.tls_conns > 0 {
        of.push(format!("{} TLS", t.tls_conns));
    }
    if !of.is_empty() {
        line.push_str(&format!(" ({})", of.join(", ")));
    }
    if t.tls_no_keys > 0 {
        line.push_str(&format!(
            "; {} no keys: give --keylog FILE or set SSLKEYLOGFILE",
            counted(t.tls_no_keys, "TLS connection had", "TLS connections had")
        ));
    }
    Some(line)
}

fn progress_bar(size: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_websocket_lines() {
        let t = RunTotals {
            packets: 57,
            tcp_conns: 3,
            http_conns: 1,
            tls_conns: 2,
            tls_no_keys: 2,
            ..RunTotals::default()
        };
        assert_eq!(
            no_websocket_line(&t).as_deref(),
            Some(
                "no WebSocket found: 57 packets, 3 TCP connections (1 HTTP, 2 TLS); 2 TLS \
                 connections had no keys: give --keylog FILE or set SSLKEYLOGFILE"
            )
        );
        let one = RunTotals {
            packets: 1,
            tcp_conns: 1,
            tls_conns: 1,
            tls_no_keys: 1,
            ..RunTotals::default()
        };
        assert_eq!(
            no_websocket_line(&one).as_deref(),
            Some(
                "no WebSocket found: 1 packet, 1 TCP connection (1 TLS); 1 TLS connection had \
                 no keys: give --keylog FILE or set SSLKEYLOGFILE"
            )
        );
        assert_eq!(
            no_websocket_line(&RunTotals::default()).as_deref(),
            Some("no WebSocket found: 0 packets, 0 TCP connections")
        );
        let ws = RunTotals {
            websocket_conns: 1,
            ..t
        };
        assert_eq!(no_websocket_line(&ws), None);
    }
}
