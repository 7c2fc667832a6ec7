use super::*;
use crate::event::{Dir::*, Message};

fn at(ms: i64) -> Timestamp {
    Timestamp::new(1_700_000_000 + ms / 1000, (ms % 1000) as u32 * 1_000_000)
}

fn msg(opcode: Opcode, payload: &[u8]) -> Message {
    Message {
        opcode,
        payload: payload.to_vec(),
        frames: 1,
        compressed: false,
        wire_len: payload.len() as u64,
        utf8_valid: true,
        frame_detail: Vec::new(),
        packets: None,
        truncated: false,
    }
}

fn close(code: u16, reason: &str) -> Message {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason.as_bytes());
    msg(Opcode::Close, &p)
}

fn ping(p: &[u8]) -> Message {
    msg(Opcode::Ping, p)
}

fn pong(p: &[u8]) -> Message {
    msg(Opcode::Pong, p)
}

fn text(s: &str) -> Message {
    msg(Opcode::Text, s.as_bytes())
}

#[test]
fn pong_pairs_with_the_oldest_ping_of_the_same_payload() {
    let mut h = Health::new(at(0));
    h.message(C2s, at(10), &ping(b"a"));
    h.message(C2s, at(20), &ping(b"b"));
    h.message(C2s, at(30), &ping(b"a"));
    // "a" answers the ping at 10 (FIFO among equal payloads), "b" the one at 20.
    h.message(S2c, at(50), &pong(b"a"));
    h.message(S2c, at(60), &pong(b"b"));
    h.message(S2c, at(100), &pong(b"a"));
    let r = h.report(at(200));
    assert_eq!(
        r.rtt(C2s),
        Some(RttStats {
            min: 40_000,
            median: 40_000,
            p99: 70_000,
            max: 70_000,
            count: 3
        })
    );
    assert_eq!(r.rtt(S2c), None);
}

#[test]
fn unsolicited_pong_is_no_sample() {
    let mut h = Health::new(at(0));
    // A pong with no ping at all, a pong of the wrong side's ping, a pong whose payload
    // matches nothing.
    h.message(S2c, at(5), &pong(b"x"));
    h.message(C2s, at(10), &ping(b"p"));
    h.message(C2s, at(15), &pong(b"p"));
    h.message(S2c, at(20), &pong(b"q"));
    assert_eq!(h.report(at(30)).rtt_us, [None, None]);
    assert_eq!(h.rtt.outstanding(C2s), 1);
    // The right answer still pairs.
    h.message(S2c, at(25), &pong(b"p"));
    assert_eq!(h.report(at(30)).rtt(C2s).map(|s| s.max), Some(15_000));
    // A second identical pong has nothing left to answer.
    h.message(S2c, at(26), &pong(b"p"));
    assert_eq!(h.report(at(30)).rtt(C2s).map(|s| s.count), Some(1));
}

#[test]
fn both_sides_ping() {
    let mut h = Health::new(at(0));
    h.message(S2c, at(100), &ping(b""));
    h.message(C2s, at(103), &pong(b""));
    h.message(C2s, at(200), &ping(b""));
    h.message(S2c, at(207), &pong(b""));
    let r = h.report(at(300));
    assert_eq!(r.rtt(S2c).map(|s| (s.min, s.count)), Some((3000, 1)));
    assert_eq!(r.rtt(C2s).map(|s| (s.min, s.count)), Some((7000, 1)));
}

#[test]
fn outstanding_pings_are_bounded_oldest_dropped() {
    let limits = HealthLimits {
        max_outstanding_pings: 2,
        ..HealthLimits::default()
    };
    let mut h = Health::with_limits(at(0), limits);
    h.message(C2s, at(1), &ping(b"1"));
    h.message(C2s, at(2), &ping(b"2"));
    h.message(C2s, at(3), &ping(b"3"));
    assert_eq!(h.rtt.outstanding(C2s), 2);
    // "1" was forgotten: its pong is unsolicited now.
    h.message(S2c, at(10), &pong(b"1"));
    h.message(S2c, at(12), &pong(b"3"));
    h.message(S2c, at(14), &pong(b"2"));
    let s = h.report(at(20)).rtt(C2s).unwrap();
    assert_eq!((s.count, s.min, s.max), (2, 9000, 12_000));
}

#[test]
fn long_ping_payloads_compare_on_head_and_length() {
    let mut h = Health::new(at(0));
    let long = vec![7u8; 300];
    let mut other = long.clone();
    other[200] = 8; // differs past the compared head: same key
    h.message(C2s, at(1), &ping(&long));
    h.message(S2c, at(2), &pong(&long[..299]));
    assert_eq!(
        h.report(at(3)).rtt(C2s),
        None,
        "a different length never pairs"
    );
    h.message(S2c, at(4), &pong(&other));
    assert_eq!(h.report(at(5)).rtt(C2s).map(|s| s.max), Some(3000));
}

#[test]
fn heartbeats_pair_among_themselves_only() {
    let mut h = Health::new(at(0));
    // An MQTT PINGREQ (empty key) and a WebSocket ping with an empty payload.
    h.heartbeat(C2s, at(10), Beat::Request { key: b"" });
    h.message(C2s, at(11), &ping(b""));
    h.message(S2c, at(15), &pong(b""));
    h.heartbeat(S2c, at(30), Beat::Answer { key: b"" });
    // Engine.IO: the server pings "2", the client answers "3" (the decoder passes the shared
    // probe payload as the key).
    h.heartbeat(S2c, at(40), Beat::Request { key: b"probe" });
    h.heartbeat(C2s, at(42), Beat::Answer { key: b"probe" });
    h.heartbeat(C2s, at(43), Beat::Answer { key: b"probe" });
    let r = h.report(at(50));
    let c2s = r.rtt(C2s).unwrap();
    assert_eq!((c2s.count, c2s.min, c2s.max), (2, 4000, 20_000));
    assert_eq!(r.rtt(S2c).map(|s| (s.count, s.max)), Some((1, 2000)));
}

#[test]
fn clean_close() {
    let mut h = Health::new(at(0));
    h.message(C2s, at(100), &text("hi"));
    h.message(C2s, at(1000), &close(1000, "bye"));
    h.message(S2c, at(1004), &close(1000, ""));
    h.tcp_end(S2c, EndHow::Fin, at(1010));
    h.tcp_end(C2s, EndHow::Fin, at(1011));
    let c = h.report(at(1011)).close;
    assert_eq!(
        c,
        CloseReport {
            initiator: Some(C2s),
            code: Some(1000),
            reason: Some("bye".into()),
            answered: true,
            close_to_answer_us: Some(4000),
            tcp_end: Some(TcpEnd::Fin),
            close_to_tcp_end_us: Some(10_000),
            verdict: Verdict::Clean,
        }
    );
}

#[test]
fn half_closed_when_the_close_is_never_answered() {
    let mut h = Health::new(at(0));
    h.message(S2c, at(100), &close(1001, "going away"));
    h.message(S2c, at(110), &ping(b"still"));
    h.tcp_end(S2c, EndHow::Rst, at(5100));
    let c = h.report(at(5100)).close;
    assert_eq!(c.initiator, Some(S2c));
    assert_eq!(c.code, Some(1001));
    assert_eq!(c.reason.as_deref(), Some("going away"));
    assert!(!c.answered);
    assert_eq!(c.close_to_answer_us, None);
    assert_eq!(c.tcp_end, Some(TcpEnd::Rst));
    assert_eq!(c.close_to_tcp_end_us, Some(5_000_000));
    assert_eq!(c.verdict, Verdict::HalfClosed);
}

#[test]
fn abnormal_without_any_close_frame() {
    let mut h = Health::new(at(0));
    h.message(C2s, at(10), &text("x"));
    h.tcp_end(C2s, EndHow::Rst, at(20));
    let c = h.report(at(20)).close;
    assert_eq!(
        c,
        CloseReport {
            initiator: None,
            code: None,
            reason: None,
            answered: false,
            close_to_answer_us: None,
            tcp_end: Some(TcpEnd::Rst),
            close_to_tcp_end_us: None,
            verdict: Verdict::Abnormal,
        }
    );
    // A FIN without a close frame is abnormal too.
    let mut h = Health::new(at(0));
    h.tcp_end(S2c, EndHow::Fin, at(20));
    let c = h.report(at(20)).close;
    assert_eq!(
        (c.tcp_end, c.verdict),
        (Some(TcpEnd::Fin), Verdict::Abnormal)
    );
}

#[test]
fn open_when_nothing_ended() {
    let mut h = Health::new(at(0));
    h.message(C2s, at(10), &text("x"));
    // The input stopped, or the connection was dropped: not TCP ends.
    h.tcp_end(C2s, EndHow::Eof, at(20));
    h.tcp_end(S2c, EndHow::Evicted, at(20));
    h.tcp_end(S2c, EndHow::Idle, at(20));
    let c = h.report(at(20)).close;
    assert_eq!((c.tcp_end, c.verdict), (None, Verdict::Open));
}

#[test]
fn data_after_own_close_wins_over_everything() {
    let mut h = Health::new(at(0));
    h.message(C2s, at(10), &close(1000, ""));
    // The other side may still send data before answering: fine.
    h.message(S2c, at(11), &text("last words"));
    h.message(S2c, at(12), &close(1000, ""));
    let r = h.report(at(20)).close;
    assert_eq!((r.answered, r.verdict), (true, Verdict::Clean));
    // Data from a side after its own close is not.
    h.message(C2s, at(13), &msg(Opcode::Binary, b"\x01"));
    let r = h.report(at(20)).close;
    assert_eq!((r.answered, r.verdict), (true, Verdict::AfterClose));
    // Control frames after a close are not data.
    let mut h = Health::new(at(0));
    h.message(C2s, at(10), &close(1000, ""));
    h.message(C2s, at(11), &pong(b""));
    assert_eq!(h.report(at(20)).close.verdict, Verdict::HalfClosed);
}

#[test]
fn close_without_code_and_invalid_reason() {
    let mut h = Health::new(at(0));
    h.message(C2s, at(10), &msg(Opcode::Close, b""));
    h.message(S2c, at(11), &msg(Opcode::Close, b"\x03\xe8"));
    let c = h.report(at(20)).close;
    assert_eq!((c.code, c.reason.as_deref()), (None, None));
    let mut h = Health::new(at(0));
    let mut bad = msg(Opcode::Close, b"\x03\xe9\xff\xfe");
    bad.utf8_valid = false;
    h.message(S2c, at(10), &bad);
    let c = h.report(at(20)).close;
    assert_eq!((c.code, c.reason), (Some(1001), None));
    // A second close of the initiator is neither an answer nor a new first close.
    let mut h = Health::new(at(0));
    h.message(C2s, at(10), &close(1000, "a"));
    h.message(C2s, at(12), &close(1002, "b"));
    let c = h.report(at(20)).close;
    assert_eq!((c.code, c.answered), (Some(1000), false));
}

#[test]
fn tcp_end_measured_from_the_close_to_the_first_end_after_it() {
    let mut h = Health::new(at(0));
    // The client half-closes TCP first; the server then closes the WebSocket and TCP.
    h.tcp_end(C2s, EndHow::Fin, at(5));
    h.message(S2c, at(10), &close(1000, ""));
    h.tcp_end(S2c, EndHow::Fin, at(18));
    let c = h.report(at(18)).close;
    assert_eq!(
        (c.tcp_end, c.close_to_tcp_end_us),
        (Some(TcpEnd::Fin), Some(8000))
    );
    // A reset after a FIN: TCP ended with RST, timed from the FIN.
    let mut h = Health::new(at(0));
    h.message(C2s, at(10), &close(1000, ""));
    h.message(S2c, at(11), &close(1000, ""));
    h.tcp_end(S2c, EndHow::Fin, at(12));
    h.tcp_end(C2s, EndHow::Rst, at(30));
    let c = h.report(at(30)).close;
    assert_eq!(
        (c.tcp_end, c.close_to_tcp_end_us, c.verdict),
        (Some(TcpEnd::Rst), Some(2000), Verdict::Clean)
    );
}

#[test]
fn silence_counts_from_open_between_messages_and_to_the_end() {
    let mut h = Health::new(at(1000));
    h.message(C2s, at(1300), &text("a")); // 300 ms after open
    h.message(C2s, at(1400), &text("b"));
    h.message(C2s, at(2400), &ping(b"")); // 1000 ms gap, control frames count
    h.message(S2c, at(2401), &pong(b""));
    assert_eq!(h.silent_since(C2s), at(2400));
    assert_eq!(h.silent_since(S2c), at(2401));
    assert_eq!(h.silent_for(C2s, at(2500)), 100_000);
    assert_eq!(h.silent_for(C2s, at(2000)), 0);
    // The server's direction ended (FIN) at 2500: its silence stops there, not at 9000.
    h.tcp_end(S2c, EndHow::Fin, at(2500));
    let r = h.report(at(9000));
    assert_eq!(r.longest_silence_us, [6_600_000, 1_401_000]);
    // A direction that sent nothing is silent from open to end.
    let h = Health::new(at(1000));
    assert_eq!(h.silent_since(S2c), at(1000));
    assert_eq!(
        h.report(at(4000)).longest_silence_us,
        [3_000_000, 3_000_000]
    );
}

#[test]
fn time_stepping_back_is_no_gap() {
    let mut h = Health::new(at(1000));
    h.message(C2s, at(900), &text("early"));
    h.message(C2s, at(1200), &text("a"));
    assert_eq!(h.silent_since(C2s), at(1200));
    assert_eq!(h.report(at(1100)).longest_silence_us, [200_000, 100_000]);
}

#[test]
fn micros_between_rounds_down_and_saturates() {
    let a = Timestamp::new(10, 999_999_999);
    assert_eq!(micros_between(a, Timestamp::new(11, 998)), 0);
    assert_eq!(micros_between(a, Timestamp::new(11, 999)), 1);
    assert_eq!(micros_between(Timestamp::new(11, 0), a), 0);
    assert_eq!(
        micros_between(Timestamp::new(i64::MIN, 0), Timestamp::new(i64::MAX, 0)),
        u64::MAX
    );
}

#[test]
fn micros_between_is_the_same_either_side_of_its_64_bit_shortcut() {
    // 9e9 seconds apart is the last the shortcut takes; one more goes through 128 bits.
    let a = Timestamp::new(-5, 4_294_967_295);
    assert_eq!(
        micros_between(a, Timestamp::new(8_999_999_995, 0)),
        8_999_999_995_705_032
    );
    assert_eq!(
        micros_between(a, Timestamp::new(8_999_999_996, 0)),
        8_999_999_996_705_032
    );
    // Nanoseconds past a second (as a capture may claim) count as they are.
    assert_eq!(
        micros_between(Timestamp::new(1, 0), Timestamp::new(1, 4_000_001_000)),
        4_000_001
    );
    assert_eq!(
        micros_between(Timestamp::new(1, 4_000_000_000), Timestamp::new(4, 999)),
        0
    );
    assert_eq!(
        micros_between(Timestamp::new(1, 4_000_000_000), Timestamp::new(5, 999)),
        0
    );
    assert_eq!(
        micros_between(Timestamp::new(1, 4_000_000_000), Timestamp::new(5, 1_000)),
        1
    );
}

#[test]
fn json_fragment_exact() {
    let mut h = Health::new(at(0));
    h.message(C2s, at(10), &ping(b"1"));
    h.message(S2c, at(13), &pong(b"1"));
    h.message(S2c, at(20), &close(4000, "sé\"e"));
    h.message(C2s, at(25), &close(4000, ""));
    h.tcp_end(S2c, EndHow::Fin, at(40));
    h.tcp_end(C2s, EndHow::Fin, at(41));
    let mut out = Vec::new();
    h.report(at(41)).write_json(&mut out).unwrap();
    assert_eq!(
        String::from_utf8(out.clone()).unwrap(),
        ",\"rtt_us\":{\"c2s\":{\"min\":3000,\"median\":3000,\"p99\":3000,\"max\":3000,\
         \"count\":1},\"s2c\":null},\"close\":{\"initiator\":\"s2c\",\"code\":4000,\
         \"reason\":\"sé\\\"e\",\"answered\":true,\"close_to_answer_us\":5000,\
         \"tcp_end\":\"fin\",\"close_to_tcp_end_us\":20000,\"verdict\":\"clean\"},\
         \"longest_silence_us\":{\"c2s\":16000,\"s2c\":20000}"
    );
    // It completes a JSON object.
    let mut line = b"{\"event\":\"end\"".to_vec();
    line.extend_from_slice(&out);
    line.push(b'}');
    let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
    assert_eq!(v["close"]["reason"], "sé\"e");

    let mut out = Vec::new();
    Health::new(at(0))
        .report(at(1))
        .write_json(&mut out)
        .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        ",\"rtt_us\":{\"c2s\":null,\"s2c\":null},\"close\":{\"initiator\":null,\"code\":null,\
         \"reason\":null,\"answered\":false,\"close_to_answer_us\":null,\"tcp_end\":null,\
         \"close_to_tcp_end_us\":null,\"verdict\":\"open\"},\
         \"longest_silence_us\":{\"c2s\":1000,\"s2c\":1000}"
    );
}
