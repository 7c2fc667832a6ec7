//! Where TLS key material comes from. `SSLKEYLOGFILE` is read as `--keylog` is. And
//! `live -w FILE.pcapng` with key material: the secrets go into the file as Decryption
//! Secrets Blocks, so that the saved file decrypts on its own. Here the live path is replayed
//! from the real wss:// captures of `captures/tls/`: each packet through the engine (given
//! the client's key log, as `--keylog` does) and the `-w` writer (given the same key log, as
//! the daemon's watch is); the saved file, read back by the binary *without* a key log, must
//! give exactly the capture's messages.

mod common;

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::Command;

use wsnoop::Limits;
use wsnoop::capture::CaptureReader;
use wsnoop::cli::savefile::WsPackets;
use wsnoop::cli::savewriter::SaveWriter;
use wsnoop::engine::Engine;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/tls");

/// Replays capture `name` into the `-w` file `out` (its format from its name); returns the
/// packets written and whether the file took the secrets.
fn save(name: &str, out: &Path) -> (usize, bool) {
    let pcap = Path::new(DIR).join(format!("{name}.pcap"));
    let keys = std::fs::read(Path::new(DIR).join(format!("{name}.keys"))).expect("keys");
    let limits = Limits::default();
    let mut reader = CaptureReader::new(BufReader::new(File::open(&pcap).expect("open")), &limits)
        .expect("capture");
    let mut engine = Engine::new(limits.clone());
    assert!(engine.add_keys(&keys, 1).is_empty());
    let file = std::io::BufWriter::new(File::create(out).expect("create"));
    let writer = SaveWriter::for_path(out, file, 1, 262_144).expect("writer");
    let mut ws = WsPackets::new(writer);
    let kept = ws.secrets(&keys).expect("secrets");
    let mut events = Vec::new();
    while let Some(pkt) = reader.next_packet().expect("packet") {
        let fate = engine.packet(&pkt, &mut events);
        ws.packet(fate, &pkt).expect("save");
    }
    ws.flush().expect("flush");
    (ws.written as usize, kept)
}

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tls_key_sources");
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir.join(name)
}

fn read_without_keys(path: &Path) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_wsnoop"))
        .arg("read")
        .arg(path)
        .arg("--json")
        .env_remove("SSLKEYLOGFILE")
        .output()
        .expect("run wsnoop");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    common::parse_lines(&out.stdout)
}

#[test]
fn a_saved_pcapng_decrypts_on_its_own() {
    for name in [
        "wss_tls13_aes128gcm",
        "wss_tls12_aes128gcm",
        "wss_tls13_chacha20",
        "wss_tls13_resumption",
        "wss_chromium_tls13",
    ] {
        let out = tmp(&format!("{name}.pcapng"));
        let (written, kept) = save(name, &out);
        assert!(written > 0, "{name}: nothing saved");
        assert!(kept, "{name}: pcapng holds secrets");
        let lines = read_without_keys(&out);
        let expected = common::parse_lines(
            &std::fs::read(Path::new(DIR).join(format!("{name}.expected.jsonl"))).expect("truth"),
        );
        let problems = common::check(&expected, &lines);
        assert!(problems.is_empty(), "{name}: {}", problems.join("\n  "));
        let messages = lines.iter().filter(|l| l["event"] == "message").count();
        assert!(messages > 0, "{name}: no message");
    }
}

/// The same file saved as pcap cannot hold the secrets: read without a key log, its TLS
/// connections are reported without keys and nothing is decrypted.
#[test]
fn a_saved_pcap_does_not_carry_secrets() {
    let out = tmp("wss_tls13_aes128gcm.pcap");
    let (written, kept) = save("wss_tls13_aes128gcm", &out);
    assert!(written > 0 && !kept);
    let lines = read_without_keys(&out);
    assert_eq!(lines.iter().filter(|l| l["event"] == "message").count(), 0);
    assert!(lines.iter().any(|l| l["kind"] == "tls_no_keys"));
}

/// Without `--keylog`, the file `SSLKEYLOGFILE` names is read: the same output, byte for
/// byte, on every TLS capture with a key log.
#[test]
fn sslkeylogfile_decodes_the_same_as_keylog() {
    for name in [
        "wss_tls13_aes128gcm",
        "wss_tls12_aes128gcm",
        "wss_tls13_chacha20",
        "wss_tls13_aes256gcm",
        "wss_tls13_resumption",
        "wss_chromium_tls13",
    ] {
        let pcap = Path::new(DIR).join(format!("{name}.pcap"));
        let keys = Path::new(DIR).join(format!("{name}.keys"));
        let run = |env: bool| {
            let mut c = Command::new(env!("CARGO_BIN_EXE_wsnoop"));
            c.arg("read").arg(&pcap).arg("--json");
            if env {
                c.env("SSLKEYLOGFILE", &keys);
            } else {
                c.env_remove("SSLKEYLOGFILE").arg("--keylog").arg(&keys);
            }
            let out = c.output().expect("run wsnoop");
            assert!(out.status.success(), "{name}");
            out.stdout
        };
        let with_flag = run(false);
        let with_env = run(true);
        assert_eq!(with_env, with_flag, "{name}");
        let lines = common::parse_lines(&with_flag);
        assert!(
            lines.iter().any(|l| l["event"] == "message"),
            "{name}: decrypted"
        );
    }
}
