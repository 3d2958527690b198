//! A read buffer that knows the file offset of its first byte and grows only with bytes that
//! actually arrived: a length field that lies (a pcapng block "of 2 GiB" in a 100-byte file)
//! never sizes an allocation by itself.

use std::io::{self, Read};

/// First buffer size; most blocks of a DJ capture are under 1.5 KiB.
const INITIAL: usize = 64 * 1024;

pub(super) struct Input {
    src: Box<dyn Read + Send>,
    buf: Vec<u8>,
    /// `buf[start..end]` holds the bytes not consumed yet.
    start: usize,
    end: usize,
    /// The source returned end of file.
    eof: bool,
    /// File offset of `buf[start]`.
    pos: u64,
}

impl Input {
    pub fn new(src: Box<dyn Read + Send>) -> Input {
        Input {
            src,
            buf: Vec::new(),
            start: 0,
            end: 0,
            eof: false,
            pos: 0,
        }
    }

    /// File offset of the first unconsumed byte.
    pub fn pos(&self) -> u64 {
        self.pos
    }

    /// The unconsumed bytes read so far.
    pub fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// True when the source ended (what `data` holds is all there is).
    pub fn eof(&self) -> bool {
        self.eof
    }

    /// Read until at least `n` bytes are buffered or the input ends; returns how many are.
    /// The buffer grows at most to `n` (callers bound `n`), and only in step with the bytes
    /// that arrive (doubling), so a short file never causes a large allocation.
    pub fn fill(&mut self, n: usize) -> io::Result<usize> {
        while self.end - self.start < n && !self.eof {
            if self.end == self.buf.len() {
                if self.start > 0 {
                    self.buf.copy_within(self.start..self.end, 0);
                    self.end -= self.start;
                    self.start = 0;
                }
                if self.end == self.buf.len() {
                    // Here n > buf.len(), so the new length is larger than the old one.
                    let grown = (self.buf.len() * 2).max(INITIAL).min(n);
                    self.buf.resize(grown, 0);
                }
            }
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.end - self.start)
    }

    /// Drop `n` bytes from the front (at most what is buffered).
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.pos += n as u64;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out at most 3 bytes per read.
    struct Slow(Vec<u8>, usize);
    impl Read for Slow {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(3).min(self.0.len() - self.1);
            buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
    }

    #[test]
    fn fills_across_short_reads_and_tracks_offsets() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(200_000).collect();
        let mut i = Input::new(Box::new(Slow(bytes.clone(), 0)));
        assert_eq!(i.fill(10).unwrap(), 10);
        assert_eq!(i.data(), &bytes[..10]);
        i.consume(7);
        assert_eq!(i.pos(), 7);
        assert!(i.fill(150_000).unwrap() >= 150_000);
        assert_eq!(&i.data()[..5], &bytes[7..12]);
        i.consume(150_000);
        assert_eq!(i.fill(1 << 30).unwrap(), 200_000 - 150_007);
        assert!(i.eof());
        assert_eq!(i.data(), &bytes[150_007..]);
    }

    #[test]
    fn a_huge_request_on_a_small_input_allocates_little() {
        let mut i = Input::new(Box::new(io::Cursor::new(vec![7u8; 100])));
        assert_eq!(i.fill(usize::MAX).unwrap(), 100);
        assert!(i.buf.len() <= INITIAL, "{}", i.buf.len());
    }
}
