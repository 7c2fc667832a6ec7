/// The filter grammar with examples, for `wsnoop read --help` and the TUI's `?` screen.
pub const HELP: &str = "\
Filter expressions (--filter EXPR, and / in the TUI)
  Combine terms with and / or / not (also && || !) and parentheses; terms side by side
  mean and. not binds tighter than and, and tighter than or.
  Terms:
    hello  \"two words\"   text in the payload (case-insensitive)
    re:REGEX  /REGEX/      regex over the payload (case-insensitive; (?-i) to opt out)
    host:ADDR[/BITS]       either endpoint's IP (IPv4 or IPv6, or a network)
    port:N                 either endpoint's port
    client:IP[:PORT]  server:IP[:PORT]   one side (IPv6 with a port: [::1]:8080)
    uri:TEXT  uri:re:REGEX the handshake's request URI (case-insensitive)
    conn:N  conn:A-B       connection numbers          stream:N  HTTP/2 stream
    dir:c2s  dir:s2c       direction
    op:text|binary|ping|pong|close|continuation|reserved
    len>N  (>= < <= = !=)  payload bytes, K M G suffixes: len>=4K
    anomaly  anomaly:KIND  anomalies (only shown when asked for): anomaly:tcp_gap, anomaly:tls_*
  A word with ':' or a comparison must be a known term: quote text that has one (\"a:b\").
  Connections with nothing selected print no open or end line.
  Examples:
    hello or bye                       port:8765 and dir:c2s
    host:10.0.0.0/8 not op:ping        uri:/chat (op:text or op:binary) len>1K
    /\"type\":\"(join|leave)\"/          anomaly or re:(?-i)ERROR
    conn:3-7 !dir:s2c                  \"user: alice\"
";
