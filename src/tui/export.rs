//! `e` and `y`: a connection as JSON lines (the same lines `wsnoop read --json` writes) and a
//! payload as raw bytes; and the effects' run (`c`'s clipboard write too).

use std::fs::File;
use std::io::{self, BufWriter, Write};

use super::model::{Model, Row, RowKind};
use super::state::{App, Effect};
use crate::event::{ConnRef, Event, EventKind, Message};
use crate::sink::{JsonSink, Sink};

/// Writes one connection's events; returns (events written, messages whose payload the
/// memory budget had cut to a prefix).
pub fn export_conn(model: &Model, conn: u64, out: impl Write) -> io::Result<(u64, u64)> {
    let c = model
        .conn(conn)
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such connection"))?;
    let cref = Some(ConnRef {
        id: c.id,
        client: c.client,
        server: c.server,
        stream: None,
    });
    let mut sink = JsonSink::new(out);
    let (mut written, mut cut) = (0, 0);
    sink.event(&Event {
        ts: c.start,
        conn: cref,
        kind: EventKind::Open(c.info.clone()),
    })?;
    written += 1;
    for row in c.rows.iter().filter_map(|&ix| model.rows.get(ix as usize)) {
        let kind = match &row.kind {
            RowKind::Message(m) => {
                cut += u64::from(m.truncated());
                let Some(dir) = row.dir else { continue };
                EventKind::Message {
                    dir,
                    msg: Message {
                        opcode: m.opcode,
                        payload: m.payload.to_vec(),
                        frames: m.frames,
                        compressed: m.compressed,
                        wire_len: m.wire_len,
                        utf8_valid: m.utf8_valid,
                        frame_detail: m.frame_detail.to_vec(),
                        packets: m.packets,
                        truncated: false,
                    },
                }
            }
            RowKind::Anomaly(a) => EventKind::Anomaly {
                dir: row.dir,
                anomaly: a.clone(),
            },
            RowKind::Refused(r) => EventKind::Refused(r.clone()),
            RowKind::Unit(_) => {
                written += units(&mut sink, row, cref)?;
                continue;
            }
        };
        sink.event(&Event {
            ts: row.ts,
            conn: cref,
            kind,
        })?;
        written += 1;
        written += units(&mut sink, row, cref)?;
    }
    if let Some(how) = c.end {
        sink.event(&Event {
            ts: c.end_ts,
            conn: cref,
            kind: EventKind::End {
                how,
                messages: c.msgs[0] + c.msgs[1],
                bytes: c.bytes[0] + c.bytes[1],
                report: None,
            },
        })?;
        written += 1;
    }
    sink.flush()?;
    Ok((written, cut))
}

/// Writes a row's protocol units (as kept: past the memory budget, without their large
/// fields); returns how many.
fn units(sink: &mut impl Sink, row: &Row, conn: Option<ConnRef>) -> io::Result<u64> {
    for u in row.units() {
        sink.event(&Event {
            ts: u.unit.ts,
            conn,
            kind: EventKind::Proto(Box::new(u.unit.clone())),
        })?;
    }
    Ok(row.units().len() as u64)
}

/// Carries out an effect and leaves a notice saying what happened.
pub fn run(app: &mut App, effect: Effect) {
    let notice = match effect {
        Effect::Export { conn, path } => File::create(&path)
            .and_then(|f| export_conn(&app.model, conn, BufWriter::new(f)))
            .map(|(n, cut)| {
                let mut s = format!(
                    "exported connection {conn}: {n} lines to {}",
                    path.display()
                );
                if cut > 0 {
                    s.push_str(&format!(
                        " ({cut} payloads cut to their first bytes: raise --keep-payload)"
                    ));
                }
                s
            }),
        Effect::Save { row, path } => match app.model.rows.get(row as usize).map(|r| &r.kind) {
            Some(RowKind::Message(m)) => File::create(&path)
                .and_then(|mut f| f.write_all(&m.payload))
                .map(|()| {
                    let mut s = format!("saved {} bytes to {}", m.payload.len(), path.display());
                    if m.truncated() {
                        s.push_str(&format!(" (of {}: raise --keep-payload)", m.len));
                    }
                    s
                }),
            _ => Err(io::Error::new(io::ErrorKind::NotFound, "no such message")),
        },
        Effect::Copy { text, notice } => {
            super::clipboard::write(io::stdout().lock(), &text).map(|()| notice)
        }
    };
    app.notice = Some(match notice {
        Ok(s) => (s, false),
        Err(e) => (format!("cannot write: {e}"), true),
    });
}
