//! Soak (issue 7, long runs): streams generated traffic (many short connections opening and
//! closing, long-lived ones talking throughout, some with permessage-deflate) through the
//! engine for minutes, printing resident memory over time; asserts memory stays flat and
//! every connection ends. Ignored by default (it runs for minutes):
//! `WSNOOP_SOAK_SECS=300 cargo test --release --test soak -- --ignored --nocapture`.

mod common;

use std::time::{Duration, Instant};

use common::flood::vm_hwm;
use common::forge::*;
use wsnoop::event::{EventKind, Timestamp};
use wsnoop::packet::{LinkType, RawPacket};
use wsnoop::{Engine, Event, Limits};

fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

#[derive(Default)]
struct Counts {
    opens: u64,
    ends: u64,
    messages: u64,
    anomalies: u64,
    packets: u64,
}

struct Feed {
    engine: Engine,
    events: Vec<Event>,
    counts: Counts,
    micros: u64,
}

impl Feed {
    fn put(&mut self, t: &Tcp, segs: &[Seg]) {
        for s in segs {
            let frame = Link::Ethernet.wrap(&t.ip_packet(s));
            self.micros += 3;
            let pkt = RawPacket {
                ts: Timestamp::new(1_700_000_000 + (self.micros / 1_000_000) as i64, 0),
                link: LinkType::Ethernet,
                data: &frame,
                orig_len: frame.len() as u32,
            };
            self.engine.packet(&pkt, &mut self.events);
            self.counts.packets += 1;
        }
        self.drain();
    }

    fn drain(&mut self) {
        for e in self.events.drain(..) {
            match e.kind {
                EventKind::Open(_) => self.counts.opens += 1,
                EventKind::End { .. } => self.counts.ends += 1,
                EventKind::Message { .. } => self.counts.messages += 1,
                EventKind::Anomaly { .. } => self.counts.anomalies += 1,
                EventKind::Proto(_) | EventKind::Silence { .. } | EventKind::Refused(_) => {}
            }
        }
    }
}

struct Long {
    tcp: Tcp,
    deflate: Option<[Deflater; 2]>,
}

fn addr(n: u64) -> (String, String) {
    (
        format!(
            "10.{}.{}.{}:{}",
            100 + n % 100,
            (n / 100) % 250,
            (n / 25_000) % 250,
            1024 + n % 60_000
        ),
        format!("10.0.0.{}:443", 1 + n % 7),
    )
}

fn open(feed: &mut Feed, t: &mut Tcp, ext: Option<&str>) {
    let (req, resp) = upgrade(ext);
    let mut s = t.syn();
    s.push(t.seg(0, "PA", &req));
    s.push(t.seg(1, "PA", &resp));
    feed.put(t, &s);
}

#[test]
#[ignore = "runs for minutes: WSNOOP_SOAK_SECS=300 cargo test --release --test soak -- --ignored --nocapture"]
fn soak() {
    let secs: u64 = std::env::var("WSNOOP_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(180);
    let mut feed = Feed {
        engine: Engine::new(Limits::default()),
        events: Vec::new(),
        counts: Counts::default(),
        micros: 0,
    };
    let mut longs: Vec<Long> = (0..200u64)
        .map(|i| {
            let (c, s) = addr(1_000_000 + i);
            let mut tcp = Tcp::new(&c, &s, [i as u32 * 7919, i as u32 * 104_729]);
            let deflate = (i % 2 == 0).then(|| [Deflater::default(), Deflater::default()]);
            let ext = deflate.as_ref().map(|_| "permessage-deflate");
            open(&mut feed, &mut tcp, ext);
            Long { tcp, deflate }
        })
        .collect();
    let start = Instant::now();
    let mut next_report = Duration::ZERO;
    let mut short_n = 0u64;
    let mut round = 0u64;
    let mut samples = Vec::new();
    println!("elapsed_s  rss_mb  packets  opens  ends  messages  tracked");
    while start.elapsed() < Duration::from_secs(secs) {
        round += 1;
        // 20 short connections at once, interleaved: handshake, a few messages, close.
        let mut shorts: Vec<Tcp> = (0..20)
            .map(|_| {
                short_n += 1;
                let (c, s) = addr(short_n);
                Tcp::new(&c, &s, [short_n as u32, !(short_n as u32)])
            })
            .collect();
        for t in &mut shorts {
            open(&mut feed, t, None);
        }
        for k in 0..3 {
            for t in &mut shorts {
                let c = t.seg(0, "PA", &text(0, &format!("short {k}")));
                let s = t.seg(1, "PA", &frame(1, 0x82, &[k as u8; 300]));
                feed.put(t, &[c, s]);
            }
        }
        for t in &mut shorts {
            let code = 1000u16.to_be_bytes();
            let mut s = vec![t.seg(0, "PA", &frame(0, 0x88, &code))];
            s.push(t.seg(1, "PA", &frame(1, 0x88, &code)));
            s.extend(t.fin());
            feed.put(t, &s);
        }
        // Every long connection says something each way, now and then a big message.
        for (i, l) in longs.iter_mut().enumerate() {
            let size = if (round + i as u64).is_multiple_of(50) {
                100_000
            } else {
                200
            };
            let body: String = (0..size)
                .map(|j| (b'a' + ((j + i) % 26) as u8) as char)
                .collect();
            for side in 0..2 {
                let f = match &mut l.deflate {
                    Some(d) => frame(side, 0xc1, &d[side].message(body.as_bytes())),
                    None => frame(side, 0x81, body.as_bytes()),
                };
                let segs = l.tcp.segs(side, &f, 1448);
                feed.put(&l.tcp, &segs);
            }
        }
        if start.elapsed() >= next_report {
            let r = rss();
            samples.push(r);
            println!(
                "{:9.0}  {:6.1}  {:7}  {:5}  {:4}  {:8}  {:7}",
                start.elapsed().as_secs_f64(),
                r as f64 / 1e6,
                feed.counts.packets,
                feed.counts.opens,
                feed.counts.ends,
                feed.counts.messages,
                feed.engine.tracked_connections()
            );
            next_report += Duration::from_secs(10);
        }
    }
    for l in &mut longs {
        let code = 1001u16.to_be_bytes();
        let mut s = vec![l.tcp.seg(0, "PA", &frame(0, 0x88, &code))];
        s.push(l.tcp.seg(1, "PA", &frame(1, 0x88, &code)));
        s.extend(l.tcp.fin());
        feed.put(&l.tcp, &s);
    }
    let before_finish = feed.engine.tracked_connections();
    feed.engine.finish(&mut feed.events);
    feed.drain();
    let c = &feed.counts;
    println!(
        "done: {} packets, {} connections opened, {} ended ({} still tracked before finish), \
         {} messages, {} anomalies, peak RSS {:.1} MB",
        c.packets,
        c.opens,
        c.ends,
        before_finish,
        c.messages,
        c.anomalies,
        vm_hwm(std::process::id()).unwrap_or(0) as f64 / 1e6
    );
    assert_eq!(c.opens, short_n + 200);
    assert_eq!(c.ends, c.opens, "every connection ended");
    assert_eq!(before_finish, 0, "every connection ended by its own FIN");
    assert_eq!(c.anomalies, 0);
    assert_eq!(feed.engine.tracked_connections(), 0);
    // Flat: after the first samples (warm-up), memory grows by no more than a few MB.
    if samples.len() >= 4 {
        let warm = samples[1];
        let last = *samples.last().unwrap_or(&0);
        assert!(
            last <= warm + (16 << 20),
            "memory grew from {warm} to {last} bytes"
        );
    }
}
