// Shared by the proto_* targets: input records → one `ProtoConn`, with invariants checked.
//
// Input: a config byte, then records `[ctl, len_hi, len_lo, bytes...]`: `ctl` bit 0 is the
// direction (0 = c2s), bit 1 the opcode (0 = binary, 1 = text; text that is not UTF-8 is
// passed as binary, as the WebSocket layer would never hand it over), bit 2 declares the
// direction's messages lost instead of delivering a message.

use wsnoop::event::{Dir, Opcode, Timestamp};
use wsnoop::proto::{MsgRef, ProtoChoice, ProtoConfig, ProtoConn, ProtoHints};

pub fn run(choice: ProtoChoice, hints: ProtoHints<'_>, data: &[u8]) {
    let config = ProtoConfig {
        max_unit_bytes: 4096,
        max_pending_requests: 16,
        max_attachments: 4,
        max_topic_alias_bytes: 256,
        ..ProtoConfig::default()
    };
    let Some(mut conn) = ProtoConn::new(&hints, choice, config) else {
        return;
    };
    let mut out = Vec::new();
    let mut rest = data;
    let mut t = 0i64;
    while let [ctl, hi, lo, tail @ ..] = rest {
        let len = (usize::from(*hi) << 8 | usize::from(*lo)).min(tail.len());
        let (payload, next) = tail.split_at(len);
        rest = next;
        let dir = if ctl & 1 == 0 { Dir::C2s } else { Dir::S2c };
        if ctl & 4 != 0 {
            conn.lost(dir);
            continue;
        }
        let opcode = if ctl & 2 != 0 && std::str::from_utf8(payload).is_ok() {
            Opcode::Text
        } else {
            Opcode::Binary
        };
        t += 1;
        let ts = Timestamp::new(t, 0);
        conn.message(
            &MsgRef {
                dir,
                ts,
                opcode,
                payload,
            },
            &mut out,
        );
        for u in out.drain(..) {
            assert!(u.messages >= 1);
            // Stamped with its last message: this one, or an earlier one for a Socket.IO
            // packet whose missing attachments this message shows will never come.
            assert!(u.ts <= ts && u.ts.secs >= 1);
            assert!(!u.summary.contains('\n'), "a summary is one line");
            for name in wsnoop::proto::RESERVED_NAMES {
                assert!(!u.fields.contains_key(name), "field {name} is reserved");
            }
            if let Some(r) = u.reply_to {
                assert!(r <= u.ts);
            }
        }
        assert!(conn.pending_requests() <= 16);
    }
    let left = conn.finish();
    assert!(left.len() <= 16);
}
