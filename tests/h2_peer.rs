//! An independent HTTP/2 peer: the `h2` crate's client and server (RFC 8441 extended CONNECT
//! enabled) talk over an in-memory duplex; every byte written each way is recorded in the
//! order it flowed, then fed to `H2Conn` cut at random points. Every stream's header fields and
//! DATA bytes per direction must equal exactly what the h2 APIs sent and received.

mod h2util;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use h2util::{Log, Rng, Seen, Tap, feed_cut};
use http::{Method, Request, Response, StatusCode};
use wsnoop::http2::{H2Config, H2Conn, HeaderField, WebSocketVerdict, classify};

const CLIENT: usize = 0;
const SERVER: usize = 1;

/// What one side's API saw of one stream.
#[derive(Clone, Debug, Default)]
struct StreamView {
    /// Request as the server received it: method, scheme, authority, path, :protocol,
    /// regular headers.
    method: String,
    scheme: Option<String>,
    authority: Option<String>,
    path: String,
    protocol: Option<String>,
    req_headers: Vec<(String, String)>,
    /// Response as the client received it.
    status: u16,
    resp_headers: Vec<(String, String)>,
    /// Bytes the server's RecvStream delivered (c2s) and the client's (s2c).
    c2s: Vec<u8>,
    s2c: Vec<u8>,
}

type Views = Arc<Mutex<BTreeMap<u32, StreamView>>>;

fn header_pairs(map: &http::HeaderMap) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = map
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

async fn read_all(body: &mut h2::RecvStream) -> Vec<u8> {
    let mut got = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.unwrap();
        body.flow_control().release_capacity(chunk.len()).unwrap();
        got.extend_from_slice(&chunk);
    }
    got
}

/// The server: extended CONNECT streams echo every chunk transformed (so the two directions
/// differ); GET answers with a body; POST answers with what it read, reversed.
async fn server(io: Tap, small_table: bool, views: Views) {
    let mut builder = h2::server::Builder::new();
    builder.enable_connect_protocol();
    if small_table {
        builder.header_table_size(256);
    }
    let mut conn = builder.handshake::<_, Bytes>(io).await.unwrap();
    let mut tasks = Vec::new();
    while let Some(next) = conn.accept().await {
        let (req, mut respond) = next.unwrap();
        let views = views.clone();
        tasks.push(tokio::spawn(async move {
            let id = u32::from(respond.stream_id());
            let protocol = req
                .extensions()
                .get::<h2::ext::Protocol>()
                .map(|p| p.as_str().to_string());
            {
                let mut v = views.lock().unwrap();
                let view = v.entry(id).or_default();
                view.method = req.method().to_string();
                view.scheme = req.uri().scheme_str().map(str::to_string);
                view.authority = req.uri().authority().map(|a| a.to_string());
                view.path = req
                    .uri()
                    .path_and_query()
                    .map(|p| p.to_string())
                    .unwrap_or_default();
                view.protocol = protocol.clone();
                view.req_headers = header_pairs(req.headers());
            }
            let mut body = req.into_body();
            if protocol.is_some() {
                let resp = Response::builder()
                    .status(200)
                    .header("sec-websocket-protocol", "chat")
                    .header(
                        "sec-websocket-extensions",
                        "permessage-deflate; server_max_window_bits=10",
                    )
                    .body(())
                    .unwrap();
                let mut send = respond.send_response(resp, false).unwrap();
                while let Some(chunk) = body.data().await {
                    let chunk = chunk.unwrap();
                    body.flow_control().release_capacity(chunk.len()).unwrap();
                    views
                        .lock()
                        .unwrap()
                        .get_mut(&id)
                        .unwrap()
                        .c2s
                        .extend_from_slice(&chunk);
                    let echo: Vec<u8> = chunk.iter().map(|b| b ^ 0x5a).collect();
                    send.send_data(Bytes::from(echo), false).unwrap();
                }
                send.send_data(Bytes::new(), true).unwrap();
            } else {
                let got = read_all(&mut body).await;
                views.lock().unwrap().get_mut(&id).unwrap().c2s = got.clone();
                let answer: Vec<u8> = if got.is_empty() {
                    (0..40_000u32).map(|i| (i * 7 % 251) as u8).collect()
                } else {
                    got.iter().rev().copied().collect()
                };
                let resp = Response::builder()
                    .status(200)
                    .header("content-type", "application/octet-stream")
                    .header("x-served-by", format!("stream-{id}"))
                    .body(())
                    .unwrap();
                let mut send = respond.send_response(resp, false).unwrap();
                send.send_data(Bytes::from(answer), true).unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

fn ws_request(n: usize, extra: usize) -> Request<()> {
    let mut b = Request::builder()
        .method(Method::CONNECT)
        .uri(format!("http://example.com:8080/ws/{n}?room=blue"))
        .header("sec-websocket-version", "13")
        .header("sec-websocket-protocol", "chat, superchat")
        .header(
            "sec-websocket-extensions",
            "permessage-deflate; client_max_window_bits",
        )
        .header("origin", "http://example.com")
        .header("user-agent", "wsnoop-test/1.0");
    for i in 0..extra {
        b = b.header(format!("x-extra-{i}"), format!("value {i} of request {n}"));
    }
    let mut req = b.body(()).unwrap();
    req.extensions_mut()
        .insert(h2::ext::Protocol::from_static("websocket"));
    req
}

/// Record what the client saw of a response.
fn record_response(views: &Views, id: u32, resp: &Response<h2::RecvStream>) {
    let mut v = views.lock().unwrap();
    let view = v.entry(id).or_default();
    view.status = resp.status().as_u16();
    view.resp_headers = header_pairs(resp.headers());
}

/// A WebSocket-like stream: `messages` chunks of random bytes each way (each echoed before the
/// next is sent), then END_STREAM from the client.
async fn ws_stream(
    mut send_req: h2::client::SendRequest<Bytes>,
    n: usize,
    extra: usize,
    messages: Vec<Vec<u8>>,
    views: Views,
) {
    send_req = send_req.ready().await.unwrap();
    let (resp, mut send) = send_req.send_request(ws_request(n, extra), false).unwrap();
    let id = u32::from(send.stream_id());
    let resp = resp.await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    record_response(&views, id, &resp);
    let mut body = resp.into_body();
    for m in messages {
        let want = m.len();
        send.send_data(Bytes::from(m), false).unwrap();
        let mut got = 0;
        while got < want {
            let chunk = body.data().await.unwrap().unwrap();
            body.flow_control().release_capacity(chunk.len()).unwrap();
            got += chunk.len();
            views
                .lock()
                .unwrap()
                .get_mut(&id)
                .unwrap()
                .s2c
                .extend_from_slice(&chunk);
        }
    }
    send.send_data(Bytes::new(), true).unwrap();
    let rest = read_all(&mut body).await;
    views
        .lock()
        .unwrap()
        .get_mut(&id)
        .unwrap()
        .s2c
        .extend_from_slice(&rest);
}

async fn plain_stream(
    mut send_req: h2::client::SendRequest<Bytes>,
    n: usize,
    post: Option<Vec<u8>>,
    views: Views,
) {
    send_req = send_req.ready().await.unwrap();
    let req = Request::builder()
        .method(if post.is_some() {
            Method::POST
        } else {
            Method::GET
        })
        .uri(format!("http://example.com:8080/file/{n}"))
        .header("accept", "*/*")
        .body(())
        .unwrap();
    let (resp, mut send) = send_req.send_request(req, post.is_none()).unwrap();
    let id = u32::from(send.stream_id());
    if let Some(body) = post {
        send.send_data(Bytes::from(body), true).unwrap();
    }
    let resp = resp.await.unwrap();
    record_response(&views, id, &resp);
    let mut body = resp.into_body();
    let got = read_all(&mut body).await;
    views.lock().unwrap().get_mut(&id).unwrap().s2c = got;
}

/// Connect, wait for the server's SETTINGS to enable extended CONNECT.
async fn connect(io: Tap, small_table: bool) -> h2::client::SendRequest<Bytes> {
    let mut builder = h2::client::Builder::new();
    if small_table {
        builder.header_table_size(256);
    }
    let (mut send_req, conn) = builder.handshake::<_, Bytes>(io).await.unwrap();
    tokio::spawn(async move {
        conn.await.unwrap();
    });
    loop {
        send_req = send_req.ready().await.unwrap();
        if send_req.is_extended_connect_protocol_enabled() {
            return send_req;
        }
        tokio::task::yield_now().await;
    }
}

fn pair() -> (Tap, Tap, Log) {
    let log: Log = Arc::default();
    let (a, b) = tokio::io::duplex(1 << 20);
    (
        Tap {
            inner: a,
            side: CLIENT,
            log: log.clone(),
        },
        Tap {
            inner: b,
            side: SERVER,
            log: log.clone(),
        },
        log,
    )
}

/// Several WebSocket streams, GETs and POSTs at once; returns the recorded bytes and views.
async fn conversation(
    small_table: bool,
    extra: usize,
) -> (Vec<(usize, Vec<u8>)>, BTreeMap<u32, StreamView>) {
    let (c, s, log) = pair();
    let views: Views = Arc::default();
    let srv = tokio::spawn(server(s, small_table, views.clone()));
    let send_req = connect(c, small_table).await;
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut tasks = Vec::new();
    for n in 0..5 {
        let msgs: Vec<Vec<u8>> = (0..6)
            .map(|i| {
                // One large message per stream: flow control and frames split at 16 KB.
                let len = if i == 3 { 70_000 } else { rng.below(300) };
                rng.bytes(len)
            })
            .collect();
        tasks.push(tokio::spawn(ws_stream(
            send_req.clone(),
            n,
            extra,
            msgs,
            views.clone(),
        )));
        tasks.push(tokio::spawn(plain_stream(
            send_req.clone(),
            n,
            None,
            views.clone(),
        )));
        let len = 1 + rng.below(20_000);
        let post = rng.bytes(len);
        tasks.push(tokio::spawn(plain_stream(
            send_req.clone(),
            n,
            Some(post),
            views.clone(),
        )));
    }
    for t in tasks {
        t.await.unwrap();
    }
    drop(send_req);
    srv.await.unwrap();
    let log = std::mem::take(&mut *log.lock().unwrap());
    let views = std::mem::take(&mut *views.lock().unwrap());
    (log, views)
}

/// The decoded streams equal what the APIs saw, exactly.
fn check(seen: &Seen, views: &BTreeMap<u32, StreamView>) {
    assert!(seen.anomalies.is_empty(), "{:?}", seen.anomalies);
    assert!(seen.lost.is_empty() && seen.data_lost.is_empty());
    let ids: Vec<u32> = seen
        .streams
        .keys()
        .map(|(_, s)| *s)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(ids, views.keys().copied().collect::<Vec<_>>());
    for (&id, view) in views {
        // Request: pseudo-headers and regular fields.
        let req = seen.headers(CLIENT, id);
        assert_eq!(req.len(), 1, "stream {id}");
        let head = classify(req[0]);
        assert_eq!(head.unresolved, 0);
        assert_eq!(
            head.method.as_deref(),
            Some(view.method.as_str()),
            "stream {id}"
        );
        assert_eq!(head.scheme, view.scheme, "stream {id}");
        assert_eq!(head.authority, view.authority, "stream {id}");
        assert_eq!(
            head.path.as_deref(),
            Some(view.path.as_str()),
            "stream {id}"
        );
        assert_eq!(head.protocol, view.protocol, "stream {id}");
        let mut regular = head.headers.clone();
        regular.sort();
        assert_eq!(regular, view.req_headers, "stream {id}");
        let ws = view.protocol.is_some();
        assert_eq!(
            head.websocket_request(),
            if ws {
                WebSocketVerdict::Yes
            } else {
                WebSocketVerdict::No
            }
        );
        // Response.
        let resp = seen.headers(SERVER, id);
        assert_eq!(resp.len(), 1, "stream {id}");
        let rhead = classify(resp[0]);
        assert_eq!(rhead.status, Some(view.status));
        let mut regular = rhead.headers.clone();
        regular.sort();
        assert_eq!(regular, view.resp_headers, "stream {id}");
        if ws {
            assert_eq!(rhead.websocket_accepted(), WebSocketVerdict::Yes);
            assert_eq!(
                rhead.header("sec-websocket-extensions"),
                Some("permessage-deflate; server_max_window_bits=10")
            );
        }
        // DATA both ways, and both ends.
        assert_eq!(seen.data(CLIENT, id), view.c2s, "stream {id} c2s");
        assert_eq!(seen.data(SERVER, id), view.s2c, "stream {id} s2c");
        assert!(
            seen.ended(CLIENT, id) && seen.ended(SERVER, id),
            "stream {id}"
        );
    }
}

fn decode(log: &[(usize, Vec<u8>)], seed: u64) -> (Seen, H2Conn) {
    let mut conn = H2Conn::new(CLIENT, H2Config::default());
    let mut seen = Seen::default();
    let mut rng = Rng(seed);
    feed_cut(&mut conn, log, &mut rng, &mut seen);
    conn.finish(&mut |e| seen.take(e));
    (seen, conn)
}

#[tokio::test(flavor = "current_thread")]
async fn extended_connect_and_requests_decode_exactly() {
    let (log, views) = conversation(false, 2).await;
    assert_eq!(views.len(), 15);
    assert_eq!(views.values().filter(|v| v.protocol.is_some()).count(), 5);
    for seed in 1..=12u64 {
        let (seen, conn) = decode(&log, seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        check(&seen, &views);
        assert!(
            seen.settings.contains(&(SERVER, Some(true), None)),
            "{:?}",
            seen.settings
        );
        assert_eq!(conn.open_streams(), 0);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn small_header_table_with_evictions() {
    let (log, views) = conversation(true, 12).await;
    for seed in 1..=6u64 {
        let (seen, _) = decode(&log, seed);
        check(&seen, &views);
        // Both peers announced 256 bytes; the encoders followed with size updates.
        assert!(
            seen.settings.iter().any(|s| s.2 == Some(256)),
            "{:?}",
            seen.settings
        );
    }
}

/// A loss in the client's bytes between two phases: streams opened before it keep their DATA
/// (exactly what was sent after the loss follows what was sent before it), streams opened
/// after it have their dynamic-table references unresolved and their other fields right.
#[tokio::test(flavor = "current_thread")]
async fn gap_in_client_bytes() {
    let (c, s, log) = pair();
    let views: Views = Arc::default();
    let srv = tokio::spawn(server(s, false, views.clone()));
    let send_req = connect(c, false).await;
    let mut rng = Rng(77);

    // Phase 1: streams A and B.
    let mut open = Vec::new();
    for n in 0..2 {
        let mut sr = send_req.clone().ready().await.unwrap();
        let (resp, send) = sr.send_request(ws_request(n, 3), false).unwrap();
        let resp = resp.await.unwrap();
        record_response(&views, u32::from(send.stream_id()), &resp);
        open.push((send, resp.into_body()));
    }
    let mut sent: BTreeMap<u32, [Vec<u8>; 3]> = BTreeMap::new();
    async fn exchange(send: &mut h2::SendStream<Bytes>, body: &mut h2::RecvStream, m: Vec<u8>) {
        let want = m.len();
        send.send_data(Bytes::from(m), false).unwrap();
        let mut got = 0;
        while got < want {
            let chunk = body.data().await.unwrap().unwrap();
            body.flow_control().release_capacity(chunk.len()).unwrap();
            got += chunk.len();
        }
    }
    for phase in 0..3 {
        if phase == 1 {
            // The lost phase also opens a stream whose headers enter the dynamic table.
            let mut sr = send_req.clone().ready().await.unwrap();
            let (resp, mut send) = sr.send_request(ws_request(9, 3), false).unwrap();
            let resp = resp.await.unwrap();
            record_response(&views, u32::from(send.stream_id()), &resp);
            send.send_data(Bytes::new(), true).unwrap();
            read_all(&mut resp.into_body()).await;
        }
        for (send, body) in open.iter_mut() {
            let id = u32::from(send.stream_id());
            let len = 100 + rng.below(3000);
            let m = rng.bytes(len);
            sent.entry(id).or_default()[phase].extend_from_slice(&m);
            exchange(send, body, m).await;
        }
        if phase == 0 || phase == 1 {
            log.lock().unwrap().push((usize::MAX, Vec::new()));
        }
    }
    // Phase 2 also opens new streams that refer to what phases 0 and 1 indexed.
    let mut late = Vec::new();
    for n in 10..12 {
        let mut sr = send_req.clone().ready().await.unwrap();
        let (resp, mut send) = sr.send_request(ws_request(n, 3), false).unwrap();
        let resp = resp.await.unwrap();
        let id = u32::from(send.stream_id());
        record_response(&views, id, &resp);
        let mut body = resp.into_body();
        exchange(&mut send, &mut body, b"late stream".to_vec()).await;
        send.send_data(Bytes::new(), true).unwrap();
        read_all(&mut body).await;
        late.push(id);
    }
    for (mut send, mut body) in open {
        send.send_data(Bytes::new(), true).unwrap();
        read_all(&mut body).await;
    }
    drop(send_req);
    srv.await.unwrap();
    let log = std::mem::take(&mut *log.lock().unwrap());

    // Drop the client's bytes between the two marks.
    let marks: Vec<usize> = log
        .iter()
        .enumerate()
        .filter(|(_, (s, _))| *s == usize::MAX)
        .map(|(i, _)| i)
        .collect();
    let (m1, m2) = (marks[0], marks[1]);
    let gap: u64 = log[m1..m2]
        .iter()
        .filter(|(s, _)| *s == CLIENT)
        .map(|(_, b)| b.len() as u64)
        .sum();
    assert!(gap > 0);
    for seed in 1..=6u64 {
        let mut conn = H2Conn::new(CLIENT, H2Config::default());
        let mut seen = Seen::default();
        let mut rng = Rng(seed);
        let mut gapped = false;
        for (i, (side, bytes)) in log.iter().enumerate() {
            if *side == usize::MAX {
                continue;
            }
            if (m1..m2).contains(&i) && *side == CLIENT {
                if !gapped {
                    conn.gap(CLIENT, gap, &mut |e| seen.take(e));
                    gapped = true;
                }
                continue;
            }
            feed_cut(&mut conn, &[(*side, bytes.clone())], &mut rng, &mut seen);
        }
        conn.finish(&mut |e| seen.take(e));

        assert_eq!(seen.lost, [(CLIENT, gap)]);
        // A and B: what was sent before and after the loss, nothing of what was lost.
        for (id, phases) in &sent {
            let want: Vec<u8> = [phases[0].clone(), phases[2].clone()].concat();
            assert_eq!(seen.data(CLIENT, *id), want, "stream {id}");
            assert!(seen.ended(CLIENT, *id));
            // The server's direction had no loss.
            let echo: Vec<u8> = phases.concat().iter().map(|b| b ^ 0x5a).collect();
            assert_eq!(seen.data(SERVER, *id), echo, "stream {id}");
        }
        // The late streams: request fields resolved where the table is known, unresolved
        // where it is not, never wrong.
        let views = views.lock().unwrap();
        for id in &late {
            let req = seen.headers(CLIENT, *id);
            assert_eq!(req.len(), 1);
            let fields: &Vec<HeaderField> = req[0];
            assert!(fields.iter().any(|f| f.unresolved.is_some()), "{fields:?}");
            let view = &views[id];
            let head = classify(fields);
            if let Some(p) = &head.path {
                assert_eq!(p, &view.path);
            }
            for (n, v) in &head.headers {
                assert!(
                    view.req_headers.contains(&(n.clone(), v.clone())),
                    "{n}: {v}"
                );
            }
            assert_eq!(seen.data(CLIENT, *id), b"late stream");
            assert_ne!(head.websocket_request(), WebSocketVerdict::No);
        }
        drop(views);
        assert!(!conn.hpack_certain(CLIENT));
        assert!(conn.hpack_certain(SERVER));
    }
}
