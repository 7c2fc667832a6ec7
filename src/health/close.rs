//! The closing handshake (RFC 6455 §7) and the TCP teardown as the capture shows them.

use super::rtt::micros_between;
use crate::event::{Dir, EndHow, Message, Opcode, Timestamp};

/// How TCP ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpEnd {
    /// FIN only.
    Fin,
    /// At least one side reset the connection.
    Rst,
}

impl TcpEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            TcpEnd::Fin => "fin",
            TcpEnd::Rst => "rst",
        }
    }
}

/// The connection's ending in one word. When several apply the first listed wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A side sent a data message after its own close frame (RFC 6455 §5.5.1: "The application
    /// MUST NOT send any more data frames after sending a Close frame").
    AfterClose,
    /// The close was answered by the other side's close (§7.1.2). TCP's own ending is in
    /// `tcp_end` (null when the capture stopped first).
    Clean,
    /// A side sent a close that the other never answered.
    HalfClosed,
    /// No close frame at all, and TCP ended (FIN or RST): what a browser reports as 1006
    /// (§7.1.5, "abnormal closure").
    Abnormal,
    /// No close frame and no TCP end either: the capture stopped (or the connection was
    /// evicted or idle) with it still open; nothing to judge.
    Open,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::AfterClose => "after_close",
            Verdict::Clean => "clean",
            Verdict::HalfClosed => "half_closed",
            Verdict::Abnormal => "abnormal",
            Verdict::Open => "open",
        }
    }
}

/// Who closed, how, and how the rest went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseReport {
    /// The side whose close frame came first.
    pub initiator: Option<Dir>,
    /// The first close frame's status code (§5.5.1), if it carried one.
    pub code: Option<u16>,
    /// Its reason, when it carried one in valid UTF-8 (an invalid one is already an
    /// `invalid_utf8` anomaly and is not guessed at here).
    pub reason: Option<String>,
    /// The other side sent a close frame after it.
    pub answered: bool,
    /// From the first close frame to the answering one.
    pub close_to_answer_us: Option<u64>,
    pub tcp_end: Option<TcpEnd>,
    /// From the first close frame to the first FIN or RST at or after it (the start of the TCP
    /// teardown); `None` without a close or without a TCP end after it.
    pub close_to_tcp_end_us: Option<u64>,
    pub verdict: Verdict,
}

#[derive(Clone, Debug)]
struct FirstClose {
    dir: Dir,
    ts: Timestamp,
    code: Option<u16>,
    reason: Option<String>,
}

/// Close frames, data after them, and TCP ends of one connection.
#[derive(Clone, Debug, Default)]
pub struct Closing {
    first: Option<FirstClose>,
    answer: Option<Timestamp>,
    /// Per direction: it sent a close frame.
    closed: [bool; 2],
    after_close: bool,
    /// Per direction: when TCP ended it (FIN, or RST for both).
    tcp_ended: [Option<Timestamp>; 2],
    /// The first FIN or RST of either direction.
    first_tcp_end: Option<Timestamp>,
    rst: bool,
}

impl Closing {
    /// Called for every message: most are data before any close, which change nothing.
    #[inline]
    pub fn message(&mut self, dir: Dir, ts: Timestamp, msg: &Message) {
        if msg.opcode != Opcode::Close && self.closed == [false; 2] {
            return;
        }
        self.message_near_close(dir, ts, msg);
    }

    fn message_near_close(&mut self, dir: Dir, ts: Timestamp, msg: &Message) {
        let closed = self.closed.get(dir.index()).copied().unwrap_or(false);
        match msg.opcode {
            Opcode::Close => {
                if closed {
                    return;
                }
                if let Some(c) = self.closed.get_mut(dir.index()) {
                    *c = true;
                }
                match &self.first {
                    None => {
                        let reason = msg
                            .close_reason()
                            .filter(|_| msg.utf8_valid)
                            .and_then(|r| std::str::from_utf8(r).ok())
                            .map(str::to_owned);
                        self.first = Some(FirstClose {
                            dir,
                            ts,
                            code: msg.close_code(),
                            reason,
                        });
                    }
                    Some(first) if first.dir != dir && self.answer.is_none() => {
                        self.answer = Some(ts);
                    }
                    Some(_) => {}
                }
            }
            op if !op.is_control() && closed => self.after_close = true,
            _ => {}
        }
    }

    pub fn tcp_end(&mut self, dir: Dir, how: EndHow, ts: Timestamp) {
        let dirs: &[Dir] = match how {
            EndHow::Fin => &[dir],
            // RFC 9293 §3.10.7.4: a reset aborts the whole connection, both directions.
            EndHow::Rst => &Dir::BOTH,
            // Not TCP ending: the input stopped, or the connection was dropped.
            EndHow::Eof | EndHow::Evicted | EndHow::Idle => return,
        };
        self.rst |= how == EndHow::Rst;
        for d in dirs {
            if let Some(end @ None) = self.tcp_ended.get_mut(d.index()) {
                *end = Some(ts);
            }
        }
        // The first end at or after the close, so that a client's early half-close (FIN)
        // followed by the server's close and its FIN measures the server's teardown.
        let after_close = self.first.as_ref().is_none_or(|f| ts >= f.ts);
        if self.first_tcp_end.is_none() || (after_close && !self.first_end_after_close()) {
            self.first_tcp_end = Some(ts);
        }
    }

    fn first_end_after_close(&self) -> bool {
        match (&self.first, self.first_tcp_end) {
            (Some(f), Some(t)) => t >= f.ts,
            _ => false,
        }
    }

    /// When TCP ended `dir` (FIN of that side, or a reset).
    pub fn tcp_ended(&self, dir: Dir) -> Option<Timestamp> {
        self.tcp_ended.get(dir.index()).copied().flatten()
    }

    pub fn report(&self) -> CloseReport {
        let tcp_end = match (self.rst, self.first_tcp_end) {
            (true, _) => Some(TcpEnd::Rst),
            (false, Some(_)) => Some(TcpEnd::Fin),
            (false, None) => None,
        };
        let verdict = match (&self.first, self.answer) {
            _ if self.after_close => Verdict::AfterClose,
            (Some(_), Some(_)) => Verdict::Clean,
            (Some(_), None) => Verdict::HalfClosed,
            (None, _) if tcp_end.is_some() => Verdict::Abnormal,
            (None, _) => Verdict::Open,
        };
        let first = self.first.as_ref();
        let since_close = |t: Option<Timestamp>| {
            let f = first?;
            let t = t.filter(|t| *t >= f.ts)?;
            Some(micros_between(f.ts, t))
        };
        CloseReport {
            initiator: first.map(|f| f.dir),
            code: first.and_then(|f| f.code),
            reason: first.and_then(|f| f.reason.clone()),
            answered: self.answer.is_some(),
            close_to_answer_us: since_close(self.answer),
            tcp_end,
            close_to_tcp_end_us: since_close(self.first_tcp_end),
            verdict,
        }
    }
}
