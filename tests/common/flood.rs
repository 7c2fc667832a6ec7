//! Floods: captures of hundreds of thousands of packets written straight into pcap bytes
//! (no per-packet builder), and the child process's peak memory as the kernel counts it.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Ethernet + IPv4 (total length 0, as segmentation offload leaves it: the record's length
/// counts, so a segment may exceed 64 KiB) + TCP, appended to `out` as a pcap record.
#[allow(clippy::too_many_arguments)]
pub fn tcp4_record(
    out: &mut Vec<u8>,
    micros: u64,
    src: ([u8; 4], u16),
    dst: ([u8; 4], u16),
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
) {
    let len = 14 + 20 + 20 + payload.len();
    record_header(out, micros, len);
    out.extend_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
    let total = u16::try_from(20 + 20 + payload.len()).unwrap_or(0);
    ipv4_header(out, total, 0, 0, src.0, dst.0);
    out.extend_from_slice(&src.1.to_be_bytes());
    out.extend_from_slice(&dst.1.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&ack.to_be_bytes());
    out.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    out.extend_from_slice(payload);
}

pub const SYN: u8 = 0x02;
pub const ACK: u8 = 0x10;
pub const PSH_ACK: u8 = 0x18;
pub const FIN_ACK: u8 = 0x11;

#[allow(clippy::too_many_arguments)]
/// An IPv4 fragment (protocol TCP) carrying `body` at byte offset `offset` (a multiple of 8).
pub fn fragment_record(
    out: &mut Vec<u8>,
    micros: u64,
    src: [u8; 4],
    dst: [u8; 4],
    id: u16,
    offset: usize,
    more: bool,
    body: &[u8],
) {
    record_header(out, micros, 14 + 20 + body.len());
    out.extend_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
    let flags = ((offset / 8) as u16) | if more { 0x2000 } else { 0 };
    ipv4_header(out, (20 + body.len()) as u16, id, flags, src, dst);
    out.extend_from_slice(body);
}

fn ipv4_header(out: &mut Vec<u8>, total: u16, id: u16, flags: u16, src: [u8; 4], dst: [u8; 4]) {
    let mut h = [0u8; 20];
    h[0] = 0x45;
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h[4..6].copy_from_slice(&id.to_be_bytes());
    h[6..8].copy_from_slice(&flags.to_be_bytes());
    h[8] = 64;
    h[9] = 6;
    h[12..16].copy_from_slice(&src);
    h[16..20].copy_from_slice(&dst);
    let sum = super::forge::ipv4_checksum(&h);
    h[10..12].copy_from_slice(&sum.to_be_bytes());
    out.extend_from_slice(&h);
}

fn record_header(out: &mut Vec<u8>, micros: u64, len: usize) {
    let secs = 1_700_000_000 + micros / 1_000_000;
    out.extend_from_slice(&(secs as u32).to_le_bytes());
    out.extend_from_slice(&((micros % 1_000_000) as u32).to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
}

/// Pcap file header for Ethernet with a snap length that admits jumbo records.
pub fn jumbo_pcap_header() -> Vec<u8> {
    super::forge::pcap_header(1, 16 << 20)
}

/// One measured run of `wsnoop read FILE --json FLAGS`.
pub struct Measured {
    pub lines: Vec<Value>,
    pub exit: i32,
    /// Peak resident set of the child, bytes (`VmHWM`, polled).
    pub max_rss: u64,
    pub elapsed: Duration,
}

/// The high-water resident set of process `pid`, bytes (`None` once it has exited).
pub fn vm_hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Runs the binary on `file`, its output into a file beside it, polling the child's
/// `VmHWM` every millisecond. (`ru_maxrss` cannot be used: Linux carries the parent's
/// high-water mark over the spawn into the child's, so it reports the test process.)
/// VmHWM is a high-water mark, so a poll only misses growth in the child's last
/// millisecond.
pub fn measure(file: &Path, flags: &[&str]) -> Measured {
    let out_path = file.with_extension("jsonl");
    let out = std::fs::File::create(&out_path).expect("create output");
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wsnoop"))
        .arg("read")
        .arg(file)
        .arg("--json")
        .arg("--no-progress")
        .args(flags)
        .stdout(Stdio::from(out))
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn wsnoop");
    let mut max_rss = 0;
    let status = loop {
        if let Some(hwm) = vm_hwm(child.id()) {
            max_rss = max_rss.max(hwm);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let elapsed = start.elapsed();
    let text = std::fs::read(&out_path).expect("read output");
    let _ = std::fs::remove_file(&out_path);
    Measured {
        lines: super::parse_lines(&text),
        exit: status.code().unwrap_or(-1),
        max_rss,
        elapsed,
    }
}
