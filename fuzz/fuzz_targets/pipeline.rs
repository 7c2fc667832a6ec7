//! The whole pipeline from raw capture bytes: pcap/pcapng reader → engine → both sinks.
//! Memory ceilings are set low so that one input cannot take long or grow large.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use wsnoop::Engine;
use wsnoop::capture::CaptureReader;
use wsnoop::event::AnomalyKind;
use wsnoop::limits::Limits;
use wsnoop::sink::{Finish, JsonSink, Sink, Summary, TextSink};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_message_bytes: 1 << 20,
        max_inflated_bytes: 1 << 20,
        max_ooo_bytes: 256 << 10,
        max_ooo_segments: 256,
        max_handshake_bytes: 16 << 10,
        max_connections: 64,
        max_ip_frag_bytes: 256 << 10,
        max_ip_frag_datagrams: 32,
        max_record_bytes: 1 << 20,
        max_probe_bytes: 16 << 10,
        max_probe_total_bytes: 256 << 10,
        // Half the inputs run under a budget small enough that connections shed.
        memcap: if data.len() % 2 == 1 {
            64 << 10
        } else {
            16 << 20
        },
        ..Limits::default()
    };
    let Ok(mut reader) = CaptureReader::new(Cursor::new(data), &limits) else {
        return;
    };
    let mut engine = Engine::new(limits.clone());
    let mut json = JsonSink::new(std::io::sink());
    let mut text = TextSink::new(std::io::sink());
    let mut summary = Summary::default();
    let mut events = Vec::new();
    loop {
        match reader.next_packet() {
            Ok(Some(pkt)) => {
                engine.packet(&pkt, &mut events);
            }
            Ok(None) => break,
            Err(e) => {
                engine.input_error(AnomalyKind::CorruptCapture, e.to_string(), &mut events);
                break;
            }
        }
        assert!(engine.tracked_connections() <= limits.max_connections);
        for ev in events.drain(..) {
            summary.record(&ev);
            let _ = json.event(&ev);
            let _ = text.event(&ev);
        }
    }
    engine.finish(&mut events);
    assert_eq!(engine.tracked_connections(), 0);
    for ev in events.drain(..) {
        summary.record(&ev);
        let _ = json.event(&ev);
        let _ = text.event(&ev);
    }
    let finish = Finish {
        summary: Some(&summary),
        ..Finish::default()
    };
    let _ = json.finish(&finish);
    let _ = text.finish(&finish);
});
