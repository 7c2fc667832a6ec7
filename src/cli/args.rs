//! Command-line arguments (clap), turned into a validated configuration.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::limits::Limits;

#[derive(Parser, Debug)]
#[command(
    name = "wsnoop",
    version,
    about = "WebSocket dissector: every message of a capture, exact, as text or JSON lines"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Decode capture files (pcap or pcapng; `-` reads standard input).
    Read(ReadArgs),
    /// Capture from a network interface (needs a build with `--features live`).
    Live(LiveArgs),
    /// Browse a capture in a terminal UI: connections, messages, frames.
    Tui(TuiArgs),
}

#[derive(Args, Debug)]
#[command(after_long_help = crate::filter::HELP)]
pub struct ReadArgs {
    /// Capture files; `-` for standard input (e.g. `tcpdump -w - | wsnoop read -`).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Write JSON lines (one object per event) instead of readable lines.
    #[arg(long)]
    pub json: bool,
    /// Write to this file instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Print per-connection totals at the end.
    #[arg(long)]
    pub summary: bool,
    /// Never show a progress bar (it is shown only when stderr is a terminal).
    #[arg(long)]
    pub no_progress: bool,
    /// Keep only what this filter selects, e.g. `port:8765 and (hello or bye)` (the TUI's `/`
    /// syntax; the grammar is at the end of --help).
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Decode on N threads, connections spread over them (the output is the same for every
    /// N); 1 decodes on the main thread alone [default: the number of cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Args, Debug)]
pub struct TuiArgs {
    /// Capture file (pcap or pcapng).
    #[arg(value_name = "FILE", required_unless_present = "interface")]
    pub file: Option<PathBuf>,
    /// Capture live from this interface instead (needs a build with `--features live`).
    #[arg(short = 'i', long, conflicts_with = "file")]
    pub interface: Option<String>,
    /// With `-i`: capture filter (BPF, tcpdump syntax) [default: tcp].
    #[arg(short = 'f', long = "bpf", value_name = "BPF")]
    pub bpf: Option<String>,
    /// Payload bytes the UI keeps in full; past it, each message keeps a prefix [default: 512M].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub keep_payload: Option<u64>,
    /// Start with this filter applied.
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Args, Debug)]
pub struct LiveArgs {
    /// Interface to capture on (`any`: all of them, on Linux).
    #[arg(short = 'i', long, required_unless_present = "list_interfaces")]
    pub interface: Option<String>,
    /// List the interfaces that can be captured on, and exit.
    #[arg(short = 'D', long)]
    pub list_interfaces: bool,
    /// Capture filter (BPF, tcpdump syntax), e.g. 'tcp port 8765'.
    #[arg(short = 'f', long = "bpf", value_name = "BPF", default_value = "tcp")]
    pub bpf: String,
    /// Bytes kept of each packet (longer ones are cut; the cut bytes are reported lost).
    #[arg(short = 's', long, value_name = "SIZE", value_parser = parse_size, default_value = "256K")]
    pub snaplen: u64,
    /// Do not put the interface in promiscuous mode.
    #[arg(short = 'p', long)]
    pub no_promisc: bool,
    /// Let the kernel batch packets (less CPU under load, but messages show up later).
    #[arg(long)]
    pub no_immediate: bool,
    /// Kernel capture buffer size [default: 32M].
    #[arg(short = 'B', long, value_name = "SIZE", value_parser = parse_size)]
    pub buffer_size: Option<u64>,
    /// Write JSON lines (one object per event) instead of readable lines.
    #[arg(long)]
    pub json: bool,
    /// Write to this file instead of standard output (reopened on SIGHUP).
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Rotate the output file when it reaches this size: PATH becomes PATH.1, PATH.1 PATH.2, ...
    #[arg(long, value_name = "SIZE", value_parser = parse_size, requires = "output")]
    pub rotate_size: Option<u64>,
    /// Rotated files kept (PATH.1 .. PATH.N).
    #[arg(long, value_name = "N", default_value_t = 5, requires = "rotate_size")]
    pub rotate_keep: u32,
    /// Also save the raw packets of WebSocket connections to this pcap file (a new one is
    /// started on SIGHUP if it was moved away).
    #[arg(short = 'w', long = "write", value_name = "PATH")]
    pub write: Option<PathBuf>,
    /// Print a stats line on stderr every SECS seconds (0: never).
    #[arg(long, value_name = "SECS", default_value_t = 0)]
    pub stats: u64,
    /// Write the stats as `{"event":"stats",...}` lines into the JSON output instead of stderr.
    #[arg(long, requires = "json")]
    pub stats_event: bool,
    /// End connections with no packet for this long (`end` with "how":"idle"); 0 never.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "10m")]
    pub idle_timeout: std::time::Duration,
    /// Keep only events matching this filter (the TUI's `/` syntax, e.g. `dir:c2s op:text hello`).
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Every engine limit, settable on the command line; sizes accept K, M and G suffixes
/// (powers of 1024). Defaults are `Limits::default()`.
#[derive(Args, Debug, Default)]
pub struct LimitArgs {
    /// Largest message kept (payload bytes); longer ones are skipped [default: 16M].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_message_bytes: Option<u64>,
    /// Largest inflated size of a compressed message [default: 16M].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_inflated_bytes: Option<u64>,
    /// Out-of-order TCP bytes buffered per direction [default: 4M].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_ooo_bytes: Option<u64>,
    /// Out-of-order TCP segments buffered per direction [default: 4096].
    #[arg(long, value_name = "N", value_parser = parse_size)]
    pub max_ooo_segments: Option<u64>,
    /// HTTP handshake bytes buffered per direction [default: 64K].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_handshake_bytes: Option<u64>,
    /// Connections tracked at once; the least recently active is evicted [default: 65536].
    #[arg(long, value_name = "N", value_parser = parse_size)]
    pub max_connections: Option<u64>,
    /// Bytes held for incomplete fragmented IP datagrams [default: 8M].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_ip_frag_bytes: Option<u64>,
    /// Incomplete fragmented IP datagrams held at once [default: 1024].
    #[arg(long, value_name = "N", value_parser = parse_size)]
    pub max_ip_frag_datagrams: Option<u64>,
    /// Largest capture record accepted [default: 16M].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_record_bytes: Option<u64>,
    /// Bytes buffered per direction to recognise WebSocket without a handshake [default: 64K].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_probe_bytes: Option<u64>,
    /// Bytes buffered by all connections picked up without a handshake together [default: 32M].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_probe_total_bytes: Option<u64>,
}

impl LimitArgs {
    pub fn to_limits(&self) -> Limits {
        let d = Limits::default();
        let size = |v: Option<u64>, default: usize| {
            v.map_or(default, |v| usize::try_from(v).unwrap_or(usize::MAX))
        };
        Limits {
            max_message_bytes: self.max_message_bytes.unwrap_or(d.max_message_bytes),
            max_inflated_bytes: self.max_inflated_bytes.unwrap_or(d.max_inflated_bytes),
            max_ooo_bytes: size(self.max_ooo_bytes, d.max_ooo_bytes),
            max_ooo_segments: size(self.max_ooo_segments, d.max_ooo_segments),
            max_handshake_bytes: size(self.max_handshake_bytes, d.max_handshake_bytes),
            max_connections: size(self.max_connections, d.max_connections).max(1),
            max_ip_frag_bytes: size(self.max_ip_frag_bytes, d.max_ip_frag_bytes),
            max_ip_frag_datagrams: size(self.max_ip_frag_datagrams, d.max_ip_frag_datagrams),
            max_record_bytes: size(self.max_record_bytes, d.max_record_bytes),
            max_probe_bytes: size(self.max_probe_bytes, d.max_probe_bytes),
            max_probe_total_bytes: size(self.max_probe_total_bytes, d.max_probe_total_bytes),
        }
    }
}

/// `123`, `64K`, `16M`, `1G` (binary multiples; a trailing `B`/`iB` is accepted).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (digits, shift) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 10),
        Some('m' | 'M') => (&t[..t.len() - 1], 20),
        Some('g' | 'G') => (&t[..t.len() - 1], 30),
        _ => (t, 0),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("'{s}' is not a size (e.g. 4096, 64K, 16M, 1G)"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("'{s}' is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("16M"), Ok(16 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("99999999999G").is_err());
    }

    fn parse(args: &[&str]) -> Result<Command, clap::Error> {
        Cli::try_parse_from(std::iter::once("wsnoop").chain(args.iter().copied()))
            .map(|c| c.command)
    }

    #[test]
    fn live_defaults() {
        let Ok(Command::Live(a)) = parse(&["live", "-i", "lo"]) else {
            panic!("live -i lo did not parse");
        };
        assert_eq!(a.interface.as_deref(), Some("lo"));
        assert_eq!(a.bpf, "tcp");
        assert_eq!(a.snaplen, 256 << 10);
        assert!(!a.no_promisc && !a.no_immediate && !a.json && !a.stats_event);
        assert_eq!(a.buffer_size, None);
        assert_eq!(a.idle_timeout, std::time::Duration::from_secs(600));
        assert_eq!((a.stats, a.rotate_size, a.rotate_keep), (0, None, 5));
    }

    #[test]
    fn live_options() {
        let Ok(Command::Live(a)) = parse(&[
            "live",
            "-i",
            "any",
            "-f",
            "tcp port 8765",
            "-s",
            "1500",
            "-p",
            "-B",
            "16M",
            "--json",
            "-o",
            "x.json",
            "--rotate-size",
            "1G",
            "--rotate-keep",
            "3",
            "-w",
            "x.pcap",
            "--stats",
            "30",
            "--stats-event",
            "--idle-timeout",
            "90s",
        ]) else {
            panic!("did not parse");
        };
        assert_eq!(a.bpf, "tcp port 8765");
        assert_eq!((a.snaplen, a.buffer_size), (1500, Some(16 << 20)));
        assert!(a.no_promisc && a.json && a.stats_event);
        assert_eq!((a.rotate_size, a.rotate_keep), (Some(1 << 30), 3));
        assert_eq!(a.write, Some(PathBuf::from("x.pcap")));
        assert_eq!(a.idle_timeout, std::time::Duration::from_secs(90));
        assert!(matches!(parse(&["live", "-D"]), Ok(Command::Live(a)) if a.list_interfaces));
    }

    #[test]
    fn live_rejects_inconsistent_options() {
        assert!(parse(&["live"]).is_err(), "an interface or -D is needed");
        assert!(
            parse(&["live", "-i", "lo", "--stats-event"]).is_err(),
            "needs --json"
        );
        assert!(
            parse(&["live", "-i", "lo", "--rotate-size", "1M"]).is_err(),
            "needs -o"
        );
    }

    #[test]
    fn tui_takes_a_file_or_an_interface() {
        let Ok(Command::Tui(a)) = parse(&["tui", "-i", "eth0", "-f", "port 80"]) else {
            panic!("tui -i did not parse");
        };
        assert_eq!(
            (a.file, a.interface.as_deref(), a.bpf.as_deref()),
            (None, Some("eth0"), Some("port 80"))
        );
        let Ok(Command::Tui(a)) = parse(&["tui", "x.pcap"]) else {
            panic!("tui FILE did not parse");
        };
        assert_eq!(a.file, Some(PathBuf::from("x.pcap")));
        assert!(parse(&["tui"]).is_err());
        assert!(parse(&["tui", "x.pcap", "-i", "eth0"]).is_err());
    }

    #[test]
    fn defaults_are_the_library_defaults() {
        assert_eq!(LimitArgs::default().to_limits(), Limits::default());
    }
}
