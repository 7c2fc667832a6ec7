//! How a run ends, for every driver alike: what went wrong (one line each) and the exit code.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | ok; also when the reader of the output went away (`wsnoop read x.pcap \| head`) |
//! | 1 | an input could not be opened or read to its end (what was decoded before it is still written), or the output could not be written |
//! | 2 | usage: bad arguments, a bad filter, a feature this build lacks |

use std::fmt;
use std::io::{self, Write};

pub const EXIT_OK: i32 = 0;
pub const EXIT_INPUT: i32 = 1;
pub const EXIT_USAGE: i32 = 2;

/// What a build without the `live` feature says when asked for live capture.
pub const NO_LIVE: &str = "live capture is not in this build; rebuild with `cargo build \
    --release --features live` (needs libpcap-dev), or capture with `tcpdump -w - | wsnoop read -`";

/// One line on stderr, `wsnoop: ` first: how every driver reports a problem. Unlike
/// `eprintln!`, never panics (stderr may be closed too).
pub fn say(line: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "wsnoop: {line}");
}

/// Something that went wrong during a run, reported through [`super::Watch::failure`] as it
/// happens. Its `Display` is the one line a driver shows (after `wsnoop: ` on stderr).
#[derive(Debug)]
pub enum Failure {
    /// An input could not be opened, is not a capture, or could not be read to its end.
    Input { input: String, detail: String },
    /// Live capture stopped (the message names the interface where it matters).
    Capture(String),
    /// The output could not be written; the run stopped there. A closed pipe is not
    /// reported: the reader has all it wanted.
    Output(io::Error),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Input { input, detail } => write!(f, "{input}: {detail}"),
            Failure::Capture(detail) => f.write_str(detail),
            Failure::Output(e) => write!(f, "cannot write the output: {e}"),
        }
    }
}

/// How a run went.
#[derive(Debug, Default)]
pub struct Report {
    /// Some input could not be opened or read to its end (reported as it happened).
    pub input_failed: bool,
    /// The output failed and the run stopped there (reported unless it is a closed pipe).
    pub output_error: Option<io::Error>,
}

impl Report {
    /// The exit code of the table above.
    pub fn exit_code(&self) -> i32 {
        match &self.output_error {
            Some(e) if e.kind() != io::ErrorKind::BrokenPipe => EXIT_INPUT,
            // The reader of the output went away: it has all it wanted, however the inputs
            // went.
            Some(_) => EXIT_OK,
            None if self.input_failed => EXIT_INPUT,
            None => EXIT_OK,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        let code = |input_failed, e: Option<io::ErrorKind>| {
            Report {
                input_failed,
                output_error: e.map(io::Error::from),
            }
            .exit_code()
        };
        assert_eq!(code(false, None), EXIT_OK);
        assert_eq!(code(true, None), EXIT_INPUT);
        assert_eq!(code(false, Some(io::ErrorKind::StorageFull)), EXIT_INPUT);
        assert_eq!(code(true, Some(io::ErrorKind::BrokenPipe)), EXIT_OK);
    }
}
