//! Cutting a TCP byte stream into StageLinQ messages, bounded against hostile peers.
//!
//! Two framings exist (`stagelinq.md` 0 item 2): the directory connection carries messages
//! without a length prefix (1.3: the id says the layout), every service connection opens with
//! one service hello (1.4, no prefix) and then carries `u32` length-prefixed messages. Clients
//! write in any split (npm `stagelinq` writes each subscription as two writes, `clients.md`
//! 4.2 item 3), so bytes are buffered until a whole message is there.
//!
//! Bounds: a message longer than [`MAX_MESSAGE`] or bytes that cannot start a message end the
//! connection (a real unit resets it; nothing is buffered beyond one message), so a hostile
//! length prefix costs at most [`MAX_MESSAGE`] bytes of memory.

use crate::stagelinq::directory::{self, Framing};

/// The longest message a unit accepts. StateMap subscriptions and sets are under 300 bytes in
/// the capture (3.5); paths and JSON of real units stay far below this.
pub const MAX_MESSAGE: usize = 16 * 1024;

/// The peer sent bytes no message of the connection starts with, or a length over the bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadStream;

/// What the buffer holds next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// One whole message (for service connections: the length prefix included).
    Message(Vec<u8>),
    /// Not enough bytes yet.
    Wait,
    /// The peer sent something no message starts with, or a length over the bound: close.
    Bad,
}

/// How a connection is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 1.3: no length prefix.
    Directory,
    /// 1.4: a hello first, then length-prefixed messages.
    ServiceHello,
    Prefixed,
}

/// The unread bytes of one direction of one connection.
#[derive(Debug)]
pub struct InBuf {
    buf: Vec<u8>,
    mode: Mode,
}

impl InBuf {
    pub fn new(mode: Mode) -> Self {
        InBuf {
            buf: Vec::new(),
            mode,
        }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Add bytes as they arrived and take every whole message out, in order. Err when the
    /// peer sent something no message starts with or a length over the bound (the caller
    /// closes the connection; the messages before the bad bytes were still returned through
    /// `each`). The buffer never holds more than two bounds' worth of bytes.
    pub fn feed(&mut self, data: &[u8], mut each: impl FnMut(Vec<u8>)) -> Result<(), BadStream> {
        for chunk in data.chunks(MAX_MESSAGE) {
            self.buf.extend_from_slice(chunk);
            loop {
                match self.next_message() {
                    Next::Message(m) => each(m),
                    Next::Wait => break,
                    Next::Bad => {
                        self.buf = Vec::new();
                        return Err(BadStream);
                    }
                }
            }
        }
        Ok(())
    }

    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    fn prefix(&self) -> Option<usize> {
        self.buf
            .get(..4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }

    /// The next whole message, if any.
    pub fn next_message(&mut self) -> Next {
        let len = match self.mode {
            Mode::Directory => match directory::frame(&self.buf) {
                Framing::Complete(n) => n,
                Framing::Incomplete if self.buf.len() > MAX_MESSAGE => return Next::Bad,
                Framing::Incomplete => return Next::Wait,
                Framing::Invalid => return Next::Bad,
            },
            Mode::ServiceHello => match directory::frame_announcement(&self.buf) {
                Framing::Complete(n) => {
                    self.mode = Mode::Prefixed;
                    n
                }
                Framing::Incomplete => return Next::Wait,
                Framing::Invalid => return Next::Bad,
            },
            Mode::Prefixed => match self.prefix() {
                None => return Next::Wait,
                Some(n) if n > MAX_MESSAGE => return Next::Bad,
                Some(n) if self.buf.len() >= 4 + n => 4 + n,
                Some(_) => return Next::Wait,
            },
        };
        let rest = self.buf.split_off(len);
        Next::Message(std::mem::replace(&mut self.buf, rest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stagelinq::directory::ServiceAnnouncement;
    use crate::stagelinq::Token;

    #[test]
    fn hello_then_prefixed_one_byte_at_a_time() {
        let hello = ServiceAnnouncement::new(Token([7; 16]), "StateMap", 50011).to_bytes();
        let mut wire = hello.clone();
        wire.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0]);
        let mut b = InBuf::new(Mode::ServiceHello);
        let mut got = Vec::new();
        for byte in &wire {
            assert!(b.feed(&[*byte], |m| got.push(m)).is_ok());
        }
        assert_eq!(got, vec![hello, vec![0, 0, 0, 4, 0, 0, 0, 0]]);
    }

    #[test]
    fn huge_prefix_and_garbage_are_refused_without_buffering() {
        let mut b = InBuf::new(Mode::Prefixed);
        assert!(b.feed(&[0xff, 0xff, 0xff, 0xf0, 1, 2, 3], |_| {}).is_err());
        // A prefix within the bound, its body never complete: bounded.
        let mut b = InBuf::new(Mode::Prefixed);
        let mut n = 0;
        let _ = b.feed(&[0, 0, 0x3f, 0], |_| n += 1);
        assert!(b.feed(&vec![0; 15 * 1024], |_| n += 1).is_ok());
        assert!(b.buffered() <= MAX_MESSAGE + 4);
        let mut d = InBuf::new(Mode::Directory);
        assert!(d.feed(b"GET / HTTP/1.1\r\n", |_| {}).is_err());
        let mut h = InBuf::new(Mode::ServiceHello);
        let mut bad = vec![0, 0, 0, 0];
        bad.extend_from_slice(&[9; 16]);
        bad.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        assert!(h.feed(&bad, |_| {}).is_err());
    }

    #[test]
    fn many_messages_in_one_big_write_are_all_kept() {
        let mut wire = Vec::new();
        for _ in 0..10_000 {
            wire.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 1]);
        }
        let mut b = InBuf::new(Mode::Prefixed);
        let mut n = 0;
        assert!(b.feed(&wire, |_| n += 1).is_ok());
        assert_eq!(n, 10_000);
        assert_eq!(b.buffered(), 0);
    }
}
