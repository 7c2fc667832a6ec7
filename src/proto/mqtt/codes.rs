//! Names of MQTT packet types and reason / return codes, as the specifications write them.

/// MQTT 3.1.1 §2.2.1 / 5.0 §2.1.2, Table 2-1: control packet types.
pub(super) fn packet_name(kind: u8) -> &'static str {
    match kind {
        1 => "CONNECT",
        2 => "CONNACK",
        3 => "PUBLISH",
        4 => "PUBACK",
        5 => "PUBREC",
        6 => "PUBREL",
        7 => "PUBCOMP",
        8 => "SUBSCRIBE",
        9 => "SUBACK",
        10 => "UNSUBSCRIBE",
        11 => "UNSUBACK",
        12 => "PINGREQ",
        13 => "PINGRESP",
        14 => "DISCONNECT",
        15 => "AUTH",
        _ => "RESERVED",
    }
}

/// MQTT 3.1.1 §3.2.2.3, Table 3.1: CONNACK return codes.
pub(super) fn connack_return(code: u8) -> Option<&'static str> {
    Some(match code {
        0 => "Connection Accepted",
        1 => "Connection Refused, unacceptable protocol version",
        2 => "Connection Refused, identifier rejected",
        3 => "Connection Refused, Server unavailable",
        4 => "Connection Refused, bad user name or password",
        5 => "Connection Refused, not authorized",
        _ => return None,
    })
}

/// MQTT 3.1.1 §3.9.3: SUBACK return codes.
pub(super) fn suback_return(code: u8) -> Option<&'static str> {
    Some(match code {
        0x00 => "Success - Maximum QoS 0",
        0x01 => "Success - Maximum QoS 1",
        0x02 => "Success - Maximum QoS 2",
        0x80 => "Failure",
        _ => return None,
    })
}

/// MQTT 5.0 §2.4, Table 2-6: reason codes. 0x00 to 0x02 are named as the packet uses them.
pub(super) fn reason(code: u8, packet: u8) -> Option<&'static str> {
    Some(match (code, packet) {
        (0x00, 9) => "Granted QoS 0",
        (0x00, 14) => "Normal disconnection",
        (0x00, _) => "Success",
        (0x01, 9) => "Granted QoS 1",
        (0x02, 9) => "Granted QoS 2",
        (0x04, 14) => "Disconnect with Will Message",
        (0x10, _) => "No matching subscribers",
        (0x11, _) => "No subscription existed",
        (0x18, _) => "Continue authentication",
        (0x19, _) => "Re-authenticate",
        (0x80, _) => "Unspecified error",
        (0x81, _) => "Malformed Packet",
        (0x82, _) => "Protocol Error",
        (0x83, _) => "Implementation specific error",
        (0x84, _) => "Unsupported Protocol Version",
        (0x85, _) => "Client Identifier not valid",
        (0x86, _) => "Bad User Name or Password",
        (0x87, _) => "Not authorized",
        (0x88, _) => "Server unavailable",
        (0x89, _) => "Server busy",
        (0x8A, _) => "Banned",
        (0x8B, _) => "Server shutting down",
        (0x8C, _) => "Bad authentication method",
        (0x8D, _) => "Keep Alive timeout",
        (0x8E, _) => "Session taken over",
        (0x8F, _) => "Topic Filter invalid",
        (0x90, _) => "Topic Name invalid",
        (0x91, _) => "Packet Identifier in use",
        (0x92, _) => "Packet Identifier not found",
        (0x93, _) => "Receive Maximum exceeded",
        (0x94, _) => "Topic Alias invalid",
        (0x95, _) => "Packet too large",
        (0x96, _) => "Message rate too high",
        (0x97, _) => "Quota exceeded",
        (0x98, _) => "Administrative action",
        (0x99, _) => "Payload format invalid",
        (0x9A, _) => "Retain not supported",
        (0x9B, _) => "QoS not supported",
        (0x9C, _) => "Use another server",
        (0x9D, _) => "Server moved",
        (0x9E, _) => "Shared Subscriptions not supported",
        (0x9F, _) => "Connection rate exceeded",
        (0xA0, _) => "Maximum connect time",
        (0xA1, _) => "Subscription Identifiers not supported",
        (0xA2, _) => "Wildcard Subscriptions not supported",
        _ => return None,
    })
}
