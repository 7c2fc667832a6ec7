//! RFC 6455 §5.5.1 / §7.4 close payloads.

/// §7.4.1 defined codes, §7.4.2 ranges, and the IANA "WebSocket Close Code Number Registry":
/// 1000-1003 and 1007-1014 are assigned, 3000-4999 are for libraries and applications.
/// 1004-1006 and 1015 must never be sent; everything else is reserved or invalid.
pub(super) fn valid_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

#[cfg(test)]
mod tests {
    use super::valid_code;

    #[test]
    fn registry_ranges() {
        let valid: Vec<u16> = (0..=u16::MAX).filter(|&c| valid_code(c)).collect();
        assert_eq!(valid.len(), 4 + 8 + 2000);
        for c in [1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4999] {
            assert!(valid_code(c), "{c}");
        }
        for c in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
            assert!(!valid_code(c), "{c}");
        }
    }
}
