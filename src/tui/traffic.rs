//! The traffic over time the chart draws: messages (or bytes) per interval in each
//! direction, over the whole capture's time, for one connection or all. Computed from the
//! model, kept between frames.

use super::fmt;
use super::model::{Model, Row, RowKind};

/// Binned counts, recomputed when the connection, width or unit changes, and while loading
/// only when the rows have grown by an eighth (so the work stays linear overall).
#[derive(Clone, Debug)]
pub struct Cache {
    /// (selected connection's index in the model, width, bytes rather than messages).
    pub key: (Option<usize>, u16, bool),
    /// Rows binned.
    pub rows: usize,
    /// Binned after loading ended.
    pub done: bool,
    pub bins: [Vec<u64>; 2],
    pub bin_secs: f64,
}

/// Bins of connection `conn` (an index into `model.conns`), or of all when `None`.
pub fn bins(model: &Model, conn: Option<usize>, n: usize, bytes: bool) -> ([Vec<u64>; 2], f64) {
    let mut bins = [vec![0u64; n], vec![0u64; n]];
    let (Some(first), Some(last)) = (model.first_ts, model.last_ts) else {
        return (bins, 0.0);
    };
    if n == 0 {
        return (bins, 0.0);
    }
    let span = (fmt::nanos(last) - fmt::nanos(first)).max(1);
    let bin_ns = (span + n as i128 - 1) / n as i128;
    let mut add = |row: &Row| {
        if let (RowKind::Message(m), Some(d)) = (&row.kind, row.dir) {
            let at = ((fmt::nanos(row.ts) - fmt::nanos(first)) / bin_ns).clamp(0, n as i128 - 1);
            if let Some(slot) = bins[d.index()].get_mut(at as usize) {
                *slot += if bytes { m.len } else { 1 };
            }
        }
    };
    match conn.and_then(|i| model.conns.get(i)) {
        None => model.rows.iter().for_each(&mut add),
        Some(c) => c
            .rows
            .iter()
            .filter_map(|&ix| model.rows.get(ix as usize))
            .for_each(&mut add),
    }
    (bins, bin_ns as f64 / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Dir, Opcode};
    use crate::tui::testdata::{message, open};

    #[test]
    fn bins_over_capture_time() {
        let mut m = Model::new(1 << 20);
        m.push(open(1, 0));
        m.push(message(1, 0, Dir::C2s, Opcode::Text, b"ab"));
        m.push(message(1, 5, Dir::S2c, Opcode::Text, b"abcd"));
        m.push(message(1, 9, Dir::C2s, Opcode::Text, b"x"));
        m.push(message(1, 10, Dir::C2s, Opcode::Text, b"y"));
        let (b, secs) = bins(&m, Some(0), 5, false);
        assert_eq!(b[0], vec![1, 0, 0, 0, 2]);
        assert_eq!(b[1], vec![0, 0, 1, 0, 0]);
        assert!((secs - 2.0).abs() < 1e-9);
        let (b, _) = bins(&m, None, 5, true);
        assert_eq!(b[0], vec![2, 0, 0, 0, 2]);
        assert_eq!(b[1], vec![0, 0, 4, 0, 0]);
    }
}
