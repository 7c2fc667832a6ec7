//! Large message buffers handed back by whoever consumed the messages, for the next large
//! messages to be assembled in. Without it, every large message is memory fresh from the
//! kernel: faulted in page by page and given back when freed.

use std::sync::{Arc, Mutex};

/// Messages shorter than this (first frame's payload length) take no pooled buffer, and
/// buffers with less room are not kept: the allocator serves small sizes well by itself.
pub const POOL_MIN_BYTES: usize = 4 << 10;
/// Buffers kept at most.
pub const POOL_BUFFERS: usize = 32;
/// Buffers with more room than this are freed rather than kept.
pub const POOL_MAX_BUFFER_BYTES: usize = 8 << 20;
/// Room of all buffers kept, together.
pub const POOL_MAX_TOTAL_BYTES: usize = 16 << 20;

/// Shared by one engine's decoders; cloning shares it.
#[derive(Clone, Debug, Default)]
pub struct BufPool(Arc<Mutex<Vec<Vec<u8>>>>);

impl BufPool {
    /// An empty buffer for a message whose first frame holds `len` payload bytes.
    pub fn take(&self, len: u64) -> Vec<u8> {
        if len < POOL_MIN_BYTES as u64 {
            return Vec::new();
        }
        let Ok(mut bufs) = self.0.lock() else {
            return Vec::new();
        };
        // The smallest that holds the frame, else the largest (it grows from there).
        let want = usize::try_from(len).unwrap_or(usize::MAX);
        let fits = bufs
            .iter()
            .enumerate()
            .filter(|(_, b)| b.capacity() >= want)
            .min_by_key(|(_, b)| b.capacity())
            .map(|(i, _)| i);
        let pick = fits.or_else(|| {
            bufs.iter()
                .enumerate()
                .max_by_key(|(_, b)| b.capacity())
                .map(|(i, _)| i)
        });
        pick.map(|i| bufs.swap_remove(i)).unwrap_or_default()
    }

    /// A message's payload is no longer needed.
    pub fn give(&self, mut buf: Vec<u8>) {
        let room = buf.capacity();
        if !(POOL_MIN_BYTES..=POOL_MAX_BUFFER_BYTES).contains(&room) {
            return;
        }
        let Ok(mut bufs) = self.0.lock() else {
            return;
        };
        buf.clear();
        let total: usize = bufs.iter().map(Vec::capacity).sum();
        if bufs.len() < POOL_BUFFERS && total + room <= POOL_MAX_TOTAL_BYTES {
            bufs.push(buf);
        } else if let Some(smallest) = bufs.iter_mut().min_by_key(|b| b.capacity())
            && smallest.capacity() < room
            && total - smallest.capacity() + room <= POOL_MAX_TOTAL_BYTES
        {
            // Keep the larger ones: they fit more of the messages to come.
            *smallest = buf;
        }
    }

    /// Memory pressure: every buffer kept for reuse is freed.
    pub fn clear(&self) {
        if let Ok(mut bufs) = self.0.lock() {
            *bufs = Vec::new();
        }
    }

    /// Buffers held now, and their bytes of room.
    pub fn held(&self) -> (usize, usize) {
        self.0.lock().map_or((0, 0), |bufs| {
            (bufs.len(), bufs.iter().map(Vec::capacity).sum())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_a_few_large_buffers() {
        let pool = BufPool::default();
        pool.give(Vec::with_capacity(100));
        pool.give(Vec::with_capacity(POOL_MAX_BUFFER_BYTES + 1));
        assert_eq!(pool.held(), (0, 0));
        for _ in 0..POOL_BUFFERS + 2 {
            let mut b = Vec::with_capacity(POOL_MAX_TOTAL_BYTES / POOL_BUFFERS);
            b.extend_from_slice(b"old bytes");
            pool.give(b);
        }
        assert_eq!(pool.held().0, POOL_BUFFERS);
        assert!(pool.held().1 <= POOL_MAX_TOTAL_BYTES);
        // Small messages do not take them; large ones get them empty.
        assert_eq!(pool.take(10).capacity(), 0);
        let b = pool.take(POOL_MIN_BYTES as u64);
        assert!(b.is_empty() && b.capacity() >= POOL_MIN_BYTES);
        assert_eq!(pool.held().0, POOL_BUFFERS - 1);
    }

    #[test]
    fn gives_the_smallest_buffer_that_fits_and_keeps_the_largest() {
        let pool = BufPool::default();
        let sizes = [
            POOL_MIN_BYTES,
            4 * POOL_MIN_BYTES,
            2 * POOL_MIN_BYTES,
            8 * POOL_MIN_BYTES,
        ];
        for n in sizes {
            pool.give(Vec::with_capacity(n));
        }
        for _ in sizes.len()..POOL_BUFFERS {
            pool.give(Vec::with_capacity(2 * POOL_MIN_BYTES));
        }
        // Full: a larger one replaces the smallest, a smaller one is dropped.
        pool.give(Vec::with_capacity(16 * POOL_MIN_BYTES));
        pool.give(Vec::with_capacity(POOL_MIN_BYTES));
        let take_twos = |p: &BufPool| {
            for _ in sizes.len()..POOL_BUFFERS {
                assert_eq!(
                    p.take(2 * POOL_MIN_BYTES as u64).capacity(),
                    2 * POOL_MIN_BYTES
                );
            }
        };
        take_twos(&pool);
        let caps = |p: &BufPool| {
            let mut c: Vec<usize> = p.0.lock().unwrap().iter().map(Vec::capacity).collect();
            c.sort_unstable();
            c
        };
        assert_eq!(
            caps(&pool),
            [2, 4, 8, 16].map(|k| k * POOL_MIN_BYTES).to_vec()
        );
        assert_eq!(
            pool.take(3 * POOL_MIN_BYTES as u64).capacity(),
            4 * POOL_MIN_BYTES
        );
        assert_eq!(
            pool.take(100 * POOL_MIN_BYTES as u64).capacity(),
            16 * POOL_MIN_BYTES
        );
        assert_eq!(caps(&pool), [2, 8].map(|k| k * POOL_MIN_BYTES).to_vec());
    }
}
