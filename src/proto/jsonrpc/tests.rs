//! JSON-RPC 2.0: the examples of §7 of the specification, and the Chrome DevTools Protocol.

use serde_json::json;

use crate::event::Dir;
use crate::proto::testutil::{Session, fields};
use crate::proto::{ProtoName, Unit};

fn kinds(units: &[Unit]) -> Vec<&str> {
    units.iter().map(|u| u.kind.as_str()).collect()
}

#[test]
fn examples_of_the_specification() {
    let mut s = Session::new(ProtoName::JsonRpc);
    let r = s.text(
        Dir::C2s,
        r#"{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}"#,
    );
    assert_eq!(
        fields(&r[0]),
        json!({"method": "subtract", "id": 1, "params": [42, 23]})
    );
    assert_eq!(r[0].summary, "request subtract #1 [42,23]");
    let a = s.text(Dir::S2c, r#"{"jsonrpc": "2.0", "result": 19, "id": 1}"#);
    assert_eq!(
        fields(&a[0]),
        json!({"id": 1, "result": 19, "method_answered": "subtract"})
    );
    assert_eq!(a[0].reply_to, Some(r[0].ts));
    assert_eq!(a[0].latency_us, Some(1_000_000));
    let n = s.text(
        Dir::C2s,
        r#"{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}"#,
    );
    assert_eq!(n[0].kind, "notification");
    let r = s.text(
        Dir::C2s,
        r#"{"jsonrpc": "2.0", "method": "foobar", "id": "1"}"#,
    );
    let e = s.text(Dir::S2c, r#"{"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"}"#);
    assert_eq!(e[0].kind, "error");
    assert_eq!(e[0].summary, "error #1 -32601 Method not found");
    assert_eq!(e[0].reply_to, Some(r[0].ts));
    // rpc call with invalid JSON; the Parse error's null id answers nothing.
    let bad = s.text(
        Dir::C2s,
        r#"{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]"#,
    );
    assert_eq!(kinds(&bad), ["invalid"]);
    assert!(
        bad[0]
            .anomaly
            .as_ref()
            .unwrap()
            .detail
            .starts_with("jsonrpc c2s message 4: not JSON")
    );
    let pe = s.text(
        Dir::S2c,
        r#"{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}"#,
    );
    assert_eq!(pe[0].reply_to, None);
    // rpc call with invalid Request object.
    let bad = s.text(
        Dir::C2s,
        r#"{"jsonrpc": "2.0", "method": 1, "params": "bar"}"#,
    );
    assert_eq!(kinds(&bad), ["invalid"]);
    // rpc call with an empty Array, and with an invalid Batch.
    assert_eq!(kinds(&s.text(Dir::C2s, "[]")), ["invalid"]);
    let three = s.text(Dir::C2s, "[1,2,3]");
    assert_eq!(kinds(&three), ["invalid"; 3]);
    assert_eq!(three[2].fields["batch"], json!({"size": 3, "index": 2}));
}

#[test]
fn a_batch_answered_out_of_order() {
    let mut s = Session::new(ProtoName::JsonRpc);
    let req = s.text(
        Dir::C2s,
        r#"[
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
    ]"#,
    );
    assert_eq!(
        kinds(&req),
        ["request", "notification", "request", "invalid", "request"]
    );
    let resp = s.text(
        Dir::S2c,
        r#"[
        {"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"},
        {"jsonrpc": "2.0", "result": 7, "id": "1"},
        {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
        {"jsonrpc": "2.0", "result": 19, "id": "2"}
    ]"#,
    );
    assert_eq!(
        resp.iter().map(|u| u.reply_to).collect::<Vec<_>>(),
        [Some(req[4].ts), Some(req[0].ts), None, Some(req[2].ts)]
    );
    assert_eq!(resp[0].fields["method_answered"], "get_data");
    assert!(s.conn.finish().is_empty());
}

#[test]
fn ids_repeat_across_directions() {
    let mut s = Session::new(ProtoName::JsonRpc);
    let c = s.text(Dir::C2s, r#"{"jsonrpc":"2.0","method":"a","id":1}"#);
    let srv = s.text(Dir::S2c, r#"{"jsonrpc":"2.0","method":"b","id":1}"#);
    let to_srv = s.text(Dir::C2s, r#"{"jsonrpc":"2.0","result":"for b","id":1}"#);
    let to_c = s.text(Dir::S2c, r#"{"jsonrpc":"2.0","result":"for a","id":1}"#);
    assert_eq!(to_srv[0].reply_to, Some(srv[0].ts));
    assert_eq!(to_c[0].reply_to, Some(c[0].ts));
    assert_eq!(to_srv[0].fields["method_answered"], "b");
}

#[test]
fn chrome_devtools_protocol() {
    let mut s = Session::new(ProtoName::JsonRpc);
    let r = s.text(
        Dir::C2s,
        r#"{"id":1,"method":"Target.attachToTarget","params":{"targetId":"T1","flatten":true}}"#,
    );
    let a = s.text(Dir::S2c, r#"{"id":1,"result":{"sessionId":"S1"}}"#);
    assert_eq!(a[0].reply_to, Some(r[0].ts));
    let ev = s.text(
        Dir::S2c,
        r#"{"method":"Page.loadEventFired","params":{"timestamp":1.5},"sessionId":"S1"}"#,
    );
    assert_eq!(
        fields(&ev[0]),
        json!({"method": "Page.loadEventFired", "params": {"timestamp": 1.5}, "session_id": "S1"})
    );
    assert_eq!(ev[0].anomaly, None);
    let wrong = s.text(Dir::C2s, r#"{"jsonrpc":"1.0","method":"x","id":2}"#);
    assert!(wrong[0].anomaly.is_some());
    let left = s.conn.finish();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, json!(2));
}
