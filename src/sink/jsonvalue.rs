//! A `serde_json::Value` written straight into a line, with the sink's own string escaper
//! (serde_json's is several times slower on the long payload strings protocol units carry),
//! and a protocol unit's members written in place instead of gathered into a map of copies.

use std::io::{self, Write};

use serde_json::Value;

use super::fastfmt::write_json_str;
use crate::event::Timestamp;
use crate::proto::Unit;

fn write_u64(w: &mut impl Write, n: u64) -> io::Result<()> {
    w.write_all(itoa::Buffer::new().format(n).as_bytes())
}

/// `v` as compact JSON, the way `serde_json::to_writer` writes it.
pub fn write_value(w: &mut impl Write, v: &Value) -> io::Result<()> {
    match v {
        Value::Null => w.write_all(b"null"),
        Value::Bool(true) => w.write_all(b"true"),
        Value::Bool(false) => w.write_all(b"false"),
        Value::Number(n) => match n.as_u64() {
            Some(u) => write_u64(w, u),
            None => serde_json::to_writer(&mut *w, n).map_err(io::Error::other),
        },
        Value::String(s) => write_json_str(w, s),
        Value::Array(items) => {
            w.write_all(b"[")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    w.write_all(b",")?;
                }
                write_value(w, item)?;
            }
            w.write_all(b"]")
        }
        Value::Object(m) => {
            w.write_all(b"{")?;
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    w.write_all(b",")?;
                }
                write_json_str(w, k)?;
                w.write_all(b":")?;
                write_value(w, item)?;
            }
            w.write_all(b"}")
        }
    }
}

/// The unit's members after the line's own (`event` ... `dir`), each preceded by a comma, in
/// the order [`Unit::write_json`] gives them; `time` writes a timestamp's JSON string.
pub fn write_unit(
    w: &mut impl Write,
    unit: &Unit,
    mut time: impl FnMut(&mut dyn Write, Timestamp) -> io::Result<()>,
) -> io::Result<()> {
    w.write_all(b",\"proto\":")?;
    write_json_str(w, unit.proto)?;
    w.write_all(b",\"type\":")?;
    write_json_str(w, &unit.kind)?;
    for (k, v) in &unit.fields {
        w.write_all(b",")?;
        write_json_str(w, k)?;
        w.write_all(b":")?;
        write_value(w, v)?;
    }
    w.write_all(b",\"messages\":")?;
    write_u64(w, u64::from(unit.messages))?;
    if let Some(request) = unit.reply_to {
        w.write_all(b",\"reply_to\":")?;
        time(w, request)?;
        w.write_all(b",\"latency_us\":")?;
        match unit.latency_us {
            Some(us) => write_u64(w, us)?,
            None => w.write_all(b"null")?,
        }
    }
    if let Some(a) = &unit.anomaly {
        w.write_all(b",\"anomaly\":{\"kind\":")?;
        write_json_str(w, a.kind.as_str())?;
        w.write_all(b",\"detail\":")?;
        write_json_str(w, &a.detail)?;
        w.write_all(b"}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, json};

    use super::*;
    use crate::event::{Anomaly, AnomalyKind, Dir};

    fn values() -> Vec<Value> {
        vec![
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(18446744073709551615u64),
            json!(-42),
            json!(1.5),
            json!(-0.25e-7),
            json!("plain"),
            json!("quote \" backslash \\ tab \t nl \n nul \u{0} del \u{7f} é ✓ 😀"),
            json!([]),
            json!({}),
            json!([1, "a", {"b": [null, {"c": "\u{1f}"}]}]),
            json!({"z": 1, "a": {"nested": ["x", 2.5, false]}, "": ""}),
        ]
    }

    #[test]
    fn every_value_is_written_as_serde_json_writes_it() {
        for v in values() {
            let mut ours = Vec::new();
            write_value(&mut ours, &v).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(&v).unwrap(),
                "{v:?}"
            );
        }
    }

    #[test]
    fn a_unit_is_written_as_its_json_map_says() {
        let mut u = Unit::new(Dir::S2c, Timestamp::new(10, 5_000), "jsonrpc", "response");
        u.set("id", 17);
        u.set("result", json!({"rows": [[1, "é\"x"]], "ms": 3.5}));
        u.set("method_answered", "db.query");
        u.answers(Timestamp::new(9, 999_000_000));
        u.anomaly = Some(Anomaly::new(
            AnomalyKind::named("proto_error"),
            "bad \"id\"",
        ));
        let time = |w: &mut dyn Write, t: Timestamp| write!(w, "\"{}.{:09}\"", t.secs, t.nanos);
        let mut ours = Vec::new();
        write_unit(&mut ours, &u, time).unwrap();
        let mut map = Map::new();
        u.write_json(&mut map, |t| {
            Value::from(format!("{}.{:09}", t.secs, t.nanos))
        });
        let mut want = String::new();
        for (k, v) in &map {
            want.push(',');
            want.push_str(&serde_json::to_string(k).unwrap());
            want.push(':');
            want.push_str(&serde_json::to_string(v).unwrap());
        }
        assert_eq!(String::from_utf8(ours).unwrap(), want);
    }
}
