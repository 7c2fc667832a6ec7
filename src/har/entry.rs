//! One HAR entry: everything before its `_webSocketMessages` items (written when the
//! connection opens), the items, and the closing brackets (written when it ends).

use std::io::{self, Write};

use super::json::{date_time, epoch_seconds, millis, name_value, nanos_between, string};
use super::request::{Cookie, header, query, request_cookies, response_cookies, url};
use std::net::SocketAddr;

use crate::event::{ConnId, ConnRef, Dir, HttpVersion, Message, Opcode, OpenInfo, Timestamp};

/// Where an entry's exchange took place: the WebSocket's number (`None` for a refused
/// upgrade, which never got one) and its transport.
#[derive(Clone, Copy, Debug)]
pub struct Ends {
    pub id: Option<ConnId>,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub stream: Option<u32>,
}

impl From<&ConnRef> for Ends {
    fn from(c: &ConnRef) -> Ends {
        Ends {
            id: Some(c.id),
            client: c.client,
            server: c.server,
            stream: c.stream,
        }
    }
}

/// The entry up to and including `"_webSocketMessages":[`. `ts` is the `open` (or `refused`)
/// event's time.
pub fn head(w: &mut impl Write, ts: Timestamp, conn: &Ends, info: &OpenInfo) -> io::Result<()> {
    let hs = &info.handshake;
    let recorded = !hs.method.is_empty() || hs.status != 0;
    let version = match hs.http {
        HttpVersion::Http11 => "HTTP/1.1",
        // What DevTools writes for h2 and maps back to h2 when importing.
        HttpVersion::Http2 => "HTTP/2.0",
    };
    // Only the handshake's summary was recorded: what the engine's acceptance of the upgrade
    // establishes (RFC 6455 §4.1: the method "MUST be GET"; §4.2.2: 101; RFC 8441 §5:
    // CONNECT answered 2xx — 200 is the one HTTP/2 CONNECT success).
    let (method, status) = match (recorded, info.mid_stream, hs.http) {
        (true, _, _) | (false, true, _) => (hs.method.as_str(), hs.status),
        (false, false, HttpVersion::Http11) => ("GET", 101),
        (false, false, HttpVersion::Http2) => ("CONNECT", 200),
    };
    let wait = match (hs.request_ts, hs.response_ts) {
        (Some(a), Some(b)) => nanos_between(a, b).unwrap_or(0),
        _ => 0,
    };

    w.write_all(b"{\"startedDateTime\":")?;
    date_time(w, hs.request_ts.unwrap_or(ts))?;
    w.write_all(b",\"time\":")?;
    millis(w, wait)?;

    w.write_all(b",\"request\":{\"method\":")?;
    string(w, method)?;
    w.write_all(b",\"url\":")?;
    string(w, &url(info, conn.server))?;
    write!(w, ",\"httpVersion\":\"{version}\",\"cookies\":")?;
    cookies(w, &request_cookies(&hs.request_headers))?;
    w.write_all(b",\"headers\":")?;
    headers(w, &hs.request_headers)?;
    w.write_all(b",\"queryString\":[")?;
    let target = if hs.target.is_empty() {
        info.uri.as_deref().unwrap_or_default()
    } else {
        &hs.target
    };
    for (i, (n, v)) in query(target).into_iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        name_value(w, n, v)?;
    }
    // Sizes: the raw header block is not kept (-1, "not available"); an upgrade has no body.
    w.write_all(b"],\"headersSize\":-1,\"bodySize\":0}")?;

    write!(w, ",\"response\":{{\"status\":{status},\"statusText\":")?;
    string(w, &hs.reason)?;
    write!(w, ",\"httpVersion\":\"{version}\",\"cookies\":")?;
    cookies(w, &response_cookies(&hs.response_headers))?;
    w.write_all(b",\"headers\":")?;
    headers(w, &hs.response_headers)?;
    w.write_all(b",\"content\":{\"size\":0,\"mimeType\":\"x-unknown\"},\"redirectURL\":")?;
    string(
        w,
        header(&hs.response_headers, "location").unwrap_or_default(),
    )?;
    w.write_all(b",\"headersSize\":-1,\"bodySize\":0}")?;

    // HAR 1.2 §timings: -1 where the capture does not tell (DNS, TCP connect, TLS, queueing);
    // send and receive are not separable from the packets that completed each head: 0.
    w.write_all(b",\"cache\":{},\"timings\":{\"blocked\":-1,\"dns\":-1,\"connect\":-1,\"ssl\":-1,\"send\":0,\"wait\":")?;
    millis(w, wait)?;
    w.write_all(b",\"receive\":0},\"serverIPAddress\":")?;
    string(w, &conn.server.ip().to_string())?;
    // DevTools reads `connection` as the server's port (it shows ip:connection).
    write!(
        w,
        ",\"connection\":\"{}\",\"_connectionId\":\"{}\",\"_resourceType\":\"websocket\"",
        conn.server.port(),
        conn.client.port()
    )?;
    w.write_all(b",\"_wsnoop\":{\"conn\":")?;
    match conn.id {
        Some(id) => write!(w, "{id}")?,
        None => w.write_all(b"null")?,
    }
    write!(
        w,
        ",\"client\":\"{}\",\"server\":\"{}\",\"stream\":",
        conn.client, conn.server
    )?;
    match conn.stream {
        Some(s) => write!(w, "{s}")?,
        None => w.write_all(b"null")?,
    }
    let refused = conn.id.is_none();
    write!(
        w,
        ",\"mid_stream\":{},\"refused\":{refused}}}",
        info.mid_stream
    )?;
    if refused {
        w.write_all(b",\"comment\":\"WebSocket upgrade refused\"")?;
    } else if info.mid_stream {
        w.write_all(b",\"comment\":\"picked up without its opening handshake\"")?;
    } else if !recorded {
        w.write_all(b",\"comment\":\"handshake headers not recorded\"")?;
    }
    w.write_all(b",\"_webSocketMessages\":[")
}

/// One `_webSocketMessages` item as DevTools writes and reads it: `type` (`send` from the
/// client, `receive` from the server), `time` (epoch seconds), `opcode`, and `data` (the text
/// for opcode 1, else base64 — DevTools decodes it so for every opcode but 1). A text message
/// that is not valid UTF-8 (already an `invalid_utf8` anomaly) keeps its exact bytes in
/// `_dataBase64` beside a `data` with U+FFFD for the undecodable bytes.
pub fn message(out: &mut Vec<u8>, dir: Dir, ts: Timestamp, msg: &Message) -> io::Result<()> {
    let kind = match dir {
        Dir::C2s => "send",
        Dir::S2c => "receive",
    };
    write!(out, "{{\"type\":\"{kind}\",\"time\":")?;
    epoch_seconds(out, ts)?;
    write!(out, ",\"opcode\":{},\"data\":", msg.opcode.as_u8())?;
    if msg.opcode == Opcode::Text {
        match std::str::from_utf8(&msg.payload) {
            Ok(text) => string(out, text)?,
            Err(_) => {
                string(out, &String::from_utf8_lossy(&msg.payload))?;
                out.extend_from_slice(b",\"_invalidUtf8\":true,\"_dataBase64\":");
                base64(out, &msg.payload);
            }
        }
    } else {
        base64(out, &msg.payload);
    }
    out.push(b'}');
    Ok(())
}

fn base64(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    base64_simd::STANDARD.encode_append(bytes, out);
    out.push(b'"');
}

/// What closes an entry opened by [`head`].
pub const TAIL: &[u8] = b"]}";

fn headers(w: &mut impl Write, headers: &[(String, String)]) -> io::Result<()> {
    w.write_all(b"[")?;
    for (i, (n, v)) in headers.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        name_value(w, n, v)?;
    }
    w.write_all(b"]")
}

fn cookies(w: &mut impl Write, cookies: &[Cookie<'_>]) -> io::Result<()> {
    w.write_all(b"[")?;
    for (i, c) in cookies.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        w.write_all(b"{\"name\":")?;
        string(w, c.name)?;
        w.write_all(b",\"value\":")?;
        string(w, c.value)?;
        if let Some(p) = c.path {
            w.write_all(b",\"path\":")?;
            string(w, p)?;
        }
        if let Some(d) = c.domain {
            w.write_all(b",\"domain\":")?;
            string(w, d)?;
        }
        if c.http_only {
            w.write_all(b",\"httpOnly\":true")?;
        }
        if c.secure {
            w.write_all(b",\"secure\":true")?;
        }
        w.write_all(b"}")?;
    }
    w.write_all(b"]")
}
