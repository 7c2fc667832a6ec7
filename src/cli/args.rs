//! Command-line arguments (clap), turned into a validated configuration.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::limits::Limits;
use crate::pipeline::DEFAULT_IDLE_TIMEOUT;
use crate::sink::TimeFormat;

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
    #[command(flatten)]
    pub format: FormatArgs,
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
    /// Print application-protocol units without the raw messages that carried them.
    #[arg(long)]
    pub proto_only: bool,
    /// Decode on N threads, connections spread over them (the output is the same for every
    /// N); 1 decodes on the main thread alone [default: the number of cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    #[command(flatten)]
    pub decode: DecodeArgs,
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
    pub decode: DecodeArgs,
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
    #[command(flatten)]
    pub format: FormatArgs,
    /// Write to this file instead of standard output (reopened on SIGHUP, except a HAR document).
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Rotate the output file when it reaches this size: PATH becomes PATH.1, PATH.1 PATH.2, ...
    #[arg(long, value_name = "SIZE", value_parser = parse_size, requires = "output")]
    pub rotate_size: Option<u64>,
    /// Rotated files kept (PATH.1 .. PATH.N).
    #[arg(long, value_name = "N", default_value_t = 5, requires = "rotate_size")]
    pub rotate_keep: u32,
    /// Also save the raw packets of WebSocket connections to this pcap file (a new one is
    /// started on SIGHUP if it was moved away); a name ending in .pcapng writes pcapng with
    /// the TLS key log lines read embedded, so that the file decrypts on its own.
    #[arg(short = 'w', long = "write", value_name = "PATH")]
    pub write: Option<PathBuf>,
    /// Print a stats line on stderr every SECS seconds (0: never).
    #[arg(long, value_name = "SECS", default_value_t = 0)]
    pub stats: u64,
    /// Write the stats as `{"event":"stats",...}` lines into the JSON output instead of stderr.
    #[arg(long)]
    pub stats_event: bool,
    /// End connections with no packet for this long (`end` with "how":"idle"); 0 never.
    #[arg(long, value_name = "DURATION", default_value_t = humantime::Duration::from(DEFAULT_IDLE_TIMEOUT))]
    pub idle_timeout: humantime::Duration,
    /// Raise a `silence` event on a WebSocket connection with no message either way for
    /// longer than this (e.g. 30s), and one with "ended":true when it speaks again.
    #[arg(long, value_name = "DURATION", value_parser = parse_alarm)]
    pub silence_alarm: Option<humantime::Duration>,
    /// Keep only events matching this filter (the TUI's `/` syntax, e.g. `dir:c2s op:text hello`).
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Print application-protocol units without the raw messages that carried them.
    #[arg(long)]
    pub proto_only: bool,
    #[command(flatten)]
    pub decode: DecodeArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// A silence alarm period: a humantime duration, not zero (every connection is silent for
/// longer than nothing at all).
fn parse_alarm(s: &str) -> Result<humantime::Duration, String> {
    let d: humantime::Duration = s.parse().map_err(|e| format!("{e}"))?;
    if d.is_zero() {
        return Err("must be longer than 0 (e.g. 30s, 500ms)".into());
    }
    Ok(d)
}

/// What to decrypt with and what to decode, the same for `read`, `live` and `tui`.
#[derive(Args, Debug, Default)]
pub struct DecodeArgs {
    /// TLS key log (NSS format, as SSLKEYLOGFILE writes it) to decrypt wss:// with; may be
    /// given several times. Without it, the file named by SSLKEYLOGFILE, if set. On a live
    /// interface the file is followed as it grows.
    #[arg(long, value_name = "PATH")]
    pub keylog: Vec<PathBuf>,
    /// Application protocol inside the messages: `auto` (from the subprotocol, the handshake
    /// and the first messages), `none`, or one of mqtt, stomp, socketio, jsonrpc, graphql-ws,
    /// signalr for every connection [default: auto].
    #[arg(long, value_name = "NAME", value_parser = parse_proto)]
    pub proto: Option<crate::proto::ProtoChoice>,
}

impl DecodeArgs {
    /// The key logs to read: those given, else the one SSLKEYLOGFILE names.
    pub fn keylogs(&self) -> Vec<PathBuf> {
        if !self.keylog.is_empty() {
            return self.keylog.clone();
        }
        std::env::var_os("SSLKEYLOGFILE")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .into_iter()
            .collect()
    }

    pub fn proto(&self) -> crate::proto::ProtoChoice {
        self.proto.unwrap_or(crate::proto::ProtoChoice::Auto)
    }
}

fn parse_proto(s: &str) -> Result<crate::proto::ProtoChoice, String> {
    s.parse()
        .map_err(|e: crate::proto::UnknownProto| e.to_string())
}

/// Output formats, made into sinks for `read` and `live` in one place ([`super::FormatSink`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Readable lines, one per event.
    #[default]
    Text,
    /// JSON lines, one object per event.
    Json,
    /// One HAR 1.2 document: an entry per WebSocket connection (and per refused upgrade),
    /// its messages in `_webSocketMessages`, as Chrome DevTools imports them.
    Har,
}

#[derive(Args, Debug, Default)]
pub struct FormatArgs {
    /// Output format.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Short for `--format json`.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// With `--format har`: bytes of entries of still-open connections kept in memory, all
    /// connections together; past it they go to a temporary file [default: 32M].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_har_buffer_bytes: Option<u64>,
    /// Time on text lines: `abs` (UTC date and time), `rel` (seconds since the first packet
    /// of the capture) or `delta` (seconds since the previous line). JSON lines always carry
    /// their RFC 3339 `ts`.
    #[arg(short = 't', long = "time-format", value_enum, value_name = "FORMAT", default_value_t = TimeArg::Abs)]
    pub time: TimeArg,
}

/// `-t`: how text lines write their time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum TimeArg {
    /// Absolute UTC time, RFC 3339 with microseconds.
    #[default]
    Abs,
    /// Seconds since the first packet of the capture.
    Rel,
    /// Seconds since the previous line.
    Delta,
}

impl TimeArg {
    pub fn get(self) -> TimeFormat {
        match self {
            TimeArg::Abs => TimeFormat::Absolute,
            TimeArg::Rel => TimeFormat::Relative,
            TimeArg::Delta => TimeFormat::Delta,
        }
    }
}

/// An output format and its settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FormatChoice {
    pub format: OutputFormat,
    pub har: crate::har::HarLimits,
}

impl FormatArgs {
    pub fn choice(&self) -> FormatChoice {
        let mut har = crate::har::HarLimits::default();
        if let Some(max) = self.max_har_buffer_bytes {
            har.max_buffered_bytes = usize::try_from(max).unwrap_or(usize::MAX);
        }
        FormatChoice {
            format: self.get(),
            har,
        }
    }

    pub fn get(&self) -> OutputFormat {
        if self.json {
            OutputFormat::Json
        } else {
            self.format
        }
    }
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
    /// Encrypted TLS bytes held per connection while its keys are missing [default: 1M].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_tls_pending_bytes: Option<u64>,
    /// HTTP/2 streams tracked per connection [default: 1000].
    #[arg(long, value_name = "N", value_parser = parse_size)]
    pub max_h2_streams: Option<u64>,
    /// Largest HTTP/2 header block (HEADERS + CONTINUATION) [default: 256K].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_h2_header_block_bytes: Option<u64>,
    /// HPACK dynamic table followed per direction [default: 64K].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_hpack_table_bytes: Option<u64>,
    /// Largest application-protocol unit buffered [default: 16M].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_proto_unit_bytes: Option<u64>,
    /// Application-protocol requests held per connection for pairing [default: 4096].
    #[arg(long, value_name = "N", value_parser = parse_size)]
    pub max_proto_pending_requests: Option<u64>,
    /// One memory budget for all connections' buffers; past it the biggest holders are cut,
    /// each with a `memcap` anomaly (shared equally by --threads workers) [default: 256M].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memcap: Option<u64>,
    /// Pings per direction awaiting their pong for the RTT; past it the oldest is forgotten
    /// [default: 32].
    #[arg(long, value_name = "N", value_parser = parse_size)]
    pub max_outstanding_pings: Option<u64>,
    /// RTT samples per direction kept exactly; past it median and p99 are within 1.6 %
    /// [default: 256].
    #[arg(long, value_name = "N", value_parser = parse_size)]
    pub exact_rtt_samples: Option<u64>,
    /// Also list messages the capture cut off (snap length, a hole, the capture's end) with
    /// the bytes that were captured, marked truncated (JSON `"truncated":true`); without it
    /// they are only reported (`incomplete_message`).
    #[arg(long)]
    pub truncated: bool,
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
            max_tls_pending_bytes: size(self.max_tls_pending_bytes, d.max_tls_pending_bytes),
            max_h2_streams: size(self.max_h2_streams, d.max_h2_streams).max(1),
            max_h2_header_block_bytes: size(
                self.max_h2_header_block_bytes,
                d.max_h2_header_block_bytes,
            ),
            max_hpack_table_bytes: size(self.max_hpack_table_bytes, d.max_hpack_table_bytes),
            max_proto_unit_bytes: size(self.max_proto_unit_bytes, d.max_proto_unit_bytes),
            max_proto_pending_requests: size(
                self.max_proto_pending_requests,
                d.max_proto_pending_requests,
            ),
            memcap: size(self.memcap, d.memcap),
            max_outstanding_pings: size(self.max_outstanding_pings, d.max_outstanding_pings),
            exact_rtt_samples: size(self.exact_rtt_samples, d.exact_rtt_samples),
            list_truncated: self.truncated || d.list_truncated,
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
        assert!(!a.no_promisc && !a.no_immediate && !a.stats_event);
        assert_eq!(a.format.get(), OutputFormat::Text);
        assert_eq!(a.buffer_size, None);
        assert_eq!(*a.idle_timeout, DEFAULT_IDLE_TIMEOUT);
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
            "--silence-alarm",
            "1m 30s",
        ]) else {
            panic!("did not parse");
        };
        assert_eq!(a.bpf, "tcp port 8765");
        assert_eq!((a.snaplen, a.buffer_size), (1500, Some(16 << 20)));
        assert!(a.no_promisc && a.stats_event);
        assert_eq!(a.format.get(), OutputFormat::Json);
        assert_eq!((a.rotate_size, a.rotate_keep), (Some(1 << 30), 3));
        assert_eq!(a.write, Some(PathBuf::from("x.pcap")));
        assert_eq!(*a.idle_timeout, std::time::Duration::from_secs(90));
        assert_eq!(
            a.silence_alarm.map(Into::into),
            Some(std::time::Duration::from_secs(90))
        );
        assert!(
            matches!(parse(&["live", "-i", "lo"]), Ok(Command::Live(a)) if a.silence_alarm.is_none())
        );
        for bad in ["0s", "0", "soon", "-1s"] {
            assert!(
                parse(&["live", "-i", "lo", "--silence-alarm", bad]).is_err(),
                "{bad}"
            );
        }
        assert!(matches!(parse(&["live", "-D"]), Ok(Command::Live(a)) if a.list_interfaces));
    }

    #[test]
    fn live_rejects_inconsistent_options() {
        assert!(parse(&["live"]).is_err(), "an interface or -D is needed");
        assert!(
            parse(&["live", "-i", "lo", "--rotate-size", "1M"]).is_err(),
            "needs -o"
        );
    }

    #[test]
    fn one_format_option_and_its_short_form() {
        let format = |args: &[&str]| match parse(args) {
            Ok(Command::Read(a)) => Ok(a.format.get()),
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err(e.kind()),
        };
        assert_eq!(format(&["read", "x.pcap"]), Ok(OutputFormat::Text));
        assert_eq!(
            format(&["read", "x.pcap", "--json"]),
            Ok(OutputFormat::Json)
        );
        assert_eq!(
            format(&["read", "x.pcap", "--format", "json"]),
            Ok(OutputFormat::Json)
        );
        assert_eq!(
            format(&["read", "x.pcap", "--format", "text"]),
            Ok(OutputFormat::Text)
        );
        assert_eq!(
            format(&["read", "x.pcap", "--format", "har"]),
            Ok(OutputFormat::Har)
        );
        assert_eq!(
            format(&["read", "x.pcap", "--format", "xml"]),
            Err(clap::error::ErrorKind::InvalidValue)
        );
        assert_eq!(
            format(&["read", "x.pcap", "--json", "--format", "text"]),
            Err(clap::error::ErrorKind::ArgumentConflict)
        );
    }

    #[test]
    fn time_format_short_and_long() {
        let time = |args: &[&str]| match parse(args) {
            Ok(Command::Read(a)) => Ok(a.format.time.get()),
            Ok(Command::Live(a)) => Ok(a.format.time.get()),
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err(e.kind()),
        };
        assert_eq!(time(&["read", "x.pcap"]), Ok(TimeFormat::Absolute));
        assert_eq!(
            time(&["read", "x.pcap", "-t", "rel"]),
            Ok(TimeFormat::Relative)
        );
        assert_eq!(
            time(&["read", "x.pcap", "--time-format", "delta"]),
            Ok(TimeFormat::Delta)
        );
        assert_eq!(
            time(&["live", "-i", "lo", "-t", "abs"]),
            Ok(TimeFormat::Absolute)
        );
        assert_eq!(
            time(&["read", "x.pcap", "-t", "epoch"]),
            Err(clap::error::ErrorKind::InvalidValue)
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
        assert_eq!(
            FormatArgs::default().choice().har,
            crate::har::HarLimits::default()
        );
    }

    #[test]
    fn har_buffer_option() {
        let Ok(Command::Read(a)) = parse(&[
            "read",
            "x.pcap",
            "--format",
            "har",
            "--max-har-buffer-bytes",
            "64K",
        ]) else {
            panic!("did not parse");
        };
        let choice = a.format.choice();
        assert_eq!(choice.format, OutputFormat::Har);
        assert_eq!(choice.har.max_buffered_bytes, 64 << 10);
    }

    #[test]
    fn health_limits_from_their_flags() {
        let Ok(Command::Read(a)) = parse(&[
            "read",
            "x.pcap",
            "--max-outstanding-pings",
            "4",
            "--exact-rtt-samples",
            "1K",
        ]) else {
            panic!("did not parse");
        };
        let l = a.limits.to_limits();
        assert_eq!((l.max_outstanding_pings, l.exact_rtt_samples), (4, 1024));
        assert_eq!(
            Limits {
                max_outstanding_pings: 4,
                exact_rtt_samples: 1024,
                ..l.clone()
            },
            Limits {
                max_outstanding_pings: 4,
                exact_rtt_samples: 1024,
                ..Limits::default()
            }
        );
        assert!(parse(&["read", "x.pcap", "--exact-rtt-samples", "many"]).is_err());
    }
}
