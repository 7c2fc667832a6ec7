//! The tests of the first filter (terms side by side, `!term`), in the new grammar. Changed:
//! errors now name a column and say what was expected; a word with a colon that is not a
//! term (`http://x`) and a term name alone (`len`) are errors instead of text; the old
//! `matches_event` tests for `read` became the `Selection` tests (`selection.rs`).

use crate::event::{AnomalyKind, Dir, Opcode};
use crate::filter::{Filter, Item, Subject};

fn msg<'a>(conn: u64, dir: Dir, opcode: Opcode, payload: &'a [u8]) -> Subject<'a> {
    Subject {
        conn: Some(conn),
        transport: None,
        uri: None,
        dir: Some(dir),
        item: Item::Message {
            opcode,
            len: payload.len() as u64,
            payload,
        },
    }
}

fn anomaly(conn: u64, kind: AnomalyKind, detail: &str) -> Subject<'_> {
    Subject {
        conn: Some(conn),
        transport: None,
        uri: None,
        dir: Some(Dir::S2c),
        item: Item::Anomaly { kind, detail },
    }
}

fn sample() -> Vec<Subject<'static>> {
    vec![
        msg(1, Dir::C2s, Opcode::Text, b"{\"type\":\"Hello\"}"),
        msg(1, Dir::S2c, Opcode::Text, b"hello back"),
        msg(2, Dir::C2s, Opcode::Binary, &[0, 1, 2, 0xff]),
        msg(2, Dir::S2c, Opcode::Ping, b""),
        msg(3, Dir::S2c, Opcode::Close, b"\x03\xe8bye"),
        msg(3, Dir::C2s, Opcode::Reserved(3), b"x"),
        anomaly(3, AnomalyKind::TcpGap, "12 bytes lost"),
    ]
}

/// Indices of the sample subjects the filter keeps.
fn keep(src: &str) -> Vec<usize> {
    let f = Filter::parse(src).unwrap();
    sample()
        .iter()
        .enumerate()
        .filter(|(_, s)| f.matches(s))
        .map(|(i, _)| i)
        .collect()
}

fn err(src: &str) -> String {
    Filter::parse(src).unwrap_err().to_string()
}

#[test]
fn empty_keeps_everything() {
    assert_eq!(keep(""), vec![0, 1, 2, 3, 4, 5, 6]);
    assert_eq!(keep("   "), vec![0, 1, 2, 3, 4, 5, 6]);
    assert!(Filter::parse("  ").unwrap().is_empty());
}

#[test]
fn plain_text_is_case_insensitive_substring() {
    assert_eq!(keep("hello"), vec![0, 1]);
    assert_eq!(keep("HELLO back"), vec![1]);
    assert_eq!(keep("\"hello back\""), vec![1]);
    assert_eq!(keep("bye"), vec![4]);
    assert_eq!(keep("nothing-like-this"), Vec::<usize>::new());
}

#[test]
fn text_is_literal_not_regex() {
    assert_eq!(keep("h.llo"), Vec::<usize>::new());
    assert_eq!(keep("{\"type\""), vec![0]);
}

#[test]
fn regex_forms() {
    assert_eq!(keep("re:^h.llo"), vec![1]);
    // Was case-sensitive; now case-insensitive like plain text, `(?-i)` opts out.
    assert_eq!(keep("/H[e]llo/"), vec![0, 1]);
    assert_eq!(keep("/(?-i)H[e]llo/"), vec![0]);
    assert_eq!(keep("/hello back/"), vec![1]);
    // Bytes regex: matches binary payloads too.
    assert_eq!(keep(r"re:(?-u)\xff"), vec![2]);
    assert_eq!(keep(r"/a\/b/"), Vec::<usize>::new());
}

#[test]
fn direction_opcode_connection() {
    assert_eq!(keep("dir:c2s"), vec![0, 2, 5]);
    assert_eq!(keep("dir:s2c"), vec![1, 3, 4]);
    assert_eq!(keep("op:text"), vec![0, 1]);
    assert_eq!(keep("op:binary"), vec![2]);
    assert_eq!(keep("op:ping"), vec![3]);
    assert_eq!(keep("op:pong"), Vec::<usize>::new());
    assert_eq!(keep("op:close"), vec![4]);
    assert_eq!(keep("op:reserved"), vec![5]);
    assert_eq!(keep("conn:2"), vec![2, 3]);
}

#[test]
fn lengths() {
    assert_eq!(keep("len>4"), vec![0, 1, 4]);
    assert_eq!(keep("len<1"), vec![3]);
    assert_eq!(keep("len=4"), vec![2]);
    assert_eq!(keep("len>=5"), vec![0, 1, 4]);
    assert_eq!(keep("len<=1"), vec![3, 5]);
    assert_eq!(keep("len<1K"), vec![0, 1, 2, 3, 4, 5]);
    assert_eq!(keep("len>1k"), Vec::<usize>::new());
}

#[test]
fn len_uses_the_full_length_not_the_kept_prefix() {
    let s = Subject {
        conn: Some(1),
        transport: None,
        uri: None,
        dir: Some(Dir::C2s),
        item: Item::Message {
            opcode: Opcode::Text,
            len: 5000,
            payload: b"abc",
        },
    };
    assert!(Filter::parse("len>4000 abc").unwrap().matches(&s));
}

#[test]
fn and_and_negation() {
    assert_eq!(keep("dir:c2s op:text"), vec![0]);
    assert_eq!(keep("!op:text"), vec![2, 3, 4, 5]);
    assert_eq!(keep("!hello dir:s2c"), vec![3, 4]);
    assert_eq!(keep("!\"hello back\" hello"), vec![0]);
    assert_eq!(keep("!/^h/ op:text"), vec![0]);
    assert_eq!(keep("!dir:c2s !dir:s2c"), Vec::<usize>::new());
}

#[test]
fn anomalies_only_when_asked_for() {
    assert_eq!(keep("anomaly"), vec![6]);
    assert_eq!(keep("anomaly conn:3"), vec![6]);
    assert_eq!(keep("anomaly:tcp_gap"), vec![6]);
    assert_eq!(keep("anomaly:tcp_conflict"), Vec::<usize>::new());
    assert_eq!(keep("anomaly lost"), vec![6]);
    assert_eq!(keep("anomaly gap"), vec![6]);
    assert_eq!(keep("anomaly op:text"), Vec::<usize>::new());
    assert_eq!(keep("!anomaly"), vec![0, 1, 2, 3, 4, 5]);
    // A text filter alone does not pull anomalies in.
    assert_eq!(keep("lost"), Vec::<usize>::new());
}

#[test]
fn text_with_a_colon_is_quoted() {
    // Was: unknown prefixes were plain text. Now a colon word must be a term.
    assert!(Filter::parse("http://x len").is_err());
    let f = Filter::parse("\"http://x\" \"len\"").unwrap();
    let s = msg(1, Dir::C2s, Opcode::Text, b"see HTTP://X/ for length");
    assert!(f.matches(&s));
}

#[test]
fn errors_are_one_clear_line() {
    assert_eq!(
        err("dir:up"),
        "column 5: dir: 'up' is not a direction: expected dir:c2s or dir:s2c"
    );
    assert_eq!(
        err("op:foo"),
        "column 4: op: 'foo' is not an opcode: expected op:text, binary, ping, pong, close, \
         continuation or reserved"
    );
    assert_eq!(
        err("conn:x"),
        "column 6: conn: 'x' is not a connection number or range: expected e.g. conn:3 or conn:3-7"
    );
    let bytes = "is not a byte count: expected e.g. len>1000 or len<4K (K, M, G: powers of 1024)";
    assert_eq!(err("len>lots"), format!("column 5: len: 'lots' {bytes}"));
    assert_eq!(
        err("len>"),
        "column 5: len: expected a value: len>1000, len<=4K"
    );
    assert_eq!(
        err("len>99999999999G"),
        format!("column 5: len: '99999999999G' {bytes}")
    );
    assert!(err("!").starts_with("column 2: expected a term after '!', found the end"));
    assert_eq!(
        err("\"open"),
        "column 1: unclosed quote: expected a closing \" before the end"
    );
    assert!(err("/open").starts_with("column 1: unclosed /regex/: expected a closing /"));
    assert_eq!(
        err("re:"),
        "column 4: re: empty regex: write re:PATTERN or /PATTERN/"
    );
    assert!(err("anomaly:Nope").starts_with("column 9: anomaly: 'Nope' is not an anomaly kind"));
    let e = err("re:(unclosed");
    assert!(!e.contains('\n'));
    assert_eq!(e, "column 4: re: regex /(unclosed/: unclosed group");
}
