//! The `wsnoop` command: arguments → validated configuration → run. Kept thin: the engine
//! does the dissecting, the sinks the writing.

mod args;
pub mod daemon;
mod input;
#[cfg(feature = "live")]
mod live;
mod output;
mod read;
pub mod savefile;
#[cfg(feature = "live")]
mod signals;
mod threads;

use std::io::Write;

use clap::Parser;

pub use args::{Cli, Command, LimitArgs, LiveArgs, TuiArgs, parse_size};

/// What a build without the `live` feature says when asked for live capture.
pub const NO_LIVE: &str = "live capture is not in this build; rebuild with `cargo build \
    --release --features live` (needs libpcap-dev), or capture with `tcpdump -w - | wsnoop read -`";

/// Exit codes: 0 ok, 1 input error, 2 usage error.
pub const EXIT_OK: i32 = 0;
pub const EXIT_INPUT: i32 = 1;
pub const EXIT_USAGE: i32 = 2;

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    // A bug must still end in one line on stderr, not a backtrace (the TUI chains its own
    // terminal restore in front of this).
    std::panic::set_hook(Box::new(|info| {
        let what = info.to_string().replace('\n', " ");
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "wsnoop: internal error ({what}); please report it");
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Command::Read(args) => read::run(&args),
        Command::Tui(args) => crate::tui::main(&args),
        #[cfg(feature = "live")]
        Command::Live(args) => live::run(&args),
        #[cfg(not(feature = "live"))]
        Command::Live(_) => {
            eprintln!("wsnoop: {NO_LIVE}");
            EXIT_USAGE
        }
    }
}
