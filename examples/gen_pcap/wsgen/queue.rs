//! Bytes a TCP endpoint has been given to send but has not yet put on the wire.

/// A FIFO byte buffer: frames are appended at the back, segments taken from the front. The
/// consumed prefix is dropped in bulk, so taking a segment never moves the rest.
#[derive(Default)]
pub struct Queue {
    buf: Vec<u8>,
    head: usize,
}

impl Queue {
    pub fn len(&self) -> usize {
        self.buf.len() - self.head
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where new bytes go (frames are built in place).
    pub fn back(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    pub fn front(&self, n: usize) -> &[u8] {
        &self.buf[self.head..self.head + n]
    }

    pub fn consume(&mut self, n: usize) {
        self.head += n;
        if self.head == self.buf.len() {
            self.buf.clear();
            self.head = 0;
        } else if self.head >= 1 << 20 && self.head * 2 >= self.buf.len() {
            self.buf.drain(..self.head);
            self.head = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Queue;
    use std::collections::VecDeque;

    #[test]
    fn fifo_across_compaction() {
        let mut q = Queue::default();
        let mut model = VecDeque::new();
        let mut v = 0u8;
        for round in 0..40 {
            let add = if round % 3 == 0 { 700_000 } else { 5_000 };
            for _ in 0..add {
                q.back().push(v);
                model.push_back(v);
                v = v.wrapping_add(7);
            }
            let take = q.len().min(300_000 + round * 1448);
            let got = q.front(take).to_vec();
            let want: Vec<u8> = model.drain(..take).collect();
            assert_eq!(got, want);
            q.consume(take);
            assert_eq!(q.len(), model.len());
        }
    }
}
