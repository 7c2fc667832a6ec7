//! The parsed expression: terms combined with `and`, `or` and `not`.

use std::fmt;
use std::sync::Arc;

use super::subject::Subject;
use crate::event::ConnId;

/// One term's test, as its parser built it (capturing its value).
pub type Test = Arc<dyn Fn(&Subject<'_>) -> bool + Send + Sync>;

/// A parsed term: a test plus what the expression as a whole needs to know of it.
#[derive(Clone)]
pub struct Term {
    test: Test,
    /// An `anomaly` term: anomalies are selected only when a filter has one of these in a
    /// positive position.
    pub(super) asks_for_anomalies: bool,
    /// A connection-health term (`rtt`, `close:`): decided on the connection's `end`, which
    /// is selected only when a filter has one of these in a positive position.
    pub(super) asks_for_ends: bool,
    /// A `conn:` term: the connection numbers it holds for. Such a term depends on nothing
    /// else, which lets workers that do not know the final numbers decide for every
    /// possible number at once (see the `classes` module).
    pub(super) conn_ids: Option<(ConnId, ConnId)>,
    /// A protocol-unit term (`proto:`, `type:`, `topic:`, ...): it never holds on a raw
    /// message, so a view showing messages with their units asks it of the units only.
    pub(super) about_units: bool,
    /// A text or regex term: what it looks for in a payload, so a viewer can mark it.
    pub(super) pattern: Option<regex::bytes::Regex>,
}

impl Term {
    pub fn new(test: impl Fn(&Subject<'_>) -> bool + Send + Sync + 'static) -> Term {
        Term {
            test: Arc::new(test),
            asks_for_anomalies: false,
            asks_for_ends: false,
            conn_ids: None,
            about_units: false,
            pattern: None,
        }
    }

    /// Marks a term that searches the payload for `re` (text, `re:`, `/RE/`).
    pub fn searching(mut self, re: regex::bytes::Regex) -> Term {
        self.pattern = Some(re);
        self
    }

    /// Marks a term that selects anomalies (`anomaly`, `anomaly:KIND`).
    pub fn asking_for_anomalies(mut self) -> Term {
        self.asks_for_anomalies = true;
        self
    }

    /// Marks a term decided on the connection's `end` (`rtt`, `close:`).
    pub fn asking_for_ends(mut self) -> Term {
        self.asks_for_ends = true;
        self
    }

    /// Marks a protocol-unit term (see [`Term::about_units`]).
    pub fn about_units(mut self) -> Term {
        self.about_units = true;
        self
    }

    /// A term that holds exactly for the connections numbered `first..=last`.
    pub fn on_conn_ids(first: ConnId, last: ConnId) -> Term {
        let mut t = Term::new(move |s| s.conn.is_some_and(|c| (first..=last).contains(&c)));
        t.conn_ids = Some((first, last));
        t
    }

    pub fn holds(&self, s: &Subject<'_>) -> bool {
        (self.test)(s)
    }
}

impl fmt::Debug for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Term")
            .field("asks_for_anomalies", &self.asks_for_anomalies)
            .field("asks_for_ends", &self.asks_for_ends)
            .field("conn_ids", &self.conn_ids)
            .field("about_units", &self.about_units)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug)]
pub enum Expr {
    Term(Term),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

impl Expr {
    pub fn eval(&self, s: &Subject<'_>) -> bool {
        match self {
            Expr::Term(t) => t.holds(s),
            Expr::Not(e) => !e.eval(s),
            Expr::And(es) => es.iter().all(|e| e.eval(s)),
            Expr::Or(es) => es.iter().any(|e| e.eval(s)),
        }
    }

    /// Calls `f` on every term with its polarity (true under an even number of `not`s).
    pub fn visit(&self, positive: bool, f: &mut impl FnMut(&Term, bool)) {
        match self {
            Expr::Term(t) => f(t, positive),
            Expr::Not(e) => e.visit(!positive, f),
            Expr::And(es) | Expr::Or(es) => es.iter().for_each(|e| e.visit(positive, f)),
        }
    }
}
