use std::fs::File;
use std::io::BufReader;

use super::*;
use crate::packet::LinkType;

fn open(name: &str) -> CaptureReader<BufReader<File>> {
    let path = format!("{}/captures/{name}", env!("CARGO_MANIFEST_DIR"));
    let file = File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    CaptureReader::new(BufReader::new(file), &Limits::default()).unwrap()
}

#[test]
fn smoke_all() {
    for dir in ["captures", "captures/adversarial"] {
        let d = format!("{}/{dir}", env!("CARGO_MANIFEST_DIR"));
        let mut names: Vec<_> = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).filter(|n| n.ends_with(".pcap") || n.ends_with(".pcapng")).collect();
        names.sort();
        for n in names {
            let rel = format!("{}{n}", if dir == "captures" { "" } else { "adversarial/" });
            let mut r = open(&rel);
            let mut count = 0;
            let mut first = None;
            let res = loop {
                match r.next_packet() {
                    Ok(Some(p)) => { count += 1; if first.is_none() { first = Some((p.ts, p.link, p.data.len(), p.orig_len)); } }
                    Ok(None) => break Ok(()),
                    Err(e) => break Err(e.to_string()),
                }
            };
            println!("{rel}: {count} {first:?} {res:?} off={}", r.offset());
        }
    }
    let _ = LinkType::Null;
}
