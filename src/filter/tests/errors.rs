//! Every error names its column and what was expected; none falls back to a text search.

use super::*;

#[test]
fn unknown_terms() {
    assert_eq!(err_at("port8765", "did you mean port:8765?"), 1);
    assert_eq!(err_at("hello conn3", "did you mean conn:3?"), 7);
    assert_eq!(err_at("len5", "did you mean len=5?"), 1);
    assert_eq!(err_at("foo:bar", "unknown term 'foo:'"), 1);
    assert_eq!(err_at("foo:bar", "quote it: \"foo:bar\""), 1);
    assert_eq!(err_at("hello foo:bar", "terms: host: port:"), 7);
    assert_eq!(err_at("http://x", "unknown term 'http:'"), 1);
    assert_eq!(err_at(":x", "unknown term ':'"), 1);
    assert_eq!(err_at("x=1", "unknown term 'x' in a comparison"), 1);
    assert_eq!(err_at("a b size>=3", "unknown term 'size'"), 5);
    assert_eq!(err_at("a | b", "'|' is not an operator"), 3);
    assert_eq!(err_at("a & b", "'&' is not an operator"), 3);
}

#[test]
fn a_terms_name_alone_or_in_the_wrong_form() {
    assert_eq!(err_at("port", "expected port:N"), 1);
    assert_eq!(err_at("port", "quote it: \"port\""), 1);
    assert_eq!(err_at("x host", "expected host:ADDR"), 3);
    assert_eq!(err_at("len", "expected a comparison"), 1);
    assert_eq!(err_at("len:5", "len:5: expected a comparison"), 1);
    assert_eq!(err_at("port>5", "expected port:N"), 1);
    assert_eq!(err_at("anomaly>3", "expected anomaly or anomaly:KIND"), 1);
    assert_eq!(err_at("re", "expected re:REGEX"), 1);
}

#[test]
fn bad_values_point_at_the_value() {
    assert_eq!(err_at("port:http", "port: 'http' is not a port number"), 6);
    assert_eq!(err_at("port:70000", "not a port number"), 6);
    assert_eq!(err_at("port:", "expected a value"), 6);
    assert_eq!(err_at("host:10.0.0.300", "not an IP address or network"), 6);
    assert_eq!(
        err_at("host:10.0.0.0/33", "not an IP address or network"),
        6
    );
    assert_eq!(err_at("host:::1/129", "not an IP address or network"), 6);
    assert_eq!(err_at("host:example.com", "not an IP address"), 6);
    assert_eq!(err_at("client:10.0.0.1:99999", "not an endpoint"), 8);
    assert_eq!(err_at("server:x", "not an endpoint"), 8);
    assert_eq!(err_at("conn:7-3", "not a connection number or range"), 6);
    assert_eq!(err_at("conn:-3", "not a connection number or range"), 6);
    assert_eq!(err_at("stream:x", "not an HTTP/2 stream number"), 8);
    assert_eq!(err_at("dir:", "expected a value: dir:c2s or dir:s2c"), 5);
    assert_eq!(err_at("op:txt", "'txt' is not an opcode"), 4);
    assert_eq!(err_at("len=", "expected a value"), 5);
    assert_eq!(err_at("len>=4X", "'4X' is not a byte count"), 6);
    assert_eq!(err_at("len>-1", "not a byte count"), 5);
    assert_eq!(err_at("anomaly:TCP_GAP", "not an anomaly kind"), 9);
    assert_eq!(err_at("anomaly:", "not an anomaly kind"), 9);
    assert_eq!(err_at("uri:re:", "empty regex"), 5);
    assert_eq!(err_at("uri:re:(", "unclosed group"), 5);
    assert_eq!(err_at("re:(", "unclosed group"), 4);
    assert_eq!(err_at("a /(/", "unclosed group"), 3);
    assert_eq!(err_at("a //", "empty regex"), 3);
}

#[test]
fn unbalanced_parentheses() {
    assert_eq!(err_at("(hello", "unbalanced '('"), 1);
    assert_eq!(err_at("((hello)", "unbalanced '('"), 1);
    assert_eq!(err_at("(a (b) c", "expected a ')'"), 1);
    assert_eq!(err_at("a (b or (c)", "unbalanced '('"), 3);
    assert_eq!(err_at("hello)", "unbalanced ')'"), 6);
    assert_eq!(err_at("(hello or bye))", "unbalanced ')'"), 15);
    assert_eq!(err_at(")", "expected a term, found ')'"), 1);
}

#[test]
fn dangling_and_doubled_operators() {
    assert_eq!(
        err_at("hello and", "expected a term after 'and', found the end"),
        10
    );
    assert_eq!(err_at("hello or or bye", "after 'or', found 'or'"), 10);
    assert_eq!(err_at("and hello", "expected a term, found 'and'"), 1);
    assert_eq!(err_at("or", "found 'or'"), 1);
    assert_eq!(err_at("not", "after 'not', found the end"), 4);
    assert_eq!(err_at("hello !", "after '!', found the end"), 8);
    assert_eq!(err_at("()", "after '(', found ')'"), 2);
    assert_eq!(err_at("hello && || bye", "after '&&', found '||'"), 10);
    assert_eq!(err_at("(a or)", "after 'or', found ')'"), 6);
    assert_eq!(err_at("a ||", "found the end"), 5);
}

#[test]
fn quotes_and_regexes() {
    assert_eq!(err_at("\"open", "unclosed quote"), 1);
    assert_eq!(err_at("a \"open", "unclosed quote"), 3);
    assert_eq!(err_at("/open", "unclosed /regex/"), 1);
    assert_eq!(err_at("uri:\"/a b", "unclosed quote"), 5);
    assert_eq!(err_at("\"abc\"def", "after \"abc\""), 6);
    assert_eq!(
        err_at("/api/v1", "expected a space, ')' or the end after /api/"),
        6
    );
    assert_eq!(err_at("uri:\"x\"y", "expected a space"), 8);
}

#[test]
fn columns_count_characters_not_bytes() {
    assert_eq!(err_at("\"été\" foo:bar", "unknown term"), 7);
    assert_eq!(err_at("ééé or", "found the end"), 7);
}

#[test]
fn limits() {
    let deep = format!("{}x{}", "(".repeat(100), ")".repeat(100));
    assert_eq!(err_at(&deep, "nested too deep"), 65);
    let nots = format!("{}x", "!".repeat(100));
    assert_eq!(err_at(&nots, "nested too deep"), 65);
    assert!(Filter::parse(&format!("{}x{}", "(".repeat(64), ")".repeat(64))).is_ok());
    let conns: Vec<String> = (1..=32).map(|i| format!("conn:{i}")).collect();
    let src = conns.join(" or ");
    let col = src.find("conn:32").unwrap() + 1;
    assert_eq!(err_at(&src, "too many conn: terms"), col);
    assert!(Filter::parse(&conns[..31].join(" or ")).is_ok());
}

#[test]
fn display_names_the_column() {
    assert_eq!(
        err("hello and").to_string(),
        "column 10: expected a term after 'and', found the end (a term: text, \"quoted \
         text\", /regex/ or e.g. port:443)"
    );
}
