//! Slicing where the bounds were established by the code around it. Only a logic error can
//! make such a slice fail: debug builds (tests, fuzzing with debug assertions) stop right
//! there, so the bug is found; release builds get an empty slice and go on rather than panic
//! in the middle of a capture.

use std::fmt::Debug;
use std::slice::SliceIndex;

/// `&data[range]`, for a `range` the caller has already proven to lie within `data`.
#[track_caller]
pub(crate) fn within<I>(data: &[u8], range: I) -> &[u8]
where
    I: SliceIndex<[u8], Output = [u8]> + Clone + Debug,
{
    let part = data.get(range.clone());
    debug_assert!(
        part.is_some(),
        "range {range:?} outside {} bytes",
        data.len()
    );
    part.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::within;

    #[test]
    fn slices_within_bounds() {
        assert_eq!(within(b"abcdef", 1..3), b"bc");
        assert_eq!(within(b"abcdef", 6..), b"");
    }

    #[test]
    #[should_panic(expected = "outside 3 bytes")]
    fn a_range_outside_is_a_logic_error() {
        let _ = within(b"abc", 2..5);
    }
}
