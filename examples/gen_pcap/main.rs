//! Writes a deterministic WebSocket benchmark capture (classic pcap) and its
//! `.summary.json`; a Rust port of `shared/bench/gen_pcap.py` with the same options.
//!
//!     cargo run --release --example gen_pcap -- --size-mb 256 --conns 32 --seed 1 --out ws256.pcap
//!     python3 ../shared/bench/check_jsonl.py ws256.pcap.summary.json <(wsnoop read ws256.pcap --json)
//!
//! With `--tls13` or `--tls12-chacha` every connection is wss:// (the same WebSocket traffic
//! inside TLS records) and the NSS key log goes to `FILE.keys`:
//!
//!     cargo run --release --example gen_pcap -- --size-mb 256 --conns 32 --tls13 --out wss256.pcap
//!     wsnoop read wss256.pcap --keylog wss256.pcap.keys --json

mod wsgen;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

use wsgen::{Config, Generator};

#[derive(Parser, Debug)]
#[command(
    about = "Deterministic WebSocket traffic generator: writes a classic pcap (Ethernet/IPv4/TCP)"
)]
struct Args {
    /// Target pcap size in MiB.
    #[arg(long, default_value_t = 64.0)]
    size_mb: f64,
    /// Number of WebSocket connections (1..=50000).
    #[arg(long, default_value_t = 16)]
    conns: u32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Negotiate and use permessage-deflate (context takeover, 15-bit windows).
    #[arg(long)]
    deflate: bool,
    #[arg(long, default_value_t = 6)]
    deflate_level: u32,
    /// Message-count weights tiny,medium,large; `tiny` is short for 100,0,0.
    #[arg(long, default_value = "60,30,10")]
    mix: String,
    /// Percent of data messages sent fragmented.
    #[arg(long, default_value_t = 5.0)]
    frag_pct: f64,
    /// Percent of fragmented messages with a ping between two fragments.
    #[arg(long, default_value_t = 20.0)]
    mid_frag_ping_pct: f64,
    #[arg(long, default_value_t = 1448)]
    mss: usize,
    #[arg(long)]
    out: String,
    /// Every connection in TLS 1.3 (TLS_AES_128_GCM_SHA256); key log to OUT.keys.
    #[arg(long, conflicts_with = "tls12_chacha")]
    tls13: bool,
    /// Every connection in TLS 1.2 (ECDHE-RSA-CHACHA20-POLY1305); key log to OUT.keys.
    #[arg(long)]
    tls12_chacha: bool,
    /// Every connection speaks MQTT (subprotocol `mqtt`; each data message one PUBLISH).
    #[arg(long)]
    mqtt: bool,
    /// Also write one JSON line per message here (corpus layout); for small files.
    #[arg(long)]
    expected: Option<String>,
}

fn main() -> ExitCode {
    let a = Args::parse();
    match run(a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_pcap: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(a: Args) -> Result<(), Box<dyn std::error::Error>> {
    let t0 = Instant::now();
    let mix = match a.mix.as_str() {
        "tiny" => "100,0,0".to_string(),
        m => m.to_string(),
    };
    let cfg = Config {
        size_mb: a.size_mb,
        conns: a.conns,
        seed: a.seed,
        deflate: a.deflate,
        deflate_level: a.deflate_level,
        mix,
        frag_pct: a.frag_pct,
        mid_frag_ping_pct: a.mid_frag_ping_pct,
        mss: a.mss,
        out: a.out.clone(),
        tls: if a.tls13 {
            Some(wsgen::tls::Mode::Tls13Aes128Gcm)
        } else if a.tls12_chacha {
            Some(wsgen::tls::Mode::Tls12Chacha20)
        } else {
            None
        },
        mqtt: a.mqtt,
    };
    let tls = cfg.tls.is_some();
    let out = BufWriter::with_capacity(1 << 20, File::create(&a.out)?);
    let expected: Option<Box<dyn Write>> = match &a.expected {
        Some(p) => Some(Box::new(BufWriter::with_capacity(
            1 << 20,
            File::create(p)?,
        ))),
        None => None,
    };
    let (w, summary, keylog) = Generator::new(cfg, out, expected)?.run_with_keys()?;
    drop(w.into_inner().map_err(|e| e.into_error())?);
    if tls {
        std::fs::write(format!("{}.keys", a.out), keylog)?;
    }
    let secs = t0.elapsed().as_secs_f64();
    let summary = summary.with(
        "gen_seconds",
        wsgen::J::Float((secs * 100.0).round() / 100.0),
    );
    std::fs::write(format!("{}.summary.json", a.out), summary.render())?;
    eprintln!("{}: {}, {secs:.1}s", a.out, summary.one_line());
    Ok(())
}
