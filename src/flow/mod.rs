//! Connections: the direction-independent flow key and the table of tracked connections.
