//! MQTT: packets from the specifications' examples, and round trips of every packet type of
//! 3.1.1 and 5.0 written by an independent encoder (the `mqttbytes` crate).

use bytes::BytesMut;
use mqttbytes::QoS;
use serde_json::json;

use crate::event::{Dir, Opcode, Timestamp};
use crate::proto::testutil::{Session, fields};
use crate::proto::{ProtoConfig, ProtoName};

fn enc(write: impl FnOnce(&mut BytesMut) -> Result<usize, mqttbytes::Error>) -> Vec<u8> {
    let mut b = BytesMut::new();
    write(&mut b).expect("encodes");
    b.to_vec()
}

#[test]
fn connect_of_the_311_specification() {
    // MQTT 3.1.1 §3.1.2.10, Figure 3.6 (variable header) with a payload of the fields its
    // flags announce: user name, password, QoS 1 will, clean session; keep alive 10.
    let mut p = vec![0x10, 0];
    p.extend_from_slice(&[0, 4, b'M', b'Q', b'T', b'T', 4, 0xCE, 0, 10]);
    for s in [&b"cid"[..], b"w/t", b"bye", b"user", b"pw"] {
        p.extend_from_slice(&[0, s.len() as u8]);
        p.extend_from_slice(s);
    }
    p[1] = (p.len() - 2) as u8;
    let mut s = Session::new(ProtoName::Mqtt);
    let u = s.one(Dir::C2s, &p);
    assert_eq!(u.kind, "CONNECT");
    assert_eq!(u.anomaly, None);
    assert_eq!(
        fields(&u),
        json!({"protocol_name": "MQTT", "protocol_level": 4, "clean_session": true,
               "keepalive": 10, "client_id": "cid",
               "will": {"topic": "w/t", "qos": 1, "retain": false, "payload_b64": "Ynll", "payload_text": "bye"},
               "username": "user", "password_b64": "cHc="})
    );
    assert_eq!(u.summary, "CONNECT cid v3.1.1 keepalive 10 user user");
}

/// A 3.1.1 session: every packet type, written by mqttbytes, decoded and paired.
#[test]
fn round_trip_311_every_packet_type() {
    use mqttbytes::v4::*;
    let mut s = Session::new(ProtoName::Mqtt);
    let mut connect = Connect::new("sensor-7");
    connect.keep_alive = 30;
    connect.set_login("u", "p");
    connect.last_will = Some(LastWill::new(
        "plant/7/status",
        "offline",
        QoS::AtLeastOnce,
        true,
    ));
    let u = s.one(Dir::C2s, &enc(|b| connect.write(b)));
    assert_eq!(
        fields(&u),
        json!({"protocol_name": "MQTT", "protocol_level": 4, "clean_session": true, "keepalive": 30,
               "client_id": "sensor-7",
               "will": {"topic": "plant/7/status", "qos": 1, "retain": true, "payload_b64": "b2ZmbGluZQ==", "payload_text": "offline"},
               "username": "u", "password_b64": "cA=="})
    );
    let u = s.one(
        Dir::S2c,
        &enc(|b| ConnAck::new(ConnectReturnCode::NotAuthorized, true).write(b)),
    );
    assert_eq!(
        fields(&u),
        json!({"session_present": true, "return_code": 5, "return_code_name": "Connection Refused, not authorized"})
    );
    assert_eq!(u.reply_to, Some(Timestamp::new(1, 0)));

    let mut publish = Publish::new("plant/7/temp", QoS::AtLeastOnce, b"21.5".to_vec());
    publish.pkid = 12;
    publish.retain = true;
    publish.dup = true;
    let u = s.one(Dir::C2s, &enc(|b| publish.write(b)));
    assert_eq!(
        fields(&u),
        json!({"topic": "plant/7/temp", "qos": 1, "retain": true, "dup": true, "packet_id": 12,
               "payload_b64": "MjEuNQ==", "payload_text": "21.5"})
    );
    assert_eq!(u.summary, "PUBLISH plant/7/temp q1 #12 dup retain 4B");
    let publish_ts = u.ts;
    let u = s.one(Dir::S2c, &enc(|b| PubAck::new(12).write(b)));
    assert_eq!(
        (fields(&u), u.reply_to),
        (json!({"packet_id": 12}), Some(publish_ts))
    );

    // QoS 2: PUBREC answers the PUBLISH, PUBREL the PUBREC, PUBCOMP the PUBREL.
    let mut publish = Publish::new("alerts/x", QoS::ExactlyOnce, vec![0xff, 0]);
    publish.pkid = 13;
    let p = s.one(Dir::S2c, &enc(|b| publish.write(b)));
    assert_eq!(p.fields.get("payload_text"), None, "not UTF-8");
    assert_eq!(p.fields["payload_b64"], "/wA=");
    let rec = s.one(Dir::C2s, &enc(|b| PubRec::new(13).write(b)));
    let rel = s.one(Dir::S2c, &enc(|b| PubRel::new(13).write(b)));
    let comp = s.one(Dir::C2s, &enc(|b| PubComp::new(13).write(b)));
    assert_eq!(rec.reply_to, Some(p.ts));
    assert_eq!(rel.reply_to, Some(rec.ts));
    assert_eq!(comp.reply_to, Some(rel.ts));
    assert_eq!(
        [rec.kind.as_str(), rel.kind.as_str(), comp.kind.as_str()],
        ["PUBREC", "PUBREL", "PUBCOMP"]
    );

    let sub = Subscribe::new_many([
        SubscribeFilter::new("a/+".into(), QoS::AtMostOnce),
        SubscribeFilter::new("b/#".into(), QoS::ExactlyOnce),
    ]);
    let mut sub = sub;
    sub.pkid = 3;
    let u = s.one(Dir::C2s, &enc(|b| sub.write(b)));
    assert_eq!(
        fields(&u),
        json!({"packet_id": 3, "subscriptions": [{"topic": "a/+", "qos": 0}, {"topic": "b/#", "qos": 2}]})
    );
    let ack = SubAck::new(
        3,
        vec![
            SubscribeReasonCode::Success(QoS::AtMostOnce),
            SubscribeReasonCode::Failure,
        ],
    );
    let a = s.one(Dir::S2c, &enc(|b| ack.write(b)));
    assert_eq!(
        fields(&a),
        json!({"packet_id": 3, "return_codes": [0, 128], "return_code_names": ["Success - Maximum QoS 0", "Failure"]})
    );
    assert_eq!(a.reply_to, Some(u.ts));

    let mut unsub = Unsubscribe::new("a/+");
    unsub.pkid = 4;
    let u = s.one(Dir::C2s, &enc(|b| unsub.write(b)));
    assert_eq!(fields(&u), json!({"packet_id": 4, "topics": ["a/+"]}));
    let a = s.one(Dir::S2c, &enc(|b| UnsubAck::new(4).write(b)));
    assert_eq!(
        (fields(&a), a.reply_to),
        (json!({"packet_id": 4}), Some(u.ts))
    );

    let ping = s.one(Dir::C2s, &enc(|b| PingReq.write(b)));
    let pong = s.one(Dir::S2c, &enc(|b| PingResp.write(b)));
    assert_eq!(
        (ping.kind.as_str(), pong.kind.as_str()),
        ("PINGREQ", "PINGRESP")
    );
    assert_eq!(pong.reply_to, Some(ping.ts));
    let d = s.one(Dir::C2s, &enc(|b| Disconnect.write(b)));
    assert_eq!((d.kind.as_str(), fields(&d)), ("DISCONNECT", json!({})));
    assert!(s.conn.finish().is_empty());
}

/// A 5.0 session: properties, reason codes, topic aliases, every packet type.
#[test]
fn round_trip_50_every_packet_type() {
    use mqttbytes::v5::*;
    let mut s = Session::new(ProtoName::Mqtt);
    let mut connect = Connect::new("dev-1");
    connect.keep_alive = 60;
    connect.properties = Some(ConnectProperties {
        session_expiry_interval: Some(3600),
        receive_maximum: Some(20),
        max_packet_size: None,
        topic_alias_max: Some(10),
        request_response_info: None,
        request_problem_info: None,
        user_properties: vec![("k".into(), "v".into()), ("k".into(), "w".into())],
        authentication_method: None,
        authentication_data: None,
    });
    let mut will = LastWill::new("w/t", "gone", QoS::AtMostOnce, false);
    will.properties = Some(WillProperties {
        delay_interval: Some(5),
        payload_format_indicator: Some(1),
        message_expiry_interval: None,
        content_type: Some("text/plain".into()),
        response_topic: None,
        correlation_data: None,
        user_properties: vec![],
    });
    connect.last_will = Some(will);
    let u = s.one(Dir::C2s, &enc(|b| connect.write(b)));
    assert_eq!(u.anomaly, None);
    assert_eq!(
        fields(&u),
        json!({"protocol_name": "MQTT", "protocol_level": 5, "clean_start": true, "keepalive": 60,
               "properties": {"session_expiry_interval": 3600, "receive_maximum": 20, "topic_alias_maximum": 10,
                              "user_property": [["k", "v"], ["k", "w"]]},
               "client_id": "dev-1",
               "will": {"topic": "w/t", "qos": 0, "retain": false,
                        "properties": {"will_delay_interval": 5, "payload_format_indicator": 1, "content_type": "text/plain"},
                        "payload_b64": "Z29uZQ==", "payload_text": "gone"}})
    );
    let mut ack = ConnAck::new(ConnectReturnCode::Success, false);
    let mut props = ConnAckProperties::new();
    props.assigned_client_identifier = Some("auto-1".into());
    props.server_keep_alive = Some(30);
    ack.properties = Some(props);
    let a = s.one(Dir::S2c, &enc(|b| ack.write(b)));
    assert_eq!(
        fields(&a),
        json!({"session_present": false, "reason_code": 0, "reason_code_name": "Success",
               "properties": {"assigned_client_identifier": "auto-1", "server_keep_alive": 30}})
    );
    assert_eq!(a.reply_to, Some(u.ts));

    // A topic alias set, then used with an empty topic: the topic is resolved.
    let mut p = Publish::new("plant/7/temp", QoS::AtLeastOnce, b"1".to_vec());
    p.pkid = 1;
    p.properties = Some(PublishProperties {
        payload_format_indicator: None,
        message_expiry_interval: Some(60),
        topic_alias: Some(3),
        response_topic: Some("reply/7".into()),
        correlation_data: Some(bytes::Bytes::from_static(b"\x01\x02")),
        user_properties: vec![],
        subscription_identifiers: vec![],
        content_type: None,
    });
    let u = s.one(Dir::C2s, &enc(|b| p.write(b)));
    assert_eq!(
        fields(&u),
        json!({"topic": "plant/7/temp", "qos": 1, "retain": false, "dup": false, "packet_id": 1, "topic_alias": 3,
               "properties": {"message_expiry_interval": 60, "topic_alias": 3, "response_topic": "reply/7",
                              "correlation_data_b64": "AQI="},
               "payload_b64": "MQ==", "payload_text": "1"})
    );
    let mut p2 = Publish::new("", QoS::AtMostOnce, b"2".to_vec());
    p2.properties = Some(PublishProperties {
        payload_format_indicator: None,
        message_expiry_interval: None,
        topic_alias: Some(3),
        response_topic: None,
        correlation_data: None,
        user_properties: vec![],
        subscription_identifiers: vec![],
        content_type: None,
    });
    let u2 = s.one(Dir::C2s, &enc(|b| p2.write(b)));
    assert_eq!(u2.fields["topic"], "plant/7/temp");
    assert_eq!(u2.fields["topic_alias"], 3);
    assert_eq!(u2.anomaly, None);
    // Aliases are per direction: the server never set 3.
    let u3 = s.one(Dir::S2c, &enc(|b| p2.write(b)));
    assert_eq!(u3.fields["topic"], "");
    assert!(
        u3.anomaly
            .as_ref()
            .unwrap()
            .detail
            .contains("topic alias 3 was never set")
    );

    let mut puback = PubAck::new(1);
    puback.reason = PubAckReason::NoMatchingSubscribers;
    let a = s.one(Dir::S2c, &enc(|b| puback.write(b)));
    assert_eq!(
        fields(&a),
        json!({"packet_id": 1, "reason_code": 16, "reason_code_name": "No matching subscribers"})
    );
    assert_eq!(a.reply_to, Some(u.ts));

    let mut q2 = Publish::new("t", QoS::ExactlyOnce, vec![]);
    q2.pkid = 9;
    let p = s.one(Dir::C2s, &enc(|b| q2.write(b)));
    let rec = s.one(Dir::S2c, &enc(|b| PubRec::new(9).write(b)));
    let rel = s.one(Dir::C2s, &enc(|b| PubRel::new(9).write(b)));
    let comp = s.one(Dir::S2c, &enc(|b| PubComp::new(9).write(b)));
    assert_eq!(
        fields(&rec),
        json!({"packet_id": 9, "reason_code": 0, "reason_code_name": "Success"})
    );
    assert_eq!(
        (rec.reply_to, rel.reply_to, comp.reply_to),
        (Some(p.ts), Some(rec.ts), Some(comp.reply_to.unwrap()))
    );
    assert_eq!(comp.reply_to, Some(rel.ts));

    let mut filter = SubscribeFilter::new("a/#".into(), QoS::AtLeastOnce);
    filter.nolocal = true;
    filter.preserve_retain = true;
    filter.retain_forward_rule = RetainForwardRule::Never;
    let mut sub = Subscribe::new_many([filter]);
    sub.pkid = 5;
    sub.properties = Some(SubscribeProperties {
        id: Some(42),
        user_properties: vec![],
    });
    let u = s.one(Dir::C2s, &enc(|b| sub.write(b)));
    assert_eq!(
        fields(&u),
        json!({"packet_id": 5,
               "subscriptions": [{"topic": "a/#", "qos": 1, "no_local": true, "retain_as_published": true, "retain_handling": 2}],
               "properties": {"subscription_identifier": [42]}})
    );
    let ack = SubAck::new(
        5,
        vec![
            SubscribeReasonCode::QoS1,
            SubscribeReasonCode::NotAuthorized,
        ],
    );
    let a = s.one(Dir::S2c, &enc(|b| ack.write(b)));
    assert_eq!(
        fields(&a),
        json!({"packet_id": 5, "reason_codes": [1, 135], "reason_code_names": ["Granted QoS 1", "Not authorized"], "properties": {}})
    );
    assert_eq!(a.reply_to, Some(u.ts));

    let mut unsub = Unsubscribe::new("a/#");
    unsub.pkid = 6;
    let u = s.one(Dir::C2s, &enc(|b| unsub.write(b)));
    assert_eq!(
        fields(&u),
        json!({"packet_id": 6, "topics": ["a/#"], "properties": {}})
    );
    let mut uack = UnsubAck::new(6);
    uack.reasons = vec![UnsubAckReason::NoSubscriptionExisted];
    let a = s.one(Dir::S2c, &enc(|b| uack.write(b)));
    assert_eq!(
        fields(&a),
        json!({"packet_id": 6, "reason_codes": [17], "reason_code_names": ["No subscription existed"], "properties": {}})
    );
    assert_eq!(a.reply_to, Some(u.ts));

    let ping = s.one(Dir::C2s, &enc(|b| PingReq.write(b)));
    let pong = s.one(Dir::S2c, &enc(|b| PingResp.write(b)));
    assert_eq!(pong.reply_to, Some(ping.ts));

    let mut d = Disconnect::new();
    d.reason_code = DisconnectReasonCode::ServerShuttingDown;
    let u = s.one(Dir::S2c, &enc(|b| d.write(b)));
    assert_eq!(
        fields(&u),
        json!({"reason_code": 139, "reason_code_name": "Server shutting down"})
    );
    assert!(s.conn.finish().is_empty());
}

/// AUTH (5.0 §3.15) has no encoder in mqttbytes: the specification's layout by hand.
#[test]
fn auth_50() {
    let mut s = Session::new(ProtoName::Mqtt);
    s.one(
        Dir::C2s,
        b"\x10\x0d\x00\x04MQTT\x05\x02\x00\x3c\x00\x00\x00",
    );
    // AUTH, reason 0x18 Continue authentication, authentication method "SCRAM".
    let u = s.one(Dir::S2c, b"\xf0\x0a\x18\x08\x15\x00\x05SCRAM");
    assert_eq!(u.kind, "AUTH");
    assert_eq!(
        fields(&u),
        json!({"reason_code": 24, "reason_code_name": "Continue authentication",
               "properties": {"authentication_method": "SCRAM"}})
    );
}

#[test]
fn packets_split_and_packed_and_a_corrupt_length() {
    let mut s = Session::new(ProtoName::Mqtt);
    let connect = b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00";
    let publish = b"\x30\x07\x00\x01tabcd";
    // CONNECT in three pieces, the last one carrying a whole PUBLISH too.
    assert!(s.feed(Dir::C2s, Opcode::Binary, &connect[..1]).is_empty());
    assert!(s.feed(Dir::C2s, Opcode::Binary, &connect[1..5]).is_empty());
    let mut last = connect[5..].to_vec();
    last.extend_from_slice(publish);
    let units = s.feed(Dir::C2s, Opcode::Binary, &last);
    assert_eq!(units.len(), 2);
    assert_eq!((units[0].kind.as_str(), units[0].messages), ("CONNECT", 3));
    assert_eq!((units[1].kind.as_str(), units[1].messages), ("PUBLISH", 1));
    assert_eq!(units[1].fields["payload_text"], "abcd");
    // A remaining length with a fifth byte: the direction is given up, once.
    let bad = s.feed(Dir::C2s, Opcode::Binary, b"\x30\xff\xff\xff\xff\x01");
    assert_eq!(bad.len(), 1);
    assert!(
        bad[0]
            .anomaly
            .as_ref()
            .unwrap()
            .detail
            .contains("remaining length longer than 4 bytes")
    );
    assert!(s.feed(Dir::C2s, Opcode::Binary, publish).is_empty());
    // The other direction goes on.
    assert_eq!(
        s.feed(Dir::S2c, Opcode::Binary, b"\x20\x02\x00\x00").len(),
        1
    );
}

#[test]
fn a_packet_larger_than_the_bound_is_skipped_by_its_length() {
    let mut s = Session::with(
        ProtoName::Mqtt,
        ProtoConfig {
            max_unit_bytes: 100,
            ..ProtoConfig::default()
        },
    );
    s.one(Dir::C2s, b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00");
    // A QoS 0 PUBLISH of 300 bytes (remaining length 0xac 0x02), in two messages, then a
    // PINGREQ in the second.
    let mut big = vec![0x30, 0xac, 0x02, 0x00, 0x01, b't'];
    big.extend(std::iter::repeat_n(b'x', 297));
    big.extend_from_slice(b"\xc0\x00");
    let first = s.feed(Dir::C2s, Opcode::Binary, &big[..50]);
    assert_eq!(first.len(), 1);
    assert_eq!(
        first[0].anomaly.as_ref().unwrap().kind.as_str(),
        "proto_limit"
    );
    assert_eq!(first[0].fields["remaining_length"], 300);
    let rest = s.feed(Dir::C2s, Opcode::Binary, &big[50..]);
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].kind, "PINGREQ");
    // Whole in one message, with a PINGREQ after it in the same message.
    let units = s.feed(Dir::C2s, Opcode::Binary, &big);
    assert_eq!(
        units.iter().map(|u| u.kind.as_str()).collect::<Vec<_>>(),
        ["PUBLISH", "PINGREQ"]
    );
}

#[test]
fn malformed_packets_are_flagged_and_decoding_goes_on() {
    let mut s = Session::new(ProtoName::Mqtt);
    s.one(Dir::C2s, b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00");
    // SUBSCRIBE with flags 0 instead of 2 [MQTT-3.8.1-1].
    let u = s.one(Dir::C2s, b"\x80\x06\x00\x01\x00\x01a\x00");
    assert!(
        u.anomaly
            .as_ref()
            .unwrap()
            .detail
            .contains("fixed header flags")
    );
    assert_eq!(u.fields["packet_id"], 1);
    // PUBLISH with QoS 3.
    let u = s.one(Dir::C2s, b"\x36\x05\x00\x01t\x00\x01");
    assert!(u.anomaly.is_some());
    // A topic cut short: the packet's own length says 3, the topic 5.
    let u = s.one(Dir::C2s, b"\x30\x03\x00\x05t");
    assert!(
        u.anomaly
            .as_ref()
            .unwrap()
            .detail
            .contains("topic name: needs 5 bytes")
    );
    let u = s.one(Dir::S2c, b"\x00\x00");
    assert!(u.anomaly.as_ref().unwrap().detail.contains("reserved"));
    // Still in step.
    assert_eq!(s.one(Dir::C2s, b"\xc0\x00").kind, "PINGREQ");
}

#[test]
fn without_its_connect_only_what_both_versions_share_is_decoded() {
    let mut s = Session::new(ProtoName::Mqtt);
    let u = s.one(Dir::S2c, b"\x32\x09\x00\x01t\x00\x07\x00abc");
    assert_eq!(
        fields(&u),
        json!({"topic": "t", "qos": 1, "retain": false, "dup": false, "packet_id": 7})
    );
    assert_eq!(u.anomaly, None);
}

#[test]
fn lost_messages_drop_what_was_held() {
    let mut s = Session::new(ProtoName::Mqtt);
    s.one(Dir::C2s, b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00");
    assert!(s.feed(Dir::C2s, Opcode::Binary, b"\x30\x07\x00").is_empty());
    s.conn.lost(Dir::C2s);
    assert_eq!(s.one(Dir::C2s, b"\xc0\x00").kind, "PINGREQ");
}

#[test]
fn pending_requests_are_bounded_and_reported_at_the_end() {
    let mut s = Session::with(
        ProtoName::Mqtt,
        ProtoConfig {
            max_pending_requests: 2,
            ..ProtoConfig::default()
        },
    );
    s.one(Dir::C2s, b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00");
    s.one(Dir::S2c, b"\x20\x02\x00\x00");
    for id in 1..=3u8 {
        let u = s.one(Dir::C2s, &[0x32, 5, 0, 1, b't', 0, id]);
        assert_eq!(u.anomaly.is_some(), id == 3, "{u:?}");
    }
    assert_eq!(s.conn.dropped_requests(), 1);
    let left = s.conn.finish();
    assert_eq!(
        left.iter()
            .map(|u| (u.kind.as_str(), u.id.clone()))
            .collect::<Vec<_>>(),
        [("PUBLISH", json!(2)), ("PUBLISH", json!(3))]
    );
}
