//! HPACK (RFC 7541) header block decoding for a passive observer: one decoder per direction,
//! following the encoder's dynamic table by what the blocks themselves say (size updates
//! included), never by SETTINGS, which the observer may see in a different order than the
//! encoder acted on them.
//!
//! Unlike an endpoint's decoder, this one must go on after lost bytes: the dynamic table is
//! then unknown, and a field that refers to an unknown entry comes out with
//! [`HeaderField::unresolved`] set instead of failing the block (as a lost deflate window
//! leaves later messages undecodable but their framing intact). Memory is capped: the table
//! holds at most `max_table_bytes` whatever a size update claims, and a block's decoded list
//! at most `max_list_bytes`.

mod huffman;
mod huffman_codes;
mod primitive;
mod table;
#[cfg(test)]
mod tests;

use std::fmt;

pub use super::HeaderField;
use primitive::{integer, skip_string, string};
use table::{ENTRY_OVERHEAD, Lookup, Table};

#[cfg(test)]
pub(crate) use huffman::encode as huffman_encode;
#[cfg(test)]
pub(crate) use table::STATIC;

/// Why a header block could not be decoded (RFC 7541 §5, §6: a COMPRESSION_ERROR for an
/// endpoint).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HpackError {
    /// The block ended inside a representation.
    Truncated,
    /// An integer over 2^32 - 1 (RFC 7541 §5.1 lets a decoder refuse it).
    IntegerOverflow,
    /// RFC 7541 §6.1: index 0 is not used.
    IndexZero,
    /// RFC 7541 §2.3.3: an index past both tables while the dynamic table is fully known.
    IndexOutOfRange(u64),
    /// RFC 7541 §5.2: EOS inside a string, padding over 7 bits, or padding that is not the
    /// most significant bits of EOS.
    Huffman,
    /// The decoded list grew over `max_list_bytes` (RFC 9113 §6.5.2 counts name + value +
    /// 32 per field): the fields after it were dropped, the table was kept in step.
    ListTooLarge { limit: usize },
}

impl fmt::Display for HpackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HpackError::Truncated => f.write_str("header block ends inside a field"),
            HpackError::IntegerOverflow => f.write_str("integer over 2^32-1"),
            HpackError::IndexZero => f.write_str("index 0"),
            HpackError::IndexOutOfRange(i) => write!(f, "index {i} past the tables"),
            HpackError::Huffman => f.write_str("bad Huffman string (EOS or padding)"),
            HpackError::ListTooLarge { limit } => {
                write!(f, "decoded header list over {limit} bytes")
            }
        }
    }
}

/// Something odd in a block that decoded anyway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HpackWarning {
    /// RFC 7541 §4.2: a size update must come at the beginning of a block; this one came
    /// after a field (an endpoint would fail the connection; it was applied).
    SizeUpdateAfterField,
    /// More than two size updates in one block (RFC 7541 §4.2 needs at most two: the
    /// smallest and the final size).
    SizeUpdates(u32),
    /// A size update claimed more than the memory cap: older entries beyond the cap will come
    /// out unresolved.
    TableOverCap { claimed: u64, cap: usize },
}

impl fmt::Display for HpackWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HpackWarning::SizeUpdateAfterField => {
                f.write_str("dynamic table size update after a field (RFC 7541 §4.2)")
            }
            HpackWarning::SizeUpdates(n) => {
                write!(f, "{n} dynamic table size updates in one block")
            }
            HpackWarning::TableOverCap { claimed, cap } => write!(
                f,
                "dynamic table size {claimed} over the cap of {cap} bytes: older entries will be unresolved"
            ),
        }
    }
}

/// Default of the decoded header list limit.
pub const DEFAULT_MAX_LIST_BYTES: usize = 256 * 1024;

/// One direction's HPACK decoder.
pub struct Decoder {
    table: Table,
    max_list_bytes: usize,
    warnings: Vec<HpackWarning>,
}

impl Decoder {
    /// `max_table_bytes`: the most dynamic table (RFC 7541 §4.1 sizes) held, whatever size
    /// updates claim.
    pub fn new(max_table_bytes: usize) -> Self {
        Decoder {
            table: Table::new(max_table_bytes),
            max_list_bytes: DEFAULT_MAX_LIST_BYTES,
            warnings: Vec::new(),
        }
    }

    /// The most decoded bytes (name + value + 32 per field) one block may produce.
    pub fn set_max_list_bytes(&mut self, max: usize) {
        self.max_list_bytes = max;
    }

    /// Decode one complete header block, appending its fields to `out` in order. On an error
    /// the fields decoded before it are in `out`, and the table is marked unknown (except for
    /// `ListTooLarge`, after which it stays in step).
    pub fn decode(&mut self, block: &[u8], out: &mut Vec<HeaderField>) -> Result<(), HpackError> {
        self.warnings.clear();
        let result = self.decode_block(block, out);
        match result {
            Ok(()) | Err(HpackError::ListTooLarge { .. }) => {}
            // What the rest of the block did to the encoder's table is unknown.
            Err(_) => self.table.lose(),
        }
        result
    }

    /// Bytes of this direction were lost: what the dynamic table holds is unknown from here.
    pub fn lose_state(&mut self) {
        self.table.lose();
    }

    /// The dynamic table is known whole (no loss, or evictions since proved it complete).
    pub fn is_certain(&self) -> bool {
        self.table.certain()
    }

    /// The dynamic table size as the encoder last set it.
    pub fn table_max_size(&self) -> u64 {
        self.table.max_size()
    }

    /// Size (RFC 7541 §4.1) of the observer's copy of the dynamic table.
    pub fn table_size(&self) -> usize {
        self.table.size()
    }

    /// Entries in the observer's copy of the dynamic table.
    pub fn table_len(&self) -> usize {
        self.table.len()
    }

    /// What was odd in the last block decoded.
    pub fn warnings(&self) -> &[HpackWarning] {
        &self.warnings
    }

    /// Approximate heap bytes held.
    pub fn memory(&self) -> usize {
        self.table.memory()
    }

    fn decode_block(&mut self, block: &[u8], out: &mut Vec<HeaderField>) -> Result<(), HpackError> {
        let mut rest = block;
        let mut fields_seen = false;
        let mut size_updates = 0u32;
        let mut list = ListBudget {
            used: 0,
            max: self.max_list_bytes,
            over: false,
        };
        while let Some(&first) = rest.first() {
            if first & 0x80 != 0 {
                // RFC 7541 §6.1: indexed header field.
                let (index, tail) = integer(rest, 7)?;
                rest = tail;
                self.indexed(index, &mut list, out)?;
            } else if first & 0xe0 == 0x20 {
                // RFC 7541 §6.3: dynamic table size update.
                let (size, tail) = integer(rest, 5)?;
                rest = tail;
                size_updates += 1;
                if fields_seen && size_updates == 1 {
                    self.warnings.push(HpackWarning::SizeUpdateAfterField);
                }
                self.table.set_max_size(size);
                if size > self.table.cap() as u64 {
                    let warning = HpackWarning::TableOverCap {
                        claimed: size,
                        cap: self.table.cap(),
                    };
                    if !self.warnings.contains(&warning) {
                        self.warnings.push(warning);
                    }
                }
                continue;
            } else {
                // RFC 7541 §6.2.1 (01xxxxxx, incremental indexing, 6-bit index), §6.2.2
                // (0000xxxx, without indexing) and §6.2.3 (0001xxxx, never indexed): 4-bit.
                let indexing = first & 0x40 != 0;
                let prefix = if indexing { 6 } else { 4 };
                rest = self.literal(rest, prefix, indexing, &mut list, out)?;
            }
            fields_seen = true;
        }
        if size_updates > 2 {
            self.warnings.push(HpackWarning::SizeUpdates(size_updates));
        }
        if list.over {
            return Err(HpackError::ListTooLarge {
                limit: self.max_list_bytes,
            });
        }
        Ok(())
    }

    fn indexed(
        &mut self,
        index: u64,
        list: &mut ListBudget,
        out: &mut Vec<HeaderField>,
    ) -> Result<(), HpackError> {
        if index == 0 {
            return Err(HpackError::IndexZero);
        }
        let field = match self.table.get(index) {
            None => return Err(HpackError::IndexOutOfRange(index)),
            Some(Lookup::Field { name, value }) => {
                if !list.take(name.len() + value.len()) {
                    return Ok(());
                }
                HeaderField::new(name, value)
            }
            Some(Lookup::ValueOnly(value)) => {
                if !list.take(value.len()) {
                    return Ok(());
                }
                HeaderField::unresolved_name(index, value)
            }
            Some(Lookup::Unknown) => {
                if !list.take(0) {
                    return Ok(());
                }
                HeaderField::unresolved(index)
            }
        };
        out.push(field);
        Ok(())
    }

    fn literal<'a>(
        &mut self,
        src: &'a [u8],
        prefix: u8,
        indexing: bool,
        list: &mut ListBudget,
        out: &mut Vec<HeaderField>,
    ) -> Result<&'a [u8], HpackError> {
        let (index, mut rest) = integer(src, prefix)?;
        // The name: a new string, or that of an entry.
        let mut name = Vec::new();
        let mut name_unknown = None;
        if index == 0 {
            rest = string(rest, &mut name)?;
        } else {
            match self.table.get(index) {
                None => return Err(HpackError::IndexOutOfRange(index)),
                Some(Lookup::Field { name: n, .. }) => name.extend_from_slice(n),
                Some(Lookup::ValueOnly(_) | Lookup::Unknown) => name_unknown = Some(index),
            }
        }
        // Past the list limit a field that is not indexed is only skipped; an indexed one is
        // still needed for the table.
        if !indexing && list.over {
            return skip_string(rest);
        }
        let mut value = Vec::new();
        rest = string(rest, &mut value)?;
        if indexing {
            let known_name = if name_unknown.is_none() {
                Some(name.as_slice())
            } else {
                None
            };
            self.table.insert(known_name, &value);
        }
        if list.take(name.len() + value.len()) {
            out.push(match name_unknown {
                None => HeaderField {
                    name,
                    value,
                    unresolved: None,
                    value_known: true,
                },
                Some(index) => HeaderField::unresolved_name(index, &value),
            });
        }
        Ok(rest)
    }
}

/// The decoded list's running size against its limit.
struct ListBudget {
    used: usize,
    max: usize,
    over: bool,
}

impl ListBudget {
    /// Count a field of `len` name + value bytes; false when it does not fit (and none after
    /// it will be kept).
    fn take(&mut self, len: usize) -> bool {
        if self.over {
            return false;
        }
        let used = self.used.saturating_add(len).saturating_add(ENTRY_OVERHEAD);
        if used > self.max {
            self.over = true;
            return false;
        }
        self.used = used;
        true
    }
}
