//! RFC 6455 §5.5.1 / §7.4 close payloads.

/// §7.4.1 defined codes, §7.4.2 ranges, and the IANA "WebSocket Close Code Number Registry":
/// 1000-1003 and 1007-1014 are assigned, 3000-4999 are for libraries and applications.
/// 1004-1006 and 1015 must never be sent; everything else is reserved or invalid.
pub(super) fn valid_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// The name of a close code: RFC 6455 §7.4.1's names (and the IANA registry's later
/// additions), else what its range is for. The one naming the text output and the TUI share.
pub fn close_name(code: u16) -> &'static str {
    match code {
        1000 => "Normal Closure",
        1001 => "Going Away",
        1002 => "Protocol Error",
        1003 => "Unsupported Data",
        1005 => "No Status Received (must not be sent)",
        1006 => "Abnormal Closure (must not be sent)",
        1007 => "Invalid Frame Payload Data",
        1008 => "Policy Violation",
        1009 => "Message Too Big",
        1010 => "Mandatory Extension",
        1011 => "Internal Error",
        1012 => "Service Restart",
        1013 => "Try Again Later",
        1014 => "Bad Gateway",
        1015 => "TLS Handshake (must not be sent)",
        0..=999 => "invalid (below 1000)",
        1004 | 1016..=2999 => "reserved",
        3000..=3999 => "registered (libraries, frameworks)",
        4000..=4999 => "private use",
        _ => "invalid (above 4999)",
    }
}

#[cfg(test)]
mod tests {
    use super::{close_name, valid_code};

    #[test]
    fn close_names() {
        assert_eq!(close_name(1000), "Normal Closure");
        assert_eq!(close_name(1006), "Abnormal Closure (must not be sent)");
        assert_eq!(close_name(1011), "Internal Error");
        assert_eq!(close_name(999), "invalid (below 1000)");
        assert_eq!(close_name(1004), "reserved");
        assert_eq!(close_name(3001), "registered (libraries, frameworks)");
        assert_eq!(close_name(4001), "private use");
        assert_eq!(close_name(5000), "invalid (above 4999)");
    }

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
