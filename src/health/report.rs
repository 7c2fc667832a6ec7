//! The health figures of one connection's `end` event, and their JSON.

use std::io::{self, Write};

use super::{CloseReport, RttStats};
use crate::event::Dir;

/// What [`super::Health::report`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthReport {
    /// Per direction that sent the pings (index [`Dir::index`]; c2s = the client's pings, the
    /// RTT the client would measure): `None` without a single answered ping.
    pub rtt_us: [Option<RttStats>; 2],
    pub close: CloseReport,
    /// Per direction, in microseconds (see the module's definition of silence).
    pub longest_silence_us: [u64; 2],
}

impl HealthReport {
    /// RTT figures of `dir`'s pings.
    pub fn rtt(&self, dir: Dir) -> Option<RttStats> {
        self.rtt_us.get(dir.index()).copied().flatten()
    }

    /// The connection's median RTT, as `--summary` shows it and the filter's `rtt` term
    /// compares it: that of the direction with more answered pings (the client's on a tie),
    /// since usually one side pings and the other answers. `None` without any answered ping.
    pub fn rtt_median(&self) -> Option<u64> {
        match (self.rtt(Dir::C2s), self.rtt(Dir::S2c)) {
            (Some(c), Some(s)) if s.count > c.count => Some(s.median),
            (Some(c), _) => Some(c.median),
            (None, s) => s.map(|s| s.median),
        }
    }

    pub fn longest_silence(&self, dir: Dir) -> u64 {
        self.longest_silence_us
            .get(dir.index())
            .copied()
            .unwrap_or(0)
    }

    /// The fields for an `end` JSON line, starting with a comma (the line's other fields come
    /// before):
    ///
    /// ```text
    /// ,"rtt_us":{"c2s":{"min":N,"median":N,"p99":N,"max":N,"count":N}|null,"s2c":…},
    /// "close":{"initiator":"c2s"|"s2c"|null,"code":N|null,"reason":"…"|null,"answered":B,
    /// "close_to_answer_us":N|null,"tcp_end":"fin"|"rst"|null,"close_to_tcp_end_us":N|null,
    /// "verdict":"clean"|"half_closed"|"abnormal"|"after_close"|"open"},
    /// "longest_silence_us":{"c2s":N,"s2c":N}
    /// ```
    /// (one line; wrapped here for reading).
    pub fn write_json(&self, w: &mut impl Write) -> io::Result<()> {
        w.write_all(b",\"rtt_us\":{")?;
        for (i, dir) in Dir::BOTH.into_iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            write!(w, "\"{}\":", dir.as_str())?;
            match self.rtt(dir) {
                Some(s) => write!(
                    w,
                    "{{\"min\":{},\"median\":{},\"p99\":{},\"max\":{},\"count\":{}}}",
                    s.min, s.median, s.p99, s.max, s.count
                )?,
                None => w.write_all(b"null")?,
            }
        }
        w.write_all(b"},\"close\":")?;
        write_close(w, &self.close)?;
        write!(
            w,
            ",\"longest_silence_us\":{{\"c2s\":{},\"s2c\":{}}}",
            self.longest_silence(Dir::C2s),
            self.longest_silence(Dir::S2c)
        )
    }
}

fn write_close(w: &mut impl Write, c: &CloseReport) -> io::Result<()> {
    w.write_all(b"{\"initiator\":")?;
    opt_str(w, c.initiator.map(Dir::as_str))?;
    w.write_all(b",\"code\":")?;
    opt_num(w, c.code.map(u64::from))?;
    w.write_all(b",\"reason\":")?;
    match &c.reason {
        Some(r) => serde_json::to_writer(&mut *w, r).map_err(io::Error::other)?,
        None => w.write_all(b"null")?,
    }
    write!(w, ",\"answered\":{}", c.answered)?;
    w.write_all(b",\"close_to_answer_us\":")?;
    opt_num(w, c.close_to_answer_us)?;
    w.write_all(b",\"tcp_end\":")?;
    opt_str(w, c.tcp_end.map(|t| t.as_str()))?;
    w.write_all(b",\"close_to_tcp_end_us\":")?;
    opt_num(w, c.close_to_tcp_end_us)?;
    write!(w, ",\"verdict\":\"{}\"}}", c.verdict.as_str())
}

/// A fixed ASCII name (no escaping needed) or null.
fn opt_str(w: &mut impl Write, s: Option<&str>) -> io::Result<()> {
    match s {
        Some(s) => write!(w, "\"{s}\""),
        None => w.write_all(b"null"),
    }
}

fn opt_num(w: &mut impl Write, n: Option<u64>) -> io::Result<()> {
    match n {
        Some(n) => write!(w, "{n}"),
        None => w.write_all(b"null"),
    }
}
