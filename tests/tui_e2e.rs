//! End to end: the real binary in tmux on bundled captures. Filter for a message, open its
//! detail (JSON pretty-printed; binary as hex), export the connection, quit.
//! Skipped, with the reason printed, when tmux is not installed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::thread::sleep;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(name: &str, cmd: &str) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            eprintln!("SKIPPED: tmux is not installed (apt-get install -y tmux)");
            return None;
        }
        let t = Tmux {
            socket: format!("wsnoop-e2e-{name}-{}", std::process::id()),
        };
        let out = t.run(&["new-session", "-d", "-x", "120", "-y", "40", cmd]);
        assert!(out.status.success(), "tmux new-session failed: {out:?}");
        Some(t)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .env("TERM", "xterm-256color")
            .output()
            .expect("run tmux")
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", "-t", "0", k]);
            sleep(Duration::from_millis(80));
        }
    }

    fn literal(&self, text: &str) {
        self.run(&["send-keys", "-t", "0", "-l", text]);
        sleep(Duration::from_millis(150));
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "0"]).stdout).into_owned()
    }

    fn wait_for(&self, needle: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(needle) {
                return s;
            }
            // wsnoop refused to start (its one-line error is on the screen): no point waiting.
            assert!(!s.contains("wsnoop: "), "wsnoop failed; screen:\n{s}");
            assert!(
                start.elapsed() < WAIT,
                "timed out waiting for {needle:?}; screen:\n{s}"
            );
            sleep(Duration::from_millis(100));
        }
    }

    fn alive(&self) -> bool {
        self.run(&["has-session", "-t", "0"]).status.success()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

fn capture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
}

fn start(name: &str, file: &str) -> Option<Tmux> {
    let cmd = format!(
        "{} tui {}; sleep 30",
        env!("CARGO_BIN_EXE_wsnoop"),
        capture(file).display()
    );
    let t = Tmux::start(name, &cmd)?;
    // Loaded: the status bar no longer says "loading" and the connection is listed.
    t.wait_for("Connections (");
    let start = Instant::now();
    while t.screen().contains("loading") && start.elapsed() < WAIT {
        sleep(Duration::from_millis(100));
    }
    Some(t)
}

#[test]
fn filter_json_detail_export_and_quit() {
    let Some(t) = start("json", "py_subprotocol.pcap") else {
        return;
    };
    t.keys(&["/"]);
    t.literal("lobby dir:c2s");
    t.wait_for("filter: lobby dir:c2s");
    t.keys(&["Enter", "Enter"]);
    let s = t.wait_for("\"room\": \"lobby\"");
    assert!(s.contains("JSON"), "{s}");
    assert!(s.contains("\"op\": \"join\","), "{s}");
    assert!(s.contains("Frames (1)"), "{s}");

    let out = std::env::temp_dir().join(format!("wsnoop-e2e-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&out);
    t.keys(&["e", "C-u"]);
    t.literal(&out.display().to_string());
    t.keys(&["Enter"]);
    t.wait_for("exported connection");
    let lines = std::fs::read_to_string(&out).expect("export written");
    let _ = std::fs::remove_file(&out);
    assert!(lines.lines().count() >= 3, "{lines}");
    assert!(
        lines
            .lines()
            .next()
            .unwrap_or("")
            .contains("\"event\":\"open\""),
        "{lines}"
    );
    assert!(lines.contains("lobby"), "{lines}");

    t.keys(&["q"]);
    // The `sleep 30` after wsnoop keeps the pane: the TUI is gone and the shell screen is back.
    let start = Instant::now();
    while t.screen().contains("Connections (") && start.elapsed() < WAIT {
        sleep(Duration::from_millis(100));
    }
    assert!(
        !t.screen().contains("Connections ("),
        "still running:\n{}",
        t.screen()
    );
    assert!(t.alive());
}

#[test]
fn binary_message_as_hex() {
    let Some(t) = start("hex", "py_basic_echo.pcap") else {
        return;
    };
    t.keys(&["/"]);
    t.literal("op:binary len=10 dir:s2c");
    t.keys(&["Enter", "Enter"]);
    // 120 columns: the detail pane dumps 8 bytes a line.
    let s = t.wait_for("00000000  00 01 02 03  ff fe 81 7e  |.......~|");
    assert!(s.contains("00000008  7f 88"), "{s}");
    t.keys(&["?"]);
    t.wait_for("Keys · any key closes");
    t.keys(&["Escape", "q"]);
}

#[test]
fn connection_page_then_sorted_list() {
    let Some(t) = start("page", "py_basic_echo.pcap") else {
        return;
    };
    t.keys(&["Tab", "Tab", "j", "i"]);
    // 120×40: the whole page fits, the response headers last.
    let s = t.wait_for("Server: Python/3.11 websockets/17.4");
    assert!(s.contains("Connection 1 · Esc back"), "{s}");
    assert!(s.contains("URL          ws://127.0.0.1:8765/echo"), "{s}");
    assert!(
        s.contains("Status       HTTP/1.1 101 Switching Protocols"),
        "{s}"
    );
    assert!(
        s.contains("Close        clean: c2s sent 1000 (Normal Closure), answered; TCP fin"),
        "{s}"
    );
    assert!(s.contains("Response headers (5)"), "{s}");
    t.keys(&["Escape"]);
    t.wait_for("Connections (2)");
    // Four columns on: bytes, ascending; connection 1 (the larger) stays selected and listed
    // last.
    t.keys(&["s", "s", "s", "s"]);
    let s = t.wait_for("Connections (2) · by bytes ▲");
    let first = s
        .find("127.0.0.1:51572 → 127.0.0.1:8765")
        .expect("conn 2 listed");
    let second = s
        .find("127.0.0.1:51564 → 127.0.0.1:8765")
        .expect("conn 1 listed");
    assert!(first < second, "{s}");
    assert!(s.contains("Traffic · connection 1"), "{s}");
    t.keys(&["q"]);
}

/// `tui -` reads the capture from standard input (as `read -` does); keys still come from
/// the terminal.
#[test]
fn capture_piped_into_stdin() {
    let cmd = format!(
        "{} tui - < {}; sleep 30",
        env!("CARGO_BIN_EXE_wsnoop"),
        capture("py_basic_echo.pcap").display()
    );
    let Some(t) = Tmux::start("stdin", &cmd) else {
        return;
    };
    let s = t.wait_for("Connections (2)");
    assert!(s.contains(" wsnoop standard input │ "), "{s}");
    let s = t.wait_for("36 msgs");
    assert!(s.contains("127.0.0.1:51564 → 127.0.0.1:8765"), "{s}");
    t.keys(&["/"]);
    t.literal("WebSocket!");
    t.keys(&["Enter"]);
    t.wait_for("Messages · all · 2 msgs matching");
    t.keys(&["q"]);
    let start = Instant::now();
    while t.screen().contains("Connections (") && start.elapsed() < WAIT {
        sleep(Duration::from_millis(100));
    }
    assert!(!t.screen().contains("Connections ("), "still running");
}

/// `tui -` with the terminal on standard input: nothing to read a capture from (the keys come
/// from there too), a usage error before the screen is taken.
#[test]
fn stdin_that_is_the_terminal_is_a_usage_error() {
    let cmd = format!(
        "{} tui -; echo EXIT=$?; sleep 30",
        env!("CARGO_BIN_EXE_wsnoop")
    );
    let Some(t) = Tmux::start("stdin-tty", &cmd) else {
        return;
    };
    let start = Instant::now();
    while !t.screen().contains("EXIT=") && start.elapsed() < WAIT {
        sleep(Duration::from_millis(100));
    }
    let s = t.screen();
    assert!(
        s.contains("wsnoop: tui -: standard input is a terminal: pipe a capture in"),
        "{s}"
    );
    assert!(s.contains("EXIT=2"), "{s}");
}

/// `c` writes the payload as OSC 52; tmux with `set-clipboard on` takes it into a paste
/// buffer, as it would pass it on to the terminal outside.
#[test]
fn copy_reaches_the_clipboard_through_tmux() {
    let Some(t) = start("copy", "py_basic_echo.pcap") else {
        return;
    };
    t.run(&["set-option", "-g", "set-clipboard", "on"]);
    t.keys(&["/"]);
    t.literal("Grüße");
    t.keys(&["Enter"]);
    t.wait_for("Messages · all · 2 msgs matching");
    t.keys(&["c"]);
    t.wait_for("copied 45 bytes to the clipboard");
    let start = Instant::now();
    let mut buffer = String::new();
    while start.elapsed() < WAIT {
        let out = t.run(&["show-buffer"]);
        buffer = String::from_utf8_lossy(&out.stdout).into_owned();
        if !buffer.is_empty() {
            break;
        }
        sleep(Duration::from_millis(100));
    }
    assert_eq!(buffer, "Grüße aus Köln — naïve café, déjà vu");
    t.keys(&["q"]);
}
