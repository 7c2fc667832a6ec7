//! After a loss in a compressed direction with context takeover: a message is listed only
//! when its bytes provably do not depend on the lost history, and the window is trusted again
//! once the sender's window of true output has followed the loss.

use super::inflate::{Inflater, TAIL};
use super::tests::{cfg, frame, kinds};
use super::*;
use flate2::{Compress, Compression, FlushCompress};

const TAKEOVER: Option<DirDeflate> = Some(DirDeflate {
    no_context_takeover: false,
    max_window_bits: 15,
});

fn compressor(bits: u8) -> Compress {
    Compress::new_with_window_bits(Compression::default(), false, bits)
}

/// RFC 7692 §7.2.1: compress, sync-flush, strip the trailing 00 00 ff ff.
fn deflate(c: &mut Compress, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() * 2 + 1024);
    c.compress_vec(data, &mut out, FlushCompress::Sync).unwrap();
    assert!(out.len() < out.capacity());
    out.truncate(out.len() - 4);
    out
}

fn payloads(ev: &[DirEvent]) -> Vec<Vec<u8>> {
    ev.iter()
        .filter_map(|e| match e {
            DirEvent::Message(m) => Some(m.payload.clone()),
            DirEvent::Anomaly(_) => None,
        })
        .collect()
}

/// Pseudo-random bytes: DEFLATE finds nothing to copy in them.
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A server direction with context takeover: message 0, a hole in message 1, then `after`.
fn after_a_loss(c: &mut Compress, after: &[Vec<u8>]) -> Vec<DirEvent> {
    let m0 = frame(
        0xc2,
        &deflate(c, b"the history: alpha bravo charlie delta echo foxtrot"),
        None,
    );
    let m1 = frame(
        0xc2,
        &deflate(c, b"lost: golf hotel india juliett kilo lima mike"),
        None,
    );
    let mut d = WsDecoder::new(cfg(Sender::Server, TAKEOVER));
    let mut ev = Vec::new();
    d.feed(&m0, &mut ev);
    d.feed(&m1[..4], &mut ev);
    d.gap(4, &mut ev);
    d.feed(&m1[8..], &mut ev);
    for m in after {
        d.feed(&frame(0xc2, &deflate(c, m), None), &mut ev);
    }
    d.finish(&mut ev);
    ev
}

#[test]
fn messages_after_a_loss_listed_only_when_they_copy_nothing_lost() {
    let mut c = compressor(15);
    let fresh = b"zulu yankee xray whiskey victor uniform".to_vec();
    let ev = after_a_loss(
        &mut c,
        &[
            fresh.clone(),
            // Copies from message 1, which was lost.
            b"golf hotel india juliett kilo lima mike".to_vec(),
            // Copies only from the fresh message, seen whole after the loss.
            b"yankee xray whiskey victor uniform zulu".to_vec(),
            // Copies from message 0: before the loss.
            b"alpha bravo charlie delta echo foxtrot".to_vec(),
        ],
    );
    assert_eq!(
        kinds(&ev),
        [
            "M:binary",
            "incomplete_message",
            "M:binary",
            "deflate_context_lost",
            "M:binary",
            "deflate_context_lost",
        ]
    );
    assert_eq!(
        payloads(&ev),
        [
            b"the history: alpha bravo charlie delta echo foxtrot".to_vec(),
            fresh,
            b"yankee xray whiskey victor uniform zulu".to_vec(),
        ]
    );
    let DirEvent::Anomaly(a) = &ev[3] else {
        panic!("{:?}", ev[3]);
    };
    assert!(
        a.detail.starts_with("binary message from stream offset"),
        "{}",
        a.detail
    );
}

/// Every byte the decoder lists after a loss is a byte the sender compressed: whatever the
/// later messages copy, a listed one equals what was sent.
#[test]
fn listed_messages_after_a_loss_are_exact() {
    let mut c = compressor(15);
    let words: Vec<Vec<u8>> = (0..40)
        .map(|i| {
            let mut w = format!("message {i}: ").into_bytes();
            w.extend_from_slice(&noise(20 + i * 7 % 50, i as u64).repeat(2));
            if i % 3 == 0 {
                w.extend_from_slice(b"lost: golf hotel india");
            }
            w
        })
        .collect();
    let ev = after_a_loss(&mut c, &words);
    let listed = payloads(&ev);
    assert!(listed.len() > 10, "{}", listed.len());
    for p in &listed[1..] {
        assert!(words.contains(p), "{:?}", String::from_utf8_lossy(p));
    }
    // Messages that mention the lost words copy them: none of those is listed.
    assert!(
        listed[1..]
            .iter()
            .all(|p| !p.ends_with(b"golf hotel india"))
    );
}

#[test]
fn window_trusted_again_after_the_senders_window_of_true_output() {
    for (bits, need) in [(15u8, 32_768usize), (12, 4096), (8, 512)] {
        let mut inf = Inflater::new(bits);
        inf.lose_window();
        let mut c = compressor(bits.max(9));
        // Each message alone is short of the window; together they fill it.
        let chunk = noise(need / 4 + 10, u64::from(bits));
        let mut trusted = false;
        for i in 0..6 {
            let mut z = deflate(&mut c, &chunk);
            z.extend_from_slice(&TAIL);
            let mut out = Vec::new();
            inf.push(&z, &mut Some(&mut out), usize::MAX, false)
                .unwrap();
            assert_eq!(out, chunk);
            assert!(!inf.end_message(), "message {i} copies nothing lost");
            if !inf.recovering() {
                trusted = true;
                assert_eq!(i, 3, "{bits} bits: trusted after message {i}");
                break;
            }
        }
        assert!(trusted, "{bits} bits");
    }
}

/// Output thrown away (over the inflated-size limit) still moves both inflaters in step.
#[test]
fn discarded_message_keeps_recovery_in_step() {
    let mut c = compressor(15);
    let lost = frame(0xc2, &deflate(&mut c, b"a message that loses bytes"), None);
    let big = b"over the limit ".repeat(100);
    let after = b"over the limit, and copied".to_vec();
    let mut config = cfg(Sender::Server, TAKEOVER);
    config.max_inflated_bytes = 1000;
    let mut d = WsDecoder::new(config);
    let mut ev = Vec::new();
    // Bytes lost inside a payload of known length: framing stays, the window does not.
    d.feed(&lost[..4], &mut ev);
    d.gap(3, &mut ev);
    d.feed(&lost[7..], &mut ev);
    d.feed(&frame(0xc2, &deflate(&mut c, &big), None), &mut ev);
    d.feed(&frame(0xc2, &deflate(&mut c, &after), None), &mut ev);
    d.finish(&mut ev);
    assert_eq!(
        kinds(&ev),
        ["incomplete_message", "decompression_limit", "M:binary"]
    );
    assert_eq!(payloads(&ev), [after]);
}

/// A message that ended with a final block (RFC 7692 §7.2.3.3): the next stream may copy from
/// earlier output, of which only that message is known.
#[test]
fn final_block_then_a_copy_from_before_it() {
    let mut c = compressor(15);
    let first = b"first message: alpha bravo charlie delta".to_vec();
    let w0 = frame(0xc2, &deflate(&mut c, &first), None);
    let mut z = Vec::with_capacity(256);
    c.compress_vec(b"final: echo foxtrot", &mut z, FlushCompress::Finish)
        .unwrap();
    // A new stream whose dictionary holds both earlier messages, copying from the first.
    let mut c2 = compressor(15);
    c2.set_dictionary(&[first.as_slice(), b"final: echo foxtrot"].concat())
        .unwrap();
    let third = b"alpha bravo charlie delta again".to_vec();
    let w2 = frame(0xc2, &deflate(&mut c2, &third), None);
    let fourth = b"echo foxtrot only".to_vec();
    let w3 = frame(0xc2, &deflate(&mut c2, &fourth), None);
    let mut d = WsDecoder::new(cfg(Sender::Server, TAKEOVER));
    let mut ev = Vec::new();
    for w in [w0, frame(0xc2, &z, None), w2, w3] {
        d.feed(&w, &mut ev);
    }
    d.finish(&mut ev);
    assert_eq!(
        kinds(&ev),
        ["M:binary", "M:binary", "deflate_context_lost", "M:binary"]
    );
    assert_eq!(payloads(&ev)[2], fourth);
}
