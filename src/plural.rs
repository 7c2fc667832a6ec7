//! Counts written with their noun in the right number, as every line a user reads writes
//! them: `1 byte`, `0 bytes`, `2 frames`.

use std::fmt;

/// A number and the noun that goes with it; `Display`s as `1 frame` or `3 frames`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Count {
    n: u64,
    noun: &'static str,
}

/// `n` with `one` when it is 1, else with `many`.
pub fn count<N: TryInto<u64>>(n: N, one: &'static str, many: &'static str) -> Count {
    let n = n.try_into().unwrap_or(u64::MAX);
    Count {
        n,
        noun: if n == 1 { one } else { many },
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.n, self.noun)
    }
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn singular_only_for_one() {
        assert_eq!(count(1u64, "byte", "bytes").to_string(), "1 byte");
        assert_eq!(count(0usize, "byte", "bytes").to_string(), "0 bytes");
        assert_eq!(count(2u32, "frame", "frames").to_string(), "2 frames");
        assert_eq!(count(1i64, "run", "runs").to_string(), "1 run");
        assert_eq!(
            count(-1i64, "run", "runs").to_string(),
            format!("{} runs", u64::MAX)
        );
    }
}
