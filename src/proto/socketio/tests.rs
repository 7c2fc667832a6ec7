//! Engine.IO / Socket.IO: the sample sessions of the protocol documents, binary attachments,
//! Engine.IO 3's prefixed binary messages.

use serde_json::json;

use crate::event::{Dir, Opcode};
use crate::proto::testutil::{Session, fields};
use crate::proto::{ProtoConfig, ProtoName};

#[test]
fn a_session_of_the_protocol_documents() {
    let mut s = Session::new(ProtoName::SocketIo);
    // engine.io-protocol v4 "Sample session" over WebSocket.
    let open = s.text(Dir::S2c, r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":25000,"pingTimeout":5000,"maxPayload":1000000}"#);
    assert_eq!((open[0].proto, open[0].kind.as_str()), ("engineio", "open"));
    assert_eq!(open[0].fields["data"]["pingInterval"], 25000);
    assert_eq!(
        open[0].summary,
        "open sid lv_VI97HAXpY6yYWAAAC pingInterval 25000 pingTimeout 5000"
    );
    // socket.io-protocol v5: CONNECT to /admin, answered with the socket's sid.
    let c = s.text(Dir::C2s, "40/admin,");
    let ok = s.text(Dir::S2c, r#"40/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#);
    assert_eq!(ok[0].reply_to, Some(c[0].ts));
    assert_eq!(
        fields(&ok[0]),
        json!({"namespace": "/admin", "data": {"sid": "oSO0OpakMV_3jnilAAAA"}})
    );
    // An event with an ack, answered.
    let e = s.text(Dir::C2s, r#"42/admin,456["project:delete",123]"#);
    assert_eq!(
        fields(&e[0]),
        json!({"namespace": "/admin", "event_name": "project:delete", "ack_id": 456, "args": [123]})
    );
    assert_eq!(e[0].summary, "EVENT /admin project:delete ack #456 [123]");
    // An ack in another namespace answers nothing; the right one answers the event.
    assert_eq!(s.text(Dir::S2c, "43456[]")[0].reply_to, None);
    let a = s.text(Dir::S2c, "43/admin,456[]");
    assert_eq!(a[0].reply_to, Some(e[0].ts));
    // Heart-beat: the server pings, the client pongs.
    let ping = s.text(Dir::S2c, "2");
    let pong = s.text(Dir::C2s, "3");
    assert_eq!(pong[0].reply_to, Some(ping[0].ts));
    assert_eq!((pong[0].proto, pong[0].kind.as_str()), ("engineio", "pong"));
    let d = s.text(Dir::S2c, "41/admin,");
    assert_eq!(fields(&d[0]), json!({"namespace": "/admin", "data": null}));
    assert!(s.conn.finish().is_empty());
}

#[test]
fn binary_attachments_are_folded_into_their_packet() {
    let mut s = Session::new(ProtoName::SocketIo);
    let head = s.text(
        Dir::C2s,
        r#"452-0["upload",{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1}}]"#,
    );
    assert!(head.is_empty());
    assert!(s.feed(Dir::C2s, Opcode::Binary, &[1, 2, 3]).is_empty());
    let u = s.feed(Dir::C2s, Opcode::Binary, &[4]);
    assert_eq!(u.len(), 1);
    assert_eq!((u[0].kind.as_str(), u[0].messages), ("BINARY_EVENT", 3));
    assert_eq!(
        fields(&u[0]),
        json!({"namespace": "/", "event_name": "upload", "ack_id": 0,
               "args": [{"$binary_b64": "AQID"}, {"x": {"$binary_b64": "BA=="}}], "attachments": 2})
    );
    let ack = s.text(Dir::S2c, r#"461-0[{"_placeholder":true,"num":0}]"#);
    assert!(ack.is_empty());
    let ack = s.feed(Dir::S2c, Opcode::Binary, b"ok");
    assert_eq!(ack[0].kind, "BINARY_ACK");
    assert_eq!(ack[0].reply_to, Some(u[0].ts));
    // A text message before the last attachment: the packet is shown with what came.
    s.text(Dir::C2s, r#"451-["a",{"_placeholder":true,"num":0}]"#);
    let units = s.text(Dir::C2s, "3");
    assert_eq!(units.len(), 2);
    assert!(
        units[0]
            .anomaly
            .as_ref()
            .unwrap()
            .detail
            .contains("0 of 1 attachments")
    );
    assert_eq!(units[1].kind, "pong");
    // A binary message nobody announced is Engine.IO binary data.
    let b = s.feed(Dir::S2c, Opcode::Binary, &[9, 9]);
    assert_eq!((b[0].proto, b[0].kind.as_str()), ("engineio", "message"));
    assert_eq!(b[0].fields["data_b64"], "CQk=");
}

#[test]
fn engine_io_3_prefixes_binary_messages() {
    let mut s = crate::proto::testutil::Session {
        conn: crate::proto::ProtoConn::new(
            &crate::proto::ProtoHints {
                subprotocol: None,
                uri: Some("/socket.io/?EIO=3&transport=websocket"),
            },
            crate::proto::ProtoChoice::Auto,
            ProtoConfig::default(),
        )
        .unwrap(),
        t: 0,
    };
    assert_eq!(s.conn.name(), Some(ProtoName::SocketIo));
    s.text(Dir::S2c, r#"451-["file",{"_placeholder":true,"num":0}]"#);
    let u = s.feed(Dir::S2c, Opcode::Binary, &[4, 0xAA]);
    assert_eq!(u[0].fields["args"], json!([{"$binary_b64": "qg=="}]));
}

#[test]
fn malformed_packets() {
    let mut s = Session::new(ProtoName::SocketIo);
    let u = s.text(Dir::C2s, "9oops");
    assert_eq!((u[0].proto, u[0].kind.as_str()), ("engineio", "invalid"));
    assert!(u[0].anomaly.is_some());
    let u = s.text(Dir::C2s, "42[\"cut");
    assert_eq!((u[0].proto, u[0].kind.as_str()), ("engineio", "message"));
    assert!(u[0].anomaly.as_ref().unwrap().detail.contains("not JSON"));
    // Plain Engine.IO data (no Socket.IO on top) is no error.
    let u = s.text(Dir::C2s, "4hello");
    assert_eq!(
        (u[0].kind.as_str(), u[0].anomaly.is_none()),
        ("message", true)
    );
    assert_eq!(u[0].fields["data"], "hello");
}
