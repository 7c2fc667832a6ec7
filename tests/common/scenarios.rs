//! Fault shapes the shared corpus does not show (issue 3, Tests): each a deterministic
//! capture and its ground truth. `tests/generated.rs` checks the committed copies under
//! `captures/generated/` and that they are still what this code writes.
#![allow(dead_code)]

use super::forge::*;

pub struct Scenario {
    pub name: &'static str,
    /// One line for `captures/README.md`.
    pub fault: &'static str,
    pub cap: Cap,
    pub expect: Expect,
}

/// Client and server addresses, distinct per scenario (`n`).
fn tcp(n: u16, isn: [u32; 2]) -> Tcp {
    Tcp::new(
        &format!("10.1.0.1:{}", 40000 + n),
        &format!("10.1.0.2:{}", 9000 + n),
        isn,
    )
}

fn tcp6(n: u16, isn: [u32; 2]) -> Tcp {
    Tcp::new(
        &format!("[2001:db8::1]:{}", 40000 + n),
        &format!("[2001:db8::2]:{}", 9000 + n),
        isn,
    )
}

fn close(cap: &mut Cap, t: &mut Tcp, e: &mut Expect) {
    let code = 1000u16.to_be_bytes();
    send(cap, t, 0, &frame(0, 0x88, &code));
    send(cap, t, 1, &frame(1, 0x88, &code));
    e.msg(t, 0, "close", &code).msg(t, 1, "close", &code);
    let f = t.fin();
    cap.put(t, &f);
}

pub fn all() -> Vec<Scenario> {
    vec![
        masked_server_frame(),
        fragmented_control_s2c(),
        nonminimal_lengths(),
        sll_gap(),
        null_out_of_order(),
        raw_ipv6_gap_reordered(),
        ipv4_fragments_reversed(),
        qinq(),
        seq_wrap(),
        tcp_conflict(),
        data_after_close(),
        data_interleaved(),
        invalid_close_payload(),
        bad_accept(),
        deflate_rsv1_control(),
        deflate_gap_takeover(),
    ]
}

fn masked_server_frame() -> Scenario {
    let mut cap = Cap::new(Link::Ethernet);
    let mut e = Expect::default();
    let mut t = tcp(1, [1000, 5000]);
    open(&mut cap, &mut t, None);
    send(&mut cap, &mut t, 0, &text(0, "hello"));
    e.text(&t, 0, "hello");
    // The payload is unambiguous once unmasked: reported and listed.
    send(
        &mut cap,
        &mut t,
        1,
        &frame_with(0x81, Some(MASK), b"masked reply", LenForm::Minimal),
    );
    e.text(&t, 1, "masked reply");
    e.error(Some(&t), Some(1), "masked_server_frame");
    send(&mut cap, &mut t, 1, &text(1, "plain reply"));
    e.text(&t, 1, "plain reply");
    close(&mut cap, &mut t, &mut e);
    Scenario {
        name: "gen_s2c_masked_frame",
        fault: "server sends a masked text frame (listed, unmasked)",
        cap,
        expect: e,
    }
}

fn fragmented_control_s2c() -> Scenario {
    let mut cap = Cap::new(Link::Ethernet);
    let mut e = Expect::default();
    let mut t = tcp(2, [1000, 5000]);
    open(&mut cap, &mut t, None);
    send(&mut cap, &mut t, 1, &text(1, "before"));
    e.text(&t, 1, "before");
    // A ping with FIN=0: not a complete message, not listed.
    send(&mut cap, &mut t, 1, &frame(1, 0x09, b"ping?"));
    e.error(Some(&t), Some(1), "fragmented_control");
    send(&mut cap, &mut t, 1, &text(1, "after"));
    e.text(&t, 1, "after");
    close(&mut cap, &mut t, &mut e);
    Scenario {
        name: "gen_s2c_fragmented_control",
        fault: "server ping with FIN=0",
        cap,
        expect: e,
    }
}

fn nonminimal_lengths() -> Scenario {
    let mut cap = Cap::new(Link::Ethernet);
    let mut e = Expect::default();
    let mut t = tcp(3, [1000, 5000]);
    open(&mut cap, &mut t, None);
    send(
        &mut cap,
        &mut t,
        1,
        &frame_with(0x81, None, b"five!", LenForm::Ext64),
    );
    e.text(&t, 1, "five!");
    send(
        &mut cap,
        &mut t,
        0,
        &frame_with(0x82, Some(MASK), &[1, 2, 3], LenForm::Ext16),
    );
    e.msg(&t, 0, "binary", &[1, 2, 3]);
    e.error(Some(&t), Some(1), "nonminimal_length");
    e.error(Some(&t), Some(0), "nonminimal_length");
    send(&mut cap, &mut t, 1, &text(1, "minimal"));
    e.text(&t, 1, "minimal");
    close(&mut cap, &mut t, &mut e);
    Scenario {
        name: "gen_nonminimal_lengths",
        fault: "s2c 5 bytes in a 64-bit length, c2s 3 bytes in a 16-bit length (both listed)",
        cap,
        expect: e,
    }
}

/// A conversation of numbered messages both ways, as (side, bytes) writes.
fn chat(t: &Tcp, e: &mut Expect, n: usize, size: usize) -> Vec<(usize, Vec<u8>)> {
    let mut out = Vec::new();
    for i in 0..n {
        for side in 0..2 {
            let mut s = format!("{side}:{i}:");
            while s.len() < size {
                s.push((b'a' + (s.len() % 26) as u8) as char);
            }
            e.text(t, side, &s);
            out.push((side, text(side, &s)));
        }
    }
    out
}

fn sll_gap() -> Scenario {
    let mut cap = Cap::new(Link::Sll);
    let mut e = Expect::default();
    let mut t = tcp(4, [1000, 5000]);
    open(&mut cap, &mut t, None);
    let before = chat(&t, &mut e, 2, 40);
    for (side, b) in &before {
        send(&mut cap, &mut t, *side, b);
    }
    // A 3000-byte binary frame whose middle segment is lost: the frame is dropped, the
    // stream stays in sync through its known length.
    let big: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    let segs = t.segs(1, &frame(1, 0x82, &big), 1000);
    cap.put(&t, &[segs[0].clone(), segs[2].clone(), segs[3].clone()]);
    e.error(Some(&t), Some(1), "tcp_gap");
    e.error(Some(&t), Some(1), "incomplete_message");
    let after = chat(&t, &mut e, 2, 30);
    for (side, b) in &after {
        send(&mut cap, &mut t, *side, b);
    }
    close(&mut cap, &mut t, &mut e);
    Scenario {
        name: "gen_sll_gap",
        fault: "Linux SLL link; one segment lost inside a 3000-byte s2c frame",
        cap,
        expect: e,
    }
}

fn null_out_of_order() -> Scenario {
    let mut cap = Cap::new(Link::Null);
    let mut e = Expect::default();
    let mut t = tcp(5, [1000, 5000]);
    open(&mut cap, &mut t, None);
    let mut segs = Vec::new();
    for (side, b) in chat(&t, &mut e, 6, 50) {
        segs.extend(t.segs(side, &b, 20));
    }
    // Reverse every run of three segments.
    for c in segs.chunks_mut(3) {
        c.reverse();
    }
    cap.put(&t, &segs);
    close(&mut cap, &mut t, &mut e);
    Scenario {
        name: "gen_null_out_of_order",
        fault: "BSD loopback (NULL) link; every three segments in reverse order",
        cap,
        expect: e,
    }
}

fn raw_ipv6_gap_reordered() -> Scenario {
    let mut cap = Cap::new(Link::Raw);
    let mut e = Expect::default();
    let mut t = tcp6(6, [1000, 5000]);
    open(&mut cap, &mut t, None);
    let mut segs = Vec::new();
    for (side, b) in chat(&t, &mut e, 3, 50) {
        segs.extend(t.segs(side, &b, 25));
    }
    segs.swap(1, 3);
    // A c2s text frame of 60 bytes whose second segment is never captured.
    let lost = t.segs(0, &text(0, &"L".repeat(60)), 30);
    segs.push(lost[0].clone());
    segs.push(lost[2].clone());
    e.error(Some(&t), Some(0), "tcp_gap");
    let mut tail = Vec::new();
    for (side, b) in chat(&t, &mut e, 2, 40) {
        tail.extend(t.segs(side, &b, 25));
    }
    tail.swap(0, 1);
    segs.extend(tail);
    cap.put(&t, &segs);
    close(&mut cap, &mut t, &mut e);
    Scenario {
        name: "gen_raw_ipv6_gap_reordered",
        fault: "raw IPv6 link (LINKTYPE_RAW); segments swapped, one c2s segment lost mid-frame",
        cap,
        expect: e,
    }
}

fn ipv4_fragments_reversed() -> Scenario {
    let mut cap = Cap::new(Link::Ethernet);
    let mut e = Expect::default();
    let mut t = tcp(7, [1000, 5000]);
    open(&mut cap, &mut t, None);
    let payload: Vec<u8> = (0..1200u32).map(|i| (i * 7 % 256) as u8).collect();
    let s = t.seg(1, "PA", &frame(1, 0x82, &payload));
    let ip = t.ip_packet(&s);
    let mut frags = ipv4_fragments(&ip, 256, 0x4242);
    frags.reverse();
    for f in &frags {
        cap.ip(f);
    }
    e.msg(&t, 1, "binary", &payload);
    send(&mut cap, &mut t, 0, &text(0, "thanks"));
    e.text(&t, 0, "thanks");
    close(&mut cap, &mut t, &mut e);
    Scenario {
        name: "gen_ipv4_fragments_reversed",
        fault: "a 1200-byte binary frame in five IPv4 fragments sent last-first",
        cap,
        expect: e,
    }
}

fn qinq() -> Scenario {
    let mut cap = Cap::new(Link::QinQ);
    let mut e = Expect::default();
    let mut t = tcp(8, [1000, 5000]);
    open(&mut cap, &mut t, None);
    for (side, b) in chat(&t, &mut e, 3, 20) {
        send(&mut cap, &mut t, side, &b);
    }
    close(&mut cap, &mut t, &mut e);
    Scenario {
        name: "gen_qinq",
        fault: "802.1ad outer tag and 802.1Q inner tag on every frame (no fault expected)",
        cap,
        expect: e,
    }
}

fn seq_wrap() -> Scenario {
    let mut cap = Cap::new(Link::Ethernet);
    let mut e = Expect::default();
    // Both sides start 600 bytes below 2^32: the handshake and the big message wrap.
    let mut t = tcp(9, [u32::MAX - 600, u32::MAX - 300]);
    open(&mut cap, &mut t, None);
    let big: Vec<u8> = (0..5000u32).map(|i| (i % 253) as u8).collect();
    let mut segs = t.segs(0, &frame(0, 0x82, &big), 700);
    segs.swap(2, 3);
    cap.put(&t, &segs);
    e.msg(&t, 0, "binary", &big);
    send(&mut cap, &mut t, 1, &frame(1, 0x82, &big));
    e.msg(&t, 1, "binary", &big);
    close(&mut cap, &mut t, &mut e);
    Scenario {
        name: "gen_seq_wrap",
        fault: "sequence numbers wrap past 2^32 in the middle of a 5000-byte message each way (no fault expected)",
        cap,
        expect: e,
    }
}

fn tcp_conflict() -> Scenario {
    let mut cap = Cap::new(Link::Ethernet);
    let mut e = Expect::default();
    let mut t = tcp(10, [1000, 5000]);
    open(&mut cap, &mut t, None);
    // The first copy arrives ahead of a hole (held out of order), then a retransmission of
    // it with different bytes, then the hole's data. Held bytes are the first copy: it wins.
    // (Bytes already delivered in order are not kept, so a differing retransmission of those
    // cannot be compared; see the report.)
    let hole = t.seg(1, "PA", &text(1, "hole"));
    let s = t.seg(1, "PA", &text(1, "first copy"));
    let mut second = s.clone();
    second.payload = text(1, "OTHER copy");
    cap.put(&t, &[s, second, hole]);
    e.text(&t, 1, "hole");
    e.text(&t, 1, "first copy");
    e.error(Some(&t), Some(1), "tcp_conflict");
    send(&mut cap, &mut t, 1, &text(1, "next"));
    e.text(&t, 1, "next");
    close(&mut cap, &mut t, &mut e);
    Scenario {
        name: "gen_tcp_conflict",
        fault: "an s2c segment held out of order, retransmitted with different bytes before its hole fills (first copy wins)",
        cap,
        expect: e,
    }
}

fn data_after_close() -> Scenario {
    let mut cap = Cap::new(Link::Ethernet);
    let mut e = Expect::default();
    let mut t = tcp(11, [1000, 5000]);
    open(&mut cap, &mut t, None);
    send(&mut cap, &mut t, 0, &text(0, "hi"));
    e.text(&t, 0, "hi");
    let code = 1000u16.to_be_bytes();
    send(&mut cap, &mut t, 1, &frame(1, 0x88, &code));
    e.msg(&t, 1, "close", &code);
    // Its payload is unambiguous: flagged and listed.
    send(&mut cap, &mut t, 1, &text(1, "after close"));
    e.error(Some(&t), Some(1), "data_after_close");
    e.text(&t, 1, "after close");
    send(&mut cap, &mut t, 0, &frame(0, 0x88, &code));
    e.msg(&t, 0, "close", &code);
    let f = t.fin();
    cap.put(&t, &f);
    Scenario {
        name: "gen_data_after_close",
        fault: "server sends a text frame after its close frame (flagged and listed)",
        cap,
        expect: e,
    }
}

fn data_interleaved() -> Scenario {
    let mut cap = Cap::new(Link::Ethernet);
    let mut e = Expect::default();
    let mut t = tcp(12, [1000, 5000]);
    open(&mut cap, &mut t, None);
    send(&mut cap, &mut t, 1, &frame(1, 0x01, b"part one "));
    // A new data frame inside the fragmented message.
    // The unfinished message is dropped; the intruder is whole and unambiguous: listed.
    send(&mut cap, &mut t, 1, &text(1, "intruder"));
    e.error(Some(&t), Some(1), "data_interleaved_in_fragmented_message");
    e.text(&t, 1, "intruder");
    send(&mut cap, &mut t, 1, &text(1, "later"));
    e.text(&t, 1, "later");
    send(&mut cap, &mut t, 0, &text(0, "client ok"));
    e.text(&t, 0, "client ok");
    close(&mut cap, &mut t, &mut e);
    Scenario {
        name: "gen_data_interleaved",
        fault: "s2c text frame inside an unfinished fragmented s2c text message (that message dropped, the frame listed)",
        cap,
        expect: e,
    }
}

fn invalid_close_payload() -> Scenario {
    let mut cap = Cap::new(Link::Ethernet);
    let mut e = Expect::default();
    let mut t = tcp(13, [1000, 5000]);
    open(&mut cap, &mut t, None);
    send(&mut cap, &mut t, 0, &text(0, "bye soon"));
    e.text(&t, 0, "bye soon");
    // A one-byte close payload (RFC 6455 §5.5.1: 0 or at least 2 bytes).
    // Flagged and listed with its raw payload (the corpus convention for unambiguous frames).
    send(&mut cap, &mut t, 0, &frame(0, 0x88, &[0x03]));
    e.error(Some(&t), Some(0), "invalid_close_payload");
    e.msg(&t, 0, "close", &[0x03]);
    let code = 1000u16.to_be_bytes();
    send(&mut cap, &mut t, 1, &frame(1, 0x88, &code));
    e.msg(&t, 1, "close", &code);
    let f = t.fin();
    cap.put(&t, &f);
    Scenario {
        name: "gen_invalid_close_payload",
        fault: "client close frame with a 1-byte payload",
        cap,
        expect: e,
    }
}

fn bad_accept() -> Scenario {
    let mut cap = Cap::new(Link::Ethernet);
    let mut e = Expect::default();
    let mut t = tcp(14, [1000, 5000]);
    let (req, resp) = upgrade_with_accept(None, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    let mut s = t.syn();
    s.push(t.seg(0, "PA", &req));
    s.push(t.seg(1, "PA", &resp));
    cap.put(&t, &s);
    e.error(Some(&t), None, "bad_accept");
    // The peers talk WebSocket anyway: the frames are still decoded.
    send(&mut cap, &mut t, 0, &text(0, "still talking"));
    e.text(&t, 0, "still talking");
    send(&mut cap, &mut t, 1, &text(1, "me too"));
    e.text(&t, 1, "me too");
    close(&mut cap, &mut t, &mut e);
    Scenario {
        name: "gen_bad_accept",
        fault: "101 response with a wrong Sec-WebSocket-Accept; peers go on with frames",
        cap,
        expect: e,
    }
}

fn deflate_rsv1_control() -> Scenario {
    let mut cap = Cap::new(Link::Ethernet);
    let mut e = Expect::default();
    let mut t = tcp(15, [1000, 5000]);
    open(&mut cap, &mut t, Some("permessage-deflate"));
    let mut d = [Deflater::default(), Deflater::default()];
    let c = d[0].message(b"compressed hello");
    send(&mut cap, &mut t, 0, &frame(0, 0xc1, &c));
    e.text(&t, 0, "compressed hello");
    // RSV1 on a ping: RFC 7692 §6 allows it on data frames only.
    send(&mut cap, &mut t, 0, &frame(0, 0xc9, b"p"));
    e.error(Some(&t), Some(0), "rsv_without_extension");
    let c = d[1].message(b"compressed reply");
    send(&mut cap, &mut t, 1, &frame(1, 0xc1, &c));
    e.text(&t, 1, "compressed reply");
    let c = d[0].message(b"compressed hello again");
    send(&mut cap, &mut t, 0, &frame(0, 0xc1, &c));
    e.text(&t, 0, "compressed hello again");
    close(&mut cap, &mut t, &mut e);
    Scenario {
        name: "gen_deflate_rsv1_control",
        fault: "permessage-deflate; a c2s ping with RSV1 set (not listed)",
        cap,
        expect: e,
    }
}

fn deflate_gap_takeover() -> Scenario {
    let mut cap = Cap::new(Link::Ethernet);
    let mut e = Expect::default();
    let mut t = tcp(16, [1000, 5000]);
    open(&mut cap, &mut t, Some("permessage-deflate"));
    let mut d = [Deflater::default(), Deflater::default()];
    let words = |i: usize| -> String {
        (0..200)
            .map(|j| format!("word{} ", (i * 31 + j * 7) % 97))
            .collect()
    };
    let m0 = words(0);
    let c = d[1].message(m0.as_bytes());
    send(&mut cap, &mut t, 1, &frame(1, 0xc1, &c));
    e.text(&t, 1, &m0);
    // The second compressed message loses a segment: it and every later message of this
    // direction (context takeover: their window is gone) are flagged, never output.
    let m1: String = (0..400)
        .map(|j| format!("entry{} ", j * 13 % 1009))
        .collect();
    let f = frame(1, 0xc1, &d[1].message(m1.as_bytes()));
    let segs = t.segs(1, &f, f.len().div_ceil(3));
    cap.put(&t, &[segs[0].clone(), segs[2].clone()]);
    e.error(Some(&t), Some(1), "tcp_gap");
    e.error(Some(&t), Some(1), "deflate_context_lost");
    for i in 2..4 {
        let m = words(i);
        let c = d[1].message(m.as_bytes());
        send(&mut cap, &mut t, 1, &frame(1, 0xc1, &c));
    }
    // The client's direction has its own window and is unaffected.
    let c = d[0].message(b"client side still fine");
    send(&mut cap, &mut t, 0, &frame(0, 0xc1, &c));
    e.text(&t, 0, "client side still fine");
    close(&mut cap, &mut t, &mut e);
    Scenario {
        name: "gen_deflate_gap_takeover",
        fault: "permessage-deflate with context takeover; a segment lost inside an s2c compressed message: later s2c messages flagged, not output",
        cap,
        expect: e,
    }
}
