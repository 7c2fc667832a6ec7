//! Connection-number classes: how a worker that does not know the final connection numbers
//! (`read --threads N` numbers connections when their lines are merged) still decides exactly.
//!
//! `conn:` terms depend on the number alone, and the numbers a filter names cut the number
//! line into a few intervals within which every `conn:` term has one value: `conn:3 or
//! conn:5-7` gives `..3`, `3`, `4`, `5..=7`, `8..`. A worker evaluates the filter once per
//! class (with a number from it) and marks each output with the classes it is selected in;
//! the merger, knowing the final number, keeps the output iff its class is marked. A filter
//! without `conn:` terms has one class.

use super::expr::Expr;
use crate::event::ConnId;

/// One class of connection numbers of a filter (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ConnClass(u8);

/// A set of [`ConnClass`]es: those a line is selected in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ClassSet(u64);

impl ClassSet {
    pub const NONE: ClassSet = ClassSet(0);
    pub const ALL: ClassSet = ClassSet(u64::MAX);

    pub fn contains(self, c: ConnClass) -> bool {
        self.0 & (1 << c.0) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn with(self, c: ConnClass) -> ClassSet {
        ClassSet(self.0 | 1 << c.0)
    }

    pub fn union(self, other: ClassSet) -> ClassSet {
        ClassSet(self.0 | other.0)
    }

    pub fn minus(self, other: ClassSet) -> ClassSet {
        ClassSet(self.0 & !other.0)
    }
}

/// The class boundaries of a filter: each is the first number of a class.
#[derive(Clone, Debug, Default)]
pub struct Classes {
    starts: Vec<ConnId>,
}

impl Classes {
    /// At most two boundaries per `conn:` term (the parser bounds those to 31: at most 63
    /// classes, within a [`ClassSet`]).
    pub fn of(expr: &Expr) -> Classes {
        let mut starts = Vec::new();
        expr.visit(true, &mut |t, _| {
            if let Some((first, last)) = t.conn_ids {
                starts.push(first);
                if let Some(after) = last.checked_add(1) {
                    starts.push(after);
                }
            }
        });
        starts.sort_unstable();
        starts.dedup();
        debug_assert!(starts.len() < 64, "{} class boundaries", starts.len());
        Classes { starts }
    }

    pub fn is_trivial(&self) -> bool {
        self.starts.is_empty()
    }

    pub fn class_of(&self, id: ConnId) -> ConnClass {
        // `partition_point` is at most `starts.len()`, which is below 64.
        ConnClass(u8::try_from(self.starts.partition_point(|&s| s <= id)).unwrap_or(63))
    }

    /// Every class with a number in it (class 0 is empty when a boundary is 0).
    pub fn members(&self) -> impl Iterator<Item = (ConnClass, ConnId)> + '_ {
        let first = self
            .starts
            .first()
            .map_or(Some(0), |s| s.checked_sub(1))
            .map(|id| (ConnClass(0), id));
        let rest = self
            .starts
            .iter()
            .zip(1u8..)
            .map(|(&id, c)| (ConnClass(c), id));
        first.into_iter().chain(rest)
    }
}
