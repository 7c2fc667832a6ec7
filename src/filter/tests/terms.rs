//! Each term, against the shared sample (see `mod.rs`).

use super::*;
use crate::event::Dir;

#[test]
fn host_either_endpoint_ipv4_ipv6_networks() {
    assert_eq!(keep("host:10.0.0.2"), vec![0, 1, 4, 5]);
    assert_eq!(keep("host:10.0.0.1"), vec![0, 1]);
    assert_eq!(keep("host:10.0.0.0/8"), vec![0, 1, 4, 5, 9]);
    assert_eq!(keep("host:10.0.0.0/24"), vec![0, 1, 4, 5]);
    // Host bits in a network are ignored.
    assert_eq!(keep("host:10.0.0.77/24"), vec![0, 1, 4, 5]);
    assert_eq!(keep("host:0.0.0.0/0"), vec![0, 1, 4, 5, 9]);
    assert_eq!(keep("host:2001:db8::2"), vec![2, 3]);
    assert_eq!(keep("host:[2001:db8::1]"), vec![2, 3]);
    assert_eq!(keep("host:2001:db8::/32"), vec![2, 3]);
    assert_eq!(keep("host:2001:db9::/32"), NONE.to_vec());
    // IPv4 is IPv4-mapped IPv6: all of IPv6 holds it too.
    assert_eq!(keep("host:::/0"), vec![0, 1, 2, 3, 4, 5, 9]);
    assert_eq!(keep("host:::ffff:0:0/96"), vec![0, 1, 4, 5, 9]);
    // IPv4-mapped addresses are their IPv4 address, written either way.
    assert_eq!(keep("host:10.1.2.3"), vec![9]);
    assert_eq!(keep("host:::ffff:10.1.2.3"), vec![9]);
    assert_eq!(keep("host:192.168.1.7 or host:10.9.9.9"), vec![4, 5, 9]);
}

#[test]
fn port_either_endpoint() {
    assert_eq!(keep("port:8765"), vec![0, 1]);
    assert_eq!(keep("port:5000"), vec![0, 1]);
    assert_eq!(keep("port:443"), vec![2, 3]);
    assert_eq!(keep("port:80 or port:8080"), vec![4, 5, 9]);
    assert_eq!(keep("port:1"), NONE.to_vec());
}

#[test]
fn client_and_server_sides() {
    assert_eq!(keep("client:10.0.0.1"), vec![0, 1]);
    assert_eq!(keep("client:10.0.0.1:5000"), vec![0, 1]);
    assert_eq!(keep("client:10.0.0.1:5001"), NONE.to_vec());
    assert_eq!(keep("client:10.0.0.2"), NONE.to_vec());
    assert_eq!(keep("server:10.0.0.2"), vec![0, 1, 4, 5]);
    assert_eq!(keep("server:10.0.0.2:80"), vec![4, 5]);
    assert_eq!(keep("client:192.168.0.0/16"), vec![4, 5]);
    assert_eq!(keep("client:[2001:db8::1]:6000"), vec![2, 3]);
    assert_eq!(keep("client:2001:db8::1"), vec![2, 3]);
    assert_eq!(keep("server:[2001:db8::2]"), vec![2, 3]);
    assert_eq!(keep("server:[::ffff:10.9.9.9]:8080"), vec![9]);
    assert_eq!(keep("server:10.9.9.9:8080"), vec![9]);
}

#[test]
fn uri_substring_and_regex() {
    // Case-insensitive.
    assert_eq!(keep("uri:chat"), vec![0, 1]);
    assert_eq!(keep("uri:/CHAT?ROOM=1"), vec![0, 1]);
    assert_eq!(keep("uri:stream"), vec![9]);
    assert_eq!(keep("uri:re:^/(feed|api)"), vec![2, 3, 9]);
    assert_eq!(keep("uri:re:(?-i)^/chat"), NONE.to_vec());
    assert_eq!(keep("uri:re:(?-i)^/Chat"), vec![0, 1]);
    // No URI known (picked up mid-stream): no uri: term holds.
    assert_eq!(keep("uri:/"), vec![0, 1, 2, 3, 9]);
    assert_eq!(keep("not uri:/"), vec![4, 5]);
}

#[test]
fn conn_numbers_and_ranges() {
    assert_eq!(keep("conn:2"), vec![2, 3]);
    assert_eq!(keep("conn:7"), vec![9]);
    assert_eq!(keep("conn:1-3"), vec![0, 1, 2, 3, 4, 5]);
    assert_eq!(keep("conn:3-3"), vec![4, 5]);
    assert_eq!(keep("conn:4-100"), vec![9]);
    assert_eq!(keep("conn:0"), NONE.to_vec());
    assert_eq!(keep("not conn:1-2"), vec![4, 5, 9]);
}

#[test]
fn http2_stream() {
    assert_eq!(keep("stream:3"), vec![2, 3]);
    assert_eq!(keep("stream:1"), NONE.to_vec());
    assert_eq!(keep("not stream:3"), vec![0, 1, 4, 5, 9]);
}

#[test]
fn direction_and_opcodes_any_case() {
    assert_eq!(keep("dir:c2s"), vec![0, 2, 5, 9]);
    assert_eq!(keep("dir:S2C"), vec![1, 3, 4]);
    assert_eq!(keep("op:TEXT"), vec![0, 1, 9]);
    assert_eq!(keep("op:continuation"), NONE.to_vec());
    assert_eq!(keep("op:reserved"), vec![5]);
    assert_eq!(keep("op:close or op:ping"), vec![3, 4]);
}

#[test]
fn every_length_comparison() {
    // Lengths: 16, 10, 4, 0, 5, 1, -, -, -, 7.
    assert_eq!(keep("len>5"), vec![0, 1, 9]);
    assert_eq!(keep("len>=5"), vec![0, 1, 4, 9]);
    assert_eq!(keep("len<4"), vec![3, 5]);
    assert_eq!(keep("len<=4"), vec![2, 3, 5]);
    assert_eq!(keep("len=4"), vec![2]);
    assert_eq!(keep("len==4"), vec![2]);
    assert_eq!(keep("len!=4"), vec![0, 1, 3, 4, 5, 9]);
    assert_eq!(keep("len<1k"), ALL_MESSAGES.to_vec());
    assert_eq!(keep("len>=1M"), NONE.to_vec());
    assert_eq!(keep("LEN>5"), vec![0, 1, 9]);
}

#[test]
fn text_folds_case_beyond_ascii() {
    let f = Filter::parse("ÉTÉ").unwrap();
    let s = message(
        1,
        Dir::C2s,
        crate::event::Opcode::Text,
        "un été chaud".as_bytes(),
    );
    assert!(f.matches(&s));
    let f = Filter::parse("\"ÉTÉ CHAUD\"").unwrap();
    assert!(f.matches(&s));
}

#[test]
fn regex_case_insensitive_unless_opted_out() {
    assert_eq!(keep("re:HELLO"), vec![0, 1]);
    assert_eq!(keep("re:(?-i)HELLO"), NONE.to_vec());
    assert_eq!(keep("re:(?-i)Hello"), vec![0]);
    assert_eq!(keep("/^HELLO/"), vec![1]);
    assert_eq!(keep("/(?-i)^HELLO/"), NONE.to_vec());
    // Plain text is case-insensitive too, and literal.
    assert_eq!(keep("HELLO"), vec![0, 1]);
    assert_eq!(keep("h.llo"), NONE.to_vec());
}

#[test]
fn anomaly_kinds_and_prefixes() {
    assert_eq!(keep("anomaly"), vec![6, 7, 8]);
    assert_eq!(keep("anomaly:tcp_gap"), vec![6]);
    assert_eq!(keep("anomaly:tcp_*"), vec![6]);
    assert_eq!(keep("anomaly:tls_no_keys"), vec![8]);
    assert_eq!(keep("anomaly:corrupt_capture"), vec![7]);
    assert_eq!(keep("anomaly:*"), vec![6, 7, 8]);
    // Kinds are an open set: a well-formed unknown kind is accepted and matches nothing.
    assert_eq!(keep("anomaly:not_a_kind_yet"), NONE.to_vec());
}

#[test]
fn anomalies_only_when_a_positive_anomaly_term_asks() {
    // Text in the detail alone does not select an anomaly.
    assert_eq!(keep("lost"), NONE.to_vec());
    assert_eq!(keep("anomaly lost"), vec![6]);
    assert_eq!(keep("anomaly gap"), vec![6]);
    assert_eq!(keep("anomaly or hello"), vec![0, 1, 6, 7, 8]);
    assert_eq!(keep("not anomaly"), ALL_MESSAGES.to_vec());
    assert_eq!(keep("not not anomaly"), vec![6, 7, 8]);
    assert_eq!(keep("not (not anomaly and not hello)"), vec![0, 1, 6, 7, 8]);
    assert_eq!(keep("anomaly op:text"), NONE.to_vec());
    assert_eq!(keep("anomaly len>0"), NONE.to_vec());
    // Connection terms on anomalies: no number for 7 and 8.
    assert_eq!(keep("anomaly conn:3"), vec![6]);
    assert_eq!(keep("anomaly not conn:3"), vec![7, 8]);
    assert_eq!(keep("conn:3 or anomaly"), vec![4, 5, 6, 7, 8]);
    // An anomaly about a transport connection has its endpoints.
    assert_eq!(keep("anomaly host:172.16.0.1"), vec![8]);
    assert_eq!(keep("anomaly port:443"), vec![8]);
    assert_eq!(keep("anomaly host:10.0.0.0/8"), vec![6]);
    assert_eq!(keep("port:443"), vec![2, 3]);
    assert_eq!(keep("anomaly dir:s2c"), vec![6]);
}

#[test]
fn filter_reports_whether_it_asks_for_anomalies() {
    let asks = |s: &str| Filter::parse(s).unwrap().wants_anomalies();
    assert!(asks("anomaly"));
    assert!(asks("hello or anomaly:tcp_gap"));
    assert!(asks("not not anomaly"));
    assert!(asks("not (hello and not anomaly)"));
    assert!(!asks("not anomaly"));
    assert!(!asks("hello"));
    assert!(!asks(""));
}
