//! Output sinks: JSON lines and readable text lines.
