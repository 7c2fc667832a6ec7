//! GraphQL over WebSocket: graphql-transport-ws (graphql-ws's PROTOCOL.md) and the legacy
//! subscriptions-transport-ws messages.

use serde_json::json;

use crate::event::Dir;
use crate::proto::ProtoName;
use crate::proto::testutil::{Session, fields};

#[test]
fn graphql_transport_ws_session() {
    let mut s = Session::new(ProtoName::GraphqlWs);
    let init = s.text(
        Dir::C2s,
        r#"{"type":"connection_init","payload":{"token":"t"}}"#,
    );
    let ack = s.text(Dir::S2c, r#"{"type":"connection_ack"}"#);
    assert_eq!(ack[0].reply_to, Some(init[0].ts));
    let sub = s.text(
        Dir::C2s,
        r#"{"id":"1","type":"subscribe","payload":{"query":"subscription OnMsg($room: ID!) { messages(room: $room) { id text } }","variables":{"room":"a"}}}"#,
    );
    assert_eq!(sub[0].fields["operation_name"], "OnMsg");
    assert_eq!(sub[0].fields["operation_type"], "subscription");
    assert_eq!(sub[0].summary, "subscribe 1 subscription OnMsg");
    let n1 = s.text(
        Dir::S2c,
        r#"{"id":"1","type":"next","payload":{"data":{"messages":{"id":1}}}}"#,
    );
    let n2 = s.text(
        Dir::S2c,
        r#"{"id":"1","type":"next","payload":{"data":{"messages":{"id":2}}}}"#,
    );
    assert_eq!(
        (n1[0].reply_to, n2[0].reply_to),
        (Some(sub[0].ts), Some(sub[0].ts))
    );
    assert_eq!(
        fields(&n1[0]),
        json!({"id": "1", "payload": {"data": {"messages": {"id": 1}}}})
    );
    let done = s.text(Dir::S2c, r#"{"id":"1","type":"complete"}"#);
    assert_eq!(done[0].reply_to, Some(sub[0].ts));
    assert_eq!(
        s.text(Dir::S2c, r#"{"id":"1","type":"next","payload":{}}"#)[0].reply_to,
        None
    );
    // The client ends its own operation with complete.
    let q = s.text(
        Dir::C2s,
        r#"{"id":"2","type":"subscribe","payload":{"query":"{ hello }"}}"#,
    );
    assert_eq!(q[0].fields["operation_type"], "query");
    let cancel = s.text(Dir::C2s, r#"{"id":"2","type":"complete"}"#);
    assert_eq!(cancel[0].reply_to, Some(q[0].ts));
    let ping = s.text(Dir::S2c, r#"{"type":"ping"}"#);
    let pong = s.text(Dir::C2s, r#"{"type":"pong"}"#);
    assert_eq!(pong[0].reply_to, Some(ping[0].ts));
    assert!(s.conn.finish().is_empty());
}

#[test]
fn legacy_subscriptions_transport_ws() {
    let mut s = Session::new(ProtoName::GraphqlWs);
    s.text(Dir::C2s, r#"{"type":"connection_init","payload":{}}"#);
    s.text(Dir::S2c, r#"{"type":"connection_ack"}"#);
    let ka = s.text(Dir::S2c, r#"{"type":"ka"}"#);
    assert_eq!((ka[0].kind.as_str(), ka[0].anomaly.is_none()), ("ka", true));
    let start = s.text(
        Dir::C2s,
        r#"{"id":"7","type":"start","payload":{"query":"mutation A { a } query B { b }","operationName":"B"}}"#,
    );
    assert_eq!(start[0].fields["operation_type"], "query");
    assert_eq!(start[0].fields["operation_name"], "B");
    let data = s.text(
        Dir::S2c,
        r#"{"id":"7","type":"data","payload":{"data":{"b":1}}}"#,
    );
    assert_eq!(data[0].reply_to, Some(start[0].ts));
    let stop = s.text(Dir::C2s, r#"{"id":"7","type":"stop"}"#);
    assert_eq!(stop[0].reply_to, Some(start[0].ts));
}

#[test]
fn malformed_messages() {
    let mut s = Session::new(ProtoName::GraphqlWs);
    for bad in ["{", "[]", r#"{"id":"1"}"#] {
        let u = s.text(Dir::C2s, bad);
        assert_eq!(u[0].kind, "invalid");
        assert!(u[0].anomaly.is_some());
    }
    let u = s.text(Dir::C2s, r#"{"type":"frobnicate"}"#);
    assert_eq!(u[0].kind, "frobnicate");
    assert!(
        u[0].anomaly
            .as_ref()
            .unwrap()
            .detail
            .contains("unknown message type")
    );
    let u = s.text(Dir::C2s, r#"{"id":"1","type":"subscribe","payload":{}}"#);
    assert!(
        u[0].anomaly
            .as_ref()
            .unwrap()
            .detail
            .contains("without a query")
    );
}
