//! One generated connection: its two endpoints and the HTTP/1.1 Upgrade exchange.

use std::io::{self, Write};

use base64_simd::STANDARD as B64;
use sha1::{Digest, Sha1};

use super::frame::Deflater;
use super::pcap::Endpoint;
use super::queue::Queue;
use super::rng::Rng;
use super::summary::{StreamHash, opname};
use super::tls::Sealer;

/// RFC 6455 §1.3.
const WS_GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

pub struct Side {
    pub tcp: Endpoint,
    pub is_client: bool,
    pub queue: Queue,
    pub comp: Option<Deflater>,
    /// Digest of the messages this side sent.
    pub hash: StreamHash,
    /// Record protection of what this side sends, on a TLS connection once its handshake
    /// is written.
    pub tls: Option<Sealer>,
}

impl Side {
    pub fn new(ip: [u8; 4], port: u16, rng: &mut Rng) -> Side {
        let isn = rng.next_u32();
        Side {
            tcp: Endpoint {
                ip,
                port,
                nxt: isn,
                ipid: rng.next_u32() as u16,
                ts_off: rng.next_u32(),
                last_tsval: 0,
                unacked_segs: 0,
            },
            is_client: false,
            queue: Queue::default(),
            comp: None,
            hash: StreamHash::default(),
            tls: None,
        }
    }
}

pub struct Conn {
    pub c: Side,
    pub s: Side,
    /// `ip:port` as a decoder prints it.
    pub client: String,
    pub server: String,
    pub close_by_server: bool,
    /// The connection's number (its MQTT topic with `--mqtt`).
    pub idx: u32,
}

impl Conn {
    pub fn new(idx: u32, mut c: Side, mut s: Side) -> Conn {
        c.is_client = true;
        s.is_client = false;
        Conn {
            client: format!("127.0.0.1:{}", c.tcp.port),
            server: format!("127.0.0.1:{}", s.tcp.port),
            c,
            s,
            close_by_server: !idx.is_multiple_of(2),
            idx,
        }
    }

    /// (sender, receiver)
    pub fn sides(&mut self, from_client: bool) -> (&mut Side, &mut Side) {
        if from_client {
            (&mut self.c, &mut self.s)
        } else {
            (&mut self.s, &mut self.c)
        }
    }
}

/// The Upgrade request and its 101 response (RFC 6455 §4.1, §4.2.2); `tls`: the page the
/// request comes from is https.
pub fn handshake(
    rng: &mut Rng,
    idx: u32,
    sport: u16,
    deflate: bool,
    tls: bool,
    mqtt: bool,
) -> (Vec<u8>, Vec<u8>) {
    let mut nonce = [0u8; 16];
    rng.fill(&mut nonce);
    let key = B64.encode_to_string(nonce);
    let mut h = Sha1::new();
    h.update(key.as_bytes());
    h.update(WS_GUID);
    let accept = B64.encode_to_string(h.finalize());
    let (ext_req, ext_resp) = if deflate {
        (
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n",
            "Sec-WebSocket-Extensions: permessage-deflate\r\n",
        )
    } else {
        ("", "")
    };
    let (proto_req, proto_resp) = if mqtt {
        (
            "Sec-WebSocket-Protocol: mqtt\r\n",
            "Sec-WebSocket-Protocol: mqtt\r\n",
        )
    } else {
        ("", "")
    };
    let scheme = if tls { "https" } else { "http" };
    let req = format!(
        "GET /ws/feed?client={idx} HTTP/1.1\r\nHost: 127.0.0.1:{sport}\r\nUser-Agent: wsgen/1.0\r\n\
         Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n\
         Sec-WebSocket-Version: 13\r\n{ext_req}{proto_req}Origin: {scheme}://127.0.0.1:{sport}\r\n\r\n"
    );
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n{ext_resp}{proto_resp}\r\n"
    );
    (req.into_bytes(), resp.into_bytes())
}

/// One line of the corpus layout (`json.dumps` spacing, as `gen_pcap.py --expected` writes).
pub fn expected_line(
    w: &mut dyn Write,
    conn: &Conn,
    from_client: bool,
    op: u8,
    payload: &[u8],
) -> io::Result<()> {
    let dir = if from_client { "c2s" } else { "s2c" };
    writeln!(
        w,
        r#"{{"client": "{}", "server": "{}", "dir": "{dir}", "opcode": "{}", "payload_b64": "{}"}}"#,
        conn.client,
        conn.server,
        opname(op),
        B64.encode_to_string(payload)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_matches_the_key() {
        let mut rng = Rng::new(5);
        let (req, resp) = handshake(&mut rng, 3, 8080, true, false, false);
        let (req, resp) = (
            String::from_utf8(req).unwrap(),
            String::from_utf8(resp).unwrap(),
        );
        let key = req
            .split("Sec-WebSocket-Key: ")
            .nth(1)
            .unwrap()
            .split("\r\n")
            .next()
            .unwrap();
        let mut h = Sha1::new();
        h.update(key.as_bytes());
        h.update(WS_GUID);
        assert!(resp.contains(&format!(
            "Sec-WebSocket-Accept: {}\r\n",
            B64.encode_to_string(h.finalize())
        )));
        assert!(req.starts_with("GET /ws/feed?client=3 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"));
        assert!(req.ends_with("Origin: http://127.0.0.1:8080\r\n\r\n"));
        assert!(resp.ends_with("permessage-deflate\r\n\r\n"));
        let (req, resp) = handshake(&mut rng, 3, 8080, false, false, true);
        let (req, resp) = (
            String::from_utf8(req).unwrap(),
            String::from_utf8(resp).unwrap(),
        );
        assert!(req.contains("\r\nSec-WebSocket-Protocol: mqtt\r\n"));
        assert!(resp.ends_with("\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n"));
    }

    #[test]
    fn rfc6455_sample_accept() {
        // RFC 6455 §1.3.
        let mut h = Sha1::new();
        h.update(b"dGhlIHNhbXBsZSBub25jZQ==");
        h.update(WS_GUID);
        assert_eq!(
            B64.encode_to_string(h.finalize()),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}

#[cfg(test)]
mod mqtt_tests {
    #[test]
    fn a_publish_wraps_the_message() {
        let mut msg = b"21.5".to_vec();
        super::mqtt_publish(7, &mut msg);
        let mut want = vec![0x30, 2 + 19 + 4, 0, 19];
        want.extend_from_slice(b"plant/7/temperature21.5");
        assert_eq!(msg, want);
        let mut long = vec![b'x'; 200];
        super::mqtt_publish(7, &mut long);
        // 2 + 19 + 200 = 221: two length bytes, 221 % 128 | 0x80, 221 / 128.
        assert_eq!(&long[..3], &[0x30, 0xDD, 0x01]);
        assert_eq!(long.len(), 3 + 221);
    }
}

/// Replaces `msg` by an MQTT 3.1.1 PUBLISH (QoS 0, no packet id) of it on topic
/// `plant/IDX/temperature`: fixed header `0x30`, the remaining length as a varint (§2.2.3),
/// the topic with its 2-byte length, the payload.
pub fn mqtt_publish(idx: u32, msg: &mut Vec<u8>) {
    let topic = format!("plant/{idx}/temperature");
    let mut packet = vec![0x30];
    let mut n = 2 + topic.len() + msg.len();
    loop {
        let b = (n % 128) as u8;
        n /= 128;
        packet.push(if n > 0 { b | 0x80 } else { b });
        if n == 0 {
            break;
        }
    }
    packet.extend_from_slice(&(topic.len() as u16).to_be_bytes());
    packet.extend_from_slice(topic.as_bytes());
    packet.extend_from_slice(msg);
    *msg = packet;
}
