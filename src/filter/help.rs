/// The filter grammar with examples, for `wsnoop read --help` and the TUI's `?` screen
/// (lines of at most 78 columns).
pub const HELP: &str = r#"Filter expressions (read --filter EXPR, and / in the TUI)
  Terms combined with and, or, not (also &&, ||, !) and parentheses; terms
  side by side mean and; not binds tighter than and, and than or.
  hello  "two words"     text in the payload (case-insensitive)
  re:REGEX  /REGEX/      regex on the payload (case-insensitive unless (?-i))
  host:ADDR[/BITS]       either endpoint's IP or network (IPv4, IPv6)
  port:N                 either endpoint's port
  client:IP[:PORT]       the client side (IPv6 with a port: [::1]:8080)
  server:IP[:PORT]       the server side
  uri:TEXT  uri:re:RE    the handshake's request URI (case-insensitive)
  conn:N  conn:A-B       connection numbers
  stream:N               the HTTP/2 stream
  dir:c2s  dir:s2c       direction
  op:OPCODE              text binary ping pong close continuation reserved
  len>N                  payload bytes (>= < <= = !=; K M G: len>=4K)
  anomaly  anomaly:KIND  anomalies, shown only when asked for (anomaly:tcp_*)
  rtt>DURATION           the connection's median ping RTT (>= < <= =; us ms s)
  close:VERDICT          clean half_closed abnormal after_close open
  rtt and close: are known when a connection ends: they select its end line
  (after its open), never a message (in the TUI: nothing).
Protocol units (MQTT, STOMP, Socket.IO, JSON-RPC, GraphQL, SignalR):
  proto:NAME             mqtt stomp engineio socketio jsonrpc graphql-ws
                         signalr
  type:NAME              the unit's type (PUBLISH SEND EVENT request ...)
  topic:FILTER           MQTT topic filter, + one level, # the rest
  method:NAME  event:NAME  JSON-RPC method / SignalR target, Socket.IO event
                         (NAME* for a prefix)
  latency>DURATION       a reply's wait for its request (>= < <= =; us ms s)
  unanswered             a request never answered (read: its connection's end)
  A word with ':' or a comparison must be a known term: quote text with one.
  Connections with nothing selected print no open or end line.
Examples:
  hello or bye                  port:8765 and dir:c2s
  host:10.0.0.0/8 !op:ping      uri:/chat (op:text or op:binary) len>1K
  /"type":"(join|leave)"/       anomaly or re:(?-i)ERROR
  conn:3-7 not dir:s2c          "user: alice"
  rtt>50ms port:443             close:abnormal or close:half_closed
  topic:plant/+/temp type:PUBLISH   method:db.* latency>100ms
"#;
