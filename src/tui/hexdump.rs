//! Hex + ASCII dump lines for binary payloads.

use std::fmt::Write as _;

/// Bytes per line that fit in `width` columns (16 when there is room, else 8, at least 4).
pub fn bytes_per_line(width: usize) -> usize {
    match width {
        w if w >= line_width(16) => 16,
        w if w >= line_width(8) => 8,
        _ => 4,
    }
}

fn line_width(per_line: usize) -> usize {
    // offset(8) + 2 spaces + 3 per byte + group gap + 2 bars + ascii
    8 + 2 + 3 * per_line + 1 + 2 + per_line
}

/// One dump line: `offset  hex...  |ascii|`, split into the hex part and the ASCII part so
/// callers can colour them.
pub fn line(offset: usize, chunk: &[u8], per_line: usize) -> (String, String) {
    let mut hex = String::with_capacity(10 + per_line * 3 + 1);
    let _ = write!(hex, "{offset:08x}  ");
    for i in 0..per_line {
        if i == per_line / 2 && per_line >= 8 {
            hex.push(' ');
        }
        match chunk.get(i) {
            Some(b) => {
                let _ = write!(hex, "{b:02x} ");
            }
            None => hex.push_str("   "),
        }
    }
    let ascii: String = chunk
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            }
        })
        .collect();
    (hex, format!("|{ascii}|"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_and_partial_lines() {
        let data: Vec<u8> = (0x40..0x50).collect();
        let (hex, ascii) = line(0x10, &data, 16);
        assert_eq!(
            hex,
            "00000010  40 41 42 43 44 45 46 47  48 49 4a 4b 4c 4d 4e 4f "
        );
        assert_eq!(ascii, "|@ABCDEFGHIJKLMNO|");
        let (hex, ascii) = line(0, b"a\x00", 8);
        assert_eq!(hex, "00000000  61 00                    ");
        assert_eq!(ascii, "|a.|");
    }

    #[test]
    fn widths() {
        assert_eq!(bytes_per_line(80), 16);
        assert_eq!(bytes_per_line(77), 16);
        assert_eq!(bytes_per_line(76), 8);
        assert_eq!(bytes_per_line(20), 4);
    }
}
