//! MQTT 5.0 §2.2.2 properties: a Variable Byte Integer length, then identifier/value pairs.

use serde_json::{Map, Value};

use super::reader::{Reader, Res};
use crate::proto::text::b64;

/// How a property's value is encoded (§2.2.2.2, Table 2-4).
#[derive(Clone, Copy)]
enum Ty {
    Byte,
    U16,
    U32,
    Varint,
    Utf8,
    Binary,
    Pair,
}

fn property(id: u32) -> Option<(&'static str, Ty)> {
    Some(match id {
        0x01 => ("payload_format_indicator", Ty::Byte),
        0x02 => ("message_expiry_interval", Ty::U32),
        0x03 => ("content_type", Ty::Utf8),
        0x08 => ("response_topic", Ty::Utf8),
        0x09 => ("correlation_data_b64", Ty::Binary),
        0x0B => ("subscription_identifier", Ty::Varint),
        0x11 => ("session_expiry_interval", Ty::U32),
        0x12 => ("assigned_client_identifier", Ty::Utf8),
        0x13 => ("server_keep_alive", Ty::U16),
        0x15 => ("authentication_method", Ty::Utf8),
        0x16 => ("authentication_data_b64", Ty::Binary),
        0x17 => ("request_problem_information", Ty::Byte),
        0x18 => ("will_delay_interval", Ty::U32),
        0x19 => ("request_response_information", Ty::Byte),
        0x1A => ("response_information", Ty::Utf8),
        0x1C => ("server_reference", Ty::Utf8),
        0x1F => ("reason_string", Ty::Utf8),
        0x21 => ("receive_maximum", Ty::U16),
        0x22 => ("topic_alias_maximum", Ty::U16),
        0x23 => ("topic_alias", Ty::U16),
        0x24 => ("maximum_qos", Ty::Byte),
        0x25 => ("retain_available", Ty::Byte),
        0x26 => ("user_property", Ty::Pair),
        0x27 => ("maximum_packet_size", Ty::U32),
        0x28 => ("wildcard_subscription_available", Ty::Byte),
        0x29 => ("subscription_identifier_available", Ty::Byte),
        0x2A => ("shared_subscription_available", Ty::Byte),
        _ => return None,
    })
}

/// The properties of one packet, keyed by snake_case name. `user_property` is a list of
/// [key, value] pairs and `subscription_identifier` a list (both may repeat, §3.3.2.3.4 and
/// §3.3.2.3.8); any other repeat is a protocol error (the first value is kept). Problems that
/// leave the rest readable are pushed on `problems`; an unknown identifier or a short read
/// ends the properties (their length is then unknown) and is returned as the error.
pub(super) fn read(r: &mut Reader<'_>, problems: &mut Vec<String>) -> Res<Map<String, Value>> {
    let len = r.varint("property length")?;
    let bytes = r.take(usize::try_from(len).unwrap_or(usize::MAX), "properties")?;
    let mut p = Reader::new(bytes);
    let mut out = Map::new();
    while !p.is_empty() {
        let id = p.varint("property identifier")?;
        let Some((name, ty)) = property(id) else {
            return Err(format!("unknown property identifier 0x{id:02x}"));
        };
        let value = match ty {
            Ty::Byte => Value::from(p.u8(name)?),
            Ty::U16 => Value::from(p.u16(name)?),
            Ty::U32 => Value::from(p.u32(name)?),
            Ty::Varint => Value::from(p.varint(name)?),
            Ty::Binary => Value::from(b64(p.binary(name)?)),
            Ty::Utf8 => {
                let (s, bad) = p.string(name)?;
                problems.extend(bad);
                Value::from(s)
            }
            Ty::Pair => {
                let (k, bad_k) = p.string(name)?;
                let (v, bad_v) = p.string(name)?;
                problems.extend(bad_k);
                problems.extend(bad_v);
                Value::Array(vec![Value::from(k), Value::from(v)])
            }
        };
        let repeatable = matches!(id, 0x0B | 0x26);
        match out.get_mut(name) {
            Some(Value::Array(list)) if repeatable => list.push(value),
            Some(_) => problems.push(format!("property {name} appears twice")),
            None if repeatable => {
                out.insert(name.to_owned(), Value::Array(vec![value]));
            }
            None => {
                out.insert(name.to_owned(), value);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_user_properties_are_kept_in_order() {
        let bytes = [
            17, // length
            0x26, 0, 1, b'a', 0, 1, b'1', // user_property a=1
            0x26, 0, 1, b'a', 0, 1, b'2', // user_property a=2
            0x23, 0, 7, // topic_alias 7
        ];
        let mut problems = Vec::new();
        let props = read(&mut Reader::new(&bytes), &mut problems).unwrap();
        assert!(problems.is_empty());
        assert_eq!(
            Value::Object(props),
            serde_json::json!({"user_property": [["a", "1"], ["a", "2"]], "topic_alias": 7})
        );
    }

    #[test]
    fn a_repeated_single_property_is_an_error_and_an_unknown_one_ends_them() {
        let bytes = [6, 0x23, 0, 1, 0x23, 0, 2];
        let mut problems = Vec::new();
        let props = read(&mut Reader::new(&bytes), &mut problems).unwrap();
        assert_eq!(props["topic_alias"], 1);
        assert_eq!(problems, ["property topic_alias appears twice"]);
        let err = read(&mut Reader::new(&[2, 0x7f, 0]), &mut problems).unwrap_err();
        assert_eq!(err, "unknown property identifier 0x7f");
    }
}
