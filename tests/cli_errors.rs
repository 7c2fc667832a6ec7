//! Bad files and environments, through the real binary: each gives one clear line on stderr
//! naming the file (and byte offset where there is one), the README's exit code (0 ok or the
//! output's reader went away, 1 input/output error, 2 usage), never a backtrace, and stdout
//! holds only whole JSON lines.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wsnoop"))
}

fn capture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(rel)
}

/// A fresh scratch directory for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wsnoop-cli-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn read(args: &[&std::ffi::OsStr]) -> Output {
    bin().arg("read").arg("--json").args(args).output().unwrap()
}

/// The one stderr line, checked for what every error line must be.
fn one_line(out: &Output, code: i32) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "exit code; stderr: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "want exactly one stderr line, got: {err:?}");
    assert!(lines[0].starts_with("wsnoop: "), "{err}");
    lines[0].to_owned()
}

/// Every stdout line is a whole JSON object.
fn whole_json_lines(bytes: &[u8]) -> usize {
    if bytes.is_empty() {
        return 0;
    }
    assert_eq!(bytes.last(), Some(&b'\n'), "output ends mid-line");
    let mut n = 0;
    for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let v: serde_json::Value = serde_json::from_slice(line)
            .unwrap_or_else(|e| panic!("not a JSON line ({e}): {}", String::from_utf8_lossy(line)));
        assert!(v.is_object());
        n += 1;
    }
    n
}

#[test]
fn not_a_capture() {
    let dir = scratch("notcap");
    let path = dir.join("notes.txt");
    std::fs::write(&path, "hello, this is not a capture\n").unwrap();
    let out = read(&[path.as_os_str()]);
    let line = one_line(&out, 1);
    assert!(line.contains(&*path.to_string_lossy()), "{line}");
    assert!(line.contains("not a pcap or pcapng capture"), "{line}");
    assert!(out.stdout.is_empty());
}

#[test]
fn empty_file() {
    let dir = scratch("empty");
    let path = dir.join("empty.pcap");
    std::fs::write(&path, b"").unwrap();
    let out = read(&[path.as_os_str()]);
    let line = one_line(&out, 1);
    assert!(line.contains(&*path.to_string_lossy()), "{line}");
    assert!(line.contains("empty"), "{line}");
    assert!(out.stdout.is_empty());
}

#[test]
fn truncated_header() {
    let dir = scratch("cuthdr");
    let whole = std::fs::read(capture("py_basic_echo.pcap")).unwrap();
    for cut in [4, 10, 23] {
        let path = dir.join(format!("cut{cut}.pcap"));
        std::fs::write(&path, &whole[..cut]).unwrap();
        let out = read(&[path.as_os_str()]);
        let line = one_line(&out, 1);
        assert!(line.contains(&*path.to_string_lossy()), "{line}");
        assert!(line.contains("header"), "{line}");
        assert!(out.stdout.is_empty());
    }
    let whole = std::fs::read(capture("py_pcapng.pcapng")).unwrap();
    let path = dir.join("cut.pcapng");
    std::fs::write(&path, &whole[..20]).unwrap();
    let line = one_line(&read(&[path.as_os_str()]), 1);
    assert!(line.contains("header"), "{line}");
}

#[test]
fn directory() {
    let dir = scratch("dir");
    let out = read(&[dir.as_os_str()]);
    let line = one_line(&out, 1);
    assert!(line.contains(&*dir.to_string_lossy()), "{line}");
    assert!(line.contains("is a directory"), "{line}");
}

#[test]
fn missing_path() {
    let path = Path::new("/nonexistent/wsnoop/none.pcap");
    let out = read(&[path.as_os_str()]);
    let line = one_line(&out, 1);
    assert_eq!(line, "wsnoop: /nonexistent/wsnoop/none.pcap: no such file");
}

#[test]
fn no_read_permission() {
    let dir = scratch("perm");
    let path = dir.join("secret.pcap");
    std::fs::copy(capture("py_basic_echo.pcap"), &path).unwrap();
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o000);
    std::fs::set_permissions(&path, perms).unwrap();
    // /proc/self belongs to the effective user.
    if std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(0)
        == 0
    {
        eprintln!("skipped no_read_permission: running as root, permission checks do not apply");
        return;
    }
    let out = read(&[path.as_os_str()]);
    let line = one_line(&out, 1);
    assert!(line.contains(&*path.to_string_lossy()), "{line}");
    assert!(line.contains("permission denied"), "{line}");
}

#[test]
fn output_path_cannot_be_created() {
    let out = bin()
        .args(["read", "--json", "-o", "/nonexistent/x"])
        .arg(capture("py_basic_echo.pcap"))
        .output()
        .unwrap();
    let line = one_line(&out, 1);
    assert!(line.contains("/nonexistent/x"), "{line}");
    assert!(out.stdout.is_empty());
}

#[test]
fn full_disk() {
    let out = bin()
        .args(["read", "--json", "-o", "/dev/full"])
        .arg(capture("py_basic_echo.pcap"))
        .output()
        .unwrap();
    let line = one_line(&out, 1);
    assert!(line.contains("/dev/full"), "{line}");
    assert!(line.contains("No space left on device"), "{line}");
}

/// A disk that fills mid-line (here a file size limit, with SIGXFSZ ignored so the write
/// fails instead): the file is left holding whole lines only.
#[test]
fn output_file_fills_up_mid_line() {
    let dir = scratch("fsize");
    let path = dir.join("out.jsonl");
    let out = Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 1024; exec \"$0\" read --json -o \"$1\" \"$2\"")
        .arg(env!("CARGO_BIN_EXE_wsnoop"))
        .arg(&path)
        .arg(capture("py_length_boundaries.pcap"))
        .output()
        .unwrap();
    let line = one_line(&out, 1);
    assert!(line.contains(&*path.to_string_lossy()), "{line}");
    let written = std::fs::read(&path).unwrap();
    assert!(written.len() <= 1024 * 512);
    assert!(whole_json_lines(&written) > 0);
}

#[test]
fn closed_pipe_is_a_normal_end() {
    let mut child = bin()
        .args(["read", "--json"])
        .arg(capture("py_length_boundaries.pcap"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    {
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut first).unwrap();
        // Dropping the pipe's read end: `| head -1`.
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert!(first.starts_with("{\"event\":\"open\""), "{first}");
}

#[test]
fn corrupt_record_mid_file() {
    let path = capture("adversarial/corrupt_record.pcap");
    let out = read(&[path.as_os_str()]);
    let line = one_line(&out, 1);
    assert!(line.contains("corrupt_record.pcap"), "{line}");
    assert!(line.contains("at byte "), "{line}");
    assert!(line.contains("record #36"), "{line}");
    // Everything before the fault is still written, in whole lines.
    assert_eq!(whole_json_lines(&out.stdout), 18);
}

#[test]
fn corrupt_input_on_stdin_is_named() {
    let mut child = bin()
        .args(["read", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"GET / HTTP/1.1\r\n\r\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let line = one_line(&out, 1);
    assert!(line.starts_with("wsnoop: standard input: "), "{line}");
}

/// A bad file among good ones: the good ones are decoded, the exit code still says 1.
#[test]
fn bad_file_among_good_ones() {
    let good = capture("py_basic_echo.pcap");
    let out = read(&[
        good.as_os_str(),
        Path::new("/nonexistent/x.pcap").as_os_str(),
        good.as_os_str(),
    ]);
    let line = one_line(&out, 1);
    assert!(line.contains("/nonexistent/x.pcap"), "{line}");
    let alone = read(&[good.as_os_str()]);
    assert_eq!(
        whole_json_lines(&out.stdout),
        2 * whole_json_lines(&alone.stdout)
    );
}

#[test]
fn usage_error_exits_2() {
    let out = bin()
        .args(["read", "--no-such-flag", "x.pcap"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--no-such-flag") && !err.contains("panicked"),
        "{err}"
    );
}

#[test]
fn thread_counts_out_of_range_are_usage_errors() {
    for n in ["0", "1025", "many"] {
        let out = bin()
            .args(["read", "--threads", n, "x.pcap"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--threads {n}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--threads"), "{err}");
    }
}

/// `live` and `tui -i` ask for the same missing feature the same way: a usage error.
#[test]
#[cfg(not(feature = "live"))]
fn live_capture_missing_from_this_build_is_a_usage_error() {
    for args in [&["live", "-i", "lo"][..], &["tui", "-i", "lo"]] {
        let out = bin().args(args).output().unwrap();
        let line = one_line(&out, 2);
        assert!(
            line.contains("live capture is not in this build"),
            "{args:?}: {line}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn bad_filters_are_usage_errors_naming_the_column() {
    for (filter, says) in [
        (
            "port8765",
            "wsnoop: --filter: column 1: unknown term 'port8765': did you mean port:8765?",
        ),
        (
            "hello or (bye",
            "wsnoop: --filter: column 10: unbalanced '('",
        ),
        (
            "hello and",
            "wsnoop: --filter: column 10: expected a term after 'and'",
        ),
        ("foo:bar", "wsnoop: --filter: column 1: unknown term 'foo:'"),
    ] {
        let out = read(&["--filter".as_ref(), filter.as_ref(), "x.pcap".as_ref()]);
        let line = one_line(&out, 2);
        assert!(line.starts_with(says), "{filter}: {line}");
        assert!(out.stdout.is_empty());
    }
}

/// `--format json` and `--json` write the same lines; `--format text` the readable ones.
#[test]
fn one_format_option_and_its_short_form() {
    let file = capture("py_basic_echo.pcap");
    let run = |args: &[&str]| {
        let out = bin().arg("read").arg(&file).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        out.stdout
    };
    let json = run(&["--json"]);
    assert_eq!(whole_json_lines(&json), 40);
    assert_eq!(run(&["--format", "json"]), json);
    let text = run(&[]);
    assert!(text.starts_with(b"2026-11-22T19:10:21.560666Z  #1   127.0.0.1:51564"));
    assert_eq!(run(&["--format", "text"]), text);
}

/// Only the selected connection's lines: its `open` (held until its first selected
/// message), the messages, its `end`; none of the other connections' `open`/`end`.
#[test]
fn a_filter_prints_only_the_connections_it_selects() {
    let file = capture("py_concurrent_clients.pcap");
    let out = read(&[
        "--filter".as_ref(),
        "\"client 4 msg 1:\" or (uri:client=1 and dir:c2s and len<45)".as_ref(),
        file.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = out
        .stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    let brief: Vec<String> = lines
        .iter()
        .map(|v| {
            let text = v["text"].as_str().unwrap_or_default();
            format!(
                "{} {} {} {}",
                v["event"].as_str().unwrap(),
                v["conn"],
                v["opcode"].as_str().unwrap_or("-"),
                text.split(':').next().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        brief,
        [
            "open 3 - ",
            "message 3 text client 4 msg 1",
            "message 3 text client 4 msg 1",
            "open 2 - ",
            "message 2 text client 1 msg 4",
            "message 2 text client 1 msg 9",
            "message 2 close ",
            "end 2 - ",
            "end 3 - ",
        ]
    );
}

/// `read` and `tui` word the same problem the same way, with the same exit code (the
/// README's table): each case's one stderr line, exactly.
#[test]
fn read_and_tui_share_wording_and_exit_codes() {
    let dir = scratch("shared");
    let notcap = dir.join("notes.txt");
    std::fs::write(&notcap, "hello, this is not a capture\n").unwrap();
    let notcap = notcap.to_string_lossy().into_owned();
    let dir_s = dir.to_string_lossy().into_owned();
    let cases: Vec<(Vec<&str>, String, i32)> = vec![
        (
            vec!["/nonexistent/wsnoop/none.pcap"],
            "wsnoop: /nonexistent/wsnoop/none.pcap: no such file".into(),
            1,
        ),
        (
            vec![&dir_s],
            format!("wsnoop: {dir_s}: is a directory, not a capture file"),
            1,
        ),
        (
            vec![&notcap],
            format!("wsnoop: {notcap}: not a pcap or pcapng capture (at byte 0)"),
            1,
        ),
        // Standard input here is empty (and not a terminal).
        (
            vec!["-"],
            "wsnoop: standard input: not a pcap or pcapng capture (at byte 0)".into(),
            1,
        ),
        (
            vec!["--filter", "foo:bar", "x.pcap"],
            "wsnoop: --filter: column 1: unknown term 'foo:'".into(),
            2,
        ),
    ];
    for (args, want, code) in cases {
        for cmd in ["read", "tui"] {
            let out = bin()
                .arg(cmd)
                .args(&args)
                .stdin(Stdio::null())
                .output()
                .unwrap();
            let line = one_line(&out, code);
            assert!(line.starts_with(&want), "{cmd} {args:?}: {line}");
            assert!(out.stdout.is_empty(), "{cmd} {args:?}");
        }
    }
}

/// The argument parser's errors are usage errors in one line too, saying where help is.
#[test]
fn argument_errors_are_one_line_usage_errors_for_every_subcommand() {
    for (args, want) in [
        (
            &["read"][..],
            "wsnoop: the following required arguments were not provided: <FILE>...; \
             try 'wsnoop read --help'",
        ),
        (
            &["tui"],
            "wsnoop: the following required arguments were not provided: <FILE>; \
             try 'wsnoop tui --help'",
        ),
        (
            &["live"],
            "wsnoop: the following required arguments were not provided: --interface \
             <INTERFACE>; try 'wsnoop live --help'",
        ),
        (
            &["tui", "--keep-payload", "zz", "x.pcap"],
            "wsnoop: invalid value 'zz' for '--keep-payload <SIZE>': 'zz' is not a size \
             (e.g. 4096, 64K, 16M, 1G); try 'wsnoop tui --help'",
        ),
        (
            &["bogus"],
            "wsnoop: unrecognized subcommand 'bogus'; try 'wsnoop --help'",
        ),
    ] {
        let out = bin().args(args).output().unwrap();
        assert_eq!(one_line(&out, 2), want, "{args:?}");
        assert!(out.stdout.is_empty());
    }
    // `wsnoop` alone: the help itself, not squeezed into a line.
    let out = bin().output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\nUsage: wsnoop <COMMAND>\n"), "{err}");
    assert!(err.contains("\n  tui "), "{err}");
}
