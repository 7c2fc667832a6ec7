//! NSS key log files (RFC 9850): one secret per line, `LABEL <client_random hex> <secret hex>`.
//!
//! Every TLS client that matters writes this format (`SSLKEYLOGFILE`). The text may arrive in
//! appended pieces (a live key log grows a line per connection), so parsing is incremental and
//! errors carry the line number in the file.

use std::collections::HashMap;

/// Client randoms kept by default: a browser session logs a few lines per connection, so this
/// is far more than any real key log, and bounds memory when secrets come from the capture
/// itself (pcapng Decryption Secrets Blocks).
pub const DEFAULT_MAX_CLIENT_RANDOMS: usize = 1 << 20;

/// RFC 9850 §3: a secret is at most as long as the longest hash output (SHA-512); anything
/// longer is not a secret of any label below.
const MAX_SECRET_BYTES: usize = 64;

/// The secrets logged for one client_random (each label at most once; a later line wins).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Secrets {
    /// `CLIENT_RANDOM`: the TLS 1.2 master secret (48 bytes).
    pub master: Option<Vec<u8>>,
    /// `CLIENT_EARLY_TRAFFIC_SECRET` (TLS 1.3 0-RTT).
    pub client_early: Option<Vec<u8>>,
    /// `CLIENT_HANDSHAKE_TRAFFIC_SECRET`.
    pub client_handshake: Option<Vec<u8>>,
    /// `SERVER_HANDSHAKE_TRAFFIC_SECRET`.
    pub server_handshake: Option<Vec<u8>>,
    /// `CLIENT_TRAFFIC_SECRET_0`.
    pub client_traffic: Option<Vec<u8>>,
    /// `SERVER_TRAFFIC_SECRET_0`.
    pub server_traffic: Option<Vec<u8>>,
}

/// The labels this decoder uses, in the order `lines_for` writes them.
const LABELS: [&str; 6] = [
    "CLIENT_RANDOM",
    "CLIENT_EARLY_TRAFFIC_SECRET",
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
];

impl Secrets {
    fn slot(&mut self, label: &str) -> Option<&mut Option<Vec<u8>>> {
        Some(match label {
            "CLIENT_RANDOM" => &mut self.master,
            "CLIENT_EARLY_TRAFFIC_SECRET" => &mut self.client_early,
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET" => &mut self.client_handshake,
            "SERVER_HANDSHAKE_TRAFFIC_SECRET" => &mut self.server_handshake,
            "CLIENT_TRAFFIC_SECRET_0" => &mut self.client_traffic,
            "SERVER_TRAFFIC_SECRET_0" => &mut self.server_traffic,
            _ => return None,
        })
    }

    fn all(&self) -> [Option<&Vec<u8>>; 6] {
        [
            self.master.as_ref(),
            self.client_early.as_ref(),
            self.client_handshake.as_ref(),
            self.server_handshake.as_ref(),
            self.client_traffic.as_ref(),
            self.server_traffic.as_ref(),
        ]
    }
}

/// A key log line that could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyLogError {
    /// Line number in the key log file (first line 1).
    pub line: usize,
    pub message: String,
}

/// Secrets from any number of key logs, by client_random.
#[derive(Clone, Debug)]
pub struct KeyLog {
    secrets: HashMap<[u8; 32], Secrets>,
    generation: u64,
    max_client_randoms: usize,
}

impl Default for KeyLog {
    fn default() -> Self {
        KeyLog::new()
    }
}

impl KeyLog {
    pub fn new() -> KeyLog {
        KeyLog::with_limit(DEFAULT_MAX_CLIENT_RANDOMS)
    }

    /// A key log that keeps at most `max_client_randoms` client randoms; lines for new ones
    /// beyond that are reported as errors and skipped.
    pub fn with_limit(max_client_randoms: usize) -> KeyLog {
        KeyLog {
            secrets: HashMap::new(),
            generation: 0,
            max_client_randoms,
        }
    }

    /// NSS key log text (RFC 9850 format): '#' comments, blank lines, CRLF; labels
    /// CLIENT_RANDOM (TLS 1.2 master secret), CLIENT_/SERVER_HANDSHAKE_TRAFFIC_SECRET,
    /// CLIENT_/SERVER_TRAFFIC_SECRET_0, CLIENT_EARLY_TRAFFIC_SECRET; others (EXPORTER_SECRET,
    /// ...) ignored; malformed lines returned, skipped. `first_line`: number of the first line
    /// of `text` in its file (text may be appended chunks of a growing file, always whole
    /// lines).
    pub fn add_text(&mut self, text: &[u8], first_line: usize) -> Vec<KeyLogError> {
        let mut errors = Vec::new();
        let mut changed = false;
        let mut lines = text.split(|&b| b == b'\n').peekable();
        let mut number = first_line;
        while let Some(line) = lines.next() {
            // The piece after the final newline is not a line (the text ends with one).
            if line.is_empty() && lines.peek().is_none() {
                break;
            }
            match self.add_line(line) {
                Ok(added) => changed |= added,
                Err(message) => errors.push(KeyLogError {
                    line: number,
                    message,
                }),
            }
            number += 1;
        }
        if changed {
            self.generation += 1;
        }
        errors
    }

    /// Ok(true) when a secret was added or changed.
    fn add_line(&mut self, line: &[u8]) -> Result<bool, String> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Ok(line) = std::str::from_utf8(line) else {
            return Err("not UTF-8 text".into());
        };
        let line = line.trim();
        // RFC 9850 §3: lines starting with '#' are comments; empty lines are ignored.
        if line.is_empty() || line.starts_with('#') {
            return Ok(false);
        }
        let mut fields = line.split_ascii_whitespace();
        let (Some(label), Some(random), Some(secret), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(format!(
                "expected `LABEL CLIENT_RANDOM SECRET`, got {} field(s)",
                line.split_ascii_whitespace().count()
            ));
        };
        if !LABELS.contains(&label) {
            // RFC 9850 §3: unknown labels are ignored (EXPORTER_SECRET, ECH labels, ...).
            return Ok(false);
        }
        let random: [u8; 32] = hex(random)
            .and_then(|r| r.try_into().ok())
            .ok_or_else(|| format!("{label}: client_random is not 32 bytes of hex"))?;
        let secret = hex(secret)
            .filter(|s| !s.is_empty() && s.len() <= MAX_SECRET_BYTES)
            .ok_or_else(|| {
                format!("{label}: secret is not 1 to {MAX_SECRET_BYTES} bytes of hex")
            })?;
        // RFC 5246 §8.1: the master secret is always 48 bytes.
        if label == "CLIENT_RANDOM" && secret.len() != 48 {
            return Err(format!(
                "CLIENT_RANDOM: master secret is {}, not 48",
                crate::plural::count(secret.len(), "byte", "bytes")
            ));
        }
        if !self.secrets.contains_key(&random) && self.secrets.len() >= self.max_client_randoms {
            return Err(format!(
                "more than {} client randoms: line skipped",
                self.max_client_randoms
            ));
        }
        let slot = self
            .secrets
            .entry(random)
            .or_default()
            .slot(label)
            .ok_or_else(|| format!("{label}: no slot"))?;
        if slot.as_deref() == Some(secret.as_slice()) {
            return Ok(false);
        }
        *slot = Some(secret);
        Ok(true)
    }

    /// Client randoms with at least one secret.
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// Increments whenever secrets are added: a connection waiting for keys retries only when
    /// it changed.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn get(&self, client_random: &[u8; 32]) -> Option<&Secrets> {
        self.secrets.get(client_random)
    }

    /// The secrets actually used, as key log lines (for embedding in a pcapng Decryption
    /// Secrets Block).
    pub fn lines_for(&self, client_random: &[u8; 32]) -> Vec<String> {
        let Some(secrets) = self.secrets.get(client_random) else {
            return Vec::new();
        };
        let random = to_hex(client_random);
        LABELS
            .iter()
            .zip(secrets.all())
            .filter_map(|(label, secret)| Some(format!("{label} {random} {}", to_hex(secret?))))
            .collect()
    }
}

fn hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks_exact(2)
        .map(|pair| {
            let hi = (pair.first()?).to_ascii_lowercase();
            let lo = (pair.get(1)?).to_ascii_lowercase();
            Some((nibble(hi)? << 4) | nibble(lo)?)
        })
        .collect()
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// Lowercase hex, as key logs and anomaly details write client randoms.
pub fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}
