//! The engine: packets in, events out.

/// The sans-IO dissection engine.
pub struct Engine {}
