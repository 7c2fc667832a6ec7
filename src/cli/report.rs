//! What the commands say on stderr: one line per problem, `wsnoop: ` first, the same wording
//! for `read`, `live` and `tui`; and `read`'s progress bar.

use std::io::{self, IsTerminal};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub use crate::pipeline::say;
use crate::pipeline::{Failure, Progress, Watch};

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
}

impl Stderr {
    pub fn new(output: &str, progress: bool) -> Stderr {
        Stderr {
            output: output.to_string(),
            show_progress: progress && io::stderr().is_terminal(),
            bar: None,
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
        let line = failure_line(failure, &self.output);
        match &self.bar {
            Some(bar) => bar.suspend(|| say(&line)),
            None => say(&line),
        }
    }
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
