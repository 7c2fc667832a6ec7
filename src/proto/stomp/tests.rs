//! STOMP: frames of the STOMP 1.2 specification, heart-beats, splitting, escapes, SockJS.

use serde_json::json;

use crate::event::{Dir, Opcode};
use crate::proto::testutil::{Session, fields};
use crate::proto::{ProtoChoice, ProtoConfig, ProtoConn, ProtoHints, ProtoName};

fn kinds(units: &[crate::proto::Unit]) -> Vec<&str> {
    units.iter().map(|u| u.kind.as_str()).collect()
}

#[test]
fn a_session_of_the_specification() {
    let mut s = Session::new(ProtoName::Stomp);
    // STOMP 1.2 §"CONNECT or STOMP Frame" and §"CONNECTED Frame".
    let c = s.text(
        Dir::C2s,
        "CONNECT\naccept-version:1.2\nhost:stomp.github.org\n\n\0",
    );
    assert_eq!(
        fields(&c[0]),
        json!({"command": "CONNECT", "headers": [["accept-version", "1.2"], ["host", "stomp.github.org"]],
               "body_b64": "", "body_text": ""})
    );
    let ok = s.text(Dir::S2c, "CONNECTED\nversion:1.2\n\n\0\n");
    assert_eq!(kinds(&ok), ["CONNECTED", "heartbeat"]);
    assert_eq!(ok[0].reply_to, Some(c[0].ts));
    assert_eq!(fields(&ok[1]), json!({"eol": "\n"}));
    // §"SEND" with a receipt, answered by §"RECEIPT".
    let send = s.text(
        Dir::C2s,
        "SEND\ndestination:/queue/a\nreceipt:message-12345\ncontent-type:text/plain\n\nhello queue a\0",
    );
    assert_eq!(send[0].summary, "SEND /queue/a receipt message-12345 13B");
    assert_eq!(send[0].fields["body_text"], "hello queue a");
    let r = s.text(Dir::S2c, "RECEIPT\nreceipt-id:message-12345\n\n\0");
    assert_eq!(r[0].reply_to, Some(send[0].ts));
    // §"MESSAGE".
    let m = s.text(
        Dir::S2c,
        "MESSAGE\nsubscription:0\nmessage-id:007\ndestination:/queue/a\ncontent-type:text/plain\n\nhello queue a\0",
    );
    assert_eq!(m[0].reply_to, None);
    // A DISCONNECT whose receipt never comes is left unanswered.
    s.text(Dir::C2s, "DISCONNECT\nreceipt:77\n\n\0");
    let left = s.conn.finish();
    assert_eq!(left.len(), 1);
    assert_eq!(
        (left[0].kind.as_str(), left[0].id.clone()),
        ("DISCONNECT", json!("77"))
    );
}

#[test]
fn heartbeats_split_frames_and_nul_bodies() {
    let mut s = Session::new(ProtoName::Stomp);
    let hb = s.feed(Dir::C2s, Opcode::Text, b"\n\r\n\n");
    assert_eq!(kinds(&hb), ["heartbeat"; 3]);
    assert_eq!(hb[1].fields["eol"], "\r\n");
    // A lone CR waits for its LF.
    assert!(s.feed(Dir::C2s, Opcode::Text, b"\r").is_empty());
    let lf = s.feed(Dir::C2s, Opcode::Text, b"\n");
    assert_eq!(
        (lf[0].fields["eol"].as_str(), lf[0].messages),
        (Some("\r\n"), 2)
    );
    // A frame in three messages, with a content-length body holding NULs.
    let frame = b"SEND\ndestination:/q\ncontent-length:5\n\na\0b\0c\0";
    assert!(s.feed(Dir::C2s, Opcode::Binary, &frame[..7]).is_empty());
    assert!(s.feed(Dir::C2s, Opcode::Binary, &frame[7..30]).is_empty());
    let u = s.feed(Dir::C2s, Opcode::Binary, &frame[30..]);
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].messages, 3);
    assert_eq!(u[0].fields["body_b64"], "YQBiAGM=");
    assert_eq!(u[0].fields["body_text"], "a\u{0}b\u{0}c");
}

#[test]
fn header_escapes_follow_the_version() {
    let mut s = Session::new(ProtoName::Stomp);
    let u = s.text(
        Dir::C2s,
        "SEND\ndestination:/q\nx-note:a\\cb\\\\c\\nsecond\n\n\0",
    );
    assert_eq!(
        u[0].fields["headers"][1],
        json!(["x-note", "a:b\\c\nsecond"])
    );
    assert_eq!(u[0].anomaly, None);
    let bad = s.text(Dir::C2s, "SEND\ndestination:/q\nx:\\t\n\n\0");
    assert!(
        bad[0]
            .anomaly
            .as_ref()
            .unwrap()
            .detail
            .contains("undefined escape \\t")
    );
    assert_eq!(bad[0].fields["headers"][1], json!(["x", "\\t"]));
    // CONNECT and CONNECTED are never unescaped.
    let c = s.text(Dir::C2s, "CONNECT\npasscode:a\\cb\n\n\0");
    assert_eq!(c[0].fields["headers"][0], json!(["passcode", "a\\cb"]));
    // STOMP 1.0 has no escapes.
    let mut old = ProtoConn::new(
        &ProtoHints {
            subprotocol: Some("v10.stomp"),
            uri: None,
        },
        ProtoChoice::Auto,
        ProtoConfig::default(),
    )
    .unwrap();
    let mut out = Vec::new();
    old.message(
        &crate::proto::MsgRef {
            dir: Dir::C2s,
            ts: Default::default(),
            opcode: Opcode::Text,
            payload: b"SEND\nx:a\\cb\n\n\0",
        },
        &mut out,
    );
    assert_eq!(out[0].fields["headers"][0], json!(["x", "a\\cb"]));
}

#[test]
fn sockjs_frames_are_peeled() {
    let mut s = Session::new(ProtoName::Stomp);
    assert!(s.text(Dir::S2c, "o").is_empty());
    let c = s.text(Dir::C2s, r#"["CONNECT\naccept-version:1.2\n\n\u0000"]"#);
    assert_eq!(kinds(&c), ["CONNECT"]);
    assert!(s.text(Dir::S2c, "h").is_empty());
    let m = s.text(
        Dir::S2c,
        r#"a["CONNECTED\nversion:1.2\n\n\u0000","MESSAGE\ndestination:/t\n\nhi\u0000"]"#,
    );
    assert_eq!(kinds(&m), ["CONNECTED", "MESSAGE"]);
    assert_eq!(m[1].fields["body_text"], "hi");
    let bad = s.text(Dir::S2c, "a[1");
    assert_eq!(kinds(&bad), ["invalid"]);
    assert!(bad[0].anomaly.is_some());
    assert!(s.text(Dir::S2c, r#"c[3000,"Go away!"]"#).is_empty());
}

#[test]
fn errors_answer_receipts_and_bad_frames_are_flagged() {
    let mut s = Session::new(ProtoName::Stomp);
    let send = s.text(Dir::C2s, "SEND\ndestination:/nope\nreceipt:r1\n\n\0");
    let e = s.text(Dir::S2c, "ERROR\nreceipt-id:r1\nmessage:malformed\n\nbad\0");
    assert_eq!(e[0].reply_to, Some(send[0].ts));
    let u = s.text(Dir::C2s, "FROB\nno colon here\n\n\0");
    assert_eq!(u[0].kind, "FROB");
    assert!(u[0].anomaly.is_some());
}

#[test]
fn a_frame_larger_than_the_bound_is_skipped() {
    let mut s = Session::with(
        ProtoName::Stomp,
        ProtoConfig {
            max_unit_bytes: 64,
            ..ProtoConfig::default()
        },
    );
    // Without content-length: skipped to its NUL.
    let big = format!("SEND\ndestination:/q\n\n{}", "x".repeat(100));
    let u = s.text(Dir::C2s, &big);
    assert_eq!(u[0].anomaly.as_ref().unwrap().kind.as_str(), "proto_limit");
    assert!(s.text(Dir::C2s, "yyyy").is_empty());
    let after = s.text(Dir::C2s, "zz\0\n");
    assert_eq!(kinds(&after), ["heartbeat"]);
    // With content-length: skipped by its length, NULs and all.
    let big = format!("SEND\ncontent-length:100\n\n{}", "\0".repeat(60));
    assert_eq!(s.text(Dir::C2s, &big).len(), 1);
    let rest = format!("{}\0SEND\n\n\0", "\0".repeat(40));
    assert_eq!(kinds(&s.text(Dir::C2s, &rest)), ["SEND"]);
}
