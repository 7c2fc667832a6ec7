//! SignalR JSON hub protocol: the examples of HubProtocol.md, records split and packed.

use serde_json::json;

use crate::event::{Dir, Opcode};
use crate::proto::testutil::{Session, fields};
use crate::proto::{ProtoName, Unit};

fn kinds(units: &[Unit]) -> Vec<&str> {
    units.iter().map(|u| u.kind.as_str()).collect()
}

#[test]
fn examples_of_the_hub_protocol() {
    let mut s = Session::new(ProtoName::SignalR);
    let hs = s.text(Dir::C2s, "{\"protocol\":\"json\",\"version\":1}\u{1e}");
    assert_eq!(fields(&hs[0]), json!({"protocol": "json", "version": 1}));
    let ok = s.text(Dir::S2c, "{}\u{1e}");
    assert_eq!(
        (ok[0].kind.as_str(), ok[0].reply_to),
        ("HandshakeResponse", Some(hs[0].ts))
    );
    // HubProtocol.md "Invocation Message Encoding" and "Completion Message Encoding".
    let inv = s.text(
        Dir::C2s,
        "{\"type\":1,\"invocationId\":\"123\",\"target\":\"Send\",\"arguments\":[42,\"Test Message\"]}\u{1e}",
    );
    assert_eq!(
        fields(&inv[0]),
        json!({"invocation_id": "123", "target": "Send", "arguments": [42, "Test Message"]})
    );
    assert_eq!(inv[0].summary, "Invocation Send #123 [42,\"Test Message\"]");
    let done = s.text(
        Dir::S2c,
        "{\"type\":3,\"invocationId\":\"123\",\"result\":42}\u{1e}",
    );
    assert_eq!(done[0].reply_to, Some(inv[0].ts));
    assert_eq!(
        fields(&done[0]),
        json!({"invocation_id": "123", "result": 42})
    );
    // A non-blocking invocation waits for nothing.
    s.text(
        Dir::C2s,
        "{\"type\":1,\"target\":\"Send\",\"arguments\":[42]}\u{1e}",
    );
    // Streaming: items answer their invocation and leave it waiting; Completion ends it.
    let si = s.text(
        Dir::C2s,
        "{\"type\":4,\"invocationId\":\"5\",\"target\":\"Count\",\"arguments\":[3]}\u{1e}",
    );
    let items = s.text(
        Dir::S2c,
        "{\"type\":2,\"invocationId\":\"5\",\"item\":0}\u{1e}{\"type\":2,\"invocationId\":\"5\",\"item\":1}\u{1e}{\"type\":3,\"invocationId\":\"5\"}\u{1e}",
    );
    assert_eq!(kinds(&items), ["StreamItem", "StreamItem", "Completion"]);
    assert!(items.iter().all(|u| u.reply_to == Some(si[0].ts)));
    let cancel_me = s.text(
        Dir::C2s,
        "{\"type\":4,\"invocationId\":\"6\",\"target\":\"Ticks\",\"arguments\":[]}\u{1e}",
    );
    let cancel = s.text(Dir::C2s, "{\"type\":5,\"invocationId\":\"6\"}\u{1e}");
    assert_eq!(cancel[0].reply_to, Some(cancel_me[0].ts));
    // An upload stream: its items go the same way as the invocation that announced it.
    let up = s.text(
        Dir::C2s,
        "{\"type\":1,\"invocationId\":\"9\",\"target\":\"Upload\",\"arguments\":[],\"streamIds\":[\"8\"]}\u{1e}",
    );
    let item = s.text(
        Dir::C2s,
        "{\"type\":2,\"invocationId\":\"8\",\"item\":\"a\"}\u{1e}",
    );
    let end = s.text(Dir::C2s, "{\"type\":3,\"invocationId\":\"8\"}\u{1e}");
    assert_eq!(
        (item[0].reply_to, end[0].reply_to),
        (Some(up[0].ts), Some(up[0].ts))
    );
    let res = s.text(
        Dir::S2c,
        "{\"type\":3,\"invocationId\":\"9\",\"result\":1}\u{1e}",
    );
    assert_eq!(res[0].reply_to, Some(up[0].ts));
    let ping = s.text(Dir::S2c, "{\"type\":6}\u{1e}");
    assert_eq!(ping[0].summary, "Ping");
    let close = s.text(
        Dir::S2c,
        "{\"type\":7,\"error\":\"Connection closed with an error.\",\"allowReconnect\":true}\u{1e}",
    );
    assert_eq!(
        fields(&close[0]),
        json!({"error": "Connection closed with an error.", "allow_reconnect": true})
    );
    assert!(s.conn.finish().is_empty());
}

#[test]
fn records_split_across_messages_and_bad_records() {
    let mut s = Session::new(ProtoName::SignalR);
    s.text(Dir::C2s, "{\"protocol\":\"json\",\"version\":1}\u{1e}");
    assert!(s.text(Dir::C2s, "{\"type\":1,\"target\":").is_empty());
    let u = s.text(Dir::C2s, "\"A\",\"arguments\":[]}\u{1e}{\"type\":6}\u{1e}");
    assert_eq!(kinds(&u), ["Invocation", "Ping"]);
    assert_eq!((u[0].messages, u[1].messages), (2, 1));
    let bad = s.feed(
        Dir::C2s,
        Opcode::Text,
        b"{\"type\":1,\x1e{\"type\":42}\x1e{\"type\":6}\x1e",
    );
    assert_eq!(kinds(&bad), ["invalid", "invalid", "Ping"]);
    assert!(bad[0].anomaly.as_ref().unwrap().detail.contains("not JSON"));
    assert!(
        bad[1]
            .anomaly
            .as_ref()
            .unwrap()
            .detail
            .contains("unknown message type 42")
    );
}

#[test]
fn a_connection_picked_up_after_its_handshake() {
    let mut s = Session::new(ProtoName::SignalR);
    let u = s.text(Dir::S2c, "{\"type\":6}\u{1e}");
    assert_eq!(kinds(&u), ["Ping"]);
}
