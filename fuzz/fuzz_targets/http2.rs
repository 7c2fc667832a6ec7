//! The HTTP/2 layer: both sides' bytes interleaved in chunks, with gaps, through frames, header
//! blocks (HPACK) and streams; and raw HPACK blocks straight into the decoder.
//!
//! Input: a config byte, then records `[op, len, bytes...]`: `op & 1` is the side, `op & 0x80`
//! a gap of `len` bytes instead of data; `len` bytes follow (fewer at the end). Config: bit 0
//! which side is the client, bit 1 small limits, bit 2 start after an h2c upgrade, bit 3 the
//! records' bytes are HPACK blocks for one decoder instead. Checks the limits: memory, the
//! size of each decoded header list, the DATA bytes never exceed what was fed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsnoop::http2::hpack::Decoder;
use wsnoop::http2::{H2Config, H2Conn, H2Event};

fuzz_target!(|data: &[u8]| {
    let [cfg, input @ ..] = data else {
        return;
    };
    let cfg = *cfg;
    let mut rest = input;
    let config = if cfg & 2 != 0 {
        H2Config {
            max_frame_bytes: 256,
            max_header_block_bytes: 512,
            max_header_list_bytes: 1024,
            max_hpack_table_bytes: 256,
            max_streams: 4,
        }
    } else {
        H2Config::default()
    };
    if cfg & 8 != 0 {
        hpack_blocks(rest, &config);
        return;
    }
    let client = usize::from(cfg & 1);
    let mut conn = if cfg & 4 != 0 {
        H2Conn::after_h2c_upgrade(client, config.clone())
    } else {
        H2Conn::new(client, config.clone())
    };
    // Fixed overheads (two HPACK tables, buffers, the stream map) on top of the limits.
    let ceiling = 2 * config.max_hpack_table_bytes
        + 2 * config.max_header_block_bytes
        + 2 * (config.max_frame_bytes.max(16 * 1024) + 18)
        + config.max_header_list_bytes * 2
        + config.max_streams * 64
        + (256 << 10);
    let mut fed = [0u64; 2];
    let mut data_out = [0u64; 2];
    while let [op, len, tail @ ..] = rest {
        let (op, len) = (*op, *len);
        let side = usize::from(op & 1);
        let take = usize::from(len).min(tail.len());
        let (chunk, tail) = tail.split_at(take);
        rest = tail;
        let mut check = |e: H2Event<'_>| match e {
            H2Event::Headers { fields, .. } => {
                let list: usize = fields
                    .iter()
                    .map(|f| f.name.len() + f.value.len() + 32)
                    .sum();
                assert!(
                    list <= config.max_header_list_bytes,
                    "header list over its limit"
                );
            }
            H2Event::Data { side, data, .. } => data_out[side] += data.len() as u64,
            _ => {}
        };
        if op & 0x80 != 0 {
            conn.gap(side, u64::from(len), &mut check);
        } else {
            fed[side] += chunk.len() as u64;
            conn.feed(side, chunk, &mut check);
        }
        assert!(
            data_out[0] <= fed[0] && data_out[1] <= fed[1],
            "more DATA than bytes fed"
        );
        assert!(
            conn.memory() <= ceiling,
            "memory {} over {ceiling}",
            conn.memory()
        );
    }
    conn.finish(&mut |_| {});
    let mut after = 0;
    conn.feed(0, b"\0\0\0\0\0\0\0\0\0", &mut |_| after += 1);
    assert_eq!(after, 0, "events after finish");
});

fn hpack_blocks(mut rest: &[u8], config: &H2Config) {
    let mut dec = Decoder::new(config.max_hpack_table_bytes);
    dec.set_max_list_bytes(config.max_header_list_bytes);
    let mut out = Vec::new();
    while let [op, len, tail @ ..] = rest {
        let take = usize::from(*len).min(tail.len());
        let (block, tail) = tail.split_at(take);
        rest = tail;
        if op & 0x80 != 0 {
            dec.lose_state();
            continue;
        }
        out.clear();
        let _ = dec.decode(block, &mut out);
        let list: usize = out.iter().map(|f| f.name.len() + f.value.len() + 32).sum();
        assert!(list <= config.max_header_list_bytes);
        assert!(dec.table_size() <= config.max_hpack_table_bytes);
    }
}
