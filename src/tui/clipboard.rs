//! `c`: the selected message's payload to the terminal's clipboard with OSC 52
//! (`ESC ] 52 ; c ; BASE64 BEL`). The terminal sets its own clipboard, so it works over SSH;
//! inside tmux it needs `set -g set-clipboard on` in `~/.tmux.conf` (tmux then takes the
//! sequence and passes it on to the terminal outside).

use std::io::{self, Write};

use super::model::{RowKind, StoredMsg};
use super::state::{App, Effect};
use crate::event::Opcode;

/// Payload bytes copied at most: terminals drop (or choke on) longer OSC 52 sequences.
pub const MAX_COPY: usize = 256 << 10;

/// The escape sequence that puts `text` on the clipboard.
pub fn osc52(text: &[u8]) -> Vec<u8> {
    let mut out = b"\x1b]52;c;".to_vec();
    out.extend_from_slice(base64_simd::STANDARD.encode_to_string(text).as_bytes());
    out.push(0x07);
    out
}

/// Writes the sequence for `text` to the terminal.
pub fn write(mut terminal: impl Write, text: &[u8]) -> io::Result<()> {
    terminal.write_all(&osc52(text))?;
    terminal.flush()
}

/// What goes on the clipboard for a message: valid UTF-8 text as is; anything else as hex
/// pairs (a clipboard holds text), and how the notice names it.
fn clip(m: &StoredMsg) -> (Vec<u8>, &'static str) {
    let text = m.opcode == Opcode::Text && m.utf8_valid;
    if text {
        (m.payload.to_vec(), "")
    } else {
        let hex: Vec<String> = m.payload.iter().map(|b| format!("{b:02x}")).collect();
        (hex.join(" ").into_bytes(), " as hex")
    }
}

impl App {
    /// The copy of the selected message's payload, or a notice saying why there is none.
    pub(super) fn copy(&mut self) -> Option<Effect> {
        let Some(ix) = self.selected_row() else {
            self.notice = Some(("select a message to copy".into(), true));
            return None;
        };
        let Some(RowKind::Message(m)) = self.row(ix).map(|r| &r.kind) else {
            self.notice = Some(("an anomaly has no payload to copy".into(), true));
            return None;
        };
        if m.payload.len() > MAX_COPY {
            self.notice = Some((
                format!(
                    "{} bytes are too many for the clipboard (at most {MAX_COPY}): y saves them to a file",
                    m.len
                ),
                true,
            ));
            return None;
        }
        let (text, how) = clip(m);
        let mut notice = format!("copied {} bytes{how} to the clipboard", m.payload.len());
        if m.truncated() {
            notice.push_str(&format!(" (of {}: raise --keep-payload)", m.len));
        }
        Some(Effect::Copy { text, notice })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_escape_sequence_exactly() {
        assert_eq!(osc52(b"hi"), b"\x1b]52;c;aGk=\x07");
        assert_eq!(osc52(b""), b"\x1b]52;c;\x07");
        let mut out = Vec::new();
        write(&mut out, "héllo".as_bytes()).unwrap();
        assert_eq!(out, b"\x1b]52;c;aMOpbGxv\x07");
    }

    fn msg(opcode: Opcode, payload: &[u8], utf8_valid: bool) -> StoredMsg {
        StoredMsg {
            opcode,
            len: payload.len() as u64,
            payload: Box::from(payload),
            frames: 1,
            compressed: false,
            wire_len: payload.len() as u64,
            utf8_valid,
            frame_detail: Box::default(),
            packets: None,
            units: Vec::new(),
        }
    }

    #[test]
    fn text_as_is_binary_as_hex() {
        assert_eq!(
            clip(&msg(Opcode::Text, b"hello", true)),
            (b"hello".to_vec(), "")
        );
        assert_eq!(
            clip(&msg(Opcode::Binary, &[0, 0xff, 0x10], false)),
            (b"00 ff 10".to_vec(), " as hex")
        );
        assert_eq!(
            clip(&msg(Opcode::Text, &[0xc3, 0x28], false)),
            (b"c3 28".to_vec(), " as hex")
        );
    }
}
