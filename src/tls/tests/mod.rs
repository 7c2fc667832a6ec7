//! Unit tests of the TLS layer: published vectors, key log parsing, framing.

mod framing;
mod keylog;
pub(crate) mod rfc8448;
mod vectors;

use super::{KeyLog, TlsConn, TlsEvent};

/// Hex with any whitespace, as RFCs print it.
pub(super) fn h(text: &str) -> Vec<u8> {
    let digits: String = text.split_whitespace().collect();
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
        .collect()
}

/// An owned copy of an event, to compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Ev {
    Established(crate::event::TlsInfo),
    Plaintext(usize, Vec<u8>),
    Lost(usize, u64),
    Closed(usize),
    Anomaly(Option<usize>, &'static str, String),
}

pub(super) fn own(e: TlsEvent<'_>) -> Ev {
    match e {
        TlsEvent::Established(i) => Ev::Established(i.clone()),
        TlsEvent::Plaintext { side, data } => Ev::Plaintext(side, data.to_vec()),
        TlsEvent::Lost { side, len } => Ev::Lost(side, len),
        TlsEvent::Closed { side } => Ev::Closed(side),
        TlsEvent::Anomaly { side, anomaly } => {
            Ev::Anomaly(side, anomaly.kind.as_str(), anomaly.detail)
        }
    }
}

/// Feeds `(side, bytes)` pieces in order, each cut into `piece`-byte feeds; returns the
/// events with consecutive plaintext of a side joined.
pub(super) fn run(
    conn: &mut TlsConn,
    keys: &KeyLog,
    input: &[(usize, Vec<u8>)],
    piece: usize,
) -> Vec<Ev> {
    let mut evs = Vec::new();
    let mut push = |e: TlsEvent<'_>| {
        let e = own(e);
        if let (Ev::Plaintext(s, d), Some(Ev::Plaintext(ls, ld))) = (&e, evs.last_mut())
            && s == ls
        {
            ld.extend_from_slice(d);
            return;
        }
        evs.push(e);
    };
    for (side, bytes) in input {
        for chunk in bytes.chunks(piece.max(1)) {
            conn.feed(*side, chunk, keys, &mut push);
        }
    }
    conn.finish(keys, &mut push);
    evs
}
