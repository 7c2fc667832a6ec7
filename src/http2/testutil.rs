//! Test helpers: a frame writer, a small HPACK encoder (static and dynamic table, Huffman,
//! size updates) independent of the decoder under test, and owned copies of events.

use std::collections::{BTreeMap, VecDeque};

use super::hpack::{STATIC, huffman_encode};
use super::{H2Conn, H2Event, HeaderField};

pub const DATA: u8 = 0x0;
pub const HEADERS: u8 = 0x1;
pub const PRIORITY: u8 = 0x2;
pub const RST_STREAM: u8 = 0x3;
pub const SETTINGS: u8 = 0x4;
pub const PUSH_PROMISE: u8 = 0x5;
pub const PING: u8 = 0x6;
pub const GOAWAY: u8 = 0x7;
pub const WINDOW_UPDATE: u8 = 0x8;
pub const CONTINUATION: u8 = 0x9;
pub const END_STREAM: u8 = 0x1;
pub const ACK: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;
pub const PADDED: u8 = 0x8;
pub const PRIORITY_FLAG: u8 = 0x20;

pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut v = len.to_be_bytes()[1..].to_vec();
    v.push(kind);
    v.push(flags);
    v.extend_from_slice(&stream.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

pub fn settings(pairs: &[(u16, u32)]) -> Vec<u8> {
    let mut p = Vec::new();
    for (id, v) in pairs {
        p.extend_from_slice(&id.to_be_bytes());
        p.extend_from_slice(&v.to_be_bytes());
    }
    frame(SETTINGS, 0, 0, &p)
}

pub fn fields(pairs: &[(&str, &str)]) -> Vec<HeaderField> {
    pairs
        .iter()
        .map(|(n, v)| HeaderField::new(*n, *v))
        .collect()
}

/// A minimal HPACK encoder: exact matches are indexed, other fields are literals with
/// incremental indexing (with an indexed name when one matches), every `never`-th one not
/// indexed; strings Huffman-coded when `huffman`.
pub struct Encoder {
    table: VecDeque<(Vec<u8>, Vec<u8>)>,
    size: usize,
    max: usize,
    pending: Vec<usize>,
    pub huffman: bool,
    pub never: usize,
    count: usize,
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder {
            table: VecDeque::new(),
            size: 0,
            max: 4096,
            pending: Vec::new(),
            huffman: false,
            never: 0,
            count: 0,
        }
    }
}

fn int(out: &mut Vec<u8>, prefix: u8, flags: u8, mut v: u64) {
    let max = (1u64 << prefix) - 1;
    if v < max {
        out.push(flags | v as u8);
        return;
    }
    out.push(flags | max as u8);
    v -= max;
    while v >= 128 {
        out.push((v & 0x7f) as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

impl Encoder {
    /// Announce a new table size at the start of the next block.
    pub fn set_max(&mut self, max: usize) {
        self.pending.push(max);
    }

    fn string(&self, out: &mut Vec<u8>, s: &[u8]) {
        if self.huffman {
            let h = huffman_encode(s);
            int(out, 7, 0x80, h.len() as u64);
            out.extend_from_slice(&h);
        } else {
            int(out, 7, 0, s.len() as u64);
            out.extend_from_slice(s);
        }
    }

    fn evict(&mut self, target: usize) {
        while self.size > target {
            let (n, v) = self.table.pop_back().unwrap();
            self.size -= n.len() + v.len() + 32;
        }
    }

    fn find(&self, f: &HeaderField) -> (Option<usize>, Option<usize>) {
        let mut exact = None;
        let mut name = None;
        let entries = STATIC
            .iter()
            .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
            .chain(self.table.iter().map(|(n, v)| (n.as_slice(), v.as_slice())));
        for (i, (n, v)) in entries.enumerate() {
            if n == f.name.as_slice() {
                name.get_or_insert(i + 1);
                if v == f.value.as_slice() {
                    exact = Some(i + 1);
                    break;
                }
            }
        }
        (exact, name)
    }

    pub fn encode(&mut self, list: &[HeaderField]) -> Vec<u8> {
        let mut out = Vec::new();
        for max in std::mem::take(&mut self.pending) {
            int(&mut out, 5, 0x20, max as u64);
            self.max = max;
            self.evict(max);
        }
        for f in list {
            self.count += 1;
            let (exact, name) = self.find(f);
            if let Some(i) = exact {
                int(&mut out, 7, 0x80, i as u64);
                continue;
            }
            let indexing = self.never == 0 || !self.count.is_multiple_of(self.never);
            if indexing {
                int(&mut out, 6, 0x40, name.unwrap_or(0) as u64);
            } else {
                int(&mut out, 4, 0x10, name.unwrap_or(0) as u64);
            }
            if name.is_none() {
                self.string(&mut out, &f.name);
            }
            self.string(&mut out, &f.value);
            if indexing {
                let len = f.name.len() + f.value.len() + 32;
                if len > self.max {
                    self.table.clear();
                    self.size = 0;
                } else {
                    self.evict(self.max - len);
                    self.size += len;
                    self.table.push_front((f.name.clone(), f.value.clone()));
                }
            }
        }
        out
    }

    /// HEADERS (split into CONTINUATIONs of at most `max_fragment` bytes).
    pub fn headers(
        &mut self,
        stream: u32,
        list: &[HeaderField],
        end_stream: bool,
        max_fragment: usize,
    ) -> Vec<u8> {
        let block = self.encode(list);
        let mut chunks: Vec<&[u8]> = block.chunks(max_fragment.max(1)).collect();
        if chunks.is_empty() {
            chunks.push(&[]);
        }
        let mut out = Vec::new();
        let last = chunks.len() - 1;
        for (i, c) in chunks.iter().enumerate() {
            let mut flags = if i == last { END_HEADERS } else { 0 };
            if i == 0 {
                if end_stream {
                    flags |= END_STREAM;
                }
                out.extend(frame(HEADERS, flags, stream, c));
            } else {
                out.extend(frame(CONTINUATION, flags, stream, c));
            }
        }
        out
    }
}

/// An owned event, for assertions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ev {
    Headers {
        side: usize,
        stream: u32,
        fields: Vec<HeaderField>,
        end_stream: bool,
        push_promise: Option<u32>,
    },
    Data {
        side: usize,
        stream: u32,
        data: Vec<u8>,
        end_stream: bool,
    },
    DataLost {
        side: usize,
        stream: u32,
        len: u64,
    },
    Reset {
        side: usize,
        stream: u32,
        code: u32,
    },
    GoAway {
        side: usize,
        last_stream: u32,
        code: u32,
        debug: Vec<u8>,
    },
    Settings {
        side: usize,
        enable_connect_protocol: Option<bool>,
        header_table_size: Option<u32>,
        max_frame_size: Option<u32>,
    },
    Lost {
        side: usize,
        len: u64,
    },
    Anomaly {
        side: Option<usize>,
        stream: Option<u32>,
        kind: &'static str,
        detail: String,
    },
}

pub fn own(ev: H2Event<'_>) -> Ev {
    match ev {
        H2Event::Headers {
            side,
            stream,
            fields,
            end_stream,
            push_promise,
        } => Ev::Headers {
            side,
            stream,
            fields: fields.to_vec(),
            end_stream,
            push_promise,
        },
        H2Event::Data {
            side,
            stream,
            data,
            end_stream,
        } => Ev::Data {
            side,
            stream,
            data: data.to_vec(),
            end_stream,
        },
        H2Event::DataLost { side, stream, len } => Ev::DataLost { side, stream, len },
        H2Event::Reset { side, stream, code } => Ev::Reset { side, stream, code },
        H2Event::GoAway {
            side,
            last_stream,
            code,
            debug,
        } => Ev::GoAway {
            side,
            last_stream,
            code,
            debug: debug.to_vec(),
        },
        H2Event::Settings {
            side,
            enable_connect_protocol,
            header_table_size,
            max_frame_size,
        } => Ev::Settings {
            side,
            enable_connect_protocol,
            header_table_size,
            max_frame_size,
        },
        H2Event::Lost { side, len } => Ev::Lost { side, len },
        H2Event::Anomaly {
            side,
            stream,
            anomaly,
        } => Ev::Anomaly {
            side,
            stream,
            kind: anomaly.kind.as_str(),
            detail: anomaly.detail,
        },
    }
}

/// Feed `(side, bytes)` chunks in order, then finish; return the events.
pub fn run(conn: &mut H2Conn, feeds: &[(usize, &[u8])]) -> Vec<Ev> {
    let mut evs = Vec::new();
    for (side, bytes) in feeds {
        conn.feed(*side, bytes, &mut |e| evs.push(own(e)));
    }
    conn.finish(&mut |e| evs.push(own(e)));
    evs
}

/// What one direction of one stream carried: header blocks, DATA bytes (pieces joined), and
/// the end of the stream, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Headers(Vec<HeaderField>, Option<u32>),
    Data(Vec<u8>),
    End,
}

pub type Transcript = BTreeMap<(usize, u32), Vec<Item>>;

pub fn transcript(evs: &[Ev]) -> Transcript {
    let mut t: Transcript = BTreeMap::new();
    for e in evs {
        match e {
            Ev::Headers {
                side,
                stream,
                fields,
                end_stream,
                push_promise,
            } => {
                let items = t.entry((*side, *stream)).or_default();
                items.push(Item::Headers(fields.clone(), *push_promise));
                if *end_stream {
                    items.push(Item::End);
                }
            }
            Ev::Data {
                side,
                stream,
                data,
                end_stream,
            } => {
                let items = t.entry((*side, *stream)).or_default();
                match items.last_mut() {
                    Some(Item::Data(d)) => d.extend_from_slice(data),
                    _ if !data.is_empty() => items.push(Item::Data(data.clone())),
                    _ => {}
                }
                if *end_stream {
                    items.push(Item::End);
                }
            }
            _ => {}
        }
    }
    t
}

pub fn anomalies(evs: &[Ev]) -> Vec<(&'static str, String)> {
    evs.iter()
        .filter_map(|e| match e {
            Ev::Anomaly { kind, detail, .. } => Some((*kind, detail.clone())),
            _ => None,
        })
        .collect()
}
