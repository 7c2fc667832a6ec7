//! RFC 7541 Appendix C, and what a passive decoder adds: bad input, limits, lost state.

use super::*;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn pairs(fields: &[HeaderField]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|f| {
            assert_eq!(f.unresolved, None, "{f:?}");
            (
                String::from_utf8(f.name.clone()).unwrap(),
                String::from_utf8(f.value.clone()).unwrap(),
            )
        })
        .collect()
}

fn expect(d: &mut Decoder, wire: &str, want: &[(&str, &str)], table_size: usize) {
    let mut out = Vec::new();
    d.decode(&hex(wire), &mut out).unwrap();
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    assert_eq!(pairs(&out), want);
    assert_eq!(d.table_size(), table_size);
    assert!(d.warnings().is_empty());
}

#[test]
fn c2_1_literal_with_indexing() {
    let mut d = Decoder::new(4096);
    expect(
        &mut d,
        "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
        &[("custom-key", "custom-header")],
        55,
    );
}

#[test]
fn c2_2_literal_without_indexing() {
    let mut d = Decoder::new(4096);
    expect(
        &mut d,
        "040c 2f73 616d 706c 652f 7061 7468",
        &[(":path", "/sample/path")],
        0,
    );
}

#[test]
fn c2_3_literal_never_indexed() {
    let mut d = Decoder::new(4096);
    expect(
        &mut d,
        "1008 7061 7373 776f 7264 0673 6563 7265 74",
        &[("password", "secret")],
        0,
    );
}

#[test]
fn c2_4_indexed() {
    let mut d = Decoder::new(4096);
    expect(&mut d, "82", &[(":method", "GET")], 0);
}

const REQ1: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "http"),
    (":path", "/"),
    (":authority", "www.example.com"),
];
const REQ2: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "http"),
    (":path", "/"),
    (":authority", "www.example.com"),
    ("cache-control", "no-cache"),
];
const REQ3: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "https"),
    (":path", "/index.html"),
    (":authority", "www.example.com"),
    ("custom-key", "custom-value"),
];

#[test]
fn c3_requests_without_huffman() {
    let mut d = Decoder::new(4096);
    expect(
        &mut d,
        "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
        REQ1,
        57,
    );
    expect(&mut d, "8286 84be 5808 6e6f 2d63 6163 6865", REQ2, 110);
    expect(
        &mut d,
        "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
        REQ3,
        164,
    );
    assert_eq!(d.table_len(), 3);
}

#[test]
fn c4_requests_with_huffman() {
    let mut d = Decoder::new(4096);
    expect(
        &mut d,
        "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
        REQ1,
        57,
    );
    expect(&mut d, "8286 84be 5886 a8eb 1064 9cbf", REQ2, 110);
    expect(
        &mut d,
        "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
        REQ3,
        164,
    );
}

const RESP1: &[(&str, &str)] = &[
    (":status", "302"),
    ("cache-control", "private"),
    ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
    ("location", "https://www.example.com"),
];
const RESP2: &[(&str, &str)] = &[
    (":status", "307"),
    ("cache-control", "private"),
    ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
    ("location", "https://www.example.com"),
];
const RESP3: &[(&str, &str)] = &[
    (":status", "200"),
    ("cache-control", "private"),
    ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
    ("location", "https://www.example.com"),
    ("content-encoding", "gzip"),
    (
        "set-cookie",
        "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
    ),
];

/// C.5 and C.6 use a 256-byte table: the encoder announces it with a size update (as an
/// encoder must after SETTINGS_HEADER_TABLE_SIZE changes); this observer follows the stream.
fn table_256() -> Decoder {
    let mut d = Decoder::new(4096);
    let mut out = Vec::new();
    // 001 11111 + 256 - 31 = 225 = 0xe1 0x01.
    d.decode(&[0x3f, 0xe1, 0x01], &mut out).unwrap();
    assert!(out.is_empty());
    assert_eq!(d.table_max_size(), 256);
    d
}

#[test]
fn c5_responses_without_huffman() {
    let mut d = table_256();
    expect(
        &mut d,
        "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
         2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
         6c65 2e63 6f6d",
        RESP1,
        222,
    );
    expect(&mut d, "4803 3330 37c1 c0bf", RESP2, 222);
    expect(
        &mut d,
        "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
         54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
         5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
         3d31",
        RESP3,
        215,
    );
    assert_eq!(d.table_len(), 3);
}

#[test]
fn c6_responses_with_huffman() {
    let mut d = table_256();
    expect(
        &mut d,
        "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
         2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
        RESP1,
        222,
    );
    expect(&mut d, "4883 640e ffc1 c0bf", RESP2, 222);
    expect(
        &mut d,
        "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
         77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
         9587 3160 65c0 03ed 4ee5 b106 3d50 07",
        RESP3,
        215,
    );
}

#[test]
fn byte_0x3f_alone_is_truncated_not_a_panic() {
    // A size update whose 5-bit prefix is full announces continuation bytes that never come.
    let mut d = Decoder::new(4096);
    let mut out = Vec::new();
    assert_eq!(d.decode(&[0x3f], &mut out), Err(HpackError::Truncated));
    assert!(out.is_empty());
    // Every other single byte either decodes or fails cleanly.
    for b in 0..=255u8 {
        let mut d = Decoder::new(4096);
        let _ = d.decode(&[b], &mut out);
    }
}

#[test]
fn integer_overflow_is_an_error() {
    let mut d = Decoder::new(4096);
    let mut out = Vec::new();
    let mut block = vec![0xffu8];
    block.extend([0xff; 9]);
    block.push(0x01);
    assert_eq!(d.decode(&block, &mut out), Err(HpackError::IntegerOverflow));
    // A string length over 2^32.
    let block = [0x40, 0x7f, 0xff, 0xff, 0xff, 0xff, 0x7f];
    assert_eq!(d.decode(&block, &mut out), Err(HpackError::IntegerOverflow));
}

#[test]
fn bad_indexes() {
    let mut d = Decoder::new(4096);
    let mut out = Vec::new();
    assert_eq!(d.decode(&[0x80], &mut out), Err(HpackError::IndexZero));
    let mut d = Decoder::new(4096);
    assert_eq!(
        d.decode(&[0xbe], &mut out),
        Err(HpackError::IndexOutOfRange(62))
    );
    // After an error the table is no longer known whole: the same index is now unresolved.
    assert!(!d.is_certain());
    out.clear();
    d.decode(&[0xbe], &mut out).unwrap();
    assert_eq!(out, [HeaderField::unresolved(62)]);
    // A literal naming a missing entry, while the table is known.
    let mut d = Decoder::new(4096);
    assert_eq!(
        d.decode(&[0x7f, 0x00, 0x01, b'v'], &mut out),
        Err(HpackError::IndexOutOfRange(63))
    );
}

#[test]
fn huffman_errors_through_the_decoder() {
    let mut out = Vec::new();
    // Literal without indexing, new name "a" (Huffman 0x1f), value: 4 bytes of ones (EOS).
    let mut d = Decoder::new(4096);
    assert_eq!(
        d.decode(&[0x00, 0x81, 0x1f, 0x84, 0xff, 0xff, 0xff, 0xff], &mut out),
        Err(HpackError::Huffman)
    );
    // Padding of 8 bits.
    let mut d = Decoder::new(4096);
    assert_eq!(
        d.decode(&[0x00, 0x81, 0x1f, 0x82, 0x1f, 0xff], &mut out),
        Err(HpackError::Huffman)
    );
    // Padding not made of ones: 'a' = 00011 + 000.
    let mut d = Decoder::new(4096);
    assert_eq!(
        d.decode(&[0x00, 0x81, 0x18, 0x80], &mut out),
        Err(HpackError::Huffman)
    );
}

#[test]
fn size_update_after_a_field_is_applied_with_a_warning() {
    let mut d = Decoder::new(4096);
    let mut out = Vec::new();
    // :method GET, then a size update to 0.
    d.decode(&[0x82, 0x20], &mut out).unwrap();
    assert_eq!(d.warnings(), [HpackWarning::SizeUpdateAfterField]);
    assert_eq!(d.table_max_size(), 0);
}

#[test]
fn size_update_flood_stays_bounded() {
    let mut d = Decoder::new(1024);
    let mut block = Vec::new();
    for _ in 0..10_000 {
        // 4,294,967,295 claimed each time: 0x3f then 4294967295 - 31 in 7-bit groups.
        block.extend([0x3f, 0xe0, 0xff, 0xff, 0xff, 0x0f]);
    }
    block.extend(hex(
        "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
    ));
    let mut out = Vec::new();
    d.decode(&block, &mut out).unwrap();
    assert_eq!(pairs(&out), [("custom-key".into(), "custom-header".into())]);
    assert!(d.warnings().contains(&HpackWarning::SizeUpdates(10_000)));
    assert!(d.warnings().contains(&HpackWarning::TableOverCap {
        claimed: u64::from(u32::MAX),
        cap: 1024
    }));
    assert!(d.memory() < 4096, "{}", d.memory());
}

#[test]
fn table_over_cap_gives_unresolved_not_errors() {
    // The encoder's table is 4096 bytes; this observer keeps 100.
    let mut d = Decoder::new(100);
    let mut out = Vec::new();
    // Insert "a: 1" then "b: 2" (34 bytes each) and a 40-byte one: only 2 fit in 100.
    d.decode(&[0x40, 0x01, b'a', 0x01, b'1'], &mut out).unwrap();
    d.decode(&[0x40, 0x01, b'b', 0x01, b'2'], &mut out).unwrap();
    d.decode(
        &[
            0x40, 0x01, b'c', 0x07, b'3', b'3', b'3', b'3', b'3', b'3', b'3',
        ],
        &mut out,
    )
    .unwrap();
    out.clear();
    // 62 = c, 63 = b, 64 = a (dropped here, kept by the encoder).
    d.decode(&[0xbe, 0xbf, 0xc0], &mut out).unwrap();
    assert_eq!(out[0], HeaderField::new("c", "3333333"));
    assert_eq!(out[1], HeaderField::new("b", "2"));
    assert_eq!(out[2], HeaderField::unresolved(64));
    // Past the encoder's own table too (it holds 3 entries): with a cap below the encoder's
    // size the observer cannot tell, so it stays unresolved rather than failing.
    out.clear();
    d.decode(&[0xc3], &mut out).unwrap();
    assert_eq!(out, [HeaderField::unresolved(67)]);
}

#[test]
fn lost_state_resolves_what_came_after() {
    let mut d = Decoder::new(4096);
    let mut out = Vec::new();
    d.decode(
        &hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"),
        &mut out,
    )
    .unwrap();
    d.lose_state();
    out.clear();
    // C.3.2 after the loss: index 62 (":authority") is unknown; the new entry is known.
    d.decode(&hex("8286 84be 5808 6e6f 2d63 6163 6865"), &mut out)
        .unwrap();
    assert_eq!(out[3], HeaderField::unresolved(62));
    assert_eq!(out[4], HeaderField::new("cache-control", "no-cache"));
    // C.3.3: 63 is still unknown, 62 (cache-control) is not referenced; a literal naming an
    // unknown entry keeps its value.
    out.clear();
    d.decode(&[0xbe, 0xbf, 0x7f, 0x00, 0x03, b'x', b'y', b'z'], &mut out)
        .unwrap();
    assert_eq!(out[0], HeaderField::new("cache-control", "no-cache"));
    assert_eq!(out[1], HeaderField::unresolved(63));
    assert_eq!(out[2], HeaderField::unresolved_name(63, b"xyz"));
    // That entry went into the table with an unknown name: referring to it keeps the value.
    out.clear();
    d.decode(&[0xbe], &mut out).unwrap();
    assert_eq!(out, [HeaderField::unresolved_name(62, b"xyz")]);
    // A size update to 0 empties both tables: everything is known again.
    d.decode(&[0x20, 0x3f, 0xe1, 0x1f], &mut out).unwrap();
    assert!(d.is_certain());
    assert_eq!(
        d.decode(&[0xbe], &mut out),
        Err(HpackError::IndexOutOfRange(62))
    );
}

#[test]
fn certainty_returns_when_insertions_overflow_a_known_size() {
    let mut d = Decoder::new(4096);
    let mut out = Vec::new();
    d.lose_state();
    // The size is learnt (100), then entries overflow it: all older entries are gone.
    d.decode(&[0x3f, 0x45], &mut out).unwrap();
    assert!(!d.is_certain());
    d.decode(&[0x40, 0x01, b'a', 0x01, b'1'], &mut out).unwrap();
    d.decode(&[0x40, 0x01, b'b', 0x01, b'2'], &mut out).unwrap();
    assert!(!d.is_certain());
    d.decode(&[0x40, 0x01, b'c', 0x01, b'3'], &mut out).unwrap();
    assert!(d.is_certain());
}

#[test]
fn list_limit_keeps_the_table_in_step() {
    let mut d = Decoder::new(4096);
    d.set_max_list_bytes(100);
    let mut out = Vec::new();
    // A 69-byte entry inserted, then referred to twice (2 x 102 > 100), then a new entry.
    let mut block = vec![0x40, 0x01, b'k', 0x24];
    block.extend([b'v'; 36]);
    block.extend([0xbe, 0xbe]);
    block.extend([0x40, 0x01, b'n', 0x01, b'm']);
    assert_eq!(
        d.decode(&block, &mut out),
        Err(HpackError::ListTooLarge { limit: 100 })
    );
    assert_eq!(out.len(), 1);
    assert!(d.is_certain());
    // The entry inserted after the limit is there.
    out.clear();
    d.decode(&[0xbe], &mut out).unwrap();
    d.decode(&[0xbf], &mut out).unwrap();
    assert_eq!(out[0], HeaderField::new("n", "m"));
    assert_eq!(out[1].name, b"k");
}

#[test]
fn indexed_bomb_is_cut_at_the_list_limit() {
    // One 4 KB entry referred to 60,000 times: 240 MB if expanded.
    let mut d = Decoder::new(8192);
    let mut block = vec![0x3f, 0xe1, 0x3f, 0x40, 0x01, b'k', 0x7f, 0xa1, 0x1e];
    block.extend([b'v'; 4000]);
    block.extend(std::iter::repeat_n(0xbe, 60_000));
    let mut out = Vec::new();
    assert!(matches!(
        d.decode(&block, &mut out),
        Err(HpackError::ListTooLarge { .. })
    ));
    let bytes: usize = out.iter().map(|f| f.name.len() + f.value.len()).sum();
    assert!(bytes <= DEFAULT_MAX_LIST_BYTES, "{bytes}");
}
