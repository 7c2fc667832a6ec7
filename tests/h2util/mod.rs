//! Collecting what `H2Conn` reports, per stream and direction; an in-memory duplex end that
//! records what an `h2` peer writes.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use wsnoop::http2::{H2Conn, H2Event, HeaderField};

/// What one direction of one stream carried, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Headers(Vec<HeaderField>),
    Data(Vec<u8>),
    End,
}

#[derive(Default, Debug)]
pub struct Seen {
    /// Keyed by (side, stream).
    pub streams: BTreeMap<(usize, u32), Vec<Item>>,
    pub anomalies: Vec<(&'static str, String)>,
    pub lost: Vec<(usize, u64)>,
    pub data_lost: Vec<(usize, u32, u64)>,
    pub resets: Vec<(usize, u32, u32)>,
    pub settings: Vec<(usize, Option<bool>, Option<u32>)>,
}

impl Seen {
    pub fn take(&mut self, ev: H2Event<'_>) {
        match ev {
            H2Event::Headers {
                side,
                stream,
                fields,
                end_stream,
                ..
            } => {
                let items = self.streams.entry((side, stream)).or_default();
                items.push(Item::Headers(fields.to_vec()));
                if end_stream {
                    items.push(Item::End);
                }
            }
            H2Event::Data {
                side,
                stream,
                data,
                end_stream,
            } => {
                let items = self.streams.entry((side, stream)).or_default();
                match items.last_mut() {
                    Some(Item::Data(d)) => d.extend_from_slice(data),
                    _ if !data.is_empty() => items.push(Item::Data(data.to_vec())),
                    _ => {}
                }
                if end_stream {
                    items.push(Item::End);
                }
            }
            H2Event::DataLost { side, stream, len } => self.data_lost.push((side, stream, len)),
            H2Event::Reset { side, stream, code } => self.resets.push((side, stream, code)),
            H2Event::Settings {
                side,
                enable_connect_protocol,
                header_table_size,
                ..
            } => self
                .settings
                .push((side, enable_connect_protocol, header_table_size)),
            H2Event::Lost { side, len } => self.lost.push((side, len)),
            H2Event::Anomaly { anomaly, .. } => {
                self.anomalies.push((anomaly.kind.as_str(), anomaly.detail))
            }
            H2Event::GoAway { .. } => {}
        }
    }

    /// The header blocks of a stream's direction.
    pub fn headers(&self, side: usize, stream: u32) -> Vec<&Vec<HeaderField>> {
        self.streams
            .get(&(side, stream))
            .into_iter()
            .flatten()
            .filter_map(|i| match i {
                Item::Headers(f) => Some(f),
                _ => None,
            })
            .collect()
    }

    /// All DATA bytes of a stream's direction.
    pub fn data(&self, side: usize, stream: u32) -> Vec<u8> {
        self.streams
            .get(&(side, stream))
            .into_iter()
            .flatten()
            .filter_map(|i| match i {
                Item::Data(d) => Some(d.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    pub fn ended(&self, side: usize, stream: u32) -> bool {
        self.streams
            .get(&(side, stream))
            .is_some_and(|items| items.last() == Some(&Item::End))
    }
}

/// A small deterministic generator (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Feed `(side, bytes)` chunks in order, each cut into random pieces.
pub fn feed_cut(conn: &mut H2Conn, chunks: &[(usize, Vec<u8>)], rng: &mut Rng, seen: &mut Seen) {
    for (side, bytes) in chunks {
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let n = (1 + rng.below(3000)).min(rest.len());
            conn.feed(*side, &rest[..n], &mut |e| seen.take(e));
            rest = &rest[n..];
        }
    }
}

pub type Log = Arc<Mutex<Vec<(usize, Vec<u8>)>>>;

/// One end of the duplex, recording what it writes.
pub struct Tap {
    pub inner: DuplexStream,
    pub side: usize,
    pub log: Log,
}

impl AsyncRead for Tap {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Tap {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = r {
            let side = self.side;
            self.log.lock().unwrap().push((side, buf[..n].to_vec()));
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
