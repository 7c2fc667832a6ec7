//! One TCP connection: HTTP phase → WebSocket → closed.
