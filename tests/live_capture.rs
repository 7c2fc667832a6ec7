//! `wsnoop live` on `lo` against real peers: every message decoded exactly and promptly;
//! SIGTERM flushes everything, ends open connections and exits 0. Needs root: skipped with a
//! printed reason otherwise.
#![cfg(feature = "live")]

mod live_util;

use std::io::Write;
use std::net::TcpStream;

use serde_json::Value;
use tungstenite::Message;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::Frame;
use tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};

use live_util::{Deflater, describe, frame, is_event};

fn message_from(conn: u64, desc: &'static str) -> impl Fn(&Value) -> bool {
    move |v| is_event(v, "message") && v["conn"] == conn && describe(v) == desc
}

#[test]
fn messages_appear_promptly_and_sigterm_loses_nothing() {
    require_capture!();
    let port = live_util::free_port();
    let dport = live_util::free_port();
    let bpf = format!("tcp port {port} or tcp port {dport}");
    let Some(mut w) = live_util::start(&["-f", &bpf, "--json"]) else {
        return;
    };
    let server = live_util::echo_server(port, 1);
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_nodelay(true).unwrap();
    let (mut ws, _) = tungstenite::client(format!("ws://127.0.0.1:{port}/chat"), stream).unwrap();
    let open = w.wait_for("open", |v| is_event(v, "open"));
    assert_eq!(open["uri"], "/chat");
    assert_eq!(open["host"], format!("127.0.0.1:{port}"));
    assert_eq!(open["server"], format!("127.0.0.1:{port}"));
    let conn = open["conn"].as_u64().unwrap();

    // Text, echoed.
    ws.send(Message::Text("hello, wsnoop".into())).unwrap();
    assert_eq!(ws.read().unwrap(), Message::Text("hello, wsnoop".into()));
    w.wait_for("c2s text", message_from(conn, "c2s text \"hello, wsnoop\""));
    w.wait_for("s2c text", message_from(conn, "s2c text \"hello, wsnoop\""));

    // Binary, echoed.
    ws.send(Message::Binary(vec![0u8, 1, 2, 0xfe, 0xff].into()))
        .unwrap();
    assert!(ws.read().unwrap().is_binary());
    w.wait_for("c2s binary", message_from(conn, "c2s binary b64:AAEC/v8="));
    w.wait_for("s2c binary", message_from(conn, "s2c binary b64:AAEC/v8="));

    // Fragmented: three frames from the client; the echo comes back whole.
    let parts: [(&str, OpCode, bool); 3] = [
        ("frag", OpCode::Data(Data::Text), false),
        ("men", OpCode::Data(Data::Continue), false),
        ("ted ✓", OpCode::Data(Data::Continue), true),
    ];
    for (text, op, fin) in parts {
        ws.write(Message::Frame(Frame::message(
            text.as_bytes().to_vec(),
            op,
            fin,
        )))
        .unwrap();
        ws.flush().unwrap();
    }
    assert_eq!(ws.read().unwrap(), Message::Text("fragmented ✓".into()));
    w.wait_for(
        "fragmented c2s",
        message_from(conn, "c2s text \"fragmented ✓\" frames:3"),
    );
    w.wait_for("echo", message_from(conn, "s2c text \"fragmented ✓\""));

    // Compressed (permessage-deflate, written by hand), kept open until SIGTERM.
    let (mut dc, mut ds) = live_util::deflate_pair(dport);
    let dopen = w.wait_for("deflate open", |v| {
        is_event(v, "open") && v["uri"] == "/deflate"
    });
    let dconn = dopen["conn"].as_u64().unwrap();
    let mut c2s = Deflater::default();
    let mut s2c = Deflater::default();
    let mask = Some([0x12, 0x34, 0x56, 0x78]);
    dc.write_all(&frame(
        true,
        true,
        1,
        &c2s.message(b"compressed hello"),
        mask,
    ))
    .unwrap();
    // Context takeover: the second message refers back to the first.
    dc.write_all(&frame(
        true,
        true,
        1,
        &c2s.message(b"compressed hello again"),
        mask,
    ))
    .unwrap();
    ds.write_all(&frame(true, true, 2, &s2c.message(&[7u8; 100]), None))
        .unwrap();
    w.wait_for(
        "compressed c2s",
        message_from(dconn, "c2s text \"compressed hello\" compressed"),
    );
    w.wait_for(
        "compressed c2s again",
        message_from(dconn, "c2s text \"compressed hello again\" compressed"),
    );
    let b64 = format!("s2c binary b64:{} compressed", base64_of(&[7u8; 100]));
    let seven = w.wait_for("compressed s2c", |v| {
        is_event(v, "message") && v["conn"] == dconn && describe(v) == b64
    });
    assert_eq!(seven["len"], 100);
    assert!(seven["wire_len"].as_u64().unwrap() < 100);

    // Close handshake on the first connection.
    ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "bye".into(),
    }))
    .unwrap();
    while ws.read().is_ok() {}
    drop(ws);
    server.join().unwrap();
    w.wait_for(
        "client close",
        message_from(conn, "c2s close code:1000 reason:\"bye\""),
    );
    w.wait_for("server close", |v| {
        is_event(v, "message") && v["conn"] == conn && v["dir"] == "s2c" && v["opcode"] == "close"
    });
    w.wait_for("end of the first connection", |v| {
        is_event(v, "end") && v["conn"] == conn
    });

    // A last message right before SIGTERM must still come out, then the open connection's end.
    dc.write_all(&frame(true, true, 1, &c2s.message(b"last words"), mask))
        .unwrap();
    dc.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(100));
    let (status, all) = w.terminate();
    assert!(status.success(), "exit status {status}");
    let messages: Vec<String> = all
        .iter()
        .filter(|v| is_event(v, "message"))
        .map(|v| format!("#{} {}", v["conn"], describe(v)))
        .collect();
    let expected = [
        format!("#{conn} c2s text \"hello, wsnoop\""),
        format!("#{conn} s2c text \"hello, wsnoop\""),
        format!("#{conn} c2s binary b64:AAEC/v8="),
        format!("#{conn} s2c binary b64:AAEC/v8="),
        format!("#{conn} c2s text \"fragmented ✓\" frames:3"),
        format!("#{conn} s2c text \"fragmented ✓\""),
        format!("#{dconn} c2s text \"compressed hello\" compressed"),
        format!("#{dconn} c2s text \"compressed hello again\" compressed"),
        format!(
            "#{dconn} s2c binary b64:{} compressed",
            base64_of(&[7u8; 100])
        ),
        format!("#{conn} c2s close code:1000 reason:\"bye\""),
        format!("#{conn} s2c close code:1000 reason:\"bye\""),
        format!("#{dconn} c2s text \"last words\" compressed"),
    ];
    let mut got = messages.clone();
    got.sort();
    let mut want = expected.to_vec();
    want.sort();
    assert_eq!(got, want, "all messages: {messages:#?}");
    let ends: Vec<(u64, String)> = all
        .iter()
        .filter(|v| is_event(v, "end"))
        .map(|v| {
            (
                v["conn"].as_u64().unwrap(),
                v["how"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(ends.len(), 2, "{ends:?}");
    assert!(ends.contains(&(dconn, "eof".to_string())), "{ends:?}");
    let anomalies: Vec<&Value> = all.iter().filter(|v| is_event(v, "anomaly")).collect();
    assert!(anomalies.is_empty(), "{anomalies:?}");
    drop((dc, ds));
}

fn base64_of(data: &[u8]) -> String {
    base64_simd::STANDARD.encode_to_string(data)
}
