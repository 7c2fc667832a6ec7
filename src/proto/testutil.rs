//! A connection driven by hand in unit tests.

use serde_json::Value;

use crate::event::{Dir, Opcode, Timestamp};
use crate::proto::{MsgRef, ProtoChoice, ProtoConfig, ProtoConn, ProtoHints, ProtoName, Unit};

pub struct Session {
    pub conn: ProtoConn,
    pub t: i64,
}

impl Session {
    pub fn new(name: ProtoName) -> Session {
        Session::with(name, ProtoConfig::default())
    }

    pub fn with(name: ProtoName, config: ProtoConfig) -> Session {
        Session {
            conn: ProtoConn::new(&ProtoHints::default(), ProtoChoice::Force(name), config)
                .expect("a decoder"),
            t: 0,
        }
    }

    /// Feeds one message; each message is one second after the previous.
    pub fn feed(&mut self, dir: Dir, opcode: Opcode, payload: &[u8]) -> Vec<Unit> {
        self.t += 1;
        let mut out = Vec::new();
        self.conn.message(
            &MsgRef {
                dir,
                ts: Timestamp::new(self.t, 0),
                opcode,
                payload,
            },
            &mut out,
        );
        out
    }

    pub fn one(&mut self, dir: Dir, payload: &[u8]) -> Unit {
        let mut units = self.feed(dir, Opcode::Binary, payload);
        assert_eq!(units.len(), 1, "{units:?}");
        units.remove(0)
    }
}

impl Session {
    /// Feeds a text message.
    pub fn text(&mut self, dir: Dir, payload: &str) -> Vec<Unit> {
        self.feed(dir, Opcode::Text, payload.as_bytes())
    }
}

pub fn fields(u: &Unit) -> Value {
    Value::Object(u.fields.clone())
}
