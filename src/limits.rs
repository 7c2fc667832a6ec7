//! Every bound the engine keeps, named, with its default. Passed in, never global; each is
//! settable on the command line (see `cli.rs`) and documented in the README's "Limits".

/// Resource ceilings. When one is reached the engine reports an anomaly naming what was
/// affected and goes on with everything else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest WebSocket message kept, in payload bytes (declared frame length, or the sum of
    /// fragments). A longer one is skipped without buffering: anomaly `message_too_large`.
    pub max_message_bytes: u64,
    /// Largest inflated size of one permessage-deflate message; inflating stops there:
    /// anomaly `decompression_limit`.
    pub max_inflated_bytes: u64,
    /// Out-of-order TCP bytes buffered per direction while waiting for a hole to fill; past it
    /// the hole is declared lost: anomaly `tcp_gap`.
    pub max_ooo_bytes: usize,
    /// Out-of-order TCP segments buffered per direction (bounds bookkeeping for floods of tiny
    /// segments).
    pub max_ooo_segments: usize,
    /// Bytes of HTTP handshake buffered per direction before the upgrade is decided.
    pub max_handshake_bytes: usize,
    /// TCP connections tracked at once; past it the least recently active one is evicted
    /// (`end` event with `"how":"evicted"`).
    pub max_connections: usize,
    /// Bytes held by incomplete IPv4/IPv6 fragmented datagrams.
    pub max_ip_frag_bytes: usize,
    /// Incomplete fragmented datagrams held at once.
    pub max_ip_frag_datagrams: usize,
    /// Largest capture record accepted by the file reader (a larger claimed length is a
    /// corrupt file, never an allocation).
    pub max_record_bytes: usize,
    /// Bytes of a connection's first data buffered while deciding whether a connection seen
    /// without its handshake carries WebSocket frames.
    pub max_probe_bytes: usize,
    /// Bytes held by all such connections together (past it, further connections seen without
    /// their handshake are given up as not WebSocket).
    pub max_probe_total_bytes: usize,
    /// Encrypted TLS records held per connection while their keys are missing, so that keys
    /// arriving later (a live key log, a Decryption Secrets Block further on) still decrypt
    /// them; past it they are dropped and reported (`tls_pending_limit`).
    pub max_tls_pending_bytes: usize,
    /// HTTP/2 streams tracked at once per connection; past it new streams are not followed
    /// (`h2_limit`).
    pub max_h2_streams: usize,
    /// Largest HTTP/2 header block (HEADERS + CONTINUATION) kept for decoding (`h2_limit`).
    pub max_h2_header_block_bytes: usize,
    /// HPACK dynamic table size followed per direction, whatever a size update claims.
    pub max_hpack_table_bytes: usize,
    /// Largest application-protocol unit buffered (an MQTT packet or STOMP frame spanning
    /// messages); a longer one is skipped by its declared length (`proto_limit`).
    pub max_proto_unit_bytes: usize,
    /// Application-protocol requests held per connection waiting for their reply; past it
    /// the oldest is dropped and reported (`proto_limit`).
    pub max_proto_pending_requests: usize,
    /// One budget for the buffers of all connections together (messages being assembled,
    /// inflater state, out-of-order TCP data, handshake, probe, TLS and HTTP/2 buffers, IP
    /// fragments). Past it the connections holding the most are cut first, each with a
    /// `memcap` anomaly naming what was dropped; the others keep decoding. With several
    /// worker threads each engine gets an equal share.
    pub memcap: usize,
    /// Pings (and application heartbeat requests) per direction of a connection awaiting
    /// their pong for the RTT; past it the oldest is forgotten (its pong, if it comes, is no
    /// sample).
    pub max_outstanding_pings: usize,
    /// RTT samples per direction of a connection kept one by one; past it median and p99 come
    /// from a fixed histogram within 1.6 % (min, max and count stay exact).
    pub exact_rtt_samples: usize,
    /// What becomes of a data message the capture cut off (its end never captured, or a hole
    /// in it): `false` (the default), reported as `incomplete_message` and not listed;
    /// `true`, also listed with the bytes captured before the cut and `truncated` set.
    pub list_truncated: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 16 << 20,
            max_inflated_bytes: 16 << 20,
            max_ooo_bytes: 4 << 20,
            max_ooo_segments: 4096,
            max_handshake_bytes: 64 << 10,
            max_connections: 65_536,
            max_ip_frag_bytes: 8 << 20,
            max_ip_frag_datagrams: 1024,
            max_record_bytes: 16 << 20,
            max_probe_bytes: 64 << 10,
            max_probe_total_bytes: 32 << 20,
            max_tls_pending_bytes: 1 << 20,
            max_h2_streams: 1000,
            max_h2_header_block_bytes: 256 << 10,
            max_hpack_table_bytes: 64 << 10,
            max_proto_unit_bytes: 16 << 20,
            max_proto_pending_requests: 4096,
            memcap: 256 << 20,
            max_outstanding_pings: crate::health::HealthLimits::default().max_outstanding_pings,
            exact_rtt_samples: crate::health::HealthLimits::default().exact_rtt_samples,
            list_truncated: false,
        }
    }
}
