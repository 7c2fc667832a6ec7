use std::fs::File;
use std::io::{self, BufReader, Cursor, Read};

use super::*;
use crate::event::Timestamp;
use crate::packet::LinkType;

fn path(name: &str) -> String {
    format!("{}/captures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn open(name: &str) -> CaptureReader<BufReader<File>> {
    let file = File::open(path(name)).unwrap();
    CaptureReader::new(BufReader::new(file), &Limits::default()).unwrap()
}

/// A packet's fields, owned.
#[derive(Debug, PartialEq)]
struct Pkt {
    ts: Timestamp,
    link: LinkType,
    data: Vec<u8>,
    orig_len: u32,
}

/// Every packet until the end or the first error.
fn drain<R: Read>(r: &mut CaptureReader<R>) -> (Vec<Pkt>, Option<CaptureError>) {
    let mut out = Vec::new();
    loop {
        match r.next_packet() {
            Ok(Some(p)) => out.push(Pkt {
                ts: p.ts,
                link: p.link,
                data: p.data.to_vec(),
                orig_len: p.orig_len,
            }),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

fn read_bytes(
    bytes: Vec<u8>,
    limits: &Limits,
) -> Result<(Vec<Pkt>, Option<CaptureError>), CaptureError> {
    let mut r = CaptureReader::new(Cursor::new(bytes), limits)?;
    Ok(drain(&mut r))
}

fn corrupt_text(e: &CaptureError) -> &str {
    match &e.kind {
        CaptureErrorKind::Corrupt(what) => what,
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

/// Hands out the input a byte at a time, like a slow pipe.
struct Trickle(Vec<u8>, usize);

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match (self.0.get(self.1), buf.first_mut()) {
            (Some(&b), Some(slot)) => {
                *slot = b;
                self.1 += 1;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

// ---- synthetic files ----

fn pcap_header(magic: u32, big_endian: bool, link: u32) -> Vec<u8> {
    let mut v = Vec::new();
    let u32b = |x: u32| {
        if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        }
    };
    let u16b = |x: u16| {
        if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        }
    };
    v.extend(u32b(magic));
    v.extend(u16b(2));
    v.extend(u16b(4));
    v.extend([0; 8]);
    v.extend(u32b(262_144));
    v.extend(u32b(link));
    v
}

fn pcap_record(v: &mut Vec<u8>, big_endian: bool, secs: u32, frac: u32, data: &[u8], orig: u32) {
    for x in [secs, frac, data.len() as u32, orig] {
        v.extend(if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        });
    }
    v.extend_from_slice(data);
}

struct Ng {
    bytes: Vec<u8>,
    be: bool,
}

impl Ng {
    fn u32b(&self, x: u32) -> [u8; 4] {
        if self.be {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        }
    }
    fn u16b(&self, x: u16) -> [u8; 2] {
        if self.be {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        }
    }
    fn block(&mut self, kind: u32, body: &[u8]) {
        let padded = body.len().div_ceil(4) * 4;
        let len = (12 + padded) as u32;
        let (k, l) = (self.u32b(kind), self.u32b(len));
        self.bytes.extend(k);
        self.bytes.extend(l);
        self.bytes.extend_from_slice(body);
        self.bytes.resize(self.bytes.len() + padded - body.len(), 0);
        self.bytes.extend(l);
    }
    fn shb(&mut self, be: bool) {
        self.be = be;
        let mut body = Vec::new();
        body.extend(self.u32b(0x1a2b_3c4d));
        body.extend(self.u16b(1));
        body.extend(self.u16b(0));
        body.extend([0xff; 8]);
        self.block(0x0a0d_0d0a, &body);
    }
    /// `options`: (code, value) pairs.
    fn idb(&mut self, link: u16, snaplen: u32, options: &[(u16, Vec<u8>)]) {
        let mut body = Vec::new();
        body.extend(self.u16b(link));
        body.extend(self.u16b(0));
        body.extend(self.u32b(snaplen));
        for (code, value) in options {
            body.extend(self.u16b(*code));
            body.extend(self.u16b(value.len() as u16));
            body.extend(value);
            body.resize(body.len().div_ceil(4) * 4, 0);
        }
        if !options.is_empty() {
            body.extend([0; 4]);
        }
        self.block(1, &body);
    }
    fn epb(&mut self, iface: u32, units: u64, data: &[u8], orig: u32) {
        let mut body = Vec::new();
        for x in [
            iface,
            (units >> 32) as u32,
            units as u32,
            data.len() as u32,
            orig,
        ] {
            body.extend(self.u32b(x));
        }
        body.extend_from_slice(data);
        body.resize(body.len().div_ceil(4) * 4, 0);
        self.block(6, &body);
    }
    fn spb(&mut self, data: &[u8], orig: u32) {
        let mut body = self.u32b(orig).to_vec();
        body.extend_from_slice(data);
        self.block(3, &body);
    }
}

// ---- bundled captures ----

/// Counts checked against an independent parse of each file (Python struct walk); the
/// `.meta.json` files agree where they give a count.
const BUNDLED: &[(&str, usize)] = &[
    ("py_basic_echo.pcap", 56),
    ("py_coalesced_frames.pcap", 90),
    ("py_concurrent_clients.pcap", 204),
    ("py_control_frames.pcap", 93),
    ("py_deflate_context_takeover.pcap", 66),
    ("py_deflate_no_context_takeover.pcap", 99),
    ("py_fragmented.pcap", 101),
    ("py_http_then_upgrade.pcap", 68),
    ("py_ipv6_loopback.pcap", 48),
    ("py_length_boundaries.pcap", 74),
    ("py_linktype_sll2.pcap", 24),
    ("py_nsec.pcap", 24),
    ("py_pcapng.pcapng", 46),
    ("py_rejected_upgrade.pcap", 20),
    ("py_subprotocol.pcap", 30),
    ("adversarial/bomb_deflate_1gib.pcap", 47),
    ("adversarial/clean_base.pcap", 87),
    ("adversarial/mixed_traffic.pcap", 106),
    ("adversarial/seg_coalesced_ipv6.pcap", 23),
    ("adversarial/seg_one_byte.pcap", 514),
    ("adversarial/tx_gap.pcap", 85),
    ("adversarial/tx_midstream.pcap", 65),
    ("adversarial/tx_out_of_order.pcap", 87),
    ("adversarial/tx_snaplen128.pcap", 87),
    ("adversarial/tx_vlan.pcap", 87),
    ("adversarial/viol_length_msb_set.pcap", 17),
];

#[test]
fn bundled_captures_read_completely() {
    for &(name, count) in BUNDLED {
        let mut r = open(name);
        let (pkts, err) = drain(&mut r);
        assert!(err.is_none(), "{name}: {err:?}");
        assert_eq!(pkts.len(), count, "{name}");
        let size = std::fs::metadata(path(name)).unwrap().len();
        assert_eq!(
            r.offset(),
            size,
            "{name}: offset at the end is the file size"
        );
    }
}

#[test]
fn link_types_of_bundled_captures() {
    let first = |name| drain(&mut open(name)).0.remove(0);
    assert_eq!(first("py_linktype_sll2.pcap").link, LinkType::LinuxSll2);
    assert_eq!(first("py_pcapng.pcapng").link, LinkType::Ethernet);
    assert_eq!(first("py_basic_echo.pcap").link, LinkType::Ethernet);
}

#[test]
fn exact_first_timestamps() {
    let first = |name| drain(&mut open(name)).0.remove(0).ts;
    // Nanosecond magic: the fraction is taken as is.
    assert_eq!(
        first("py_nsec.pcap"),
        Timestamp::new(1_795_374_676, 29_331_857)
    );
    assert_eq!(
        first("py_basic_echo.pcap"),
        Timestamp::new(1_795_374_621, 554_003_000)
    );
    // pcapng, default resolution (microseconds).
    assert_eq!(
        first("py_pcapng.pcapng"),
        Timestamp::new(1_795_374_672, 445_455_000)
    );
}

#[test]
fn vlan_capture_keeps_its_tags() {
    let (pkts, _) = drain(&mut open("adversarial/tx_vlan.pcap"));
    assert!(
        pkts.iter()
            .all(|p| p.data.get(12..14) == Some(&[0x81, 0x00][..]))
    );
}

#[test]
fn snaplen_capture_is_cut_at_128() {
    let (pkts, _) = drain(&mut open("adversarial/tx_snaplen128.pcap"));
    assert!(pkts.iter().all(|p| p.data.len() <= 128));
    let cut = pkts
        .iter()
        .filter(|p| (p.data.len() as u32) < p.orig_len)
        .count();
    assert!(cut > 0);
    assert!(
        pkts.iter()
            .filter(|p| (p.data.len() as u32) < p.orig_len)
            .all(|p| p.data.len() == 128)
    );
}

#[test]
fn absurd_record_length_is_an_error_not_an_allocation() {
    let mut r = open("adversarial/corrupt_record.pcap");
    let (pkts, err) = drain(&mut r);
    assert_eq!(pkts.len(), 35);
    let err = err.unwrap();
    // 24-byte header + records #1..#35.
    assert_eq!(err.offset, 353_709);
    assert_eq!(
        corrupt_text(&err),
        "record #36 claims 4294967280 bytes, over the 16777216-byte record limit"
    );
    assert_eq!(r.inner.capacity(), READ_BUFFER);
}

#[test]
fn input_cut_inside_a_record() {
    let bytes = std::fs::read(path("py_basic_echo.pcap")).unwrap();
    // Header, first record (16 + 74), then 20 bytes of the second record.
    let cut = 24 + 16 + 74 + 20;
    let (pkts, err) = read_bytes(bytes[..cut].to_vec(), &Limits::default()).unwrap();
    assert_eq!(pkts.len(), 1);
    let err = err.unwrap();
    assert_eq!(err.offset, 24 + 16 + 74);
    assert_eq!(
        corrupt_text(&err),
        "file ends inside a record (record #2: 20 of 90 bytes present)"
    );
}

#[test]
fn not_a_capture() {
    for input in [&b""[..], b"GET / HTTP/1.1\r\n\r\n", b"\xd4\xc3"] {
        let err = CaptureReader::new(Cursor::new(input.to_vec()), &Limits::default())
            .err()
            .unwrap();
        assert!(
            matches!(err.kind, CaptureErrorKind::NotACapture),
            "{input:?}"
        );
        assert_eq!(err.offset, 0);
    }
    let err = CaptureReader::new(
        Cursor::new(b"\xd4\xc3\xb2\xa1\x02\x00".to_vec()),
        &Limits::default(),
    )
    .err()
    .unwrap();
    assert_eq!(corrupt_text(&err), "file ends inside the file header");
}

#[test]
fn header_only_pcap_is_empty() {
    let (pkts, err) = read_bytes(pcap_header(0xa1b2_c3d4, false, 1), &Limits::default()).unwrap();
    assert!(pkts.is_empty() && err.is_none());
}

#[test]
fn byte_at_a_time_input_reads_the_same() {
    for name in ["py_pcapng.pcapng", "py_nsec.pcap"] {
        let bytes = std::fs::read(path(name)).unwrap();
        let mut slow = CaptureReader::new(Trickle(bytes, 0), &Limits::default()).unwrap();
        let (slow, err) = drain(&mut slow);
        assert!(err.is_none());
        assert_eq!(slow, drain(&mut open(name)).0, "{name}");
    }
}

#[test]
fn pcap_byte_orders_and_units() {
    for (magic, be, nanos) in [
        (0xa1b2_c3d4, false, false),
        (0xa1b2_c3d4, true, false),
        (0xa1b2_3c4d, false, true),
        (0xa1b2_3c4d, true, true),
    ] {
        let mut v = pcap_header(magic, be, 101);
        pcap_record(&mut v, be, 7, 123_456, &[0x45, 1, 2], 60);
        // A fraction of more than a second carries into the seconds.
        pcap_record(&mut v, be, 7, 2_000_000_001, &[], 0);
        let (pkts, err) = read_bytes(v, &Limits::default()).unwrap();
        assert!(err.is_none());
        let unit = if nanos { 1 } else { 1000 };
        assert_eq!(
            pkts[0],
            Pkt {
                ts: Timestamp::new(7, 123_456 * unit),
                link: LinkType::Raw,
                data: vec![0x45, 1, 2],
                orig_len: 60,
            }
        );
        let second = if nanos {
            Timestamp::new(9, 1)
        } else {
            Timestamp::new(7 + 2000, 1000)
        };
        assert_eq!(pkts[1].ts, second);
    }
}

#[test]
fn modified_pcap_format_has_24_byte_record_headers() {
    let mut v = pcap_header(0xa1b2_cd34, false, 1);
    for x in [5u32, 6, 3, 3] {
        v.extend(x.to_le_bytes());
    }
    v.extend([2, 0, 0, 0, 0x08, 0x00, 4, 0]); // ifindex, protocol, packet type, pad
    v.extend([1, 2, 3]);
    let (pkts, err) = read_bytes(v, &Limits::default()).unwrap();
    assert!(err.is_none());
    assert_eq!(pkts[0].ts, Timestamp::new(5, 6000));
    assert_eq!(pkts[0].data, [1, 2, 3]);
}

#[test]
fn pcap_link_type_fcs_bits_are_ignored() {
    let mut v = pcap_header(0xa1b2_c3d4, false, 0x1000_0000 | 113);
    pcap_record(&mut v, false, 1, 0, &[0; 4], 4);
    let (pkts, _) = read_bytes(v, &Limits::default()).unwrap();
    assert_eq!(pkts[0].link, LinkType::LinuxSll);
}

#[test]
fn record_larger_than_the_read_buffer() {
    let big = vec![0xab; 3 << 20];
    let mut v = pcap_header(0xa1b2_c3d4, false, 1);
    pcap_record(&mut v, false, 1, 0, &[1, 2, 3], 3);
    pcap_record(&mut v, false, 2, 0, &big, big.len() as u32);
    pcap_record(&mut v, false, 3, 0, &[4], 1);
    let mut r = CaptureReader::new(Cursor::new(v), &Limits::default()).unwrap();
    let (pkts, err) = drain(&mut r);
    assert!(err.is_none());
    assert_eq!(pkts.len(), 3);
    assert_eq!(pkts[1].data, big);
    assert_eq!(pkts[2].data, [4]);
    // Doubled once, then just past the record: never the whole claim up front.
    assert_eq!(r.inner.capacity(), 16 + (3 << 20) + 1);
}

#[test]
fn record_over_a_small_limit() {
    let limits = Limits {
        max_record_bytes: 100,
        ..Limits::default()
    };
    let mut v = pcap_header(0xa1b2_c3d4, false, 1);
    pcap_record(&mut v, false, 1, 0, &[0; 100], 100);
    pcap_record(&mut v, false, 1, 0, &[0; 101], 101);
    let (pkts, err) = read_bytes(v, &limits).unwrap();
    assert_eq!(pkts.len(), 1);
    let err = err.unwrap();
    assert_eq!(err.offset, 24 + 116);
    assert_eq!(
        corrupt_text(&err),
        "record #2 claims 101 bytes, over the 100-byte record limit"
    );
}

#[test]
fn read_errors_are_reported_with_their_cause() {
    struct Failing(Cursor<Vec<u8>>);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.read(buf)? {
                0 => Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "pipe went away",
                )),
                n => Ok(n),
            }
        }
    }
    let mut v = pcap_header(0xa1b2_c3d4, false, 1);
    pcap_record(&mut v, false, 1, 0, &[9; 10], 10);
    v.extend([0; 5]);
    let mut r = CaptureReader::new(Failing(Cursor::new(v)), &Limits::default()).unwrap();
    let (pkts, err) = drain(&mut r);
    assert_eq!(pkts.len(), 1);
    let err = err.unwrap();
    match err.kind {
        CaptureErrorKind::Io(e) => assert_eq!(e.to_string(), "pipe went away"),
        other => panic!("{other:?}"),
    }
    assert_eq!(err.offset, 24 + 26 + 5);
}

#[test]
fn pcapng_sections_interfaces_and_resolutions() {
    let mut ng = Ng {
        bytes: Vec::new(),
        be: false,
    };
    ng.shb(false);
    // Interface 0: nanoseconds; interface 1: 2^-10 s units and a 100 s offset.
    ng.idb(1, 0, &[(9, vec![9])]);
    ng.idb(
        101,
        0,
        &[(9, vec![0x80 | 10]), (14, 100i64.to_le_bytes().to_vec())],
    );
    ng.block(0x0000_0bad, &[1, 2, 3, 4]); // unknown block: skipped
    ng.epb(0, 1_500_000_000_123_456_789, &[1, 2, 3], 3);
    ng.epb(1, (5 << 10) | 512, &[0x60; 5], 1500);
    ng.spb(&[7, 7, 7], 3);
    // Second section, big-endian: interface ids start again and the default unit is µs.
    ng.shb(true);
    ng.idb(113, 2, &[(14, (-5i64).to_be_bytes().to_vec())]);
    ng.epb(0, 42_000_001, &[8; 4], 4);
    ng.spb(&[9, 9, 9], 3); // snaplen 2 cuts it
    let (pkts, err) = read_bytes(ng.bytes, &Limits::default()).unwrap();
    assert!(err.is_none(), "{err:?}");
    let want = [
        (
            Timestamp::new(1_500_000_000, 123_456_789),
            LinkType::Ethernet,
            vec![1, 2, 3],
            3,
        ),
        (
            Timestamp::new(105, 500_000_000),
            LinkType::Raw,
            vec![0x60; 5],
            1500,
        ),
        (Timestamp::new(0, 0), LinkType::Ethernet, vec![7, 7, 7], 3),
        (Timestamp::new(37, 1000), LinkType::LinuxSll, vec![8; 4], 4),
        (Timestamp::new(0, 0), LinkType::LinuxSll, vec![9, 9], 3),
    ];
    let got: Vec<_> = pkts
        .into_iter()
        .map(|p| (p.ts, p.link, p.data, p.orig_len))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn pcapng_unknown_interface_is_corrupt() {
    let mut ng = Ng {
        bytes: Vec::new(),
        be: false,
    };
    ng.shb(false);
    ng.idb(1, 0, &[]);
    ng.epb(0, 1, &[1], 1);
    let at = ng.bytes.len() as u64;
    ng.epb(3, 1, &[1], 1);
    let (pkts, err) = read_bytes(ng.bytes, &Limits::default()).unwrap();
    assert_eq!(pkts.len(), 1);
    let err = err.unwrap();
    assert_eq!(err.offset, at);
    assert_eq!(
        corrupt_text(&err),
        "block #4 names interface 3, but the section describes 1"
    );
}

#[test]
fn pcapng_absurd_block_length() {
    let mut ng = Ng {
        bytes: Vec::new(),
        be: false,
    };
    ng.shb(false);
    ng.idb(1, 0, &[]);
    let at = ng.bytes.len() as u64;
    ng.bytes.extend(6u32.to_le_bytes());
    ng.bytes.extend(0xffff_fff0u32.to_le_bytes());
    ng.bytes.extend([0; 64]);
    let (pkts, err) = read_bytes(ng.bytes, &Limits::default()).unwrap();
    assert!(pkts.is_empty());
    let err = err.unwrap();
    assert_eq!(err.offset, at);
    assert_eq!(
        corrupt_text(&err),
        "block #3 claims 4294967280 bytes, over the 16777216-byte record limit"
    );
}

#[test]
fn pcapng_packet_length_overrunning_its_block() {
    let mut ng = Ng {
        bytes: Vec::new(),
        be: false,
    };
    ng.shb(false);
    ng.idb(1, 0, &[]);
    // An EPB whose caplen (1000) exceeds its own 36-byte block.
    let mut body = Vec::new();
    for x in [0u32, 0, 0, 1000, 1000] {
        body.extend(x.to_le_bytes());
    }
    ng.block(6, &body);
    ng.epb(0, 1, &[1], 1);
    let (pkts, err) = read_bytes(ng.bytes, &Limits::default()).unwrap();
    assert!(pkts.is_empty());
    assert!(corrupt_text(&err.unwrap()).starts_with("record #3 is malformed"));
}

#[test]
fn pcapng_timestamp_units() {
    use super::ts::from_pcapng;
    assert_eq!(from_pcapng(1_234_567, 6, 0), Timestamp::new(1, 234_567_000));
    assert_eq!(
        from_pcapng(1_234_567, 3, 0),
        Timestamp::new(1234, 567_000_000)
    );
    // Picoseconds: truncated to the nanosecond.
    assert_eq!(from_pcapng(1_000_000_001_999, 12, 0), Timestamp::new(1, 1));
    // 2^-20 s units: 1.5 s.
    assert_eq!(
        from_pcapng(3 << 19, 0x80 | 20, 0),
        Timestamp::new(1, 500_000_000)
    );
    // 2^-1 s units, and an offset.
    assert_eq!(from_pcapng(3, 0x81, -10), Timestamp::new(-9, 500_000_000));
    // Units too fine for any 64-bit count to reach a nanosecond.
    assert_eq!(from_pcapng(u64::MAX, 60, 0), Timestamp::new(0, 0));
    assert_eq!(from_pcapng(u64::MAX, 0x80 | 127, 0), Timestamp::new(0, 0));
    assert_eq!(from_pcapng(u64::MAX, 0, 0), Timestamp::new(i64::MAX, 0));
}

#[test]
fn reader_over_stdin_or_files_can_move_between_threads() {
    fn is_send<T: Send>() {}
    is_send::<CaptureReader<std::io::Stdin>>();
    is_send::<CaptureReader<File>>();
}

/// Records that end exactly where the read buffer does, and files that end there: consumed
/// records are not shifted out of the buffer one by one (that copied every byte once more),
/// so the end of the input must still be seen as a clean end, not a cut record.
#[test]
fn records_ending_on_the_read_buffer_boundary() {
    // 24-byte header + 8 records of 131,069 bytes fill the 1 MiB buffer exactly.
    let data_len = (READ_BUFFER - 24) / 8 - 16;
    assert_eq!(24 + 8 * (16 + data_len), READ_BUFFER);
    for records in [8usize, 9, 16, 17] {
        let mut v = pcap_header(0xa1b2_c3d4, false, 1);
        for i in 0..records {
            let data = vec![i as u8; data_len];
            pcap_record(&mut v, false, i as u32, 0, &data, data_len as u32);
        }
        let (pkts, err) = read_bytes(v.clone(), &Limits::default()).unwrap();
        assert!(err.is_none(), "{records} records: {err:?}");
        assert_eq!(pkts.len(), records);
        for (i, p) in pkts.iter().enumerate() {
            assert_eq!(p.data, vec![i as u8; data_len], "record {i} of {records}");
        }
        let mut slow = CaptureReader::new(Trickle(v, 0), &Limits::default()).unwrap();
        let (slow, err) = drain(&mut slow);
        assert!(err.is_none());
        assert_eq!(slow, pkts);
    }
}

/// Packets lent out stay intact while held, however much is read after them; when nothing
/// is held, the one buffer is refilled in place.
#[test]
fn lent_packets_are_not_overwritten() {
    let mut v = pcap_header(0xa1b2_c3d4, false, 1);
    let records = 3 * READ_BUFFER / 1500;
    let data = |i: usize| -> Vec<u8> { (0..1500).map(|j| (i * 31 + j) as u8).collect() };
    for i in 0..records {
        pcap_record(&mut v, false, i as u32, 0, &data(i), 1500);
    }
    let mut r = CaptureReader::new(Cursor::new(v.clone()), &Limits::default()).unwrap();
    let mut held = Vec::new();
    while let Some((pkt, chunk)) = r.next_packet_lent().unwrap() {
        let at = pkt.data.as_ptr() as usize - chunk.as_ptr() as usize;
        held.push((Chunk::clone(chunk), at));
    }
    assert_eq!(held.len(), records);
    let buffers: std::collections::HashSet<_> = held.iter().map(|(c, _)| c.as_ptr()).collect();
    assert!(buffers.len() >= 3, "{} buffers", buffers.len());
    for (i, (chunk, at)) in held.iter().enumerate() {
        assert_eq!(chunk[*at..*at + 1500], data(i), "packet {i}");
    }

    let mut r = CaptureReader::new(Cursor::new(v), &Limits::default()).unwrap();
    let mut buffers = std::collections::HashSet::new();
    while let Some((_, chunk)) = r.next_packet_lent().unwrap() {
        buffers.insert(chunk.as_ptr());
    }
    assert_eq!(buffers.len(), 1);
}
