//! The `wsnoop` command: arguments → validated configuration → a run of the pipeline. Kept
//! thin: the pipeline drives the engine, the sinks write. Stands above [`crate::tui`] (which
//! never imports it).

mod args;
pub mod daemon;
mod format;
#[cfg(feature = "live")]
mod live;
mod output;
mod read;
mod report;
pub mod savefile;
pub mod savewriter;
#[cfg(feature = "live")]
mod signals;

use clap::Parser;
use clap::error::ErrorKind;

pub use args::{
    Cli, Command, FormatArgs, LimitArgs, LiveArgs, OutputFormat, ReadArgs, TuiArgs, parse_size,
};
pub use format::FormatSink;
pub use output::LineOutput;

use crate::filter::Filter;
use crate::pipeline::{EXIT_OK, EXIT_USAGE, NO_LIVE};
use report::say;

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    // A bug must still end in one line on stderr, not a backtrace (the TUI chains its own
    // terminal restore in front of this).
    std::panic::set_hook(Box::new(|info| {
        let what = info.to_string().replace('\n', " ");
        say(&format!("internal error ({what}); please report it"));
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let help = matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            );
            if help {
                // --help, --version; `wsnoop` alone: the help itself (on stderr, exit 2).
                let _ = e.print();
            } else {
                let sub = std::env::args().nth(1);
                say(&usage_line(&e.render().to_string(), sub.as_deref()));
            }
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    match cli.command {
        Command::Read(args) => read::run(&args),
        Command::Tui(args) => tui(&args),
        #[cfg(feature = "live")]
        Command::Live(args) => live::run(&args),
        #[cfg(not(feature = "live"))]
        Command::Live(_) => {
            say(NO_LIVE);
            EXIT_USAGE
        }
    }
}

/// A usage error of the argument parser as one line, as every other error: its message
/// (the lines before the first blank one) and where help is, from its usage line or else
/// the subcommand typed (`sub`):
/// `the following required arguments were not provided: <FILE>...; try 'wsnoop read --help'`.
fn usage_line(rendered: &str, sub: Option<&str>) -> String {
    let mut lines = rendered.lines();
    let message: Vec<&str> = lines
        .by_ref()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let message = message.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    let typed = match sub {
        Some(sub @ ("read" | "tui" | "live")) => format!("wsnoop {sub}"),
        _ => "wsnoop".into(),
    };
    let command = match lines.find_map(|l| l.trim().strip_prefix("Usage: ")) {
        Some(usage) => usage
            .split_whitespace()
            .take_while(|w| !w.starts_with(['-', '<', '[']))
            .collect::<Vec<_>>()
            .join(" "),
        None => typed,
    };
    format!("{message}; try '{command} --help'")
}

/// `--filter EXPR`, parsed; a bad one is a usage error (reported).
fn parse_filter(src: Option<&str>) -> Result<Option<Filter>, i32> {
    src.map(Filter::parse).transpose().map_err(|e| {
        say(&format!("--filter: {e}"));
        EXIT_USAGE
    })
}

#[cfg(feature = "tui")]
fn tui(args: &TuiArgs) -> i32 {
    use crate::tui::{Config, Source};
    use std::io::IsTerminal;
    if args.limits.truncated {
        // The TUI has no mark for a message the capture cut: it would show it as whole.
        say("--truncated is for read and live; the TUI lists whole messages only");
        return EXIT_USAGE;
    }
    if args.file.is_some() && args.bpf.is_some() {
        say("-f (a capture filter) goes with -i, not with a file");
        return EXIT_USAGE;
    }
    let source = match (&args.file, &args.interface) {
        (Some(file), _) if file.as_os_str() == "-" && std::io::stdin().is_terminal() => {
            // Keys and the capture would both be read from the terminal.
            say(
                "tui -: standard input is a terminal: pipe a capture in, e.g. tcpdump -w - | wsnoop tui -",
            );
            return EXIT_USAGE;
        }
        (Some(file), _) => Source::File(file.clone()),
        (None, Some(interface)) => {
            if cfg!(not(feature = "live")) {
                say(NO_LIVE);
                return EXIT_USAGE;
            }
            Source::Interface {
                name: interface.clone(),
                bpf: args.bpf.clone().unwrap_or_else(|| "tcp".into()),
            }
        }
        (None, None) => {
            say("tui: give a capture file or -i INTERFACE");
            return EXIT_USAGE;
        }
    };
    let filter = match parse_filter(args.filter.as_deref()) {
        Ok(filter) => filter,
        Err(code) => return code,
    };
    crate::tui::main(Config {
        source,
        limits: args.limits.to_limits(),
        keylogs: args.decode.keylogs(),
        proto: args.decode.proto(),
        keep_payload: args.keep_payload,
        filter,
    })
}

#[cfg(not(feature = "tui"))]
fn tui(_args: &TuiArgs) -> i32 {
    say("the terminal UI is not in this build; rebuild with the `tui` feature");
    EXIT_USAGE
}

#[cfg(test)]
mod tests {
    #[test]
    fn usage_errors_in_one_line() {
        let rendered = "error: the following required arguments were not provided:\n  \
                        --interface <INTERFACE>\n\nUsage: wsnoop live --interface <INTERFACE>\n\n\
                        For more information, try '--help'.\n";
        assert_eq!(
            super::usage_line(rendered, Some("live")),
            "the following required arguments were not provided: --interface <INTERFACE>; \
             try 'wsnoop live --help'"
        );
        assert_eq!(
            super::usage_line("error: unexpected argument '-x' found\n", None),
            "unexpected argument '-x' found; try 'wsnoop --help'"
        );
        assert_eq!(
            super::usage_line(
                "error: invalid value '0' for '--threads <N>'\n",
                Some("read")
            ),
            "invalid value '0' for '--threads <N>'; try 'wsnoop read --help'"
        );
    }
}
