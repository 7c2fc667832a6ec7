//! `-w PATH`: the raw packets of WebSocket connections, saved as a pcap file, or a pcapng
//! file carrying the TLS secrets used when PATH ends in `.pcapng` (see [`SaveWriter`]). A connection is known to be WebSocket only once its upgrade completes (or
//! frames are recognised), so its earlier packets (SYN, handshake) wait in a small bounded
//! per-connection buffer.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::savewriter::SaveWriter;
use crate::engine::PacketFate;
use crate::event::Timestamp;
use crate::flow::FlowKey;
use crate::packet::RawPacket;
use crate::session::ConnKind;

/// Packet bytes kept per undecided connection: enough for the handshake packets.
pub const PENDING_PER_CONN: usize = 128 << 10;
/// Packet bytes kept for all undecided connections together.
pub const PENDING_TOTAL: usize = 16 << 20;
/// Per-record overhead charged to the pending budget (header plus bookkeeping).
const RECORD_COST: usize = 32;

/// Write buffer of the `-w` file.
const SAVE_BUFFER: usize = 256 << 10;

/// The `-w` file by name: created at the start, and created again on SIGHUP when logrotate
/// (or anyone) moved it away, so that a capture daemon's packets can be rotated like its lines.
pub struct SaveFile {
    path: PathBuf,
    linktype: u32,
    snaplen: u32,
    /// Device and inode of the file being written.
    id: (u64, u64),
}

impl SaveFile {
    pub fn create(
        path: &Path,
        linktype: u32,
        snaplen: u32,
    ) -> io::Result<(SaveFile, SaveWriter<BufWriter<File>>)> {
        let mut file = SaveFile {
            path: path.to_path_buf(),
            linktype,
            snaplen,
            id: (0, 0),
        };
        let writer = file.open()?;
        Ok((file, writer))
    }

    fn open(&mut self) -> io::Result<SaveWriter<BufWriter<File>>> {
        let f = File::create(&self.path)?;
        let meta = f.metadata()?;
        self.id = (meta.dev(), meta.ino());
        SaveWriter::for_path(
            &self.path,
            BufWriter::with_capacity(SAVE_BUFFER, f),
            self.linktype,
            self.snaplen,
        )
    }

    /// SIGHUP: a new file (with its own header) if the name no longer leads to the file being
    /// written; `None` if it still does (writing goes on, nothing is cut). Packets of
    /// connections already open continue in the new file without their handshake, which
    /// `wsnoop read` picks up mid-stream.
    pub fn reopen(&mut self) -> io::Result<Option<SaveWriter<BufWriter<File>>>> {
        match std::fs::metadata(&self.path) {
            Ok(meta) if (meta.dev(), meta.ino()) == self.id => Ok(None),
            Ok(_) => self.open().map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => self.open().map(Some),
            Err(e) => Err(e),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

struct Held {
    ts: Timestamp,
    orig_len: u32,
    data: Vec<u8>,
}

#[derive(Default)]
struct Pending {
    packets: Vec<Held>,
    bytes: usize,
    /// The per-connection budget ran out: the saved connection will lack some early packets.
    overflowed: bool,
    last: Timestamp,
}

/// Key log text kept to start a new `-w` file with (after SIGHUP): beyond it, the oldest is
/// not carried into the new file (its connections are most likely over).
pub const MAX_SAVED_SECRETS: usize = 16 << 20;

/// Decides per packet, from the engine's [`PacketFate`], what goes into the file.
pub struct WsPackets<W: Write> {
    writer: SaveWriter<W>,
    pending: HashMap<FlowKey, Pending>,
    pending_bytes: usize,
    /// Packets written.
    pub written: u64,
    /// Key log text written so far (for a new file after SIGHUP), at most
    /// `MAX_SAVED_SECRETS`, whole lines.
    secrets: Vec<u8>,
}

impl<W: Write> WsPackets<W> {
    pub fn new(writer: SaveWriter<W>) -> Self {
        WsPackets {
            writer,
            pending: HashMap::new(),
            pending_bytes: 0,
            written: 0,
            secrets: Vec::new(),
        }
    }

    /// Key log text the engine was given: into the file before the packets that follow
    /// (pcapng), so that the file decrypts on its own. `false` when the file cannot hold it.
    pub fn secrets(&mut self, keylog: &[u8]) -> io::Result<bool> {
        if keylog.is_empty() {
            return Ok(true);
        }
        let kept = self.writer.secrets(keylog)?;
        if kept {
            self.secrets.extend_from_slice(keylog);
            if self.secrets.len() > MAX_SAVED_SECRETS {
                let over = self.secrets.len() - MAX_SAVED_SECRETS;
                // Cut at a line end so that no line is carried half.
                let cut = self
                    .secrets
                    .iter()
                    .skip(over)
                    .position(|&b| b == b'\n')
                    .map_or(self.secrets.len(), |p| over + p + 1);
                self.secrets.drain(..cut);
            }
        }
        Ok(kept)
    }

    pub fn packet(&mut self, fate: PacketFate, pkt: &RawPacket<'_>) -> io::Result<()> {
        let PacketFate::Conn { flow, kind, ended } = fate else {
            return Ok(());
        };
        match kind {
            ConnKind::Pending if !ended => self.hold(flow, pkt),
            ConnKind::Pending | ConnKind::Ignored => self.forget(&flow),
            ConnKind::WebSocket => {
                if let Some(p) = self.pending.remove(&flow) {
                    self.pending_bytes = self.pending_bytes.saturating_sub(p.bytes);
                    for h in &p.packets {
                        self.writer.record(h.ts, &h.data, h.orig_len)?;
                        self.written += 1;
                    }
                }
                self.writer.record(pkt.ts, pkt.data, pkt.orig_len)?;
                self.written += 1;
            }
        }
        Ok(())
    }

    fn hold(&mut self, flow: FlowKey, pkt: &RawPacket<'_>) {
        let cost = pkt.data.len() + RECORD_COST;
        let p = self.pending.entry(flow).or_default();
        p.last = pkt.ts;
        if p.overflowed
            || p.bytes + cost > PENDING_PER_CONN
            || self.pending_bytes + cost > PENDING_TOTAL
        {
            p.overflowed = true;
            return;
        }
        p.packets.push(Held {
            ts: pkt.ts,
            orig_len: pkt.orig_len,
            data: pkt.data.to_vec(),
        });
        p.bytes += cost;
        self.pending_bytes += cost;
    }

    fn forget(&mut self, flow: &FlowKey) {
        if let Some(p) = self.pending.remove(flow) {
            self.pending_bytes = self.pending_bytes.saturating_sub(p.bytes);
        }
    }

    /// Drop what is held for connections with no packet since `before` (the engine has
    /// expired or evicted them by then).
    pub fn sweep(&mut self, before: Timestamp) {
        let mut freed = 0;
        self.pending.retain(|_, p| {
            let keep = p.last >= before;
            if !keep {
                freed += p.bytes;
            }
            keep
        });
        self.pending_bytes = self.pending_bytes.saturating_sub(freed);
    }

    /// Bytes held for undecided connections.
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }

    /// Goes on in another file: what was written to the old one is flushed first (if that
    /// fails, the old writer is kept).
    pub fn replace_writer(&mut self, mut writer: SaveWriter<W>) -> io::Result<()> {
        self.writer.flush()?;
        if !self.secrets.is_empty() {
            writer.secrets(&self.secrets)?;
        }
        self.writer = writer;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::PcapWriter;
    use crate::packet::LinkType;
    use std::net::SocketAddr;

    fn flow(port: u16) -> FlowKey {
        FlowKey::new(
            SocketAddr::from(([127, 0, 0, 1], port)),
            SocketAddr::from(([127, 0, 0, 1], 80)),
        )
    }

    fn pkt(secs: i64, data: &[u8]) -> RawPacket<'_> {
        RawPacket {
            ts: Timestamp::new(secs, 5),
            link: LinkType::Raw,
            data,
            orig_len: data.len() as u32,
        }
    }

    fn conn(port: u16, kind: ConnKind, ended: bool) -> PacketFate {
        PacketFate::Conn {
            flow: flow(port),
            kind,
            ended,
        }
    }

    /// Records in a written file: (seconds, data).
    fn records(v: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut out = Vec::new();
        let mut rest = &v[24..];
        while rest.len() >= 16 {
            let len = u32::from_le_bytes(rest[8..12].try_into().unwrap()) as usize;
            out.push((rest[0], rest[16..16 + len].to_vec()));
            rest = &rest[16 + len..];
        }
        out
    }

    #[test]
    fn only_websocket_connections_are_written_with_their_early_packets() {
        let mut ws = WsPackets::new(SaveWriter::Pcap(
            PcapWriter::new(Vec::new(), 101, 65535).unwrap(),
        ));
        ws.packet(conn(1, ConnKind::Pending, false), &pkt(1, b"syn"))
            .unwrap();
        ws.packet(conn(2, ConnKind::Pending, false), &pkt(2, b"other"))
            .unwrap();
        ws.packet(PacketFate::Untracked, &pkt(3, b"udp")).unwrap();
        ws.packet(conn(1, ConnKind::Pending, false), &pkt(4, b"GET"))
            .unwrap();
        assert_eq!(ws.pending_bytes(), 3 + 5 + 3 + 3 * RECORD_COST);
        ws.packet(conn(2, ConnKind::Ignored, false), &pkt(5, b"200"))
            .unwrap();
        ws.packet(conn(1, ConnKind::WebSocket, false), &pkt(6, b"101"))
            .unwrap();
        ws.packet(conn(1, ConnKind::WebSocket, true), &pkt(7, b"fin"))
            .unwrap();
        assert_eq!(ws.pending_bytes(), 0);
        assert_eq!(ws.written, 4);
        assert_eq!(
            records(ws.writer.get_ref()),
            vec![
                (1, b"syn".to_vec()),
                (4, b"GET".to_vec()),
                (6, b"101".to_vec()),
                (7, b"fin".to_vec())
            ]
        );
    }

    #[test]
    fn pending_is_bounded_and_swept() {
        let mut ws = WsPackets::new(SaveWriter::Pcap(
            PcapWriter::new(Vec::new(), 101, 65535).unwrap(),
        ));
        let big = vec![0u8; 60_000];
        for _ in 0..5 {
            ws.packet(conn(1, ConnKind::Pending, false), &pkt(1, &big))
                .unwrap();
        }
        // Two fit in the per-connection budget.
        assert_eq!(ws.pending_bytes(), 2 * (60_000 + RECORD_COST));
        ws.packet(conn(3, ConnKind::Pending, false), &pkt(9, b"x"))
            .unwrap();
        ws.sweep(Timestamp::new(5, 0));
        assert_eq!(ws.pending_bytes(), 1 + RECORD_COST);
        ws.packet(conn(3, ConnKind::Pending, true), &pkt(10, b"rst"))
            .unwrap();
        assert_eq!(ws.pending_bytes(), 0);
        assert_eq!(ws.written, 0);
    }

    /// SIGHUP with the file still in place: writing goes on in it. After logrotate moved it
    /// away: the moved file keeps everything written before (flushed), and a new file with its
    /// own header takes what follows.
    #[test]
    fn reopen_follows_a_moved_file_only() {
        let dir = std::env::temp_dir().join(format!("wsnoop-savefile-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ws.pcap");
        let (mut file, w) = SaveFile::create(&path, 101, 65535).unwrap();
        let mut ws = WsPackets::new(w);
        let ws_pkt = |ws: &mut WsPackets<_>, secs, data: &[u8]| {
            ws.packet(conn(1, ConnKind::WebSocket, false), &pkt(secs, data))
                .unwrap();
        };
        ws_pkt(&mut ws, 1, b"one");
        assert!(file.reopen().unwrap().is_none());
        ws_pkt(&mut ws, 2, b"two");
        ws.flush().unwrap();
        let header = std::fs::read(&path).unwrap()[..24].to_vec();
        assert_eq!(
            records(&std::fs::read(&path).unwrap()),
            [(1, b"one".to_vec()), (2, b"two".to_vec())]
        );

        let moved = dir.join("ws.pcap.1");
        std::fs::rename(&path, &moved).unwrap();
        ws_pkt(&mut ws, 3, b"three");
        let new = file.reopen().unwrap().expect("a new file");
        ws.replace_writer(new).unwrap();
        ws_pkt(&mut ws, 4, b"four");
        ws.flush().unwrap();
        let old = std::fs::read(&moved).unwrap();
        assert_eq!(
            records(&old),
            [
                (1, b"one".to_vec()),
                (2, b"two".to_vec()),
                (3, b"three".to_vec())
            ]
        );
        let fresh = std::fs::read(&path).unwrap();
        assert_eq!(fresh[..24], header);
        assert_eq!(records(&fresh), [(4, b"four".to_vec())]);
        // Removed outright (not moved): a new file as well.
        std::fs::remove_file(&path).unwrap();
        assert!(file.reopen().unwrap().is_some());
        assert!(file.reopen().unwrap().is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A pcapng `-w` file carries the secrets given; after SIGHUP the new file starts with
    /// all of them again, so that each file decrypts on its own.
    #[test]
    fn a_pcapng_file_carries_the_secrets_into_each_new_file() {
        let dir = std::env::temp_dir().join(format!("wsnoop-savefile-ng-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ws.pcapng");
        let (mut file, w) = SaveFile::create(&path, 101, 65535).unwrap();
        let mut ws = WsPackets::new(w);
        assert!(ws.secrets(b"CLIENT_RANDOM 01 02\n").unwrap());
        ws.packet(conn(1, ConnKind::WebSocket, false), &pkt(1, &[0x45, 1]))
            .unwrap();
        assert!(ws.secrets(b"CLIENT_RANDOM 03 04\n").unwrap());
        std::fs::rename(&path, dir.join("ws.pcapng.1")).unwrap();
        let new = file.reopen().unwrap().expect("a new file");
        ws.replace_writer(new).unwrap();
        ws.packet(conn(1, ConnKind::WebSocket, false), &pkt(2, &[0x45, 2]))
            .unwrap();
        ws.flush().unwrap();
        let read = |p: &Path| {
            let bytes = std::fs::read(p).unwrap();
            let mut r =
                crate::capture::CaptureReader::new(&bytes[..], &crate::Limits::default()).unwrap();
            let mut got = Vec::new();
            while let Some(p) = r.next_packet().unwrap() {
                got.push(p.data.to_vec());
            }
            (got, r.take_secrets().concat())
        };
        let (old_packets, old_secrets) = read(&dir.join("ws.pcapng.1"));
        assert_eq!(old_packets, vec![vec![0x45, 1]]);
        assert_eq!(old_secrets, b"CLIENT_RANDOM 01 02\nCLIENT_RANDOM 03 04\n");
        let (new_packets, new_secrets) = read(&path);
        assert_eq!(new_packets, vec![vec![0x45, 2]]);
        assert_eq!(new_secrets, b"CLIENT_RANDOM 01 02\nCLIENT_RANDOM 03 04\n");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
